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
# # Datasets: manifests, official formats, and what is really on disk
#
# The four papers train and test on seven datasets: RAF-DB, FER2013, AffectNet (7 and 8 classes), ExpW, CK+,
# InFER++ and BTFER's balanced test set. All of them are licence-gated, so `fernb` downloads none of them. Instead
# each has a **manifest** in `data_manifests/` (the official layout, the published label ids and their map to the
# canonical order, the splits, and every count the papers print, with the table it comes from) and an **adapter**
# that reads the official files into one record table. A reader who has a copy points any chapter at it with
# `dataset="rafdb", data_root="/path/to/RAF-DB/basic"`, and this chapter compares that copy with what the papers
# published.
#
# Without a real dataset the chapter runs on SynthFER, and the last sections write tiny copies of every official
# layout (synthetic pixels, real file formats) to show each adapter and the verifier at work.

# %% tags=["parameters"]
profile = "quick"  # smoke | quick | long | full
dataset = "synth-raf"  # any name in the catalogue below; real ones need data_root
data_root = None  # None: $FERNB_HOME/data; a real dataset: the folder of your copy
device = "auto"  # unused here; kept so every chapter takes the same parameters
seed = 0
report = None  # set by the book runner: the folder this chapter reports into

# %%
import pandas as pd
from IPython.display import display

import fernb.chapter
from fernb import paths
from fernb.data.verify import catalogue, demographics_table, published_table
from fernb.labels import EXPRESSIONS, EXPRESSIONS_8
from fernb.papers import datasets
from fernb.viz import (
    class_distribution_figure,
    class_examples,
    expression_examples,
    sample_grid,
)

ch = fernb.chapter.setup(
    profile, dataset, data_root, device, seed, name="01_datasets", report=report
)
ch.notice(real="a real dataset")
print(
    f"profile={ch.profile} dataset={ch.dataset} data_root={paths.shown(ch.data_root)}"
)

# %% [markdown]
# ## The catalogue
#
# Every dataset with a manifest, and the totals the papers publish for it. The per-class tables behind these totals
# are in the manifests and in the figures below.

# %%
with pd.option_context("display.max_colwidth", 120):
    display(catalogue()[["title", "kind", "classes", "splits", "image", "published"]])

# %% [markdown]
# ## The chosen dataset beside its manifest
#
# `verify` reads the copy through its adapter, decodes every image (so a truncated file fails here rather than in
# the middle of training), looks for files no entry lists and for byte-identical images under two entries, and sets
# the counts per split and class beside every count a paper prints. The same check runs from a shell:
# `python -m fernb.data verify rafdb --root /path/to/RAF-DB/basic` (add `--lenient` to list every problem instead
# of stopping at the first).

# %%
ds, verified = datasets.chosen(ch)
print(verified.summary())

# %%
# NBVAL_CHECK_OUTPUT
table = datasets.found_counts(verified)
print(table.to_string())

# %% [markdown]
# Where the manifest has published per-class counts, they stand beside ours. On SynthFER there are none: the
# generator draws its class prior from the published RAF-DB (`synth-raf`) or InFER++ (`synth-infer`) counts,
# scaled to the profile's size.

# %%
published = published_table(ch.dataset)
if len(published):
    published.columns = [f"{src} [{split}]" for src, split in published.columns]
    display(published.join(table.add_prefix("found [").add_suffix("]")))
else:
    print(
        f"{ch.dataset}: no per-class counts published; class prior source: "
        f"{ch.manifest.get('generator', {}).get('class_counts_source', '—')}"
    )

# %% [markdown]
# ## Class distributions across the datasets
#
# The share of each expression in every dataset whose per-class counts a paper prints, beside the chosen dataset.
# RAF-DB and FER2013 are dominated by happiness and neutral faces, AffectNet's training set even more so;
# only BTFER is balanced, which is why its authors built it as a test set (BTFER §III-A). Switch to raw counts with
# the buttons.

# %%
class_distribution_figure(
    datasets.class_shares(ds),
    "Expression shares per dataset",
    "published counts, with the table they come from, beside the chosen dataset as "
    "found",
).show()

# %% [markdown]
# ## InFER++ demographics (InFER++ Table 2)
#
# InFER++ labels every image with an age group and a gender (RAF-DB's manual attribute files also carry gender
# and coarser age bins, which the RAF-DB adapter reads as `gender` and `age_raf`). Table 2 prints the three marginals; beside them the same tables of `synth-infer` (or of the reader's InFER++ when `dataset="infer-pp"`).
# The paper prints no joint table of expression × age × gender; ours follows.

# %%
demo = datasets.demographics_dataset(ch, ds)
display(demographics_table(demo).round(1))

# %%
display(datasets.joint_demographics(demo))

# %% [markdown]
# ## BTFER's class weights, recomputed
#
# BTFER §III-E weights each class by `max(n) / n_c` (simple, Fig. 4) or the same capped at 3 (conservative, Fig. 7)
# and prints the RAF-DB weights it used (Figs. 6 and 9). Computed from RAF-DB's official *training* counts
# (ResEmoteNet Table II) they come out slightly different from the printed ones, while the whole dataset's counts
# (BTFER Table 1) reproduce them to within 0.03: the printed weights were computed on (a split of) all 15,339 images
# rather than on the 12,271 official training images.

# %%
weights = datasets.btfer_weights(ds)
display(weights.round(2))

# %%
# NBVAL_CHECK_OUTPUT
print(datasets.weight_gaps(weights))
gaps = datasets.weight_gaps(weights)
ch.headline("btfer-f6", gaps, dataset="RAF-DB's published counts")

# %% [markdown]
# ## Examples of each expression

# %%
examples = expression_examples(ds) if ch.synthetic else class_examples(ds)
display(sample_grid([examples], [ds.name], list(EXPRESSIONS_8[: len(examples)])))

# %% [markdown]
# ## Every official layout, read back
#
# `fernb.data.mock` writes a tiny copy of each official layout from SynthFER images: RAF-DB's label list with CRLF
# line endings and its bounding-box and attribute files, FER2013's pixel strings, AffectNet's CSVs (the validation
# file without its header row, as some releases ship it, and rows of the classes 8-10 that the manifest excludes),
# ExpW's several faces per photograph, CK+'s frame sequences with one unlabelled sequence, InFER++'s record table and
# BTFER's class folders. Each is then read back by the same adapter a reader's copy goes through. The pixels are
# synthetic; the formats are the real ones.

# %%
mock_root, layouts = datasets.mock_layouts(ch)
display(datasets.layouts_table(layouts))

# %% [markdown]
# What was set aside, and why. Nothing is dropped without a line here: AffectNet's non-expression classes (and
# contempt in the seven-class variant) are excluded by the manifest, the unlabelled CK+ sequence is not part of the
# peak-frame protocol, and CK+ frames in which the face detector found no face are quarantined (MTCNN misses a few
# of the blended synthetic frames).

# %%
display(datasets.set_aside_table(layouts))

# %% [markdown]
# One face per expression as each adapter delivers it: RAF-DB's original images and AffectNet's and ExpW's photographs
# are cropped with their face boxes, CK+ frames with the detector's box, FER2013 comes from its pixel strings.

# %%
grid = [class_examples(layouts[n]) for n in datasets.LAYOUTS]
display(sample_grid(grid, datasets.LAYOUTS, list(EXPRESSIONS), cell=80, font_size=13))

# %% [markdown]
# Error messages for bad requests, and a benchmark resumed after a stop, are shown in the
# [appendix](10_engineering.ipynb).
