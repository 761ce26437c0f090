"""The record table every data source produces, and ``load_dataset``, the one entry point chapters use."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from fernb import paths
from fernb.data.manifest import load_manifest
from fernb.labels import EXPRESSIONS

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

    @property
    def fingerprint(self) -> str:
        """Hash of the record table's image paths and labels: keys caches and runs to exactly this data."""
        h = hashlib.sha256()
        h.update(self.name.encode())
        h.update(str(self.root.resolve()).encode())
        h.update(pd.util.hash_pandas_object(self.records[["image", "label", "split"]], index=False).to_numpy().tobytes())
        return h.hexdigest()[:16]

    def split(self, name: str) -> np.ndarray:
        """Row indices of one split."""
        if name not in SPLITS:
            raise ValueError(f"unknown split {name!r}; expected one of {SPLITS}")
        return np.flatnonzero(self.records["split"].to_numpy() == name)

    def class_counts(self, split: str | None = None) -> pd.Series:
        rec = self.records if split is None else self.records.iloc[self.split(split)]
        return rec["label"].value_counts().reindex(range(len(EXPRESSIONS)), fill_value=0).rename(index=dict(enumerate(EXPRESSIONS)))

    def __len__(self) -> int:
        return len(self.records)


def _show(v) -> str:
    return repr(v.item() if hasattr(v, "item") else v)


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
    dup = df["image"].duplicated(keep="first").to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        raise ValueError(f"{source}: row {i + 1}: image {df['image'].iloc[i]!r} is listed more than once ({int(dup.sum())} duplicates)")
    escaping = [p for p in df["image"].astype(str) if Path(p).is_absolute() or ".." in Path(p).parts]
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
                 progress: bool = True) -> FERDataset:
    """Load dataset ``name`` as a :class:`FERDataset`.

    SynthFER domains (``synth-raf``, ``synth-infer``) are generated on first use under ``data_root`` at the size the
    manifest gives for ``profile`` (or ``n`` images), and reused afterwards.
    """
    manifest = load_manifest(name)  # unknown names fail here, with suggestions
    root = paths.data_root(data_root)
    if manifest["kind"] == "synthetic":
        from fernb.data.synth.generate import SynthConfig, generate

        paths.ensure_writable(root, "data_root")
        cfg = SynthConfig(name, n if n is not None else synth_size(name, profile), seed, int(manifest["image"]["size"]))
        folder = generate(cfg, root / "synthfer", progress=progress)
        table = folder / manifest["layout"]["records"]
        records = validate_records(pd.read_csv(table), str(table))
        return FERDataset(name, folder, records, manifest)
    raise NotImplementedError(
        f"dataset {name!r} has a manifest but no adapter yet: real-dataset adapters are tracked in the datasets issue. "
        f"Use one of {SYNTH_DOMAINS} meanwhile."
    )
