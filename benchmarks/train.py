"""Training throughput: fernb's trainer loop against the authors' style of loop, on the same model and images.

    python benchmarks/train.py [--models resemotenet:64 small_cnn:64 lfer_ldl:224] [--batches 20] [--device auto]

For each model at its resolution:
* **fernb**: the loop of ``fernb.train.fit``: the uint8 image store, batched augmentation (random resized crop, flip,
  brightness/contrast), a background thread preparing the next batch; on a GPU mixed precision and channels-last.
  It reports images/s and the share of the step spent waiting for data (which the quick profile keeps under 10 %).
* **peer**: the ResEmoteNet repository's style: a PIL ``ImageFolder`` over the JPEG files with per-image torchvision
  transforms (resize, random flip, to-tensor, normalise) in a ``DataLoader``, fp32, default memory format.
Both run the same SGD step (momentum 0.9, class-weighted cross-entropy) for ``--batches`` batches after a warm-up;
the ratio is fernb / peer images per second, measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torchvision import datasets, transforms

sys.path.insert(0, str(Path(__file__).resolve().parent))
from loader import imagefolder_view  # noqa: E402

from fernb.data import load_dataset  # noqa: E402
from fernb.data.loader import BatchAugment, BatchLoader  # noqa: E402
from fernb.data.store import ImageStore  # noqa: E402
from fernb.models import create  # noqa: E402
from fernb.train.trainer import resolve_device  # noqa: E402


def timed_steps(model, batches, step, n: int, warmup: int = 2):
    """Run ``warmup + n`` steps; return images/s over the last ``n`` and the share of their time spent in the loader."""
    it = iter(batches)
    seen, wait, t0 = 0, 0.0, None
    for k in range(warmup + n):
        t = time.perf_counter()
        try:
            x, y = next(it)[:2]
        except StopIteration:
            it = iter(batches)
            x, y = next(it)[:2]
        if k == warmup:
            t0, wait = time.perf_counter(), 0.0
            t = t0
        wait += time.perf_counter() - t
        step(x, y)
        if k >= warmup:
            seen += len(y)
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    total = time.perf_counter() - t0
    return seen / total, wait / total


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", nargs="+", default=["resemotenet:64", "small_cnn:64", "lfer_ldl:224"],
                   help="name:img_size pairs")
    p.add_argument("--dataset", default="synth-raf")
    p.add_argument("--profile", default="quick")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--batches", type=int, default=20)
    p.add_argument("--workers", type=int, default=min(os.cpu_count() or 2, 4), help="DataLoader workers of the peer")
    p.add_argument("--device", default="auto")
    a = p.parse_args()
    dev = resolve_device(a.device)
    ds = load_dataset(a.dataset, profile=a.profile, progress=False)
    train = ds.split("train")
    labels = ds.records["label"].to_numpy()
    counts = np.bincount(labels[train], minlength=7)
    weight = torch.tensor(counts.max() / np.maximum(counts, 1), dtype=torch.float32, device=dev)
    print(f"device {dev}, {torch.get_num_threads()} threads, {a.dataset} ({len(train)} training images), "
          f"batch {a.batch_size}, {a.batches} timed batches after 2 warm-up; peer DataLoader workers {a.workers}")
    print(f"{'model':>18} {'size':>4} {'fernb img/s':>12} {'data wait':>10} {'peer img/s':>11} {'data wait':>10} {'ratio':>6}")
    for spec in a.models:
        name, size = spec.split(":")
        size = int(size)
        results = {}
        for who in ("fernb", "peer"):
            torch.manual_seed(0)
            model = create(name, img_size=size).to(dev).train()
            amp = who == "fernb" and dev.type == "cuda"
            if amp:
                model = model.to(memory_format=torch.channels_last)
            opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
            scaler = torch.amp.GradScaler("cuda", enabled=amp)

            def step(x, y):
                x, y = x.to(dev, non_blocking=True), y.to(dev, non_blocking=True)
                with torch.autocast(dev.type, enabled=amp):
                    loss = torch.nn.functional.cross_entropy(model(x).float(), y, weight=weight)
                opt.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                scaler.step(opt)
                scaler.update()

            if who == "fernb":
                store = ImageStore.build(ds, size, 3, progress=False)
                batches = BatchLoader(store, train, labels, a.batch_size, shuffle=True, drop_last=True, device=dev,
                                      augment=BatchAugment(size, brightness=0.1, contrast=0.1), mean=0.5, std=0.5)
            else:
                tf = transforms.Compose([transforms.Resize((size, size)), transforms.RandomHorizontalFlip(),
                                         transforms.ToTensor(), transforms.Normalize([0.5] * 3, [0.5] * 3)])
                folder = datasets.ImageFolder(str(imagefolder_view(ds, "train")), transform=tf)
                batches = torch.utils.data.DataLoader(folder, a.batch_size, shuffle=True, num_workers=a.workers,
                                                      drop_last=True, persistent_workers=a.workers > 0)
            results[who] = timed_steps(model, batches, step, a.batches)
        (f, fw), (q, qw) = results["fernb"], results["peer"]
        print(f"{name:>18} {size:>4} {f:>12.1f} {fw:>9.1%} {q:>11.1f} {qw:>9.1%} {f / q:>6.2f}")


if __name__ == "__main__":
    main()
