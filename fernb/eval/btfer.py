"""The BTFER benchmark as data (BTFER §III-§IV): a specification (models × resolutions × starts × class weighting ×
training sets × seeds) expanded into :class:`~fernb.train.TrainConfig` rows, run through the shared trainer and the
results registry, scored on a balanced test set, and summarised beside the paper's Tables 2-6.

Resumption is the registry's: every row is keyed by its configuration and data, so :func:`plan` tells which rows are
finished (``done``), begun (``partial``, a checkpoint to resume from), ``pending`` or ``skipped`` (a pretrained start
whose weights are not on this machine: nothing is downloaded), and :func:`run_benchmark` trains only what is not
finished. Bad names fail in :class:`BenchmarkSpec` before any data is read.
"""

from __future__ import annotations

import difflib
import io
import itertools
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from fernb import paths

STARTS = ("scratch", "imagenet", "vggface")
LABEL_QUALITIES = ("plurality", "true", "one_annotator")
PAPER_DATASETS = {"RAF-DB": "rafdb", "FER2013": "fer2013", "AffectNet": "affectnet-7", "AffectNet 7": "affectnet-7"}

# BTFER Tables 2 (48×48) and 3 (224×224), as printed: resolution | model | parameters | training set | validation and
# BTFER accuracy with simple weighting | the same with conservative weighting.
_PAPER = """\
48|VGG16 - IN|~15M|RAF-DB|0.77|0.52|0.79|0.52
48|VGG16 - IN|~15M|FER2013|0.68|0.54|0.68|0.54
48|VGG16 - IN|~15M|AffectNet 7|0.62|0.54|0.63|0.44
48|VGG16 - VF|~15M|RAF-DB|0.72|0.45|0.75|0.46
48|VGG16 - VF|~15M|FER2013|0.66|0.48|0.65|0.50
48|VGG16 - VF|~15M|AffectNet 7|0.60|0.46|0.60|0.45
48|VGG16 - SC|~15M|RAF-DB|0.73|0.47|0.76|0.51
48|VGG16 - SC|~15M|FER2013|0.67|0.54|0.68|0.52
48|VGG16 - SC|~15M|AffectNet 7|0.56|0.41|0.57|0.37
48|VGG19|~20M|RAF-DB|0.78|0.54|0.78|0.54
48|VGG19|~20M|FER2013|0.68|0.55|0.67|0.52
48|VGG19|~20M|AffectNet 7|0.63|0.44|0.64|0.44
48|MobileNet|~6M|RAF-DB|0.72|0.42|0.72|0.42
48|MobileNet|~6M|FER2013|0.67|0.41|0.63|0.41
48|MobileNet|~6M|AffectNet 7|0.60|0.36|0.62|0.36
48|MobileNetV2|~5M|RAF-DB|0.71|0.41|0.65|0.37
48|MobileNetV2|~5M|FER2013|0.61|0.35|0.62|0.41
48|MobileNetV2|~5M|AffectNet 7|0.57|0.46|0.60|0.34
48|EfficientNetV2_BO|~6M|RAF-DB|0.61|0.35|0.68|0.43
48|EfficientNetV2_BO|~6M|FER2013|0.59|0.47|0.61|0.43
48|EfficientNetV2_BO|~6M|AffectNet 7|0.53|0.38|0.50|0.38
48|NasNet|~4,5M|RAF-DB|0.68|0.39|0.67|0.39
48|NasNet|~4,5M|FER2013|0.60|0.30|0.63|0.29
48|NasNet|~4,5M|AffectNet 7|0.43|0.33|0.50|0.38
48|ResNet50|~24M|RAF-DB|0.68|0.43|0.72|0.42
48|ResNet50|~24M|FER2013|0.64|0.39|0.64|0.45
48|ResNet50|~24M|AffectNet 7|0.58|0.38|0.55|0.38
48|DenseNet121|~7M|RAF-DB|0.69|0.42|0.74|0.45
48|DenseNet121|~7M|FER2013|0.64|0.47|0.66|0.45
48|DenseNet121|~7M|AffectNet 7|0.57|0.48|0.36|0.29
48|AlexNet *|~21,5M|RAF-DB|0.53|0.32|0.63|0.38
48|AlexNet *|~21,5M|FER2013|0.47|0.43|0.59|0.50
48|AlexNet *|~21,5M|AffectNet 7|0.50|0.43|0.50|0.38
48|Ensemble|~2M|RAF-DB|0.64|0.40|0.66|0.40
48|Ensemble|~2M|FER2013|0.61|0.35|0.63|0.41
48|Ensemble|~2M|AffectNet 7|0.63|0.41|0.63|0.41
48|Sequential 3Conv|~1,3M|RAF-DB|0.59|0.37|0.72|0.46
48|Sequential 3Conv|~1,3M|FER2013|0.60|0.49|0.66|0.53
48|Sequential 3Conv|~1,3M|AffectNet 7|0.60|0.39|0.59|0.41
48|Sequential 4Conv *|~3M|RAF-DB|0.65|0.47|0.76|0.54
48|Sequential 4Conv *|~3M|FER2013|0.61|0.52|0.66|0.48
48|Sequential 4Conv *|~3M|AffectNet 7|0.59|0.38|0.61|0.40
48|Modular|~5M|RAF-DB|0.63|0.41|0.72|0.45
48|Modular|~5M|FER2013|0.60|0.49|0.65|0.53
48|Modular|~5M|AffectNet 7|0.56|0.39|0.56|0.38
48|RepVGG|~26,5M|RAF-DB|0.60|0.32|0.72|0.46
48|RepVGG|~26,5M|FER2013|0.65|0.38|0.65|0.20
48|RepVGG|~26,5M|AffectNet 7|0.58|0.39|0.58|0.42
48|Sequential Simple *|~2.5|RAF-DB|0.67|0.48|0.75|0.50
48|Sequential Simple *|~2.5|FER2013|0.61|0.51|0.66|0.55
48|Sequential Simple *|~2.5|AffectNet 7|0.53|0.40|0.46|0.37
48|SMMB|~5,5M|RAF-DB|0.66|0.37|0.69|0.46
48|SMMB|~5,5M|FER2013|0.52|0.49|0.63|0.51
48|SMMB|~5,5M|AffectNet 7|0.52|0.39|0.46|0.34
48|VGGNet|~15M|RAF-DB|0.61|0.38|0.77|0.51
48|VGGNet|~15M|FER2013|0.58|0.31|0.66|0.54
48|VGGNet|~15M|AffectNet 7|0.47|0.37|0.52|0.33
48|LeNet5 *|~0,2M|RAF-DB|0.53|0.35|0.65|0.37
48|LeNet5 *|~0,2M|FER2013|0.48|0.45|0.53|0.40
48|LeNet5 *|~0,2M|AffectNet 7|0.53|0.33|0.49|0.32
48|ResNet18 + Dropout + Dense|~12M|RAF-DB|0.74|0.54|0.81|0.56
48|ResNet18 + Dropout + Dense|~12M|FER2013|0.67|0.49|0.68|0.53
48|ResNet18 + Dropout + Dense|~12M|AffectNet 7|0.57|0.41|0.57|0.44
48|Mediapipe Feature Extraction + VGGNet|~5,5M|RAF-DB|0.74|0.40|0.78|0.46
48|Mediapipe Feature Extraction + VGGNet|~5,5M|FER2013|0.66|0.55|0.66|0.53
48|Mediapipe Feature Extraction + VGGNet|~5,5M|AffectNet 7|0.65|0.39|0.65|0.41
48|MNIST_NET|~18M|RAF-DB|0.71|0.53|0.79|0.56
48|MNIST_NET|~18M|FER2013|0.55|0.47|0.69|0.53
48|MNIST_NET|~18M|AffectNet 7|0.45|0.33|0.50|0.36
48|ZF_NET|~21,5M|RAF-DB|0.61|0.40|0.67|0.39
48|ZF_NET|~21,5M|FER2013|0.56|0.51|0.61|0.52
48|ZF_NET|~21,5M|AffectNet 7|0.55|0.36|0.55|0.37
48|GoogLeNet|~6M|RAF-DB|0.71|0.50|0.74|0.55
48|GoogLeNet|~6M|FER2013|0.65|0.54|0.66|0.55
48|GoogLeNet|~6M|AffectNet 7|0.53|0.42|0.56|0.44
224|VGG-16 - IN|~15M|RAF-DB|0.82|0.59|0.83|0.56
224|VGG-16 - IN|~15M|FER2013|0.67|0.54|0.69|0.57
224|VGG-16 - IN|~15M|AffectNet|0.71|0.60|0.69|0.62
224|VGG-16 - VF|~15M|RAF-DB|0.83|0.60|0.85|0.60
224|VGG-16 - VF|~15M|FER2013|0.71|0.58|0.72|0.56
224|VGG-16 - VF|~15M|AffectNet|0.71|0.63|0.70|0.66
224|VGG-16 - SC|~15M|RAF-DB|0.82|0.56|0.82|0.56
224|VGG-16 - SC|~15M|FER2013|0.69|0.56|0.69|0.56
224|VGG-16 - SC|~15M|AffectNet|0.71|0.60|0.71|0.58
224|VGG-19|~20M|RAF-DB|0.81|0.59|0.82|0.57
224|VGG-19|~20M|FER2013|0.68|0.55|0.69|0.57
224|VGG-19|~20M|AffectNet|0.72|0.63|0.72|0.56
224|ResNet50 - IN|~24M|RAF-DB|0.82|0.56|0.82|0.59
224|ResNet50 - IN|~24M|FER2013|0.68|0.50|0.69|0.52
224|ResNet50 - IN|~24M|AffectNet|0.71|0.56|0.70|0.55
224|ResNet50 - VF|~24M|RAF-DB|0.86|0.62|0.87|0.60
224|ResNet50 - VF|~24M|FER2013|0.70|0.56|0.71|0.61
224|ResNet50 - VF|~24M|AffectNet|0.71|0.56|0.72|0.61
224|MobileNet|~6M|RAF-DB|0.78|0.52|0.81|0.54
224|MobileNet|~6M|FER2013|0.67|0.48|0.70|0.52
224|MobileNet|~6M|AffectNet|0.71|0.56|0.71|0.54
224|MobileNetV2|~5M|RAF-DB|0.78|0.53|0.77|0.51
224|MobileNetV2|~5M|FER2013|0.66|0.42|0.68|0.53
224|MobileNetV2|~5M|AffectNet|0.70|0.56|0.69|0.55
224|Xception|~21.5M|RAF-DB|0.80|0.54|0.81|0.52
224|Xception|~21.5M|FER2013|0.70|0.49|0.71|0.53
224|Xception|~21.5M|AffectNet|0.71|0.61|0.72|0.61
224|SeNet50|~27M|RAF-DB|0.85|0.59|0.86|0.59
224|SeNet50|~27M|FER2013|0.69|0.54|0.71|0.62
224|SeNet50|~27M|AffectNet|0.74|0.60|0.69|0.61
224|EfficientNetV2B0|~6M|RAF-DB|0.71|0.57|0.71|0.58
224|EfficientNetV2B0|~6M|FER2013|0.54|0.41|0.66|0.42
224|EfficientNetV2B0|~6M|AffectNet|0.72|0.58|0.69|0.56
224|NasNet|~5M|RAF-DB|0.75|0.48|0.76|0.49
224|NasNet|~5M|FER2013|0.67|0.49|0.67|0.49
224|NasNet|~5M|AffectNet|0.69|0.57|0.68|0.55
224|InceptionV3|~26M|RAF-DB|0.80|0.52|0.82|0.54
224|InceptionV3|~26M|FER2013|0.69|0.40|0.70|0.49
224|InceptionV3|~26M|AffectNet|0.71|0.59|0.72|0.60
224|DenseNet121|~7M|RAF-DB|0.82|0.55|0.82|0.60
224|DenseNet121|~7M|FER2013|0.69|0.50|0.70|0.52
224|DenseNet121|~7M|AffectNet|0.71|0.61|0.72|0.61
224|RepVGG|~34M|RAF-DB|0.78|0.56|0.81|0.55
224|RepVGG|~34M|FER2013|0.69|0.44|0.69|0.47
224|RepVGG|~34M|AffectNet|0.70|0.61|0.71|0.62
224|Sequential Simple|~22M|RAF-DB|0.61|0.43|0.69|0.47
224|Sequential Simple|~22M|FER2013|0.60|0.48|0.62|0.36
224|Sequential Simple|~22M|AffectNet|0.66|0.52|0.66|0.53
224|VGGNet|~12M|RAF-DB|0.77|0.55|0.82|0.57
224|VGGNet|~12M|FER2013|0.67|0.58|0.70|0.60
224|VGGNet|~12M|AffectNet|0.69|0.57|0.70|0.56
224|ResNet18|~6M|RAF-DB|0.77|0.53|0.82|0.56
224|ResNet18|~6M|FER2013|0.67|0.54|0.70|0.63
224|ResNet18|~6M|AffectNet|0.68|0.56|0.69|0.56
224|GoogLeNet|~89M|RAF-DB|0.75|0.60|0.79|0.58
224|GoogLeNet|~89M|FER2013|0.68|0.63|0.68|0.62
224|GoogLeNet|~89M|AffectNet|0.69|0.58|0.69|0.61
224|Modular|~103M|RAF-DB|0.66|0.48|0.73|0.50
224|Modular|~103M|FER2013|0.58|0.49|0.64|0.53
224|Modular|~103M|AffectNet|0.67|0.56|0.66|0.54
"""

