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
# # The model zoo: every architecture of the four papers, their size, and what they cost on a CPU
#
# All four papers propose or benchmark networks: ResEmoteNet (CNN + squeeze-excitation + residual blocks, with six
# ablations), InFER++ (LiteXpressionNet and the seven methods of its Tables 3–4), LFER-LDL (an improved ShuffleNetV2
# with three ablation steps) and BTFER (23 architectures at 48×48 and 224×224). They all live in one registry:
#
# ```python
# from fernb.models import create, list_models
# model = create("lfer_ldl", num_classes=7, in_chans=3, img_size=224)
# ```
#
# Standard backbones come from timm and torchvision; only what does not exist there is written in `fernb.models`
# (one file per family, each citing the section it implements). This chapter shows the catalogue, counts every
# model's parameters and multiply-accumulates beside the figures the papers print, lists the assumptions we had to
# make where a paper gives no layer table, trains the lightweight models on SynthFER, and exports them to ONNX and
# int8 for CPU inference, the PyTorch counterpart of BTFER's Raspberry Pi deployment (§V-A).

# %% tags=["parameters"]
profile = "quick"  # smoke | quick | long | full
dataset = "synth-raf"  # the dataset the lightweight models are trained on
data_root = None  # None: $FERNB_HOME/data
device = "auto"  # auto | cpu | cuda | mps
seed = 0
report = None  # set by the book runner: where this chapter's tables and runs go

# %%
import pandas as pd
from IPython.display import Markdown, display

import fernb.chapter
from fernb.models import catalogue
from fernb.papers import zoo
from fernb.papers.recipes import recipes_frame
from fernb.viz.tables import dashed, folded

ch = fernb.chapter.setup(
    profile, dataset, data_root, device, seed, name="04_model_zoo", report=report
)
ch.notice(real="RAF-DB or AffectNet")
pd.set_option("display.max_rows", 200)
print(f"profile={ch.profile} dataset={ch.dataset} device={ch.device}")

# %% [markdown]
# ## The catalogue
#
# One row per registered model: its family, the paper section or table it comes from, the resolutions the papers run
# it at, the smallest input it accepts, and the pretrained weights it can start from (`imagenet` from the timm or
# torchvision cache, `file` a local VGGFace/VGGFace2 weight file). The default never needs weights.

# %%
display(Markdown(zoo.missing()))
catalogue()

# %% [markdown]
# ## Size and cost beside the papers
#
# Parameters are counted on the model as built for 7 classes; MACs (multiply-accumulates of one image at the paper's
# resolution) come from `torch.utils.flop_counter`, which counts convolutions and matrix products and ignores
# normalisation, activations and pooling. Models are built on PyTorch's meta device, so the whole table costs neither
# memory nor compute.
#
# Reading the papers' figures takes care:
# * **InFER++ Table 4** prints "FLOPs" that are MAC counts (ResNet-18's 1818.56M is its MAC count at 224) and
#   parameter counts that include the 1000-class ImageNet classifier for EfficientNet-B0 and MobileNetV3; we re-count
#   ours with that head (`params_m_paper_head`) for the ratio.
# * **LFER-LDL** prints 294.60M FLOPs, which is 2 × MACs (ShuffleNetV2 1.0× is 146M MACs); the table halves it.
# * **BTFER** prints rounded Keras counts ("~15M"); for its own networks the ratio also shows where our reading of its
#   layer description differs from what it built.
# * **ResEmoteNet** prints no size; 80.2M is the size of the authors' released model.
#
# `ratio` columns are ours ÷ the paper's. The five models held to their papers (`faithful`) are tested to stay within
# ±10 %. The table shows them and every row whose size differs from the paper's figure by more than 10 %; the rows
# within 10 % and those the papers give no figure for are folded below it.

# %%
table = zoo.complexity(ch)
ch.finding(zoo.size_finding(table))
shown, rest = zoo.complexity_split(table)
display(dashed(shown, 2))
others = f"The other {len(rest)} rows (within 10 % of the paper, or no paper figure)"
folded(rest, others, 3)

