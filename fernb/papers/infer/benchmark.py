"""The InFER++ benchmark: Table 3 (SOTA methods on InFER++, §III-F), Table 4 (lightweight methods on RAF-DB and
AffectNet-8, §IV-A) and Table 5 (CK+, 10-fold), with each method's own objective, checks that fail before any
training, what each profile trains (recipes), the drivers that train them, the figures and the text that reads the
measurements. The paper's numbers are kept here as printed, with the dataset each was measured on."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from fernb.data.records import write_records
from fernb.labels import EXPRESSIONS
from fernb.papers.recipes import Recipe

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
TABLE_2_COUNTS = (3799, 1025, 3855, 13078, 7851, 4391, 1790)  # InFER++ Table 2(a), canonical order


ADAM_FALLBACK = "InFER++ §III-F's Adam (lr 1e-3, β 0.99 / 0.999): its authors publish no recipe"


@dataclass(frozen=True)
class Method:
    """A benchmarked method: its registry model, the objective its paper trains it with (``loss``,
    ``loss_kwargs``), the training options its authors publish (``recipe``: they replace the table's shared
    optimiser; empty = InFER++ §III-F's Adam), where those come from (``source``), and for a method trained on a
    label-distribution teacher's soft labels, the teacher's model (``teacher``, trained first with cross-entropy on
    the same training split)."""

    model: str
    loss: str = "ce"
    note: str = ""
    recipe: dict = field(default_factory=dict)
    loss_kwargs: dict = field(default_factory=dict)
    teacher: str | None = None
    source: str = ADAM_FALLBACK


SGD = dict(optimizer="sgd", betas=(0.9, 0.999), momentum=0.9)
SCN_RECIPE = dict(optimizer="adam", lr=1e-3, betas=(0.9, 0.999), weight_decay=1e-4, scheduler="exponential",
                  lr_gamma=0.9)
DACL_RECIPE = dict(**SGD, lr=0.01, weight_decay=5e-4, scheduler="step", lr_step_size=20, lr_gamma=0.1)
EFFICIENTFACE_RECIPE = dict(**SGD, lr=0.1, weight_decay=1e-4, scheduler="step", lr_step_size=30, lr_gamma=0.1)

# Table 3's methods with their own objectives (fernb.train.losses) and, where the authors publish one, their recipe.
METHODS = {
    "Savchenko et al. (EfficientNet)": Method("savchenko_effnet_b0", "ce", "EfficientNet-B0, cross-entropy"),
    "SCN": Method("scn", "scn", "rank regularisation + relabelling (Wang et al. 2020)", SCN_RECIPE,
                  source="SCN's released src/train.py: Adam (lr 1e-3), weight decay 1e-4, ExponentialLR 0.9 per "
                         "epoch (70 epochs, batch 64 there)"),
    "EfficientFace": Method("efficientface", "kl_teacher", "trained on its label distribution generator's soft "
                            "labels (a ResNet-18 teacher here; ResNet-50 there)", EFFICIENTFACE_RECIPE,
                            {"base": "none"}, teacher="resnet18",
                            source="EfficientFace's released main.py: SGD lr 0.1, momentum 0.9, weight decay 1e-4, "
                                   "lr × 0.1 every 30 epochs (100 epochs, batch 128 there)"),
    "DACL": Method("dacl", "sparse_center", "attention-weighted sparse centre loss", DACL_RECIPE,
                   {"lam": 0.01, "center_lr_scale": 50.0},
                   source="DACL's released main.py and workspace.py: SGD lr 0.01, momentum 0.9, weight decay 5e-4, "
                          "StepLR 20 × 0.1, λ 0.01, centres by SGD at lr 0.5 (60 epochs, batch 64 there)"),
    "Ad-Corre": Method("adcorre_resnet50", "adcorre", "feature + mean discriminators, ResNet-50 backbone"),
    "Island Loss": Method("island_cnn", "island", "island loss (centre loss + centre separation)"),
    "MobileNetV3": Method("mobilenetv3_large", "ce", "cross-entropy"),
    "LiteXpressionNet": Method("litexpressionnet", "elr_sce", "ELR + SCE, Adam + cosine + SAM (§IV)",
                               source="InFER++ §IV-A: Adam, cosine annealing, SAM (ρ not given: 0.05)"),
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

# How each method is optimised: §III-F's Adam for the SOTA methods (lr 1e-3, beta1 0.99, beta2 0.999), §IV-A's
# recipe for LiteXpressionNet (Adam, cosine annealing, SAM; the paper gives no rho: 0.05, SAM's own default).
SOTA_OPTIMISER = dict(optimizer="adam", lr=1e-3, betas=(0.99, 0.999))
LITE_OPTIMISER = dict(optimizer="adam", lr=1e-3, scheduler="cosine", sam_rho=0.05)

# What each profile trains. The paper: every method 50 epochs from scratch at its own resolution (img_size None).
# DACL's released attention network flattens a 7x7 map into 3,584 units (90M weights, 7 s to build on a CPU);
# at 32 px the map is 1x1, so smoke and quick pool it to 3x3 (30M weights); full keeps the released 7x7.
SMALL_DACL = {"DACL": {"context_grid": 3}}
# quick trains none of Table 3's methods nor Table 5's folds: none converges in a 2-core CPU's budget. Measured
# on synth-infer at 32 px, seed 0, §III-F's Adam, batch 64, 8 epochs (fit_method as table3 calls it,
# 2026-12-02): SCN 55.2 % (majority share 31.7 %, training accuracy still rising, 0.54) in 99 s; Island Loss 30.7 %,
# at the prior, in 144 s; DACL slower still. Table 5's ShuffleNetV2 on 3 folds of 600 images, 15 epochs: 26-31 %,
# at the prior, 62 s. They train in full (and its recorded copy); quick's Table 4 shares chapter 04's runs.
TABLE3_RECIPE = Recipe(
    "table3", "Table 3: the SOTA methods (§III-F)",
    common=dict(**SOTA_OPTIMISER, scheduler="none"),
    # smoke: three of the methods' own objectives (all seven took ~19 s of smoke's 40 on a cold cache; the unit
    # tests train EfficientFace's teacher path and DACL's recipe)
    smoke=dict(methods=["SCN", "Ad-Corre", "Island Loss"], img_size=32, epochs=1, batch_size=16,
               max_batches_per_epoch=1, method_kwargs=SMALL_DACL),
    quick=dict(methods=[], img_size=32, epochs=8, batch_size=64, max_batches_per_epoch=None,
               method_kwargs=SMALL_DACL),
    # long (recorded on the CPU): every method at quick's size for twice its epochs (SCN was still rising at 8)
    long=dict(methods=list(TABLE_3), epochs=16),
    full=dict(methods=list(TABLE_3), img_size=None, epochs=50, batch_size=64, max_batches_per_epoch=None,
              method_kwargs={}),
)
# shared "zoo": the methods' networks as chapter 04 trains them (fernb.papers.zoo.TRAINED, one protocol: Adam,
# cosine, cross-entropy, conservative class weights), the same runs from the cache, not each method's own objective
TABLE4_RECIPE = Recipe(
    "table4", "Table 4: LiteXpressionNet and the lightweight methods (§IV-A)",
    common=dict(scheduler="cosine", litexpressionnet=LITE_OPTIMISER, other_methods=SOTA_OPTIMISER),
    smoke=dict(methods=["LiteXpressionNet", "EfficientFace"], img_size=64, epochs=1, batch_size=16,
               max_batches_per_epoch=1, shared=None),
    quick=dict(methods=["LiteXpressionNet", "EfficientFace"], img_size=64, epochs=6, batch_size=64,
               max_batches_per_epoch=None, shared="zoo"),
    full=dict(methods=["LiteXpressionNet", "EfficientFace", "Savchenko et al. (EfficientNet)", "MobileNetV3",
                       "SCN", "ShuffleNetV2", "Xception"],
              img_size=None, epochs=50, batch_size=64, max_batches_per_epoch=None, shared=None),
)
TABLE5_RECIPE = Recipe(
    "table5", "Table 5: k-fold cross-validation (§IV-A)",
    common=dict(optimizer="adam", lr=1e-3, scheduler="cosine"),
    smoke=dict(methods=["ShuffleNetV2"], folds=2, images=None, img_size=32, epochs=1, batch_size=32,
               max_batches_per_epoch=2),
    quick=dict(methods=[], folds=3, images=600, img_size=32, epochs=15, batch_size=64,
               max_batches_per_epoch=None),
    # long: the paper's ten folds for LiteXpressionNet and ShuffleNetV2 on 1,000 images at 64 px (LiteXpressionNet's
    # smallest input; ShuffleNetV2 stayed at the prior at 32 px), about two minutes a fold
    long=dict(methods=["LiteXpressionNet", "ShuffleNetV2"], folds=10, images=1000, img_size=64),
    full=dict(methods=["LiteXpressionNet", "ShuffleNetV2", "Xception"], folds=10, images=None, img_size=224,
              epochs=50, batch_size=64, max_batches_per_epoch=None),
)
EDGE_RECIPE = Recipe(
    "edge", "Edge cost: batch-1 latency (§IV)",
    smoke=dict(methods=["EfficientFace"], calibration_images=8, latency_runs=2),
    quick=dict(methods=["LiteXpressionNet", "EfficientFace"], calibration_images=16, latency_runs=10),
    full=dict(methods=["LiteXpressionNet", "EfficientFace"], calibration_images=512, latency_runs=100),
)
RECIPES = (TABLE3_RECIPE, TABLE4_RECIPE, TABLE5_RECIPE, EDGE_RECIPE)  # in the chapter's order but the ablation
# recipe settings that are not TrainConfig options
NOT_TRAINING = ("methods", "folds", "images", "img_size", "litexpressionnet", "other_methods",
                "method_kwargs", "shared")


def train_options(r) -> dict:
    """The :class:`~fernb.train.TrainConfig` options of a recipe's column (its settings less the driver's own)."""
    return {k: v for k, v in r.items() if k not in NOT_TRAINING}


def img_size(r, method: Method) -> int:
    """The recipe's resolution, or (``None``: the paper's protocol) the method's own."""
    from fernb.models import entry

    return r.img_size or entry(method.model).img_size


