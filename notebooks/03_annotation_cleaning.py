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
profile = "quick"  # smoke | quick | long | full
dataset = (
    "synth-infer"  # a SynthFER domain (the only datasets that ship per-annotator votes)
)
data_root = None  # None: $FERNB_HOME/data
device = "auto"  # auto | cpu | cuda | mps
seed = 0
report = None  # set by the book runner: the folder this chapter reports into

# %%
import numpy as np
from IPython.display import Markdown, display

import fernb.chapter
from fernb.papers.infer import annotation
from fernb.papers.recipes import recipes_frame

ch = fernb.chapter.setup(
    profile, dataset, data_root, device, seed, datasets=["synth-infer", "synth-raf"],
    name="03_annotation_cleaning", report=report,
)
crowd = annotation.load_crowd(ch)
print(annotation.crowd_line(crowd))

# %% [markdown]
# ## The annotator funnel (§III-B)
#
# Fifty trained candidates labelled an assessment set of 1,500 images with known answers, and the best thirty were
# kept. Simulated with SynthFER's annotator mixture (careful, sloppy and near-random annotators):

# %%
funnel = annotation.assessment_funnel(np.random.default_rng(ch.seed))
display(Markdown(annotation.funnel_text(funnel)))
annotation.funnel_figure(funnel)

# %% [markdown]
# ## Three aggregators on the same votes
#
# Majority vote takes each image's plurality; Dawid–Skene learns a full confusion matrix per annotator; GLAD (the EM
# of Algorithm 1) learns one reliability per annotator and one difficulty per image. All three are fitted on all
# votes at once (`fernb.annotate`, vectorised over the votes). Accuracy is against the expression each face was drawn
# with; some images read as another expression to anyone (SynthFER's "apparent" label), and no aggregator can fix
# those: they are what expert re-annotation is for.

# %%
aggregators, fitted = annotation.compare_aggregators(crowd, ch.seed)
aggregators

# %% [markdown]
# GLAD's reliabilities against the ones the crowd was simulated with (careful, sloppy and near-random annotators):

# %%
glad = fitted["GLAD"]
display(Markdown(annotation.reliability_text(crowd, glad)))
annotation.reliability_figure(crowd, glad)

# %% [markdown]
# ## Dropping the unreliable annotators (30 → 24)
#
# InFER++ kept 24 of its 30 annotators after EM. We keep the 24 with the highest estimated α and refit.

# %%
glad24, dropped = annotation.drop_and_refit(crowd, glad, ch.seed)
ch.headline("infer-alg1", annotation.drop_headline(crowd, glad, glad24, dropped))
Markdown(annotation.drop_text(crowd, glad, glad24, dropped))

# %% [markdown]
# ## Algorithm 2: rank by loss, re-annotate the top k
#
# A network is trained on the EM labels with ELR + SCE (the trainer's `loss="elr_sce"`: symmetric cross-entropy
# plus the early-learning regulariser, InFER++ §IV), then every image is scored by the cross-entropy of the network's
# prediction against its EM label. Alg. 2 trains on all of D and scores D; so that every image is scored alike, by a
# network that never saw it, we split all records into class-stratified folds and score each fold with the network
# trained on the others. ELR + SCE runs with the library's constants (λ 0.3, SCE α 1; InFER++ prints none: the
# sweep behind them is in chapter 07). The budget is the paper's share: 6,754 of 35,789 images (18.9%). The paper's
# network is a ResNet-18 (the `full` profile); on a CPU we use the small CNN. Two baselines rank without a network:
# random choice (whose precision is the noise rate) and GLAD's own doubt, 1 − max posterior. What each profile
# trains:

# %%
recipes_frame(annotation.ALG2)

# %%
ranking = annotation.algorithm2(ch, crowd, glad24)
ch.headline("infer-f4", annotation.ranking_headline(ranking), runs=ranking.runs)
display(Markdown(annotation.ranking_text(ranking, crowd)))
ch.report("ranking", ranking.table).round(3)

# %% [markdown]
# How to read the first two rows. An EM error that is the face's apparent expression (a faint fear that reads as
# surprise) is one the crowd agreed on; a network trained on such images learns the same look, so its loss on them
# stays low, and a ranking by loss finds them only when the network generalises beyond the labels it was trained
# on, which may take a better network and longer training than a CPU profile gives. GLAD's own doubt catches a different
# kind of error: images the crowd split on.
#
# The selected images go to a simulated panel of five experts (high reliability, and able to read the intended
# expression where the crowd saw its confusable neighbour); their plurality replaces the EM label.

# %%
final = annotation.reannotate(ch, crowd, ranking)
annotation.stages_table(crowd, fitted, glad, ranking, final)

# %% [markdown]
# ## Hard-to-annotate images (InFER++ Fig. 4)
#
# The six images Algorithm 2 ranked highest: the crowd's vote distribution beside the label after cleaning.

# %%
display(annotation.hardest_grid(crowd, ranking))
annotation.hardest_votes_figure(crowd, ranking, final)

# %% [markdown]
# ## Peers: cleanlab and crowd-kit
#
# cleanlab's `find_label_issues` needs out-of-sample predicted probabilities, which the out-of-fold networks of
# Algorithm 2 give for every image, so both methods see the same predictions: Algorithm 2 ranks by cross-entropy;
# cleanlab flags images with its confident-learning filter and ranks them by normalised margin (ranking by
# self-confidence would be the cross-entropy order itself). Same budget; cleanlab may flag fewer images.

# %%
annotation.cleanlab_comparison(crowd, ranking)

# %% [markdown]
# crowd-kit's GLAD and Dawid–Skene on the same votes, when it is installed; the speed comparison at InFER++ scale is
# `benchmarks/annotation.py`.

# %%
annotation.crowdkit_comparison(crowd, fitted)
