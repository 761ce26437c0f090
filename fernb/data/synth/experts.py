"""Simulated people around the crowd, beside the simulator they draw from: the expert panel that re-annotates the
images Alg. 2 selects, and the assessment funnel that chose InFER++'s annotators (InFER++ §III-B, §III-C).
The annotation library (:mod:`fernb.annotate`) works on any votes and knows nothing of these."""

from __future__ import annotations

import numpy as np

from fernb.annotate.aggregators import labels_from
from fernb.data.synth import crowd


def expert_labels(rng: np.random.Generator, true_label: np.ndarray, clarity: np.ndarray, n_experts: int = 5,
                  expert_alpha: float = 4.0) -> np.ndarray:
    """Simulated expert panel (InFER++ §III-C: "five expert annotators from the core team").

    Each expert votes under the same GLAD model as the crowd (SynthFER's annotator model) but with reliability
    ``expert_alpha`` and around the expression the face was drawn with, which experts can read where the crowd saw
    the confusable class; the panel's plurality is the new label (ties broken at random).
    """
    beta = crowd.inverse_difficulty(np.asarray(clarity))
    alpha = np.full(n_experts, expert_alpha, dtype=np.float32)
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
