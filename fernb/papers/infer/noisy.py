"""Does a noisy-label objective do what InFER++ §IV claims? An ablation the paper does not run.

LiteXpressionNet trains with ELR + SCE (§IV, Eq. for L_ELR) "to limit the effect of noisy labels". SynthFER knows each
face's true expression (``true_label``) besides the crowd's label, so an objective can be scored against the truth
while it trains on the crowd's labels, or on labels flipped at a known rate: symmetrically (to any other class) or
to the class the face is most easily confused with (``confusable_label``). Every configuration runs with several
seeds; comparisons are paired by seed against a baseline (:func:`fernb.eval.metrics.beyond_noise`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from fernb.papers.recipes import Recipe

NOISE_KINDS = ("crowd", "symmetric", "confusable")
OBJECTIVES = {"CE": ("ce", {}), "SCE": ("sce", {}), "ELR": ("elr", {}), "ELR+SCE": ("elr_sce", {})}
"""Each objective's ``loss`` and ``loss_kwargs``: the defaults of :mod:`fernb.train.losses`. SCE and ELR alone keep
their authors' CIFAR-10 constants (SCE α = 0.1, β = 1, A = −4; ELR λ = 3, β = 0.7); ELR + SCE, whose constants
InFER++ does not print, takes :data:`fernb.train.losses.ELR_SCE_DEFAULTS` (λ = 0.3, α = 1), measured by
``benchmarks/elr_sce_sweep.py``. :func:`objective` adds variants such as ``"ELR+SCE (λ=3)"``."""
SAM_SUFFIX = " + SAM"


def objective(name: str) -> tuple[str, dict]:
    """``(loss, loss_kwargs)`` of an objective name: one of :data:`OBJECTIVES`, optionally with an ELR weight
    ``"ELR+SCE (λ=0.3)"``."""
    base, _, rest = name.partition(" (λ=")
    if base not in OBJECTIVES or (rest and (not rest.endswith(")") or not base.startswith("ELR"))):
        raise ValueError(f"objective {name!r} unknown; expected one of {list(OBJECTIVES)}, or an ELR one with "
                         f"its weight, e.g. 'ELR+SCE (λ=0.3)'")
    loss, kw = OBJECTIVES[base]
    return loss, ({**kw, "lam": float(rest[:-1])} if rest else dict(kw))


@dataclass(frozen=True)
class Noise:
    """The training labels of one condition: the crowd's (``share`` is then what the data hold), or the true labels
    with ``share`` of the training images flipped ``symmetric``-ally or to their ``confusable`` class."""

    kind: str = "crowd"
    share: float = 0.0

    def __post_init__(self):
        if self.kind not in NOISE_KINDS:
            raise ValueError(f"noise kind {self.kind!r}; expected one of {NOISE_KINDS}")
        if not 0 <= self.share < 1:
            raise ValueError(f"noise share must be in [0, 1), got {self.share!r}")
        if self.kind == "crowd" and self.share:
            raise ValueError("crowd noise is what the crowd's labels hold: give no share")

    @property
    def name(self) -> str:
        return "crowd labels" if self.kind == "crowd" else f"{self.kind} {self.share:.0%}"

    def __str__(self) -> str:
        return self.name


def configurations(objectives=tuple(OBJECTIVES), sam=(False, True)) -> list[tuple[str, bool]]:
    """(objective, SAM) pairs of the ablation, checked: unknown objective names fail before any training."""
    for o in objectives:
        objective(o)
    return [(o, bool(s)) for o in objectives for s in sam]


def config_name(objective: str, sam: bool) -> str:
    return objective + (SAM_SUFFIX if sam else "")


def parse_config(name: str) -> tuple[str, bool]:
    """``"ELR+SCE + SAM"`` → ``("ELR+SCE", True)``: a configuration as the recipes name it, checked."""
    sam = name.endswith(SAM_SUFFIX)
    base = name[: -len(SAM_SUFFIX)] if sam else name
    objective(base)
    return base, sam


# What each profile trains. quick: 32x32 images (where cross-entropy learns SynthFER, >= 0.75 against the truth),
# 15 epochs over 1,200 training images, three seeds, CE against ELR + SCE on the crowd's labels and under 40 %
# symmetric noise; smoke proves the SAM path; full: all eight configurations, 60 epochs at 48x48, five seeds, 20 %
# and 40 % noise of each kind. Adam at 1e-3: at 3e-3 every objective, cross-entropy included, sat at the class
# prior for the first ten of fifteen epochs under 40 % symmetric noise (benchmarks/elr_sce_sweep.py). No model
# selection (val_share 0): every run keeps its last epoch, so a noisy validation split cannot stop cross-entropy
# before it memorises.
ABLATION_RECIPE = Recipe(
    "ablation", "Objective ablation on noisy labels (not in the paper)",
    common=dict(model="small_cnn", optimizer="adam", lr=1e-3, scheduler="cosine", val_share=0.0,
                aug_scale=(1.0, 1.0), aug_ratio=(1.0, 1.0), batch_size=64, sam_rho=0.05),
    smoke=dict(noises=[Noise("symmetric", 0.4)], configs=["CE", "SCE", "ELR", "ELR+SCE + SAM"], seeds=1,
               n_train=100, img_size=32, epochs=1, max_batches_per_epoch=2),
    # quick: the one noise where the recorded sweep shows an effect (the crowd's labels, where CE and ELR + SCE tie
    # within noise, are in the recorded sweep and in full): 6 runs of ~28 s, the chapter's 4-minute budget
    quick=dict(noises=[Noise("symmetric", 0.4)], configs=["CE", "ELR+SCE"], seeds=3,
               n_train=1200, img_size=32, epochs=15, max_batches_per_epoch=None),
    full=dict(noises=[Noise("crowd"), Noise("symmetric", 0.2), Noise("symmetric", 0.4), Noise("confusable", 0.2),
                      Noise("confusable", 0.4)],
              configs=[config_name(o, s) for o, s in configurations()], seeds=5, n_train=None, img_size=48,
              epochs=60, max_batches_per_epoch=None),
)
NOT_TRAINING = ("noises", "configs", "seeds", "n_train", "sam_rho")


def require_truth(records: pd.DataFrame, kind: str = "symmetric"):
    """Raise, naming the column, when the records cannot support the ablation (real datasets know no truth)."""
    need = ["true_label"] + (["confusable_label"] if kind == "confusable" else [])
    missing = [c for c in need if c not in records.columns]
    if missing:
        raise ValueError(f"the noisy-label ablation needs the records' {missing} (SynthFER's true expression); "
                         f"this dataset has none: run it on synth-infer or synth-raf")


def noisy_labels(records: pd.DataFrame, noise: Noise, seed: int = 0, num_classes: int = 7) -> np.ndarray:
    """One label per record for ``fit(labels=...)``. Test records keep the crowd's label (the dataset's own score);
    training records get the condition's label. Flips start from the true label, so exactly ``share`` of the
    training images are wrong (symmetric: a uniformly drawn other class; confusable: ``confusable_label``)."""
    labels = records["label"].to_numpy().astype(np.int64).copy()
    if noise.kind == "crowd":
        return labels
    require_truth(records, noise.kind)
    train = np.flatnonzero(records["split"].to_numpy() != "test")
    truth = records["true_label"].to_numpy().astype(np.int64)
    labels[train] = truth[train]
    rng = np.random.default_rng(seed)
    flip = rng.choice(train, int(round(noise.share * len(train))), replace=False)
    if noise.kind == "symmetric":
        labels[flip] = (truth[flip] + rng.integers(1, num_classes, len(flip))) % num_classes
    else:
        labels[flip] = records["confusable_label"].to_numpy().astype(np.int64)[flip]
    return labels


def score_against_truth(run, ds, train_labels: np.ndarray) -> dict:
    """A finished run scored against the crowd's and the true test labels of ``ds`` (the dataset it trained on),
    and how much of the training noise it learned: the share of wrongly-labelled training images it predicts as
    their wrong label (memorised); ``classes predicted`` on the test split is 1 for a run that has collapsed to a
    single class."""
    from fernb.train.run import split_indices

    records = ds.records
    train, _, test = split_indices(ds, train_labels, run.config)
    pred = run.test_probs.argmax(1)
    truth = records["true_label"].to_numpy().astype(np.int64)
    crowd = records["label"].to_numpy().astype(np.int64)
    wrong = train[train_labels[train] != truth[train]]
    memorised = np.nan
    if len(wrong):
        memorised = float((run.predict(wrong, dataset=ds).argmax(1) == train_labels[wrong]).mean())
    return {"accuracy (true labels)": float((pred == truth[test]).mean()),
            "accuracy (crowd labels)": float((pred == crowd[test]).mean()),
            "wrong training labels": float((train_labels[train] != truth[train]).mean()),
            "memorised": memorised, "classes predicted": int(len(np.unique(pred)))}


def training_subset(ds, out, n_train: int | None, seed: int = 0):
    """``ds`` with its training split cut to a class-stratified ``n_train`` images (all its test images kept), as
    a record-table folder under ``out``; returns the dataset as loaded from that folder, with the truth columns
    the ablation reads (``true_label``, ``confusable_label``) carried over. A small training set lets a CPU run
    reach the epochs where a network starts to memorise wrong labels."""
    from sklearn.model_selection import train_test_split

    from fernb.data import load_dataset
    from fernb.data.records import write_records

    require_truth(ds.records)
    split = ds.records["split"].to_numpy()
    train, test = np.flatnonzero(split == "train"), np.flatnonzero(split == "test")
    if n_train is not None and n_train < len(train):
        train = np.sort(train_test_split(train, train_size=n_train, random_state=seed,
                                         stratify=ds.records["label"].to_numpy()[train])[0])
    rows = np.concatenate([train, test])
    folder = write_records(ds, rows, split[rows], f"{out}/{ds.name}-{ds.fingerprint}-train{len(train)}-s{seed}")
    sub = load_dataset("records", data_root=folder, progress=False)
    for col in ("true_label", "confusable_label"):
        if col in ds.records:
            sub.records[col] = ds.records[col].to_numpy()[rows].astype(np.int64)
    return sub


def ablation(fit, ds, noises, configs, seeds, recipe: dict, sam_rho: float = 0.05,
             label_seed: int = 0) -> pd.DataFrame:
    """Train every (noise, objective, SAM, seed) with ``fit(labels=..., **recipe, loss=..., sam_rho=..., seed=...)``
    (a chapter's ``ch.fit``, training on ``ds``) and score it (:func:`score_against_truth`): one row per run. The
    flipped labels of a condition are drawn once (``label_seed``) and shared by every objective and seed, so the
    comparisons are paired. The ``run`` column holds each run."""
    noises, records = list(noises), ds.records
    for n in noises:
        if n.kind != "crowd":
            require_truth(records, n.kind)
    rows = []
    for noise in noises:
        labels = noisy_labels(records, noise, label_seed)
        for name, sam in configs:
            for seed in seeds:
                loss, loss_kwargs = objective(name)
                run = fit(labels=labels, **recipe, loss=loss, loss_kwargs=loss_kwargs,
                          sam_rho=sam_rho if sam else 0.0, seed=int(seed))
                rows.append({"noise": noise.name, "objective": config_name(name, sam), "seed": int(seed),
                             **score_against_truth(run, ds, labels), "train_s": run.metrics.get("train_seconds"),
                             "run": run})
    return pd.DataFrame(rows)


@dataclass
class Ablation:
    """The ablation's runs, one row each (:func:`ablation`, less the ``run`` column), the seeds they used, and
    the runs behind each objective's row of :func:`summary` (``ch.report``'s ``runs=``)."""

    table: pd.DataFrame
    seeds: list
    runs: dict


def run_ablation(ch) -> Ablation | None:
    """The ablation as :data:`ABLATION_RECIPE` says for the chapter's profile, on a record-table copy of the
    chapter's SynthFER (:func:`training_subset`); ``None`` on a real dataset, which knows no true labels."""
    from fernb import paths
    from fernb.data import load_dataset

    if not ch.synthetic:
        return None
    r = ABLATION_RECIPE(ch.profile)
    configs = [parse_config(c) for c in r.configs]
    source = load_dataset(ch.dataset, ch.data_root, profile=ch.profile, seed=ch.seed, progress=False)
    subset = training_subset(source, paths.cache_root() / "noisy", n_train=r.n_train, seed=ch.seed)

    def fit(labels=None, **options):
        return ch.fit(labels=labels, dataset="records", data_root=subset.root, **options)

    seeds = r.seeds_from(ch.seed)
    recipe = {k: v for k, v in r.items() if k not in NOT_TRAINING}
    table = ablation(fit, subset, r.noises, configs, seeds, recipe, sam_rho=r.sam_rho, label_seed=ch.seed)
    runs = {o: list(g["run"]) for o, g in table.groupby("objective", sort=False)}
    return Ablation(table.drop(columns="run"), seeds, runs)


