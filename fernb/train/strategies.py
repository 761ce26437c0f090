"""The small strategy objects the :class:`~fernb.train.trainer.Trainer` is assembled from, one decision each:
where it runs (:func:`resolve_device`, :class:`Distributed`), in which precision (:class:`Precision`), how one
optimisation step is taken (:class:`PlainStep`, :class:`SAMStep`) and which parameters train in which stage
(:class:`Stages`, BTFER §III-F)."""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass

import torch
from torch import nn


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``auto`` picks CUDA, then Apple MPS, then the CPU; anything else must name an available device."""
    mps = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "mps" if mps else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"device={device!r} is not a device; use 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} but CUDA is not available here; use device='auto' or 'cpu'")
    if dev.type == "mps" and not mps:
        raise ValueError(f"device={device!r} but MPS is not available here; use device='auto' or 'cpu'")
    return dev


class Distributed:
    """The ``torchrun`` launch this process belongs to: rank and world size, its process group (NCCL on GPUs, gloo
    on CPUs) initialised once; rank 0 of 1 in a plain process."""

    def __init__(self):
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = 0
        if self.world > 1:
            import torch.distributed as dist

            if not dist.is_initialized():
                dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
            self.rank, self.world = dist.get_rank(), dist.get_world_size()

    @property
    def main(self) -> bool:
        return self.rank == 0

    def device(self, device) -> torch.device:
        if self.world > 1 and str(device) == "auto" and torch.cuda.is_available():
            device = f"cuda:{int(os.environ.get('LOCAL_RANK', self.rank))}"
        dev = resolve_device(device)
        if dev.type == "cuda" and dev.index is not None:
            torch.cuda.set_device(dev)
        return dev

    def barrier(self):
        if self.world > 1:
            torch.distributed.barrier()

    def wrap(self, net: nn.Module, dev: torch.device) -> nn.Module:
        """DDP around the module the gradient flows through; BatchNorm statistics stay per process."""
        if self.world == 1:
            return net
        return nn.parallel.DistributedDataParallel(net, device_ids=[dev.index] if dev.type == "cuda" else None,
                                                   broadcast_buffers=False)

    def sync_buffers(self, model: nn.Module):
        """Every process evaluates the same model: process 0's BatchNorm statistics."""
        if self.world > 1:
            for b in model.buffers():
                torch.distributed.broadcast(b, 0)


MIN_TUNED_STEPS = 100  # measuring costs about 25 training steps; below this many steps it cannot pay for itself


