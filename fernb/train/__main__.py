"""``python -m fernb.train CONFIG.json`` trains one configuration; under ``torchrun --nproc_per_node N`` the same
command trains data-parallel (DDP). The configuration is a JSON object of :class:`fernb.train.TrainConfig` options."""

from __future__ import annotations

import argparse
import json
import os
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
    try:
        run = _train(a)
    except (ValueError, FileNotFoundError, PermissionError, TimeoutError) as e:  # TimeoutError: the run's lock
        if os.environ.get("FERNB_TRACEBACK"):
            raise
        where = "inline configuration" if a.config.lstrip()[:1] in ("{", "[") else a.config
        print(f"python -m fernb.train: error: {where}: {' '.join(str(e).split())}", file=sys.stderr)
        sys.exit(2)
    if int(os.environ.get("RANK", "0")) == 0:
        m = run.metrics
        print(json.dumps({"run": str(run.dir), "accuracy": m["accuracy"], "macro_f1": m["macro_f1"],
                          "world_size": m.get("world_size", 1)}))
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def _train(a):
    """Read the configuration (a file or inline JSON), check it, and train it; a user's mistake is a ValueError
    (or a missing file) naming the option, value or file."""
    if a.config.lstrip()[:1] in ("{", "["):
        text = a.config
    elif Path(a.config).is_file():
        text = Path(a.config).read_text()
    else:
        raise FileNotFoundError("no such configuration file (give a JSON file or an inline JSON object)")
    try:
        cfg = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"line {e.lineno}: not JSON ({e.msg})") from None
    if not isinstance(cfg, dict):
        raise ValueError(f"expected a JSON object of TrainConfig options, got a {type(cfg).__name__}")
    from fernb.train import TrainConfig, fit

    TrainConfig.from_dict(dict(cfg))  # every option checked before any data is loaded
    return fit(cfg, data_root=a.data_root, device=a.device, runs_root=a.runs_root, progress=not a.quiet)


if __name__ == "__main__":
    main()
