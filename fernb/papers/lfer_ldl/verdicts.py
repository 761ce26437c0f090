"""What the chapter's measurements say, in words: headline numbers for the results map and the Markdown the page
shows. Every sentence that states a result is computed here from the measurement it states."""

from __future__ import annotations

import numpy as np
import pandas as pd

from fernb.papers.lfer_ldl.distributions import ORACLE, SMOOTHING, SMOOTHING_EPS
from fernb.papers.lfer_ldl.paper import OURS, TABLE_4, TABLE_ITEM, paper_dataset, peak_beta
from fernb.papers.lfer_ldl.tables import accuracies, learned, network

UNINFORMATIVE = "uninformative"  # what fernb.chapter.guard_table writes for a run that learned nothing
NONE, TEACHER = "none (combo loss only)", "teacher"


def _numbers(values) -> pd.Series:
    """A table column as numbers: a guarded ("uninformative") or missing cell becomes NaN."""
    return pd.to_numeric(pd.Series(values), errors="coerce")


def _noise(values) -> dict:
    """:func:`fernb.eval.metrics.beyond_noise` of one set of per-seed values: mean, standard error, seeds, beyond."""
    from fernb.eval.metrics import beyond_noise

    row = beyond_noise(pd.DataFrame({"x": _numbers(values).dropna().to_numpy()})).loc["x"]
    return {"mean": float(row["mean"]), "se": None if pd.isna(row["standard error"]) else float(row["standard error"]),
            "seeds": int(row["seeds"]), "beyond": bool(row["beyond noise"])}


def _noise_words(v: dict) -> str:
    if v["se"] is None:
        return f"{v['mean']:+.1f} points over {v['seeds']} seed (no run-to-run estimate)"
    return (f"{v['mean']:+.1f} ± {v['se']:.1f} points (mean ± standard error over {v['seeds']} paired seeds; "
            f"{'beyond' if v['beyond'] else 'within'} the noise)")

NOISE_WORD = {True: "beyond seed noise", False: "not beyond seed noise",
              None: "noise unmeasured (one seed per value)"}


def sweep_verdict(table: pd.DataFrame) -> dict:
    """Whether the sweep's range (best - worst mean) exceeds twice the run-to-run sd measured where several seeds
    ran; ``None`` when no coefficient has two seeds."""
    sds = table["sd"].dropna()
    spread = float(table["accuracy (%)"].max() - table["accuracy (%)"].min())
    sd = float(np.sqrt((sds ** 2).mean())) if len(sds) else None
    return {"best beta": float(table["accuracy (%)"].idxmax()), "range": spread, "sd": sd,
            "beyond noise": None if sd is None else bool(spread > 2 * sd)}


def sweep_headline(table: pd.DataFrame, dataset: str) -> tuple[str, str]:
    """(results-map item, text) of the sweep: Fig. 7 for AffectNet-7, Fig. 6 otherwise."""
    best, verdict = table["accuracy (%)"], sweep_verdict(table)
    item = "lferldl-f7" if paper_dataset(dataset) == "AffectNet-7" else "lferldl-f6"
    return item, (f"best {best.max():.2f} % at β = {best.idxmax()} of {len(best)} values; "
                  f"{NOISE_WORD[verdict['beyond noise']]}")


def sweep_words(table: pd.DataFrame, dataset: str, synthetic: bool) -> str:
    """The sweep's peak, its range and whether the curve stands out of the run-to-run noise; ``table`` as the page
    shows it (a coefficient whose runs learned nothing reads "uninformative", and the sweep is then not read)."""
    failed = [b for b in table.index if str(table.loc[b, "accuracy (%)"]) == UNINFORMATIVE]
    if failed:
        return (f"At β = {', '.join(map(str, failed))} the students learned nothing, so this profile does not read "
                f"the sweep.")
    v = sweep_verdict(table.astype({"accuracy (%)": float}))
    noise = ("no coefficient ran twice, so there is no run-to-run estimate" if v["sd"] is None
             else f"the run-to-run sd is {v['sd']:.1f} points")
    return (f"Our accuracy peaks at β = {v['best beta']} on {dataset}{' (SynthFER)' if synthetic else ''}. The curve "
            f"spans {v['range']:.1f} points; {noise}: "
            + ("**the curve is beyond the noise**." if v["beyond noise"]
               else "**the curve is not beyond the noise**, and this profile cannot rank the coefficients. `full` "
                    "trains every value with three seeds."))