def summary(table: pd.DataFrame, metric: str = "accuracy (true labels)") -> pd.DataFrame:
    """Mean ± sd over seeds of ``metric``: one row per objective, one column per noise condition (in points)."""
    g = table.groupby(["objective", "noise"], sort=False)[metric]
    cell = (100 * g.mean()).round(1).astype(str) + " ± " + (100 * g.std(ddof=1)).round(1).astype(str)
    if g.size().max() < 2:
        cell = (100 * g.mean()).round(1).astype(str)
    return cell.unstack("noise")


def one_class_runs(table: pd.DataFrame) -> pd.DataFrame:
    """Per objective: how many runs predict a single class for every test face, out of how many."""
    one_class = table["classes predicted"] == 1
    return (one_class.groupby(table["objective"], sort=False).agg(["sum", "size"])
            .rename(columns={"sum": "runs predicting one class", "size": "runs"}))


def paired(table: pd.DataFrame, baseline: str = "CE", metric: str = "accuracy (true labels)") -> pd.DataFrame:
    """Each configuration minus ``baseline`` on the same noise condition and seed: the mean difference, its
    standard error over seeds and whether it lies beyond the run-to-run variation (|mean| > 2 standard errors)."""
    from fernb.eval.metrics import beyond_noise

    out = []
    for noise, g in table.groupby("noise", sort=False):
        wide = g.pivot(index="seed", columns="objective", values=metric)
        if baseline not in wide:
            raise ValueError(f"baseline {baseline!r} was not trained; configurations: {list(wide.columns)}")
        diff = wide.drop(columns=baseline).sub(wide[baseline], axis=0)
        verdict = beyond_noise(diff)
        out.append(verdict.assign(noise=noise).rename_axis("objective").reset_index())
    res = pd.concat(out, ignore_index=True)
    res["mean"], res["standard error"] = 100 * res["mean"], 100 * res["standard error"]
    return res.set_index(["noise", "objective"])[["mean", "standard error", "seeds", "beyond noise"]]


