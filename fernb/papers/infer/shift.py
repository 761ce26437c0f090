"""InFER++ §III-E as a measurement of shift: the same training share on both sides, over seeds, and on SynthFER over
display-rule divergences (how far synth-infer's displays lie from synth-raf's, ``SynthConfig.divergence``).

The paper trains on all of one dataset and tests on all of the other, once. Here every model trains on its own
domain's training split (equal shares: both domains at the same size), and the drop of a direction A → B is the
accuracy on B's test split of A's model minus that of B's own model, on the same images, paired by seed: the test
images are the same, so only the training domain differs. Models of the reference domain (synth-raf) do not depend
on the divergence and are trained once per seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from fernb.papers.recipes import Recipe

SHIFT = Recipe(
    "shift", "§III-E as a shift: within and across on equal shares, over seeds and divergences",
    common=dict(class_weighting="conservative"),
    smoke=dict(model="tiny_cnn", img_size=32, epochs=1, batch_size=32, max_batches_per_epoch=3, seeds=2,
               images=280, divergences=[1.0, 4.0]),
    quick=dict(model="small_cnn", img_size=32, epochs=15, batch_size=64, max_batches_per_epoch=None, seeds=3,
               images=1000, divergences=[0.0, 1.0, 4.0]),
    long=dict(img_size=48, epochs=15, images=3000, seeds=5, divergences=[0.0, 1.0, 2.0, 3.0, 4.0]),
    full=dict(model="mobilevit_s", img_size=224, epochs=40, batch_size=64, max_batches_per_epoch=None, seeds=3,
              images=None, divergences=[0.0, 1.0, 2.0, 3.0, 4.0]),
)
"""What each profile trains per seed: one model of dataset A and one of dataset B per divergence (``images`` each,
``None``: the profile's size). ``quick`` keeps the small CNN at 32×32 on 1,000 images a domain, 15 epochs (about 6 s
a model on two cores; at 6 epochs a third of the evaluations learned nothing), so that 3 seeds × (1 + 3 divergences)
models fit the chapter's budget; divergence 4 because at 3 the synth-raf → synth-infer drop did not yet grow beyond
noise over 3 seeds (+2.3 ± 3.1 points; at 4, +4.8 ± 1.8). ``long`` (recorded) trains 48×48 on the profile's 3,000
images over five seeds and five divergences; ``full`` the text's MobileViT-S. On real datasets the
divergence list is ignored (there is one pair)."""


def _options(ds_name: str, settings, divergence, synthetic: bool) -> dict:
    opts = {"classes": "six"}
    if synthetic and settings["images"] is not None:
        opts["n"] = int(settings["images"])
    if synthetic and divergence is not None and divergence != 1.0:
        from fernb.data.synth.facs import REFERENCE

        if ds_name != REFERENCE:
            opts["divergence"] = float(divergence)
    return opts


@dataclass
class ShiftStudy:
    """``evals[(d, seed)]``: the four evaluations of one seed at divergence ``d`` (``None`` on real data), keyed
    ``"A→A"``, ``"A→B"``, ``"B→B"``, ``"B→A"`` (model's domain → test split's domain); ``runs`` the same way."""

    a: str
    b: str
    divergences: list
    seeds: list
    evals: dict
    runs: dict

    def accuracy(self, d, seed, key) -> float:
        return 100 * float(self.evals[(d, seed)][key].report()["accuracy"])

    def drops(self, d) -> dict:
        """Per-seed drops (points) at divergence ``d``: ``{"A→B": [...], "B→A": [...]}``, each the cross model's
        accuracy on the target's test split minus the target's own model's."""
        return {"A→B": [self.accuracy(d, s, "A→B") - self.accuracy(d, s, "B→B") for s in self.seeds],
                "B→A": [self.accuracy(d, s, "B→A") - self.accuracy(d, s, "A→A") for s in self.seeds]}

    def learned(self, d, keys=("A→A", "A→B", "B→B", "B→A")) -> bool:
        """Whether every evaluation ``keys`` at divergence ``d`` learned something, over all seeds
        (:func:`fernb.eval.metrics.informative`)."""
        from fernb.eval.metrics import informative

        return all(informative(self.evals[(d, s)][k].confusion)["informative"] for s in self.seeds for k in keys)

    def table(self) -> pd.DataFrame:
        """Per divergence and direction: within-domain and cross accuracy (mean ± sd over seeds, %), the paired drop
        (mean ± sd) and whether it is beyond noise (more than two standard errors from zero)."""
        rows = []
        for d in self.divergences:
            drops = self.drops(d)
            for key, own, src, dst in (("A→B", "B→B", self.a, self.b), ("B→A", "A→A", self.b, self.a)):
                cross = [self.accuracy(d, s, key) for s in self.seeds]
                within = [self.accuracy(d, s, own) for s in self.seeds]
                _, se, beyond = _judged(drops[key])
                if not self.learned(d, (key, own)):
                    rows.append({"divergence": "—" if d is None else f"{d:g}", "direction": f"{src} → {dst}",
                                 **dict.fromkeys(("target's own model (%)", "cross (%)", "cross − own (points)"),
                                                 "uninformative: a run learned nothing"), "beyond noise": "—"})
                    continue
                rows.append({
                    "divergence": "—" if d is None else f"{d:g}", "direction": f"{src} → {dst}",
                    "target's own model (%)": _pm(within), "cross (%)": _pm(cross),
                    "cross − own (points)": _pm(drops[key]),
                    "beyond noise": "—" if np.isnan(se) else "yes" if beyond else "no",
                })
        return pd.DataFrame(rows).set_index(["divergence", "direction"])

    def strongest(self):
        return max(self.divergences, key=lambda d: -1 if d is None else d)

    def evaluations(self, d=None, seed=None) -> list:
        """The four evaluations of one seed (the first) at divergence ``d`` (the strongest), named for the explorer."""
        d = self.strongest() if d is None else d
        seed = self.seeds[0] if seed is None else seed
        return list(self.evals[(d, seed)].values())