def steps_text(table4: pd.DataFrame, runs: dict | None = None) -> str:
    """Table 4's measured steps (the headline of ``lferldl-t4``), each named by its step and, when ``runs`` (row ->
    runs) are given, by the network it was measured on: a stand-in's step never reads as LFER-LDL's."""
    steps = _numbers(table4["ours step"]).dropna()

    def name(row):
        step = str(row).replace(" (LFER-LDL)", "").lstrip("+ ").strip()
        if not (runs and runs.get(row)):
            return f"{step} step"
        net = network(runs[row])
        return f"{step} step on {net if net.startswith('LFER-LDL') else 'the ' + net}"

    return "; ".join(f"{name(k)}: {v:+.2f}" for k, v in steps.items()) or "—"


def gain_words(gain: pd.DataFrame) -> str:
    """The LDL step of Table 4 over its seeds, read against their standard error
    (:func:`fernb.eval.metrics.beyond_noise`), beside the paper's step; a step resting on a run that learned
    nothing is not stated."""
    per_seed = _numbers(gain.loc["LDL gain (points)"]).dropna()
    paper = f"The paper's step on RAF-DB: +{OURS - TABLE_4['accuracy (%)'].iloc[2]:.2f}."
    if per_seed.empty:
        return f"The LDL step rests on a run that learned nothing, so this profile states no gain. {paper}"
    v, n = _noise(per_seed), len(per_seed)
    spread = "" if v["se"] is None else (f" (standard error {v['se']:.1f}; "
                                         f"{'beyond' if v['beyond'] else 'within'} the run-to-run variation)")
    return f"Label-distribution learning adds {v['mean']:+.1f} points on average over {n} seed(s){spread}. {paper}"


def table_headline(dataset: str, peak: list) -> tuple[str, str]:
    """(results-map item, text) of Tables 1-3: our mean accuracy at the paper's peak beta."""
    beta = peak_beta(dataset)
    return (TABLE_ITEM.get(paper_dataset(dataset), "lferldl-t1"),
            f"{accuracies(peak).mean():.2f} % with LDL at β = {beta}, mean of {len(peak)} seed(s), "
            f"{network(peak)}")


def curves_headline(dataset: str, run) -> tuple[str, str]:
    """(results-map item, text) of Figs. 8-9: how many epochs the curves cover and where the run ends."""
    item = "lferldl-f9" if paper_dataset(dataset).startswith("AffectNet") else "lferldl-f8"
    return item, (f"curves over {len(run.history)} epochs; test {100 * run.metrics['accuracy']:.1f} %, "
                  f"{network([run])}")


def _verdict(g) -> str:
    return "closer to the truth" if g["ci_high"] < 0 else "further from the truth" if g["ci_low"] > 0 else "no different"


def _gap_words(g) -> str:
    return f"{g['mean']:+.3f} nats (95 % interval {g['ci_low']:+.3f} to {g['ci_high']:+.3f}): **{_verdict(g)}**"


def truth_verdict(report: pd.DataFrame, gaps: pd.DataFrame, seed: int, dataset: str, profile: str) -> str:
    """The teacher-against-truth measurement in words (test faces; the first teacher, then the spread over all)."""
    t, o = report.loc[("test", "teacher")], report.loc[("test", ORACLE)]
    text = (f"**Measured on {dataset} (SynthFER), profile {profile}, test faces:** against label smoothing, the "
            f"teacher's KL to the true distribution is {_gap_words(gaps.loc[(seed, 'test', 'blends', SMOOTHING)])} "
            f"on blended faces and {_gap_words(gaps.loc[(seed, 'test', 'all', SMOOTHING)])} over all faces. Its "
            f"second class names the true partner of {100 * t['2nd class = partner']:.0f} % of blends (chance "
            f"17 %; the label-conditional oracle {100 * o['2nd class = partner']:.0f} %), and its entropy "
            f"correlates with clarity at ρ = {t['rho(entropy, clarity)']:+.2f}.")
    per_seed = gaps.xs(("test", "blends", SMOOTHING), level=["split", "faces", "minus"])["mean"]
    if len(per_seed) > 1:
        text += (f" Over {len(per_seed)} teachers of different seeds the blended-face gap is "
                 f"{per_seed.mean():+.3f} ± {per_seed.std(ddof=1):.3f} nats (mean ± sd).")
    return text


