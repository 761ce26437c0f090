"""Training objectives. Every loss is called as ``loss(logits, target, rows)``: ``rows`` are the samples' store
indices, which only losses with per-sample state (ELR) use.

So far: cross-entropy (class weights, label smoothing), symmetric cross-entropy, and ELR + SCE, LiteXpressionNet's
objective and the training criterion of InFER++ Alg. 2. The other objectives of the papers (combo, KL to a teacher,
SCN, island, centre, DACL, Ad-Corre) are still to come.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class CrossEntropy(nn.Module):
    """Cross-entropy with optional class weights and label smoothing (the trainer's default)."""

    needs_rows = False

    def __init__(self, weight=None, label_smoothing: float = 0.0):
        super().__init__()
        self.register_buffer("weight", None if weight is None else torch.as_tensor(weight, dtype=torch.float32))
        self.label_smoothing = label_smoothing

    def forward(self, logits, target, rows=None):
        return F.cross_entropy(logits.float(), target, weight=self.weight, label_smoothing=self.label_smoothing)


def symmetric_cross_entropy(logits, target, alpha: float = 0.1, beta: float = 1.0, log_floor: float = -4.0,
                            weight=None):
    """Symmetric cross-entropy (Wang et al., ICCV 2019): α·CE(q, p) + β·RCE, with RCE = −Σ_k p_k log q_k where the
    one-hot label q has log 0 replaced by ``log_floor`` (their A = −4), i.e. RCE = −A·(1 − p_y)."""
    logits = logits.float()
    ce = F.cross_entropy(logits, target, weight=weight, reduction="none")
    p = logits.softmax(1)
    p_y = p.gather(1, target[:, None]).squeeze(1)
    rce = -log_floor * (1 - p_y)
    if weight is not None:
        rce = rce * weight[target]
    return (alpha * ce + beta * rce).mean()


class SymmetricCrossEntropy(nn.Module):
    needs_rows = False

    def __init__(self, alpha: float = 0.1, beta: float = 1.0, log_floor: float = -4.0, weight=None):
        super().__init__()
        self.alpha, self.beta, self.log_floor = alpha, beta, log_floor
        self.register_buffer("weight", None if weight is None else torch.as_tensor(weight, dtype=torch.float32))

    def forward(self, logits, target, rows=None):
        return symmetric_cross_entropy(logits, target, self.alpha, self.beta, self.log_floor, self.weight)


class ELR(nn.Module):
    """Early-learning regularisation (Liu et al., NeurIPS 2020) on top of SCE, InFER++ §IV:

        L = L_SCE + λ/n Σ_i log(1 − ⟨p_i, t_i⟩),      t_i ← β t_i + (1 − β) p_i   (p detached, renormalised)

    ``t`` is a per-sample target memory over the whole training set (``n_samples`` rows, indexed by store row),
    so it is a buffer saved with the trainer's checkpoint and an interrupted run resumes exactly. ``base="ce"``
    gives the original ELR; ``base="sce"`` (default) LiteXpressionNet's ELR + SCE.
    """

    needs_rows = True

    def __init__(self, n_samples: int, num_classes: int = 7, beta: float = 0.7, lam: float = 3.0, base: str = "sce",
                 sce_alpha: float = 0.1, sce_beta: float = 1.0, weight=None):
        super().__init__()
        if not 0 <= beta < 1:
            raise ValueError(f"ELR beta (target momentum) must be in [0, 1), got {beta}")
        if base not in ("sce", "ce"):
            raise ValueError(f"ELR base must be 'sce' or 'ce', got {base!r}")
        self.beta, self.lam, self.base, self.sce_alpha, self.sce_beta = beta, lam, base, sce_alpha, sce_beta
        self.register_buffer("targets", torch.zeros(n_samples, num_classes))
        self.register_buffer("weight", None if weight is None else torch.as_tensor(weight, dtype=torch.float32))

    def forward(self, logits, target, rows):
        if rows is None:
            raise ValueError("ELR needs each sample's row index (the trainer passes it when loss.needs_rows)")
        logits = logits.float()
        p = logits.softmax(1).clamp(1e-4, 1 - 1e-4)
        with torch.no_grad():
            q = p.detach() / p.detach().sum(1, keepdim=True)
            self.targets[rows] = self.beta * self.targets[rows] + (1 - self.beta) * q
        if self.base == "sce":
            base = symmetric_cross_entropy(logits, target, self.sce_alpha, self.sce_beta, weight=self.weight)
        else:
            base = F.cross_entropy(logits, target, weight=self.weight)
        reg = torch.log(1 - (self.targets[rows] * p).sum(1)).mean()
        return base + self.lam * reg


LOSSES = ("ce", "sce", "elr", "elr_sce")


def build_loss(name: str, n_samples: int, num_classes: int, weight=None, label_smoothing: float = 0.0, **kw) -> nn.Module:
    """The loss a ``TrainConfig`` names (``loss``, ``loss_kwargs``)."""
    if name == "ce":
        return CrossEntropy(weight, label_smoothing, **kw)
    if name == "sce":
        return SymmetricCrossEntropy(weight=weight, **kw)
    if name in ("elr", "elr_sce"):
        return ELR(n_samples, num_classes, base="ce" if name == "elr" else "sce", weight=weight, **kw)
    raise ValueError(f"unknown loss {name!r}; choose one of {LOSSES}")
