"""The registry behind :func:`fernb.models.create`."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Callable

import torch

_REGISTRY: dict[str, "ModelEntry"] = {}


@dataclass(frozen=True)
class ModelEntry:
    name: str
    builder: Callable[..., torch.nn.Module]
    img_size: int  # the resolution its paper uses
    min_img_size: int  # smallest input it can take
    in_chans: tuple = (1, 3)
    paper: str = ""


def register(name: str, img_size: int, min_img_size: int = 8, in_chans=(1, 3), paper: str = ""):
    """Decorator adding a builder ``fn(num_classes, in_chans, img_size, **kw) -> nn.Module`` under ``name``."""

    def deco(fn):
        if name in _REGISTRY:
            raise ValueError(f"model {name!r} is registered twice")
        _REGISTRY[name] = ModelEntry(name, fn, img_size, min_img_size, tuple(in_chans), paper)
        return fn

    return deco


def list_models(pattern: str = "*") -> list[str]:
    import fnmatch

    return sorted(n for n in _REGISTRY if fnmatch.fnmatch(n, pattern))


def entry(name: str) -> ModelEntry:
    if name not in _REGISTRY:
        close = difflib.get_close_matches(name, list(_REGISTRY), n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise ValueError(f"unknown model {name!r}.{hint} Available: {', '.join(list_models())}")
    return _REGISTRY[name]


def create(name: str, num_classes: int = 7, in_chans: int = 3, img_size: int | None = None, **kwargs) -> torch.nn.Module:
    """Build a registered model; checks the arguments against what the model supports before building anything."""
    e = entry(name)
    if not isinstance(num_classes, int) or num_classes < 2:
        raise ValueError(f"num_classes must be an integer >= 2, got {num_classes!r}")
    if in_chans not in e.in_chans:
        raise ValueError(f"model {name!r} takes in_chans in {e.in_chans}, got {in_chans!r}")
    img_size = e.img_size if img_size is None else img_size
    if not isinstance(img_size, int) or img_size < e.min_img_size:
        raise ValueError(f"model {name!r} needs img_size >= {e.min_img_size} (its paper uses {e.img_size}), got {img_size!r}")
    model = e.builder(num_classes=num_classes, in_chans=in_chans, img_size=img_size, **kwargs)
    model.fernb_name = name
    return model
