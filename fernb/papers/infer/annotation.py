"""InFER++ §III-B/C: the annotation study of chapter 03, on SynthFER's simulated crowd.

The assessment funnel that chose InFER++'s annotators (§III-B), the three aggregators on the same votes, GLAD's EM
(Alg. 1) and the drop to 24 annotators, the loss ranking of Alg. 2 with its re-annotation budget, the simulated
expert panel that re-annotates what Alg. 2 selects (§III-C), Fig. 4's hardest images, and the peers (cleanlab,
crowd-kit). The general library (:mod:`fernb.annotate`: aggregators, ranking) works on any votes and knows nothing
of this study.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fernb.annotate.aggregators import labels_from
from fernb.data.synth import crowd
from fernb.labels import EXPRESSIONS
from fernb.papers.infer.construction import PAPER_FACES
from fernb.papers.recipes import Recipe

# §III-B: "a group of 50 annotators were trained ... an assessment ... of 1500 images ... the best 30 annotators
# were selected"; "each image was labelled by at least 10 annotators".
PAPER_CANDIDATES, PAPER_ASSESSMENT_IMAGES, PAPER_ANNOTATORS, PAPER_VOTES_PER_IMAGE = 50, 1500, 30, 10
# §III-C: "annotations of 24 labelers remained"; "about 6,754 hard-to-annotate images were then re-annotated";
# "a group of five expert annotators from the core team".
PAPER_KEPT_AFTER_EM, PAPER_REANNOTATED, PAPER_EXPERTS = 24, 6754, 5
BUDGET_SHARE = PAPER_REANNOTATED / PAPER_FACES
"""The paper's re-annotation budget as a share of its images (6,754 of 35,789, 18.9 %)."""

ALG2 = Recipe(
    "alg2", "Alg. 2: the network that ranks labels by loss, out of fold",
    common=dict(loss="elr_sce", val_share=0.0),
    smoke=dict(model="tiny_cnn", img_size=32, epochs=1, batch_size=32, max_batches_per_epoch=3, folds=2),
    quick=dict(model="small_cnn", img_size=32, epochs=12, batch_size=64, max_batches_per_epoch=None, folds=3),
    full=dict(model="resnet18", img_size=112, epochs=50, batch_size=128, max_batches_per_epoch=None, folds=5),
)
"""Alg. 2 trains a ResNet-18 (``full``) with ELR + SCE (the library's defaults, :class:`fernb.train.losses.ELR`) on
the EM labels of all of D and scores D; here every image is scored by a network that did not train on it (``folds``
class-stratified folds over all records, no validation hold-out: each run keeps its last epoch). On a CPU the
small CNN stands in."""


def expert_labels(rng: np.random.Generator, true_label: np.ndarray, clarity: np.ndarray,
                  n_experts: int = PAPER_EXPERTS,
                  expert_alpha: float = 4.0) -> np.ndarray:
    """Simulated expert panel (InFER++ §III-C: "five expert annotators from the core team").

    Each expert votes under the same GLAD model as the crowd (SynthFER's annotator model) but with reliability
    ``expert_alpha`` and around the expression the face was drawn with, which experts can read where the crowd saw
    the confusable class; the panel's plurality is the new label (ties broken at random).
    """
    beta = crowd.inverse_difficulty(np.asarray(clarity))
    alpha = np.full(n_experts, expert_alpha, dtype=np.float32)
    img, _, vote = crowd.simulate_votes(rng, np.asarray(true_label), beta, alpha, n_experts)
    return labels_from(crowd.vote_counts(img, vote, len(true_label)).astype(float), rng)


