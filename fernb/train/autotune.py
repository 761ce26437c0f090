"""Choose the fastest correct precision and memory format for a (model, input, batch, device) by measuring it.

On this book's 2-core CPU (AVX-512 BF16) channels-last + bf16 autocast trains a small CNN about 4× faster than fp32
but slows a ShuffleNet: no single default wins, so the trainer times a few warm training steps of each candidate on
random data, drops a candidate whose loss on the same batch strays from fp32's (not correct), and keeps the fastest
only when it beats plain fp32 by a clear margin (``MARGIN``; timing noise on a shared machine must not flip a
choice). The choice is cached per hardware, torch version, thread count and request in
``FERNB_HOME/cache/autotune.json``, recorded in the run, and reused when the run resumes.
"""

from __future__ import annotations

import copy
import json
import platform
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from fernb import paths

MARGIN = 0.10  # a candidate must be this much faster than fp32/contiguous to be chosen
LOSS_TOLERANCE = 0.05  # relative difference of the first-batch loss from fp32's that still counts as correct


def candidates(device: torch.device, sam: bool) -> list[tuple[str, bool]]:
    """(precision, channels_last) settings worth timing on ``device``; fp32/contiguous first (the reference)."""
    if device.type == "cuda":
        dtypes = ["bf16", "fp32"] if sam else ["fp16", "bf16", "fp32"]  # SAM's two passes take no loss scaler
        if not torch.cuda.is_bf16_supported():
            dtypes.remove("bf16")
        return [("fp32", False)] + [(d, cl) for d in dtypes for cl in (True, False) if (d, cl) != ("fp32", False)]
    if device.type == "cpu":
        return [("fp32", False), ("fp32", True), ("bf16", False), ("bf16", True)]
    return [("fp32", False)]


def hardware_key(device: torch.device) -> str:
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
    else:
        name = _cpu_name()
    return f"{device.type}:{name}|torch {torch.__version__}|threads {torch.get_num_threads()}"


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _dtype(name: str):
    return {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}[name]


class _Candidate:
    """One setting's own copy of the model and optimiser, stepped on the same batch."""

    def __init__(self, model, x, precision: str, channels_last: bool):
        self.model = copy.deepcopy(model).train()
        self.x = x
        if channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
            self.x = x.contiguous(memory_format=torch.channels_last)
        self.opt = torch.optim.SGD(self.model.parameters(), lr=1e-4)
        self.dtype = _dtype(precision)
        self.first_loss, self.times = None, []

    def step(self, y, timed: bool):
        dev = self.x.device
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
        t = time.perf_counter()
        self.opt.zero_grad(set_to_none=True)
        with torch.autocast(dev.type, dtype=self.dtype, enabled=self.dtype is not None):
            loss = F.cross_entropy(self.model(self.x).float(), y)
        loss.backward()
        self.opt.step()
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
        if self.first_loss is None:
            self.first_loss = float(loss.detach())
        if timed:
            self.times.append(time.perf_counter() - t)


def setting_name(precision: str, channels_last: bool) -> str:
    return f"{precision}{'+channels_last' if channels_last else ''}"


def measure(model: torch.nn.Module, img_size: int, in_chans: int, batch_size: int, num_classes: int,
            device: torch.device, allowed: list, steps: int = 4, warmup: int = 2) -> dict:
    """Time each ``allowed`` (precision, channels_last) setting on one random batch (the first is the reference);
    returns ``{"choice": (precision, channels_last), "timings": {name: seconds per step, None when rejected}}``.
    The global random state is left as it was (dropout draws during timing would otherwise shift training)."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(batch_size, in_chans, img_size, img_size, generator=g).to(device)
    y = torch.randint(0, num_classes, (batch_size,), generator=g).to(device)
    timings, losses, live = {}, {}, {}
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        for prec, cl in allowed:
            live[setting_name(prec, cl)] = _Candidate(model, x, prec, cl)
        # round-robin, so a load that comes and goes on a shared machine falls on every candidate alike
        for r in range(warmup + steps):
            for name, c in list(live.items()):
                try:
                    c.step(y, timed=r >= warmup)
                except (RuntimeError, NotImplementedError):  # an op without a kernel for this dtype/format
                    del live[name]
                    timings[name] = None
    for name, c in live.items():
        timings[name], losses[name] = min(c.times), c.first_loss
    del live
    ref = setting_name(*allowed[0])
    if timings[ref] is None:
        raise RuntimeError(f"the reference setting {ref} failed to train a step of the model on {device}")
    best = ref
    for name, t in timings.items():
        if t is None or name == ref:
            continue
        if abs(losses[name] - losses[ref]) > LOSS_TOLERANCE * max(abs(losses[ref]), 1.0):
            timings[name] = None  # not correct enough to be considered
            continue
        if t < timings[best] and t < (1 - MARGIN) * timings[ref]:
            best = name
    return {"choice": (best.split("+")[0], best.endswith("channels_last")), "timings": timings, "reference": ref}


def _cache_path() -> Path:
    return paths.cache_root() / "autotune.json"


def choose(model, img_size: int, in_chans: int, batch_size: int, num_classes: int, device: torch.device,
           allowed: list, request: str) -> dict:
    """The cached choice among ``allowed`` settings for this hardware and request, measured on first use."""
    path = _cache_path()
    cache = json.loads(path.read_text()) if path.exists() else {}
    names = ",".join(setting_name(*a) for a in allowed)
    key = f"{hardware_key(device)}|{request}|{img_size}x{in_chans}|batch {batch_size}|{num_classes} classes|{names}"
    if key not in cache:
        found = measure(model, img_size, in_chans, batch_size, num_classes, device, allowed)
        cache = json.loads(path.read_text()) if path.exists() else {}  # another process may have written
        cache[key] = {"choice": list(found["choice"]), "timings": found["timings"]}
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(cache, indent=1, sort_keys=True))
        tmp.replace(path)
    return {"precision": cache[key]["choice"][0], "channels_last": bool(cache[key]["choice"][1]),
            "timings": cache[key]["timings"], "source": "autotune"}