@dataclass
class Precision:
    """Autocast dtype (``None`` = fp32) and memory format of a run, and where the choice came from (``forced`` by
    the config, measured by ``autotune``, the device ``default``, or ``resumed`` from the run's checkpoint)."""

    dtype: torch.dtype | None
    channels_last: bool
    device_type: str
    source: str = "default"
    timings: dict | None = None

    NAMES = {"fp32": None, "fp16": torch.float16, "bf16": torch.bfloat16}

    @classmethod
    def default(cls, dev: torch.device, sam: bool) -> "Precision":
        """CUDA: fp16 with a loss scaler (bf16 without one when SAM takes two passes), channels-last; else fp32."""
        if dev.type == "cuda":
            return cls(torch.bfloat16 if sam else torch.float16, True, "cuda")
        return cls(None, False, dev.type)

    @classmethod
    def named(cls, name: str, channels_last: bool, dev: torch.device, source: str, timings=None) -> "Precision":
        if name == "fp16" and dev.type != "cuda":
            raise ValueError(f"precision='fp16' needs a CUDA device (this run is on {dev}); use 'bf16' or 'fp32'")
        if name == "bf16" and dev.type not in ("cuda", "cpu"):
            raise ValueError(f"precision='bf16' runs on CUDA or the CPU, not {dev}; use 'fp32'")
        return cls(cls.NAMES[name], channels_last, dev.type, source, timings)

    @classmethod
    def resolve(cls, cfg, dev: torch.device, model: nn.Module, num_classes: int, world: int,
                planned_steps: int | None = None) -> "Precision":
        """The setting ``cfg`` asks for: forced values as they are; ``auto`` measured for this model, input and
        batch on this device (:mod:`fernb.train.autotune`), except under data-parallel launches, where every
        process must agree, and for runs too short to repay the measurement (fewer than ``MIN_TUNED_STEPS``
        planned steps, e.g. smoke runs), which use the device default."""
        sam = cfg.sam_rho > 0
        if cfg.precision != "auto" and cfg.memory_format != "auto":
            return cls.named(cfg.precision, cfg.memory_format == "channels_last", dev, "forced")
        short = planned_steps is not None and planned_steps < MIN_TUNED_STEPS
        if world > 1 or dev.type not in ("cpu", "cuda") or short:
            d = cls.default(dev, sam)
            prec = cfg.precision if cfg.precision != "auto" else d.name
            fmt = cfg.memory_format == "channels_last" if cfg.memory_format != "auto" else d.channels_last
            return cls.named(prec, fmt, dev, "default (short run)" if short else "default")
        from fernb.train import autotune

        allowed = [c for c in autotune.candidates(dev, sam)
                   if cfg.precision in ("auto", c[0]) and cfg.memory_format in ("auto", ("contiguous", "channels_last")[c[1]])]
        request = json.dumps([cfg.model, cfg.model_kwargs], sort_keys=True, default=str)
        found = autotune.choose(model, cfg.img_size, cfg.in_chans, cfg.batch_size, num_classes, dev, allowed, request)
        return cls.named(found["precision"], found["channels_last"], dev, "autotune", found["timings"])

    @property
    def name(self) -> str:
        return {None: "fp32", torch.float16: "fp16", torch.bfloat16: "bf16"}[self.dtype]

    def record(self) -> dict:
        return {"precision": self.name, "channels_last": self.channels_last, "source": self.source,
                **({"timings_s_per_step": self.timings} if self.timings else {})}

    def autocast(self):
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device_type, dtype=self.dtype)

    def scaler(self) -> torch.amp.GradScaler:
        return torch.amp.GradScaler("cuda", enabled=self.dtype == torch.float16 and self.device_type == "cuda")

    def prepare(self, model: nn.Module) -> nn.Module:
        return model.to(memory_format=torch.channels_last) if self.channels_last else model

    def batch(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` in the layout of the setting (no copy when it is already: the trainer's loaders make their batches
        in it). A contiguous model fed channels-last strides would run its convolutions in the channels-last path
        against contiguous weights, which measured slower than one copy (``benchmarks/train.py --through-fit``)."""
        if x.ndim != 4:
            return x
        return x.contiguous(memory_format=torch.channels_last if self.channels_last else torch.contiguous_format)


def build_optimizer(cfg, model: nn.Module, loss_fn: nn.Module) -> torch.optim.Optimizer:
    """SGD, Adam or AdamW over the model's parameters and the objective's (class centres, at
    ``center_lr_scale`` × lr); wrapped in SAM when ``sam_rho`` > 0."""
    groups = [{"params": list(model.parameters())}]
    extra = list(loss_fn.parameters())
    if extra:
        groups.append({"params": extra, "lr": cfg.lr * getattr(loss_fn, "center_lr_scale", 1.0)})
    if cfg.optimizer == "sgd":
        opt = torch.optim.SGD(groups, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    else:
        cls = torch.optim.Adam if cfg.optimizer == "adam" else torch.optim.AdamW
        opt = cls(groups, lr=cfg.lr, betas=tuple(cfg.betas), weight_decay=cfg.weight_decay)
    if cfg.sam_rho > 0:
        from fernb.train.sam import SAM

        return SAM(opt, cfg.sam_rho)
    return opt


def build_scheduler(cfg, opt, stage_len: int):
    base = getattr(opt, "base", opt)
    if cfg.scheduler == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(base, T_max=max(stage_len, 1))
    if cfg.scheduler == "step":
        return torch.optim.lr_scheduler.StepLR(base, step_size=cfg.lr_step_size or max(1, stage_len // 3),
                                               gamma=cfg.lr_gamma)
    if cfg.scheduler == "exponential":  # SCN's released train.py: ExponentialLR(γ = 0.9) stepped every epoch
        return torch.optim.lr_scheduler.ExponentialLR(base, gamma=cfg.lr_gamma)
    if cfg.scheduler == "plateau":
        return torch.optim.lr_scheduler.ReduceLROnPlateau(base, mode="max", factor=cfg.lr_gamma,
                                                          patience=cfg.plateau_patience, min_lr=cfg.min_lr)
    return None


class PlainStep:
    """One backward pass and one optimiser step (through the loss scaler when fp16 needs one)."""

    def __init__(self, opt, scaler):
        self.opt, self.scaler = opt, scaler

    def __call__(self, forward_loss, model, loss_fn, x, y, rows):
        loss, logits = forward_loss(x, y, rows)
        self.scaler.scale(loss).backward()
        self.scaler.step(self.opt)
        self.scaler.update()
        return loss, logits


class SAMStep:
    """SAM's two passes (Foret et al. Alg. 1): ascend to w + ε, take the gradient there with BatchNorm statistics
    frozen and per-sample memories (ELR, SCN) left alone, then step from w."""

    def __init__(self, opt):
        self.opt = opt

    def __call__(self, forward_loss, model, loss_fn, x, y, rows):
        from fernb.train.sam import frozen_bn_stats

        loss, logits = forward_loss(x, y, rows)
        loss.backward()
        self.opt.first_step()
        loss_fn.update_state = False
        try:
            with frozen_bn_stats(model):
                forward_loss(x, y, rows)[0].backward()
        finally:
            loss_fn.update_state = True
        self.opt.second_step()
        return loss, logits


def make_step(opt, scaler):
    from fernb.train.sam import SAM

    return SAMStep(opt) if isinstance(opt, SAM) else PlainStep(opt, scaler)


def head_parameters(model: nn.Module) -> list:
    """Parameters of the classification head: ``model.head`` (every network written here) or timm's classifier."""
    head = getattr(model, "head", None)
    if isinstance(head, nn.Module):
        return list(head.parameters())
    if hasattr(model, "get_classifier"):
        return list(model.get_classifier().parameters())
    raise ValueError(f"{type(model).__name__} has no 'head' module to train alone; use freeze_epochs=0")


class Stages:
    """BTFER §III-F two-stage fine-tuning: with ``freeze_epochs`` > 0, stage 1 trains only the head for up to that
    many epochs (frozen BatchNorm layers in inference mode, as Keras does for ``trainable=False``); stage 2 starts
    from stage 1's best weights with everything trainable and a fresh optimiser, for up to ``epochs``. Without
    ``freeze_epochs`` there is only stage 2."""

    def __init__(self, freeze_epochs: int, epochs: int):
        self.freeze_epochs, self.epochs = freeze_epochs, epochs

    @property
    def first(self) -> int:
        return 1 if self.freeze_epochs else 2

    def length(self, stage: int) -> int:
        return self.freeze_epochs if stage == 1 else self.epochs

    def apply(self, model: nn.Module, stage: int):
        if not self.freeze_epochs:
            return
        keep = {id(p) for p in head_parameters(model)} if stage == 1 else None
        for p in model.parameters():
            p.requires_grad_(stage != 1 or id(p) in keep)

    @staticmethod
    def frozen_bn_eval(model: nn.Module):
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm) and \
                    not any(p.requires_grad for p in m.parameters(recurse=False)):
                m.eval()