# the paper's row names -> (registry model, start); None: not built (fernb.models.btfer.KNOWN_MISSING). A start of
# None means the paper does not say which start that row used.
_NAMES = {
    "VGG16 - IN": ("btfer_vgg16", "imagenet"), "VGG16 - VF": ("btfer_vgg16", "vggface"),
    "VGG16 - SC": ("btfer_vgg16", "scratch"), "VGG19": ("btfer_vgg19", None), "MobileNet": ("btfer_mobilenet", None),
    "MobileNetV2": ("btfer_mobilenetv2", None), "EfficientNetV2_BO": ("btfer_efficientnetv2_b0", None),
    "NasNet": None, "ResNet50": ("btfer_resnet50", None), "DenseNet121": ("btfer_densenet121", None),
    "AlexNet *": ("btfer_alexnet", "scratch"), "Ensemble": ("btfer_ensemble", "scratch"),
    "Sequential 3Conv": ("btfer_seq3conv", "scratch"), "Sequential 4Conv *": ("btfer_seq4conv", "scratch"),
    "Modular": ("btfer_modular", "scratch"), "RepVGG": ("btfer_repvgg", None),
    "Sequential Simple *": ("btfer_seq_simple", "scratch"), "SMMB": ("btfer_smmb", "scratch"),
    "VGGNet": ("btfer_vggnet", "scratch"), "LeNet5 *": ("btfer_lenet5", "scratch"),
    "ResNet18 + Dropout + Dense": ("btfer_resnet18_dense", None), "Mediapipe Feature Extraction + VGGNet": None,
    "MNIST_NET": ("btfer_mnist_net", "scratch"), "ZF_NET": ("btfer_zfnet", "scratch"),
    "GoogLeNet": ("btfer_googlenet", None), "VGG-16 - IN": ("btfer_vgg16", "imagenet"),
    "VGG-16 - VF": ("btfer_vgg16", "vggface"), "VGG-16 - SC": ("btfer_vgg16", "scratch"),
    "VGG-19": ("btfer_vgg19", None), "ResNet50 - IN": ("btfer_resnet50", "imagenet"),
    "ResNet50 - VF": ("btfer_resnet50", "vggface"), "Xception": ("btfer_xception", None),
    "SeNet50": ("btfer_senet50", "vggface"), "EfficientNetV2B0": ("btfer_efficientnetv2_b0", None),
    "InceptionV3": ("btfer_inceptionv3", None), "Sequential Simple": ("btfer_seq_simple", "scratch"),
    "ResNet18": ("btfer_resnet18", None),
}

