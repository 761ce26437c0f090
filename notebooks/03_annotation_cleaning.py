# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: fernb (Python 3)
#     language: python
#     name: fernb
# ---

# %% [markdown]
# # Cleaning crowd labels: EM reliability and ELR ranking (InFER++ §III-B/C)
#
# InFER++ had every image labelled by at least ten of thirty trained annotators (§III-B), then cleaned the labels in
# two steps (§III-C): a GLAD-style EM (Algorithm 1, Eqs. 1–3) estimates each annotator's reliability α and each
# image's difficulty 1/β and gives a label per image; the least reliable annotators are dropped (30 → 24); then a
# ResNet-18 trained with early-learning regularisation (ELR) ranks the images by loss (Algorithm 2), and the
# 6,754 most suspicious ones went to five expert annotators.
#
# The public InFER++ release carries per-class vote counts but not who voted what, so this chapter runs on
# **SynthFER**, whose simulated crowd follows the same GLAD model (`fernb.data.synth.crowd`) and whose latent truth
# lets us measure what the paper could not: how many labels each step gets right. Everything here is a SynthFER
# number.

# %% tags=["parameters"]
profile = "quick"  # smoke | quick | full
dataset = (
    "synth-infer"  # a SynthFER domain (the only datasets that ship per-annotator votes)
)
data_root = None  # None: $FERNB_HOME/data
device = "auto"  # auto | cpu | cuda | mps
seed = 0

# %%
import time

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from IPython.display import display

import fernb.chapter
from fernb.annotate import (
    GLAD,
    DawidSkene,
    MajorityVote,
    dataset_votes,
    drop_unreliable,
    precision_recall_at_k,
    score_records,
    top_k,
)
from fernb.data import load_dataset
from fernb.data.store import record_image
from fernb.data.synth.experts import assessment_funnel, expert_labels
from fernb.labels import EXPRESSIONS
from fernb.viz import sample_grid

ch = fernb.chapter.setup(
    profile, dataset, data_root, device, seed, datasets=["synth-infer", "synth-raf"]
)
ds = load_dataset(ch.dataset, ch.data_root, profile=ch.profile, seed=ch.seed)
votes, true_alpha = dataset_votes(ds)
truth = ds.records["true_label"].to_numpy()
print(
    f"{ch.dataset}: {votes.n_images} images, {len(votes.image)} votes from "
    f"{votes.n_annotators} annotators "
    f"({len(votes.image) / votes.n_images:.0f} per image)"
)

# %% [markdown]
# ## The annotator funnel (§III-B)
#
# Fifty trained candidates labelled an assessment set of 1,500 images with known answers, and the best thirty were
# kept. Simulated with SynthFER's annotator mixture, the assessment keeps the careful annotators and turns the
# near-random ones away:

# %%
funnel = assessment_funnel(np.random.default_rng(ch.seed))
acc_in, acc_out = funnel.accuracy[funnel.kept], funnel.accuracy[~funnel.kept]
print(
    f"kept {int(funnel.kept.sum())} of {len(funnel)}; assessment accuracy of the kept: "
    f"{acc_in.min():.3f}-{acc_in.max():.3f}, "
    f"of the rejected: {acc_out.min():.3f}-{acc_out.max():.3f}"
)
fig = go.Figure(
    [
        go.Scatter(
            x=g.alpha, y=g.accuracy, mode="markers", name="kept" if k else "rejected"
        )
        for k, g in funnel.groupby("kept")
    ]
)
fig.update_layout(
    title="Assessment accuracy against simulated reliability α (50 candidates, "
    "SynthFER)",
    xaxis_title="simulated α",
    yaxis_title="accuracy on 1,500 assessment images",
    height=380,
)
fig

# %% [markdown]
# ## Three aggregators on the same votes
#
# Majority vote takes each image's plurality; Dawid–Skene learns a full confusion matrix per annotator; GLAD (the EM
# of Algorithm 1) learns one reliability per annotator and one difficulty per image. All three are fitted on all
# votes at once (`fernb.annotate`, vectorised over the votes). Accuracy is against the expression each face was drawn
# with; some images read as another expression to anyone (SynthFER's "apparent" label), and no aggregator can fix
# those: they are what expert re-annotation is for.

# %%
apparent = ds.records["apparent_label"].to_numpy()
rows, fitted = [], {}
for est in (MajorityVote(seed=ch.seed), DawidSkene(seed=ch.seed), GLAD(seed=ch.seed)):
    t = time.perf_counter()
    fitted[type(est).__name__] = est.fit(votes)
    rows.append(
        {
            "aggregator": type(est).__name__,
            "seconds": time.perf_counter() - t,
            "accuracy vs truth": (est.labels_ == truth).mean(),
            "accuracy vs apparent label": (est.labels_ == apparent).mean(),
        }
    )