def assessment_funnel(rng: np.random.Generator, n_candidates: int = PAPER_CANDIDATES, n_keep: int = PAPER_ANNOTATORS,
                      n_items: int = PAPER_ASSESSMENT_IMAGES) -> pd.DataFrame:
    """InFER++ §III-B: trained candidates label an assessment set with known answers; the most accurate are kept.

    Candidates' reliabilities come from SynthFER's annotator mixture (careful, sloppy, near-random); every candidate
    labels all ``n_items`` assessment images (their difficulty drawn as SynthFER's). Returns one row per candidate:
    ``alpha`` (simulated), ``accuracy`` on the assessment, ``kept``.
    """
    if not 1 <= n_keep <= n_candidates:
        raise ValueError(f"n_keep={n_keep} must be between 1 and n_candidates={n_candidates}")
    alpha = crowd.sample_annotators(rng, n_candidates)
    truth = rng.integers(0, 7, n_items)
    beta = crowd.inverse_difficulty(rng.beta(2.0, 1.2, n_items))
    img, ann, vote = crowd.simulate_votes(rng, truth, beta, alpha, n_candidates)
    accuracy = np.bincount(ann, weights=(vote == truth[img]), minlength=n_candidates) / n_items
    kept = np.zeros(n_candidates, bool)
    kept[np.argsort(-accuracy, kind="stable")[:n_keep]] = True
    return pd.DataFrame({"candidate": np.arange(n_candidates), "alpha": alpha, "accuracy": accuracy, "kept": kept})


def budget(n_images: int) -> int:
    """The re-annotation budget k for ``n_images``: the paper's share, 6,754 of 35,789 (§III-C)."""
    return int(round(n_images * PAPER_REANNOTATED / PAPER_FACES))


# --- chapter 03: the drivers, tables, figures and verdicts its cells call --------------------------------------------


@dataclass
class Crowd:
    """A SynthFER domain with its simulated crowd: per-annotator ``votes``, the reliabilities they were simulated
    with (``true_alpha``), the expression each face was drawn with (``truth``) and the one it reads as
    (``apparent``)."""

    dataset: object
    votes: object
    true_alpha: np.ndarray
    truth: np.ndarray
    apparent: np.ndarray


def load_crowd(ch) -> Crowd:
    """The chapter's dataset and its votes (only SynthFER domains ship per-annotator votes)."""
    from fernb.annotate import dataset_votes
    from fernb.data import load_dataset

    ds = load_dataset(ch.dataset, ch.data_root, profile=ch.profile, seed=ch.seed)
    votes, true_alpha = dataset_votes(ds)
    r = ds.records
    return Crowd(ds, votes, true_alpha, r["true_label"].to_numpy(), r["apparent_label"].to_numpy())


def crowd_line(c: Crowd) -> str:
    v = c.votes
    return (f"{c.dataset.name}: {v.n_images} images, {len(v.image)} votes from {v.n_annotators} annotators "
            f"({len(v.image) / v.n_images:.0f} per image)")


def funnel_text(funnel: pd.DataFrame) -> str:
    """§III-B's funnel as measured: how many were kept and how the kept and rejected compare, in Markdown."""
    kept, out = funnel[funnel.kept], funnel[~funnel.kept]
    text = (f"Kept {len(kept)} of {len(funnel)}; assessment accuracy of the kept: {kept.accuracy.min():.3f}–"
            f"{kept.accuracy.max():.3f}, of the rejected: {out.accuracy.min():.3f}–{out.accuracy.max():.3f}. "
            f"Mean simulated α of the kept {kept.alpha.mean():.2f}, of the rejected {out.alpha.mean():.2f}")
    if len(out):
        worst = out.alpha.min() < kept.alpha.min()
        text += (": the assessment turns the least reliable candidates away." if worst else
                 ": the assessment does not separate the least reliable candidates.")
    return text


def funnel_figure(funnel: pd.DataFrame):
    """Assessment accuracy against each candidate's simulated reliability, kept and rejected apart."""
    import plotly.graph_objects as go

    fig = go.Figure([go.Scatter(x=g.alpha, y=g.accuracy, mode="markers", name="kept" if k else "rejected")
                     for k, g in funnel.groupby("kept")])
    fig.update_layout(title=f"Assessment accuracy against simulated reliability α ({len(funnel)} candidates, "
                            "SynthFER)", xaxis_title="simulated α",
                      yaxis_title=f"accuracy on {PAPER_ASSESSMENT_IMAGES:,} assessment images", height=380)
    return fig


def compare_aggregators(c: Crowd, seed: int):
    """Majority vote, Dawid–Skene and GLAD (Alg. 1) fitted on all votes: a table (seconds, accuracy against the
    truth and the apparent label) and the fitted estimators by name."""
    from fernb.annotate import GLAD, DawidSkene, MajorityVote

    rows, fitted = [], {}
    for est in (MajorityVote(seed=seed), DawidSkene(seed=seed), GLAD(seed=seed)):
        t = time.perf_counter()
        fitted[type(est).__name__] = est.fit(c.votes)
        rows.append({"aggregator": type(est).__name__, "seconds": time.perf_counter() - t,
                     "accuracy vs truth": (est.labels_ == c.truth).mean(),
                     "accuracy vs apparent label": (est.labels_ == c.apparent).mean()})
    return pd.DataFrame(rows).set_index("aggregator").round(4), fitted


