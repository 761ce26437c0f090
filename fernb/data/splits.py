"""The per-expression hold-out split, one place for SynthFER generation, the real-dataset adapters without an official
split (ExpW, InFER++) and the construction pipeline: InFER++ §III-F splits 80/20 per expression."""

from __future__ import annotations

import numpy as np


def stratified_split(labels: np.ndarray, test_share: float, seed: int | None = None, groups: np.ndarray | None = None,
                     rng: np.random.Generator | None = None, min_test: int = 0) -> np.ndarray:
    """``"train"``/``"test"`` per item: a ``test_share`` of every class held out, at least ``min_test`` per class
    present. Deterministic from ``seed`` (or drawn from ``rng``, continuing a caller's stream). With ``groups``, every
    member of a group (e.g. faces of one photograph) lands on the same side, the group taking its first member's
    class."""
    if not 0 <= test_share < 1:
        raise ValueError(f"test_share must be in [0, 1), got {test_share!r}")
    labels = np.asarray(labels)
    if groups is None:
        groups = np.arange(len(labels))
    uniq, first, inverse = np.unique(np.asarray(groups).astype(str), return_index=True, return_inverse=True)
    glabel = labels[first]
    rng = np.random.default_rng(seed) if rng is None else rng
    test_group = np.zeros(len(uniq), bool)
    for c in np.unique(glabel):
        members = np.flatnonzero(glabel == c)
        members = members[rng.permutation(len(members))]
        test_group[members[:max(min_test, int(round(test_share * len(members))))]] = True
    return np.where(test_group[inverse], "test", "train")