pd.DataFrame(rows).set_index("aggregator").round(4)

# %% [markdown]
# GLAD's reliabilities against the ones the crowd was simulated with: the careful, the sloppy and the near-random
# annotators separate cleanly.

# %%
glad = fitted["GLAD"]
print(
    f"correlation of estimated and simulated α: "
    f"{np.corrcoef(glad.alphas_, true_alpha)[0, 1]:.3f}"
)
fig = go.Figure(
    go.Scatter(
        x=true_alpha,
        y=glad.alphas_,
        mode="markers+text",
        text=list(range(len(true_alpha))),
        textposition="top center",
        hovertemplate="annotator %{text}<br>simulated α %{x:.2f}"
        "<br>estimated α %{y:.2f}<extra></extra>",
    )
)
fig.update_layout(
    title="Annotator reliability: GLAD's estimate against the simulation (SynthFER)",
    xaxis_title="simulated α",
    yaxis_title="estimated α (Alg. 1)",
    height=420,
)
fig

# %% [markdown]
# ## Dropping the unreliable annotators (30 → 24)
#
# InFER++ kept 24 of its 30 annotators after EM. We keep the 24 with the highest estimated α and refit.

# %%
kept, dropped = drop_unreliable(votes, glad.alphas_, keep=24)
glad24 = GLAD(seed=ch.seed).fit(kept)
print(
    f"dropped annotators {dropped.tolist()} (simulated α "
    f"{np.round(true_alpha[dropped], 2).tolist()})"
)
print(
    f"GLAD label accuracy vs truth: 30 annotators "
    f"{(glad.labels_ == truth).mean():.4f}, "
    f"24 annotators {(glad24.labels_ == truth).mean():.4f}"
)

# %% [markdown]
# ## Algorithm 2: rank by loss, re-annotate the top k
#
# A network is trained on the EM labels with ELR + SCE (the trainer's `loss="elr_sce"`: symmetric cross-entropy
# plus the early-learning regulariser, InFER++ §IV), then every image is scored by the cross-entropy of the network's
# prediction against its EM label. The budget is the paper's share: 6,754 of 35,789 images (18.9%). The paper's
# network is a ResNet-18 (the `full` profile); on a CPU we use the small CNN. Two baselines rank without a network:
# random choice (whose precision is the noise rate) and GLAD's own doubt, 1 − max posterior.

# %%
em_labels = glad24.labels_
run = ch.fit(
    model=ch.pick(smoke="tiny_cnn", quick="small_cnn", full="resnet18"),
    img_size=ch.pick(smoke=32, quick=64, full=112),
    epochs=ch.pick(smoke=1, quick=8, full=50),
    batch_size=ch.pick(smoke=32, quick=64, full=128),
    loss="elr_sce",
    loss_kwargs={"lam": 3.0, "beta": 0.7},
    max_batches_per_epoch=ch.pick(smoke=3, quick=None, full=None),
    labels=em_labels,
)
losses, probs = score_records(
    run
)  # every image's CE loss against its EM label, and class probabilities

k = int(round(len(ds.records) * 6754 / 35789))
wrong = em_labels != truth
rng = np.random.default_rng(ch.seed)
rankings = {
    "Alg. 2 (ELR-trained network, CE loss)": top_k(losses, k),
    "GLAD doubt (1 - max posterior)": top_k(1 - glad24.proba_.max(1), k),
    "random": rng.choice(len(wrong), k, replace=False),
}
table = pd.DataFrame(
    {
        name: dict(zip(("precision@k", "recall"), precision_recall_at_k(sel, wrong)))
        for name, sel in rankings.items()
    }
).T
table.loc["best possible (every wrong label first)"] = [
    min(1.0, wrong.sum() / k),
    min(1.0, k / max(wrong.sum(), 1)),
]
print(
    f"budget k = {k} of {len(wrong)} images; {wrong.sum()} EM labels are wrong "
    f"({wrong.mean():.1%})"
)
alg2 = table.loc["Alg. 2 (ELR-trained network, CE loss)", "precision@k"]
ch.headline(
    "infer-f4",
    f"Alg. 2 picks {k} of {len(wrong)} images for re-annotation; "
    f"precision@k {alg2:.2f} (random {table.loc['random', 'precision@k']:.2f})",
)
ch.report("ranking", table).round(3)

# %% [markdown]
# Read the first two rows together. Most errors left after EM are images that *look* like another expression (a
# faint fear that reads as surprise): the crowd agreed on the wrong class, and a network trained on such images learns
# the same look, so its loss on them stays low. A ranking by loss finds them only when the network generalises
# beyond the labels it was trained on, which takes a better network and more training than the `quick` profile
# gives. GLAD's own doubt catches a different kind of error: images the crowd split on.
#
# The selected images go to a simulated panel of five experts (high reliability, and able to read the intended
# expression where the crowd saw its confusable neighbour); their plurality replaces the EM label.

