"""BTFER's printed numbers as data: Tables 2 (48×48) and 3 (224×224), one row per paper model and training set with
its validation and BTFER accuracy under both class weightings (§III-B, §IV-C), and Table 6, the best model per
resolution (§IV-I). The paper's row names map to the registry's models and starts (``None``: not built)."""

from __future__ import annotations

import io

import pandas as pd

PAPER_DATASETS = {"RAF-DB": "rafdb", "FER2013": "fer2013", "AffectNet": "affectnet-7", "AffectNet 7": "affectnet-7"}


def paper_dataset(dataset: str) -> str:
    """The paper's training set our ``dataset`` stands beside (RAF-DB for SynthFER, whose class prior is RAF-DB's)."""
    return {v: k for k, v in PAPER_DATASETS.items()}.get(dataset, "RAF-DB")

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

