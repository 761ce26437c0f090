"""Objectives against hand computations on tiny tensors, and ELR's per-sample state through a resumed run."""

import math

import numpy as np
import pytest
import torch

from fernb.train import TrainConfig, fit
from fernb.train.losses import ELR, CrossEntropy, build_loss, symmetric_cross_entropy


def test_symmetric_cross_entropy_by_hand():
    logits = torch.tensor([[2.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    y = torch.tensor([0, 2])
    p = torch.softmax(logits, 1)
    ce = [-math.log(p[0, 0]), -math.log(p[1, 2])]
    rce = [4 * (1 - p[0, 0]), 4 * (1 - p[1, 2])]  # -Σ_k p_k log q_k with log 0 := -4
    want = np.mean([0.1 * c + 1.0 * r for c, r in zip(ce, rce)])
    assert float(symmetric_cross_entropy(logits, y)) == pytest.approx(float(want), rel=1e-6)


def test_elr_targets_and_value_by_hand():
    loss = ELR(n_samples=4, num_classes=3, beta=0.5, lam=2.0, base="ce")
    logits = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 3.0]], requires_grad=True)
    y, rows = torch.tensor([0, 1]), torch.tensor([3, 1])
    value = loss(logits, y, rows)
    p = torch.softmax(logits.detach(), 1)
    np.testing.assert_allclose(loss.targets[[3, 1]].numpy(), 0.5 * p.numpy(), rtol=1e-5)  # t = β·0 + (1-β)·p
    assert loss.targets[[0, 2]].abs().sum() == 0  # rows not in the batch keep their memory
    ce = torch.nn.functional.cross_entropy(logits.detach(), y)
    reg = torch.log(1 - (0.5 * p * p).sum(1)).mean()
    assert float(value.detach()) == pytest.approx(float(ce + 2.0 * reg), rel=1e-5)
    value.backward()
    assert torch.isfinite(logits.grad).all()
    with pytest.raises(ValueError, match="row index"):
        loss(logits, y, None)


def test_build_loss_names():
    assert isinstance(build_loss("ce", 10, 7), CrossEntropy)
    assert build_loss("elr_sce", 10, 7).base == "sce"
    with pytest.raises(ValueError, match="unknown loss 'elr2'"):
        build_loss("elr2", 10, 7)
    with pytest.raises(ValueError, match="TrainConfig.loss="):
        TrainConfig(loss="focal")
    with pytest.raises(ValueError, match="beta"):
        ELR(10, beta=1.0)


def test_elr_run_resumes_to_identical_weights_and_labels_override(smoke_raf, tmp_path):
    cfg = dict(model="tiny_cnn", dataset="synth-raf", profile="smoke", img_size=32, batch_size=32, epochs=2,
               loss="elr_sce", loss_kwargs={"lam": 3.0, "beta": 0.7})
    whole = fit(cfg, runs_root=tmp_path / "a", progress=False)
    with pytest.raises(KeyboardInterrupt):
        fit(cfg, runs_root=tmp_path / "b", progress=False, stop_after_epoch=1)
    resumed = fit(cfg, runs_root=tmp_path / "b", progress=False)
    a = torch.load(whole.dir / "model.pt", weights_only=True)
    b = torch.load(resumed.dir / "model.pt", weights_only=True)
    assert all(torch.equal(a[k], b[k]) for k in a)
    # other labels: another run folder, stored beside it; bad labels are named
    flipped = (smoke_raf.records["label"].to_numpy() + 1) % 7
    other = fit({**cfg, "epochs": 1}, runs_root=tmp_path / "a", progress=False, labels=flipped)
    assert other.dir != whole.dir and np.array_equal(np.load(other.dir / "labels.npy"), flipped)
    with pytest.raises(ValueError, match="labels= at record 0 is 9"):
        fit(cfg, runs_root=tmp_path / "a", progress=False, labels=np.full(len(flipped), 9))
