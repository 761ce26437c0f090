"""ShuffleNetV2-based FER networks: LFER-LDL (Liu, Luo, Xu) with its ablations, and EfficientFace (Zhao et al. 2021).

Both keep torchvision's ShuffleNetV2 1.0× units (stage repeats 4/8/4, widths 116/232/464, conv5 1024) and add a local
branch on the Conv1 feature map whose output is added to the Stage 2 output.

LFER-LDL (LFER-LDL §1, Figs. 1, 2, 4; sizes §2.4.2 and §2.4.4). Assumptions where the text is silent:

1. Conv1 has 29 output channels, as §1 states ("29, 116, 232, 464 and 1024 from Conv1 to Conv5"; ShuffleNetV2 1.0×
   itself has 24).
2. PDWRes (§1.2, Fig. 4): the 56×56 map after Conv1 and max-pooling is cut into four quadrants; each goes through
   its own two 3×3 depthwise convolutions (the first stride 2 with a channel multiplier 116/29 = 4, the second
   116→116), each followed by BN and ReLU6; the four outputs are re-assembled into a 116×28×28 map and added to the
   Stage 2 output. Separate weights per quadrant give the +0.01M parameters of Table 4 (§2.4.4); the module costs
   1.64M MACs, 3.3M FLOPs against the paper's +3.09M.
3. Output module (§1.1, Fig. 2): the paper's increments over the fully connected layer (+0.02M parameters, +0.03M
   FLOPs, §2.4.4) are only possible on the pooled 1×1 map, so the module is global average pooling → 3×3 depthwise
   conv + BN + Mish → 1×1 pointwise conv to the classes (a depthwise-separable convolution with Mish in place of
   ReLU). On a 1×1 map only the centre tap of the 3×3 kernel sees data; the count is what the paper's size implies.
4. Units: §2.4.2's 294.6M "FLOPs" are 2 × MACs (ShuffleNetV2 1.0× is 146M MACs); we compare our MACs × 2 with it.

Ablation variants (§2.4.4, Table 4): ``lfer_ldl_baseline`` (ShuffleNetV2 with a 7-way FC), ``lfer_ldl_output``
(+ output module), ``lfer_ldl_pdwres`` (+ output module + PDWRes = the full network, ``lfer_ldl``). Label-distribution
learning changes the training targets, not the network.

EfficientFace (Zhao et al., AAAI 2021; cited as [44] in InFER++ Tables 3–4): the same ShuffleNetV2 with Conv1 = 29, a
local-feature extractor (the quadrant branch above with ReLU), and a channel-spatial modulator on the Stage 2 output
before the local features are added. We take the modulator as squeeze-excitation (reduction 16) followed by a
CBAM-style spatial gate (7×7 conv over the channel mean and max); InFER++ Table 4 prints 1.28M parameters and
154.18 "FLOPs" (M), which are MACs.
"""

from __future__ import annotations

import torch
from torch import nn

from fernb.models.layers import EmbeddingNet, SqueezeExcite
from fernb.models.registry import Published, numbered_items, register

ASSUMPTIONS = numbered_items(__doc__)


