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
# # Quickstart: SynthFER, a first model, a confusion matrix
#
# This chapter walks the whole path every later chapter takes: a dataset becomes a validated record table, its images
# are decoded once into a memory-mapped store, a model from the registry is trained by the shared trainer into a run
# folder of the results registry, and the test predictions become an interactive confusion matrix.
#
# By default it runs on **SynthFER**, the synthetic dataset embedded in `fernb`: faces drawn from FACS action-unit
# prototypes of the seven basic expressions (happiness AU6+12, sadness AU1+4+15, surprise AU1+2+5+26,
# fear AU1+2+4+5+7+20+26, anger AU4+5+7+23, disgust AU9+15+16), with graded intensity, blends, the InFER++ occlusions
# and simulated crowd votes, in two domains: `synth-raf` (RAF-DB's class prior) and `synth-infer` (InFER++'s class,
# age and gender distribution, Table 2 of the InFER++ paper). It exists so that every chapter runs on a laptop CPU
# without a licence-gated download. Nothing measured on it is a result on RAF-DB or InFER++.
#
# On Colab (the rocket button above), the first code cell installs `fernb` when it is missing and can keep data and
# runs in your Google Drive (`drive_folder`); then set the parameters below.

# %% tags=["parameters"]
profile = "quick"  # smoke | quick | full
dataset = "synth-raf"  # the dataset trained and tested on
data_root = None  # None: $FERNB_HOME/data
device = "auto"  # auto | cpu | cuda | mps
seed = 0

# %%
import numpy as np
import pandas as pd
from IPython.display import display

import fernb.chapter
from fernb import paths
from fernb.data import load_dataset
from fernb.labels import AGE_GROUPS, EXPRESSIONS
from fernb.eval import Evaluation
from fernb.viz import explore, expression_examples, sample_grid

ch = fernb.chapter.setup(
    profile, dataset, data_root, device, seed, datasets=["synth-raf", "synth-infer"]
)
ch.notice(real="RAF-DB or InFER++")
print(
    f"profile={ch.profile} dataset={ch.dataset} device={ch.device} "
    f"data_root={paths.shown(ch.data_root)}"
)

# %% [markdown]
# ## The two SynthFER domains
#
# The first call generates each domain (deterministically: the same seed gives byte-identical files) and later calls
# reuse it. Each domain is written like a real dataset: JPEG files, a `records.csv` with one row per image, the
# crowd's votes in `votes.csv`, and a manifest in `data_manifests/`. The published `label` is the plurality of ten
# simulated annotator votes; `true_label` is the expression the face was drawn with, which no real dataset has.

# %%
domains = {
    name: load_dataset(name, ch.data_root, profile=ch.profile, seed=ch.seed)
    for name in ("synth-raf", "synth-infer")
}
summary = pd.DataFrame({name: ds.class_counts() for name, ds in domains.items()})
summary.loc["total"] = summary.sum()
summary

# %%
# NBVAL_CHECK_OUTPUT
for name, ds in domains.items():
    r = ds.records
    print(
        f"{name}: {len(r)} images, train {int((r.split == 'train').sum())} / test "
        f"{int((r.split == 'test').sum())}, "
        f"crowd label noise {(r.label != r.true_label).mean():.1%}"
    )

# %% [markdown]
# One image per expression and domain: the most intense unoccluded example of each.

# %%
grid = sample_grid(
    [expression_examples(ds) for ds in domains.values()], list(domains), EXPRESSIONS
)
display(grid)

# %% [markdown]
# The demographic mix of `synth-infer` follows InFER++ Table 2; expression × age group and gender:

# %%
r = domains["synth-infer"].records
expression = r.true_label.map(dict(enumerate(EXPRESSIONS)))
table = pd.crosstab(expression, [r.gender, r.age_group])
# age groups youngest first, not in string order
table[sorted(table.columns, key=lambda c: (c[0], AGE_GROUPS.index(c[1])))]

# %% [markdown]
# ## A first model
#
# A small CNN from the model registry, trained by the shared trainer. SynthFER inherits RAF-DB's imbalance (happiness
# is 17 times as frequent as fear), so the loss uses BTFER's conservative class weighting: each class weighs
# (size of the largest class) / (its size), capped at 3 (BTFER §III-E, Fig. 7). The trainer holds out a stratified
# 10 % of the training split for model selection, writes a checkpoint every epoch and stores the run under a hash of
# its configuration: running this cell again returns the stored run instantly, and a run interrupted mid-way resumes.

# %%
run = ch.fit(
    model=ch.pick(smoke="tiny_cnn", quick="small_cnn", full="small_cnn"),
    img_size=ch.pick(smoke=48, quick=64, full=96),
    epochs=ch.pick(smoke=1, quick=10, full=40),
    class_weighting="conservative",
    batch_size=ch.pick(smoke=32, quick=64, full=128),
    max_batches_per_epoch=ch.pick(smoke=4, quick=None, full=None),
    progress=True,
)
pd.DataFrame(run.history).set_index("epoch").round(4)

# %%
m = run.metrics
print(
    f"{ch.dataset} test split ({m['n']} images), crowd labels: accuracy "
    f"{m['accuracy']:.3f}, "
    f"mean class accuracy {m['mean_class_accuracy']:.3f}, macro-F1 "
    f"{m['macro_f1']:.3f}, ECE {m['ece']:.3f}"
)
if "accuracy_vs_true_label" in m:
    print(
        f"accuracy against the latent true expression: "
        f"{m['accuracy_vs_true_label']:.3f}"
    )

# %% [markdown]
# ## The confusion matrix
#
# Rows are the crowd's labels, columns the model's predictions. The buttons switch between recall (row-normalised),
# precision (column-normalised) and raw counts; hover a cell for all three. Under the matrix, the test images behind
# the largest confusions, most confident first: hover one for its crowd votes, age group, gender, skin tone and
# occluders. In JupyterLab (`make lab`) or Colab the same cell is the live explorer: click any cell for its images.

# %%
kind = "SynthFER, synthetic" if ch.synthetic else "real"
explore(
    [Evaluation.from_run(run, name=f"small CNN on {ch.dataset}")],
    title=f"small CNN on {ch.dataset} ({kind})",
    subtitle=f"profile {ch.profile}",
)

# %% [markdown]
# Accuracy per age group and gender, which SynthFER (like InFER++) makes measurable and none of the four papers reports:

# %%
pd.DataFrame(
    {
        "accuracy": {
            **{f"age {k}": v for k, v in m.get("accuracy_by_age_group", {}).items()},
            **{f"gender {k}": v for k, v in m.get("accuracy_by_gender", {}).items()},
        }
    }
).round(3)

# %% [markdown]
# ## Where next
#
# The run folder holds everything a later chapter needs: `config.json`, `history.jsonl`, `checkpoint.pt`, `model.pt`,
# `metrics.json` (with this confusion matrix) and `test_probs.npy`.

# %%
print(paths.shown(run.dir))
print(sorted(p.name for p in run.dir.iterdir()))
