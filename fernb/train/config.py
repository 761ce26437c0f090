"""Training configuration: plain data, validated before any work starts, hashed to key its run folder."""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
from dataclasses import dataclass, field

OPTIMIZERS = ("sgd", "adam", "adamw")
SCHEDULERS = ("none", "cosine", "step", "plateau", "exponential")
SAMPLERS = ("shuffle", "balanced")
MONITORS = ("val_acc", "val_loss")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
MEMORY_FORMATS = ("auto", "contiguous", "channels_last")
# options added after runs were stored, with the value at which each trains exactly what a run made before it existed
# trained: left out of the run key while they hold that value, so stored runs keep their folders. The value is the
# option's "off", not its default: a later change of the default still keys new runs (see ``TrainConfig.key``).
KEYED_WHEN_ON = {"aug_rotation": 0.0, "aug_shift": 0.0, "aug_zoom": 0.0}


def sized_as(dataset: str, profile: str) -> str:
    """The first profile whose SynthFER size for ``dataset`` is ``profile``'s: the profile a run key holds, so that a
    ``long`` run of quick's size and settings is quick's run (trained once, shared)."""
    from fernb.data.manifest import load_manifest
    from fernb.profiles import PROFILES

    sizes = load_manifest(dataset).get("sizes") or {}
    if profile not in sizes:
        return profile
    return next(p for p in PROFILES if sizes.get(p) == sizes[profile])


