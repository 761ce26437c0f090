"""Image store: every image of a dataset decoded once into a uint8 (N, H, W, C) array on disk, memory-mapped.

Keyed by (dataset fingerprint, resolution, channels), so each chapter that asks for the same view reuses it.  The
array is written to a temporary file and renamed; its JSON sidecar is written last, so an interrupted build never
leaves a cache that looks complete.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

from fernb import paths
from fernb.progress import progress_bar

STORE_VERSION = 1


def decode(path: Path, size: int, channels: int) -> np.ndarray:
    """Decode one image file to (size, size, channels) uint8, with an error that names the file."""
    try:
        with Image.open(path) as im:
            if im.format == "JPEG":
                im.draft("RGB" if channels == 3 else "L", (size, size))  # let libjpeg downscale by 2^k first
            im = im.convert("RGB" if channels == 3 else "L")
            if im.size != (size, size):
                im = im.resize((size, size), Image.BILINEAR, reducing_gap=2.0)
            arr = np.asarray(im, dtype=np.uint8)
    except FileNotFoundError:
        raise FileNotFoundError(f"image file missing: {path}") from None
    except (OSError, SyntaxError, ValueError) as e:
        raise OSError(f"cannot decode image {path}: {e}") from None
    return arr[..., None] if channels == 1 else arr


class ImageStore:
    """uint8 images of one dataset at one resolution; ``images[i]`` is row ``i`` of the dataset's record table."""

    def __init__(self, images: np.ndarray, path: Path | None = None):
        self.images = images
        self.path = path

    def __len__(self) -> int:
        return len(self.images)

    @property
    def shape(self):
        return self.images.shape

    @classmethod
    def build(cls, dataset, size: int, channels: int = 3, cache_dir: str | Path | None = None,
              workers: int | None = None, progress: bool = True) -> "ImageStore":
        """Return the cached store for ``dataset`` at ``size``×``size``×``channels``, decoding it first if needed."""
        if channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, got {channels!r}")
        if not isinstance(size, int) or size < 8:
            raise ValueError(f"size must be an integer >= 8, got {size!r}")
        cache_dir = paths.ensure_writable(Path(cache_dir) if cache_dir else paths.cache_root() / "store", "cache_dir")
        stem = f"{dataset.name}-{dataset.fingerprint}-{size}px-{channels}c-v{STORE_VERSION}"
        array_path, meta_path = cache_dir / f"{stem}.npy", cache_dir / f"{stem}.json"
        n = len(dataset.records)
        if meta_path.exists() and array_path.exists():
            meta = json.loads(meta_path.read_text())
            if meta.get("n") == n:
                return cls(np.load(array_path, mmap_mode="r"), array_path)
        files = [dataset.root / p for p in dataset.records["image"].astype(str)]
        tmp = array_path.with_suffix(f".tmp{os.getpid()}.npy")
        arr = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=(n, size, size, channels))
        try:
            workers = workers or min(8, (os.cpu_count() or 1) * 2)
            with ThreadPoolExecutor(workers) as pool, progress_bar(total=n, desc=f"decode {dataset.name} @{size}px",
                                                                   unit="img", enabled=progress) as bar:
                chunk = 256
                for start in range(0, n, chunk):
                    part = files[start:start + chunk]
                    for j, img in enumerate(pool.map(lambda p: decode(p, size, channels), part)):
                        arr[start + j] = img
                    bar.update(len(part))
            arr.flush()
            del arr
            os.replace(tmp, array_path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        meta_path.write_text(json.dumps({"n": n, "size": size, "channels": channels, "dataset": dataset.name,
                                         "fingerprint": dataset.fingerprint, "version": STORE_VERSION}))
        return cls(np.load(array_path, mmap_mode="r"), array_path)