# BTFER Table 6: the best model per resolution (RAF-DB training, validation and BTFER test accuracy)
PAPER_TABLE6 = pd.DataFrame(
    [(48, "ResNet18 + Add", "btfer_resnet18_dense", "~12M", 0.81, 0.55),
     (48, "Sequential 4 Conv", "btfer_seq4conv", "~3M", 0.76, 0.54),
     (224, "ResNet50 - VF", "btfer_resnet50", "~24M", 0.85, 0.62),
     (224, "DenseNet121", "btfer_densenet121", "~7M", 0.82, 0.60)],
    columns=["img_size", "paper_model", "model", "paper_params", "paper_val_acc", "paper_test_acc"])


def paper_tables() -> pd.DataFrame:
    """BTFER Tables 2-3 as one long table: one row per (resolution, paper model, training set, weighting)."""
    wide = pd.read_csv(io.StringIO(_PAPER), sep="|", header=None,
                       names=["img_size", "paper_model", "paper_params", "paper_dataset", "val_simple",
                              "test_simple", "val_conservative", "test_conservative"])
    wide["paper_dataset"] = wide["paper_dataset"].replace({"AffectNet": "AffectNet 7"})
    wide["dataset"] = wide["paper_dataset"].map(PAPER_DATASETS)
    wide["model"] = [(_NAMES[n] or (None, None))[0] for n in wide["paper_model"]]
    wide["start"] = [(_NAMES[n] or (None, None))[1] for n in wide["paper_model"]]
    rows = [wide.assign(weighting=w, paper_val_acc=wide[f"val_{w}"], paper_test_acc=wide[f"test_{w}"])
            for w in ("simple", "conservative")]
    keep = ["img_size", "paper_model", "model", "start", "paper_params", "paper_dataset", "dataset", "weighting",
            "paper_val_acc", "paper_test_acc"]
    return pd.concat(rows, ignore_index=True)[keep]


