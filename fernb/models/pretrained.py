"""Optional pretrained weights: ImageNet from timm/torchvision (local cache or network), face weights from a local file.

Nothing here runs unless a reader passes ``pretrained=``; the default path never needs weights.
"""

from __future__ import annotations

import contextvars
import os
from pathlib import Path

import torch
from torch import nn

HOW = ("Run once with a network so timm/torchvision cache them (Hugging Face cache: ~/.cache/huggingface, torchvision: "
       "~/.cache/torch/hub/checkpoints), copy a cached file there, or use pretrained=False.")


def check_request(entry, pretrained, in_chans: int):
    """Reject an unsupported ``pretrained=`` before anything is built or downloaded."""
    name = entry.name
    if pretrained is True or pretrained == "imagenet":
        if "imagenet" not in entry.pretrained:
            raise ValueError(f"model {name!r} has no ImageNet weights to load (it accepts pretrained in "
                             f"{entry.pretrained or ('False',)}); use pretrained=False")
        return
    if pretrained in ANALOGUES:
        if "file" not in entry.pretrained:
            raise ValueError(f"model {name!r} takes no weight file, so no {pretrained} start (it accepts "
                             f"{entry.pretrained or ('False',)})")
        raise ValueError(f"pretrained={pretrained!r} is made here by fernb.train.analogues: train with "
                         f"model_kwargs={{'pretrained': {pretrained!r}}} (the trainer makes it), or pass the path "
                         f"fernb.train.analogues.weights_file({name!r}, {pretrained!r}, img_size) returns")
    if isinstance(pretrained, (str, os.PathLike)):
        if "file" not in entry.pretrained:
            raise ValueError(f"model {name!r} does not take a weight file (pretrained={str(pretrained)!r}); it accepts "
                             f"{entry.pretrained or ('False',)}")
        path = Path(pretrained).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"pretrained weight file {str(path)!r} for model {name!r} does not exist")
        return
    raise ValueError(f"pretrained must be False, True/'imagenet' or a path to a weight file (in a run's model_kwargs "
                     f"also {' or '.join(map(repr, ANALOGUES))}), got {pretrained!r}")


ANALOGUES = ("vggface-analogue", "imagenet-analogue")
"""Starts pretrained here without a download (:mod:`fernb.train.analogues`): a run's ``model_kwargs`` name them,
the trainer turns the name into the analogue's weight file."""

_LOCAL_ONLY = contextvars.ContextVar("fernb_pretrained_local_only", default=False)


def _offline() -> bool:
    return _LOCAL_ONLY.get() or os.environ.get("HF_HUB_OFFLINE") == "1" or os.environ.get("FERNB_OFFLINE") == "1"


def weights_load(build, offline: bool = True) -> bool:
    """Whether ``build()`` (a model constructor that asks for ImageNet weights, e.g. ``lambda: create(name,
    pretrained="imagenet")``) succeeds; ``offline=True``: from the local timm/torchvision caches alone, nothing is
    downloaded, whatever the environment says. The setting holds for this call only (a context variable, not the
    process environment)."""
    token = _LOCAL_ONLY.set(bool(offline) or _LOCAL_ONLY.get())
    try:
        build()
        return True
    except RuntimeError:
        return False
    finally:
        _LOCAL_ONLY.reset(token)


def timm_create(name: str, pretrained, in_chans: int, **kw) -> nn.Module:
    """``timm.create_model`` that turns a failed weight download into an error saying how to get the weights."""
    import timm

    want = pretrained is True or pretrained == "imagenet"
    if not want:
        return timm.create_model(name, pretrained=False, in_chans=in_chans, **kw)
    try:
        if _offline() and not _timm_weights_cached(name):
            raise ConnectionError("offline (HF_HUB_OFFLINE/FERNB_OFFLINE set) and not in the Hugging Face cache")
        return timm.create_model(name, pretrained=True, in_chans=in_chans, **kw)
    except Exception as err:  # noqa: BLE001 - any hub/network failure gets the same advice
        raise RuntimeError(f"ImageNet weights for timm model {name!r} are not in the local cache and could not be "
                           f"downloaded ({type(err).__name__}: {str(err).splitlines()[0][:200]}). {HOW}") from None


def _timm_weights_cached(name: str) -> bool:
    import timm
    from huggingface_hub import try_to_load_from_cache

    cfg = timm.models.get_pretrained_cfg(name)
    repo = getattr(cfg, "hf_hub_id", None) if cfg is not None else None
    if not repo:
        return False
    return any(isinstance(try_to_load_from_cache(repo, f), str) for f in ("model.safetensors", "pytorch_model.bin"))


def torchvision_cached(fn) -> bool:
    """Whether the default ImageNet weights of torchvision builder ``fn`` are in torch.hub's cache (loading them
    then needs no network)."""
    from torchvision.models import get_model_weights

    try:
        url = get_model_weights(fn).DEFAULT.url
    except (ValueError, KeyError, AttributeError):
        return False
    return (Path(torch.hub.get_dir()) / "checkpoints" / Path(url).name).is_file()


def torchvision_create(fn, pretrained, **kw) -> nn.Module:
    want = pretrained is True or pretrained == "imagenet"
    if not want:
        return fn(weights=None, **kw)
    try:
        if _offline() and not torchvision_cached(fn):
            raise ConnectionError("offline (HF_HUB_OFFLINE/FERNB_OFFLINE set) and not cached")
        return fn(weights="DEFAULT", **kw)
    except Exception as err:  # noqa: BLE001
        raise RuntimeError(f"ImageNet weights for torchvision {fn.__name__} are not in the local cache and could not "
                           f"be downloaded ({type(err).__name__}: {str(err).splitlines()[0][:200]}). {HOW}") from None


def load_file_in_order(module: nn.Module, path, what: str) -> int:
    """Load a weight file (e.g. VGGFace converted to PyTorch) into ``module`` by matching tensors in order and shape.

    Converted face-recognition weights come with every naming scheme (Caffe, Keras, Torch7 ports), so names are not
    trusted: the file's tensors, in their stored order, must line up shape by shape with the module's parameters and
    buffers that have the same shapes. Returns the number of tensors loaded; raises naming the file and the first
    tensor that does not fit.
    """
    state = torch.load(Path(path).expanduser(), map_location="cpu", weights_only=True)
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise ValueError(f"{path}: expected a state dict (name → tensor), found {type(state).__name__}")
    src = [(k, v) for k, v in state.items() if isinstance(v, torch.Tensor) and v.ndim > 0]
    dst = [(k, v) for k, v in module.state_dict().items() if v.ndim > 0]
    if len(src) < len(dst):
        raise ValueError(f"{path}: {len(src)} tensors, but the {what} needs {len(dst)} "
                         f"(first missing: {dst[len(src)][0]} {tuple(dst[len(src)][1].shape)})")
    new = {}
    for (dk, dv), (sk, sv) in zip(dst, src):
        if tuple(dv.shape) != tuple(sv.shape):
            raise ValueError(f"{path}: tensor {sk!r} has shape {tuple(sv.shape)} where the {what} expects {dk!r} "
                             f"{tuple(dv.shape)}; is this the right weight file for this architecture?")
        new[dk] = sv
    module.load_state_dict(new, strict=False)
    return len(new)