# --- Table 3's own figures --------------------------------------------------------------------------------------

def table3_self_check() -> pd.DataFrame:
    """What Table 3's own rows say about themselves: the mean of each row's seven per-class accuracies beside the
    "Average Accuracy" it prints (the average of per-class accuracies is the mean class accuracy; an overall
    accuracy over InFER++'s skewed classes would weight happiness, 37 % of the images, most)."""
    rows = []
    counts = np.array(TABLE_2_COUNTS)
    for name, (per_class, avg) in TABLE_3.items():
        pc = np.array(per_class)
        rows.append({"method": name, "printed average (%)": avg, "mean of per-class (%)": round(100 * pc.mean(), 2),
                     "count-weighted mean (%)": round(100 * (pc * counts).sum() / counts.sum(), 2),
                     "printed − mean of per-class": round(avg - 100 * pc.mean(), 2)})
    return pd.DataFrame(rows).set_index("method")


def self_check_text(check: pd.DataFrame) -> str:
    """Markdown: what :func:`table3_self_check` found (Table 3's column is the mean class accuracy)."""
    gap = check["printed − mean of per-class"].abs()
    weighted = check["count-weighted mean (%)"]
    return (f"The printed average differs from the mean of its row's per-class figures by up to {gap.max():.2f} "
            f"points ({gap.idxmax()}); {int((gap > 0.05).sum())} of {len(gap)} rows differ by more than rounding "
            f"(0.05). Weighted by InFER++'s class counts (Table 2), the same per-class figures give an overall "
            f"accuracy of {weighted.min():.1f}–{weighted.max():.1f} %, so the column is the mean class accuracy, "
            f"not the overall accuracy. Ours below reports both.")


