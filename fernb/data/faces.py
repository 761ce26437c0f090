"""One face-detector interface: MTCNN (default; its weights ship inside the facenet-pytorch wheel) and OpenCV's Haar
cascade (fallback, OpenCV 4.x ships the cascade files).  Each returns, per image, the boxes it finds with their
confidences."""

from __future__ import annotations

import numpy as np

BACKENDS = ("mtcnn", "haar")


class FaceDetector:
    """``FaceDetector("mtcnn").detect(images)`` → list of (boxes (k, 4) xyxy, scores (k,)) per image.

    ``threshold`` is the score a detection needs to count (MTCNN's face probability; Haar has no score, so 1.0).
    """

    def __init__(self, backend: str = "mtcnn", threshold: float = 0.9, min_face_size: int = 20, device: str = "cpu"):
        if backend not in BACKENDS:
            raise ValueError(f"unknown face detector backend {backend!r}; expected one of {BACKENDS}")
        self.backend, self.threshold = backend, threshold
        if backend == "mtcnn":
            try:
                from facenet_pytorch import MTCNN
            except ImportError as e:
                raise ModuleNotFoundError(
                    "the MTCNN detector needs facenet-pytorch; install it without its (outdated) pins: "
                    f"pip install --no-deps facenet-pytorch==2.6.0 requests  ({e})") from None
            self._net = MTCNN(keep_all=True, device=device, min_face_size=min_face_size)
        else:
            try:
                import cv2
            except ImportError:
                raise ModuleNotFoundError("the Haar detector needs OpenCV 4.x: pip install 'opencv-python-headless<5'") from None
            path = getattr(getattr(cv2, "data", None), "haarcascades", None)
            if path is None:
                raise RuntimeError("this OpenCV has no bundled Haar cascades (OpenCV 5 dropped them); install opencv-python-headless<5")
            self._net = cv2.CascadeClassifier(path + "haarcascade_frontalface_default.xml")
            self._min = min_face_size

    def detect(self, images) -> list[tuple[np.ndarray, np.ndarray]]:
        """``images``: a list of (H, W, 3) uint8 RGB arrays (same size for MTCNN batching, or any sizes)."""
        out = []
        if self.backend == "mtcnn":
            sizes = {im.shape for im in images}
            batches = [np.stack(images)] if len(sizes) == 1 else [im[None] for im in images]
            for b in batches:
                boxes, probs = self._net.detect(b)
                for bx, pr in zip(boxes, probs):
                    if bx is None:
                        out.append((np.zeros((0, 4), np.float32), np.zeros(0, np.float32)))
                    else:
                        keep = np.asarray(pr, dtype=np.float32) >= self.threshold
                        out.append((np.asarray(bx, np.float32)[keep], np.asarray(pr, np.float32)[keep]))
        else:
            import cv2

            for im in images:
                gray = cv2.cvtColor(np.ascontiguousarray(im), cv2.COLOR_RGB2GRAY)
                r = self._net.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5, minSize=(self._min, self._min))
                r = np.asarray(r, np.float32).reshape(-1, 4)
                boxes = np.concatenate([r[:, :2], r[:, :2] + r[:, 2:]], 1)
                out.append((boxes, np.ones(len(boxes), np.float32)))
        return out

    def has_face(self, images) -> np.ndarray:
        return np.array([len(b) > 0 for b, _ in self.detect(images)])

    def best_boxes(self, files, batch: int = 16, bar=None) -> list:
        """The most confident face box ([x0, y0, x1, y1]) in each image file, or None where there is none."""
        from PIL import Image

        out = []
        for start in range(0, len(files), batch):
            ims = []
            for f in files[start:start + batch]:
                with Image.open(f) as im:
                    ims.append(np.asarray(im.convert("RGB")))
            out += [bx[int(np.argmax(sc))].tolist() if len(bx) else None for bx, sc in self.detect(ims)]
            if bar is not None:
                bar.update(len(ims))
        return out


def detect_face_boxes(dataset, backend: str = "mtcnn", lenient: bool = False, progress: bool = True,
                      batch: int = 16, cache_dir=None):
    """Fill ``x0, y0, x1, y1`` with the most confident face the detector finds in each image (CK+'s raw frames).

    Boxes are cached per dataset fingerprint and backend, so detection runs once. An image without a face is an
    error naming it, or with ``lenient`` a quarantined entry (listed in ``dataset.problems``).
    """
    import json
    import os
    from dataclasses import replace
    from pathlib import Path

    import pandas as pd

    from fernb import paths
    from fernb.progress import progress_bar

    cache = paths.ensure_writable(Path(cache_dir) if cache_dir else paths.cache_root() / "faces", "cache_dir")
    path = cache / f"{dataset.name}-{dataset.fingerprint}-{backend}.json"
    rec = dataset.records
    if path.exists():
        boxes = json.loads(path.read_text())
    else:
        names = rec["image"].tolist()
        with progress_bar(total=len(rec), desc=f"detect faces ({backend})", unit="img", enabled=progress) as bar:
            found = FaceDetector(backend).best_boxes([dataset.root / p for p in names], batch, bar)
        boxes = dict(zip(names, found))
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(boxes))
        os.replace(tmp, path)
    found = rec["image"].map(lambda p: boxes.get(p))
    none = found.isna().to_numpy()
    if none.any():
        first = rec.loc[none].iloc[0]
        if not lenient:
            raise ValueError(f"{dataset.name}: no face found by {backend} in {dataset.root / first['image']} "
                             f"({int(none.sum())} images without a face); pass lenient=True to quarantine them, "
                             "or try detector='haar'")
        gone = rec.loc[none]
        problems = pd.concat([dataset.problems, pd.DataFrame({"where": gone["image"], "image": gone["image"],
                                                              "reason": f"no face found by {backend}"})], ignore_index=True)
        rec, found = rec.loc[~none].reset_index(drop=True), found[~none].reset_index(drop=True)
    else:
        problems = dataset.problems
    rec = rec.copy()
    rec[["x0", "y0", "x1", "y1"]] = np.array(found.tolist(), dtype=np.float64)
    return replace(dataset, records=rec, problems=problems)
