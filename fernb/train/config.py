"""Training configuration: plain data, validated before any work starts, hashed to key its run folder."""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
from dataclasses import dataclass, field

OPTIMIZERS = ("sgd", "adam", "adamw")
SCHEDULERS = ("none", "cosine", "step", "plateau")
SAMPLERS = ("shuffle", "balanced")
MONITORS = ("val_acc", "val_loss")

# options added after runs were first stored: left out of the key while they hold these defaults, so stored runs
# keep their folders
LATER_DEFAULTS = {"loss": "ce", "loss_kwargs": {}, "sam_rho": 0.0, "early_stop_patience": 0, "monitor": "val_acc",
                  "lr_step_size": 0, "lr_gamma": 0.1, "plateau_patience": 3, "min_lr": 0.0, "freeze_epochs": 0,
                  "sampler": "shuffle", "fold": None, "aug_ratio": [0.9, 1.1]}


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a training run's result (and nothing that does not, such as the device)."""

    model: str = "small_cnn"
    dataset: str = "synth-raf"
    profile: str = "quick"  # selects the SynthFER size; ignored by real datasets
    data_seed: int = 0
    img_size: int = 64
    in_chans: int = 3
    epochs: int = 10
    batch_size: int = 64
    optimizer: str = "adam"
    lr: float = 1e-3
    momentum: float = 0.9
    weight_decay: float = 0.0
    scheduler: str = "cosine"
    label_smoothing: float = 0.0
    class_weighting: str = "none"  # none | simple | conservative (BTFER §III-E)
    aug_scale: tuple = (0.8, 1.0)
    aug_ratio: tuple = (0.9, 1.1)  # aspect-ratio range of the random crop; (1, 1) with aug_scale (1, 1) = no crop
    aug_flip: float = 0.5
    aug_brightness: float = 0.1
    aug_contrast: float = 0.1
    val_share: float = 0.1  # stratified share of the training split held out for model selection (datasets without a val split)
    seed: int = 0
    max_batches_per_epoch: int | None = None  # caps an epoch (smoke profile)
    model_kwargs: dict = field(default_factory=dict)
    loss: str = "ce"  # ce | sce | elr | elr_sce (fernb.train.losses)
    loss_kwargs: dict = field(default_factory=dict)
    sam_rho: float = 0.0  # > 0 wraps the optimiser in SAM with this radius (Foret et al. 2021)
    early_stop_patience: int = 0  # stop a stage after this many epochs without a better validation score; 0 = never
    monitor: str = "val_acc"  # val_acc | val_loss: the validation score for model selection, plateau and early stop
    lr_step_size: int = 0  # step schedule: epochs between decays (0 = a third of the stage)
    lr_gamma: float = 0.1  # step and plateau schedules: the decay factor
    plateau_patience: int = 3  # plateau schedule: epochs without improvement before a decay
    min_lr: float = 0.0  # plateau schedule: the floor (BTFER: 1e-10)
    freeze_epochs: int = 0  # two-stage fine-tuning (BTFER §III-F): up to this many epochs with only the head trained
    sampler: str = "shuffle"  # shuffle | balanced (class-balanced sampling with replacement)
    fold: int | None = None  # cross-validated datasets (CK+): this fold is the test split

    def __post_init__(self):
        from fernb.models.registry import entry, validate
        from fernb.profiles import check_profile

        check_profile(self.profile)
        entry(self.model)  # unknown model names fail here, with suggestions
        for name in ("epochs", "batch_size", "img_size", "in_chans", "seed", "data_seed"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < (0 if "seed" in name else 1):
                raise ValueError(f"TrainConfig.{name} must be a {'non-negative' if 'seed' in name else 'positive'} integer, got {v!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"TrainConfig.optimizer={self.optimizer!r}; expected one of {OPTIMIZERS}")
        if self.scheduler not in SCHEDULERS:
            raise ValueError(f"TrainConfig.scheduler={self.scheduler!r}; expected one of {SCHEDULERS}")
        from fernb.train.weighting import SCHEMES

        if self.class_weighting not in SCHEMES:
            raise ValueError(f"TrainConfig.class_weighting={self.class_weighting!r}; expected one of {SCHEMES}")
        if not (isinstance(self.lr, (int, float)) and self.lr > 0):
            raise ValueError(f"TrainConfig.lr must be a positive number, got {self.lr!r}")
        if not 0 <= self.val_share < 0.5:
            raise ValueError(f"TrainConfig.val_share must be in [0, 0.5), got {self.val_share!r}")
        from fernb.train.losses import LOSSES

        if self.loss not in LOSSES:
            raise ValueError(f"TrainConfig.loss={self.loss!r}; expected one of {LOSSES}")
        for name in ("early_stop_patience", "lr_step_size", "plateau_patience", "freeze_epochs"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                raise ValueError(f"TrainConfig.{name} must be a non-negative integer, got {v!r}")
        if self.sampler not in SAMPLERS:
            raise ValueError(f"TrainConfig.sampler={self.sampler!r}; expected one of {SAMPLERS}")
        if self.monitor not in MONITORS:
            raise ValueError(f"TrainConfig.monitor={self.monitor!r}; expected one of {MONITORS}")
        if not (isinstance(self.sam_rho, (int, float)) and self.sam_rho >= 0):
            raise ValueError(f"TrainConfig.sam_rho must be >= 0 (0 = no SAM), got {self.sam_rho!r}")
        if not 0 < self.lr_gamma <= 1:
            raise ValueError(f"TrainConfig.lr_gamma must be in (0, 1], got {self.lr_gamma!r}")
        if self.early_stop_patience and self.val_share == 0:
            raise ValueError("TrainConfig.early_stop_patience needs a validation split to watch: set val_share > 0")
        if self.monitor == "val_loss" and self.val_share == 0:
            raise ValueError("TrainConfig.monitor='val_loss' needs a validation split: set val_share > 0")
        if self.fold is not None and (not isinstance(self.fold, int) or isinstance(self.fold, bool)):
            raise ValueError(f"TrainConfig.fold must be an integer fold id or None, got {self.fold!r}")
        if self.loss in ("kl_teacher",) and "teacher" not in self.loss_kwargs:
            raise ValueError("loss='kl_teacher' needs loss_kwargs={'teacher': <path to the teacher's .npy distributions>}")
        object.__setattr__(self, "aug_scale", tuple(self.aug_scale))
        object.__setattr__(self, "aug_ratio", tuple(self.aug_ratio))
        if not isinstance(self.model_kwargs, dict):
            raise ValueError(f"TrainConfig.model_kwargs must be a dict, got {self.model_kwargs!r}")
        try:  # the model takes this input and these keywords: checked here, before any data is read
            validate(self.model, None, self.in_chans, self.img_size, **self.model_kwargs)
        except ValueError as e:
            raise ValueError(f"TrainConfig: {e}") from None

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        """Build from a mapping; an unknown key (a typo) is an error that suggests the intended one."""
        known = [f.name for f in dataclasses.fields(cls)]
        for k in d:
            if k not in known:
                close = difflib.get_close_matches(k, known, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise ValueError(f"unknown training option {k!r}{hint}; known options: {', '.join(known)}")
        return cls(**d)

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["aug_scale"] = list(self.aug_scale)
        d["aug_ratio"] = list(self.aug_ratio)
        return d

    def key(self) -> str:
        """Stable hash of the configuration: the name of its run folder. Options added later are left out of the
        hash while they hold their defaults, so runs stored before they existed keep their keys."""
        d = self.to_dict()
        for name, default in LATER_DEFAULTS.items():
            if d.get(name) == default:
                d.pop(name)
        blob = json.dumps(d, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:12]
