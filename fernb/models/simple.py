"""Small baseline CNNs for the quickstart and for CPU-sized experiments (not from any of the four papers)."""

from __future__ import annotations

import torch
from torch import nn

from fernb.models.registry import register


def _block(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                         nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                         nn.MaxPool2d(2))


class SmallCNN(nn.Module):
    """Four conv blocks (two 3×3 convs + BN + ReLU, then 2×2 max-pool), global average pooling, dropout, linear."""

    def __init__(self, num_classes=7, in_chans=3, img_size=64, width=16, drop=0.2):
        super().__init__()
        w = [width, width * 2, width * 4, width * 8]
        self.features = nn.Sequential(_block(in_chans, w[0]), _block(w[0], w[1]), _block(w[1], w[2]), _block(w[2], w[3]))
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(drop), nn.Linear(w[3], num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


@register("small_cnn", img_size=64, min_img_size=16, paper="fernb baseline (quickstart)")
def small_cnn(num_classes=7, in_chans=3, img_size=64, **kw):
    return SmallCNN(num_classes, in_chans, img_size, **kw)


@register("tiny_cnn", img_size=48, min_img_size=16, paper="fernb baseline (smoke tests)")
def tiny_cnn(num_classes=7, in_chans=3, img_size=48, **kw):
    return SmallCNN(num_classes, in_chans, img_size, width=8, **kw)
