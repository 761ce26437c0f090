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
profile = "quick"  # smoke | quick | long | full
dataset = "synth-raf"  # the dataset trained and tested on
data_root = None  # None: $FERNB_HOME/data
device = "auto"  # auto | cpu | cuda | mps
seed = 0
report = None  # set by the book runner: the folder this chapter reports into

# %%
import pandas as pd
from IPython.display import display

import fernb.chapter
from fernb import paths
from fernb.data import load_dataset
from fernb.eval import Evaluation
from fernb.labels import EXPRESSIONS
from fernb.papers import quickstart
from fernb.viz import explore, expression_examples, sample_grid

ch = fernb.chapter.setup(
    profile, dataset, data_root, device, seed, datasets=["synth-raf", "synth-infer"],
    name="00_quickstart", report=report,
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
quickstart.domain_summary(domains)

# %%
# NBVAL_CHECK_OUTPUT
print(quickstart.split_lines(domains))

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
quickstart.demographics(domains["synth-infer"])

# %% [markdown]
# ## A first model
#
# A small CNN from the model registry, trained by the shared trainer. SynthFER inherits RAF-DB's imbalance (happiness
# is 17 times as frequent as fear), so the loss uses BTFER's conservative class weighting: each class weighs
# (size of the largest class) / (its size), capped at 3 (BTFER §III-E, Fig. 7). The trainer holds out a stratified
# 10 % of the training split for model selection, writes a checkpoint every epoch and stores the run under a hash of
# its configuration: running this cell again returns the stored run instantly, and a run interrupted mid-way resumes.
# What each profile trains:

# %%
quickstart.FIRST_MODEL.frame()

# %%
run = quickstart.first_model(ch)
ch.finding(quickstart.first_finding(run))
pd.DataFrame(run.history).set_index("epoch").round(4)

# %%
print(quickstart.metrics_lines(run))

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
quickstart.group_accuracy(run)

# %% [markdown]
# ## Where next
#
# The run folder holds everything a later chapter needs: `config.json`, `history.jsonl`, `checkpoint.pt`, `model.pt`,
# `metrics.json` (with this confusion matrix) and `test_probs.npy`.

# %%
print(paths.shown(run.dir))
print(sorted(p.name for p in run.dir.iterdir()))
