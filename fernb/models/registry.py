"""The registry behind :func:`fernb.models.create`.

Every entry records what its paper says about it (resolution, parameters, MACs, where the figure is printed), so the
complexity table of the model-zoo chapter is generated from the registry rather than typed in twice.
"""

from __future__ import annotations

import difflib
import fnmatch
import inspect
from dataclasses import dataclass, field
from typing import Callable

import torch


@dataclass(frozen=True)
class Published:
    """A complexity figure a paper prints for a model.

    ``params_m`` in millions; ``macs_m`` in millions of multiply-accumulates as we read the paper's unit (``unit``
    says what the paper calls it and ``note`` how we convert, e.g. "FLOPs = 2×MACs").
    """

    source: str
    img_size: int
    params_m: float | None = None
    macs_m: float | None = None
    unit: str = ""
    note: str = ""
    num_classes: int | None = None  # the head the paper's count includes (1000 for ImageNet heads); None: the task's
    accuracy: float | None = None  # the test accuracy printed in the same row, on ``dataset``
    dataset: str = ""


@dataclass(frozen=True)
class ModelEntry:
    name: str
    builder: Callable[..., torch.nn.Module]
    img_size: int  # the resolution its paper uses (the first of img_sizes)
    img_sizes: tuple  # every resolution a paper runs it at
    min_img_size: int  # smallest input it can take
    in_chans: tuple = (1, 3)
    paper: str = ""
    family: str = ""
    published: tuple = ()
    faithful: bool = False  # sized to a paper's published figures; the complexity tests hold it to them
    pretrained: tuple = ()  # the weight sources `pretrained=` accepts: "imagenet", "vggface", "vggface2"
    fixed_size: bool = False  # a flatten head ties the model to the img_size it was built for
    num_classes: tuple | None = None  # None: any count >= 2
    assumptions: tuple = field(default=())


_REGISTRY: dict[str, ModelEntry] = {}


def numbered_items(doc: str) -> tuple[str, ...]:
    """The items of the first numbered list ("1. ...", "2. ...") in a docstring, each on one line."""
    import re

    lines, items = doc.splitlines(), []
    for line in lines:
        if re.match(r"\s*\d+\. ", line):
            items.append(line.strip())
        elif items and line.startswith("   ") and line.strip():
            items[-1] += " " + line.strip()
        elif items and not line.strip():
            break
    return tuple(items)


def register(name: str, img_size: int, *, img_sizes=None, min_img_size: int = 8, in_chans=(1, 3), paper: str = "",
             family: str = "", published=(), faithful: bool = False, pretrained=(), fixed_size: bool = False,
             num_classes=None, assumptions=()):
    """Decorator adding a builder ``fn(num_classes, in_chans, img_size, ...) -> nn.Module`` under ``name``."""

    def deco(fn):
        if name in _REGISTRY:
            raise ValueError(f"model {name!r} is registered twice")
        sizes = tuple(img_sizes) if img_sizes else (img_size,)
        _REGISTRY[name] = ModelEntry(name, fn, img_size, sizes, min_img_size, tuple(in_chans), paper, family,
                                     tuple(published), faithful, tuple(pretrained), fixed_size,
                                     None if num_classes is None else tuple(num_classes), tuple(assumptions))
        return fn

    return deco


def list_models(pattern: str = "*", family: str | None = None) -> list[str]:
    return sorted(n for n, e in _REGISTRY.items() if fnmatch.fnmatch(n, pattern) and (family is None or e.family == family))


def catalogue():
    """One row per paper model: family, the paper section, its resolutions, the smallest input, pretrained sources."""
    import pandas as pd

    return pd.DataFrame([{"model": e.name, "family": e.family, "paper": e.paper,
                          "resolutions": " / ".join(map(str, e.img_sizes)), "min input": e.min_img_size,
                          "pretrained": ", ".join(e.pretrained) or "-"}
                         for e in sorted(_REGISTRY.values(), key=lambda e: e.name) if e.family]).set_index("model")


def entry(name: str) -> ModelEntry:
    if not isinstance(name, str) or name not in _REGISTRY:
        close = difflib.get_close_matches(str(name), list(_REGISTRY), n=3, cutoff=0.5)
        if not close:  # a family prefix ("resemote", "btfer_vgg") is a useful hint too
            close = [n for n in _REGISTRY if str(name).lower() in n][:3]
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise ValueError(f"unknown model {name!r}.{hint} `fernb.models.list_models()` lists all {len(_REGISTRY)}.")
    return _REGISTRY[name]