def _synthetic(dataset: str) -> bool:
    """Whether ``dataset`` is generated here (its size then follows the profile)."""
    from fernb.data.manifest import load_manifest

    return load_manifest(dataset)["kind"] == "synthetic"


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a training run's result (and nothing that does not, such as the device)."""

    model: str = "small_cnn"
    dataset: str = "synth-raf"
    profile: str = "quick"  # selects the SynthFER size; not part of a real dataset's run key, which ignores it
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
    # Keras ImageDataGenerator's geometric augmentation (BTFER §III-F), one affine map per image, bilinear with edge
    # pixels repeated (fill_mode="nearest"); 0 = off. Composed with the crop and flip above.
    aug_rotation: float = 0.0  # rotation_range: degrees, uniform in [-r, r]
    aug_shift: float = 0.0  # width_shift_range = height_shift_range: a share of the side, uniform in [-s, s] per axis
    aug_zoom: float = 0.0  # zoom_range: a zoom factor per axis, uniform in [1 - z, 1 + z] (> 1 zooms out)
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
    lr_gamma: float = 0.1  # step, plateau and exponential (per epoch) schedules: the decay factor
    plateau_patience: int = 3  # plateau schedule: epochs without improvement before a decay
    min_lr: float = 0.0  # plateau schedule: the floor (BTFER: 1e-10)
    freeze_epochs: int = 0  # two-stage fine-tuning (BTFER §III-F): up to this many epochs with only the head trained
    sampler: str = "shuffle"  # shuffle | balanced (class-balanced sampling with replacement)
    fold: int | None = None  # cross-validated datasets (CK+): this fold is the test split
    precision: str = "auto"  # auto | fp32 | bf16 | fp16: autocast dtype; auto measures (fernb.train.autotune)
    memory_format: str = "auto"  # auto | contiguous | channels_last; auto measures with precision
    betas: tuple = (0.9, 0.999)  # Adam/AdamW (beta1, beta2); InFER++ §III-F uses (0.99, 0.999)

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
        for name, top in (("aug_rotation", 180), ("aug_shift", 1), ("aug_zoom", 1)):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v < top):
                raise ValueError(f"TrainConfig.{name} must be a number in [0, {top}), got {v!r}")
            object.__setattr__(self, name, float(v))
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
        if self.precision not in PRECISIONS:
            raise ValueError(f"TrainConfig.precision={self.precision!r}; expected one of {PRECISIONS}")
        if self.memory_format not in MEMORY_FORMATS:
            raise ValueError(f"TrainConfig.memory_format={self.memory_format!r}; expected one of {MEMORY_FORMATS}")
        if self.precision == "fp16" and self.sam_rho > 0:
            raise ValueError("TrainConfig.precision='fp16' with SAM: SAM's two passes take no loss scaler; use bf16")
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
        if self.loss == "elr_sce":  # its constants are keyed, so runs under the published ones are never reused
            from fernb.train.losses import ELR_SCE_DEFAULTS

            object.__setattr__(self, "loss_kwargs", {**ELR_SCE_DEFAULTS, **self.loss_kwargs})
        if self.loss in ("kl_teacher",) and "teacher" not in self.loss_kwargs:
            raise ValueError("loss='kl_teacher' needs loss_kwargs={'teacher': <path to the teacher's .npy distributions>}")
        object.__setattr__(self, "aug_scale", tuple(self.aug_scale))
        object.__setattr__(self, "aug_ratio", tuple(self.aug_ratio))
        object.__setattr__(self, "betas", tuple(self.betas))
        if len(self.betas) != 2 or not all(isinstance(b, (int, float)) and 0 <= b < 1 for b in self.betas):
            raise ValueError(f"TrainConfig.betas must be two numbers in [0, 1), got {self.betas!r}")
        if self.optimizer == "sgd" and self.betas != (0.9, 0.999):
            raise ValueError("TrainConfig.betas has no effect with optimizer='sgd'; use adam or adamw")
        if self.optimizer != "sgd" and self.momentum != 0.9:
            raise ValueError(f"TrainConfig.momentum has no effect with optimizer={self.optimizer!r} (Adam's "
                             "momentum is betas[0]); set betas, or use optimizer='sgd'")
        if not isinstance(self.model_kwargs, dict):
            raise ValueError(f"TrainConfig.model_kwargs must be a dict, got {self.model_kwargs!r}")
        import os

        # a weight file given as a Path is recorded as its string, so the config stays plain JSON data
        object.__setattr__(self, "model_kwargs", {k: os.fspath(v) if isinstance(v, os.PathLike) else v
                                                  for k, v in self.model_kwargs.items()})
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
        d["betas"] = list(self.betas)
        return d

    def key(self) -> str:
        """Stable hash of every option that changes training: the name of its run folder. A later change of a
        default therefore keys new runs rather than returning stale ones. ``profile`` only sizes SynthFER, so a
        real dataset's key leaves it out and a SynthFER key holds the first profile of its size (:func:`sized_as`).
        Options of ``KEYED_WHEN_ON`` are left out while they are off (a run that does not use them trains what runs
        keyed before they existed trained)."""
        d = self.to_dict()
        if not _synthetic(self.dataset):
            d.pop("profile")
        else:
            d["profile"] = sized_as(self.dataset, self.profile)
        for name, off in KEYED_WHEN_ON.items():
            if d[name] == off:
                d.pop(name)
        blob = json.dumps(d, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class DataSpec:
    """Exactly the data a run trained on, frozen into its ``config.json`` so that the run can rebuild it.

    ``dataset``, ``profile``, ``seed`` and ``fold`` come from the :class:`TrainConfig`; ``options`` are the keyword
    options given to :func:`fernb.data.load_dataset` (``variant``, ``lenient``, ``detector`` …); ``labels_sha`` is the
    content hash of a ``labels=`` override (the labels themselves are stored as the run's ``labels.npy``).
    ``data_root`` is referenced, never copied: ``None`` for SynthFER under ``FERNB_HOME``.
    """

    dataset: str
    profile: str = "quick"
    seed: int = 0
    fold: int | None = None
    options: tuple = ()  # sorted (name, value) pairs
    labels_sha: str | None = None
    data_root: str | None = None

    @classmethod
    def of(cls, cfg: TrainConfig, data_root=None, options: dict | None = None, labels_sha: str | None = None):
        from pathlib import Path

        options = dict(options or {})
        bad = [k for k, v in options.items() if not isinstance(v, (str, int, float, bool, type(None)))]
        if bad:
            raise ValueError(f"dataset_options {bad} must be plain values (str, number, bool, None) so the run can "
                             f"record them; got {[type(options[k]).__name__ for k in bad]}")
        root = None if data_root is None else str(Path(data_root).expanduser().resolve())
        return cls(cfg.dataset, cfg.profile, cfg.data_seed, cfg.fold, tuple(sorted(options.items())), labels_sha, root)

    def key_suffix(self) -> str:
        """What the spec adds to the run key beyond the config and the records' fingerprint: the loading options,
        when there are any (runs stored before options were recorded keep their keys)."""
        if not self.options:
            return ""
        blob = json.dumps(self.options, separators=(",", ":"))
        return ":options=" + hashlib.sha256(blob.encode()).hexdigest()[:12]

    def load(self, progress: bool = False, data_root=None):
        """The dataset (with its fold applied); ``data_root`` overrides the recorded one (a copy that moved)."""
        from pathlib import Path

        from fernb.data import load_dataset

        root = data_root if data_root is not None else self.data_root
        if root is not None and not Path(root).exists():
            raise FileNotFoundError(f"the run's data ({self.dataset}) was read from {root}, which no longer exists; "
                                    f"pass data_root=<where the copy is now>")
        ds = load_dataset(self.dataset, root, profile=self.profile, seed=self.seed, progress=progress,
                          **dict(self.options))
        return ds.with_fold(self.fold) if self.fold is not None else ds

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["options"] = dict(self.options)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "DataSpec":
        return cls(**{**d, "options": tuple(sorted(d.get("options", {}).items()))})