def _judged(values) -> tuple:
    """(mean, standard error, beyond noise) of per-seed values by the book's one rule,
    :func:`fernb.eval.metrics.beyond_noise` (the standard error is NaN for one seed)."""
    from fernb.eval.metrics import beyond_noise

    row = beyond_noise(pd.DataFrame({"v": np.asarray(values, dtype=float)})).loc["v"]
    return float(row["mean"]), float(row["standard error"]), bool(row["beyond noise"])


def _pm(values) -> str:
    v = np.asarray(values, dtype=float)
    return f"{v.mean():.1f} ± {v.std(ddof=1):.1f}" if len(v) > 1 else f"{v.mean():.1f}"


def shift_study(ch, dataset_b: str, data_root_b=None, model: str | None = None) -> ShiftStudy:
    """Train the profile's :data:`SHIFT` recipe: per seed one model of the chapter's dataset (A) and, per
    divergence, one of ``dataset_b`` (B), each on its own training split of the six-class view; evaluate each on
    its own test split and on the other's."""
    from fernb.data import load_dataset
    from fernb.data.manifest import load_manifest
    from fernb.eval import Evaluation
    from fernb.papers.infer.cross import check_pair

    r = SHIFT(ch.profile)
    a, b = ch.dataset, dataset_b
    roots = {a: ch.data_root, b: check_pair(a, b, data_root_b) or ch.data_root}
    synthetic = {n: load_manifest(n)["kind"] == "synthetic" for n in (a, b)}
    divergences = list(r.divergences) if all(synthetic.values()) else [None]
    train = {k: r[k] for k in r if k not in ("seeds", "images", "divergences")}
    train["model"] = model or train["model"]
    seeds = r.seeds_from(ch.seed)
    loaded, models, evals, runs = {}, {}, {}, {}

    def data(name, d):
        opts = _options(name, r, d, synthetic[name])
        key = (name, opts.get("divergence"))
        if key not in loaded:
            loaded[key] = load_dataset(name, roots[name], profile=ch.profile, seed=ch.seed, progress=False, **opts)
        return loaded[key], opts

    def model_of(name, d, seed):
        ds, opts = data(name, d)
        key = (name, opts.get("divergence"), seed)
        if key not in models:
            models[key] = ch.fit(dataset=name, data_root=roots[name], dataset_options=opts, seed=seed, **train)
        return models[key], ds

    for d in divergences:
        for seed in seeds:
            (run_a, ds_a), (run_b, ds_b) = model_of(a, d, seed), model_of(b, d, seed)
            evals[(d, seed)] = {
                "A→A": Evaluation.from_run(run_a, name=f"{a} → {a}", note=f"{a}'s own model on its test split"),
                "A→B": Evaluation.transfer(run_a, ds_b, ds_b.split("test"), name=f"{a} → {b}",
                                           note=f"{a}'s model on {b}'s test split"),
                "B→B": Evaluation.from_run(run_b, name=f"{b} → {b}", note=f"{b}'s own model on its test split"),
                "B→A": Evaluation.transfer(run_b, ds_a, ds_a.split("test"), name=f"{b} → {a}",
                                           note=f"{b}'s model on {a}'s test split"),
            }
            runs[(d, seed)] = {"A": run_a, "B": run_b}
    return ShiftStudy(a, b, divergences, seeds, evals, runs)


