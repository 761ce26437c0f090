"""ResEmoteNet (Roy et al.) and the component ablations C1–C6 of its Table IV.

Architecture (ResEmoteNet §II, Fig. 2b), with what the paper leaves unsaid (dropout, biases) as the authors' released
model builds it (github.com/ArnabKumarRoy02/ResEmoteNet, ``approach/ResEmoteNet.py``: 80,238,599 parameters, the
~80.2M of the published model):

* CNN block (§II-A, Eq. 1): three 3×3 convolutions 64 → 128 → 256, each with batch norm, ReLU and 2×2 max-pooling,
  dropout 0.2 after the first two pools;
* one squeeze-and-excitation block on the 256 channels, reduction 16, its two FC layers without biases (§II-B,
  Eqs. 2–6);
* residual blocks 256→512, 512→1024, 1024→2048, stride 2 (two 3×3 conv + BN, a 1×1 conv + BN projection shortcut,
  ReLU after the sum; §II-C, Eq. 7);
* adaptive average pooling to 1×1 (§II-D, Eq. 8);
* classifier (Eq. 9) 2048 → 1024 → 512 → 256 → classes with ReLU and dropout 0.5 after each hidden layer.

The training protocol's weight decay (1e-4) and momentum (0.9), which §III-B does not state, are the released
``train_files/ResEmoteNet_train.py``'s; they live in the chapter's recipe (:mod:`fernb.papers.resemotenet`).

Input: 64×64; grayscale images are replicated to three channels by the loader (``in_chans=3``), as the authors do for
FER2013; ``in_chans=1`` is accepted too.

Table IV names the ablations by what they keep. Where a removed block leaves a channel gap we assume the next block
takes whatever width arrives and keeps its own output width (so the classifier always sees 2048 features); the CNN
block's dropout follows every conv stage but the last, as in the full network:

====  =============  ====  ==================  ================================================
C1    64, 128, 256   SE    RB 256, 512, 1024   the full model
C2    64, 128, 256   --    RB 256, 512, 1024   SE removed
C3    128, 256       SE    RB 256, 512, 1024   first conv (64) removed; two max-pools, so 16×16 into SE
C4    256            SE    RB 256, 512, 1024   first two convs removed; one max-pool, 32×32 into SE
C5    64, 128, 256   SE    RB 512, 1024        RB(256→512) removed; the next block maps 256→1024
C6    64, 128, 256   SE    RB 1024             RB(256→512), RB(512→1024) removed; one block 256→2048
====  =============  ====  ==================  ================================================
"""

from __future__ import annotations

from torch import nn

from fernb.models.layers import EmbeddingNet, SqueezeExcite
from fernb.models.registry import Published, register


class ResidualBlock(nn.Module):
    """Two 3×3 conv + BN with ReLU between, a projection shortcut when the shape changes, ReLU after the sum (Eq. 7)."""

    def __init__(self, cin: int, cout: int, stride: int = 2):
        super().__init__()
        # convolutions with biases before their BN, as the released model has them
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Identity() if (cin == cout and stride == 1) else nn.Sequential(
            nn.Conv2d(cin, cout, 1, stride), nn.BatchNorm2d(cout))

    def forward(self, x):
        h = self.bn2(self.conv2(self.bn1(self.conv1(x)).relu()))
        return (h + self.shortcut(x)).relu()


class ResEmoteNet(EmbeddingNet):
    """``width`` scales every channel count and the classifier's hidden layers (1.0 = the paper's network); the
    book's ``quick`` profile trains a narrower network of the same shape on a CPU and says so. ``drop`` is the
    dropout after the CNN block's stages (all but the last) and after each hidden layer of the classifier."""

    def __init__(self, num_classes=7, in_chans=3, convs=(64, 128, 256), se=True, res_in=(256, 512, 1024),
                 drop=(0.2, 0.5), width: float = 1.0):
        super().__init__()
        if not 0 < width <= 1:
            raise ValueError(f"ResEmoteNet width must be in (0, 1], got {width!r}")
        convs = [max(8, round(w * width)) for w in convs]
        res_in = [max(8, round(w * width)) for w in res_in]
        hidden = [max(16, round(w * width)) for w in (1024, 512, 256)]
        layers, c = [], in_chans
        for i, w in enumerate(convs):
            layers += [nn.Conv2d(c, w, 3, 1, 1), nn.BatchNorm2d(w), nn.ReLU(inplace=True), nn.MaxPool2d(2)]
            if i < len(convs) - 1:
                layers.append(nn.Dropout(drop[0]))
            c = w
        self.cnn = nn.Sequential(*layers)
        self.se = SqueezeExcite(c, 16, bias=False) if se else nn.Identity()
        blocks = []
        for w in res_in:  # a block is named by its input width in Table IV and doubles it
            blocks.append(ResidualBlock(c, 2 * w, stride=2))
            c = 2 * w
        self.res = nn.Sequential(*blocks)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.num_features = c
        self.head = nn.Sequential(
            nn.Linear(c, hidden[0]), nn.ReLU(inplace=True), nn.Dropout(drop[1]),
            nn.Linear(hidden[0], hidden[1]), nn.ReLU(inplace=True), nn.Dropout(drop[1]),
            nn.Linear(hidden[1], hidden[2]), nn.ReLU(inplace=True), nn.Dropout(drop[1]),
            nn.Linear(hidden[2], num_classes))

    def forward_features(self, x):
        return self.pool(self.res(self.se(self.cnn(x)))).flatten(1)


# name -> (convs, se, residual inputs, what Table IV says was removed)
ABLATIONS = {
    "C1": ((64, 128, 256), True, (256, 512, 1024), "-"),
    "C2": ((64, 128, 256), False, (256, 512, 1024), "SE (256)"),
    "C3": ((128, 256), True, (256, 512, 1024), "CNN (64)"),
    "C4": ((256,), True, (256, 512, 1024), "CNN (64, 128)"),
    "C5": ((64, 128, 256), True, (512, 1024), "RB (256)"),
    "C6": ((64, 128, 256), True, (1024,), "RB (256, 512)"),
}

_PUBLISHED = Published("ResEmoteNet authors' released model (issue figure)", 64, params_m=80.2,
                       note="the paper prints no parameter count; 80.2M is the released model's size "
                            "(approach/ResEmoteNet.py: 80,238,599)")


def _make(cfg):
    convs, se, res_in, _ = ABLATIONS[cfg]

    def build(num_classes=7, in_chans=3, img_size=64, drop=(0.2, 0.5), width: float = 1.0):
        return ResEmoteNet(num_classes, in_chans, convs, se, res_in, drop, width)

    build.__doc__ = f"ResEmoteNet Table IV config {cfg}."
    return build


register("resemotenet", 64, min_img_size=2 ** (3 + 1), paper="ResEmoteNet §II", family="resemotenet",
         published=(_PUBLISHED,), faithful=True)(_make("C1"))
for _cfg, (_convs, _se, _res, _removed) in ABLATIONS.items():
    # every max-pool halves the map (floor), which must stay >= 2×2 into the residual blocks; their stride-2 3×3
    # convolutions (padding 1) never take a map below 1×1
    register(f"resemotenet_{_cfg.lower()}", 64, min_img_size=2 ** (len(_convs) + 1),
             paper=f"ResEmoteNet Table IV {_cfg} (removed: {_removed})", family="resemotenet",
             )(_make(_cfg))
