"""Views of a dataset for protocols that change its classes or splits (InFER++ §III-E).

A view is a :class:`~fernb.data.records.FERDataset` of its own: the records are re-labelled or
re-split, the manifest copy carries the new class count and names, and the fingerprint changes with
them, so runs, image stores and caches of a view never mix with the dataset's. The trainer reaches
views through ``dataset_options`` (recorded in the run's :class:`~fernb.train.config.DataSpec`, so
``Run.dataset()`` rebuilds the same view):

    fit(cfg, dataset_options={"classes": "six", "splits": "all"})
"""

from __future__ import annotations

import numpy as np

from fernb.labels import EXPRESSIONS_8

SIX_CLASSES = ("anger", "disgust", "fear", "happiness", "sadness", "surprise")
"""InFER++ §III-E's "six-class" cross-dataset study: the paper does not list them; its discussion
names these six, so neutral is left out (our reading)."""

NAMED_CLASS_SETS = {"six": SIX_CLASSES}
SPLIT_MODES = ("official", "all")
LABEL_COLUMNS = ("label", "true_label", "apparent_label", "blend_label", "confusable_label")


def parse_classes(classes) -> tuple:
    """A class set as a tuple of expression names: a named set (``"six"``), a comma-separated string
    (the form a run records) or a sequence of names; unknown names raise naming them."""
    if isinstance(classes, str):
        classes = NAMED_CLASS_SETS.get(classes, classes.split(","))
    names = tuple(str(c).strip() for c in classes)
    bad = [c for c in names if c not in EXPRESSIONS_8]
    if bad or not names:
        raise ValueError(
            f"classes {bad or '(empty)'} are not expressions; expected names from "
            f"{', '.join(EXPRESSIONS_8)} or one of {sorted(NAMED_CLASS_SETS)}"
        )
    if len(set(names)) != len(names):
        raise ValueError(f"classes lists an expression twice: {names}")
    return names


def restrict_classes(ds, classes):
    """The records of ``ds`` labelled with one of ``classes``, relabelled 0..k-1 in the order given
    (§III-E's six classes). Label-like columns (``true_label`` …) are mapped too, with -1 for a class
    outside the set. Raises naming the dataset and the class when ``ds`` has no image of one of
    them."""
    from fernb.data.records import FERDataset

    names = parse_classes(classes)
    current = ds.class_names
    counts = np.bincount(ds.records["label"].to_numpy(), minlength=len(current))
    missing = [c for c in names if c not in current or counts[current.index(c)] == 0]
    if missing:
        raise ValueError(
            f"dataset {ds.name!r} has no images of {', '.join(missing)}; the class set "
            f"{', '.join(names)} needs every one of them"
        )
    lut = np.full(len(current) + 1, -1, dtype=np.int64)  # the last slot maps -1 (no blend) to -1
    for k, c in enumerate(names):
        lut[current.index(c)] = k
    keep = lut[ds.records["label"].to_numpy()] >= 0
    rec = ds.records.loc[keep].reset_index(drop=True)
    for col in LABEL_COLUMNS:
        if col in rec.columns:
            v = rec[col].to_numpy().astype(np.int64)
            rec[col] = np.where((v >= 0) & (v < len(current)), lut[np.clip(v, 0, len(current))], -1)
    manifest = {**ds.manifest, "num_classes": len(names), "class_names": list(names)}
    pixels = ds.pixels[keep] if ds.pixels is not None else None
    return FERDataset(ds.name, ds.root, rec, manifest, pixels, ds.problems, ds.excluded)


def all_images(ds, holdout: float = 0.1, seed: int = 0):
    """Every record as training data (§III-E trains on all images of one dataset), except a stratified
    ``holdout`` share kept as ``test``: the trainer needs a test split of the training domain, and
    it gives an in-domain check. ``val`` records become ``train`` too (model selection then comes
    from the trainer's ``val_share``)."""
    from fernb.data.records import FERDataset
    from fernb.data.splits import stratified_split

    if not 0 < holdout < 0.5:
        raise ValueError(f"holdout must be in (0, 0.5), got {holdout!r}")
    rec = ds.records.copy()
    rec["split"] = stratified_split(rec["label"].to_numpy(), holdout, seed, min_test=1)
    return FERDataset(ds.name, ds.root, rec, dict(ds.manifest), ds.pixels, ds.problems, ds.excluded)


def apply_view(ds, classes=None, splits: str = "official", holdout: float = 0.1, seed: int = 0):
    """``load_dataset``'s view options: ``classes`` (see :func:`restrict_classes`), then ``splits``
    (``official`` or ``all``, see :func:`all_images`)."""
    if splits not in SPLIT_MODES:
        raise ValueError(f"splits={splits!r}; expected one of {SPLIT_MODES}")
    if classes is not None:
        ds = restrict_classes(ds, classes)
    if splits == "all":
        ds = all_images(ds, holdout, seed)
    return ds