def shift_figure(study: ShiftStudy):
    """The paired drop (mean ± sd over seeds) against the display divergence, one line per direction; a setting
    where a run behind a direction learned nothing has no point."""
    import plotly.graph_objects as go

    fig = go.Figure()
    xs = [0.0 if d is None else d for d in study.divergences]
    for key, own, label in (("A→B", "B→B", f"{study.a} → {study.b}"), ("B→A", "A→A", f"{study.b} → {study.a}")):
        vals = [np.asarray(study.drops(d)[key]) for d in study.divergences]
        ok = [study.learned(d, (key, own)) for d in study.divergences]  # a run that learned nothing: no point
        fig.add_trace(go.Scatter(
            x=xs, y=[v.mean() if k else None for v, k in zip(vals, ok)], name=label, mode="lines+markers",
            error_y=dict(type="data", array=[v.std(ddof=1) if len(v) > 1 else 0 for v in vals]),
            hovertemplate="divergence %{x}<br>cross − own %{y:.1f} points<extra>" + label + "</extra>"))
    fig.add_hline(y=0, line_dash="dot", line_color="grey")
    fig.update_layout(title="Cross-domain accuracy minus the target's own model, by display divergence",
                      xaxis_title="display divergence (0: synth-raf's displays, 1: synth-infer as published)",
                      yaxis_title="cross − own model (points, mean ± sd over seeds)", height=420)
    return fig


def growth(study: ShiftStudy) -> dict:
    """Per direction, how the drop at the strongest divergence compares with that at the weakest, paired by seed:
    ``{direction: (mean, se, beyond noise)}`` of (drop at weakest − drop at strongest), points (> 0: the drop
    grows), judged by :func:`_judged`."""
    lo, hi = study.divergences[0], study.strongest()
    return {key: _judged(np.asarray(study.drops(lo)[key]) - np.asarray(study.drops(hi)[key]))
            for key in ("A→B", "B→A")}


def fig5_verdict(study: ShiftStudy, d: float | None = 1.0) -> dict:
    """The verdict on §III-E's claim (a model of one dataset loses accuracy on the other) at divergence ``d`` (the
    domains as published; real data: the only pair), judged in each direction by
    :func:`fernb.results.verdict` and combined: replicates only when both directions do, contradicted when either
    is, otherwise absent; the mean and standard error shown are the weaker direction's."""
    from fernb import results

    d = d if d in study.divergences else study.divergences[0]
    claim = results.catalogue_item("infer-f5")["claim"]
    learned = study.learned(d)
    parts = {k: results.verdict(claim, v, learned) for k, v in study.drops(d).items()}
    statuses = {p["status"] for p in parts.values()}
    status = ("uninformative" if "uninformative" in statuses else "contradicted" if "contradicted" in statuses
              else "replicates" if statuses == {"replicates"} else "absent")
    weaker = max(parts.values(), key=lambda p: p["mean"])
    return {**weaker, "status": status,
            "why": weaker["why"] or "; ".join(f"{k} {p['mean']:+.1f} ± {p['se']:.1f}" for k, p in parts.items())}


def shift_text(study: ShiftStudy) -> str:
    """The measured answer in Markdown: each direction's drop at the strongest setting against its spread, and
    (over more than one divergence) whether it grows from the weakest setting (both computed here)."""
    hi = study.strongest()
    at = "" if hi is None else f" at divergence {hi:g}"
    if not study.learned(hi):
        return f"- a run{at} learned nothing (a run that learned nothing is no result), so the study answers nothing"
    grow = growth(study) if len(study.divergences) > 1 else {}
    lines = []
    for key, (src, dst) in (("A→B", (study.a, study.b)), ("B→A", (study.b, study.a))):
        drop = np.asarray(study.drops(hi)[key])
        sd = drop.std(ddof=1) if len(drop) > 1 else float("nan")
        below = drop.mean() < 0 and abs(drop.mean()) > sd
        line = (f"- **{src} → {dst}**{at}: {drop.mean():+.1f} points against {dst}'s own model (sd {sd:.1f} over "
                f"{len(drop)} seeds): {'below' if below else 'not below'} it by more than the spread")
        if key in grow:
            g, se, beyond = grow[key]  # the book's one noise rule, not a second copy of it
            verb = "changes, within noise," if not beyond else "grows" if g > 0 else "shrinks"
            line += (f"; from divergence {study.divergences[0]:g} to {hi:g} the drop {verb} by {g:+.1f} ± "
                     f"{se:.1f} points (mean ± standard error, paired by seed)")
        lines.append(line)
    return "\n".join(lines)