def reliability_text(c: Crowd, glad) -> str:
    """How well Alg. 1's reliabilities recover the simulated ones: their correlation, in words."""
    r = float(np.corrcoef(glad.alphas_, c.true_alpha)[0, 1])
    reading = ("they track the simulated ones closely" if r >= 0.9 else "they track the simulated ones loosely"
               if r >= 0.5 else "they do not recover the simulated ones")
    return f"Correlation of GLAD's estimated α with the simulated α: **{r:.3f}**; {reading}."


def reliability_figure(c: Crowd, glad):
    """GLAD's estimated reliability of each annotator against the one the crowd was simulated with."""
    import plotly.graph_objects as go

    fig = go.Figure(go.Scatter(
        x=c.true_alpha, y=glad.alphas_, mode="markers+text", text=list(range(len(c.true_alpha))),
        textposition="top center",
        hovertemplate="annotator %{text}<br>simulated α %{x:.2f}<br>estimated α %{y:.2f}<extra></extra>"))
    fig.update_layout(title="Annotator reliability: GLAD's estimate against the simulation (SynthFER)",
                      xaxis_title="simulated α", yaxis_title="estimated α (Alg. 1)", height=420)
    return fig


def drop_and_refit(c: Crowd, glad, seed: int, keep: int = PAPER_KEPT_AFTER_EM):
    """§III-C: keep the ``keep`` annotators with the highest estimated α and refit GLAD; returns ``(glad, dropped)``."""
    from fernb.annotate import GLAD, drop_unreliable

    kept, dropped = drop_unreliable(c.votes, glad.alphas_, keep=keep)
    return GLAD(seed=seed).fit(kept), dropped


def _label_accuracies(c: Crowd, glad, refit) -> tuple[float, float]:
    """GLAD's label accuracy against the truth with every annotator and after the drop and refit."""
    return float((glad.labels_ == c.truth).mean()), float((refit.labels_ == c.truth).mean())


def drop_text(c: Crowd, glad, refit, dropped) -> str:
    """Who was dropped and what the refit changes, in Markdown."""
    before, after = _label_accuracies(c, glad, refit)
    n = c.votes.n_annotators
    return (f"Dropped annotators {dropped.tolist()} (simulated α {np.round(c.true_alpha[dropped], 2).tolist()}). "
            f"GLAD label accuracy against the truth: {n} annotators {before:.4f}, {n - len(dropped)} annotators "
            f"{after:.4f} ({'up' if after > before else 'down' if after < before else 'unchanged'}).")


def drop_headline(c: Crowd, glad, refit, dropped) -> str:
    """The results map's line for Alg. 1's 30 → 24 (``infer-alg1``): how many were kept and what refitting on them
    did to GLAD's label accuracy against the truth."""
    before, after = _label_accuracies(c, glad, refit)
    n = c.votes.n_annotators
    return (f"{n - len(dropped)} of {n} annotators kept by GLAD's α; label accuracy against the truth "
            f"{before:.4f} → {after:.4f}")


ALG2_ROW, DOUBT_ROW, RANDOM_ROW = ("Alg. 2 (ELR-trained network, CE loss)", "GLAD doubt (1 - max posterior)",
                                   "random")
BEST_ROW = "best possible (every wrong label first)"


@dataclass
class Ranking:
    """Alg. 2's runs (one per fold) and its out-of-fold scores, the budget ``k``, which EM labels are wrong, each ranking's selection and the
    precision@k / recall table."""

    runs: list
    em_labels: np.ndarray
    losses: np.ndarray
    probs: np.ndarray
    k: int
    wrong: np.ndarray
    rankings: dict
    table: pd.DataFrame

    @property
    def selected(self) -> np.ndarray:
        return self.rankings[ALG2_ROW]