def smoothing_words(report: pd.DataFrame, num_classes: int = 7) -> str:
    """What label smoothing's correlation with the blend weight means: smoothing has no second class, so a
    positive rho comes from blends whose crowd label is the partner itself (label noise, not insight)."""
    rho = {s: report.loc[(s, SMOOTHING), "rho(p_partner, weight)"] for s in ("train", "test")}
    if any(v is None or pd.isna(v) for v in rho.values()):
        return "Label smoothing has no second class, and its ρ(p_partner, weight) is undefined on these faces."
    values = f"{rho['train']:+.2f} on the training faces and {rho['test']:+.2f} on the test faces"
    if min(rho.values()) > 0:
        top = 1 - SMOOTHING_EPS + SMOOTHING_EPS / num_classes
        return (f"Label smoothing has no second class, yet its ρ(p_partner, weight) is positive ({values}): the "
                f"stronger a blend, the more often the crowd's label is the partner itself, and smoothing then puts "
                f"{top:.2f} on it. That is label noise, not insight into the face.")
    return (f"Label smoothing has no second class, and its ρ(p_partner, weight) is {values}: here the crowd's label "
            f"does not consistently follow the blend's strength.")


def target_verdicts(gaps: pd.DataFrame) -> pd.DataFrame:
    """:func:`fernb.eval.metrics.beyond_noise` of each paired comparison of :func:`~.tables.paired_gaps`."""
    from fernb.eval.metrics import beyond_noise

    return beyond_noise(gaps)


def _pair(gaps: pd.DataFrame, a: str, b: str) -> dict | None:
    col = f"{a} − {b}"
    return _noise(gaps[col]) if col in gaps.columns and gaps[col].notna().any() else None


def targets_words(targets: dict, gaps: pd.DataFrame, profile: str) -> str:
    """Whether the gain of label-distribution learning is the teacher's ambiguity or any dense target, decided on
    the students of :func:`~.experiments.kl_targets` (``targets``: target -> runs) by the per-seed paired
    differences ``gaps`` (:func:`~.tables.paired_gaps`) against their standard error."""
    controls = [t for t in targets if t not in (NONE, TEACHER)]
    if not controls:
        return f"`{profile}` skips the smoothing and true-blend students; `full` trains them."
    failed = [name for name, runs in targets.items() if not learned(runs)]
    out = []
    if failed:
        out.append(f"In `{profile}` the {', '.join(failed)} student(s) learned nothing on at least one seed (see the "
                   f"table), so no comparison with {'it' if len(failed) == 1 else 'them'} is stated.")

    def pair(a, b):  # a paired verdict only between students that both learned
        return None if a in failed or b in failed else _pair(gaps, a, b)

    dense = {c: pair(c, NONE) for c in [TEACHER, *controls]}
    if any(v is not None for v in dense.values()):
        out.append("Over the combo loss alone: " + "; ".join(
            f"the {c} target {_noise_words(v)}" for c, v in dense.items() if v is not None) + ".")
    ts = pair(TEACHER, "label smoothing")
    if ts is not None:
        if ts["beyond"] and ts["mean"] > 0:
            out.append(f"Against label smoothing, a dense target without ambiguity, the teacher's distributions score "
                       f"{_noise_words(ts)}: the gain is **the teacher's ambiguity**, not any dense target.")
        elif ts["beyond"]:
            out.append(f"Against label smoothing the teacher's distributions score {_noise_words(ts)}: a dense "
                       f"target without ambiguity trains a better student, so **the teacher's ambiguity is not what "
                       f"helps** here; its distributions cost accuracy.")
        else:
            out.append(f"Against label smoothing, a dense target without ambiguity, the teacher's distributions score "
                       f"{_noise_words(ts)}: this profile cannot tell them from **any dense target**, so it cannot "
                       f"credit the teacher's ambiguity with the gain (within the noise is not the same as equal).")
    tb, bs = pair(TEACHER, "true blend"), pair("true blend", "label smoothing")
    if tb is not None:
        how = ("the faces' true ambiguity trains a better student than the teacher's estimate of it"
               if tb["beyond"] and tb["mean"] < 0 else
               "the teacher's distributions train a better student than the faces' true ambiguity: what helps is "
               "more than ambiguity (the teacher's confusions, its softness)" if tb["beyond"] else
               "the teacher's estimate of the ambiguity and the truth are not told apart here")
        out.append(f"Against the true blends the teacher's distributions score {_noise_words(tb)}: {how}.")
    if bs is not None:
        out.append(f"The true blends against label smoothing, the cleanest test of ambiguity itself: "
                   f"{_noise_words(bs)}.")
    return " ".join(out)