def _quadrant_split(n: int) -> int:
    """Where to cut a side of length n so that the two stride-2 halves re-assemble to ceil(n/2) (the Stage 2 size)."""
    return 2 * -(-n // 4)


class QuadrantLocalBranch(nn.Module):
    """PDWRes (LFER-LDL §1.2) / EfficientFace's local-feature extractor: four quadrants, two depthwise convs each."""

    def __init__(self, cin: int, cout: int, act=nn.ReLU6):
        super().__init__()
        if cout % cin:
            raise ValueError(f"the local branch needs its output width ({cout}) to be a multiple of its input ({cin})")
        self.quadrants = nn.ModuleList(nn.Sequential(
            nn.Conv2d(cin, cout, 3, 2, 1, groups=cin, bias=False), nn.BatchNorm2d(cout), act(inplace=True),
            nn.Conv2d(cout, cout, 3, 1, 1, groups=cout, bias=False), nn.BatchNorm2d(cout), act(inplace=True))
            for _ in range(4))

    def forward(self, x):
        h, w = x.shape[-2:]
        a, b = _quadrant_split(h), _quadrant_split(w)
        q = self.quadrants
        top = torch.cat([q[0](x[..., :a, :b]), q[1](x[..., :a, b:])], dim=3)
        bottom = torch.cat([q[2](x[..., a:, :b]), q[3](x[..., a:, b:])], dim=3)
        return torch.cat([top, bottom], dim=2)


class ChannelSpatialModulator(nn.Module):
    """EfficientFace's modulator as we read it: channel gate (SE) then a spatial gate over channel mean and max."""

    def __init__(self, channels: int):
        super().__init__()
        self.channel = SqueezeExcite(channels, 16)
        self.spatial = nn.Sequential(nn.Conv2d(2, 1, 7, padding=3, bias=False), nn.BatchNorm2d(1))

    def forward(self, x):
        x = self.channel(x)
        s = torch.cat([x.mean(1, keepdim=True), x.amax(1, keepdim=True)], dim=1)
        return x * torch.sigmoid(self.spatial(s))


class OutputModule(nn.Module):
    """LFER-LDL's improved output module (§1.1, Fig. 2; assumption 3 of the module docstring)."""

    def __init__(self, channels: int, num_classes: int, kernel: int = 3):
        super().__init__()
        self.depthwise = nn.Sequential(nn.Conv2d(channels, channels, kernel, 1, kernel // 2, groups=channels, bias=False),
                                       nn.BatchNorm2d(channels), nn.Mish(inplace=True))
        self.pointwise = nn.Conv2d(channels, num_classes, 1)

    def forward(self, pooled):
        return self.pointwise(self.depthwise(pooled[:, :, None, None])).flatten(1)


class ShuffleFER(EmbeddingNet):
    def __init__(self, num_classes=7, in_chans=3, conv1=29, local: str | None = "pdwres", modulator=False,
                 head: str = "output_module"):
        super().__init__()
        from torchvision.models.shufflenetv2 import ShuffleNetV2

        net = ShuffleNetV2([4, 8, 4], [conv1, 116, 232, 464, 1024])
        if in_chans != 3:
            net.conv1[0] = nn.Conv2d(in_chans, conv1, 3, 2, 1, bias=False)
        self.conv1, self.maxpool = net.conv1, net.maxpool
        self.stage2, self.stage3, self.stage4, self.conv5 = net.stage2, net.stage3, net.stage4, net.conv5
        acts = {"pdwres": nn.ReLU6, "efficientface": nn.ReLU}  # LFER-LDL's PDWRes / EfficientFace's extractor
        self.local = QuadrantLocalBranch(conv1, 116, acts[local]) if local else None
        self.modulator = ChannelSpatialModulator(116) if modulator else None
        self.num_features = 1024
        self.head = OutputModule(1024, num_classes) if head == "output_module" else nn.Linear(1024, num_classes)

    def forward_features(self, x):
        x = self.maxpool(self.conv1(x))
        y = self.stage2(x)
        if self.modulator is not None:
            y = self.modulator(y)
        if self.local is not None:
            y = y + self.local(x)
        return self.conv5(self.stage4(self.stage3(y))).mean((2, 3))


_LFER = "LFER-LDL §2.4.2 (Table 1)"
_LFER_PUB = (Published(_LFER, 224, params_m=1.26, macs_m=294.6 / 2, unit="FLOPs (M) = 294.60",
                       note="the paper's FLOPs are 2×MACs: 294.60M FLOPs = 147.3M MACs", accuracy=0.8715,
                       dataset="RAF-DB"),)


def _lfer(local, head, doc):
    def build(num_classes=7, in_chans=3, img_size=224):
        return ShuffleFER(num_classes, in_chans, 29, local, False, head)

    build.__doc__ = doc
    return build


register("lfer_ldl", 224, min_img_size=32, paper="LFER-LDL §1 (Figs. 1, 2, 4)", family="lfer_ldl", faithful=True,
         published=_LFER_PUB, assumptions=ASSUMPTIONS)(
    _lfer("pdwres", "output_module", "The LFER-LDL network: ShuffleNetV2 + PDWRes + output module."))
register("lfer_ldl_baseline", 224, min_img_size=32, paper="LFER-LDL §2.4.4 ablation: ShuffleNetV2 baseline",
         family="lfer_ldl")(_lfer(None, "fc", "Ablation: ShuffleNetV2 1.0× (Conv1 = 29) with a fully connected head."))
register("lfer_ldl_output", 224, min_img_size=32, paper="LFER-LDL §2.4.4 ablation: + output module",
         family="lfer_ldl")(_lfer(None, "output_module", "Ablation: the baseline with the improved output module."))
register("lfer_ldl_pdwres", 224, min_img_size=32, paper="LFER-LDL §2.4.4 ablation: + output module + PDWRes",
         family="lfer_ldl")(_lfer("pdwres", "output_module", "Ablation: output module and PDWRes (= lfer_ldl)."))


@register("efficientface", 224, min_img_size=32, paper="EfficientFace (Zhao et al. 2021), InFER++ Tables 3–4",
          family="infer", faithful=True,
          published=(Published("InFER++ Table 4 (RAF-DB row)", 224, params_m=1.2, macs_m=154.18, unit="FLOPs (M)",
                               note="Table 4's FLOPs column holds MACs", accuracy=0.8836, dataset="RAF-DB"),
                     Published("InFER++ Table 4 (AffectNet-8 row)", 224, params_m=1.28, macs_m=154.18,
                               unit="FLOPs (M)", note="Table 4's FLOPs column holds MACs", accuracy=0.5989,
                               dataset="AffectNet-8")))
def efficientface(num_classes=7, in_chans=3, img_size=224):
    """EfficientFace: ShuffleNetV2 (Conv1 = 29), local-feature extractor, channel-spatial modulator, FC head."""
    return ShuffleFER(num_classes, in_chans, 29, "efficientface", True, "fc")
