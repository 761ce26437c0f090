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
    from fernb.train import StopAfterEpoch

    cfg = dict(model="tiny_cnn", dataset="synth-raf", profile="smoke", img_size=32, batch_size=32, epochs=2,
               loss="elr_sce", loss_kwargs={"lam": 3.0, "beta": 0.7}, sam_rho=0.05, freeze_epochs=1)
    whole = fit(cfg, runs_root=tmp_path / "a", progress=False)
    for stop in (1, 2):  # killed in stage 1 and in stage 2 of SAM + ELR + two-stage fine-tuning
        with pytest.raises(KeyboardInterrupt):
            fit(cfg, runs_root=tmp_path / "b", progress=False, callbacks=[StopAfterEpoch(stop)])
    resumed = fit(cfg, runs_root=tmp_path / "b", progress=False)
    a = torch.load(whole.dir / "model.pt", weights_only=True)
    b = torch.load(resumed.dir / "model.pt", weights_only=True)
    assert all(torch.equal(a[k], b[k]) for k in a)
    # a collapse is visible in the history: the commonest predicted class's share, the label and ELR terms
    for h in whole.history:
        assert 0 < h["top_class_share"] <= 1 and h["label_term"] > 0 and h["elr_term"] <= 0
    assert [h["elr_term"] for h in resumed.history] == pytest.approx([h["elr_term"] for h in whole.history])
    # other labels: another run folder, stored beside it; bad labels are named
    flipped = (smoke_raf.records["label"].to_numpy() + 1) % 7
    other = fit({**cfg, "epochs": 1}, runs_root=tmp_path / "a", progress=False, labels=flipped)
    assert other.dir != whole.dir and np.array_equal(np.load(other.dir / "labels.npy"), flipped)
    # the relabelled run is scored against its own labels, and rebuilds them
    assert np.array_equal(other.labels(), flipped) and other.data.labels_sha
    test = other.split("test")
    assert np.array_equal(np.concatenate([y.numpy() for _, y in other.loader("test")]), flipped[test])
    probs = other.test_probs
    assert other.metrics["accuracy"] == pytest.approx(float((probs.argmax(1) == flipped[test]).mean()))
    with pytest.raises(ValueError, match="labels= at record 0 is 9"):
        fit(cfg, runs_root=tmp_path / "a", progress=False, labels=np.full(len(flipped), 9))


# ---- the papers' other objectives, each against a hand computation ------------------------------------------------

from fernb.train.losses import (SCN, AdCorre, CenterLoss, Combo, IslandLoss, SparseCenterLoss, TeacherKL,  # noqa: E402
                                combo_loss, load_teacher)


def test_combo_loss_by_hand():
    logits = torch.tensor([[1.0, 0.0], [0.0, 2.0], [0.5, 0.5]])
    y = torch.tensor([0, 1, 1])
    p = torch.softmax(logits, 1).numpy()
    t = np.eye(2)[y.numpy()]
    a, b, eps = 0.5, 0.2, 1.0
    mbce = -np.mean(b * t * np.log(p) + (1 - b) * (1 - t) * np.log(1 - p))
    dice = np.mean([(2 * (p[:, k] * t[:, k]).sum() + eps) / (p[:, k].sum() + t[:, k].sum() + eps) for k in range(2)])
    assert float(combo_loss(logits, y, a, b, eps)) == pytest.approx(a * mbce + (1 - a) * (1 - dice), rel=1e-5)
    # soft targets give the same value as their one-hot rows
    assert float(combo_loss(logits, torch.from_numpy(t))) == pytest.approx(float(combo_loss(logits, y)), rel=1e-6)
    with pytest.raises(ValueError, match="alpha and beta"):
        Combo(alpha=1.5)


def test_teacher_kl_by_hand(tmp_path):
    d = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [1 / 3, 1 / 3, 1 / 3]], np.float32)
    loss = TeacherKL(d, n_samples=3, num_classes=3, lam=2.0, temperature=2.0, base="ce")
    logits = torch.tensor([[2.0, 0.0, 1.0], [0.0, 0.0, 0.0]])
    y, rows = torch.tensor([0, 2]), torch.tensor([0, 1])
    q = torch.softmax(logits / 2, 1).numpy()
    kl = np.mean([(d[r] * np.log(d[r] / q[i])).sum() for i, r in enumerate([0, 1])])
    ce = float(torch.nn.functional.cross_entropy(logits, y))
    assert float(loss(logits, y, rows)) == pytest.approx(ce + 2.0 * 4 * kl, rel=1e-5)
    np.save(tmp_path / "t.npy", d)
    assert load_teacher(tmp_path / "t.npy", 3, 3).shape == (3, 3)
    with pytest.raises(ValueError, match=r"shape \(3, 3\); expected \(4, 3\)"):
        load_teacher(tmp_path / "t.npy", 4, 3)
    np.save(tmp_path / "bad.npy", d * 2)
    with pytest.raises(ValueError, match="row 0 is not a probability distribution"):
        load_teacher(tmp_path / "bad.npy", 3, 3)
    with pytest.raises(ValueError, match="do not exist"):
        load_teacher(tmp_path / "none.npy", 3, 3)


