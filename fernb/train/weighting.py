"""Class weighting for imbalanced FER datasets, as the BTFER benchmark defines it (BTFER §III-E, Figs. 4-9)."""

from __future__ import annotations

import numpy as np

SCHEMES = ("none", "simple", "conservative")


def class_weights(counts, scheme: str = "simple", cap: float = 3.0) -> np.ndarray:
    """Per-class loss weights from training-set class counts.

    - ``simple`` (BTFER Fig. 4): ``w_c = max(n) / n_c``; the largest class gets 1.
    - ``conservative`` (BTFER Fig. 7): the same, capped at ``cap`` (3 in the paper) to limit over-fitting.
    - ``none``: all ones.
    A class with no training images gets weight 0 (it cannot contribute to the loss anyway) rather than infinity.
    """
    if scheme not in SCHEMES:
        raise ValueError(f"class weighting scheme {scheme!r} is unknown; expected one of {SCHEMES}")
    counts = np.asarray(counts, dtype=np.float64)
    if counts.ndim != 1 or (counts < 0).any() or counts.sum() == 0:
        raise ValueError(f"class counts must be a non-negative 1-D vector with some images, got {counts.tolist()}")
    if scheme == "none":
        return np.ones_like(counts)
    with np.errstate(divide="ignore"):
        w = np.where(counts > 0, counts.max() / counts, 0.0)
    return np.minimum(w, cap) if scheme == "conservative" else w