# --- checks before any training ---------------------------------------------------------------------------------

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


def check_requests(ch, table4_dataset: str, table4_root=None, fold=None) -> str:
    """Every check of the chapter's requests, before any training: the Table 4 dataset (returns the paper block
    it stands in for), the fold, and every method of this profile's Tables 3-5 against its resolution."""
    block = check_table4_dataset(table4_dataset, table4_root)
    check_fold(ch.dataset, fold)
    for recipe in (TABLE3_RECIPE, TABLE4_RECIPE, TABLE5_RECIPE):
        r = recipe(ch.profile)
        check_methods(methods(r.methods), r.img_size)
    return block


def bad_requests() -> list[str]:
    """The errors three bad requests raise before training: a method paired with an objective its network cannot
    feed, a ``fold`` on a dataset without folds, AffectNet-8 asked of SynthFER."""
    said = []
    for call in (lambda: check_objective("mobilenetv3_large", "scn", 32), lambda: check_fold("synth-infer", 3),
                 lambda: check_table4_dataset("affectnet-8")):
        try:
            call()
        except ValueError as err:
            said.append(f"ValueError: {err}")
        else:
            raise AssertionError("a bad request passed its check")
    return said


def methods_frame(profile: str) -> pd.DataFrame:
    """The methods each table trains in ``profile``: model, objective, a note and where its recipe comes from."""
    rows = [{"table": t, "method": n, "model": m.model, "objective": m.loss, "note": m.note, "recipe": m.source}
            for t, recipe in (("3", TABLE3_RECIPE), ("4", TABLE4_RECIPE), ("5", TABLE5_RECIPE))
            for n, m in methods(recipe(profile).methods).items()]
    return pd.DataFrame(rows).set_index(["table", "method"])