# %%
selected = rankings["Alg. 2 (ELR-trained network, CE loss)"]
clarity = ds.records["clarity"].to_numpy()
final = em_labels.copy()
final[selected] = expert_labels(
    np.random.default_rng(ch.seed + 1), truth[selected], clarity[selected]
)
stages = {
    "published label (crowd plurality)": ds.records["label"].to_numpy(),
    "majority vote": fitted["MajorityVote"].labels_,
    "GLAD, 30 annotators": glad.labels_,
    "GLAD, 24 annotators": em_labels,
    "after expert re-annotation": final,
}
pd.DataFrame(
    {"label accuracy vs truth": {s: (lab == truth).mean() for s, lab in stages.items()}}
).round(4)

# %% [markdown]
# ## Hard-to-annotate images (InFER++ Fig. 4)
#
# The six images Algorithm 2 ranked highest: the crowd's vote distribution beside the label after cleaning.

# %%
hard = selected[:6]
counts = votes.counts[hard]
grid = sample_grid(
    [[record_image(ds, i) for i in hard]],
    ["hardest"],
    [f"#{r + 1}" for r in range(len(hard))],
)
display(grid)
fig = go.Figure()
for c, name in enumerate(EXPRESSIONS):
    fig.add_bar(name=name, x=[f"#{r + 1}" for r in range(len(hard))], y=counts[:, c])
fig.update_layout(
    barmode="stack",
    height=420,
    yaxis_title="crowd votes",
    title="Crowd votes of the hardest images; below each bar: EM label → label after "
    "re-annotation",
    xaxis=dict(
        tickvals=[f"#{r + 1}" for r in range(len(hard))],
        ticktext=[
            f"#{r + 1}<br>{EXPRESSIONS[em_labels[i]]} → {EXPRESSIONS[final[i]]}<br>"
            f"(truth {EXPRESSIONS[truth[i]]})"
            for r, i in enumerate(hard)
        ],
    ),
)
fig

# %% [markdown]
# ## Peers: cleanlab and crowd-kit
#
# cleanlab's `find_label_issues` needs out-of-sample predicted probabilities. The network of Algorithm 2 never trained
# on the test split, so on those images both methods see the same out-of-sample predictions: Algorithm 2 ranks them by
# cross-entropy; cleanlab flags images with its confident-learning filter and ranks them by normalised margin (ranking
# by self-confidence would be the cross-entropy order itself). Same budget share; cleanlab may flag fewer images.

# %%
try:
    from cleanlab.filter import find_label_issues
except ImportError:
    print("cleanlab is not installed: pip install 'fernb[peers]' to compare")
else:
    test_rows = ds.split("test")
    k_test = int(round(len(test_rows) * 6754 / 35789))
    flagged = find_label_issues(
        em_labels[test_rows],
        probs[test_rows],
        return_indices_ranked_by="normalized_margin",
    )[:k_test]
    ours = top_k(losses[test_rows], k_test)
    wrong_test = wrong[test_rows]
    display(
        pd.DataFrame(
            {
                "Alg. 2 (CE loss)": precision_recall_at_k(ours, wrong_test),
                "cleanlab find_label_issues": precision_recall_at_k(
                    flagged, wrong_test
                ),
            },
            index=["precision@k", "recall"],
        )
        .T.assign(flagged=[len(ours), len(flagged)])
        .round(3)
    )

# %% [markdown]
# crowd-kit's GLAD and Dawid–Skene on the same votes, when it is installed; the speed comparison at InFER++ scale is
# `benchmarks/annotation.py`.
#
# %%
try:
    from crowdkit.aggregation import GLAD as CKGLAD, DawidSkene as CKDS
except ImportError:
    print("crowd-kit is not installed: pip install 'fernb[peers]' to compare")
else:
    df = pd.DataFrame(
        {"task": votes.image, "worker": votes.annotator, "label": votes.label}
    )
    peer = []
    for name, est, ours in (
        ("GLAD", CKGLAD(), glad),
        ("DawidSkene", CKDS(), fitted["DawidSkene"]),
    ):
        t = time.perf_counter()
        lab = est.fit_predict(df).sort_index().to_numpy()
        peer.append(
            {
                "method": name,
                "crowd-kit seconds": time.perf_counter() - t,
                "crowd-kit accuracy": (lab == truth).mean(),
                "fernb accuracy": (ours.labels_ == truth).mean(),
                "agreement": (lab == ours.labels_).mean(),
            }
        )
    display(pd.DataFrame(peer).set_index("method").round(4))
