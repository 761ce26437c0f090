"""Predictions with their own metrics: :class:`Evaluation` holds what a confusion matrix is made of (true labels,
predicted probabilities, class names) and, when known, the records behind them, so every cell can name its images.
The confusion-matrix explorer (:mod:`fernb.viz.explorer`) draws these; the metrics come from
:mod:`fernb.eval.metrics`. InFER++ §III-E, Fig. 5 reads cross-dataset confusion matrices."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

NORMS = {"recall": "recall (row %)", "precision": "precision (column %)", "counts": "counts"}
DEMOGRAPHICS = ("age_group", "gender", "skin_tone", "occluders")


def normalise(cm: np.ndarray, norm: str) -> np.ndarray:
    """A confusion matrix as counts, row shares (recall, %) or column shares (precision, %)."""
    if norm not in NORMS:
        raise ValueError(f"normalisation {norm!r}; expected one of {', '.join(NORMS)}")
    cm = np.asarray(cm, dtype=float)
    if norm == "counts":
        return cm
    axis = 1 if norm == "recall" else 0
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.nan_to_num(cm / cm.sum(axis, keepdims=True)) * 100


@dataclass
class Evaluation:
    """Predictions of one model on one set of images: ``y`` (true class ids), ``probs`` (n, k) and
    the ``classes`` they index; ``dataset`` and ``rows`` (record indices) when the images are
    known (for galleries)."""

    name: str
    y: np.ndarray
    probs: np.ndarray
    classes: tuple
    dataset: object = None
    rows: np.ndarray | None = None
    note: str = ""
    _cm: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self):
        self.y, self.probs, self.classes = (
            np.asarray(self.y),
            np.asarray(self.probs),
            tuple(self.classes),
        )
        k = len(self.classes)
        if self.probs.ndim != 2 or self.probs.shape != (len(self.y), k):
            raise ValueError(
                f"evaluation {self.name!r}: probs must be ({len(self.y)}, {k}) for {k} classes, "
                f"got {self.probs.shape}"
            )
        if len(self.y) and (self.y.min() < 0 or self.y.max() >= k):
            raise ValueError(f"evaluation {self.name!r}: labels must be 0..{k - 1}")
        if self.rows is not None and len(self.rows) != len(self.y):
            raise ValueError(
                f"evaluation {self.name!r}: {len(self.rows)} rows for {len(self.y)} labels"
            )

    @classmethod
    def from_counts(cls, name: str, cm, classes, note: str = "") -> "Evaluation":
        """An evaluation known only by its confusion matrix (no images): e.g. a stored
        ``metrics.json``."""
        cm = np.asarray(cm, dtype=np.int64)
        ev = cls(name, np.zeros(0, np.int64), np.zeros((0, len(classes))), classes, note=note)
        ev._cm = cm
        return ev

    @classmethod
    def from_run(cls, run, name: str | None = None, note: str = "") -> "Evaluation":
        """A training run on its own test split (what the trainer scored)."""
        ds = run.dataset()
        rows = run.split("test")
        return cls(
            name or run.dir.name, run.labels()[rows], run.test_probs, ds.class_names, ds, rows, note
        )

    @classmethod
    def transfer(
        cls, run, dataset, rows=None, name: str | None = None, note: str = ""
    ) -> "Evaluation":
        """A run's model on records of another dataset (InFER++ §III-E: train on A, test on B),
        through the run's own preprocessing; the dataset's classes must be the run's, in the same
        order."""
        have, want = tuple(dataset.class_names), tuple(run.dataset().class_names)
        if have != want:
            raise ValueError(
                f"dataset {dataset.name!r} has classes {have}, "
                f"but run {run.dir.name} predicts {want}; "
                f"load it with the same view (e.g. classes='six')"
            )
        rows = np.arange(len(dataset.records)) if rows is None else np.asarray(rows)
        probs = run.predict(rows, dataset=dataset)
        y = dataset.records["label"].to_numpy()[rows]
        return cls(
            name or f"{run.config.dataset} -> {dataset.name}", y, probs, have, dataset, rows, note
        )

    @property
    def label_name(self) -> str:
        """What the rows of its confusion matrix are: a SynthFER dataset's labels are its crowd's majority votes
        (the true expression is a separate column), a real dataset's are its published labels."""
        records = getattr(self.dataset, "records", None)
        return "crowd label" if records is not None and "true_label" in records.columns else "label"

    @property
    def pred(self) -> np.ndarray:
        return self.probs.argmax(1)

    @property
    def confusion(self) -> np.ndarray:
        if self._cm is None:
            k = len(self.classes)
            self._cm = np.bincount(self.y * k + self.pred, minlength=k * k).reshape(k, k)
        return self._cm

    def report(self) -> dict:
        """Overall accuracy and mean per-class recall ("average accuracy" can mean either), per-class recall
        (:func:`fernb.eval.metrics.confusion_report`)."""
        from fernb.eval.metrics import confusion_report

        return confusion_report(self.confusion, self.classes)

    def cell(self, true, pred) -> np.ndarray:
        """Positions (into this evaluation) of the images of class ``true`` predicted as ``pred``
        (names or indices), most confident first."""
        t, p = self.class_index(true), self.class_index(pred)
        pos = np.flatnonzero((self.y == t) & (self.pred == p))
        return pos[np.argsort(-self.probs[pos, p], kind="stable")]

    def class_index(self, c) -> int:
        if isinstance(c, str):
            if c not in self.classes:
                raise ValueError(
                    f"class {c!r} is not one of {self.name!r}'s classes {self.classes}"
                )
            return self.classes.index(c)
        if not 0 <= int(c) < len(self.classes):
            raise ValueError(f"class index {c} outside 0..{len(self.classes) - 1}")
        return int(c)

    def describe(self, pos: int) -> dict:
        """What a gallery shows of one image: labels, confidence, and (SynthFER) crowd votes and
        demographics."""
        out = {
            "true": self.classes[self.y[pos]], "label_name": self.label_name,
            "pred": self.classes[self.pred[pos]],
            "confidence": float(self.probs[pos].max()),
        }
        if self.dataset is not None and self.rows is not None:
            rec = self.dataset.records.iloc[int(self.rows[pos])]
            votes = {c[6:]: int(rec[c]) for c in rec.index if c.startswith("votes_") and rec[c] > 0}
            if votes:
                out["votes"] = dict(sorted(votes.items(), key=lambda kv: -kv[1]))
            for c in DEMOGRAPHICS:
                if c in rec.index and isinstance(rec[c], (str, int, np.integer)) and rec[c] != "":
                    out[c] = rec[c].item() if hasattr(rec[c], "item") else rec[c]
        return out

    def image(self, pos: int, size: int = 64) -> np.ndarray | None:
        if self.dataset is None or self.rows is None:
            return None
        from fernb.data.store import record_image

        return record_image(self.dataset, int(self.rows[pos]), size=size)

    def largest_confusions(self, n: int = 3) -> list:
        """The ``n`` off-diagonal cells with the most images, as (true, pred, count) index triples."""
        cm = self.confusion.copy()
        np.fill_diagonal(cm, 0)
        order = np.argsort(-cm, axis=None, kind="stable")[:n]
        return [
            (int(i // cm.shape[1]), int(i % cm.shape[1]), int(cm.flat[i]))
            for i in order
            if cm.flat[i] > 0
        ]
