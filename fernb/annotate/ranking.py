"""InFER++ Algorithm 2: rank images by how noisy their label looks, re-annotate the top k with experts, merge.

A network trained with the ELR (+ SCE) objective on the aggregated labels (the trainer, ``loss="elr_sce"``) scores
every image by the cross-entropy of its prediction against its label (Alg. 2, lines 4–7); the ``k`` highest losses
(the budget: InFER++ re-annotated 6,754) go to a panel of experts, whose majority replaces the label.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F



def label_losses(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per-image cross-entropy of ``logits`` against ``labels`` (Alg. 2, line 4: criterion2 = CE)."""
    labels = np.asarray(labels)
    if len(logits) != len(labels):
        raise ValueError(f"{len(logits)} rows of logits but {len(labels)} labels")
    z, y = torch.tensor(np.asarray(logits), dtype=torch.float32), torch.tensor(labels, dtype=torch.long)
    return F.cross_entropy(z, y, reduction="none").numpy()


def score_records(run, labels: np.ndarray | None = None, rows=None) -> tuple[np.ndarray, np.ndarray]:
    """Alg. 2, lines 4–7 over the records ``rows`` of a run's dataset (default: every record, every split, any
    class count): each image's cross-entropy against its label in ``labels`` (one per record; default: the labels
    the run trained on) and the model's class probabilities, in ``rows`` order. The test split's are
    out-of-sample."""
    n = len(run.dataset().records)
    labels = run.labels() if labels is None else np.asarray(labels)
    if labels.shape != (n,):
        raise ValueError(f"labels must hold one label per record of {run.config.dataset!r} ({n}), got {labels.shape}")
    rows = np.arange(n) if rows is None else np.asarray(rows)
    logits = run.predict(rows, logits=True)
    probs = torch.from_numpy(logits).softmax(1).numpy()
    return label_losses(logits, labels[rows]), probs


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` highest scores, highest first (Alg. 2, line 8: sort, select top k by budget)."""
    scores = np.asarray(scores)
    if not 0 <= k <= len(scores):
        raise ValueError(f"budget k={k} must be between 0 and the number of images ({len(scores)})")
    return np.argsort(-scores, kind="stable")[:k]


def precision_recall_at_k(selected: np.ndarray, wrong: np.ndarray) -> tuple[float, float]:
    """Share of the selected images whose label is wrong (precision@k), and share of all wrong labels selected."""
    wrong = np.asarray(wrong, dtype=bool)
    hits = wrong[selected].sum()
    return (float(hits / len(selected)) if len(selected) else 0.0, float(hits / wrong.sum()) if wrong.any() else 1.0)
