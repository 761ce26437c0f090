"""Training throughput: fernb's trainer loop against the authors' style of loop, on the same model and images.

    python benchmarks/train.py [--models resemotenet:64 small_cnn:64 lfer_ldl:224] [--batches 20] [--device auto]
    python benchmarks/train.py --through-fit [--models ...] [--batches 12] [--repeats 3]

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
bf16 autocast, both) and once with ``auto``, for ``--batches`` batches, and prints fit's steady-state images/s
(``steady_images_per_s`` of the run's history) against a bare training step of the same setting in the same run
(the target: at least 0.90), and the autotuner's pick against the best setting measured (the target: within 10 %);
each figure is the median of ``--repeats`` runs, fit and bare step alternating. The pick is judged twice:
``auto/best`` is the ``auto`` run's own speed (its tuning trials included) over the best forced setting's, and
``pick/best`` the forced speed of the setting it picked over the best's, the same measurement on both sides, so
that machine noise between two runs of one setting does not pass for a wrong choice. ``spread`` is the widest
(max - min) / median of a setting's fit speeds over the repeats: ratios closer to 1 than that are noise.
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


def bare_step_speed(name: str, size: int, batch: int, prec: str, fmt: str, dev, n: int) -> float:
    """Images/s of a bare training step: the model, size, batch and setting of a fit, Adam at fit's default rate and
    cross-entropy, on one batch made once and kept on the device (no loader, no bookkeeping)."""
    torch.manual_seed(0)
    precision = Precision.named(prec, fmt == "channels_last", dev, "forced")
    model = precision.prepare(create(name, img_size=size).to(dev).train())
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.rand(batch, 3, size, size, device=dev) * 2 - 1
    y = torch.randint(0, 7, (batch,), device=dev)

    def step(x, y):
        with precision.autocast():
            loss = torch.nn.functional.cross_entropy(model(precision.batch(x)).float(), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return timed_steps(model, [(x, y)], step, n, warmup=3)[0]


def through_fit(a, dev):
    """Each model trained by ``fit`` for ``--batches`` batches in every forced setting and in ``auto``: fit's
    steady-state images/s (after its warm-up steps, the loader included) against a bare step of the same setting,
    and the autotuner's choice against the best setting measured here."""
    import tempfile

    from fernb.train import strategies
    from fernb.train.trainer import WARM_STEPS

    print(f"device {dev}, {torch.get_num_threads()} threads; fit's steady images/s over {a.batches} batches of "
          f"{a.batch_size} (after {WARM_STEPS} warm-up steps, loader included) / a bare step's, per setting; "
          f"medians of {a.repeats} alternating repeats")
    names = [p + ("+cl" if m == "channels_last" else "") for p, m in SETTINGS[:-1]]
    head = " ".join(f"{n:>17}" for n in names)
    print(f"{'model':>18} {'size':>4} {head} {'auto (its pick)':>24} {'auto/best':>9} {'pick/best':>9} "
          f"{'spread':>6}")
    strategies.MIN_TUNED_STEPS = 0  # 'auto' measures even these short timing runs, as a long run would
    with tempfile.TemporaryDirectory() as runs:
        for spec in a.models:
            name, size = spec.split(":")
            fit_speed, cells, chosen, spread = [], [], "", 0.0
            for prec, fmt in SETTINGS:
                fits, bares = [], []
                for r in range(a.repeats):  # fit and bare step alternate, so a slow spell of the machine hits both
                    cfg = dict(model=name, dataset=a.dataset, profile=a.profile, img_size=int(size), epochs=1,
                               batch_size=a.batch_size, max_batches_per_epoch=a.batches, val_share=0.0,
                               precision=prec, memory_format=fmt, seed=r)  # a new seed: a new run, not a cached one
                    run = fit(cfg, runs_root=runs, device=dev, progress=False)
                    fits.append(run.history[0]["steady_images_per_s"])
                    if prec == "auto":
                        chosen = f"{run.metrics['precision']}{'+cl' if run.metrics['channels_last'] else ''}"
                    else:
                        bares.append(bare_step_speed(name, int(size), a.batch_size, prec, fmt, dev, a.batches))
                speed = float(np.median(fits))
                fit_speed.append(speed)
                spread = max(spread, (max(fits) - min(fits)) / speed)
                if prec != "auto":
                    bare = float(np.median(bares))
                    cells.append(f"{speed:6.1f}/{bare:6.1f}={speed / bare:4.2f}")
            best = max(fit_speed[:-1])
            picked = fit_speed[names.index(chosen)] if chosen in names else float("nan")  # fp16: not forced here
            print(f"{name:>18} {size:>4} {' '.join(f'{c:>17}' for c in cells)} "
                  f"{f'{fit_speed[-1]:.1f} ({chosen})':>24} {fit_speed[-1] / best:>9.2f} {picked / best:>9.2f} "
                  f"{spread:>6.2f}", flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", nargs="+", default=["resemotenet:64", "small_cnn:64", "lfer_ldl:224"],
                   help="name:img_size pairs")
    p.add_argument("--dataset", default="synth-raf")
    p.add_argument("--profile", default="quick")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--batches", type=int, default=20)
    p.add_argument("--repeats", type=int, default=3, help="--through-fit: fit and bare step alternate this often")
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
