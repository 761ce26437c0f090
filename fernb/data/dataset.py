"""``load_dataset``, the one entry point chapters use: a named source (SynthFER or an adapter over a reader's copy, or
a ``records`` table) read into a validated :class:`~fernb.data.records.FERDataset`."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from fernb import paths
from fernb.data.manifest import load_manifest
from fernb.data.records import FERDataset, validate_records


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
    quick look at a large copy; ``profile`` does not shrink a real dataset. ``options`` go to the adapter (e.g. ``variant="original"`` for RAF-DB);
    a SynthFER domain takes one, ``divergence`` (:class:`fernb.data.synth.generate.SynthConfig`: how far its display
    rules lie from synth-raf's; 1, the default, is the domain as published).
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
        divergence = options.pop("divergence", 1.0)
        if options:
            raise ValueError(f"dataset={name!r} is a SynthFER domain: options {sorted(options)} are for real "
                             f"datasets' adapters; SynthFER takes divergence= (its display rules' distance from "
                             f"synth-raf's)")
        cfg = SynthConfig(name, n if n is not None else synth_size(name, profile), seed, int(manifest["image"]["size"]),
                          divergence)
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
