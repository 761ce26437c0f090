"""The trainer's CPU thread policy (``fernb.train.trainer.CPU_SPARE_CORE``): a fit computing with every core against
one computing with a core left to the loader's prefetch thread, same model, size, batch and batches, in one run.

    python benchmarks/threads.py [--models efficientface:64 resemotenet:48 small_cnn:32 litexpressionnet:64]
                                 [--batches 20] [--epochs 2]

Each model trains through ``fernb.train.fit`` on synth-raf (quick data) twice, with the policy off (torch's thread
count, all cores) and on (one fewer); the seeds differ so neither run is read from the cache. It prints seconds per
epoch (after the first, which includes the autotune and warm-up) and the speed-up of the policy.
"""

from __future__ import annotations

import argparse
import time

import torch

import fernb.chapter
from fernb.train import trainer


def one(ch, model: str, px: int, batches: int, epochs: int, spare: bool, seed: int) -> float:
    trainer.CPU_SPARE_CORE = spare
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
    a = p.parse_args(argv)
    ch = fernb.chapter.setup("quick", "synth-raf", None, "cpu", 0, name=None, report=None)
    stamp = int(time.time()) % 100000  # fresh run keys: the benchmark must train, not read the cache
    print(f"torch threads: {torch.get_num_threads()}")
    for k, spec in enumerate(a.models):
        model, px = spec.split(":")
        off = one(ch, model, int(px), a.batches, a.epochs, False, stamp + 2 * k)
        on = one(ch, model, int(px), a.batches, a.epochs, True, stamp + 2 * k + 1)
        print(f"{model:18s} {px:>3s} px  all cores {off:6.2f} s/epoch  one spared {on:6.2f} s/epoch  "
              f"speed-up {off / on:4.2f}x", flush=True)
    trainer.CPU_SPARE_CORE = True


if __name__ == "__main__":
    main()