# ---- the specification ------------------------------------------------------------------------------------------

def _parse_train_set(text: str) -> tuple[str, str]:
    """``"synth-raf"`` (published labels) or ``"synth-raf:true"`` / ``":one_annotator"`` (SynthFER only)."""
    from fernb.data.manifest import load_manifest

    name, _, quality = str(text).partition(":")
    quality = quality or "plurality"
    manifest = load_manifest(name)  # unknown dataset names fail here, with suggestions
    if quality not in LABEL_QUALITIES:
        raise ValueError(f"training set {text!r}: label quality {quality!r} is unknown; expected one of "
                         f"{LABEL_QUALITIES}")
    if quality != "plurality" and manifest["kind"] != "synthetic":
        raise ValueError(f"training set {text!r}: only SynthFER knows the true labels and each annotator's vote; "
                         f"a real dataset trains on its published labels (write {name!r})")
    return name, quality


def _one_of(kind: str, value, allowed) -> None:
    if value not in allowed:
        close = difflib.get_close_matches(str(value), [str(a) for a in allowed], n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"BenchmarkSpec: unknown {kind} {value!r}{hint}; expected one of {tuple(allowed)}")


@dataclass(frozen=True)
class BenchmarkSpec:
    """What to run, as data: every combination of ``models`` × ``resolutions`` × ``starts`` × ``weightings`` ×
    ``train_sets`` × ``seeds`` is one row (BTFER Tables 2-3 are its 48 and 224 halves). ``train`` holds the
    :class:`~fernb.train.TrainConfig` options common to every row (epochs, learning rate, schedule …);
    ``freeze_epochs`` is the head-only first stage of pretrained rows (BTFER §III-F; scratch rows have one stage);
    ``weight_files`` maps a model to its VGGFace/VGGFace2 weight file (default
    ``$FERNB_HOME/weights/<model>-vggface.pt``). Everything is checked here, before any data is read."""

    models: tuple
    resolutions: tuple = (48,)
    starts: tuple = ("scratch",)
    weightings: tuple = ("simple", "conservative")
    train_sets: tuple = ("synth-raf",)
    seeds: tuple = (0,)
    profile: str = "quick"
    data_seed: int = 0
    train: dict = field(default_factory=dict)
    freeze_epochs: int = 0
    weight_files: dict = field(default_factory=dict)

    def __post_init__(self):
        from fernb.models.registry import entry
        from fernb.profiles import check_profile
        from fernb.train.weighting import SCHEMES

        for name in ("models", "resolutions", "starts", "weightings", "train_sets", "seeds"):
            value = getattr(self, name)
            if isinstance(value, (str, int)) or not len(value):
                raise ValueError(f"BenchmarkSpec.{name} must be a non-empty list, got {value!r}")
            object.__setattr__(self, name, tuple(value))
        for m in self.models:
            entry(m)  # unknown model names fail here, with suggestions
        for s in self.starts:
            _one_of("start", s, STARTS)
        for w in self.weightings:
            _one_of("class weighting", w, SCHEMES)
        for t in self.train_sets:
            _parse_train_set(t)
        check_profile(self.profile)
        for r in self.resolutions:
            if not isinstance(r, int) or isinstance(r, bool) or r < 8:
                raise ValueError(f"BenchmarkSpec.resolutions: {r!r} is not an image size in pixels (>= 8)")
        reserved = {"model", "img_size", "class_weighting", "seed", "dataset", "profile", "data_seed"}
        if reserved & set(self.train):
            raise ValueError(f"BenchmarkSpec.train must not set {sorted(reserved & set(self.train))}: the "
                             f"specification's axes set them")
        for m, p in self.weight_files.items():
            entry(m)
            if not isinstance(p, (str, os.PathLike)):
                raise TypeError(f"BenchmarkSpec.weight_files[{m!r}] must be a path, got {p!r}")

    def rows(self) -> list[Row]:
        """Every combination, each with its configuration or the reason it is skipped (worked out once: finding
        whether pretrained weights are present builds the model)."""
        if "_rows" not in self.__dict__:
            combos = itertools.product(self.models, self.resolutions, self.starts, self.weightings,
                                       self.train_sets, self.seeds)
            object.__setattr__(self, "_rows", [self._row(*c) for c in combos])
        return list(self._rows)

    def _row(self, model, img_size, start, weighting, train_set, seed) -> Row:
        from fernb.models.registry import entry
        from fernb.train import TrainConfig

        base = Row(model, img_size, start, weighting, train_set, seed)
        e = entry(model)
        if img_size < e.min_img_size:
            return base.skip(f"{model} takes inputs of at least {e.min_img_size} px")
        weights, reason = start_weights(model, start, self.weight_files)
        if reason:
            return base.skip(reason)
        dataset, _ = _parse_train_set(train_set)
        kwargs = {} if start == "scratch" else {"pretrained": weights}
        opts = {**self.train, "freeze_epochs": 0 if start == "scratch" else self.freeze_epochs}
        cfg = TrainConfig(model=model, img_size=img_size, class_weighting=weighting, seed=seed, dataset=dataset,
                          profile=self.profile, data_seed=self.data_seed, model_kwargs=kwargs, **opts)
        return Row(model, img_size, start, weighting, train_set, seed, cfg)


