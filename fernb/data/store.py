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


def encode_jpeg(arr: np.ndarray, quality: int) -> bytes:
    """JPEG bytes of a uint8 array (baseline, 4:2:0 chroma, no optimisation flags, so the output is reproducible):
    the one encoder behind SynthFER, the construction pipeline and the leakage protocols."""
    import io

    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="JPEG", quality=int(quality), subsampling=2)
    return buf.getvalue()


def decode(path: Path, size: int, channels: int, box=None, margin: float = 0.0) -> np.ndarray:
    """Decode one image file to (size, size, channels) uint8, with an error that names the file.

    ``box`` = (x0, y0, x1, y1) crops a face first: a square around the box centre with side
    ``max(w, h) * (1 + margin)``; parts outside the image are black (as PIL's crop gives).
    """
    try:
        with Image.open(path) as im:
            if box is None and im.format == "JPEG":
                im.draft("RGB" if channels == 3 else "L", (size, size))  # let libjpeg downscale by 2^k first
            im = im.convert("RGB" if channels == 3 else "L")
            if box is not None:
                im = im.crop(square_box(box, margin))
            return _to_array(im, size, channels)
    except FileNotFoundError:
        raise FileNotFoundError(f"image file missing: {path}") from None
    except (OSError, SyntaxError, ValueError) as e:
        raise OSError(f"cannot decode image {path}: {e}") from None


def _to_array(im: Image.Image, size: int, channels: int) -> np.ndarray:
    if im.size != (size, size):
        im = im.resize((size, size), Image.BILINEAR, reducing_gap=2.0)
    arr = np.asarray(im, dtype=np.uint8)
    return arr[..., None] if channels == 1 else arr


def square_box(box, margin: float = 0.0) -> tuple[int, int, int, int]:
    """Integer square crop around a face box (x0, y0, x1, y1), enlarged by ``margin``."""
    x0, y0, x1, y1 = (float(v) for v in box)
    side = max(x1 - x0, y1 - y0) * (1 + margin)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    left, top = int(round(cx - side / 2)), int(round(cy - side / 2))
    s = max(1, int(round(side)))
    return left, top, left + s, top + s


def from_pixels(pixels: np.ndarray, size: int, channels: int) -> np.ndarray:
    """Resize one (H, W) or (H, W, C) uint8 pixel array (FER2013's pixel strings) like :func:`decode`."""
    return _to_array(Image.fromarray(pixels).convert("RGB" if channels == 3 else "L"), size, channels)


BOX_COLUMNS = ("x0", "y0", "x1", "y1")


def crop_margin(dataset) -> float:
    return float(dataset.manifest.get("image", {}).get("crop_margin", 0.0))


def record_loader(dataset, size: int, channels: int):
    """``load(i)`` → row ``i`` of ``dataset`` as (size, size, channels) uint8: from its pixel array (FER2013), its
    file cropped to its face box (``x0..y1`` columns, when the row has one), or its file as it is. The one place
    that decides how a record becomes pixels; the store and the figures both use it."""
    rec = dataset.records
    if getattr(dataset, "pixels", None) is not None:
        pixels = dataset.pixels
        return lambda i: from_pixels(pixels[i], size, channels)
    files = [dataset.root / p for p in rec["image"].astype(str)]
    if not all(c in rec.columns for c in BOX_COLUMNS):
        return lambda i: decode(files[i], size, channels)
    boxes = rec[list(BOX_COLUMNS)].to_numpy(np.float64)
    has = ~np.isnan(boxes).any(1)
    margin = crop_margin(dataset)
    return lambda i: decode(files[i], size, channels, tuple(boxes[i]), margin) if has[i] else decode(files[i], size, channels)


def record_image(dataset, i: int, size: int = 128, channels: int = 3) -> np.ndarray:
    """Record ``i`` of ``dataset`` as (size, size, channels) uint8, exactly as :func:`record_loader` makes it (face
    box, margin, pixel strings): what figures and chapters show instead of opening files themselves."""
    return record_loader(dataset, size, channels)(int(i))


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
        margin = crop_margin(dataset)
        crop = f"-m{margin:g}" if margin else ""  # a different face-crop margin is a different store
        stem = f"{dataset.name}-{dataset.fingerprint}-{size}px-{channels}c{crop}-v{STORE_VERSION}"
        array_path, meta_path = cache_dir / f"{stem}.npy", cache_dir / f"{stem}.json"
        n = len(dataset.records)
        if meta_path.exists() and array_path.exists():
            meta = json.loads(meta_path.read_text())
            if meta.get("n") == n:
                return cls(np.load(array_path, mmap_mode="r"), array_path)
        load = record_loader(dataset, size, channels)
        tmp = array_path.with_suffix(f".tmp{os.getpid()}.npy")
        arr = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=(n, size, size, channels))
        try:
            workers = workers or min(8, (os.cpu_count() or 1) * 2)
            with ThreadPoolExecutor(workers) as pool, progress_bar(total=n, desc=f"decode {dataset.name} @{size}px",
                                                                   unit="img", enabled=progress) as bar:
                chunk = 256
                for start in range(0, n, chunk):
                    part = range(start, min(start + chunk, n))
                    for i, img in zip(part, pool.map(load, part)):
                        arr[i] = img
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