CLAIM_NOISE = "symmetric 40%"
"""The condition the verdict on §IV's claim (``infer-obj``) is read at: the heaviest noise every profile but
``smoke``'s SAM check trains."""


def objective_effect(table: pd.DataFrame, objective: str = "ELR+SCE", baseline: str = "CE",
                     noise: str = CLAIM_NOISE) -> list[float] | None:
    """Per seed, ``objective`` minus ``baseline`` in true-label accuracy (points) under ``noise``: the effect
    behind the verdict on InFER++ §IV's claim that ELR + SCE limits what noisy labels cost; ``None`` when the
    profile did not train both there."""
    g = table[table["noise"] == noise]
    wide = g.pivot(index="seed", columns="objective", values="accuracy (true labels)")
    if objective not in wide or baseline not in wide:
        return None
    return list(100 * (wide[objective] - wide[baseline]).dropna())


def objective_line(effect: list[float] | None, objective: str = "ELR+SCE", noise: str = CLAIM_NOISE) -> str:
    """The results map's number for ``infer-obj``: the mean paired gain over cross-entropy, with its seeds."""
    if not effect:
        return f"{objective} and CE not both trained at {noise} in this profile"
    return (f"{objective} − CE at {noise}: {sum(effect) / len(effect):+.1f} points of true-label accuracy, "
            f"{len(effect)} paired seed(s)")