def _check_kwargs(e: ModelEntry, kwargs: dict):
    sig = inspect.signature(e.builder)
    if any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values()):
        return
    allowed = [p for p in sig.parameters if p not in ("num_classes", "in_chans", "img_size")]
    bad = [k for k in kwargs if k not in allowed]
    if bad:
        raise ValueError(f"model {e.name!r} takes no parameter {', '.join(map(repr, bad))}; "
                         f"it takes {', '.join(allowed) or 'none beyond num_classes, in_chans, img_size'}")


def validate(name: str, num_classes: int | None = 7, in_chans: int = 3, img_size: int | None = None, **kwargs):
    """Check a model request without building anything (``num_classes=None`` skips the class check): the entry and
    the resolved input size, or a ValueError naming the parameter and what the model accepts."""
    e = entry(name)
    if num_classes is not None:
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
            raise ValueError(f"num_classes must be an integer >= 2, got {num_classes!r}")
        if e.num_classes is not None and num_classes not in e.num_classes:
            raise ValueError(f"model {name!r} supports num_classes in {e.num_classes}, got {num_classes}")
    if in_chans not in e.in_chans:
        raise ValueError(f"model {name!r} takes in_chans in {e.in_chans}, got {in_chans!r}")
    img_size = e.img_size if img_size is None else img_size
    if isinstance(img_size, bool) or not isinstance(img_size, int) or img_size < e.min_img_size:
        raise ValueError(f"model {name!r} needs img_size >= {e.min_img_size} (its paper uses "
                         f"{' and '.join(map(str, e.img_sizes))}), got {img_size!r}")
    _check_kwargs(e, {k: v for k, v in kwargs.items() if k != "pretrained"})
    return e, img_size


def create(name: str, num_classes: int = 7, in_chans: int = 3, img_size: int | None = None, pretrained=False,
           **kwargs) -> torch.nn.Module:
    """Build a registered model; every argument is checked against what the model supports before anything is built.

    ``pretrained``: ``False`` (default, never needs weights), ``True``/``"imagenet"`` (timm/torchvision ImageNet
    weights from the local cache or the network), or a path to a local weight file (VGGFace / VGGFace2 backbones,
    or an analogue made here: :func:`fernb.train.analogues.weights_file`).
    """
    e, img_size = validate(name, num_classes, in_chans, img_size, **kwargs)
    if pretrained:
        from fernb.models.pretrained import check_request

        check_request(e, pretrained, in_chans)
        kwargs["pretrained"] = pretrained
    model = e.builder(num_classes=num_classes, in_chans=in_chans, img_size=img_size, **kwargs)
    model.fernb_name = name
    model.fernb_input = (in_chans, img_size, e.fixed_size, e.min_img_size)
    model.register_forward_pre_hook(_check_input)
    return model


FACE_NORM = ((0.5,), (0.5,))  # [0, 1] pixels to [-1, 1]: every network trained here from scratch


def normalization(name: str, pretrained=False) -> tuple[tuple, tuple]:
    """(mean, std) per channel of the input a model expects, after pixels are scaled to [0, 1]; the training and every
    evaluation of a run use the same. ImageNet starts take the statistics their weights were trained with (timm's
    ``pretrained_cfg``: ImageNet mean/std); everything else, including face-weight files whose conversion states
    no statistics, the symmetric [-1, 1] scaling."""
    entry(name)
    if pretrained is True or pretrained == "imagenet":
        from timm.data import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD

        return tuple(IMAGENET_DEFAULT_MEAN), tuple(IMAGENET_DEFAULT_STD)
    return FACE_NORM


def _check_input(module, args):
    """Fail with a clear message (not a shape error deep inside) when a batch does not fit the model."""
    if torch.jit.is_tracing() or torch.compiler.is_compiling() or torch.onnx.is_in_onnx_export():
        return
    if not args or not isinstance(args[0], torch.Tensor):
        return
    x = args[0]
    chans, size, fixed, min_size = module.fernb_input
    if x.ndim != 4 or x.shape[1] != chans:
        raise ValueError(f"model {module.fernb_name!r} was built for (batch, {chans}, H, W) input, got {tuple(x.shape)}")
    h, w = x.shape[-2:]
    if fixed and (h, w) != (size, size):
        raise ValueError(f"model {module.fernb_name!r} has a flatten head built for {size}×{size} input, got {h}×{w}; "
                         f"create it with img_size={h}")
    if min(h, w) < min_size:
        raise ValueError(f"model {module.fernb_name!r} needs inputs of at least {min_size}×{min_size}, got {h}×{w}")