# --- training one method ---------------------------------------------------------------------------------------

def fit_method(ch, m: Method, **options):
    """One method's run through ``ch.fit``: the table's ``options`` (size, epochs, batches, its shared optimiser)
    with the method's published recipe over them and its objective. A teacher-trained method (EfficientFace) first
    trains its teacher with cross-entropy on the same options and split, and learns from the teacher's
    distributions (:func:`teacher_file`)."""
    loss_kwargs = dict(m.loss_kwargs)
    if m.teacher:
        teacher = ch.fit(**{**options, "model": m.teacher, "loss": "ce"})
        loss_kwargs["teacher"] = str(teacher_file(teacher))
    return ch.fit(model=m.model, loss=m.loss, loss_kwargs=loss_kwargs, **{**options, **m.recipe})


def teacher_file(run) -> Path:
    """The label distributions a trained teacher run predicts for every record of its dataset, written once per
    run under ``$FERNB_HOME/cache/teachers`` (the run folder's name keys it)."""
    from fernb import paths
    from fernb.papers.lfer_ldl.distributions import teacher_distributions

    path = paths.cache_root() / "teachers" / f"{Path(run.dir).name}.npy"
    return path if path.exists() else teacher_distributions(run, path)


def recipes_of(names) -> pd.DataFrame:
    """Where each method's training recipe comes from: its authors' released code or InFER++ §III-F's fallback."""
    return pd.DataFrame([{"method": n, "objective": m.loss, "recipe": m.source} for n, m in methods(names).items()]
                        ).set_index("method")


# --- Tables 3 and 4: drivers and frames ---------------------------------------------------------------------------

@dataclass
class Trained:
    """One table's runs (by method) and the table set beside the paper's; ``block``: the paper block compared."""

    runs: dict
    table: pd.DataFrame
    block: str = ""
    measured_on: str = ""
    extra: dict = field(default_factory=dict)
    guard: dict = field(default_factory=dict)
    """``ch.report``'s ``runs=`` (table row → the runs it rests on) and ``columns=`` (the ones they fill)."""


def table3(ch) -> Trained:
    """Table 3's methods (§III-F), each with its own objective and §III-F's Adam, as :data:`TABLE3_RECIPE` says
    for the chapter's profile, on the chapter's dataset; the table is :func:`per_class` (the paper's rows alone
    when the profile trains none)."""
    r = TABLE3_RECIPE(ch.profile)
    runs = {name: fit_method(ch, m, img_size=img_size(r, m), model_kwargs=r.method_kwargs.get(name, {}),
                             **train_options(r))
            for name, m in methods(r.methods).items()}
    rows = {(name, f"{run.config.dataset} (ours)"): run for name, run in runs.items()}
    return Trained(runs, per_class(runs or dict.fromkeys(TABLE_3)), "InFER++", ch.dataset, guard={"runs": rows})


