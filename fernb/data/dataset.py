"""The record table every data source produces, and ``load_dataset``, the one entry point chapters use."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from fernb import paths
from fernb.data.manifest import load_manifest
from fernb.data.store import BOX_COLUMNS
from fernb.labels import EXPRESSIONS, EXPRESSIONS_8

REQUIRED_COLUMNS = ("image", "label", "split")
SPLITS = ("train", "val", "test")
SYNTH_DOMAINS = ("synth-raf", "synth-infer")


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


def synth_size(name: str, profile: str) -> int:
    sizes = load_manifest(name)["sizes"]
    if profile not in sizes:
        raise ValueError(f"profile={profile!r} has no SynthFER size in data_manifests/{name}.yaml; expected one of {list(sizes)}")
    return int(sizes[profile])


def load_dataset(name: str, data_root=None, profile: str = "quick", seed: int = 0, n: int | None = None,
                 progress: bool = True, lenient: bool = False, detector: str = "mtcnn", classes=None,
                 splits: str = "official", holdout: float = 0.1, **options) -> FERDataset:
    """Load dataset ``name`` as a :class:`FERDataset`.

    SynthFER domains (``synth-raf``, ``synth-infer``) are generated on first use under ``data_root`` at the size the
    manifest gives for ``profile`` (or ``n`` images), and reused afterwards.

    Real datasets are read from the reader's copy at ``data_root`` (or ``data_root/<name>``) by the adapter their
    manifest names. By default the first problem raises with its file and line; ``lenient=True`` quarantines bad
    entries instead, warns with their number, and keeps them in ``dataset.problems``. Image files the table lists but
    the disk lacks count as problems too. ``n`` keeps a random subset of ``n`` entries (seeded by ``seed``), for a
    quick look at a large copy; ``profile`` does not shrink a real dataset. ``options`` go to the adapter (e.g. ``variant="original"`` for RAF-DB).
    Faces of formats whose manifest says ``crop: detect`` (CK+) are found with ``detector`` once and cached.
    ``classes``, ``splits`` and ``holdout`` make a view (:func:`fernb.data.views.apply_view`): e.g. InFER++ §III-E's
    six classes (``classes="six"``) with every image in training (``splits="all"``).
    """
    from fernb.data.views import apply_view

    view = dict(classes=classes, splits=splits, holdout=holdout, seed=seed)
    manifest = load_manifest(name)  # unknown names fail here, with suggestions
    if manifest["kind"] == "synthetic":
        from fernb.data.synth.generate import SynthConfig, generate

        root = paths.data_root(data_root)
        paths.ensure_writable(root, "data_root")
        cfg = SynthConfig(name, n if n is not None else synth_size(name, profile), seed, int(manifest["image"]["size"]))
        folder = generate(cfg, root / "synthfer", progress=progress)
        table = folder / manifest["layout"]["records"]
        records = validate_records(pd.read_csv(table), str(table))
        from fernb.data.synth.generate import skin_tones

        records["skin_tone"] = skin_tones(cfg, len(records))
        return apply_view(FERDataset(name, folder, records, manifest), **view)
    from fernb.data import adapters

    if data_root is None:
        raise ValueError(f"dataset={name!r} is a licence-gated real dataset: pass data_root=<the folder holding your copy>. "
                         f"Request it at: {manifest.get('request', 'see its citation')}")
    root = adapters.resolve_root(manifest, data_root)
    reading = adapters.read(manifest, root, lenient=lenient, **options)
    records, problems = reading.records, reading.problems
    if reading.pixels is None:
        missing = missing_files(root, records["image"])
        if missing.any():
            first = records.loc[missing].iloc[0]
            msg = f"{first['origin']}: image file {first['image']} is missing under {root} ({int(missing.sum())} missing in all)"
            if not lenient:
                raise adapters.DatasetError(f"{name}: {msg}")
            gone = records.loc[missing]
            problems = pd.concat([problems, pd.DataFrame({"where": gone["origin"], "image": gone["image"],
                                                          "reason": "image file missing"})], ignore_index=True)
            records = records.loc[~missing].reset_index(drop=True)
    pixels = reading.pixels
    if n is not None and n < len(records):
        keep = np.sort(np.random.default_rng(seed).choice(len(records), n, replace=False))  # a quick look at a big copy
        records, pixels = records.iloc[keep].reset_index(drop=True), (pixels[keep] if pixels is not None else None)
    ds = FERDataset(name, root, records, manifest, pixels, problems, reading.excluded)
    if manifest["image"].get("crop") == "detect":
        from fernb.data.faces import detect_face_boxes

        ds = detect_face_boxes(ds, backend=detector, lenient=lenient, progress=progress)
    if len(ds.problems):
        import warnings

        warnings.warn(f"{name}: {len(ds.problems)} entries quarantined (lenient=True), first: "
                      f"{ds.problems.iloc[0]['where']}: {ds.problems.iloc[0]['reason']}; see dataset.problems", stacklevel=2)
    ds.records = validate_records(ds.records, f"{name} at {root}", ds.num_classes)
    return apply_view(ds, **view)


def missing_files(root: Path, images) -> np.ndarray:
    """Boolean mask of image paths absent under ``root``; lists each folder once (fast on network drives)."""
    images = pd.Series(images).astype(str)
    parents = images.map(lambda p: p.rsplit("/", 1)[0] if "/" in p else "")
    present: dict[str, set] = {}
    for d in parents.unique():
        try:
            present[d] = set(os.listdir(root / d))
        except (FileNotFoundError, NotADirectoryError):
            present[d] = set()
    names = images.map(lambda p: p.rsplit("/", 1)[-1])
    return np.array([n not in present[d] for n, d in zip(names, parents)], dtype=bool)
