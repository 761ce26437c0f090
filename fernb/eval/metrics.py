"""Classification metrics, from scikit-learn where it has them."""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.metrics import accuracy_score, balanced_accuracy_score, confusion_matrix, f1_score, recall_score

from fernb.labels import EXPRESSIONS, category_key


def mean_nll(probs: np.ndarray, y: np.ndarray) -> float:
    """Mean negative log-likelihood of the labels under predicted probabilities (log loss), floored at 1e-12."""
    if len(y) == 0:
        return float("nan")
    return float(-np.log(np.clip(probs[np.arange(len(y)), y], 1e-12, None)).mean())


def expected_calibration_error(probs: np.ndarray, y: np.ndarray, bins: int = 15) -> float:
    """ECE with equal-width confidence bins (Guo et al., 2017)."""
    conf = probs.max(1)
    correct = probs.argmax(1) == y
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1]), 0, bins - 1)
    ece = 0.0
    for b in range(bins):
        m = which == b
        if m.any():
            ece += m.mean() * abs(correct[m].mean() - conf[m].mean())
    return float(ece)


def _name(k: int, class_names=None) -> str:
    names = list(class_names) if class_names is not None else list(EXPRESSIONS)
    return str(names[k]) if k < len(names) else str(k)


def classification_report(y: np.ndarray, probs: np.ndarray, groups: dict | None = None,
                          num_classes: int = len(EXPRESSIONS), class_names=None) -> dict:
    """Accuracy, mean per-class accuracy, macro-F1, ECE, confusion matrix and accuracy per group.

    ``class_names`` name the class indices (default: the canonical expressions; a six-class view passes its own).

    ``groups`` maps a column name (e.g. ``age_group``) to one value per sample; the report gives accuracy per value,
    which none of the four papers reports but InFER++ and SynthFER make possible.
    """
    y = np.asarray(y)
    pred = probs.argmax(1)
    labels = list(range(num_classes))
    cm = confusion_matrix(y, pred, labels=labels)
    # per-class accuracy is per-class recall; a class absent from y gets NaN (reported as None)
    per_class = recall_score(y, pred, labels=labels, average=None, zero_division=np.nan)
    with warnings.catch_warnings():  # predictions of classes absent from y are not an error here
        warnings.filterwarnings("ignore", message="y_pred contains classes not in y_true", category=UserWarning)
        balanced = balanced_accuracy_score(y, pred)
    out = {
        "n": int(len(y)),
        "accuracy": float(accuracy_score(y, pred)),
        "mean_class_accuracy": float(balanced),
        "macro_f1": float(f1_score(y, pred, labels=labels, average="macro", zero_division=0)),
        "ece": expected_calibration_error(probs, y),
        "log_loss": mean_nll(probs, y),
        "per_class_accuracy": {_name(k, class_names): (None if np.isnan(v) else float(v))
                               for k, v in enumerate(per_class)},
        "confusion_matrix": cm.tolist(),
    }
    for col, values in (groups or {}).items():
        values = np.asarray(values)
        order = sorted(set(values.tolist()), key=category_key)  # age groups youngest first
        out[f"accuracy_by_{col}"] = {str(v): float((pred[values == v] == y[values == v]).mean()) for v in order}
    return out


def confusion_rates(cm) -> np.ndarray:
    """A confusion matrix (rows: true class) as rates: each row divided by its true class's count, so cell (t, p)
    is the share of class t's faces read as p and a rare class weighs as much as a common one; a class with no
    true samples keeps a row of zeros."""
    cm = np.asarray(cm, dtype=np.float64)
    return cm / np.maximum(cm.sum(-1, keepdims=True), 1)


def confusion_report(cm, class_names) -> dict:
    """Accuracy, mean per-class recall and per-class recall from a confusion matrix (rows: true class), through
    :func:`classification_report`'s scikit-learn metrics; a class with no true samples has recall ``nan``."""
    cm = np.asarray(cm, dtype=np.int64)
    k = cm.shape[0]
    true, pred = np.divmod(np.repeat(np.arange(k * k), cm.ravel()), k)
    rep = classification_report(true, np.eye(k)[pred], num_classes=k, class_names=class_names)
    recall = [np.nan if v is None else v for v in rep["per_class_accuracy"].values()]
    return {"n": rep["n"], "accuracy": rep["accuracy"] if rep["n"] else 0.0,
            "mean_class_recall": float(np.nanmean(recall)) if rep["n"] else float("nan"),
            "recall": dict(zip(class_names, recall))}


def beyond_noise(table):
    """For each column of a per-seed table (one row per seed; ``mean``/``sd`` rows are dropped): the mean over
    seeds, its standard error, and whether the mean lies more than two standard errors from zero (a rough test with
    few seeds: it flags effects clearly larger than the run-to-run variation, and says nothing of smaller ones)."""
    import pandas as pd

    per_seed = table.drop(index=["mean", "sd"], errors="ignore").astype(float)
    n = per_seed.notna().sum()
    mean, se = per_seed.mean(), per_seed.std(ddof=1) / np.sqrt(n)
    return pd.DataFrame({"mean": mean, "standard error": se, "seeds": n,
                         "beyond noise": (mean.abs() > 2 * se) & (n > 1)})


MIN_CLASSES_PREDICTED, MIN_MARGIN_OVER_MAJORITY = 3, 0.02
"""A run is informative when its test predictions fall on at least three classes and its accuracy beats always
answering the commonest test class by more than two points: below that, its accuracy measures the class prior."""


def informative(confusion) -> dict:
    """Whether the run behind a test confusion matrix (rows: labels, columns: predictions) learned something:
    ``informative``, ``classes predicted``, ``accuracy``, ``majority share`` and, when it did not, the ``reason``
    in words."""
    cm = np.asarray(confusion, dtype=np.float64)
    n = cm.sum()
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1] or n <= 0:
        raise ValueError(f"informative() needs a square confusion matrix with counts, got shape {cm.shape}")
    predicted = int((cm.sum(0) > 0).sum())
    accuracy, majority = float(np.trace(cm) / n), float(cm.sum(1).max() / n)
    reasons = []
    if predicted < MIN_CLASSES_PREDICTED:
        reasons.append(f"predicts {predicted} class{'es' if predicted != 1 else ''}")
    if accuracy <= majority + MIN_MARGIN_OVER_MAJORITY:
        where = ("below" if accuracy < majority else
                 f"within {100 * MIN_MARGIN_OVER_MAJORITY:.0f} points of")
        reasons.append(f"accuracy {100 * accuracy:.1f} % is {where} the commonest class's share "
                       f"({100 * majority:.1f} %)")
    return {"informative": not reasons, "classes predicted": predicted, "accuracy": accuracy,
            "majority share": majority, "reason": "; ".join(reasons)}