def ranking_verdict(runs: dict) -> dict | None:
    """Table 3's ranking put to the test: Spearman's rank correlation between the paper's average accuracy of each
    method and our mean class accuracy (the same statistic, :func:`table3_self_check`), over the methods whose run
    learned; ``replicates`` / ``contradicted`` when it is positive / negative with p < 0.05, ``absent`` otherwise.
    ``None`` when fewer than four methods learned (no ranking to compare). The verdict's form is
    :func:`fernb.results.verdict`'s."""
    from scipy.stats import spearmanr

    from fernb.results import catalogue_item

    claim = catalogue_item("infer-t3")["claim"]
    learned = {k: r for k, r in runs.items() if r is not None and r.informative["informative"] and k in TABLE_3}
    if len(learned) < 4:
        return None
    paper = [TABLE_3[k][1] for k in learned]
    ours = [100 * r.metrics["mean_class_accuracy"] for r in learned.values()]
    rho, p = spearmanr(paper, ours)
    status = "absent" if not p < 0.05 else "replicates" if rho > 0 else "contradicted"
    left = sorted(set(runs) - set(learned))
    return {"status": status, "claim": claim["says"], "effect": claim["effect"], "mean": float(rho), "se": None,
            "seeds": len(learned), "over": claim["over"],
            "why": f"p = {p:.2f}" + (f"; left out, as they learned nothing: {', '.join(left)}" if left else "")}


def ranking_runs(runs: dict) -> list:
    """The runs Table 3's ranking rests on: those that learned, or every one when none did (the headline then
    reads uninformative, with the reasons)."""
    trained = [r for r in runs.values() if r is not None]
    return [r for r in trained if r.informative["informative"]] or trained


def fold_effect(cv: pd.DataFrame, a: str = "LiteXpressionNet", b: str = "ShuffleNetV2") -> list[float] | None:
    """Per fold, ``a``'s accuracy minus ``b``'s (points): the paired test of Table 5's claim that LiteXpressionNet
    beats ShuffleNetV2 (98.92 against 91.83 % on CK+); ``None`` unless both trained on the same folds."""
    if not len(cv) or not {a, b} <= set(cv["method"]):
        return None
    wide = cv.pivot_table(index="fold", columns="method", values="accuracy")
    gap = (100 * (wide[a] - wide[b])).dropna()
    return gap.tolist() if len(gap) > 1 else None


def per_class(runs: dict, paper: dict = TABLE_3) -> pd.DataFrame:
    """Ours beside Table 3: one row per method and source (``paper`` on InFER++, ``ours`` on the run's dataset;
    a method whose run is ``None`` has the paper's row only), per-class accuracy in Table 3's column order, the mean of the per-class figures and the overall accuracy (%)."""
    rows = []
    for name, run in runs.items():
        if name in paper:
            pc, avg = paper[name]
            rows.append({"method": name, "measured on": "InFER++ (paper)", **dict(zip(PAPER_CLASSES, pc)),
                         "average (%)": avg, "overall accuracy (%)": None})
        if run is None:  # not trained in this profile: the paper's row alone
            continue
        m, ds = run.metrics, run.config.dataset
        ours = [m["per_class_accuracy"].get(c) for c in EXPRESSIONS]
        rows.append({"method": name, "measured on": f"{ds} (ours)", **dict(zip(PAPER_CLASSES, ours)),
                     "average (%)": 100 * m["mean_class_accuracy"], "overall accuracy (%)": 100 * m["accuracy"]})
    return pd.DataFrame(rows).set_index(["method", "measured on"]).astype(float).round(3)