@dataclass(frozen=True)
class Row:
    model: str
    img_size: int
    start: str
    weighting: str
    train_set: str
    seed: int
    config: object = None
    skipped: str | None = None

    def skip(self, reason: str) -> Row:
        return Row(self.model, self.img_size, self.start, self.weighting, self.train_set, self.seed, None, reason)

    def key(self) -> dict:
        return {"model": self.model, "img_size": self.img_size, "start": self.start, "weighting": self.weighting,
                "train_set": self.train_set, "seed": self.seed}


def _offline_create(model: str, img_size: int) -> bool:
    """Whether ``model``'s ImageNet weights load without a network (timm's Hugging Face or torch.hub's cache)."""
    from fernb.models import create

    old = os.environ.get("FERNB_OFFLINE")
    os.environ["FERNB_OFFLINE"] = "1"
    try:
        create(model, img_size=img_size, pretrained="imagenet")
        return True
    except RuntimeError:
        return False
    finally:
        if old is None:
            os.environ.pop("FERNB_OFFLINE")
        else:
            os.environ["FERNB_OFFLINE"] = old


def start_weights(model: str, start: str, weight_files: dict | None = None):
    """``(pretrained value, None)`` when ``start`` can be used for ``model`` on this machine, else ``(None, reason)``:
    nothing is downloaded (BTFER §III-E: ImageNet, VGGFace, or scratch)."""
    from fernb.models.registry import entry

    if start == "scratch":
        return False, None
    have = entry(model).pretrained
    if start == "imagenet":
        if "imagenet" not in have:
            return None, f"{model} has no ImageNet weights (BTFER trains it from scratch)"
        found = _offline_create(model, 224)
        absent = "needs its ImageNet weights in the local timm/torchvision cache (none here; nothing is downloaded)"
        return ("imagenet", None) if found else (None, absent)
    if "file" not in have:
        return None, f"{model} has no VGGFace/VGGFace2 start in BTFER"
    path = Path((weight_files or {}).get(model) or paths.home() / "weights" / f"{model}-vggface.pt").expanduser()
    if not path.is_file():
        return None, (f"needs a VGGFace weight file converted to PyTorch at {paths.shown(path)} "
                      f"(keras-vggface, BTFER [29]; none is shipped or downloaded)")
    return str(path), None


# ---- training labels of different quality (Experiment 3) --------------------------------------------------------

def training_labels(ds, quality: str, seed: int = 0):
    """The labels a SynthFER training set is trained on, one per record (``None``: the published ones).

    ``plurality``: the published label, the plurality of the 10 crowd votes (SynthFER publishes it as RAF-DB publishes
    its crowd's); ``true``: the latent expression the face was rendered with; ``one_annotator``: one of each image's
    votes drawn at random (seeded by ``seed``), a single annotator's label as in FER2013-like labelling."""
    if quality == "plurality":
        return None
    if quality == "true":
        if "true_label" not in ds.records:
            raise ValueError(f"label quality 'true' needs the latent labels; dataset {ds.name!r} has none")
        return ds.records["true_label"].to_numpy().astype(np.int64)
    if quality == "one_annotator":
        from fernb.annotate.aggregators import dataset_votes

        votes, _ = dataset_votes(ds)
        order = np.random.default_rng(seed).permutation(len(votes.image))
        images, first = np.unique(votes.image[order], return_index=True)
        labels = np.empty(votes.n_images, np.int64)
        labels[images] = votes.label[order][first]
        return labels
    raise ValueError(f"label quality {quality!r} is unknown; expected one of {LABEL_QUALITIES}")


def label_noise(ds, seed: int = 0) -> pd.Series:
    """Share of training labels that differ from the latent truth, per label quality (what Experiment 3 varies)."""
    truth = ds.records["true_label"].to_numpy()
    train = ds.split("train")
    out = {}
    for q in LABEL_QUALITIES:
        labels = training_labels(ds, q, seed)
        labels = ds.records["label"].to_numpy() if labels is None else labels
        out[q] = float((labels[train] != truth[train]).mean())
    return pd.Series(out, name="label_noise")


# ---- running and resuming ---------------------------------------------------------------------------------------

def _trainer(row: Row, data_root, device, runs_root, progress, callbacks=()):
    from fernb.data import load_dataset
    from fernb.train import Trainer

    dataset, quality = _parse_train_set(row.train_set)
    labels = None
    if quality != "plurality":
        ds = load_dataset(dataset, data_root, profile=row.config.profile, seed=row.config.data_seed, progress=False)
        labels = training_labels(ds, quality, row.seed)
    return Trainer(row.config, data_root, device, runs_root, progress, labels, callbacks=callbacks)


def _state(folder: Path) -> str:
    status = folder / "status"
    if status.exists() and status.read_text().strip() == "done":
        return "done"
    return "partial" if (folder / "checkpoint.pt").exists() else "pending"


