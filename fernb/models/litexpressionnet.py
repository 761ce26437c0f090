"""LiteXpressionNet (InFER++ §IV, Fig. 6).

What the paper says: the network is "based around the MobileViTv2 architecture", its "MobileViT V2 blocks" are
replaced "with GhostNetV2 blocks" (whose DFC attention mixes local and long-range features at low latency), it "uses
the MBConv blocks, which use depthwise convolutions", and it has 4.6M parameters and 126M FLOPs (Table 4). There is no
layer table, and Fig. 6 is not legible in the text we have, so everything below is our assumption, chosen so that the
published size is met:

1. **Skeleton** — MobileViTv2's five stages (Mehta & Rastegari 2022): a 3×3 stride-2 stem; stage 1 one MBConv
   (inverted residual, expansion 2, stride 1); stage 2 two MBConv (the first stride 2); stages 3–5 one stride-2
   MBConv followed by the blocks that were MobileViTv2 blocks (2, 4 and 3 of them, the transformer depths of
   MobileViTv2). Activation SiLU in the MBConv blocks (as MobileViTv2), ReLU inside the GhostNetV2 blocks (as
   GhostNetV2).
2. **Replacement** — each MobileViTv2 block becomes one GhostNetV2 bottleneck (Tang et al. 2022: a Ghost module with
   DFC attention, a 3×3 depthwise conv, a second Ghost module, identity shortcut) with hidden width ``mid_ratio``×
   its channels and squeeze-excitation 0.25 as in GhostNetV2. We use timm's implementation (``mode="attn"``).
3. **Widths** — MobileViTv2's widths (32, 64, 128 | 256, 384, 512) times 0.625 for the stem and stages 1–2 and 0.5
   for stages 3–5: 16 (stem, rounded to a multiple of 8), 40, 80, 128, 192, 256. GhostNetV2 hidden width 2.5×.
4. **Head** — GhostNet's: a 1×1 conv to 640 channels + BN + SiLU, global average pooling, a 1×1 conv to 1280 + SiLU
   on the pooled 1×1 map, dropout 0.1, linear. The post-pool conv adds 0.8M parameters for 0.8M MACs, which is the
   paper's rule "increase the number of parameters while keeping the FLOPs constant" in its cheapest form.
5. **Resolution** — 112×112 input. The paper does not say; at 224×224 the same network costs four times the MACs.
6. **FLOPs** — we read Table 4's "# Flops (M)" as multiply-accumulates: its other rows are MAC counts (ResNet-18 in
   SCN: 1818.56 = ResNet-18's MACs at 224; EfficientNet-B0 380–390M MACs; MobileNetV3-Large 217–225M MACs).

With these choices the model has 4.52M parameters and 131M MACs at 112×112 (−2% and +4% of Table 4; the complexity
tests hold it within ±10%).
"""

from __future__ import annotations

import torch
from torch import nn

from fernb.models.layers import EmbeddingNet
from fernb.models.registry import Published, numbered_items, register

ASSUMPTIONS = numbered_items(__doc__)  # the numbered assumptions above, one string each, for the chapter


def _ghost_block(chs: int, mid_ratio: float):
    from timm.models.ghostnet import GhostBottleneck

    try:
        return GhostBottleneck(chs, int(round(chs * mid_ratio)), chs, dw_kernel_size=3, stride=1, se_ratio=0.25,
                               mode="attn")
    except TypeError as err:  # timm before the GhostNetV2 blocks
        raise ImportError("LiteXpressionNet needs timm >= 1.0.20 for GhostNetV2 blocks; pip install -U timm") from err


def _mbconv(cin, cout, stride, expansion=2.0):
    from timm.models._efficientnet_blocks import InvertedResidual

    return InvertedResidual(cin, cout, dw_kernel_size=3, stride=stride, exp_ratio=expansion, act_layer=nn.SiLU)


class LiteXpressionNet(EmbeddingNet):
    def __init__(self, num_classes=7, in_chans=3, width=0.625, late_width=0.5, ghost_depths=(2, 4, 3), mid_ratio=2.5,
                 pre_pool_chs=640, head_chs=1280, drop=0.1):
        super().__init__()
        base = (32, 64, 128, 256, 384, 512)
        w = [int(round(c * width / 8) * 8) for c in base[:3]] + [int(round(c * late_width / 8) * 8) for c in base[3:]]
        self.stem = nn.Sequential(nn.Conv2d(in_chans, w[0], 3, 2, 1, bias=False), nn.BatchNorm2d(w[0]), nn.SiLU(inplace=True))
        stages = [nn.Sequential(_mbconv(w[0], w[1], 1)),
                  nn.Sequential(_mbconv(w[1], w[2], 2), _mbconv(w[2], w[2], 1))]
        for i, depth in enumerate(ghost_depths):
            cin, cout = w[2 + i], w[3 + i]
            stages.append(nn.Sequential(_mbconv(cin, cout, 2), *[_ghost_block(cout, mid_ratio) for _ in range(depth)]))
        self.stages = nn.Sequential(*stages)
        self.pre_pool = nn.Sequential(nn.Conv2d(w[-1], pre_pool_chs, 1, bias=False), nn.BatchNorm2d(pre_pool_chs),
                                      nn.SiLU(inplace=True))
        self.head_conv = nn.Sequential(nn.Conv2d(pre_pool_chs, head_chs, 1), nn.SiLU(inplace=True))
        self.num_features = head_chs
        self.head = nn.Sequential(nn.Dropout(drop), nn.Linear(head_chs, num_classes))
        self.widths = w

    def forward_features(self, x):
        x = self.pre_pool(self.stages(self.stem(x))).mean((2, 3), keepdim=True)
        return self.head_conv(x).flatten(1)


@register("litexpressionnet", 112, min_img_size=64, paper="InFER++ §IV, Fig. 6, Table 4", family="infer",
          faithful=True,
          published=(Published("InFER++ Table 4", 112, params_m=4.6, macs_m=126, unit="FLOPs (M)",
                               note="Table 4's FLOPs column holds MAC counts; resolution not stated (we use 112)",
                               accuracy=0.8634, dataset="RAF-DB"),
                     Published("InFER++ Table 4 (AffectNet-8 row)", 112, params_m=4.6, macs_m=126, unit="FLOPs (M)",
                               accuracy=0.5856, dataset="AffectNet-8")),
          assumptions=ASSUMPTIONS)
def litexpressionnet(num_classes=7, in_chans=3, img_size=112, width=0.625, late_width=0.5, mid_ratio=2.5,
                     pre_pool_chs=640, head_chs=1280, drop=0.1):
    """LiteXpressionNet as assumed in this module's docstring."""
    return LiteXpressionNet(num_classes, in_chans, width, late_width, (2, 4, 3), mid_ratio, pre_pool_chs, head_chs, drop)

