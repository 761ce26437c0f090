"""The methods InFER++ benchmarks in Tables 3 and 4 (besides EfficientFace, in ``shufflenet_fer``), and the MobileViT
of its cross-dataset study (§III-E). Backbones come from timm; only the method-specific parts are written here.

Every model exposes ``forward_features(x)`` (the embedding that centre, island, DACL and Ad-Corre losses act on) and
``forward_aux(x)``, a dict with ``logits`` and ``embedding`` plus whatever else its method's loss needs.
"""

from __future__ import annotations

import torch
from torch import nn

from fernb.models.layers import EmbeddingNet
from fernb.models.pretrained import timm_create
from fernb.models.registry import Published, register

_T4 = "InFER++ Table 4"
_1000 = "Table 4 counts the 1000-class ImageNet head; params_m_paper_head re-counts ours with that head"


class TimmClassifier(nn.Module):
    """A timm model with its own head resized to the classes; ``forward_features`` is the pooled pre-logits vector."""

    def __init__(self, timm_name: str, num_classes: int, in_chans: int, pretrained=False, drop_rate=0.0):
        super().__init__()
        self.net = timm_create(timm_name, pretrained, in_chans, num_classes=num_classes, drop_rate=drop_rate)
        self.num_features = self.net.num_features

    def forward_features(self, x):
        return self.net.forward_head(self.net.forward_features(x), pre_logits=True)

    def forward_aux(self, x):
        f = self.forward_features(x)
        return {"logits": self.net.get_classifier()(f), "embedding": f}

    def forward(self, x):
        return self.net(x)


@register("savchenko_effnet_b0", 224, min_img_size=32, paper="Savchenko et al. (InFER++ [7]), Tables 3–4",
          family="infer", pretrained=("imagenet",),
          published=(Published(_T4, 224, params_m=5.3, macs_m=380, unit="FLOPs (M)", note=_1000, num_classes=1000,
                               accuracy=0.8612, dataset="RAF-DB"),))
def savchenko_effnet_b0(num_classes=7, in_chans=3, img_size=224, pretrained=False, drop_rate=0.2):
    """EfficientNet-B0 (Savchenko's lightweight FER backbone; he pre-trains it on VGGFace2, we offer ImageNet)."""
    return TimmClassifier("efficientnet_b0", num_classes, in_chans, pretrained, drop_rate)


@register("mobilenetv3_large", 224, min_img_size=32, paper="Howard et al. (InFER++ [57]), Tables 3–4",
          family="infer", pretrained=("imagenet",),
          published=(Published(_T4, 224, params_m=5.4, macs_m=225, unit="FLOPs (M)", note=_1000, num_classes=1000,
                               accuracy=0.7812, dataset="RAF-DB"),))
def mobilenetv3_large(num_classes=7, in_chans=3, img_size=224, pretrained=False, drop_rate=0.2):
    """MobileNetV3-Large 1.0×."""
    return TimmClassifier("mobilenetv3_large_100", num_classes, in_chans, pretrained, drop_rate)


@register("mobilevit_s", 256, min_img_size=32, paper="MobileViT (InFER++ §III-E cross-dataset study)",
          family="infer", pretrained=("imagenet",))
def mobilevit_s(num_classes=7, in_chans=3, img_size=256, pretrained=False, drop_rate=0.0):
    """MobileViT-S, the "lightweight vision transformer" of the RAF-DB ↔ InFER++ study (six classes there)."""
    return TimmClassifier("mobilevit_s", num_classes, in_chans, pretrained, drop_rate)


class SCN(EmbeddingNet):
    """Self-Cure Network (Wang et al. 2020; InFER++ [53]): ResNet-18 features, a self-attention importance branch
    (FC + sigmoid → α ∈ (0, 1) per image), logits = α · FC(features). The rank-regularisation and relabelling of SCN
    act in the training loss and need α, which ``forward_aux`` returns as ``attention``."""

    def __init__(self, num_classes=7, in_chans=3, pretrained=False, drop=0.5):
        super().__init__()
        self.backbone = timm_create("resnet18", pretrained, in_chans, num_classes=0)
        self.num_features = self.backbone.num_features
        self.drop = nn.Dropout(drop)
        self.alpha = nn.Sequential(nn.Linear(self.num_features, 1), nn.Sigmoid())
        self.head = nn.Linear(self.num_features, num_classes)

    def forward_features(self, x):
        return self.drop(self.backbone(x))

    def forward_aux(self, x):
        f = self.forward_features(x)
        alpha = self.alpha(f)
        return {"logits": alpha * self.head(f), "embedding": f, "attention": alpha.squeeze(1)}

    def forward(self, x):
        return self.forward_aux(x)["logits"]


