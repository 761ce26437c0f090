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
# # Building a web-scraped FER dataset (InFER++ §III-A, Fig. 2)
#
# InFER++ was built by composing search queries from a dictionary of nine segments (six expressions with synonyms,
# age, gender and ethnicity; some translated into nine Indian languages), downloading the results of an image search
# API, keeping the 35,789 of 50,371 images in which RetinaFace found a face, cropping the faces to 256×256 and
# converting them to grayscale (§III-F), then splitting 80/20 per expression.
#
# This chapter runs the same pipeline (`fernb.papers.infer.construction`) on a simulated web: SynthFER faces with InFER++'s
# class, age and gender priors answer the queries, mixed with non-face images (scenes, objects, text, animal
# drawings) and re-uploaded near-duplicates. Because every scraped image knows what it is, the chapter can measure what
# the paper could not: the face filter's precision and recall, and how many duplicates de-duplication removes. The
# result is written in the `infer-pp` layout and read back by the same adapter a reader's InFER++ copy goes through.
# All numbers are SynthFER numbers.

# %% tags=["parameters"]
profile = "quick"  # smoke | quick | long | full (full: all 50,371 scraped images)
dataset = "synth-infer"  # the face pool the simulated search draws from
data_root = None  # None: $FERNB_HOME/data
device = "auto"  # auto | cpu | cuda | mps
seed = 0
report = None  # set by the book runner: the folder this chapter reports into

# %%
from IPython.display import Markdown, display

import fernb.chapter
from fernb.papers.infer import construction
from fernb.papers.recipes import recipes_frame

ch = fernb.chapter.setup(
    profile, dataset, data_root, device, seed, datasets=["synth-infer"],
    name="02_dataset_construction", report=report,
)
print(construction.web_line(ch.profile))

# %% [markdown]
# What each profile's simulated search returns, and the pipeline's settings (the detector, the crop size of §III-F
# and the correlation above which two images count as one); `full` has the paper's 50,371 results:

# %%
recipes_frame(construction.WEB)

# %% [markdown]
# ## The query dictionary
#
# Nine segments (§III-A): the six expressions with synonyms, then age, gender and ethnicity. Neutral has no segment;
# neutral faces come back for every query. A share of queries is tagged with one of the nine languages the paper
# translated into (we tag rather than translate).

# %%
display(construction.dictionary_table())
print("languages:", ", ".join(construction.LANGUAGES))
construction.example_queries(ch.seed)

# %% [markdown]
# ## Scrape, filter, de-duplicate, crop
#
# The face filter is the detector interface of the datasets chapter (MTCNN by default; RetinaFace's weights are not
# available offline). De-duplication compares every pair of kept images by normalised cross-correlation of 64×64
# grayscale thumbnails (one matrix product, no pair loop) and keeps the first of each group. Kept faces are cropped
# around the detected box with a 20% margin, resized to 256×256 and converted to grayscale.

# %%
built = construction.construct(ch)
ch.headline("infer-f2", construction.headline(built.report))
Markdown(construction.stages_text(built.report))

# %% [markdown]
# ## Read back as InFER++
#
# The output is a folder in the `infer-pp` layout (`records.csv` with the Table 2 expression names, split, age group,
# gender and per-class vote counts; `images/`). The verifier of the datasets chapter checks it like a downloaded copy
# (its counts differ from the published 35,789, of course; what matters is no problem and no unlisted file), and the
# adapter loads it.

# %%
line, copy = construction.read_back(built)
print(line)
construction.class_shares(copy)

# %%
construction.age_gender_table(copy)

# %% [markdown]
# Six of the final 256×256 grayscale crops:

# %%
construction.crops_figure(copy, ch.seed)