def out_of_fold_scores(ch, ds, labels: np.ndarray, r) -> tuple[np.ndarray, np.ndarray, list]:
    """Alg. 2's scores with every image out of sample: ``r.folds`` class-stratified folds over all records
    (:func:`fernb.papers.infer.benchmark.kfold_folders`); each fold's images are scored (cross-entropy against
    ``labels``, class probabilities) by the network ``r`` trains on the other folds. Returns losses, probabilities
    and the runs, in record order."""
    from fernb import paths
    from fernb.annotate import score_records
    from fernb.papers.infer.benchmark import kfold_folders

    options = {k: v for k, v in r.items() if k != "folds"}
    losses, probs, runs = np.zeros(len(labels)), np.zeros((len(labels), 7)), []
    for folder in kfold_folders(ds, paths.cache_root() / "alg2-folds", r.folds, seed=ch.seed):
        run = ch.fit(dataset="records", data_root=folder, labels=labels, **options)
        held = run.split("test")  # only the fold's own images: the rest are scored by the other folds
        losses[held], probs[held] = score_records(run, labels, rows=held)
        runs.append(run)
    return losses, probs, runs


def algorithm2(ch, c: Crowd, em) -> Ranking:
    """Alg. 2: train the profile's :data:`ALG2` network on the EM labels (``em``, a fitted GLAD), score every image
    by CE against its label, out of fold (:func:`out_of_fold_scores`), and rank; beside it GLAD's own doubt
    (1 − max posterior) and a random choice, each taking the budget :func:`budget`."""
    from fernb.annotate import precision_recall_at_k, top_k

    em_labels = em.labels_
    losses, probs, runs = out_of_fold_scores(ch, c.dataset, em_labels, ALG2(ch.profile))
    k, wrong = budget(len(c.dataset.records)), em_labels != c.truth
    rng = np.random.default_rng(ch.seed)
    rankings = {ALG2_ROW: top_k(losses, k), DOUBT_ROW: top_k(1 - em.proba_.max(1), k),
                RANDOM_ROW: rng.choice(len(wrong), k, replace=False)}
    table = pd.DataFrame({name: dict(zip(("precision@k", "recall"), precision_recall_at_k(sel, wrong)))
                          for name, sel in rankings.items()}).T
    table.loc[BEST_ROW] = [min(1.0, wrong.sum() / k), min(1.0, k / max(wrong.sum(), 1))]
    return Ranking(runs, em_labels, losses, probs, k, wrong, rankings, table)


def ranking_headline(r: Ranking) -> str:
    """The results map's line for Fig. 4 (``infer-f4``)."""
    return (f"Alg. 2 picks {r.k} of {len(r.wrong)} images for re-annotation; precision@k "
            f"{r.table.loc[ALG2_ROW, 'precision@k']:.2f} (random {r.table.loc[RANDOM_ROW, 'precision@k']:.2f})")


def ranking_text(r: Ranking, c: Crowd) -> str:
    """The budget, the EM error rate, how many EM errors are the face's apparent expression, and how Alg. 2's
    ranking compares with GLAD's doubt and a random choice, in Markdown."""
    p = r.table["precision@k"]
    alg2, doubt, rand = p[ALG2_ROW], p[DOUBT_ROW], p[RANDOM_ROW]
    looks = (r.em_labels[r.wrong] == c.apparent[r.wrong]).mean() if r.wrong.any() else 0.0
    text = (f"Budget k = {r.k} of {len(r.wrong)} images; {r.wrong.sum()} EM labels are wrong ({r.wrong.mean():.1%}), "
            f"{looks:.0%} of them the expression the face appears to show. Alg. 2's precision@k is **{alg2:.3f}**, "
            f"GLAD's doubt {doubt:.3f}, random {rand:.3f}: ")
    if alg2 <= rand + 0.02:
        text += "here the loss ranking does no better than chance."
    elif alg2 < doubt:
        text += "here the loss ranking beats chance but finds fewer wrong labels than GLAD's own doubt."
    else:
        text += "here the loss ranking finds more wrong labels than GLAD's own doubt and than chance."
    return text


def reannotate(ch, c: Crowd, r: Ranking) -> np.ndarray:
    """§III-C: the images Alg. 2 selected go to the simulated expert panel; their plurality replaces the EM label."""
    final = r.em_labels.copy()
    sel = r.selected
    clarity = c.dataset.records["clarity"].to_numpy()
    final[sel] = expert_labels(np.random.default_rng(ch.seed + 1), c.truth[sel], clarity[sel])
    return final


