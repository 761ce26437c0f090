"""Building blocks shared by the model families, and the wrapper that puts a classification head on a backbone."""

from __future__ import annotations

import torch
from torch import nn


class SqueezeExcite(nn.Module):
    """Squeeze-and-excitation (Hu et al. 2018): global average pool, FC reduce, ReLU, FC expand, sigmoid, rescale.

    ResEmoteNet §II-B, Eqs. 2–6.
    """

    def __init__(self, channels: int, reduction: int = 16, bias: bool = True):
        super().__init__()
        hidden = max(1, channels // reduction)
        self.fc1 = nn.Linear(channels, hidden, bias=bias)  # bias=False: ResEmoteNet's released SEBlock
        self.fc2 = nn.Linear(hidden, channels, bias=bias)

    def forward(self, x):
        z = x.mean((2, 3))  # Eq. 2
        s = torch.sigmoid(self.fc2(torch.relu(self.fc1(z))))  # Eqs. 3–5
        return x * s[:, :, None, None]  # Eq. 6


def feature_dims(features: nn.Module, in_chans: int, img_size: int, name: str) -> tuple[int, int, int]:
    """(C, H, W) of a backbone's output, worked out on the meta device (no compute, no memory)."""
    meta = _to_meta_copy(features)
    was_training = meta.training
    try:
        with torch.no_grad():
            meta.eval()
            out = meta(torch.zeros(2, in_chans, img_size, img_size, device="meta"))
    except RuntimeError as err:  # a pooling or conv that would go below 1×1
        raise ValueError(f"model {name!r} cannot take {img_size}×{img_size} input: its feature map shrinks to "
                         f"nothing ({str(err).splitlines()[0]}). Use a larger img_size.") from None
    finally:
        meta.train(was_training)
    if out.ndim == 2:
        return out.shape[1], 1, 1
    c, h, w = out.shape[1:]
    if h < 1 or w < 1:
        raise ValueError(f"model {name!r} cannot take {img_size}×{img_size} input: its feature map is {h}×{w}")
    return int(c), int(h), int(w)


def _to_meta_copy(module: nn.Module) -> nn.Module:
    import copy

    if all(p.device.type == "meta" for p in module.parameters()):
        return module
    clone = copy.deepcopy(module)
    return clone.to("meta")


class BTFERHead(nn.Sequential):
    """BTFER §IV "Network Layers": pooling → Dense 256 + ReLU → Dropout 0.2 → Dense 128 + ReLU → Dense classes."""

    def __init__(self, in_features: int, num_classes: int, hidden=(256, 128), drop: float = 0.2):
        super().__init__(nn.Linear(in_features, hidden[0]), nn.ReLU(inplace=True), nn.Dropout(drop),
                         nn.Linear(hidden[0], hidden[1]), nn.ReLU(inplace=True), nn.Linear(hidden[1], num_classes))


class EmbeddingNet(nn.Module):
    """Base of the networks written here: a subclass defines ``forward_features(x)`` (the pooled embedding) and
    ``self.head`` (embedding → logits). ``forward_aux`` gives what the metric-learning losses need (centre, island,
    DACL, Ad-Corre act on the embedding); methods whose loss needs more (SCN's α) extend it."""

    def forward(self, x):
        return self.head(self.forward_features(x))

    def forward_aux(self, x):
        f = self.forward_features(x)
        return {"logits": self.head(f), "embedding": f}


class Classifier(EmbeddingNet):
    """A feature extractor, a pooling step (``"avg"`` global average, ``"flatten"``, or ``None`` when the features are
    already a vector) and a head. ``forward_features`` gives the pooled embedding the metric-learning losses use."""

    def __init__(self, features: nn.Module, head_fn, num_classes: int, in_chans: int, img_size: int, pool="avg",
                 name: str = "model"):
        super().__init__()
        self.features = features
        c, h, w = feature_dims(features, in_chans, img_size, name)
        if pool == "avg":
            self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())
            self.num_features = c
        elif pool == "flatten":
            self.pool = nn.Flatten()
            self.num_features = c * h * w
        elif pool is None:
            self.pool = nn.Flatten()
            self.num_features = c * h * w
        else:
            raise ValueError(f"pool must be 'avg' or 'flatten', got {pool!r}")
        self.head = head_fn(self.num_features, num_classes)

    def forward_features(self, x):
        return self.pool(self.features(x))
