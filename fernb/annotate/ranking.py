"""InFER++ Algorithm 2: rank images by how noisy their label looks, re-annotate the top k with experts, merge.

A network trained with the ELR (+ SCE) objective on the aggregated labels (the trainer, ``loss="elr_sce"``) scores
every image by the cross-entropy of its prediction against its label (Alg. 2, lines 4–7); the ``k`` highest losses
(the budget: InFER++ re-annotated 6,754) go to a panel of experts, whose majority replaces the label.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from fernb.data.synth import crowd


def label_losses(model: torch.nn.Module, images: np.ndarray, labels: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Per-image cross-entropy of ``model`` against ``labels`` (Alg. 2, line 4: criterion2 = CE), in eval mode."""
    labels = np.asarray(labels)
    if len(images) != len(labels):
        raise ValueError(f"{len(images)} images but {len(labels)} labels")
    logits = _logits(model, images, batch_size)
    return F.cross_entropy(logits, torch.from_numpy(labels).long(), reduction="none").numpy()


def _logits(model: torch.nn.Module, images: np.ndarray, batch_size: int = 256) -> torch.Tensor:
    model = model.eval()
    with torch.no_grad():
        return torch.cat([model(torch.from_numpy(images[i:i + batch_size])) for i in range(0, len(images), batch_size)]).float()


def score_records(run, labels: np.ndarray, data_root=None) -> tuple[np.ndarray, np.ndarray]:
    """Alg. 2, lines 4–7 over every record of a run's dataset (train and test): each image's cross-entropy against
    ``labels`` and the model's class probabilities, in record order. The test split's are out-of-sample."""
    from fernb.data import load_dataset
    from fernb.train import split_arrays

    cfg = run.config
    ds = load_dataset(cfg.dataset, data_root, profile=cfg.profile, seed=cfg.data_seed, progress=False)
    labels = np.asarray(labels)
    model = run.load_model()
    losses, probs = np.empty(len(ds.records)), np.empty((len(ds.records), 7))
    for split in ("train", "test"):
        rows = ds.split(split)
        logits = _logits(model, split_arrays(cfg, split, data_root)[0])
        losses[rows] = F.cross_entropy(logits, torch.from_numpy(labels[rows]).long(), reduction="none").numpy()
        probs[rows] = logits.softmax(1).numpy()
    return losses, probs


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


def expert_labels(rng: np.random.Generator, true_label: np.ndarray, clarity: np.ndarray, n_experts: int = 5,
                  expert_alpha: float = 4.0) -> np.ndarray:
    """Simulated expert panel (InFER++ §III-C: "five expert annotators from the core team").

    Each expert votes under the same GLAD model as the crowd (SynthFER's annotator model) but with reliability
    ``expert_alpha`` and around the expression the face was drawn with, which experts can read where the crowd saw
    the confusable class; the panel's plurality is the new label (ties broken at random).
    """
    beta = crowd.inverse_difficulty(np.asarray(clarity))
    alpha = np.full(n_experts, expert_alpha, dtype=np.float32)
    from fernb.annotate.aggregators import labels_from

    img, _, vote = crowd.simulate_votes(rng, np.asarray(true_label), beta, alpha, n_experts)
    return labels_from(crowd.vote_counts(img, vote, len(true_label)).astype(float), rng)


def assessment_funnel(rng: np.random.Generator, n_candidates: int = 50, n_keep: int = 30, n_items: int = 1500):
    """InFER++ §III-B: trained candidates label an assessment set with known answers; the most accurate are kept.

    Candidates' reliabilities come from SynthFER's annotator mixture (careful, sloppy, near-random); every candidate
    labels all ``n_items`` assessment images (their difficulty drawn as SynthFER's). Returns one row per candidate:
    ``alpha`` (simulated), ``accuracy`` on the assessment, ``kept``.
    """
    import pandas as pd

    if not 1 <= n_keep <= n_candidates:
        raise ValueError(f"n_keep={n_keep} must be between 1 and n_candidates={n_candidates}")
    alpha = crowd.sample_annotators(rng, n_candidates)
    truth = rng.integers(0, 7, n_items)
    beta = crowd.inverse_difficulty(rng.beta(2.0, 1.2, n_items))
    img, ann, vote = crowd.simulate_votes(rng, truth, beta, alpha, n_candidates)
    accuracy = np.bincount(ann, weights=(vote == truth[img]), minlength=n_candidates) / n_items
    kept = np.zeros(n_candidates, bool)
    kept[np.argsort(-accuracy, kind="stable")[:n_keep]] = True
    return pd.DataFrame({"candidate": np.arange(n_candidates), "alpha": alpha, "accuracy": accuracy, "kept": kept})
