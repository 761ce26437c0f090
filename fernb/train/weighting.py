"""Class weighting for imbalanced FER datasets, as the BTFER benchmark defines it (BTFER §III-E, Figs. 4-9), and the
one way every objective's base loss reduces class-weighted per-sample losses over a batch (:func:`weighted_mean`).

The normalisation is PyTorch's ``F.cross_entropy(weight=...)`` reduction: Σ w_{y_i} ℓ_i / Σ w_{y_i}. Its size then
does not depend on the weights' scale (``simple`` weights of RAF-DB average about 2.7 over its training images), so
the weights move the balance between classes and never the step size, nor a weighted label term's balance against
an unweighted regulariser (ELR's). Keras, which BTFER trains with, divides by the batch size instead (Σ w ℓ / B);
under Adam the two differ only by the batch's factor B / Σ w.
"""

from __future__ import annotations

import numpy as np
import torch

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


def weighted_mean(values: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None) -> torch.Tensor:
    """Per-sample losses ``values`` (B,) reduced with the class weight of each sample's label ``target``:
    Σ w_{y_i} v_i / Σ w_{y_i} (the plain mean without weights), the reduction of ``F.cross_entropy(weight=...)`` and of
    every base loss here. A batch whose labels all weigh 0 gives 0."""
    if weight is None:
        return values.mean()
    w = weight.to(values.dtype)[target]
    return (w * values).sum() / w.sum().clamp_min(torch.finfo(values.dtype).tiny)