@register("scn", 224, min_img_size=32, paper="SCN (Wang et al. 2020), InFER++ Tables 3–4", family="infer",
          faithful=True, pretrained=("imagenet",),
          published=(Published(_T4 + " (RAF-DB row)", 224, params_m=11.8, macs_m=1818.56, unit="FLOPs (M)",
                               note="1818.56 is ResNet-18's MAC count at 224", accuracy=0.8703, dataset="RAF-DB"),
                     Published(_T4 + " (AffectNet-8 row)", 224, params_m=11.18, macs_m=1818.56, unit="FLOPs (M)",
                               note="the RAF-DB row prints 11.8M", accuracy=0.6023, dataset="AffectNet-8")))
def scn(num_classes=7, in_chans=3, img_size=224, pretrained=False, drop=0.5):
    """SCN: ResNet-18 with attention-weighted logits."""
    return SCN(num_classes, in_chans, pretrained, drop)


class DACL(EmbeddingNet):
    """DACL (Farzaneh & Qi, WACV 2021, §3.1; InFER++ [9]): ResNet-18 with an attention network that turns the last
    spatial feature map into one weight in (0, 1) per embedding dimension for the sparse centre loss (Eq. 5).

    As the released ``models/resnet.py`` builds it: the 512×7×7 map (``context_grid`` 7: exact at 224 px; smaller
    inputs are average-pooled or repeated to that grid) is flattened through FC 3584 + BN + ReLU, FC 512 + BN + ReLU
    and FC 64 + BN + tanh to a context vector ``e``; a linear layer gives two scores per embedding dimension and a
    two-way softmax keeps the second, so every dimension's weight is an independent gate (a sigmoid of the two
    scores' difference), not a share that the dimensions compete for. ``forward_aux`` returns the weights as
    ``attention`` (batch × 512). ``context_grid`` 3 makes the first layer 4608 × 3584 instead of 25088 × 3584
    (90M weights) for small CPU runs."""

    def __init__(self, num_classes=7, in_chans=3, pretrained=False, context_grid: int = 7):
        super().__init__()
        self.backbone = timm_create("resnet18", pretrained, in_chans, num_classes=0, global_pool="")
        d = self.num_features = self.backbone.num_features
        g = int(context_grid)
        self.context = nn.Sequential(
            nn.AdaptiveAvgPool2d(g), nn.Flatten(),
            nn.Linear(d * g * g, 3584), nn.BatchNorm1d(3584), nn.ReLU(inplace=True),
            nn.Linear(3584, 512), nn.BatchNorm1d(512), nn.ReLU(inplace=True),
            nn.Linear(512, 64), nn.BatchNorm1d(64), nn.Tanh())
        self.scores = nn.Linear(64, 2 * d)
        self.head = nn.Linear(d, num_classes)

    def gate(self, fmap):
        """The per-dimension attention in (0, 1): the second of two softmax-normalised scores per dimension."""
        s = self.scores(self.context(fmap))
        return s.view(len(s), -1, 2).softmax(-1)[..., 1]

    def forward_aux(self, x):
        fmap = self.backbone(x)
        f = fmap.mean((2, 3))
        return {"logits": self.head(f), "embedding": f, "attention": self.gate(fmap)}

    def forward_features(self, x):
        return self.backbone(x).mean((2, 3))


@register("dacl", 224, min_img_size=32, paper="DACL (Farzaneh & Qi 2021), InFER++ Table 3", family="infer",
          pretrained=("imagenet",))
def dacl(num_classes=7, in_chans=3, img_size=224, pretrained=False, context_grid=7):
    """DACL: ResNet-18 + attention network for the sparse centre loss."""
    return DACL(num_classes, in_chans, pretrained, context_grid)