def stages_table(c: Crowd, fitted: dict, glad30, r: Ranking, final: np.ndarray) -> pd.DataFrame:
    """Label accuracy against the truth after each step of the cleaning."""
    stages = {"published label (crowd plurality)": c.dataset.records["label"].to_numpy(),
              "majority vote": fitted["MajorityVote"].labels_, "GLAD, 30 annotators": glad30.labels_,
              "GLAD, 24 annotators": r.em_labels, "after expert re-annotation": final}
    return pd.DataFrame({"label accuracy vs truth": {s: (lab == c.truth).mean() for s, lab in stages.items()}}).round(4)


def hardest_grid(c: Crowd, r: Ranking, n: int = 6):
    """The ``n`` images Alg. 2 ranks highest (Fig. 4's hard-to-annotate images)."""
    from fernb.data.store import record_image
    from fernb.viz import sample_grid

    hard = r.selected[:n]
    return sample_grid([[record_image(c.dataset, i) for i in hard]], ["hardest"], [f"#{k + 1}" for k in range(len(hard))])


def hardest_votes_figure(c: Crowd, r: Ranking, final: np.ndarray, n: int = 6):
    """Fig. 4's two rows as one chart: the crowd's votes on each of the ``n`` hardest images, stacked by class, with
    the EM label, the label after re-annotation and the truth under each bar."""
    import plotly.graph_objects as go

    hard = r.selected[:n]
    counts, ticks = c.votes.counts[hard], [f"#{k + 1}" for k in range(len(hard))]
    fig = go.Figure()
    for cls, name in enumerate(EXPRESSIONS):
        fig.add_bar(name=name, x=ticks, y=counts[:, cls])
    text = [f"#{k + 1}<br>{EXPRESSIONS[r.em_labels[i]]} → {EXPRESSIONS[final[i]]}<br>(truth {EXPRESSIONS[c.truth[i]]})"
            for k, i in enumerate(hard)]
    fig.update_layout(barmode="stack", height=420, yaxis_title="crowd votes",
                      title="Crowd votes of the hardest images; below each bar: EM label → label after re-annotation",
                      xaxis=dict(tickvals=ticks, ticktext=text))
    return fig


def cleanlab_comparison(c: Crowd, r: Ranking):
    """Alg. 2 against cleanlab's ``find_label_issues`` on every image, both from the same out-of-fold predictions
    and with the same budget; a Markdown note when cleanlab is not installed."""
    from IPython.display import Markdown

    from fernb.annotate import precision_recall_at_k

    try:
        from cleanlab.filter import find_label_issues
    except ImportError:
        return Markdown("cleanlab is not installed: `pip install 'fernb[peers]'` to compare")
    flagged = find_label_issues(r.em_labels, r.probs, return_indices_ranked_by="normalized_margin")[:r.k]
    table = pd.DataFrame({"Alg. 2 (CE loss)": precision_recall_at_k(r.selected, r.wrong),
                          "cleanlab find_label_issues": precision_recall_at_k(flagged, r.wrong)},
                         index=["precision@k", "recall"])
    return table.T.assign(flagged=[len(r.selected), len(flagged)]).round(3)


def crowdkit_comparison(c: Crowd, fitted: dict):
    """crowd-kit's GLAD and Dawid–Skene on the same votes beside fernb's: seconds, accuracy, agreement; a Markdown
    note when crowd-kit is not installed."""
    from IPython.display import Markdown

    try:
        from crowdkit.aggregation import GLAD as CKGLAD, DawidSkene as CKDS
    except ImportError:
        return Markdown("crowd-kit is not installed: `pip install 'fernb[peers]'` to compare")
    v = c.votes
    df = pd.DataFrame({"task": v.image, "worker": v.annotator, "label": v.label})
    peer = []
    for name, est in (("GLAD", CKGLAD()), ("DawidSkene", CKDS())):
        t = time.perf_counter()
        lab = est.fit_predict(df).sort_index().to_numpy()
        ours = fitted[name]
        peer.append({"method": name, "crowd-kit seconds": time.perf_counter() - t,
                     "crowd-kit accuracy": (lab == c.truth).mean(), "fernb accuracy": (ours.labels_ == c.truth).mean(),
                     "agreement": (lab == ours.labels_).mean()})
    return pd.DataFrame(peer).set_index("method").round(4)
