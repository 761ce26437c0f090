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
# # Appendix: bad input, damaged copies and resumed work
#
# The chapters are about the papers; this appendix is about the library under them. A wrong name, a request a
# network or dataset cannot serve, or a damaged copy of a dataset fails before any work is lost, with a message
# that names the file, line or parameter and what was expected. A benchmark that stops half-way starts again where
# it stopped. Every message below is printed by the library as it is, not written for this page.

# %% tags=["parameters"]
profile = "quick"  # smoke | quick | long | full
dataset = "synth-raf"
data_root = None  # None: $FERNB_HOME/data
device = "auto"  # auto | cpu | cuda | mps
seed = 0
report = None  # set by the book runner: the folder this chapter reports into

# %%
import fernb.chapter
from fernb.data.verify import verify
from fernb.models import create
from fernb.papers import btfer, datasets
from fernb.papers.infer import benchmark

ch = fernb.chapter.setup(
    profile,
    dataset,
    data_root,
    device,
    seed,
    datasets=["synth-raf", "rafdb", "fer2013", "affectnet-7"],
    name="10_engineering",
    report=report,
)
print(f"profile={ch.profile} dataset={ch.dataset} device={ch.device}")

# %% [markdown]
# ## Model requests (chapter 04's registry)
#
# An unknown name suggests the closest ones; an input a network cannot take, a channel count or class count a
# variant does not support, or an unknown keyword fails before anything is built.

# %%
for call in (
    lambda: create("resemotnet"),
    lambda: create("btfer_inceptionv3", img_size=48),
    lambda: create("lfer_ldl", in_chans=4),
    lambda: create("litexpressionnet", widht=0.5),
):
    try:
        call()
    except ValueError as err:
        print("ValueError:", err)

# %% [markdown]
# ## Benchmark requests (chapter 07's InFER++ benchmark)
#
# A method paired with an objective its network cannot feed, a `fold` on a dataset without folds, and AffectNet-8
# asked of SynthFER all fail at once, naming what was asked and what was expected.

# %%
print("\n".join(benchmark.bad_requests()))

# %% [markdown]
# ## Benchmark specifications (chapter 08's BTFER benchmark)

# %%
for bad in (
    dict(models=["btfer_lenet"]),
    dict(models=["btfer_lenet5"], starts=["imagenett"]),
    dict(models=["btfer_lenet5"], train_sets=["fer2013:true"]),
):
    try:
        btfer.BenchmarkSpec(**bad)
    except ValueError as err:
        print("ValueError:", err)

# %% [markdown]
# ## A damaged copy of RAF-DB (chapter 01's adapters)
#
# Chapter 01 writes a tiny copy of every official layout from SynthFER images. Here its RAF-DB copy gets a
# truncated JPEG, a label id outside the map and a stray file. In the default (strict) mode the verifier stops at
# the first problem and names the file and line; in lenient mode it quarantines every bad entry, lists it, and goes
# on.

# %%
mock_root, _ = datasets.mock_layouts(ch)
broken = datasets.damage(mock_root)
print(datasets.strict_error(broken))

# %% [markdown]
# The lenient report below also compares the per-class counts RAF-DB publishes with what it found. The mock copy
# holds a few images per class, so every count differs and the report ends "DIFFERENCES FOUND", as it should; on a
# reader's full copy those lines name a class with images missing or extra.

# %%
print(verify("rafdb", broken, lenient=True, progress=False).summary(counts=3))

# %% [markdown]
# ## Resuming: a second pass finds every row
#
# Running chapter 08's main specification again trains nothing once chapter 08 has run in this profile: every row
# is found in the registry of runs (opened on its own, this cell trains what chapter 08 would). The tests
# (`tests/test_btfer.py`) interrupt a benchmark half-way and check that the rerun resumes the interrupted row from
# its checkpoint and leaves the finished one untouched.

# %%
btfer.rerun_main(ch, btfer.specs(ch))