def ablation_figure(table: pd.DataFrame, dataset: str, profile: str, seeds: int):
    """Bars of true-label accuracy (mean over seeds, whiskers: sd) per objective, grouped by training labels."""
    import plotly.graph_objects as go

    g = table.groupby(["noise", "objective"], sort=False)["accuracy (true labels)"]
    stats = pd.DataFrame({"mean": g.mean(), "sd": g.std(ddof=1)}).reset_index()
    fig = go.Figure()
    for name, s in stats.groupby("objective", sort=False):
        fig.add_bar(name=name, x=s["noise"], y=100 * s["mean"],
                    error_y=dict(type="data", array=100 * s["sd"].fillna(0)))
    fig.update_layout(title=f"Accuracy against the true expression, by training labels<br><sup>{dataset} "
                            f"(SynthFER), small CNN, {seeds} seed(s), profile {profile}; bars: mean, "
                            f"whiskers: sd</sup>",
                      yaxis_title="test accuracy vs true labels (%)", barmode="group", height=460)
    return fig


def verdict_lines(table: pd.DataFrame, pairs: pd.DataFrame, seeds: int) -> list[str]:
    """Markdown bullets read from the ablation: per noise condition, which objectives differ from CE beyond the
    run-to-run variation and the best mean; then the runs that collapsed to one class."""
    lines = []
    for noise, g in pairs.groupby(level="noise", sort=False):
        ok = g[g["beyond noise"]]
        if len(ok):
            said = ", ".join(f"{o} {r['mean']:+.1f} ± {r['standard error']:.1f}" for (_, o), r in ok.iterrows())
            verdict = f"beyond the run-to-run variation: {said} points"
        else:
            verdict = "no objective differs from CE beyond the run-to-run variation"
        best = table[table["noise"] == noise].groupby("objective")["accuracy (true labels)"].mean()
        lines.append(f"* **{noise}** (true-label accuracy vs CE, {seeds} seeds): {verdict}; best mean "
                     f"{best.idxmax()} ({100 * best.max():.1f} %).")
    n_one = table.groupby("objective", sort=False)["classes predicted"]
    lines.append("* **Runs that collapsed to one class**: "
                 + ", ".join(f"{o} {int((c == 1).sum())} of {len(c)}" for o, c in n_one) + ".")
    return lines