class IslandCNN(EmbeddingNet):
    """The island-loss CNN (Cai et al. 2018; InFER++ [54]) as we read it: three conv stages (64, 128, 256; two 3×3
    conv + BN + PReLU each, 2×2 max-pool), FC 1024 + PReLU (the feature the island / centre loss acts on), dropout,
    FC to the classes. Cai et al. use 60×60 crops; we default to 64×64."""

    def __init__(self, num_classes=7, in_chans=3, img_size=64, embed_dim=1024, drop=0.5):
        super().__init__()
        layers, c = [], in_chans
        for w in (64, 128, 256):
            layers += [nn.Conv2d(c, w, 3, padding=1), nn.BatchNorm2d(w), nn.PReLU(w),
                       nn.Conv2d(w, w, 3, padding=1), nn.BatchNorm2d(w), nn.PReLU(w), nn.MaxPool2d(2)]
            c = w
        self.features = nn.Sequential(*layers)
        side = img_size // 8
        self.embed = nn.Sequential(nn.Flatten(), nn.Linear(c * side * side, embed_dim), nn.PReLU())
        self.num_features = embed_dim
        self.head = nn.Sequential(nn.Dropout(drop), nn.Linear(embed_dim, num_classes))

    def forward_features(self, x):
        return self.embed(self.features(x))


@register("island_cnn", 64, min_img_size=8, paper="Island loss CNN (Cai et al. 2018), InFER++ Table 3",
          family="infer", fixed_size=True)
def island_cnn(num_classes=7, in_chans=3, img_size=64, embed_dim=1024, drop=0.5):
    """IL-CNN backbone for the island loss."""
    return IslandCNN(num_classes, in_chans, img_size, embed_dim, drop)


class EmbeddingClassifier(EmbeddingNet):
    """A timm backbone, a linear embedding with BN (what Ad-Corre's feature and mean discriminators compare), and a
    linear classifier."""

    def __init__(self, timm_name, num_classes, in_chans, pretrained=False, embed_dim=256):
        super().__init__()
        self.backbone = timm_create(timm_name, pretrained, in_chans, num_classes=0)
        self.embed = nn.Sequential(nn.Linear(self.backbone.num_features, embed_dim), nn.BatchNorm1d(embed_dim))
        self.num_features = embed_dim
        self.head = nn.Linear(embed_dim, num_classes)

    def forward_features(self, x):
        return self.embed(self.backbone(x))


@register("adcorre_resnet50", 224, min_img_size=32, paper="Ad-Corre (Fard & Mahoor 2022), InFER++ Table 3",
          family="infer", pretrained=("imagenet",))
def adcorre_resnet50(num_classes=7, in_chans=3, img_size=224, pretrained=False, embed_dim=256):
    """ResNet-50 backbone with a 256-d embedding for the Ad-Corre loss."""
    return EmbeddingClassifier("resnet50", num_classes, in_chans, pretrained, embed_dim)


@register("adcorre_xception", 224, min_img_size=32, paper="Ad-Corre (Fard & Mahoor 2022), InFER++ Table 3",
          family="infer", pretrained=("imagenet",))
def adcorre_xception(num_classes=7, in_chans=3, img_size=224, pretrained=False, embed_dim=256):
    """Xception backbone with a 256-d embedding for the Ad-Corre loss."""
    return EmbeddingClassifier("legacy_xception", num_classes, in_chans, pretrained, embed_dim)


@register("resnet18", 224, min_img_size=32, paper="InFER++ Alg. 2 (ResNet-18 trained with ELR to rank label noise)",
          family="infer", pretrained=("imagenet",),
          published=(Published("ResNet-18 (He et al. 2016)", 224, params_m=11.69, macs_m=1814, unit="MACs",
                               note="1000-class ImageNet head", num_classes=1000),))
def resnet18(num_classes=7, in_chans=3, img_size=224, pretrained=False, drop_rate=0.0):
    """Plain ResNet-18 (timm), the network of InFER++ Alg. 2."""
    return TimmClassifier("resnet18", num_classes, in_chans, pretrained, drop_rate)