_THAN = {"closer to the truth": "closer to the truth than", "further from the truth": "further from the truth than",
         "no different": "no different from"}


def _clarity_words(rho) -> str:
    if rho is None or pd.isna(rho):
        return "cannot be set against clarity (no spread)"
    how = "tracks clarity" if rho < -0.3 else "tracks clarity only weakly" if rho < 0 else "does not track clarity"
    return f"{how} (ρ = {rho:+.2f}; a source that sees ambiguity has ρ < 0)"


def truth_summary(truth, seed: int, profile: str) -> str:
    """The teacher-against-truth finding for the chapter's summary (test faces, the first teacher): its gap to label
    smoothing on blends and on all faces, its partner hits against chance and the oracle, its entropy and clarity,
    and what that says the teacher has learned."""
    if truth is None:
        return ("This dataset records no true blends, so the teacher-against-truth measurement (it needs SynthFER) "
                "did not run.")
    report, gaps = truth
    t, o = report.loc[("test", "teacher")], report.loc[("test", ORACLE)]
    gb, ga = gaps.loc[(seed, "test", "blends", SMOOTHING)], gaps.loc[(seed, "test", "all", SMOOTHING)]
    hit, chance = 100 * t["2nd class = partner"], 100 / 6
    hits = (f"{hit / chance:.1f} times chance, without ever being told it" if hit > 1.5 * chance
            else f"no clear gain on chance ({chance:.0f} %)")
    text = (f"In `{profile}`, on blended test faces the teacher's distributions are {_THAN[_verdict(gb)]} label "
            f"smoothing ({gb['mean']:+.3f} nats), and its second class names the true partner {hit:.0f} % of the "
            f"time, {hits}. Over all faces they are {_THAN[_verdict(ga)]} smoothing ({ga['mean']:+.3f} nats)")
    if _verdict(gb) == "closer to the truth" and _verdict(ga) != "closer to the truth":
        text += ", so on pure faces, whose truth is one-hot, its spread gives back what it gains on blends"
    go = gaps.loc[(seed, "test", "blends", ORACLE)]
    text += (f". Against the label-conditional oracle, which knows the dataset's confusions but not the face (it "
             f"names the partner {100 * o['2nd class = partner']:.0f} % of the time), the teacher's KL on blends is "
             f"{_gap_words(go)}; its entropy "
             f"{_clarity_words(t['rho(entropy, clarity)'])}. ")
    if _verdict(gb) != "closer to the truth":
        text += "So this teacher's distributions do not capture the blends better than label smoothing does."
    elif _verdict(go) == "closer to the truth":
        text += ("So the teacher knows more than which expressions get confused: its distributions carry something "
                 "of the particular face.")
    else:
        text += ("So the teacher has learned mostly which expressions get confused, less how ambiguous a particular "
                 "face is.")
    return text