def plan(spec: BenchmarkSpec, data_root=None, runs_root=None) -> pd.DataFrame:
    """Every row with its state in the results registry, without training: ``done`` (found, not retrained),
    ``partial`` (resumes from its last checkpoint), ``pending`` or ``skipped`` (with the reason)."""
    out = []
    for row in spec.rows():
        if row.skipped:
            out.append({**row.key(), "state": "skipped", "note": row.skipped})
            continue
        trainer = _trainer(row, data_root, "cpu", runs_root, False)
        trainer.locate()
        out.append({**row.key(), "state": _state(trainer.folder), "note": "", "run": trainer.folder.name})
    return pd.DataFrame(out)


@dataclass
class BenchmarkResult:
    """The rows of a benchmark (``table``: one row per specification row, with what happened) and their runs."""

    table: pd.DataFrame
    runs: dict  # row index in ``table`` -> Run
    evaluations: dict = field(default_factory=dict)  # row index -> Evaluation on the balanced test set (score)

    def run(self, **where):
        """The one run whose row matches ``where`` (e.g. ``model="btfer_lenet5", weighting="simple"``)."""
        t = self.table
        mask = np.ones(len(t), bool)
        for k, v in where.items():
            mask &= (t[k] == v).to_numpy()
        hits = [i for i in np.flatnonzero(mask) if i in self.runs]
        if len(hits) != 1:
            raise KeyError(f"{len(hits)} trained rows match {where}")
        return self.runs[hits[0]]


def run_benchmark(spec: BenchmarkSpec, data_root=None, device="auto", runs_root=None, progress: bool = False,
                  callbacks=()) -> BenchmarkResult:
    """Train every row that is not finished (rows already in the registry are found, a begun row resumes from its
    checkpoint) and collect the runs. ``state`` says what happened: ``found``, ``resumed``, ``trained``, ``skipped``.
    ``callbacks`` reach every training (e.g. :class:`~fernb.train.StopAfterEpoch` to simulate a crash)."""
    from fernb.models import create

    out, runs = [], {}
    for row in spec.rows():
        rec = {**row.key(), "params_m": _params_m(create, row), "state": "skipped", "note": row.skipped or ""}
        if not row.skipped:
            trainer = _trainer(row, data_root, device, runs_root, progress, callbacks)
            trainer.locate()
            before = _state(trainer.folder)
            run = trainer.fit()
            rec.update(state={"done": "found", "partial": "resumed"}.get(before, "trained"),
                       val_acc=_best_val(run), in_domain_acc=run.metrics["accuracy"],
                       in_domain_true_acc=run.metrics.get("accuracy_vs_true_label", np.nan),
                       train_s=run.metrics["train_seconds"], run=run.dir.name)
            runs[len(out)] = run
        out.append(rec)
    columns = [*Row("", 0, "", "", "", 0).key(), "params_m", "state", "note", "val_acc", "in_domain_acc",
               "in_domain_true_acc", "train_s", "run"]
    return BenchmarkResult(pd.DataFrame(out).reindex(columns=columns), runs)


def combine(results) -> BenchmarkResult:
    """Several results as one (their tables stacked, runs and evaluations re-indexed to match)."""
    tables, runs, evaluations, offset = [], {}, {}, 0
    for r in results:
        tables.append(r.table)
        runs.update({i + offset: run for i, run in r.runs.items()})
        evaluations.update({i + offset: ev for i, ev in r.evaluations.items()})
        offset += len(r.table)
    return BenchmarkResult(pd.concat(tables, ignore_index=True), runs, evaluations)


def _params_m(create, row: Row) -> float:
    import torch

    with torch.device("meta"):
        model = create(row.model, img_size=row.img_size)
    return sum(p.numel() for p in model.parameters()) / 1e6


def _best_val(run) -> float:
    """BTFER's validation accuracy: the best epoch's, the one its checkpoint keeps (§III-F)."""
    vals = [h["val_acc"] for h in run.history if "val_acc" in h]
    return float(max(vals)) if vals else float("nan")


# ---- the balanced test set (BTFER §II) ---------------------------------------------------------------------------

@dataclass
class TestSet:
    """A balanced test set: ``dataset`` with the record ``rows`` it uses and their labels ``y``."""

    dataset: object
    rows: np.ndarray
    y: np.ndarray
    title: str

    def counts(self) -> pd.Series:
        names = self.dataset.class_names
        return pd.Series(np.bincount(self.y, minlength=len(names)), index=list(names), name="images")


def balanced_test_set(btfer_root=None, profile: str = "quick", per_class: int = 300, seed: int = 0,
                      domain: str = "synth-infer", data_root=None, trained_on: str | None = None) -> TestSet:
    """BTFER's balanced in-the-wild test set: the reader's copy under ``btfer_root`` (2,100 faces, 7 × 300, checked),
    or on SynthFER ``per_class`` images of each expression of the ``domain`` set (synth-infer: other demographics,
    display style and capture than synth-raf), drawn by their latent true label and scored against it. The
    chapter never trains on ``domain``, so none of these images was seen in training. A real training set
    (``trained_on``) needs the real test set."""
    from fernb.data import load_dataset
    from fernb.data.manifest import load_manifest

    if btfer_root is None and trained_on is not None and load_manifest(trained_on)["kind"] != "synthetic":
        raise ValueError(f"dataset={trained_on!r} is a real training set: set btfer_root=<your copy of BTFER> "
                         f"(7 × 300 faces, one folder per class); the synthetic test set is for SynthFER")

    if btfer_root is not None:
        ds = load_dataset("btfer", btfer_root, progress=False)
        counts = np.bincount(ds.records["label"], minlength=7)
        if len(ds.records) != 2100 or (counts != 300).any():
            raise ValueError(f"btfer_root={paths.shown(btfer_root)!r} holds {len(ds.records)} faces with class counts "
                             f"{dict(zip(ds.class_names, counts.tolist()))}; BTFER is 7 × 300 (BTFER Table 1)")
        rows = np.arange(len(ds.records))
        return TestSet(ds, rows, ds.records["label"].to_numpy()[rows], "BTFER (7 × 300)")
    if not isinstance(per_class, int) or per_class < 1:
        raise ValueError(f"per_class must be a positive integer, got {per_class!r}")
    ds = load_dataset(domain, data_root, profile=profile, seed=seed, progress=False)
    truth = ds.records["true_label"].to_numpy()
    have = np.bincount(truth, minlength=7)
    if have.min() < per_class:
        raise ValueError(f"{domain} ({profile}) has only {have.min()} images of "
                         f"{ds.class_names[int(have.argmin())]}; ask for per_class <= {have.min()}")
    rng = np.random.default_rng(seed)
    rows = np.sort(np.concatenate([rng.choice(np.flatnonzero(truth == c), per_class, replace=False)
                                   for c in range(7)]))
    return TestSet(ds, rows, truth[rows], f"SynthFER {domain}, balanced {per_class} × 7, true labels")


