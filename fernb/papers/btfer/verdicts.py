"""What the chapter's measurements say about BTFER's claims (§II, §IV-D to §IV-I), computed once as data: one
:class:`Verdict` per experiment, from which the page's Markdown (:func:`verdicts_markdown`) and the results map's
headlines (:func:`headlines`) are both produced. No sentence that states a result is written by hand.

A verdict is ``replicates`` (the effect goes the paper's way by more than two standard errors of its paired
seeds), ``contradicted`` (the other way, as clearly), ``absent`` (within two standard errors), ``no noise
estimate`` (one seed: the direction only), ``uninformative`` (a run it rests on learned nothing: DESIGN.md) or
``needs full`` (this profile cannot ask the question: no weights, one network, no 224 px)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from fernb.papers.btfer.recipes import RESOLUTION, TEST
from fernb.papers.btfer.tables import paper_dataset
from fernb.papers.btfer.experiments import (best_per_resolution, label_quality, params_accuracy,
                                            resolution_gap, weighting_gap)

NEEDS_FULL = "needs full"


@dataclass(frozen=True)
class Verdict:
    """One experiment's measurement against the paper's claim."""

    experiment: str  # "Experiment 3 (labels), in the training domain"
    item: str | None  # its id on the results map (book/paper_items.yaml), None: shown on the page only
    claim: str  # the paper's claim, with its section
    effect: float | None  # the measured effect in the claim's direction (accuracy points as a fraction)
    spread: float | None  # its standard error over paired seeds (None: not estimable here)
    seeds: int  # seeds the effect is paired over
    verdict: str
    measured: str  # the measurement in words
    runs: tuple = ()  # the folder names of the runs it rests on (:meth:`Benchmark.runs_named` finds them)


def _direction(effect, spread, sign: int = 1) -> str:
    """The verdict word for ``effect`` whose claimed direction is ``sign`` (+1: larger is the paper's way)."""
    if effect is None or not np.isfinite(effect):
        return NEEDS_FULL
    if spread is None or not np.isfinite(spread):
        return "no noise estimate"
    if abs(effect) <= 2 * spread:
        return "absent"
    return "replicates" if np.sign(effect) == sign else "contradicted"


def _informative(rows: pd.DataFrame) -> bool:
    trained = rows[rows["state"] != "skipped"] if "state" in rows else rows
    flags = trained["informative"].dropna() if "informative" in trained else pd.Series(dtype=bool)
    return bool(flags.astype(bool).all())


def _judge(effect, spread, rows: pd.DataFrame, sign: int = 1) -> str:
    word = _direction(effect, spread, sign)
    return "uninformative" if word != NEEDS_FULL and not _informative(rows) else word


def _names(rows: pd.DataFrame) -> tuple:
    """The run folder names of ``rows``' trained rows (their ``run`` column)."""
    if "run" not in rows:
        return ()
    return tuple(dict.fromkeys(str(r) for r in rows["run"].dropna()))


def _paired(wide: pd.DataFrame, a: str, b: str) -> tuple[float, float | None, int]:
    """Mean and standard error of ``a - b`` over the rows (seeds) where both were measured."""
    gap = (wide[a] - wide[b]).dropna()
    n = len(gap)
    se = float(gap.std() / np.sqrt(n)) if n > 1 else None
    return (float(gap.mean()) if n else float("nan")), se, n


def starts(table: pd.DataFrame) -> Verdict:
    """Experiment 1 (§IV-D): at 48 px ImageNet > scratch > VGGFace for VGG16; the effect is ImageNet - VGGFace."""
    claim = "48 px: ImageNet > scratch > VGGFace for VGG16; 224 px: VGGFace best (§IV-D)"
    trained = table[table["state"] != "skipped"]
    at48 = trained[trained["img_size"] == 48]
    if at48["start"].nunique() < 2:
        n = int((table["state"] == "skipped").sum())
        return Verdict("Experiment 1 (starts)", "btfer-e1", claim, None, None, 0, NEEDS_FULL,
                       f"{n} of {len(table)} VGG16 rows skipped (weights absent here); the comparison needs "
                       "the weights and `full`")
    means = at48.groupby("start")["test_acc"].mean().sort_values(ascending=False)
    wide = at48.pivot_table(index=["weighting", "seed"], columns="start", values="test_acc")
    pairs = [("imagenet", "vggface"), ("imagenet-analogue", "vggface-analogue")]
    a, b = next((p for p in pairs if set(p) <= set(wide)), tuple(means.index[[0, -1]]))
    effect, se, n = _paired(wide, a, b)
    order = ", ".join(f"{s} {v:.3f}" for s, v in means.items())
    return Verdict("Experiment 1 (starts)", "btfer-e1", claim, effect, se, n, _judge(effect, se, at48),
                   f"balanced-test accuracy at 48 px by start: {order}; {a} − {b} = {effect:+.3f}", _names(at48))


def size_rows(main: pd.DataFrame, img_size: int = 48) -> pd.DataFrame:
    """Experiment 2's rows: the trained rows at ``img_size`` of the one weighting that covers the most models
    (each model counts once, not once per weighting)."""
    done = main[(main["state"] != "skipped") & (main["img_size"] == img_size)]
    if not len(done):
        return done
    weighting = done.groupby("weighting")["model"].nunique().sort_values(kind="stable").index[-1]
    return done[done["weighting"] == weighting]


def _learned(rows: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """``rows`` without the ones whose run learned nothing, and a clause naming the models left out ("" if none):
    a ranking of networks is read over the networks that learned (DESIGN.md: an uninformative run is no result)."""
    if "informative" not in rows or not len(rows):
        return rows, ""
    ok = rows["informative"].map(lambda v: v is None or v != v or bool(v)).astype(bool)  # unscored rows stay
    dropped = sorted(rows.loc[~ok, "model"].unique())
    return rows[ok], (f"; left out, as they learned nothing here: {', '.join(dropped)}" if dropped else "")


MIN_MODELS_FOR_SIZE = 5  # Experiment 2 ranks models: fewer than this many trained ones cannot say much


def size(main: pd.DataFrame) -> Verdict:
    """Experiment 2 (§IV-E): small networks reach high accuracy, so size should not buy balanced-test accuracy:
    the effect is Spearman's rank correlation of size with balanced-test accuracy over the models trained at 48 px
    (``contradicted`` when it is positive with p < 0.05)."""
    claim = "fewer parameters, good performance: small CNNs reach over 70 % (§IV-E, Tables 4-5)"
    trained = size_rows(main)
    rows, left_out = _learned(trained)
    models = rows["model"].nunique() if len(rows) else 0
    if models < MIN_MODELS_FOR_SIZE:
        total = trained["model"].nunique() if len(trained) else 0
        got = (f"{models} of the {total} models trained at 48 px learned" if left_out else
               f"{models} model{'' if models == 1 else 's'} trained at 48 px")
        return Verdict("Experiment 2 (size)", "btfer-e2", claim, None, None, 0,
                       "uninformative" if left_out else NEEDS_FULL,
                       f"{got} in this profile: too few to rank by size (it takes {MIN_MODELS_FOR_SIZE}); `full` "
                       f"trains the zoo{left_out}", _names(rows))
    r = params_accuracy(rows)
    word = "contradicted" if (r["spearman"] > 0 and r["p"] < 0.05) else "replicates"
    word = word if _informative(rows) else "uninformative"
    means = rows.groupby("model").agg(params_m=("params_m", "first"), test_acc=("test_acc", "mean"))
    top = means.sort_values("test_acc").iloc[-1]
    small = means[means["params_m"] < 5].sort_values("test_acc")
    lead = (f"; the best, {top.name} ({top.params_m:.1f}M), {top.test_acc:.3f}" +
            (f", the best under 5M, {small.index[-1]} ({small.params_m.iloc[-1]:.1f}M), "
             f"{small.test_acc.iloc[-1]:.3f}" if len(small) and small.index[-1] != top.name else ""))
    return Verdict("Experiment 2 (size)", "btfer-e2", claim, r["spearman"], None, models, word,
                   f"rank correlation of size with balanced-test accuracy {r['spearman']:+.2f} over {models} "
                   f"models ({rows['weighting'].iloc[0]} weighting, p = {r['p']:.2f}){lead}{left_out}",
                   _names(rows))


def _gap_words(q: pd.DataFrame) -> str:
    def one(label, r):
        se = f" ± {r.gap_se:.3f}" if r.gap_se == r.gap_se else ""
        noise = "beyond" if r.beyond_noise else "within"
        return f"{label.replace('_', ' ')} {r.gap_to_true:+.3f}{se} ({noise} noise)"

    return ", ".join(one(k, r) for k, r in q.loc[["plurality", "one_annotator"]].iterrows())


def labels(table: pd.DataFrame) -> list[Verdict]:
    """Experiment 3 (§IV-F) made causal: one annotator's labels against the true ones, same images and seeds, in
    the training domain and on the balanced test set; the effect is the one-annotator gap (negative: it hurts)."""
    claim = "better-labelled training sets give better models (RAF-DB beats larger sets, §IV-F)"
    if not len(table):
        return [Verdict("Experiment 3 (labels)", "btfer-e3", claim, None, None, 0, NEEDS_FULL,
                        "label quality is a controlled variable on SynthFER only; on real data the paper's "
                        "training-set comparison needs every real set and `full`")]
    out = []
    for where, metric in (("in the training domain", "in_domain_true_acc"), ("on the balanced test set", "test_acc")):
        q = label_quality(table, metric)
        q = q[q["model"] == q["model"].iloc[0]].set_index("labels")
        one = q.loc["one_annotator"]
        se = None if one.gap_se != one.gap_se else float(one.gap_se)
        out.append(Verdict(f"Experiment 3 (labels), {where}", "btfer-e3", claim, float(one.gap_to_true), se,
                           int(one.seeds), _judge(float(one.gap_to_true), se, table, sign=-1),
                           f"gap to true labels: {_gap_words(q)}", _names(table)))
    return out


def weighting(main: pd.DataFrame) -> Verdict:
    """Experiment 4 (§IV-G): class weighting moves accuracy more from scratch than from pretrained weights."""
    claim = "the weighting moves accuracy more for scratch models than for pretrained ones (§IV-G)"
    w = weighting_gap(main).set_index("start_kind")
    done = main[main["state"] != "skipped"]
    both = done.groupby(["model", "img_size", "start", "train_set", "seed"])["weighting"].transform("nunique") > 1
    paired = done[both]
    if "scratch" not in w.index:
        return Verdict("Experiment 4 (weighting)", "btfer-e4", claim, None, None, 0, NEEDS_FULL,
                       "no scratch row trained with both weightings in this profile (`full` trains both)",
                       _names(paired))
    sc = w.loc["scratch"]
    se = float(sc.sd_gap / np.sqrt(sc.pairs)) if sc.pairs > 1 else float("nan")
    models = ", ".join(sorted(paired[paired["start"] == "scratch"]["model"].unique()))
    said = (f"from scratch ({models}), simple − conservative = {sc.mean_gap:+.3f}"
            + (f" ± {se:.3f}" if se == se else "") + f" (mean |gap| {sc.mean_abs_gap:.3f} over "
            f"{int(sc.pairs)} pairs, {'beyond' if sc.beyond_noise else 'within'} seed noise)")
    if "pretrained" not in w.index:
        return Verdict("Experiment 4 (weighting)", "btfer-e4", claim, None, None, int(sc.pairs), NEEDS_FULL,
                       said + "; pretrained rows need weights, so the contrast is `full`'s", _names(paired))
    pre = w.loc["pretrained"]
    effect = float(sc.mean_abs_gap - pre.mean_abs_gap)
    return Verdict("Experiment 4 (weighting)", "btfer-e4", claim, effect, None, int(sc.pairs),
                   _judge(effect, None, main),
                   said + f"; pretrained mean |gap| {pre.mean_abs_gap:.3f} over {int(pre.pairs)} pairs",
                   _names(paired))


def resolution(sized: pd.DataFrame, low: int, high: int, compared) -> Verdict:
    """Experiment 5 (§IV-H): 224 px beats 48 px by about 0.06 validation and 0.09 BTFER accuracy; the effect is
    the balanced-test gain, paired by model, start, weighting and seed where both sizes were trained."""
    claim = "224 px beats 48 px by about 0.06 validation and 0.09 BTFER accuracy (§IV-H)"
    rows = sized[sized["model"].isin(compared) & sized["img_size"].isin([low, high])]
    gap = resolution_gap(rows, low, high)
    if not len(gap):
        return Verdict("Experiment 5 (resolution)", "btfer-e5", claim, None, None, 0, NEEDS_FULL,
                       f"no model trained at both {low} and {high} px")
    key = ["model", "start", "weighting", "seed"]
    pairs = rows.pivot_table(index=key, columns="img_size", values="test_acc")
    effect, se, n = _paired(pairs, high, low) if {low, high} <= set(pairs) else (float("nan"), None, 0)
    if not n:
        effect = float(gap["test_gain"].mean())
    val = rows.pivot_table(index=key, columns="img_size", values="val_acc")
    val_gain = float((val[high] - val[low]).dropna().mean()) if {low, high} <= set(val) else float("nan")
    val_gain = val_gain if val_gain == val_gain else float(gap["val_gain"].mean())
    spread = f" ± {se:.3f}" if se is not None else ""
    used = rows[rows.set_index(key).index.isin(pairs.dropna().index)] if n else rows
    return Verdict("Experiment 5 (resolution)", "btfer-e5", claim, effect, se, n,
                   _judge(effect, se, used),
                   f"{high} px − {low} px ({', '.join(sorted(used['model'].unique()))}, {n} paired "
                   f"seed{'' if n == 1 else 's'}): validation {val_gain:+.3f}, balanced test {effect:+.3f}{spread}",
                   _names(used))


def best(sized: pd.DataFrame, small_m: float = 5.0) -> Verdict:
    """Experiment 6 (§IV-I, Table 6): the best model per resolution, and a lighter one for the edge. At 48 px, when
    the paper's pick (ResNet18 + Dropout + Dense) and at least two other models are trained with one weighting,
    the effect is its balanced-test accuracy minus the best other model's (paired over their common seeds)."""
    from fernb.papers.btfer.tables import PAPER_TABLE6

    claim = "48 px: ResNet18 + Dropout + Dense; 224 px: ResNet50-VF; DenseNet121 for edge devices (Table 6)"
    picks = best_per_resolution(sized, small_m)
    top = picks.sort_values("test_acc").iloc[-1]
    at48, left_out = _learned(size_rows(sized, 48))
    models = at48["model"].nunique() if len(at48) else 0
    pick = PAPER_TABLE6.query("img_size == 48").model.iloc[0]
    said = f"best overall {top.model} at {top.img_size} px, balanced test {top.test_acc:.3f}"
    if models < 3 or pick not in set(at48["model"]):
        why = (f"best of {models} model{'s' if models != 1 else ''} at 48 px" if models < 3 else
               f"the paper's 48 px pick {pick} is not trained here")
        return Verdict("Experiment 6 (best)", "btfer-e6", claim, None, None, int(top.seeds),
                       "uninformative" if left_out else NEEDS_FULL,
                       f"{said} ({why}: the ranking needs the zoo, `full`){left_out}", _names(sized))
    means = at48.groupby("model")["test_acc"].mean().sort_values(ascending=False)
    rival = means.drop(pick).index[0]
    wide = at48[at48["model"].isin([pick, rival])].pivot_table(index="seed", columns="model", values="test_acc")
    effect, se, n = _paired(wide, pick, rival)
    used = at48[at48["model"].isin([pick, rival])]
    order = ", ".join(f"{m} {v:.3f}" for m, v in means.items())
    return Verdict("Experiment 6 (best)", "btfer-e6", claim, effect, se, n, _judge(effect, se, at48),
                   f"balanced test at 48 px ({at48['weighting'].iloc[0]} weighting): {order}; {pick} − {rival} "
                   f"= {effect:+.3f}" + (f" ± {se:.3f}" if se is not None else f" ({n} seed)") + left_out,
                   _names(used))


def cross_domain(main: pd.DataFrame) -> Verdict:
    """BTFER §II's reason for its test set: accuracy drops from the training domain's validation split to a
    balanced set from another domain; the effect is validation minus balanced-test accuracy over trained rows."""
    claim = "accuracy drops on a balanced test set from a domain no training set shares (§II; 0.6-0.8 → 0.3-0.6)"
    done = main[main["state"] != "skipped"]
    diff = (done["val_acc"] - done["test_acc"]).dropna()
    n = len(diff)
    se = float(diff.std() / np.sqrt(n)) if n > 1 else None
    effect = float(diff.mean()) if n else None
    return Verdict("The cross-domain drop", None, claim, effect, se, n, _judge(effect, se, done),
                   f"validation {done['val_acc'].mean():.2f} in the training domain against balanced test "
                   f"{done['test_acc'].mean():.2f} (mean over {n} rows)", _names(done))


def experiment_verdicts(bench) -> list[Verdict]:
    """Every experiment's verdict from a :class:`~fernb.papers.btfer.drivers.Benchmark`, with the resolutions and
    the edge-size limit of its profile's recipes."""
    res, test = RESOLUTION(bench.profile), TEST(bench.profile)
    sized = bench.sized.table
    return [cross_domain(bench.main), starts(bench.table("starts")), size(bench.main),
            *labels(bench.table("labels")), weighting(bench.main),
            resolution(sized, res.low, res.high, res.compared), best(sized, test.small_m)]


def verdicts_frame(vs: list[Verdict]) -> pd.DataFrame:
    """The verdicts as a table (one row per experiment)."""
    cols = ["experiment", "verdict", "effect", "spread", "seeds", "claim"]
    return pd.DataFrame([asdict(v) for v in vs])[cols].set_index("experiment")


def verdicts_markdown(vs: list[Verdict], profile: str) -> str:
    """The page's "What held here": a count of verdicts, then one line per experiment with its measurement."""
    counts = pd.Series([v.verdict for v in vs]).value_counts()
    summary = ", ".join(f"{n} {word}" for word, n in counts.items())
    lines = [f"In `{profile}` the {len(vs)} questions below come out as: {summary}."]
    lines += [f"* **{v.experiment}** — *{v.verdict}*: {v.measured}." for v in vs]
    return "\n".join(lines)


def headlines(vs: list[Verdict]) -> dict:
    """Results-map item -> headline text (an item with several verdicts joins them)."""
    out = {}
    for v in vs:
        if v.item:
            where = v.experiment.partition(", ")[2]
            text = f"{v.verdict}: {where + ': ' if where else ''}{v.measured}"
            out[v.item] = f"{out[v.item]}; {text}" if v.item in out else text
    return out


MAP_STATUS = {"replicates": "replicates", "contradicted": "contradicted", "absent": "absent",
              "no noise estimate": "uninformative"}
"""This page's verdict words as the results map counts them (a claim that needs ``full`` gets no verdict)."""


def map_verdicts(vs: list[Verdict]) -> dict:
    """Results-map item -> the verdict of its first judged experiment, in the form ``ch.headline(verdict=...)``
    takes (the effect in points of accuracy)."""
    out = {}
    for v in vs:
        if v.item and v.item not in out and v.verdict in MAP_STATUS and v.effect is not None:
            se = None if v.spread is None or not np.isfinite(v.spread) else 100 * v.spread
            out[v.item] = {"status": MAP_STATUS[v.verdict], "claim": v.claim,
                           "effect": f"{v.experiment}, in the claim's direction (points)", "mean": 100 * v.effect,
                           "se": se, "seeds": v.seeds, "why": "" if se is not None else "no spread over seeds"}
    return out


def headline_runs(vs: list[Verdict]) -> dict:
    """Results-map item -> the run folder names its verdicts rest on (for ``ch.headline(..., runs=...)``)."""
    out = {}
    for v in vs:
        if v.item:
            out[v.item] = tuple(dict.fromkeys([*out.get(v.item, ()), *v.runs]))
    return out


# ---- the tables' words ------------------------------------------------------------------------------------------

def _acc(value) -> str:
    return f"{value:.2f}" if isinstance(value, (int, float, np.floating)) and value == value else str(value)


def table2_headline(table2: pd.DataFrame) -> str:
    """Table 2's headline (``btfer-t2``): each trained model's validation and balanced-test accuracy, conservative
    weighting where it was trained (else simple)."""
    ours = table2.dropna(subset=["params_m"]).drop_duplicates("model")
    out = []
    for r in ours.to_dict("records"):
        w = "conservative" if pd.notna(r.get("val_conservative")) else "simple"
        out.append(f"{r['model']}: val {_acc(r[f'val_{w}'])}, balanced test {_acc(r[f'test_{w}'])} ({w})")
    return "; ".join(out) or "—"


def table6_headline(best: pd.DataFrame) -> str:
    """Table 6's headline (``btfer-t6``): our picks per resolution, validation / balanced test."""
    return "; ".join(f"{r['img_size']} px {r['pick']}: {r['model']} {_acc(r['val_acc'])} / {_acc(r['test_acc'])}"
                     for r in best.to_dict("records"))


def table_caption(table: pd.DataFrame, img_size: int, dataset: str, test_title: str, profile: str) -> str:
    """The caption of Table 2 (48 px) or 3 (224 px) beside the paper: what ours and the paper's were trained on."""
    n = int(table["params_m"].notna().sum())
    which = "Table 2 (48×48)" if img_size == 48 else "Table 3 (224×224)"
    rows = f"{n} row{'' if n == 1 else 's'}"
    return (f"**{which}: ours on SynthFER {dataset} → {test_title} ({rows} trained in `{profile}`); paper on "
            f"{paper_dataset(dataset)} → BTFER**")


def size_words(main: pd.DataFrame) -> str:
    """Experiment 2's rank correlation of size with balanced-test accuracy (:func:`size_rows`), or why there is
    none."""
    rows = size_rows(main)
    models = rows["model"].nunique() if len(rows) else 0
    if models < 3:
        return f"{models} model{'' if models == 1 else 's'} trained at 48 px: too few to correlate size with accuracy."
    r = params_accuracy(rows)
    return (f"Spearman rank correlation of parameters with balanced-test accuracy over {models} models at 48 px "
            f"({rows['weighting'].iloc[0]} weighting): {r['spearman']:+.2f} (p = {r['p']:.2f}).")


def resolution_words(sized: pd.DataFrame, low: int, high: int, compared) -> str:
    """Experiment 5's setting in words: the models trained at both sizes and their parameter counts at each (a
    network that flattens its last map grows with the input)."""
    rows = sized[sized["model"].isin(compared) & (sized["state"] != "skipped")]
    size = rows.groupby(["model", "img_size"])["params_m"].first().unstack()
    if low not in size or high not in size:
        return f"No model is trained at both {low} and {high} px in this profile."
    both = size[[low, high]].dropna()
    grown = "; ".join(f"{m}: {r[low]:.2f}M parameters at {low} px, {r[high]:.2f}M at {high} px"
                      for m, r in both.iterrows())
    return f"Trained at {low} and {high} px here: {grown}."


def weighting_words(main: pd.DataFrame) -> str:
    """Experiment 4's measurement in a sentence (:func:`weighting`), for a page with no paired rows to tabulate."""
    v = weighting(main)
    return f"*{v.verdict}*: {v.measured}."
