"""The InFER++ benchmark: Table 3 (SOTA methods on InFER++, §III-F), Table 4 (lightweight methods on RAF-DB and
AffectNet-8, §IV-A) and Table 5 (CK+, 10-fold), with each method's own objective and checks that fail before any
training. The paper's numbers are kept here as printed, with the dataset each was measured on."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from fernb.labels import EXPRESSIONS

PAPER_CLASSES = ("Anger", "Disgust", "Fear", "Happy", "Neutral", "Sad", "Surprise")  # Table 3's column order

# InFER++ Table 3, as printed: per-class accuracy (fractions) and the "Average Accuracy (%)" column.
TABLE_3 = {
    "Savchenko et al. (EfficientNet)": ((0.8510, 0.836, 0.8610, 0.921, 0.881, 0.901, 0.852), 87.11),
    "SCN": ((0.866, 0.849, 0.880, 0.931, 0.892, 0.916, 0.852), 88.1),
    "EfficientFace": ((0.874, 0.858, 0.886, 0.941, 0.903, 0.926, 0.867), 89.21),
    "DACL": ((0.869, 0.853, 0.878, 0.941, 0.894, 0.912, 0.850), 88.39),
    "Ad-Corre": ((0.836, 0.813, 0.841, 0.901, 0.864, 0.871, 0.842), 85.34),
    "Island Loss": ((0.821, 0.806, 0.831, 0.891, 0.854, 0.861, 0.840), 84.34),
    "MobileNetV3": ((0.782, 0.767, 0.792, 0.861, 0.816, 0.826, 0.810), 80.76),
}


@dataclass(frozen=True)
class Method:
    """A benchmarked method: its registry model and the objective its paper trains it with (``loss``)."""

    model: str
    loss: str = "ce"
    note: str = ""


# Table 3's methods with their own objectives (fernb.train.losses); EfficientFace's label-distribution generator
# needs a teacher run (loss="kl_teacher"), so the benchmark trains its network with cross-entropy.
METHODS = {
    "Savchenko et al. (EfficientNet)": Method("savchenko_effnet_b0", "ce", "EfficientNet-B0, cross-entropy"),
    "SCN": Method("scn", "scn", "rank regularisation + relabelling (Wang et al. 2020)"),
    "EfficientFace": Method("efficientface", "ce", "cross-entropy; its label-distribution teacher left out"),
    "DACL": Method("dacl", "sparse_center", "attention-weighted sparse centre loss"),
    "Ad-Corre": Method("adcorre_resnet50", "adcorre", "feature + mean discriminators, ResNet-50 backbone"),
    "Island Loss": Method("island_cnn", "island", "island loss (centre loss + centre separation)"),
    "MobileNetV3": Method("mobilenetv3_large", "ce", "cross-entropy"),
    "LiteXpressionNet": Method("litexpressionnet", "elr_sce", "ELR + SCE, Adam + cosine + SAM (§IV)"),
    "ShuffleNetV2": Method("lfer_ldl_baseline", "ce", "ShuffleNetV2 1.0x (LFER-LDL's baseline build)"),
    "Xception": Method("btfer_xception", "ce", "Xception (timm legacy_xception)"),
}

# InFER++ Table 4: (method, MACs printed as "# Flops (M)", parameters (M), accuracy %), per dataset.
TABLE_4 = {
    "RAF-DB": [("Savchenko et al. (EfficientNet)", 380, 5.3, 86.12), ("MobileNetV3", 225, 5.4, 78.12),
               ("SCN", 1818.56, 11.8, 87.03), ("gACNN", 15479.79, 134.29, 85.07),
               ("ShuffleNetV2", 2330, 20.31, 84.31), ("Xception", 4630, 22.86, 85.29),
               ("EdgeNeXt-S", 5600, 5.6, 84.66), ("RAN", 14548.45, 11.19, 86.90),
               ("LDL-ALSG", 4109.48, 23.52, 85.53), ("FGNet", 2050, 28.2, 86.72),
               ("EfficientFace", 154.18, 1.2, 88.36), ("LiteXpressionNet", 126, 4.6, 86.34)],
    "AffectNet-8": [("VGGNet-Variant", 80.44, 6.54, 58.00), ("MobileNet-Variant", 13.56, 0.074, 56.00),
                    ("SCN", 1818.56, 11.18, 60.23), ("EfficientFace", 154.18, 1.28, 59.89),
                    ("LiteXpressionNet", 126, 4.6, 58.56)],
}

# InFER++ Table 5: CK+, 10-fold cross-validation, accuracy %.
TABLE_5 = {"IACNN": 95.37, "DLP-CNN": 95.78, "gACNN": 96.40, "SCAN-CCI": 97.31, "DeRL": 97.37, "FN2EN": 98.60,
           "ShuffleNetV2": 91.83, "Xception": 91.82, "EdgeNeXt-S": 90.25, "FGNet": 97.89, "LiteXpressionNet": 98.92}

# The dataset each paper block was measured on, and the datasets of this book that stand in for it.
PAPER_DATASETS = {"Table 3": "InFER++", "RAF-DB": "RAF-DB", "AffectNet-8": "AffectNet-8", "Table 5": "CK+"}
STAND_INS = {"synth-infer": "InFER++", "infer-pp": "InFER++", "synth-raf": "RAF-DB", "rafdb": "RAF-DB",
             "affectnet-8": "AffectNet-8", "ckplus": "CK+"}


def table3_self_check() -> pd.DataFrame:
    """What Table 3's own rows say about themselves: the mean of each row's seven per-class accuracies beside the
    "Average Accuracy" it prints (the average of per-class accuracies is the mean class accuracy; an overall
    accuracy over InFER++'s skewed classes would weight happiness, 37 % of the images, most)."""
    rows = []
    counts = np.array([3799, 1025, 3855, 13078, 7851, 4391, 1790])  # Table 2(a), canonical order
    for name, (per_class, avg) in TABLE_3.items():
        pc = np.array(per_class)
        rows.append({"method": name, "printed average (%)": avg, "mean of per-class (%)": round(100 * pc.mean(), 2),
                     "count-weighted mean (%)": round(100 * (pc * counts).sum() / counts.sum(), 2),
                     "printed − mean of per-class": round(avg - 100 * pc.mean(), 2)})
    return pd.DataFrame(rows).set_index("method")


def methods(names) -> dict:
    """The named methods of :data:`METHODS`; an unknown name fails, listing the known ones."""
    bad = [n for n in names if n not in METHODS]
    if bad:
        raise ValueError(f"methods {bad} are not benchmarked here; expected names from {list(METHODS)}")
    return {n: METHODS[n] for n in names}


def check_objective(model: str, loss: str, img_size: int, in_chans: int = 3):
    """Fail before any training when ``loss`` reads ``forward_aux`` keys that ``model`` does not give (SCN's and
    DACL's attention, the embedding of the centre, island and Ad-Corre losses). The model is built and probed on
    PyTorch's meta device: no memory, no compute."""
    import torch

    from fernb.models import create
    from fernb.train.losses import objective_class

    cls = objective_class(loss)
    if not cls.needs_aux:
        return
    with torch.device("meta"):
        net = create(model, in_chans=in_chans, img_size=img_size).eval()
        if not hasattr(net, "forward_aux"):
            raise ValueError(f"loss={loss!r} needs the model's forward_aux (its embedding); model {model!r} has none")
        with torch.no_grad():
            out = net.forward_aux(torch.zeros(2, in_chans, img_size, img_size))
    missing = [k for k in ("embedding", *cls.aux_keys) if k not in out]
    if missing:
        raise ValueError(f"loss={loss!r} needs {missing} from model {model!r}'s forward_aux, which gives "
                         f"{sorted(out)}; pair it with the model its method defines")


def check_methods(chosen: dict, img_size: int | None = None):
    """Every method's model accepts ``img_size`` (``None``: its paper's own) and gives what its objective reads:
    all checked before training."""
    from fernb.models.registry import entry, validate

    for name, m in chosen.items():
        size = img_size or entry(m.model).img_size
        try:
            validate(m.model, None, 3, size)
        except ValueError as e:
            raise ValueError(f"method {name!r}: {e}") from None
        check_objective(m.model, m.loss, size)


def check_table4_dataset(dataset: str, data_root=None) -> str:
    """The Table 4 block a dataset stands in for. AffectNet-8 needs a reader's copy: SynthFER has seven classes
    (no contempt), so it cannot stand in for the eight-class task."""
    from fernb.data.manifest import load_manifest

    if dataset not in ("synth-raf", "rafdb", "affectnet-8"):
        raise ValueError(f"table4_dataset={dataset!r}; expected 'synth-raf' (SynthFER, for RAF-DB), 'rafdb' or "
                         f"'affectnet-8' with data_root")
    if dataset == "affectnet-8" and data_root is None:
        raise ValueError("table4_dataset='affectnet-8' needs your copy of AffectNet (data_root): SynthFER has no "
                         "contempt class, so no synthetic dataset stands in for AffectNet-8")
    if load_manifest(dataset)["kind"] != "synthetic" and data_root is None:
        raise ValueError(f"table4_dataset={dataset!r} is a licence-gated real dataset: set data_root to your copy")
    return STAND_INS[dataset]


def check_fold(dataset: str, fold):
    """``fold`` only applies to a cross-validated dataset (CK+, whose manifest declares its folds)."""
    from fernb.data.manifest import load_manifest

    if fold is None:
        return
    folds = load_manifest(dataset).get("protocol", {}).get("folds")
    if not folds:
        raise ValueError(f"fold={fold!r} but dataset {dataset!r} has no folds (only cross-validated datasets such "
                         f"as ckplus do); leave fold=None, or use kfold_folders() for SynthFER")
    if not isinstance(fold, int) or isinstance(fold, bool) or not 0 <= fold < folds:
        raise ValueError(f"fold={fold!r}; {dataset} has folds 0..{folds - 1}")


def per_class(runs: dict, paper: dict = TABLE_3) -> pd.DataFrame:
    """Ours beside Table 3: one row per method and source (``paper`` on InFER++, ``ours`` on the run's dataset),
    per-class accuracy in Table 3's column order, the mean of the per-class figures and the overall accuracy (%)."""
    rows = []
    for name, run in runs.items():
        if name in paper:
            pc, avg = paper[name]
            rows.append({"method": name, "measured on": "InFER++ (paper)", **dict(zip(PAPER_CLASSES, pc)),
                         "average (%)": avg, "overall accuracy (%)": None})
        m, ds = run.metrics, run.config.dataset
        ours = [m["per_class_accuracy"].get(c) for c in EXPRESSIONS]
        rows.append({"method": name, "measured on": f"{ds} (ours)", **dict(zip(PAPER_CLASSES, ours)),
                     "average (%)": 100 * m["mean_class_accuracy"], "overall accuracy (%)": 100 * m["accuracy"]})
    return pd.DataFrame(rows).set_index(["method", "measured on"]).astype(float).round(3)


def table4(runs: dict, block: str, measured_on: str) -> pd.DataFrame:
    """Table 4's rows of ``block`` beside ours: MACs and parameters at our training resolution and the paper's,
    accuracy (%) with the dataset each was measured on; a method we do not train shows ``None`` (a dash)."""
    from fernb.eval.complexity import model_complexity

    rows = []
    for name, macs, params, acc in TABLE_4[block]:
        row = {"method": name, f"paper MACs (M, {block})": macs, "paper params (M)": params,
               f"paper accuracy (%, {block})": acc, "our MACs (M)": None, "our params (M)": None,
               "our img_size": None, f"our accuracy (%, {measured_on})": None}
        if name in runs:
            r = runs[name]
            c = model_complexity(r.config.model, r.config.img_size)
            row.update({"our MACs (M)": round(c["macs_m"], 1), "our params (M)": round(c["params_m"], 2),
                        "our img_size": r.config.img_size,
                        f"our accuracy (%, {measured_on})": round(100 * r.metrics["accuracy"], 2)})
        rows.append(row)
    return pd.DataFrame(rows).set_index("method")


def write_records(ds, rows, split, folder) -> Path:
    """A record-table folder (``dataset="records"``) holding rows ``rows`` of ``ds`` with the given ``split``
    column. Images are not copied: the folder links to ``ds``'s image folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    keep = [c for c in ("image", "label", "true_label", "age_group", "gender") if c in ds.records]
    ds.records.iloc[rows][keep].assign(split=split).to_csv(folder / "records.csv", index=False)
    link = folder / "images"
    if not link.exists():
        os.symlink(Path(ds.root).resolve() / "images", link, target_is_directory=True)
    return folder


def kfold_folders(ds, out, k: int = 10, n: int | None = None, seed: int = 0) -> list[Path]:
    """``k`` record-table folders for k-fold cross-validation of ``ds`` (a dataset without folds: SynthFER): a
    stratified subset of ``n`` images (all by default) split by :class:`sklearn.model_selection.StratifiedKFold`,
    fold ``i``'s folder holding fold ``i`` as its test split and the rest as train. SynthFER has no subject ids,
    so the folds are stratified by class, not subject-independent like CK+'s."""
    from sklearn.model_selection import StratifiedKFold, train_test_split

    labels = ds.records["label"].to_numpy()
    rows = np.arange(len(labels))
    if n is not None and n < len(rows):
        rows = np.sort(train_test_split(rows, train_size=n, random_state=seed, stratify=labels)[0])
    if k < 2 or k > np.bincount(labels[rows]).min():
        raise ValueError(f"k={k} folds need at least k images of every class and k >= 2")
    root = Path(out) / f"{ds.name}-{ds.fingerprint}-n{len(rows)}-k{k}-s{seed}"
    folders = []
    for i, (_, test) in enumerate(StratifiedKFold(k, shuffle=True, random_state=seed).split(rows, labels[rows])):
        split = np.full(len(rows), "train", dtype=object)
        split[test] = "test"
        folders.append(write_records(ds, rows, split, root / f"fold{i}"))
    return folders


def fold_summary(results: pd.DataFrame) -> pd.DataFrame:
    """Mean and spread across folds (``results``: one row per method and fold, ``accuracy`` as a fraction) beside
    Table 5's CK+ figure (%)."""
    g = results.groupby("method", sort=False)["accuracy"]
    out = pd.DataFrame({"folds": g.size(), "mean accuracy (%)": 100 * g.mean(), "sd across folds (pts)": 100 * g.std(),
                        "min (%)": 100 * g.min(), "max (%)": 100 * g.max()})
    out["paper (%, CK+ 10-fold)"] = [TABLE_5.get(m) for m in out.index]
    return out.round(2)


def _fold_row(name: str, fold: int, run) -> dict:
    m = run.metrics
    return {"method": name, "fold": fold, "accuracy": m["accuracy"], "mean class accuracy": m["mean_class_accuracy"],
            "test images": m["n"]}


def cross_validate(ch, chosen: dict, k: int = 10, n: int | None = None, fold: int | None = None,
                   **options) -> pd.DataFrame:
    """Table 5's protocol: every method of ``chosen`` on every fold (or the one ``fold``). A cross-validated
    dataset (CK+) uses its own subject-independent folds; a dataset without folds (SynthFER) is split into ``k``
    class-stratified folds of an ``n``-image subset (:func:`kfold_folders`). One row per method and fold."""
    from fernb import paths
    from fernb.data import load_dataset
    from fernb.train import TrainConfig, fit

    folds = ch.manifest.get("protocol", {}).get("folds")
    check_fold(ch.dataset, fold)
    rows = []
    if folds:
        for name, m in chosen.items():
            for f in ([fold] if fold is not None else range(folds)):
                rows.append(_fold_row(name, f, ch.fit(model=m.model, loss=m.loss, fold=f, **options)))
        return pd.DataFrame(rows)
    ds = load_dataset(ch.dataset, ch.data_root, profile=ch.profile, seed=ch.seed, progress=False)
    folders = kfold_folders(ds, paths.cache_root() / "kfold", k, n, ch.seed)
    for name, m in chosen.items():
        for f, folder in enumerate(folders):
            cfg = TrainConfig(dataset="records", model=m.model, loss=m.loss, seed=ch.seed, **options)
            rows.append(_fold_row(name, f, fit(cfg, data_root=folder, device=ch.device, progress=False)))
    return pd.DataFrame(rows)