def score(result: BenchmarkResult, test: TestSet) -> BenchmarkResult:
    """Each trained row's accuracy on the balanced test set (``test_acc``), through the run's own preprocessing; the
    evaluations (for the confusion-matrix explorer) are kept in ``result.evaluations``."""
    from fernb.eval import Evaluation

    table = result.table.copy()
    table["test_acc"] = np.nan
    evaluations = {}
    for i, run in result.runs.items():
        probs = run.predict(test.rows, dataset=test.dataset)
        ev = Evaluation(_label(table.loc[i]), test.y, probs, test.dataset.class_names, test.dataset, test.rows,
                        note=test.title)
        table.loc[i, "test_acc"] = float((probs.argmax(1) == test.y).mean())
        evaluations[i] = ev
    return BenchmarkResult(table, result.runs, evaluations)


def _label(row) -> str:
    return f"{row['model']} {row['img_size']}px {row['start']} {row['weighting']} {row['train_set']} s{row['seed']}"


# ---- the paper's tables and the six experiments --------------------------------------------------------------------

def _mean_over_seeds(table: pd.DataFrame, by: list) -> pd.DataFrame:
    done = table[table["state"] != "skipped"]
    return done.groupby(by, as_index=False).agg(params_m=("params_m", "first"), val_acc=("val_acc", "mean"),
                                                 test_acc=("test_acc", "mean"), seeds=("seed", "nunique"))


def _wide(df: pd.DataFrame, index: list, values: dict) -> pd.DataFrame:
    """One column per (value, weighting): ``{"val_acc": "val"}`` -> ``val_simple``, ``val_conservative``."""
    wide = df.pivot_table(index=index, columns="weighting", values=list(values))
    wide.columns = [f"{values[v]}_{w}" for v, w in wide.columns]
    return wide.reset_index()


def beside_paper(table: pd.DataFrame, img_size: int, paper_dataset: str = "RAF-DB",
                 train_set: str | None = None) -> pd.DataFrame:
    """BTFER Table 2 (48) or 3 (224), every paper row for ``paper_dataset`` with ours beside it: validation and
    balanced-test accuracy per weighting (mean over seeds) of our rows of the same model and start (a paper row
    whose start the paper does not name takes any of ours), ``NaN`` where we trained none."""
    sub = table[(table["img_size"] == img_size) & (table["state"] != "skipped")]
    if train_set is not None:
        sub = sub[sub["train_set"] == train_set]
    cols = ["val_simple", "test_simple", "val_conservative", "test_conservative"]
    ours = (_wide(_mean_over_seeds(sub, ["model", "start", "weighting"]), ["model", "start", "params_m"],
                  {"val_acc": "val", "test_acc": "test"}) if len(sub) else
            pd.DataFrame(columns=["model", "start", "params_m", *cols]))
    paper = paper_tables()
    paper = paper[(paper["img_size"] == img_size) & (paper["paper_dataset"] == paper_dataset)]
    paper = paper.fillna({"start": "—", "model": "— (not built)"})
    order = list(dict.fromkeys(paper["paper_model"]))
    paper = _wide(paper, ["paper_model", "model", "start", "paper_params"],
                  {"paper_val_acc": "paper_val", "paper_test_acc": "paper_test"})
    rows = []
    for _, p in paper.iterrows():
        hit = ours[(ours["model"] == p["model"]) & ((p["start"] == "—") | (ours["start"] == p["start"]))]
        mine = [h.drop("model").to_dict() for _, h in hit.iterrows()] or [{"start": None}]
        rows += [{**p.to_dict(), "start": m.pop("start") or p["start"], **m} for m in mine]
    out = pd.DataFrame(rows).reindex(columns=["paper_model", "model", "start", "paper_params", "params_m", *cols,
                                              *[f"paper_{c}" for c in cols]])
    return out.sort_values("paper_model", key=lambda s: s.map(order.index), kind="stable").reset_index(drop=True)


