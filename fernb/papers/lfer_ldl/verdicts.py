"""What the chapter's measurements say, in words: headline numbers for the results map and the Markdown the page
shows. Every sentence that states a result is computed here from the measurement it states."""

from __future__ import annotations

import numpy as np
import pandas as pd

from fernb.papers.lfer_ldl.distributions import ORACLE, SMOOTHING, SMOOTHING_EPS
from fernb.papers.lfer_ldl.paper import OURS, TABLE_4, TABLE_ITEM, paper_dataset, peak_beta
from fernb.papers.lfer_ldl.tables import accuracies

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
    """The sweep's peak, its range and whether the curve stands out of the run-to-run noise."""
    v = sweep_verdict(table)
    noise = ("no coefficient ran twice, so there is no run-to-run estimate" if v["sd"] is None
             else f"the run-to-run sd is {v['sd']:.1f} points")
    return (f"Our accuracy peaks at β = {v['best beta']} on {dataset}{' (SynthFER)' if synthetic else ''}. The curve "
            f"spans {v['range']:.1f} points; {noise}: "
            + ("**the curve is beyond the noise**." if v["beyond noise"]
               else "**the curve is not beyond the noise**, and this profile cannot rank the coefficients. `full` "
                    "trains every value with three seeds."))


def steps_text(table4: pd.DataFrame) -> str:
    """Table 4's measured steps (the headline of ``lferldl-t4``)."""
    steps = table4["ours step"].dropna()
    return "; ".join(f"{k}: {v:+.2f}" for k, v in steps.items()) or "—"


def gain_words(gain: pd.DataFrame) -> str:
    """The LDL step of Table 4 over its seeds, read against their standard error, beside the paper's step."""
    per_seed = gain.loc["LDL gain (points)"].astype(float).dropna()
    n, mean = len(per_seed), float(per_seed.mean())
    spread = ""
    if n > 1:  # beyond noise: the mean more than two standard errors from zero
        se = float(per_seed.std(ddof=1) / np.sqrt(n))
        spread = f" (standard error {se:.1f}; {'beyond' if abs(mean) > 2 * se else 'within'} the run-to-run variation)"
    return (f"Label-distribution learning adds {mean:+.1f} points on average over {n} seed(s){spread}. The paper's "
            f"step on RAF-DB: +{OURS - TABLE_4['accuracy (%)'].iloc[2]:.2f}.")


def table_headline(dataset: str, peak: list) -> tuple[str, str]:
    """(results-map item, text) of Tables 1-3: our mean accuracy at the paper's peak beta."""
    beta = peak_beta(dataset)
    return (TABLE_ITEM.get(paper_dataset(dataset), "lferldl-t1"),
            f"{accuracies(peak).mean():.2f} % with LDL at β = {beta}, mean of {len(peak)} seed(s)")


def curves_headline(dataset: str, run) -> tuple[str, str]:
    """(results-map item, text) of Figs. 8-9: how many epochs the curves cover and where the run ends."""
    item = "lferldl-f9" if paper_dataset(dataset).startswith("AffectNet") else "lferldl-f8"
    return item, f"curves over {len(run.history)} epochs; test {100 * run.metrics['accuracy']:.1f} %"


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


def target_verdict(table: pd.DataFrame, a: str, b: str, sd: float | None) -> str:
    """Students that differ only in the KL term's target (rows of ``table``, one column per seed): the mean gap of
    ``a`` over ``b`` on their shared seeds, read against the run-to-run sd."""
    both = table.loc[[a, b]].dropna(axis=1).astype(float)
    if both.shape[1] == 0:
        return f"No seed trained both the {a} and the {b} target."
    gap = float((both.loc[a] - both.loc[b]).mean())
    seeds = f"{both.shape[1]} shared seed{'s' if both.shape[1] > 1 else ''}"
    if sd is None:
        return f"The {a} target scores {gap:+.1f} points over the {b} target ({seeds}; no run-to-run estimate)."
    beyond = abs(gap) > 2 * sd
    return (f"The {a} target scores {gap:+.1f} points over the {b} target ({seeds}), "
            f"{'beyond' if beyond else 'within'} twice the run-to-run sd of {sd:.1f} points"
            + ("." if beyond else f": this profile cannot tell the two targets apart, so the gain over the combo "
               f"loss alone is the KL term's doing, not something only the {a}'s distributions carry."))


def targets_words(table: pd.DataFrame, sweep: pd.DataFrame, profile: str) -> str:
    """The first control target against the teacher's (:func:`target_verdict`), or what this profile skips."""
    controls = [t for t in table.index if t not in ("none (combo loss only)", "teacher")]
    if not controls:
        return f"`{profile}` skips the smoothing and true-blend students; `full` trains them."
    return target_verdict(table, "teacher", controls[0], sweep_verdict(sweep)["sd"])


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
    """Table 4's LDL step as measured, beside the paper's and the other steps measured in this profile."""
    steps = table4["ours step"].dropna()
    last = TABLE_4.index[-1]
    paper = table4.loc[last, "paper step"]
    if last not in steps:
        return f"`{profile}` measures no LDL step of Table 4 (the paper's: {paper:+.2f} points)."
    rank = ("the only step of the ablation measured here" if len(steps) == 1 else
            "the largest step of the ablation" if steps.idxmax() == last else
            f"not the largest step of the ablation ({steps.idxmax()}: {steps.max():+.2f})")
    return (f"Label-distribution learning adds {steps[last]:+.2f} points in `{profile}`, {rank}; the paper's LDL "
            f"step on RAF-DB is {paper:+.2f}.")
