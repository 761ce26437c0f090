"""Class weights are normalised the same way by every base loss (fernb.train.weighting.weighted_mean): the weighted
mean Σ w_y ℓ / Σ w_y of F.cross_entropy(weight=...), so the weights' scale never changes a loss's size."""

import numpy as np
import pytest
import torch

from fernb.train.losses import build_loss
from fernb.train.weighting import class_weights, weighted_mean

N, K = 12, 7


def _batch():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(N, K, generator=g) * 2
    target = torch.tensor([0, 0, 1, 3, 3, 3, 3, 4, 5, 6, 6, 2])
    return logits, target, torch.arange(N)


def _loss(name, weight, tmp_path, **kw):
    """The objective ``name`` built as the trainer builds it, evaluated on one fixed batch (a fresh one each time, so
    per-sample memories start alike)."""
    if name == "kl_teacher":
        teacher = np.full((N, K), 1.0 / K, np.float32)
        np.save(tmp_path / "teacher.npy", teacher)
        kw = {"teacher": str(tmp_path / "teacher.npy"), "base": "ce", **kw}
    logits, target, rows = _batch()
    loss = build_loss(name, N, K, weight=None if weight is None else np.asarray(weight, np.float32), **kw)
    return float(loss(logits, target, rows))


def test_weighted_mean_is_cross_entropys_reduction():
    logits, target, _ = _batch()
    w = torch.tensor(class_weights([5, 9, 2, 30, 7, 4, 6], "simple"), dtype=torch.float32)
    per_sample = torch.nn.functional.cross_entropy(logits, target, reduction="none")
    torch.testing.assert_close(weighted_mean(per_sample, target, w),
                               torch.nn.functional.cross_entropy(logits, target, weight=w))
    torch.testing.assert_close(weighted_mean(per_sample, target, None), per_sample.mean())
    zero = torch.zeros(K)
    assert float(weighted_mean(per_sample, target, zero)) == 0.0  # no labelled weight: 0, not NaN


@pytest.mark.parametrize("name", ["ce", "sce", "elr", "elr_sce", "kl_teacher"])
def test_every_base_loss_normalises_class_weights_alike(name, tmp_path):
    """Scaling every class weight by one factor leaves each loss as it was, and uniform weights give the unweighted
    loss: the weights shift the balance between classes, never the loss's size (nor a weighted label term against an
    unweighted regulariser, ELR's)."""
    w = class_weights([5, 9, 2, 30, 7, 4, 6], "simple")
    assert _loss(name, 3.0 * w, tmp_path) == pytest.approx(_loss(name, w, tmp_path), rel=1e-5)
    assert _loss(name, np.full(K, 2.5), tmp_path) == pytest.approx(_loss(name, None, tmp_path), rel=1e-5)
    assert _loss(name, w, tmp_path) != pytest.approx(_loss(name, None, tmp_path), rel=1e-3)  # the weights do act