def side_by_side(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`beside_paper`'s table as a page shows it: one row per paper model and start, columns grouped by
    weighting, ours (SynthFER) beside the paper's."""
    out = table.set_index(["paper_model", "start"])
    cols = {}
    for w in ("simple", "conservative"):
        for who, prefix in (("ours", ""), ("paper", "paper_")):
            for metric in ("val", "test"):
                cols[(w, f"{who} {metric}")] = out[f"{prefix}{metric}_{w}"]
    wide = pd.DataFrame(cols)
    wide.insert(0, ("size", "ours M"), out["params_m"])
    wide.insert(1, ("size", "paper"), out["paper_params"])
    wide.columns = pd.MultiIndex.from_tuples(wide.columns)
    return wide


def weighting_gap(table: pd.DataFrame) -> pd.DataFrame:
    """Experiment 4 (BTFER §IV-G): balanced-test accuracy with simple minus conservative weighting, paired by model,
    resolution, start, training set and seed; summarised for scratch and pretrained starts."""
    done = table[table["state"] != "skipped"]
    key = ["model", "img_size", "start", "train_set", "seed"]
    wide = done.pivot_table(index=key, columns="weighting", values="test_acc").dropna()
    if not {"simple", "conservative"} <= set(wide.columns):
        return pd.DataFrame(columns=["start_kind", "pairs", "mean_gap", "mean_abs_gap", "sd_gap", "beyond_noise"])
    gap = (wide["simple"] - wide["conservative"]).rename("gap").reset_index()
    gap["start_kind"] = np.where(gap["start"] == "scratch", "scratch", "pretrained")
    out = gap.groupby("start_kind").agg(pairs=("gap", "size"), mean_gap=("gap", "mean"),
                                        mean_abs_gap=("gap", lambda g: g.abs().mean()),
                                        sd_gap=("gap", "std")).reset_index()
    se = out["sd_gap"] / np.sqrt(out["pairs"])
    out["beyond_noise"] = (out["pairs"] > 1) & (out["mean_gap"].abs() > 2 * se)
    return out


def label_quality(table: pd.DataFrame, metric: str = "test_acc") -> pd.DataFrame:
    """Experiment 3 (BTFER §IV-F) as a controlled variable: ``metric`` (balanced-test accuracy, or
    ``in_domain_true_acc``: the training domain's test split scored against the true labels) per model and label
    quality (mean, sd over seeds), and the paired (same seed) gap of each quality to the true labels, flagged when
    it exceeds two standard errors of the paired gaps."""
    done = table[table["state"] != "skipped"].copy()
    done["quality"] = [_parse_train_set(t)[1] for t in done["train_set"]]
    wide = done.pivot_table(index=["model", "img_size", "weighting", "seed"], columns="quality", values=metric)
    rows = []
    for (model, size, weighting), g in wide.groupby(level=[0, 1, 2]):
        for q in [q for q in LABEL_QUALITIES if q in g.columns]:
            gap = (g[q] - g["true"]) if "true" in g.columns else pd.Series(dtype=float)
            n = int(gap.notna().sum())
            se = gap.std() / np.sqrt(n) if n > 1 else np.nan
            rows.append({"model": model, "img_size": size, "weighting": weighting, "labels": q,
                         "seeds": int(g[q].notna().sum()), metric: g[q].mean(), "sd": g[q].std(),
                         "gap_to_true": gap.mean() if q != "true" else np.nan,
                         "gap_se": se if q != "true" else np.nan,
                         "beyond_noise": bool(n > 1 and abs(gap.mean()) > 2 * se) if q != "true" else None})
    return pd.DataFrame(rows)


def resolution_gap(table: pd.DataFrame, low: int, high: int) -> pd.DataFrame:
    """Experiment 5 (BTFER §IV-H): accuracy at ``high`` minus at ``low`` pixels, per model (mean over seeds)."""
    ours = _mean_over_seeds(table, ["model", "start", "weighting", "img_size"])
    wide = ours.pivot_table(index=["model", "start", "weighting"], columns="img_size", values=["val_acc", "test_acc"])
    if (("test_acc", low) not in wide.columns) or (("test_acc", high) not in wide.columns):
        return pd.DataFrame()
    out = pd.DataFrame({f"val_{low}": wide[("val_acc", low)], f"val_{high}": wide[("val_acc", high)],
                        f"test_{low}": wide[("test_acc", low)], f"test_{high}": wide[("test_acc", high)]})
    out["val_gain"] = out[f"val_{high}"] - out[f"val_{low}"]
    out["test_gain"] = out[f"test_{high}"] - out[f"test_{low}"]
    return out.dropna().reset_index()


def top_models(table: pd.DataFrame, img_size: int, n: int = 5) -> pd.DataFrame:
    """Experiment 2 (BTFER Tables 4-5): the ``n`` best rows at a resolution by validation accuracy, with their size."""
    ours = _mean_over_seeds(table[table["img_size"] == img_size], ["model", "start", "weighting", "train_set"])
    return ours.sort_values("val_acc", ascending=False).head(n).reset_index(drop=True)


def params_accuracy(table: pd.DataFrame) -> dict:
    """Experiment 2: Spearman's rank correlation of parameter count with balanced-test accuracy (all trained rows)."""
    from scipy.stats import spearmanr

    ours = _mean_over_seeds(table, ["model", "img_size", "start", "weighting", "train_set"])
    if len(ours) < 3:
        return {"rows": len(ours), "spearman": float("nan"), "p": float("nan")}
    rho, p = spearmanr(ours["params_m"], ours["test_acc"])
    return {"rows": len(ours), "spearman": float(rho), "p": float(p)}


def best_per_resolution(table: pd.DataFrame, small_m: float = 5.0) -> pd.DataFrame:
    """Experiment 6 (BTFER Table 6): per resolution the best row overall and the best under ``small_m`` million
    parameters (the edge choice), by balanced-test accuracy, beside the paper's picks."""
    ours = _mean_over_seeds(table, ["model", "img_size", "start", "weighting", "train_set"])
    rows = []
    for size, g in ours.groupby("img_size"):
        for pick, pool in (("best", g), (f"best under {small_m:g}M", g[g["params_m"] < small_m])):
            if len(pool):
                rows.append({"pick": pick, **pool.sort_values("test_acc", ascending=False).iloc[0].to_dict()})
    return pd.DataFrame(rows)