def table4(ch, dataset: str = "synth-raf", data_root=None) -> Trained:
    """LiteXpressionNet with its §IV-A optimiser beside the Table 4 methods (§III-F's Adam), as
    :data:`TABLE4_RECIPE` says, on ``dataset`` (``synth-raf`` stands in for RAF-DB; a reader's ``rafdb`` or
    ``affectnet-8`` at ``data_root``). A synthetic Table 4 dataset lives beside the chapter's SynthFER."""
    from fernb import paths

    block = check_table4_dataset(dataset, data_root)
    r = TABLE4_RECIPE(ch.profile)
    root = data_root or (ch.data_root if ch.synthetic else paths.data_root())
    runs = {}
    for name, m in methods(r.methods).items():
        if r.shared == "zoo":
            runs[name] = _zoo_run(ch, m.model, dataset, root)
            continue
        optimiser = r.litexpressionnet if name == "LiteXpressionNet" else r.other_methods
        runs[name] = fit_method(ch, m, dataset=dataset, data_root=root, img_size=img_size(r, m),
                                **{**optimiser, **train_options(r)})
    measured = dataset + (" (SynthFER)" if dataset.startswith("synth") else "")
    guard = {"runs": {n: r for n, r in runs.items() if n in {m for m, *_ in TABLE_4[block]}},
             "columns": [f"our accuracy (%, {measured})"]}
    return Trained(runs, table4_frame(runs, block, measured), block, measured, guard=guard)


def _zoo_run(ch, model: str, dataset: str, data_root):
    """Chapter 04's run of ``model`` (:func:`fernb.papers.zoo.fit_trained`): read from the cache when chapter 04
    ran first, trained here otherwise (a model of ``TRAINED``'s ``elsewhere`` always trains here, under chapter
    04's protocol). A model the recipe names in neither list fails, naming it."""
    from fernb.papers import zoo

    r = zoo.TRAINED(ch.profile)
    trained = r.models + r.elsewhere
    if model not in trained:
        raise ValueError(f"TABLE4_RECIPE[{ch.profile!r}] shares chapter 04's runs, but zoo.TRAINED trains "
                         f"{trained}, not {model!r}")
    return zoo.fit_trained(ch, model, dataset=dataset, data_root=data_root)


def table4_protocol(profile: str) -> str:
    """Markdown: how this profile's Table 4 runs were trained (each method's own recipe, or chapter 04's one
    protocol when the recipe shares its runs)."""
    r = TABLE4_RECIPE(profile)
    if r.shared != "zoo":
        return (f"`{profile}` trains each method with its own objective and recipe, {r.epochs} epochs at "
                f"{r.img_size or 'its own'} px.")
    from fernb.papers import zoo

    z = zoo.TRAINED(profile)
    here = f" ({', '.join(z.elsewhere)} trains here under it)" if z.elsewhere else ""
    return (f"`{profile}` does not train Table 4 with the methods' own recipes: it reads the model-zoo chapter's "
            f"runs of the same networks on the same data, under that chapter's protocol{here} ({z.epochs} epochs "
            f"at {z.img_size} px, one seed, one protocol for "
            f"every network: Adam, cosine schedule, cross-entropy with conservative class weights). So the rows "
            f"below compare the networks, not the methods' own objectives (LiteXpressionNet's ELR + SCE with "
            f"SAM, EfficientFace's teacher), which train in `full`; with one seed the ranking carries no spread.")


def table4_frame(runs: dict, block: str, measured_on: str) -> pd.DataFrame:
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


def accuracy_line(runs: dict, sep: str = ", ", after: str = "") -> str:
    """``"SCN 31.2 %, DACL 30.5 %"``: each run's overall test accuracy, then ``after``, for a headline."""
    if not runs:
        return "not trained in this profile (full trains it)"
    return sep.join(f"{n} {100 * r.metrics['accuracy']:.1f} %" for n, r in runs.items()) + after


def table4_figure(t4: Trained, profile: str):
    """Accuracy against MACs: our Table 4 runs (filled) beside Table 4's printed methods (open), each labelled
    with its own dataset (:func:`fernb.viz.accuracy_macs_figure`)."""
    from fernb.eval.complexity import accuracy_cost_points
    from fernb.viz import accuracy_macs_figure

    mine = pd.DataFrame([{**r.config.to_dict(), "accuracy": r.metrics["accuracy"]} for r in t4.runs.values()])
    return accuracy_macs_figure(accuracy_cost_points(mine, papers_dataset=t4.block),
                                title="Accuracy against MACs: Table 4's methods",
                                subtitle=f"filled: ours on {t4.measured_on}, profile {profile}; "
                                         f"open: InFER++ Table 4 on {t4.block}")