def reading_text(table: pd.DataFrame, profile: str) -> str:
    """Markdown read from the ablation: how much of the symmetric noise the final models learned beside the one in
    six a uniformly flipped label meets by chance (below twice that: not memorised yet, the early-learning phase
    of ELR's argument), and how many runs predict a single class."""
    chance = 1 / 6
    parts = []
    for noise, g in table[table["noise"].str.startswith("symmetric")].groupby("noise", sort=False):
        by = g.groupby("objective", sort=False)["memorised"].mean()
        state = ("no objective has memorised the flipped labels yet" if by.max() < 2 * chance
                 else f"{by.idxmax()} has begun to memorise them")
        span = (f"{100 * by.min():.0f}" if round(100 * by.min()) == round(100 * by.max())
                else f"{100 * by.min():.0f}–{100 * by.max():.0f}")
        parts.append(f"with {noise} the final models predict {span} % of the "
                     f"wrongly-labelled training images (mean by objective) as their wrong label, against the "
                     f"{100 * chance:.1f} % chance agreement gives: {state}")
    one = int((table["classes predicted"] == 1).sum())
    text = f"In `{profile}`, " + ("; ".join(parts) + ". " if parts else "")
    return text + (f"{one} of {len(table)} runs predict a single class (they have not left the class prior)."
                   if one else f"None of the {len(table)} runs collapsed to a single class.")


SWEEPS = ("elr_sce_sweep.csv", "elr_sce_sweep_round2.csv", "elr_sce_lr1e-3.csv")
"""The recorded runs of ``benchmarks/elr_sce_sweep.py`` behind :data:`fernb.train.losses.ELR_SCE_DEFAULTS`: the
grid at Adam 3e-3, the second round, and the chosen constants against the published ones at 1e-3."""


def recorded_sweep(folder=None) -> pd.DataFrame | None:
    """The recorded constant sweep (CPU, SynthFER synth-infer, small CNN, 32 px, 15 epochs, all 2,400 training
    images): per learning rate, configuration and noise, true-label accuracy mean ± sd over seeds (%) and the runs
    that predicted fewer than three classes. ``None`` where the checkout's ``benchmarks/recorded`` is absent."""
    from pathlib import Path

    from fernb.results import ROOT

    folder = Path(folder or ROOT / "benchmarks" / "recorded")
    frames = [pd.read_csv(folder / f).assign(lr="1e-3" if "1e-3" in f else "3e-3") for f in SWEEPS
              if (folder / f).exists()]
    if not frames:
        return None
    t = pd.concat(frames).drop_duplicates(["lr", "noise", "config", "seed"])
    g = t.groupby(["lr", "config", "noise"], sort=False)
    acc = g["accuracy (true labels)"]
    cell = ((100 * acc.mean()).round(1).astype(str) + " ± " + (100 * acc.std(ddof=1)).round(1).astype(str)
            + " (" + g["classes predicted"].apply(lambda c: int((c < 3).sum())).astype(str) + "/"
            + acc.size().astype(str) + " collapsed)")
    return cell.unstack("noise")