# %%
# NBVAL_CHECK_OUTPUT
print(zoo.faithful_check(table))

# %% [markdown]
# ## What we had to assume
#
# Two of the papers' own networks come without a layer table. **LiteXpressionNet** (InFER++ §IV) is described in one
# paragraph and a figure; **LFER-LDL** (§1) describes its modules in prose, and the PDWRes and output-module sizes
# follow from the increments its ablation prints. Every choice we made is in the model's docstring; here they are.

# %%
Markdown(zoo.assumptions())

# %% [markdown]
# ResEmoteNet's ablation (Table IV) removes whole blocks; where a removed block leaves a channel gap, the next block
# takes the width that arrives. Removing early convolutions keeps the spatial map large, so C3 and C4 cost several
# times the MACs of the full network although they have fewer parameters:

# %%
zoo.ablation_cost()

# %% [markdown]
# ## Training the lightweight models on SynthFER
#
# The lightweight networks are trained with the shared trainer under one protocol (Adam, cosine schedule, BTFER's
# conservative class weights, the same augmentation and split). On a CPU they are trained at 64×64; the `full`
# profile trains each at its paper's resolution on a GPU. These are SynthFER accuracies: they show the models train
# and how they rank on a synthetic task, not what they reach on RAF-DB.

# %%
recipes_frame(zoo.TRAINED, zoo.DEPLOY, zoo.LATENCY)

# %%
runs = zoo.train(ch)
trained = zoo.trained_table(ch, runs)
display(trained.round(3))
ch.recorded("trained")

# %% [markdown]
# Read the table with its protocol in mind. These networks are trained from scratch on about two thousand images;
# compare the last training loss to see how fast each leaves the class prior. In their papers LFER-LDL and
# EfficientFace start from weights pretrained on MS-Celeb-1M, which we cannot ship: with a real dataset, a GPU and the
# `full` profile the comparison is the papers' own. `quick` trains the plain CNN and LiteXpressionNet here;
# EfficientFace trains under the same protocol in chapter 07, beside LiteXpressionNet in Table 4, and LFER-LDL's
# network in `full` (the recipe table above says what each profile trains).

# %%
Markdown(zoo.trained_reading(trained))

# %% [markdown]
# The accuracy–MACs picture collects every finished run of this dataset and profile in the results registry, so
# models trained by later chapters appear here too once they have run. MACs are at the resolution each run was trained
# at. Open markers are the papers' own RAF-DB figures at their resolutions (InFER++ Table 4, LFER-LDL Table 1):
# another dataset, shown beside ours, not compared with it.

# %%
zoo.accuracy_cost_figure(ch)

# %% [markdown]
# ## Deployment: ONNX, int8 and batch-1 latency on the CPU
#
# BTFER closes with TensorFlow Lite on a Raspberry Pi (§V-A). The PyTorch route to the same place is ONNX: export
# (checked against onnxruntime on random inputs), static int8 quantisation with onnxruntime (per-channel int8
# weights, uint8 activations, calibrated on training images), and the accuracy change on the test split. Latency is
# the median of batch-1 calls on this machine's CPU with one thread, like a small edge board.

# %%
zoo.deployment(ch, runs).T.style.format(precision=4).format(
    "{:.1e}", subset=pd.IndexSlice[["onnx_max_abs_diff"], :]
)

# %% [markdown]
# The same comparison at each paper's resolution (untrained weights: latency does not depend on them), for the
# models an edge deployment would consider. `benchmarks/latency.py` runs it for all lightweight models, int8
# included.

# %%
latency = zoo.latency(ch)
diffs = {"max_abs_diff": "{:.1e}", "max_rel_diff": "{:.1e}"}
display(latency.style.format(diffs, precision=2))
ch.recorded("latency")

# %% [markdown]
# Error messages for bad requests, and a benchmark resumed after a stop, are shown in the
# [appendix](10_engineering.ipynb).
