"""The record table every data source produces (:class:`FERDataset`) and its checks: a leaf of the data floor that
the adapters, the views and ``load_dataset`` all build on (ARCHITECTURE.md)."""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from fernb.data.store import BOX_COLUMNS
from fernb.labels import EXPRESSIONS, EXPRESSIONS_8

REQUIRED_COLUMNS = ("image", "label", "split")
SPLITS = ("train", "val", "test")


@dataclass
class FERDataset:
    """A validated record table plus where its images live.

    ``records`` has one row per image with at least ``image`` (path relative to ``root``), ``label`` (canonical
    index 0-6, see :mod:`fernb.labels`) and ``split``; optional columns (``true_label``, ``age_group``, ``gender``,
    ``votes_*`` …) are kept as they are.
    """

    name: str
    root: Path
    records: pd.DataFrame
    manifest: dict = field(repr=False)
    pixels: np.ndarray | None = field(default=None, repr=False)
    """(N, H, W) uint8 images for pixel-string formats (FER2013); ``None`` when images are files under ``root``."""
    problems: pd.DataFrame | None = field(default=None, repr=False)
    """Entries quarantined when loaded with ``lenient=True`` (where, image, reason)."""
    excluded: pd.DataFrame | None = field(default=None, repr=False)
    """Entries the manifest excludes (e.g. AffectNet 'None', CK+ contempt), with the reason."""

    @property
    def fingerprint(self) -> str:
        """Hash of the record table's image paths, labels, splits and face boxes: keys caches and runs to exactly
        this data."""
        h = hashlib.sha256()
        h.update(self.name.encode())
        h.update(str(self.root.resolve()).encode())
        cols = ["image", "label", "split"] + [c for c in BOX_COLUMNS if c in self.records.columns]
        h.update(pd.util.hash_pandas_object(self.records[cols], index=False).to_numpy().tobytes())
        if self.pixels is not None:
            h.update(hashlib.sha256(np.ascontiguousarray(self.pixels).tobytes()).digest())
        return h.hexdigest()[:16]

    @property
    def set_aside(self) -> pd.DataFrame:
        """Everything that was read but is not in ``records``: excluded by the manifest, or quarantined."""
        parts = [(self.excluded, "excluded"), (self.problems, "quarantined")]
        parts = [df.assign(kind=kind) for df, kind in parts if df is not None and len(df)]
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["where", "image", "reason", "kind"])

    @property
    def num_classes(self) -> int:
        return int(self.manifest.get("num_classes", len(EXPRESSIONS)))

    def with_fold(self, k: int) -> "FERDataset":
        """Subject-independent cross-validation (CK+, InFER++ §IV-A): fold ``k`` becomes the test split."""
        if "fold" not in self.records.columns:
            raise ValueError(f"dataset {self.name!r} has no 'fold' column; folds exist for cross-validated datasets such as ckplus")
        folds = sorted(self.records["fold"].unique())
        if k not in folds:
            raise ValueError(f"fold={k!r} does not exist in {self.name}; expected one of {folds}")
        rec = self.records.copy()
        rec["split"] = np.where(rec["fold"].to_numpy() == k, "test", "train")
        return FERDataset(self.name, self.root, rec, self.manifest, self.pixels, self.problems, self.excluded)

    def split(self, name: str) -> np.ndarray:
        """Row indices of one split."""
        if name not in SPLITS:
            raise ValueError(f"unknown split {name!r}; expected one of {SPLITS}")
        return np.flatnonzero(self.records["split"].to_numpy() == name)

    @property
    def class_names(self) -> tuple:
        """Names of the class indices: the canonical order, or a view's own (:mod:`fernb.data.views`)."""
        return tuple(self.manifest.get("class_names") or EXPRESSIONS_8[:self.num_classes])

    def class_counts(self, split: str | None = None) -> pd.Series:
        rec = self.records if split is None else self.records.iloc[self.split(split)]
        k = self.num_classes
        return rec["label"].value_counts().reindex(range(k), fill_value=0).rename(index=dict(enumerate(self.class_names)))

    def __len__(self) -> int:
        return len(self.records)


def _show(v) -> str:
    return repr(v.item() if hasattr(v, "item") else v)


def escapes_root(image: str) -> bool:
    """Whether a record's image path leaves the dataset folder (absolute, ``..``, or a Windows drive)."""
    p = str(image).replace("\\", "/")
    return p.startswith("/") or ".." in p.split("/") or ":" in p.split("/")[0]


def validate_records(df: pd.DataFrame, source: str, num_classes: int = len(EXPRESSIONS)) -> pd.DataFrame:
    """Check a record table; every problem names ``source`` and the offending row (1-based, header excluded)."""
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"{source}: missing required columns {missing}; found {list(df.columns)}")
    labels = pd.to_numeric(df["label"], errors="coerce")
    bad = np.flatnonzero(labels.isna().to_numpy() | ~labels.between(0, num_classes - 1).to_numpy())
    if len(bad):
        i = bad[0]
        raise ValueError(f"{source}: row {i + 1}: label {_show(df['label'].iloc[i])} is not a class index in 0..{num_classes - 1} "
                         f"({len(bad)} such rows)")
    bad = np.flatnonzero(~df["split"].isin(SPLITS).to_numpy())
    if len(bad):
        i = bad[0]
        raise ValueError(f"{source}: row {i + 1}: split {_show(df['split'].iloc[i])} is not one of {SPLITS} ({len(bad)} such rows)")
    key = ["image"] + (["face_id"] if "face_id" in df.columns else [])  # ExpW: several faces per photograph
    dup = df.duplicated(subset=key, keep="first").to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        raise ValueError(f"{source}: row {i + 1}: image {df['image'].iloc[i]!r} is listed more than once ({int(dup.sum())} duplicates)")
    escaping = [p for p in df["image"].astype(str) if escapes_root(p)]
    if escaping:
        raise ValueError(f"{source}: image path {escaping[0]!r} escapes the dataset root ({len(escaping)} such rows)")
    out = df.copy()
    out["label"] = labels.astype(np.int64)
    return out


def write_records(ds, rows, split, folder) -> Path:
    """The one way to derive a record-table copy of a dataset (a fold, a training subset): a folder that
    ``load_dataset("records", data_root=folder)`` reads, holding rows ``rows`` of ``ds`` with the given ``split``
    column and a copy of each of their images at the same relative path. No symbolic link: a record's image must
    lie inside its own dataset folder (:func:`escapes_root`), and the copy stays valid when ``ds`` moves. Images
    already copied are kept; an ``images`` link left by an earlier version is replaced by copies. Views, ``n=``
    subsets and folds that need no copy are :func:`fernb.data.load_dataset` options recorded in a run's
    ``DataSpec``; relabelling is the trainer's ``labels=``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    keep = [c for c in ("image", "label", "true_label", "age_group", "gender") if c in ds.records]
    table = ds.records.iloc[rows][keep].assign(split=split)
    old_link = folder / "images"
    if old_link.is_symlink():
        old_link.unlink()
    source = Path(ds.root)
    for image in table["image"].astype(str):
        dest = folder / image
        if not dest.is_file():
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / image, dest)
    table.to_csv(folder / "records.csv", index=False)
    return folder
