"""Training throughput: fernb's trainer loop against the authors' style of loop, on the same model and images.

    python benchmarks/train.py [--models resemotenet:64 small_cnn:64 lfer_ldl:224] [--batches 20] [--device auto]
    python benchmarks/train.py --through-fit [--models ...] [--batches 12]

For each model at its resolution:
* **fernb fp32**: the loop of ``fernb.train.fit`` with its setting fixed to fp32, contiguous: the uint8 image store,
  batched augmentation (random resized crop, flip, brightness/contrast), a background thread preparing the next batch.
* **fernb auto**: the same loop in the precision and memory format the trainer's autotune picks for this model, input,
  batch and machine (:mod:`fernb.train.autotune`); it reports images/s and the share of the step spent waiting for
  data (which the quick profile keeps under 10 %).
* **peer**: the ResEmoteNet repository's style: a PIL ``ImageFolder`` over the JPEG files with per-image torchvision
  transforms (resize, random flip, to-tensor, normalise) in a ``DataLoader``, fp32, default memory format.
All run the same SGD step (momentum 0.9, class-weighted cross-entropy) for ``--batches`` batches after a warm-up;
the ratios are images per second against fernb fp32 and against the peer, measured in the same run.

``--through-fit`` instead trains each model through ``fit`` itself, once per forced setting (fp32, channels-last,
bf16 autocast, both) and once with ``auto``, for ``--batches`` batches, and prints images/s from each run's history.
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
from fernb.train import TrainConfig, fit  # noqa: E402
from fernb.train.strategies import Precision, resolve_device  # noqa: E402


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


def make_step(model, opt, weight, dev, precision: Precision):
    scaler = precision.scaler()

    def step(x, y):
        x, y = precision.batch(x.to(dev, non_blocking=True)), y.to(dev, non_blocking=True)
        with precision.autocast():
            loss = torch.nn.functional.cross_entropy(model(x).float(), y, weight=weight)
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
    return step


def loop_comparison(a, ds, dev):
    train = ds.split("train")
    labels = ds.records["label"].to_numpy()
    counts = np.bincount(labels[train], minlength=7)
    weight = torch.tensor(counts.max() / np.maximum(counts, 1), dtype=torch.float32, device=dev)
    print(f"device {dev}, {torch.get_num_threads()} threads, {a.dataset} ({len(train)} training images), "
          f"batch {a.batch_size}, {a.batches} timed batches after 2 warm-up; peer DataLoader workers {a.workers}")
    print(f"{'model':>18} {'size':>4} {'fp32 img/s':>10} {'auto setting':>20} {'auto img/s':>10} {'data wait':>9} "
          f"{'peer img/s':>10} {'auto/fp32':>9} {'auto/peer':>9}")
    for spec in a.models:
        name, size = spec.split(":")
        size = int(size)
        cfg = TrainConfig(model=name, img_size=size, batch_size=a.batch_size)
        torch.manual_seed(0)
        auto = Precision.resolve(cfg, dev, create(name, img_size=size).to(dev), 7, 1)
        fp32 = Precision.named("fp32", False, dev, "forced")
        results = {}
        for who, precision in (("fp32", fp32), ("auto", auto), ("peer", fp32)):
            torch.manual_seed(0)
            model = precision.prepare(create(name, img_size=size).to(dev).train())
            opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
            step = make_step(model, opt, weight, dev, precision)
            if who != "peer":
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
        (f, _), (u, uw), (q, _) = results["fp32"], results["auto"], results["peer"]
        setting = f"{auto.name}{'+channels_last' if auto.channels_last else ''}"
        print(f"{name:>18} {size:>4} {f:>10.1f} {setting:>20} {u:>10.1f} {uw:>8.1%} {q:>10.1f} {u / f:>9.2f} "
              f"{u / q:>9.2f}")


SETTINGS = (("fp32", "contiguous"), ("fp32", "channels_last"), ("bf16", "contiguous"), ("bf16", "channels_last"),
            ("auto", "auto"))


def through_fit(a, dev):
    """Each model trained by ``fit`` for ``--batches`` batches in every forced setting and in ``auto``."""
    import tempfile

    print(f"device {dev}, {torch.get_num_threads()} threads; images/s of fit's epoch ({a.batches} batches of "
          f"{a.batch_size}), training step and data loading together")
    head = " ".join(f"{p + ('+cl' if m == 'channels_last' else ''):>10}" for p, m in SETTINGS[:-1])
    print(f"{'model':>18} {'size':>4} {head} {'auto':>20} {'best/fp32':>9}")
    from fernb.train import strategies

    strategies.MIN_TUNED_STEPS = 0  # 'auto' measures even these short timing runs, as a long run would
    with tempfile.TemporaryDirectory() as runs:
        for spec in a.models:
            name, size = spec.split(":")
            speed, chosen = [], ""
            for prec, fmt in SETTINGS:
                cfg = dict(model=name, dataset=a.dataset, profile=a.profile, img_size=int(size), epochs=1,
                           batch_size=a.batch_size, max_batches_per_epoch=a.batches, val_share=0.0,
                           precision=prec, memory_format=fmt)
                run = fit(cfg, runs_root=runs, device=dev, progress=False)
                h = run.history[0]
                speed.append(a.batches * a.batch_size / h["seconds"])
                chosen = f"{run.metrics['precision']}{'+cl' if run.metrics['channels_last'] else ''}"
            cells = " ".join(f"{v:>10.1f}" for v in speed[:-1])
            print(f"{name:>18} {size:>4} {cells} {chosen + f' {speed[-1]:.1f}':>20} "
                  f"{max(speed[:-1]) / speed[0]:>9.2f}")


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
    p.add_argument("--through-fit", action="store_true", help="train through fit() in each precision setting")
    a = p.parse_args()
    dev = resolve_device(a.device)
    if a.through_fit:
        through_fit(a, dev)
        return
    ds = load_dataset(a.dataset, profile=a.profile, progress=False)
    loop_comparison(a, ds, dev)


if __name__ == "__main__":
    main()
