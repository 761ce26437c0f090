"""``python -m fernb.data verify NAME --root PATH [--lenient] [--no-images] [--variant V] [--problems out.csv]``."""

from __future__ import annotations

import argparse
import sys


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m fernb.data", description=__doc__)
    sub = ap.add_subparsers(dest="command", required=True)
    v = sub.add_parser("verify", help="compare a copy of a dataset with its manifest")
    v.add_argument("name", help="dataset name (a manifest in data_manifests/)")
    v.add_argument("--root", required=True, help="folder holding your copy")
    v.add_argument("--lenient", action="store_true", help="quarantine bad entries and go on instead of stopping")
    v.add_argument("--no-images", action="store_true", help="skip decoding every image (listing checks only)")
    v.add_argument("--variant", help="adapter variant, e.g. 'original' for RAF-DB")
    v.add_argument("--problems", help="write the quarantined entries to this CSV")
    sub.add_parser("list", help="list the datasets with a manifest")
    args = ap.parse_args(argv)
    from fernb.data.adapters import DatasetError
    from fernb.data.manifest import available, load_manifest

    if args.command == "list":
        for n in available():
            print(f"{n:14s} {load_manifest(n)['title']}")
        return 0
    from fernb.data.verify import verify

    opts = {"variant": args.variant} if args.variant else {}
    try:
        report = verify(args.name, args.root, lenient=args.lenient, images=not args.no_images, **opts)
    except (DatasetError, ValueError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(report.summary())
    if args.problems:
        report.problems.to_csv(args.problems, index=False)
        print(f"quarantined entries written to {args.problems}")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
