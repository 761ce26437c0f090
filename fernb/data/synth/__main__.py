"""``python -m fernb.data.synth generate --profile quick [--data-root PATH] [--seed 0]``: write both SynthFER domains."""

import argparse

from fernb.data.dataset import load_dataset
from fernb.data.synth.generate import DOMAINS
from fernb.profiles import PROFILES


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m fernb.data.synth", description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate", help="generate SynthFER domains (reuses what is already on disk)")
    g.add_argument("--profile", default="quick", choices=PROFILES)
    g.add_argument("--domain", action="append", choices=DOMAINS, help="default: both domains")
    g.add_argument("--data-root", default=None)
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--n", type=int, default=None, help="images per domain (default: the profile's size)")
    a = p.parse_args(argv)
    for d in a.domain or DOMAINS:
        ds = load_dataset(d, a.data_root, profile=a.profile, seed=a.seed, n=a.n)
        noise = (ds.records["label"] != ds.records["true_label"]).mean()
        print(f"{d}: {len(ds)} images in {ds.root} (crowd label noise {noise:.1%})")


if __name__ == "__main__":
    main()
