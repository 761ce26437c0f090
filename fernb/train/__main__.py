"""``python -m fernb.train CONFIG.json`` trains one configuration; under ``torchrun --nproc_per_node N`` the same
command trains data-parallel (DDP). The configuration is a JSON object of :class:`fernb.train.TrainConfig` options."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m fernb.train", description=__doc__)
    ap.add_argument("config", help="JSON file of TrainConfig options, or an inline JSON object")
    ap.add_argument("--data-root", default=None)
    ap.add_argument("--runs-root", default=None)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args(argv)
    if a.config.lstrip().startswith("{"):
        text = a.config
    elif Path(a.config).is_file():
        text = Path(a.config).read_text()
    else:
        sys.exit(f"{a.config}: no such configuration file (give a JSON file or an inline JSON object)")
    try:
        cfg = json.loads(text)
    except json.JSONDecodeError as e:
        sys.exit(f"{a.config}: line {e.lineno}: not JSON ({e.msg})")
    from fernb.train import fit

    run = fit(cfg, data_root=a.data_root, device=a.device, runs_root=a.runs_root, progress=not a.quiet)
    import os

    if int(os.environ.get("RANK", "0")) == 0:
        m = run.metrics
        print(json.dumps({"run": str(run.dir), "accuracy": m["accuracy"], "macro_f1": m["macro_f1"],
                          "world_size": m.get("world_size", 1)}))
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
