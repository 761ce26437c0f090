"""Training objectives of the four papers and the methods they compare against.

Every objective is an :class:`Objective` called as ``loss(out, target, rows)``:

- ``out`` is the logits, or, for objectives with ``needs_aux``, the dict ``model.forward_aux(x)`` returns (``logits``,
  ``embedding`` and, for SCN and DACL, ``attention``);
- ``rows`` are the samples' store indices, which only objectives with per-sample state use (``needs_rows``: ELR's
  target memory, SCN's relabels, a teacher's label distributions).

Objectives with learnable state (the class centres of centre/island/DACL losses) expose it as parameters; the trainer
optimises them beside the model. ``update_state`` is switched off on SAM's second (perturbed) pass so per-sample
memories move once per step.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from fernb.train.weighting import weighted_mean


class Objective(nn.Module):
    needs_rows = False
    per_sample_state = False  # a memory indexed by sample that each step updates (ELR's targets, SCN's relabels)
    needs_aux = False
    aux_keys: tuple = ()  # entries of forward_aux's dict beyond the logits this objective reads
    update_state = True

    def set_epoch(self, epoch: int):
        """Called by the trainer at the start of every epoch (SCN starts relabelling at a given epoch)."""
        self.epoch = epoch


def _logits(out):
    return (out["logits"] if isinstance(out, dict) else out).float()


def _weight_buffer(module, weight):
    module.register_buffer("weight", None if weight is None else torch.as_tensor(weight, dtype=torch.float32))


class CrossEntropy(Objective):
    """Cross-entropy with optional class weights and label smoothing (the trainer's default; ResEmoteNet §III-B uses
    class-weighted CE)."""

    def __init__(self, weight=None, label_smoothing: float = 0.0):
        super().__init__()
        _weight_buffer(self, weight)
        self.label_smoothing = label_smoothing

    def forward(self, out, target, rows=None):
        return F.cross_entropy(_logits(out), target, weight=self.weight, label_smoothing=self.label_smoothing)


def symmetric_cross_entropy(logits, target, alpha: float = 0.1, beta: float = 1.0, log_floor: float = -4.0,
                            weight=None):
    """Symmetric cross-entropy (Wang et al., ICCV 2019): α·CE(q, p) + β·RCE, with RCE = −Σ_k p_k log q_k where the
    one-hot label q has log 0 replaced by ``log_floor`` (their A = −4), i.e. RCE = −A·(1 − p_y). Class weights
    reduce it as they reduce cross-entropy (:func:`fernb.train.weighting.weighted_mean`)."""
    logits = logits.float()
    ce = F.cross_entropy(logits, target, reduction="none")
    p = logits.softmax(1)
    p_y = p.gather(1, target[:, None]).squeeze(1)
    rce = -log_floor * (1 - p_y)
    return weighted_mean(alpha * ce + beta * rce, target, weight)


class SymmetricCrossEntropy(Objective):
    def __init__(self, alpha: float = 0.1, beta: float = 1.0, log_floor: float = -4.0, weight=None):
        super().__init__()
        self.alpha, self.beta, self.log_floor = alpha, beta, log_floor
        _weight_buffer(self, weight)

    def forward(self, out, target, rows=None):
        return symmetric_cross_entropy(_logits(out), target, self.alpha, self.beta, self.log_floor, self.weight)


ELR_SCE_DEFAULTS = {"lam": 0.3, "sce_alpha": 1.0}
"""LiteXpressionNet's ELR + SCE constants, which InFER++ §IV does not print. ELR's λ = 3 (Liu et al.'s CIFAR-10
value, tuned with a CE base) on SCE with α = 0.1 (Wang et al.'s CIFAR-10 value) collapses to one class: near a
one-class state SCE's bounded label term pulls with a force of about α while ELR's agreement reward pushes with
about λ/2. Measured on SynthFER (``benchmarks/elr_sce_sweep.py``, recorded in ``benchmarks/recorded/``): of
λ ∈ {0.3, 1, 3} × α ∈ {0.1, 1}, λ = 0.3 with α = 1 is the one that predicts every class on the crowd's labels over
seeds and, at a learning rate where cross-entropy leaves the class prior under 40 % symmetric noise, beats it."""


class ELR(Objective):
    """Early-learning regularisation (Liu et al., NeurIPS 2020) on top of SCE, InFER++ §IV:

        L = L_SCE + λ/n Σ_i log(1 − ⟨p_i, t_i⟩),      t_i ← β t_i + (1 − β) p_i   (p detached, renormalised)

    After each step ``terms`` holds the label term and the (negative) ELR term, which the trainer averages into the
    epoch's history beside the share of predictions on the commonest class.

    ``t`` is a per-sample target memory over the whole training set (``n_samples`` rows, indexed by store row),
    so it is a buffer saved with the trainer's checkpoint and an interrupted run resumes exactly. ``base="ce"``
    gives the original ELR (λ = 3, β = 0.7, Liu et al.'s CIFAR-10 constants); ``base="sce"`` (default)
    LiteXpressionNet's ELR + SCE with :data:`ELR_SCE_DEFAULTS` (λ = 0.3, SCE α = 1, β = 1, A = −4; the reference SCE
    code clamps log 0 at log(1e-4) ≈ −9.2 instead of A = −4, a 2.3× stronger reverse term). ``lam_warmup`` ramps
    λ over the first epochs (off by default: it did not prevent the collapse in the sweep).
    """

    needs_rows = True
    per_sample_state = True

    def __init__(self, n_samples: int, num_classes: int = 7, beta: float = 0.7, lam: float | None = None,
                 base: str = "sce", sce_alpha: float | None = None, sce_beta: float = 1.0, lam_warmup: int = 0,
                 weight=None):
        super().__init__()
        if lam is None:
            lam = ELR_SCE_DEFAULTS["lam"] if base == "sce" else 3.0
        if sce_alpha is None:
            sce_alpha = ELR_SCE_DEFAULTS["sce_alpha"]
        if not 0 <= beta < 1:
            raise ValueError(f"ELR beta (target momentum) must be in [0, 1), got {beta}")
        if base not in ("sce", "ce"):
            raise ValueError(f"ELR base must be 'sce' or 'ce', got {base!r}")
        if lam < 0 or lam_warmup < 0:
            raise ValueError(f"ELR lam and lam_warmup must be >= 0, got lam={lam}, lam_warmup={lam_warmup}")
        self.beta, self.lam, self.base, self.sce_alpha, self.sce_beta = beta, lam, base, sce_alpha, sce_beta
        self.lam_warmup, self.epoch = int(lam_warmup), 0
        self.register_buffer("targets", torch.zeros(n_samples, num_classes))
        _weight_buffer(self, weight)

    def forward(self, out, target, rows):
        if rows is None:
            raise ValueError("ELR needs each sample's row index (the trainer passes it when loss.needs_rows)")
        logits = _logits(out)
        p = logits.softmax(1).clamp(1e-4, 1 - 1e-4)
        if self.update_state:
            with torch.no_grad():
                q = p.detach() / p.detach().sum(1, keepdim=True)
                self.targets[rows] = self.beta * self.targets[rows] + (1 - self.beta) * q
        if self.base == "sce":
            base = symmetric_cross_entropy(logits, target, self.sce_alpha, self.sce_beta, weight=self.weight)
        else:
            base = F.cross_entropy(logits, target, weight=self.weight)
        reg = torch.log(1 - (self.targets[rows] * p).sum(1)).mean()
        lam = self.current_lam
        if self.update_state:  # the two terms' sizes, for the trainer's per-epoch history (a collapse shows there)
            self.terms = {"label_term": float(base.detach()), "elr_term": float(lam * reg.detach())}
        return base + lam * reg

    @property
    def current_lam(self) -> float:
        """λ of this epoch: ramped linearly over the first ``lam_warmup`` epochs (λ·(e+1)/warm-up), then λ."""
        if self.lam_warmup and self.epoch < self.lam_warmup:
            return self.lam * (self.epoch + 1) / self.lam_warmup
        return self.lam


def combo_loss(logits, target, alpha: float = 0.5, beta: float = 0.2, eps: float = 1.0):
    """Combo loss of LFER-LDL §1.4 (after Taghanaki et al. 2019), for a (B, K) batch:

        L = α·L_mbce + (1 − α)·(1 − Dice),
        L_mbce = −1/(BK) Σ_{i,k} [β t_ik log p_ik + (1 − β)(1 − t_ik) log(1 − p_ik)]   ("improved" multi-class BCE),
        Dice   = 1/K Σ_k (2 Σ_i p_ik t_ik + ε) / (Σ_i p_ik + Σ_i t_ik + ε)              (soft Dice per class).

    α balances the two terms (the paper uses 0.5); β < 0.5 penalises false positives more (0.2 was best on RAF-DB,
    0.6 on AffectNet, §2.4.1). ``target`` is class indices or (B, K) distributions; ε avoids division by zero."""
    logits = logits.float()
    p = logits.softmax(1).clamp(1e-7, 1 - 1e-7)
    t = F.one_hot(target, p.shape[1]).float() if target.ndim == 1 else target.float()
    mbce = -(beta * t * p.log() + (1 - beta) * (1 - t) * (1 - p).log()).mean()
    dice = ((2 * (p * t).sum(0) + eps) / (p.sum(0) + t.sum(0) + eps)).mean()
    return alpha * mbce + (1 - alpha) * (1 - dice)


class Combo(Objective):
    def __init__(self, alpha: float = 0.5, beta: float = 0.2, eps: float = 1.0):
        super().__init__()
        if not (0 <= alpha <= 1 and 0 <= beta <= 1):
            raise ValueError(f"combo loss alpha and beta must lie in [0, 1], got alpha={alpha}, beta={beta}")
        self.alpha, self.beta, self.eps = alpha, beta, eps

    def forward(self, out, target, rows=None):
        return combo_loss(_logits(out), target, self.alpha, self.beta, self.eps)


def load_teacher(path, n_samples: int, num_classes: int) -> np.ndarray:
    """A teacher's label distributions: an .npy of shape (records, classes), rows summing to one."""
    path = Path(path)
    if not path.exists():
        raise ValueError(f"teacher distributions {path} do not exist; make them with fernb.papers.lfer_ldl.teacher_distributions(run, path)")
    d = np.load(path)
    if d.shape != (n_samples, num_classes):
        raise ValueError(f"teacher distributions {path} have shape {d.shape}; expected ({n_samples}, {num_classes}), one row per record")
    if not np.isfinite(d).all() or (d < 0).any() or not np.allclose(d.sum(1), 1, atol=1e-3):
        bad = int(np.flatnonzero(~np.isfinite(d).all(1) | (d < 0).any(1) | ~np.isclose(d.sum(1), 1, atol=1e-3))[0])
        raise ValueError(f"teacher distributions {path}: row {bad} is not a probability distribution ({d[bad].tolist()})")
    return d.astype(np.float32)


class TeacherKL(Objective):
    """Label-distribution learning from a teacher (LFER-LDL §1.3; EfficientFace's label distribution generator):

        L = L_base(p, y) + λ · T² · KL(d_i ‖ softmax(z_i / T))

    with ``d_i`` the teacher's distribution for sample i (the true distribution, as LFER-LDL takes it) and ``L_base``
    the combo loss (LFER-LDL), cross-entropy, or nothing (``base="none"``: EfficientFace's released ``main.py``
    trains on the label distribution generator's soft labels alone, −Σ d log p, which is this KL up to a constant). ``teacher`` is an .npy of (records, classes), made by
    :func:`fernb.papers.lfer_ldl.teacher_distributions` from a trained run; the trainer adds its content hash to the run's key."""

    needs_rows = True

    def __init__(self, teacher, n_samples: int, num_classes: int, lam: float = 1.0, temperature: float = 1.0,
                 base: str = "combo", weight=None, **base_kw):
        super().__init__()
        if base not in ("combo", "ce", "none"):
            raise ValueError(f"kl_teacher base must be 'combo', 'ce' or 'none', got {base!r}")
        if base == "none" and (base_kw or (weight is not None and not np.allclose(np.asarray(weight), 1.0))):
            raise ValueError(f"kl_teacher with base 'none' learns the teacher's distributions alone: it takes no "
                             f"class weights or base options (got {sorted(base_kw) or 'class weights'})")
        if temperature <= 0:
            raise ValueError(f"kl_teacher temperature must be positive, got {temperature}")
        if base == "combo" and weight is not None and not np.allclose(np.asarray(weight, dtype=np.float64), 1.0):
            raise ValueError("class weights have no effect with kl_teacher's combo base (LFER-LDL §1.4 weights no "
                             "classes); use class_weighting='none' or loss_kwargs={'base': 'ce'}")
        if isinstance(teacher, (str, Path)):
            d = load_teacher(teacher, n_samples, num_classes)
        else:
            d = np.asarray(teacher, np.float32)
        self.register_buffer("teacher", torch.from_numpy(d))
        self.lam, self.temperature, self.base_name = lam, temperature, base
        self.base = {"combo": lambda: Combo(**base_kw), "ce": lambda: CrossEntropy(weight, **base_kw),
                     "none": lambda: None}[base]()

    def forward(self, out, target, rows):
        if rows is None:
            raise ValueError("kl_teacher needs each sample's row index (the trainer passes it when loss.needs_rows)")
        logits = _logits(out)
        t = self.temperature
        kl = F.kl_div(F.log_softmax(logits / t, 1), self.teacher[rows], reduction="batchmean")
        if self.base is None:
            return self.lam * t * t * kl
        return self.base(logits, target) + self.lam * t * t * kl


class SCN(Objective):
    """Self-Cure Network objective (Wang et al., CVPR 2020, §3; InFER++ Table 3):

    - logit-weighted CE on the α-weighted logits the ``scn`` model returns;
    - rank regularisation: the batch's importance weights α sorted, the top ``high_ratio`` (β = 0.7) form the high
      group, L_RR = max(0, δ₁ − (ᾱ_H − ᾱ_L)), δ₁ = 0.15;
    - L = γ·L_RR + (1 − γ)·L_WCE, γ = 0.5;
    - relabelling from the ``relabel_epoch``-th epoch (10, counted from 1 as SCN's released ``train.py`` does; L_RR
      + CE there, which with Adam trains as γ = 0.5 does): a low-importance sample whose top probability exceeds that of its
      label by more than δ₂ = 0.2 takes the top class; relabels persist per sample (a buffer in the checkpoint).
    """

    needs_rows = True
    per_sample_state = True
    needs_aux = True
    aux_keys = ("attention",)

    def __init__(self, n_samples: int, high_ratio: float = 0.7, margin: float = 0.15, gamma: float = 0.5,
                 relabel_margin: float = 0.2, relabel_epoch: int = 10, weight=None):
        super().__init__()
        if not 0 < high_ratio < 1:
            raise ValueError(f"SCN high_ratio must be in (0, 1), got {high_ratio}")
        self.high_ratio, self.margin, self.gamma = high_ratio, margin, gamma
        self.relabel_margin, self.relabel_epoch, self.epoch = relabel_margin, relabel_epoch, 0
        self.register_buffer("relabels", torch.full((n_samples,), -1, dtype=torch.long))
        _weight_buffer(self, weight)

    def effective_targets(self, target, rows):
        r = self.relabels[rows]
        return torch.where(r >= 0, r, target)

    def forward(self, out, target, rows):
        if rows is None:
            raise ValueError("scn needs each sample's row index (the trainer passes it when loss.needs_rows)")
        logits, alpha = _logits(out), out["attention"].float().reshape(-1)
        target = self.effective_targets(target, rows)
        wce = F.cross_entropy(logits, target, weight=self.weight)
        b = len(alpha)
        n_high = min(max(int(round(self.high_ratio * b)), 1), b - 1) if b > 1 else 0
        order = torch.argsort(alpha, descending=True)
        if n_high:
            rr = F.relu(self.margin - (alpha[order[:n_high]].mean() - alpha[order[n_high:]].mean()))
        else:
            rr = alpha.sum() * 0
        if self.update_state and self.epoch + 1 >= self.relabel_epoch and n_high:  # epochs count from 1 there
            with torch.no_grad():
                low = order[n_high:]
                p = logits[low].softmax(1)
                top, cls = p.max(1)
                given = p.gather(1, target[low, None]).squeeze(1)
                flip = top - given > self.relabel_margin
                self.relabels[rows[low[flip]]] = cls[flip]
        return self.gamma * rr + (1 - self.gamma) * wce


class CenterLoss(Objective):
    """Centre loss (Wen et al., ECCV 2016), the baseline of Island Loss (InFER++ Table 3):

        L = L_CE + λ · L_C,     L_C = 1/(2B) Σ_i ‖x_i − c_{y_i}‖²

    The centres are parameters trained by the optimiser beside the network (scaled by ``center_lr_scale`` relative
    to the model's learning rate), rather than by Wen et al.'s separate update rule."""

    needs_aux = True

    def __init__(self, num_classes: int, embed_dim: int, lam: float = 0.01, center_lr_scale: float = 1.0, weight=None):
        super().__init__()
        self.centers = nn.Parameter(torch.randn(num_classes, embed_dim) * 0.01)
        self.lam, self.center_lr_scale = lam, center_lr_scale
        _weight_buffer(self, weight)

    def center_term(self, emb, target):
        return 0.5 * ((emb - self.centers[target]) ** 2).sum(1).mean()

    def forward(self, out, target, rows=None):
        emb = out["embedding"].float().flatten(1)
        return F.cross_entropy(_logits(out), target, weight=self.weight) + self.lam * self.center_term(emb, target)


class IslandLoss(CenterLoss):
    """Island loss (Cai et al., FG 2018; InFER++ Table 3):

        L = L_CE + λ · L_IL,    L_IL = L_C + λ₁ Σ_j Σ_{k≠j} (c_k·c_j / (‖c_k‖ ‖c_j‖) + 1)

    The pairwise term pushes the class centres apart (cosine towards −1); λ₁ = 10 as in the paper."""

    def __init__(self, num_classes: int, embed_dim: int, lam: float = 0.01, lam1: float = 10.0,
                 center_lr_scale: float = 1.0, weight=None):
        super().__init__(num_classes, embed_dim, lam, center_lr_scale, weight)
        self.lam1 = lam1

    def island_term(self):
        c = F.normalize(self.centers, dim=1)
        cos = c @ c.t()
        off = ~torch.eye(len(c), dtype=torch.bool, device=c.device)
        return (cos[off] + 1).sum()

    def forward(self, out, target, rows=None):
        emb = out["embedding"].float().flatten(1)
        il = self.center_term(emb, target) + self.lam1 * self.island_term()
        return F.cross_entropy(_logits(out), target, weight=self.weight) + self.lam * il


class SparseCenterLoss(CenterLoss):
    """DACL's sparse centre loss (Farzaneh & Qi, WACV 2021, Eq. 5; InFER++ Table 3): the centre loss with each
    embedding dimension weighted by the attention the ``dacl`` model's attention network returns,

        L = L_CE + λ · 1/(2B) Σ_i Σ_j a_ij (x_ij − c_{y_i j})²"""

    aux_keys = ("attention",)

    def forward(self, out, target, rows=None):
        emb, att = out["embedding"].float().flatten(1), out["attention"].float()
        if att.shape != emb.shape:
            raise ValueError(f"sparse_center needs one attention weight per embedding dimension: attention {tuple(att.shape)} "
                             f"vs embedding {tuple(emb.shape)}")
        sc = 0.5 * (att * (emb - self.centers[target]) ** 2).sum(1).mean()
        return F.cross_entropy(_logits(out), target, weight=self.weight) + self.lam * sc


def _corr(a, b):
    """Pearson correlation between the rows of a and the rows of b."""
    a = a - a.mean(1, keepdim=True)
    b = b - b.mean(1, keepdim=True)
    return F.normalize(a, dim=1) @ F.normalize(b, dim=1).t()


class AdCorre(Objective):
    """Ad-Corre (Fard & Mahoor, IEEE Access 2022; InFER++ Table 3), our reading of its two components that apply to a
    single embedding per image (the formulas are not reproduced in the papers we hold):

    - Feature Discriminator: Pearson correlation between the batch's embeddings should be 1 within a class and at most
      0 across classes: FD = mean over pairs i≠j of [s_ij (1 − ρ_ij) + (1 − s_ij) max(ρ_ij, 0)], s_ij = [y_i = y_j];
    - Mean Discriminator: the class means present in the batch should not correlate:
      MD = mean over class pairs a≠b of max(ρ(μ_a, μ_b), 0);
    - L = L_CE + λ_FD·FD + λ_MD·MD.
    The Embedding Discriminator acts between the k embedding vectors of the paper's Xception head; our ``adcorre_*``
    models have one (k = 1), so it is left out."""

    needs_aux = True

    def __init__(self, lam_fd: float = 1.0, lam_md: float = 1.0, weight=None):
        super().__init__()
        self.lam_fd, self.lam_md = lam_fd, lam_md
        _weight_buffer(self, weight)

    @staticmethod
    def feature_discriminator(emb, target):
        rho = _corr(emb, emb)
        same = (target[:, None] == target[None]).float()
        off = ~torch.eye(len(emb), dtype=torch.bool, device=emb.device)
        per_pair = same * (1 - rho) + (1 - same) * rho.clamp(min=0)
        return per_pair[off].mean() if off.any() else emb.sum() * 0

    @staticmethod
    def mean_discriminator(emb, target):
        classes = torch.unique(target)
        if len(classes) < 2:
            return emb.sum() * 0
        means = torch.stack([emb[target == c].mean(0) for c in classes])
        rho = _corr(means, means)
        off = ~torch.eye(len(classes), dtype=torch.bool, device=emb.device)
        return rho[off].clamp(min=0).mean()

    def forward(self, out, target, rows=None):
        emb = out["embedding"].float().flatten(1)
        return (F.cross_entropy(_logits(out), target, weight=self.weight)
                + self.lam_fd * self.feature_discriminator(emb, target) + self.lam_md * self.mean_discriminator(emb, target))


OBJECTIVES = {"ce": CrossEntropy, "sce": SymmetricCrossEntropy, "elr": ELR, "elr_sce": ELR, "combo": Combo,
              "kl_teacher": TeacherKL, "scn": SCN, "center": CenterLoss, "island": IslandLoss,
              "sparse_center": SparseCenterLoss, "adcorre": AdCorre}
LOSSES = tuple(OBJECTIVES)


def objective_class(name: str) -> type:
    """The :class:`Objective` subclass a ``loss=`` name selects (``elr`` and ``elr_sce`` share one)."""
    if name not in OBJECTIVES:
        raise ValueError(f"unknown loss {name!r}; choose one of {LOSSES}")
    return OBJECTIVES[name]


def build_loss(name: str, n_samples: int, num_classes: int, weight=None, label_smoothing: float = 0.0,
               embed_dim: int | None = None, class_weighting: str | None = None, **kw) -> Objective:
    """The objective a ``TrainConfig`` names (``loss``, ``loss_kwargs``). The trainer's context (dataset size, class
    count, class weights, label smoothing, the model's embedding width) goes to each objective that takes it.
    Nothing is dropped silently: class weights or label smoothing given to an objective that does not use them, and
    unknown ``loss_kwargs``, fail here naming both the option and the objective."""
    import inspect

    cls = objective_class(name)
    if issubclass(cls, CenterLoss) and not embed_dim:
        raise ValueError(f"loss {name!r} needs the model's embedding width (embed_dim) to size its class centres")
    params = inspect.signature(cls).parameters
    given = f"class_weighting={class_weighting!r}" if class_weighting else "class weights"
    uniform = weight is None or bool(np.allclose(np.asarray(weight, dtype=np.float64), 1.0))
    if not uniform and "weight" not in params:
        raise ValueError(f"{given} has no effect with loss={name!r}, which takes no class weights; use "
                         f"class_weighting='none' or sampler='balanced', or a loss that weights classes "
                         f"(ce, sce, elr, elr_sce, scn, center, island, sparse_center, adcorre, kl_teacher with base 'ce')")
    if label_smoothing and "label_smoothing" not in params:
        raise ValueError(f"label_smoothing={label_smoothing} has no effect with loss={name!r}; only loss='ce' "
                         f"smooths its targets")
    context = {"n_samples": n_samples, "num_classes": num_classes, "weight": weight,
               "label_smoothing": label_smoothing, "embed_dim": embed_dim}
    args = {k: v for k, v in context.items() if k in params}
    if cls is ELR:
        args["base"] = "ce" if name == "elr" else "sce"
    bad = [k for k in kw if k not in params or k in args]
    if bad and not any(p.kind is p.VAR_KEYWORD for p in params.values()):
        ok = [p for p in params if p not in context and p != "base"]
        raise ValueError(f"loss_kwargs for {name!r}: unknown {bad}; accepted: {ok}")
    return cls(**args, **kw)