def ldl_step_summary(table4: pd.DataFrame, profile: str) -> str:
    """Table 4's LDL step as measured, beside the paper's and the other steps measured in this profile; a row
    that learned nothing is said to have, instead of its step."""
    steps = _numbers(table4["ours step"]).dropna()
    last = TABLE_4.index[-1]
    paper = table4.loc[last, "paper step"]
    acc = [c for c in table4.columns if c.startswith("ours acc.")]
    failed = [r for r in table4.index if acc and str(table4.loc[r, acc[0]]) == UNINFORMATIVE]
    if failed:
        return (f"In `{profile}` the row(s) {', '.join(failed)} of the ablation learned nothing, so no LDL step is "
                f"stated (the paper's: {paper:+.2f} points).")
    if last not in steps:
        return f"`{profile}` measures no LDL step of Table 4 (the paper's: {paper:+.2f} points)."
    rank = ("the only step of the ablation measured here" if len(steps) == 1 else
            "the largest step of the ablation" if steps.idxmax() == last else
            f"not the largest step of the ablation ({steps.idxmax()}: {steps.max():+.2f})")
    return (f"Label-distribution learning adds {steps[last]:+.2f} points in `{profile}`, {rank}; the paper's LDL "
            f"step on RAF-DB is {paper:+.2f}.")


def learned_words(runs_by_name: dict, profile: str) -> str:
    """Whether the students this page compares learned: the weakest margin over always answering the commonest
    test class, and which (if any) learned nothing (:func:`fernb.eval.metrics.informative`)."""
    seen, checks = set(), []
    for name, runs in runs_by_name.items():  # a run shared by two names (the ablation's, the controls') counts once
        for r in runs:
            if id(r) not in seen:
                seen.add(id(r))
                checks.append((name, r.informative))
    if not checks:
        return f"`{profile}` trains no student."
    failed = sorted({name for name, c in checks if not c["informative"]})
    name, worst = min(checks, key=lambda nc: nc[1]["accuracy"] - nc[1]["majority share"])
    margin = 100 * (worst["accuracy"] - worst["majority share"])
    text = (f"In `{profile}` the weakest of the {len(checks)} students ({name}) scores {100 * worst['accuracy']:.1f} "
            f"%, {margin:+.1f} points over always answering the commonest test class "
            f"({100 * worst['majority share']:.1f} %)")
    if failed:
        return text + f"; {'; '.join(failed)} learned nothing, and their numbers are shown as uninformative."
    return text + ", so every comparison on this page is between networks that learned."


def architecture_words(sweep: pd.DataFrame, profile: str) -> str:
    """The architecture steps of Table 4 (output module, PDWRes) against the run-to-run sd measured here
    (``sweep`` as the page shows it: a guarded row gives no sd)."""
    sds = _numbers(sweep["sd"]).dropna()
    sd = float(np.sqrt((sds ** 2).mean())) if len(sds) else None
    steps = TABLE_4["accuracy (%)"].diff().iloc[1:3]
    paper = " and ".join(f"{v:+.2f}" for v in steps)
    if sd is None:
        return (f"The paper's architecture steps are {paper} points; `{profile}` measures no run-to-run sd to set "
                f"them against, and `full` trains them.")
    resolvable = bool((steps.abs() > 2 * sd).all())
    return (f"The paper's architecture steps are {paper} points and the run-to-run sd here is {sd:.1f} points, so "
            + ("`" + profile + "` could resolve them." if resolvable else
               f"`{profile}`'s seeds could not resolve them; `full` trains those rows."))


def curves_words(run, dataset: str, profile: str) -> str:
    """How far this profile's curves go against the epoch at which the paper sees convergence (Figs. 8-9)."""
    paper = 15 if paper_dataset(dataset).startswith("AffectNet") else 35
    epochs = len(run.history)
    val = [h.get("val_acc") for h in run.history if h.get("val_acc") is not None]
    end = f"; validation accuracy {100 * val[0]:.1f} % after the first and {100 * val[-1]:.1f} % after the last" \
        if val else ""
    return (f"The paper sees convergence by epoch {paper}; `{profile}` trains {epochs} epoch(s){end}, so "
            + ("these curves show only the start of training." if epochs < paper else "they cover the paper's."))
