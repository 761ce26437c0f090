"""The trainer's CPU core policy (``fernb.data.loader.CPU_LOADER``): the same fit under each policy, same model,
size, batch and batches, in one run.

    python benchmarks/threads.py [--models efficientface:64 resemotenet:48 small_cnn:32 litexpressionnet:64]
                                 [--batches 20] [--epochs 2] [--policies spare sync all]

Each model trains through ``fernb.train.fit`` on synth-raf (quick data) once per policy: ``spare`` (a prefetch
thread, one compute thread fewer), ``sync`` (batches made between steps, every core computing) and ``all`` (the
prefetch thread and every core); the seeds differ so no run is read from the cache. It prints seconds per epoch
(after the first, which includes the autotune and warm-up) and each policy's speed against ``spare``.
"""

from __future__ import annotations

import argparse
import time

import torch

import fernb.chapter
from fernb.data import loader


def one(ch, model: str, px: int, batches: int, epochs: int, policy: str, seed: int) -> float:
    loader.CPU_LOADER = policy
    kw = {"model_kwargs": {"width": 0.125, "drop": [0.0, 0.2]}} if model == "resemotenet" else {}
    run = ch.fit(model=model, img_size=px, epochs=epochs, batch_size=64, seed=seed, max_batches_per_epoch=batches,
                 **kw)
    later = [h["seconds"] for h in run.history[1:]] or [run.history[0]["seconds"]]
    return sum(later) / len(later)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", nargs="+", default=["efficientface:64", "resemotenet:48", "small_cnn:32",
                                                   "litexpressionnet:64"])
    p.add_argument("--batches", type=int, default=20)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--policies", nargs="+", default=list(loader.CPU_LOADERS), choices=loader.CPU_LOADERS)
    a = p.parse_args(argv)
    ch = fernb.chapter.setup("quick", "synth-raf", None, "cpu", 0, name=None, report=None)
    stamp = int(time.time()) % 100000  # fresh run keys: the benchmark must train, not read the cache
    default = loader.CPU_LOADER
    print(f"torch threads: {torch.get_num_threads()}; the trainer's policy: {default!r}")
    try:
        for k, spec in enumerate(a.models):
            model, px = spec.split(":")
            secs = {pol: one(ch, model, int(px), a.batches, a.epochs, pol, stamp + 10 * k + j)
                    for j, pol in enumerate(a.policies)}
            base = secs.get("spare", next(iter(secs.values())))
            print(f"{model:18s} {px:>3s} px  " + "  ".join(f"{pol} {s:6.2f} s/epoch ({base / s:4.2f}x)"
                                                        for pol, s in secs.items()), flush=True)
    finally:
        loader.CPU_LOADER = default


if __name__ == "__main__":
    main()