def learning_text(runs: dict, profile: str) -> str:
    """Markdown: how far each run got beyond the class prior (:attr:`fernb.train.run.Run.informative`: at least
    three classes predicted and more than 2 points above the majority share), read from its confusion matrix."""
    if not runs:
        return (f"`{profile}` trains none of Table 3's methods: on a 2-core CPU none reaches a converged run in "
                f"the chapter's budget (the costs measured are in `TABLE3_RECIPE`'s notes), so only the paper's "
                f"rows are shown; `full` trains every method (and a recorded copy appears above when one exists).")
    parts, informative = [], 0
    for name, run in runs.items():
        check = run.informative
        informative += check["informative"]
        parts.append(f"{name} predicts {check['classes predicted']} of {len(run.metrics['confusion_matrix'])} "
                     f"classes, {100 * check['accuracy']:.1f} % against a majority share of "
                     f"{100 * check['majority share']:.1f} %" + ("" if check["informative"] else
                                                                  " (not beyond the prior)"))
    verdict = ("so these rows show that each method's network and objective train, nothing about how well"
               if informative < len(runs) else "so every run has learned beyond the class prior")
    return (f"In `{profile}`, {informative} of {len(runs)} runs are informative: " + "; ".join(parts)
            + f"; {verdict}.")


# --- Table 5: k-fold cross-validation -----------------------------------------------------------------------------

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


def fold_line(summary: pd.DataFrame) -> str:
    """``"ShuffleNetV2 40.1 ± 2.0 % over 3 folds"`` per method of :func:`fold_summary`, for a headline."""
    if "folds" not in summary:
        return "not trained in this profile"
    return "; ".join(f"{m} {r['mean accuracy (%)']:.1f} ± {r['sd across folds (pts)']:.1f} % over "
                     f"{int(r['folds'])} folds" for m, r in summary.iterrows())


def _fold_row(name: str, fold: int, run) -> dict:
    m = run.metrics
    return {"method": name, "fold": fold, "accuracy": m["accuracy"], "mean class accuracy": m["mean_class_accuracy"],
            "test images": m["n"], "run": run}


def cross_validate(ch, chosen: dict, k: int = 10, n: int | None = None, fold: int | None = None,
                   **options) -> pd.DataFrame:
    """Table 5's protocol: every method of ``chosen`` on every fold (or the one ``fold``). A cross-validated
    dataset (CK+) uses its own subject-independent folds; a dataset without folds (SynthFER) is split into ``k``
    class-stratified folds of an ``n``-image subset (:func:`kfold_folders`). One row per method and fold."""
    from fernb import paths
    from fernb.data import load_dataset

    folds = ch.manifest.get("protocol", {}).get("folds")
    check_fold(ch.dataset, fold)
    rows = []
    if folds:
        for name, m in chosen.items():
            for f in ([fold] if fold is not None else range(folds)):
                rows.append(_fold_row(name, f, fit_method(ch, m, fold=f, **options)))
        return pd.DataFrame(rows)
    ds = load_dataset(ch.dataset, ch.data_root, profile=ch.profile, seed=ch.seed, progress=False)
    folders = kfold_folders(ds, paths.cache_root() / "kfold", k, n, ch.seed)
    for name, m in chosen.items():
        for f, folder in enumerate(folders):
            run = fit_method(ch, m, dataset="records", data_root=folder, **options)
            rows.append(_fold_row(name, f, run))
    return pd.DataFrame(rows)


def table5(ch, fold: int | None = None) -> Trained:
    """Table 5's protocol (§IV-A) as :data:`TABLE5_RECIPE` says: a reader's CK+ on its folds (or the one
    ``fold``), SynthFER on ``folds`` class-stratified folds of ``images`` images. ``extra["folds"]``: one row
    per method and fold; the table is :func:`fold_summary` (Table 5 as printed when the profile trains none)."""
    r = TABLE5_RECIPE(ch.profile)
    if not r.methods:
        paper = pd.DataFrame({"paper (%, CK+ 10-fold)": TABLE_5}).rename_axis("method")
        return Trained({}, paper, "CK+", ch.dataset, {"folds": pd.DataFrame()}, guard={"runs": {}})
    cv = cross_validate(ch, methods(r.methods), k=r.folds, n=r.images, fold=fold, img_size=r.img_size,
                        **train_options(r))
    runs = {m: list(g["run"]) for m, g in cv.groupby("method", sort=False)}
    columns = ["mean accuracy (%)", "sd across folds (pts)", "min (%)", "max (%)"]
    return Trained({}, fold_summary(cv), "CK+", ch.dataset, {"folds": cv.drop(columns="run")},
                   guard={"runs": runs, "columns": columns})