def test_scn_rank_regularisation_and_relabelling_by_hand():
    loss = SCN(n_samples=10, high_ratio=0.5, margin=0.15, gamma=0.5, relabel_margin=0.2, relabel_epoch=2)
    alpha = torch.tensor([0.9, 0.5, 0.52, 0.8])  # high group {0, 3}: mean .85; low {1, 2}: mean .51
    logits = torch.tensor([[3.0, 0.0], [0.0, 4.0], [0.0, 0.1], [1.0, 0.0]])
    y, rows = torch.tensor([0, 0, 0, 0]), torch.tensor([5, 6, 7, 8])
    out = {"logits": logits, "attention": alpha}
    wce = float(torch.nn.functional.cross_entropy(logits, y))
    rr = max(0.0, 0.15 - (0.85 - 0.51))  # = 0: the groups are already 0.34 apart
    loss.set_epoch(0)
    assert float(loss(out, y, rows)) == pytest.approx(0.5 * rr + 0.5 * wce, rel=1e-5)
    assert (loss.relabels == -1).all()  # no relabelling before the 2nd epoch (epoch index 1; SCN counts from 1)
    close = {"logits": logits, "attention": torch.tensor([0.6, 0.5, 0.52, 0.55])}  # groups 0.575 vs 0.51
    assert float(loss(close, y, rows)) == pytest.approx(0.5 * (0.15 - 0.065) + 0.5 * wce, rel=1e-4)
    loss.set_epoch(1)
    loss(out, y, rows)
    # low group: sample 1 (p1 ≈ .98 vs its label's .02: relabelled to 1); sample 2 (margin .05 < .2: kept)
    assert loss.relabels.tolist() == [-1] * 6 + [1] + [-1] * 3
    assert loss.effective_targets(y, rows).tolist() == [0, 1, 0, 0]


def test_center_island_and_sparse_center_by_hand():
    emb = torch.tensor([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    logits = torch.zeros(3, 2)
    y = torch.tensor([0, 1, 0])
    out = {"logits": logits, "embedding": emb, "attention": torch.tensor([[2.0, 0.0], [1.0, 1.0], [0.0, 2.0]])}
    ce = float(np.log(2))
    c = torch.tensor([[1.0, 1.0], [0.0, 1.0]])
    center = CenterLoss(2, 2, lam=0.5)
    center.centers.data.copy_(c)
    lc = 0.5 * np.mean([1.0, 1.0, 0.0])  # ‖x_i − c_{y_i}‖²: 1, 1, 0
    assert center(out, y).item() == pytest.approx(ce + 0.5 * lc, rel=1e-6)
    island = IslandLoss(2, 2, lam=0.5, lam1=10.0)
    island.centers.data.copy_(c)
    cos = 1 / np.sqrt(2)  # between (1, 1) and (0, 1)
    assert island(out, y).item() == pytest.approx(ce + 0.5 * (lc + 10 * 2 * (cos + 1)), rel=1e-6)
    sparse = SparseCenterLoss(2, 2, lam=0.5)
    sparse.centers.data.copy_(c)
    # Σ_j a_ij (x_ij − c_j)²: [2·0 + 0·1, 1·0 + 1·1, 0·0 + 2·0] = [0, 1, 0]
    assert sparse(out, y).item() == pytest.approx(ce + 0.5 * 0.5 * np.mean([0, 1, 0]), rel=1e-6)
    with pytest.raises(ValueError, match="one attention weight per embedding dimension"):
        sparse({**out, "attention": torch.ones(3, 5)}, y)


def test_adcorre_components_by_hand():
    emb = torch.tensor([[1.0, 2.0, 3.0], [2.0, 4.0, 6.5], [3.0, 1.0, 2.0], [1.0, 3.0, 2.0]])
    y = torch.tensor([0, 0, 1, 2])
    e = emb.numpy()
    rho = np.corrcoef(e)
    same = (y.numpy()[:, None] == y.numpy()[None]).astype(float)
    off = ~np.eye(4, dtype=bool)
    fd = (same * (1 - rho) + (1 - same) * np.clip(rho, 0, None))[off].mean()
    assert float(AdCorre.feature_discriminator(emb, y)) == pytest.approx(fd, rel=1e-5)
    means = np.stack([e[:2].mean(0), e[2], e[3]])
    rm = np.corrcoef(means)
    md = np.clip(rm[~np.eye(3, dtype=bool)], 0, None).mean()
    assert float(AdCorre.mean_discriminator(emb, y)) == pytest.approx(md, rel=1e-5)
    loss = AdCorre(lam_fd=0.5, lam_md=2.0)
    out = {"logits": torch.zeros(4, 3), "embedding": emb}
    assert float(loss(out, y)) == pytest.approx(np.log(3) + 0.5 * fd + 2.0 * md, rel=1e-5)
    assert float(AdCorre.mean_discriminator(emb, torch.zeros(4, dtype=torch.long))) == 0  # one class: no pairs


def test_build_loss_rejects_unknown_keywords_and_missing_widths():
    with pytest.raises(ValueError, match=r"loss_kwargs for 'combo'.*accepted: \['alpha', 'beta', 'eps'\]"):
        build_loss("combo", 10, 7, gamma=2)
    with pytest.raises(ValueError, match="needs the model's embedding width"):
        build_loss("island", 10, 7)
    assert isinstance(build_loss("island", 10, 7, embed_dim=4), IslandLoss)
    with pytest.raises(ValueError, match="needs loss_kwargs=\\{'teacher'"):
        TrainConfig(loss="kl_teacher")


def test_teacher_only_kl_is_efficientface_soft_label_objective(tmp_path):
    """base='none': the loss is the KL to the teacher alone, so it differs from −Σ d log p by the teacher's entropy
    (EfficientFace's released main.py trains on the soft labels only) and ignores the hard label."""
    from fernb.train.losses import TeacherKL

    d = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]], np.float32)
    loss = TeacherKL(d, n_samples=2, num_classes=3, base="none")
    logits = torch.tensor([[1.0, 0.0, -1.0], [0.0, 0.5, 2.0]])
    rows = torch.tensor([0, 1])
    soft_ce = float(-(torch.from_numpy(d) * logits.log_softmax(1)).sum(1).mean())
    entropy = float(-(d * np.log(d)).sum(1).mean())
    assert float(loss(logits, torch.tensor([0, 0]), rows)) == pytest.approx(soft_ce - entropy, rel=1e-5)
    assert float(loss(logits, torch.tensor([2, 1]), rows)) == pytest.approx(soft_ce - entropy, rel=1e-5)
    with pytest.raises(ValueError, match="base 'none'.*no class weights"):
        TeacherKL(d, n_samples=2, num_classes=3, base="none", weight=[1.0, 2.0, 1.0])