def group_gaps(study: ShiftStudy, columns=("age_group", "gender", "skin_tone", "occluders"), d=None) -> pd.DataFrame:
    """Per group of the test images, each evaluation's accuracy in the group minus its accuracy on the rest (points,
    mean over seeds) at divergence ``d`` (the strongest), with the gaps beyond noise marked ``*``: more than two
    standard errors from zero, both over the seeds and as binomial sampling noise of the two groups' images (groups of
    at least 20 images)."""
    from fernb.papers.infer.cross import groups_of

    d = study.strongest() if d is None else d
    rows = {}
    for key in ("A→A", "A→B", "B→B", "B→A"):
        name = study.evals[(d, study.seeds[0])][key].name
        for col in columns:
            per, sizes = {}, {}
            for seed in study.seeds:
                ev = study.evals[(d, seed)][key]
                if col not in ev.dataset.records:
                    continue
                values = ev.dataset.records[col].iloc[ev.rows].fillna("").astype(str).to_numpy()
                correct = ev.pred == ev.y
                for g, m in groups_of(values, col).items():
                    if m.sum() >= 20 and (~m).sum() >= 20:
                        per.setdefault(g, []).append(100 * (correct[m].mean() - correct[~m].mean()))
                        sizes.setdefault(g, []).append((int(m.sum()), int((~m).sum()), float(correct.mean())))
            for g, gaps in per.items():
                mean, se, _ = _judged(gaps)
                se = np.inf if np.isnan(se) else se
                # the sampling noise of a gap between two groups of n_g and n_rest images, over the seeds' images
                n_g, n_r, acc = (np.asarray(x, dtype=float) for x in zip(*sizes[g]))
                se_images = 100 * np.sqrt(acc.mean() * (1 - acc.mean()) * (1 / n_g.sum() + 1 / n_r.sum()))
                beyond = abs(mean) > 2 * max(se, se_images)
                rows.setdefault((col, g), {})[name] = f"{mean:+.1f}{' *' if beyond else ''}"
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index = pd.MultiIndex.from_tuples(table.index, names=["attribute", "group"])
    return table.fillna("—")


def named_gaps(table: pd.DataFrame) -> str:
    """The gaps :func:`group_gaps` marked beyond noise, as Markdown (or a line saying there are none)."""
    named = [f"{group} ({attr}) in {ev}: {cell.rstrip(' *')} points" for (attr, group), row in table.iterrows()
             for ev, cell in row.items() if cell.endswith("*")]
    return ("Gaps beyond noise: " + "; ".join(named) + ".") if named else \
        "No group's gap is beyond noise (two standard errors over the seeds)."


def display_shifts(study: ShiftStudy) -> dict:
    """:func:`fernb.papers.infer.cross.display_shift` of both cross directions at the strongest divergence (first
    seed), by name: which action units moved each large confusion toward its partner (SynthFER only)."""
    from fernb.papers.infer.cross import display_shift

    evs = study.evals[(study.strongest(), study.seeds[0])]
    return {evs[k].name: display_shift(evs[k], evs[own].dataset) for k, own in (("A→B", "A→A"), ("B→A", "B→B"))}


def rate_confusions(study: ShiftStudy, top: int = 4) -> pd.DataFrame:
    """The ``top`` largest confusions by rate (share of the true class, %) of each evaluation at the strongest
    divergence, averaged over seeds, beside the pairs §III-E names."""
    from fernb.eval.metrics import confusion_rates
    from fernb.papers.infer.cross import PAPER_CONFUSIONS

    named = {frozenset(p) for p in PAPER_CONFUSIONS}
    cols = {}
    hi = study.strongest()
    for key in ("A→A", "A→B", "B→B", "B→A"):
        rates = []
        for seed in study.seeds:
            ev = study.evals[(hi, seed)][key]
            rates.append(100 * confusion_rates(ev.confusion))
        mean = np.mean(rates, 0)
        np.fill_diagonal(mean, -1)
        order = np.dstack(np.unravel_index(np.argsort(-mean, axis=None), mean.shape))[0][:top]
        classes = study.evals[(hi, study.seeds[0])][key].classes
        cols[study.evals[(hi, study.seeds[0])][key].name] = [
            f"{classes[i]} → {classes[j]} {mean[i, j]:.0f} %"
            + (" (named)" if frozenset((classes[i], classes[j])) in named else "") for i, j in order]
    return pd.DataFrame(cols, index=pd.RangeIndex(1, top + 1, name="rank"))
