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
    a, b = ("imagenet", "vggface") if {"imagenet", "vggface"} <= set(wide) else tuple(means.index[[0, -1]])
    effect, se, n = _paired(wide, a, b)
    order = ", ".join(f"{s} {v:.3f}" for s, v in means.items())
    return Verdict("Experiment 1 (starts)", "btfer-e1", claim, effect, se, n, _judge(effect, se, at48),
                   f"balanced-test accuracy at 48 px by start: {order}; {a} − {b} = {effect:+.3f}")


def size(main: pd.DataFrame) -> Verdict:
    """Experiment 2 (§IV-E): small networks reach high accuracy, so size should not buy balanced-test accuracy."""
    claim = "fewer parameters, good performance: small CNNs reach over 70 % (§IV-E, Tables 4-5)"
    r = params_accuracy(main)
    if r["rows"] < 6:
        return Verdict("Experiment 2 (size)", "btfer-e2", claim, None, None, 0, NEEDS_FULL,
                       f"{r['rows']} trained rows in this profile: not a question it can answer; `full` trains "
                       "the zoo")
    word = "contradicted" if (r["spearman"] > 0 and r["p"] < 0.05) else "replicates"
    word = word if _informative(main) else "uninformative"
    return Verdict("Experiment 2 (size)", "btfer-e2", claim, r["spearman"], None, 0, word,
                   f"rank correlation of size with balanced-test accuracy {r['spearman']:.2f} over {r['rows']} "
                   f"rows (p = {r['p']:.2f})")


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
                           f"gap to true labels: {_gap_words(q)}"))
    return out


def weighting(main: pd.DataFrame) -> Verdict:
    """Experiment 4 (§IV-G): class weighting moves accuracy more from scratch than from pretrained weights."""
    claim = "the weighting moves accuracy more for scratch models than for pretrained ones (§IV-G)"
    w = weighting_gap(main).set_index("start_kind")
    if "scratch" not in w.index:
        return Verdict("Experiment 4 (weighting)", "btfer-e4", claim, None, None, 0, NEEDS_FULL,
                       "no scratch row trained with both weightings")
    sc = w.loc["scratch"]
    said = (f"from scratch, simple − conservative = {sc.mean_gap:+.3f} (mean |gap| {sc.mean_abs_gap:.3f} over "
            f"{int(sc.pairs)} pairs, {'beyond' if sc.beyond_noise else 'within'} seed noise)")
    if "pretrained" not in w.index:
        return Verdict("Experiment 4 (weighting)", "btfer-e4", claim, None, None, int(sc.pairs), NEEDS_FULL,
                       said + "; pretrained rows need weights, so the contrast is `full`'s")
    pre = w.loc["pretrained"]
    effect = float(sc.mean_abs_gap - pre.mean_abs_gap)
    return Verdict("Experiment 4 (weighting)", "btfer-e4", claim, effect, None, int(sc.pairs),
                   _judge(effect, None, main),
                   said + f"; pretrained mean |gap| {pre.mean_abs_gap:.3f} over {int(pre.pairs)} pairs")


def resolution(sized: pd.DataFrame, low: int, high: int, compared) -> Verdict:
    """Experiment 5 (§IV-H): 224 px beats 48 px by about 0.06 validation and 0.09 BTFER accuracy."""
    claim = "224 px beats 48 px by about 0.06 validation and 0.09 BTFER accuracy (§IV-H)"
    rows = sized[sized["model"].isin(compared)]
    gap = resolution_gap(rows, low, high)
    if not len(gap):
        return Verdict("Experiment 5 (resolution)", "btfer-e5", claim, None, None, 0, NEEDS_FULL,
                       f"no model trained at both {low} and {high} px")
    pairs = rows.pivot_table(index=["model", "start", "weighting", "seed"], columns="img_size", values="test_acc")
    _, se, n = _paired(pairs, high, low) if {low, high} <= set(pairs) else (None, None, 0)
    effect = float(gap["test_gain"].mean())
    return Verdict("Experiment 5 (resolution)", "btfer-e5", claim, effect, se, n,
                   _judge(effect, se, rows[rows["img_size"].isin([low, high])]),
                   f"{high} px − {low} px: validation {gap['val_gain'].mean():+.3f}, balanced test "
                   f"{gap['test_gain'].mean():+.3f}")


def best(sized: pd.DataFrame, small_m: float = 5.0) -> Verdict:
    """Experiment 6 (§IV-I, Table 6): the best model per resolution, and a lighter one for the edge."""
    claim = "48 px: ResNet18 + Dropout + Dense; 224 px: ResNet50-VF; DenseNet121 for edge devices (Table 6)"
    picks = best_per_resolution(sized, small_m)
    top = picks.sort_values("test_acc").iloc[-1]
    trained = sized[sized["state"] != "skipped"]
    models = trained.groupby("img_size")["model"].nunique().max()
    said = f"{top.model} at {top.img_size} px, balanced test {top.test_acc:.3f}"
    word = NEEDS_FULL if models < 3 else ("replicates" if _informative(trained) else "uninformative")
    if models < 3:
        said += f" (best of {models} model{'s' if models > 1 else ''}: the ranking needs the zoo, `full`)"
    return Verdict("Experiment 6 (best)", "btfer-e6", claim, float(top.test_acc), None, int(top.seeds), word, said)


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
                   f"{done['test_acc'].mean():.2f} (mean over {n} rows)")


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


# ---- the tables' words ------------------------------------------------------------------------------------------

def table2_headline(table2: pd.DataFrame) -> str:
    """Table 2's headline (``btfer-t2``): our trained models' conservative validation and balanced-test accuracy."""
    ours = table2.dropna(subset=["params_m"]).drop_duplicates("model")
    return "; ".join(f"{r.model}: val {r.val_conservative:.2f}, balanced test {r.test_conservative:.2f} "
                     "(conservative)" for r in ours.itertuples()) or "—"


def table6_headline(best: pd.DataFrame) -> str:
    """Table 6's headline (``btfer-t6``): our picks per resolution, validation / balanced test."""
    return "; ".join(f"{r.img_size} px {r.pick}: {r.model} {r.val_acc:.2f} / {r.test_acc:.2f}"
                     for r in best.itertuples())


def table_caption(table: pd.DataFrame, img_size: int, dataset: str, test_title: str, profile: str) -> str:
    """The caption of Table 2 (48 px) or 3 (224 px) beside the paper: what ours and the paper's were trained on."""
    n = int(table["params_m"].notna().sum())
    which = "Table 2 (48×48)" if img_size == 48 else "Table 3 (224×224)"
    rows = f"{n} row{'' if n == 1 else 's'}"
    return (f"**{which}: ours on SynthFER {dataset} → {test_title} ({rows} trained in `{profile}`); paper on "
            f"{paper_dataset(dataset)} → BTFER**")


def size_words(main: pd.DataFrame) -> str:
    """Experiment 2's rank correlation of size with balanced-test accuracy, or why there is none."""
    r = params_accuracy(main)
    if r["rows"] < 3:
        return f"{r['rows']} trained rows: too few to correlate size with accuracy."
    return (f"Spearman rank correlation of parameters with balanced-test accuracy over {r['rows']} rows: "
            f"{r['spearman']:.2f}.")
