"""Loader throughput: fernb's image store + batched loader versus a plain PIL ``ImageFolder`` with per-image
torchvision transforms, on the same JPEG files, the same augmentation (random resized crop, horizontal flip,
normalisation) at the same output size, measured in the same run.

    python benchmarks/loader.py --size 112 --epochs 2 [--dataset synth-raf --profile quick]

Prints images/s of each and the ratio.  The store's one-time decode is timed and printed separately.
"""

import argparse
import os
import time
from pathlib import Path

import torch
from torchvision import datasets, transforms

from fernb import paths
from fernb.data import load_dataset
from fernb.data.loader import BatchAugment, BatchLoader
from fernb.data.store import ImageStore
from fernb.labels import EXPRESSIONS


def imagefolder_view(ds, split: str) -> Path:
    """A class-per-folder tree of symlinks to the dataset's own files, the layout ImageFolder expects."""
    root = paths.cache_root() / "imagefolder" / f"{ds.name}-{ds.fingerprint}" / split
    if not root.exists():
        tmp = root.with_suffix(".tmp")
        for _, r in ds.records[ds.records["split"] == split].iterrows():
            d = tmp / EXPRESSIONS[r["label"]]
            d.mkdir(parents=True, exist_ok=True)
            (d / Path(r["image"]).name).symlink_to(ds.root / r["image"])
        os.replace(tmp, root)
    return root


def throughput(loader, epochs: int) -> float:
    n, t0 = 0, None
    for e in range(epochs + 1):  # epoch 0 warms up (worker start-up, page cache) and is not timed
        if hasattr(loader, "set_epoch"):
            loader.set_epoch(e)
        if e == 1:
            t0 = time.perf_counter()
        for x, y in loader:
            if e >= 1:
                n += len(y)
    return n / (time.perf_counter() - t0)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", default="synth-raf")
    p.add_argument("--profile", default="quick")
    p.add_argument("--size", type=int, default=112)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="DataLoader workers of the peer")
    a = p.parse_args()
    torch.set_num_threads(os.cpu_count() or 2)

    ds = load_dataset(a.dataset, profile=a.profile)
    train = ds.split("train")
    t = time.perf_counter()
    store = ImageStore.build(ds, a.size + a.size // 8, 3, progress=False)
    print(f"store: {store.shape} uint8 at {store.path} (ready in {time.perf_counter() - t:.1f}s; decoded once, then reused)")

    aug = BatchAugment(a.size, scale=(0.8, 1.0), ratio=(0.9, 1.1), flip=0.5)
    ours = BatchLoader(store, train, ds.records["label"].to_numpy(), batch_size=a.batch_size, shuffle=True,
                       augment=aug, mean=0.5, std=0.5)
    tf = transforms.Compose([
        transforms.RandomResizedCrop(a.size, scale=(0.8, 1.0), ratio=(0.9, 1.1)),
        transforms.RandomHorizontalFlip(), transforms.ToTensor(), transforms.Normalize([0.5] * 3, [0.5] * 3)])
    peer = torch.utils.data.DataLoader(datasets.ImageFolder(imagefolder_view(ds, "train"), tf), batch_size=a.batch_size,
                                       shuffle=True, num_workers=a.workers, persistent_workers=a.workers > 0)
    r_peer = throughput(peer, a.epochs)
    r_ours = throughput(ours, a.epochs)
    print(f"images: {len(train)} train images of {a.dataset} ({a.profile}), output {a.size}x{a.size}, batch {a.batch_size}, "
          f"{os.cpu_count()} cores")
    print(f"PIL ImageFolder + torchvision transforms ({a.workers} workers): {r_peer:10.0f} img/s")
    print(f"fernb ImageStore + BatchLoader (one background thread):   {r_ours:10.0f} img/s")
    print(f"ratio fernb / peer: {r_ours / r_peer:.1f}x   (goal >= 10x at 112x112 on 2 cores)")


if __name__ == "__main__":
    main()