# --- edge cost ----------------------------------------------------------------------------------------------------

def edge_cost(ch, t4: Trained, workdir=None) -> pd.DataFrame:
    """§IV's edge claim measured: the Table 4 runs of :data:`EDGE_RECIPE`'s methods exported to ONNX, quantised to
    int8 and timed at batch 1 on one thread (:func:`fernb.eval.deploy.deploy_report`); one column per method."""
    import torch

    from fernb import paths
    from fernb.eval.deploy import deploy_report

    r = EDGE_RECIPE(ch.profile)
    workdir = Path(workdir or paths.cache_root() / "deploy" / (ch.name or "07_infer_benchmark"))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        reports = pd.DataFrame([{"method": n, **deploy_report(t4.runs[n], workdir,
                                                              calibration_images=r.calibration_images,
                                                              latency_runs=r.latency_runs)}
                                for n in r.methods if n in t4.runs]).set_index("method")
    finally:
        torch.set_num_threads(threads)
    cols = ["img_size", "acc_onnx_fp32", "acc_onnx_int8", "size_mb_fp32", "size_mb_int8", "ms_torch",
            "ms_onnx_fp32", "ms_onnx_int8"]
    return reports[cols].T


def table4_lines(t4: Trained, profile: str) -> list[str]:
    """Markdown bullets read from Table 4's runs: their ranking, each one's margin over the majority share of
    its test split, and how many seeds stand behind it (one: a ranking without a spread)."""
    if not t4.runs:
        return []
    parts = []
    for name, run in sorted(t4.runs.items(), key=lambda kv: -kv[1].metrics["accuracy"]):
        i = run.informative
        flag = "" if i["informative"] else ", uninformative"
        parts.append(f"{name} {100 * i['accuracy']:.1f} % ({100 * (i['accuracy'] - i['majority share']):+.1f} "
                     f"points over the majority share{flag})")
    paper = ", ".join(f"{m} {a} %" for m, _, _, a in TABLE_4[t4.block] if m in t4.runs)
    return [f"* **Table 4 on {t4.measured_on}**: " + " > ".join(parts) + f"; one seed, so the order carries no "
            f"spread. InFER++ prints, on {t4.block}: {paper}."]


def closing(check: pd.DataFrame, more: list[str] = ()) -> str:
    """The chapter's closing verdicts as Markdown bullets, read from its measurements: what Table 3's own figures
    say (:func:`table3_self_check`), then ``more`` (e.g. :func:`fernb.papers.infer.noisy.verdict_lines`)."""
    gap = check["printed − mean of per-class"].abs()
    lines = [f"* **Table 3's own figures**: its 'Average Accuracy' is the mean class accuracy (up to "
             f"{gap.max():.2f} points off the mean of its per-class figures), not the overall accuracy."]
    return "\n".join([*lines, *more])


def edge_text(edge: pd.DataFrame, t4: Trained) -> str:
    """Markdown read from :func:`edge_cost`: each method's MACs (Table 4, our resolution) beside its batch-1
    onnxruntime fp32 and int8 latency, and the latency per MAC that MAC counts leave out (§IV's edge claim)."""
    parts = []
    for name in edge.columns:
        macs = t4.table.loc[name, "our MACs (M)"]
        fp32, int8 = edge.loc["ms_onnx_fp32", name], edge.loc["ms_onnx_int8", name]
        parts.append(f"{name} {macs:.1f} M MACs, {fp32:.2f} ms fp32 / {int8:.2f} ms int8 "
                     f"({1000 * fp32 / macs:.1f} µs per M MACs)")
    return "Measured here, batch 1, one thread: " + "; ".join(parts) + "."