def _blobs_run(loss_fn, seed: int, noise: float = 0.4, sep: float = 0.35, epochs: int = 30):
    """A small problem where cross-entropy learns: 7 overlapping Gaussian classes in 16-d, 700 points, a share
    of the labels flipped symmetrically, an MLP trained with Adam. Returns (classes predicted, true accuracy)."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(7).repeat_interleave(100)
    x = (torch.randn(7, 16, generator=g) * sep)[y] + torch.randn(700, 16, generator=g)
    noisy = y.clone()
    flip = torch.rand(700, generator=g) < noise
    noisy[flip] = (y[flip] + torch.randint(1, 7, (int(flip.sum()),), generator=g)) % 7
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(16, 64), torch.nn.ReLU(), torch.nn.Linear(64, 7))
    opt = torch.optim.Adam(net.parameters(), 3e-3)
    for epoch in range(epochs):
        loss_fn.set_epoch(epoch)
        for b in torch.randperm(700, generator=g).split(64):
            loss = loss_fn(net(x[b]), noisy[b], b)
            opt.zero_grad()
            loss.backward()
            opt.step()
    pred = net(x).argmax(1)
    return len(pred.unique()), float((pred == y).float().mean())


def test_elr_sce_defaults_do_not_collapse_where_cross_entropy_learns():
    """elr_sce's library constants predict every class under 40 % symmetric noise where CE does, and are not
    worse than CE; the published ELR (λ 3) + SCE (α 0.1) pairing collapses on the same problem."""
    from fernb.train.losses import ELR, CrossEntropy, build_loss

    default = build_loss("elr_sce", n_samples=700, num_classes=7)
    assert (default.lam, default.sce_alpha, default.sce_beta) == (0.3, 1.0, 1.0)
    assert build_loss("elr", n_samples=700, num_classes=7).lam == 3.0  # plain ELR keeps Liu et al.'s constants
    ce = [_blobs_run(CrossEntropy(), s) for s in range(3)]
    ours = [_blobs_run(build_loss("elr_sce", n_samples=700, num_classes=7), s) for s in range(3)]
    published = [_blobs_run(ELR(700, 7, lam=3.0, sce_alpha=0.1), s) for s in range(3)]
    assert all(k == 7 for k, _ in ce) and all(k == 7 for k, _ in ours)
    assert np.mean([a for _, a in ours]) >= np.mean([a for _, a in ce]) - 0.02
    assert min(k for k, _ in published) < 7 and np.mean([a for _, a in published]) < np.mean([a for _, a in ours])


def test_elr_sce_constants_are_part_of_the_run_key():
    from fernb.train import TrainConfig

    cfg = TrainConfig(loss="elr_sce")
    assert cfg.loss_kwargs == {"lam": 0.3, "sce_alpha": 1.0}
    assert cfg.key() == TrainConfig(loss="elr_sce", loss_kwargs={"lam": 0.3, "sce_alpha": 1.0}).key()
    assert cfg.key() != TrainConfig(loss="elr_sce", loss_kwargs={"lam": 3.0, "sce_alpha": 0.1}).key()
