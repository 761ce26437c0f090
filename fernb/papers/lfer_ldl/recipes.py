"""What each profile trains for LFER-LDL, as data (:mod:`fernb.papers.recipes`): the student's protocol (§2.3),
the teacher (§1.3), the balance sweep (§2.4.1), the ablation (Table 4) and the KL-target controls.

In :data:`STUDENT` and :data:`TEACHER` a setting of ``None`` keeps the value of the configuration the recipe
starts from (the §2.3 protocol; for a teacher that does not start from it, the trainer's default).

Why ``quick`` trains the book's small CNN as the student (measured on synth-raf, 2-core CPU, test majority share
36.8 %, so informative means > 38.8 %; ``ch.fit(**student_options("quick", "synth-raf"), **overrides)`` with the
combo loss at beta 0.2, "combo", and with the teacher's distributions, "LDL")::

    lfer_ldl  32 px, SGD 0.03, batch 32, cosine, 6 ep   combo 49.3 38.7 43.7   LDL 44.5 39.3 46.7   ~45 s a run
    small_cnn 32 px, SGD 0.05, batch 64, cosine, 5 ep   combo 74.2 73.8 73.5   LDL 77.2 42.0 73.5   ~13 s
    small_cnn 32 px, Adam 2e-3, batch 64, cosine, 5 ep  combo 80.3 84.8 80.2   LDL 80.7 85.0 82.5   ~14 s
    small_cnn 32 px, Adam 2e-3, batch 64, cosine, 4 ep  combo 79.3 80.3 78.2   LDL 79.3 84.8 80.8   ~10.5 s

(seeds 0, 1, 2). LFER-LDL's ShuffleNetV2 did not learn on every seed in the time two cores give it (seed 1 stops
within 2 points of the prior), and its 13 student runs made the chapter ~600 s against a 240 s budget. The plain
CNN with Adam learns on every seed in a quarter of the time, so ``quick`` asks the chapter's questions about the
*objective* (does the teacher's distribution help, and is it the ambiguity or any dense target?) on it; the
questions about LFER-LDL's *network* (Table 4's architecture rows, Tables 1-3) wait for ``full``, which trains the
paper's network under §2.3. ``model`` in :data:`STUDENT` names the substitute; the page says which network each
number comes from. The ablation, the sweep's peak and both KL-target controls share three seeds, so every
comparison of the page is paired by seed (:func:`~fernb.papers.lfer_ldl.tables.paired_gaps`).
"""

from __future__ import annotations

import dataclasses

from fernb.papers.lfer_ldl.paper import PEAKS, TABLE_4, check_coefficients, paper_protocol
from fernb.papers.recipes import Recipe
from fernb.profiles import PROFILES
from fernb.train.config import TrainConfig

_KEEP = dict(model=None, img_size=None, epochs=None, batch_size=None, optimizer=None, lr=None, scheduler=None,
             memory_format=None, max_batches_per_epoch=None)

STUDENT = Recipe(
    "student", "The student: §2.3, shrunk",
    # model None: the paper's network (lfer_ldl); another name is a stand-in, and the architecture rows of Table 4
    # (which need the paper's network) are then not trained
    smoke=dict(model="small_cnn", img_size=32, epochs=1, batch_size=32, optimizer="adam", lr=2e-3,
               scheduler="cosine", memory_format=None, max_batches_per_epoch=2),
    quick=dict(model="small_cnn", img_size=32, epochs=4, batch_size=64, optimizer="adam", lr=2e-3,
               scheduler="cosine", memory_format=None, max_batches_per_epoch=None),
    full=_KEEP,
)
_ADAM = dict(optimizer="adam", lr=1e-3, scheduler="cosine")
TEACHER = Recipe(
    "teacher", "The teacher (§1.3)",
    smoke=dict(model="tiny_cnn", from_protocol=False, img_size=32, epochs=1, batch_size=32, **_ADAM,
               class_weighting="none", max_batches_per_epoch=3, precision=None, memory_format=None, seeds=1,
               examples=2),
    # quick: stronger than the student it teaches (85.7 % against ~79 % on seed 0), and on seed 0 the very run
    # chapter 04 trains (zoo.TRAINED quick's small_cnn), so the book trains one teacher here, not two
    quick=dict(model="small_cnn", from_protocol=False, img_size=64, epochs=6, batch_size=64, **_ADAM,
               class_weighting="conservative", max_batches_per_epoch=None, precision="fp32",
               memory_format="channels_last", seeds=2, examples=4),
    full=dict(model="btfer_resnet50", from_protocol=True, img_size=None, epochs=None, batch_size=None,
              scheduler=None, class_weighting=None, max_batches_per_epoch=None, optimizer=None, lr=None,
              precision=None, memory_format=None, seeds=3, examples=4),
)
SWEEP = Recipe(
    "sweep", "The balance sweep (§2.4.1, Figs. 6-7)",
    smoke=dict(betas=[0.2, 0.6], seeds=1, seeds_off_peak=1),
    quick=dict(betas=[0.2, 0.6], seeds=3, seeds_off_peak=1),
    # long (recorded, CPU): quick's student over the paper's eleven values, five seeds each (~55 runs of ~11 s)
    long=dict(betas=[round(0.1 * k, 1) for k in range(11)], seeds=5, seeds_off_peak=5),
    full=dict(betas=[round(0.1 * k, 1) for k in range(11)], seeds=3, seeds_off_peak=3),
)
ABLATION = Recipe(
    "ablation", "The ablation (Table 4)",
    smoke=dict(rows=list(TABLE_4.index[2:]), seeds=1),
    quick=dict(rows=list(TABLE_4.index[2:]), seeds=3),
    # long keeps quick's stand-in student, so the architecture rows still wait for full (module docstring)
    long=dict(seeds=5),
    full=dict(rows=list(TABLE_4.index), seeds=3),
)
CONTROLS = Recipe(
    "controls", "Other targets of the KL term",
    smoke=dict(targets=[], seeds=1),
    quick=dict(targets=["label smoothing", "true blend"], seeds=3),
    long=dict(seeds=5),
    full=dict(targets=["label smoothing", "true blend"], seeds=3),
)
RECIPES = (STUDENT, TEACHER, SWEEP, ABLATION, CONTROLS)

_FIELDS = {f.name for f in dataclasses.fields(TrainConfig)}


def _check():
    """Fail at import on a recipe the drivers cannot run: bad coefficients, a sweep without the paper's peaks (the
    ablation and Tables 1-3 read the run there), unknown rows or targets, or an ablation whose seeds differ from the
    sweep's at the peak (its LDL row is the sweep's run there)."""
    for p in PROFILES:
        betas = check_coefficients(SWEEP(p).betas, f"SWEEP[{p!r}].betas")
        missing = sorted({beta for beta, _ in PEAKS.values()} - set(betas))
        if missing:
            raise ValueError(f"SWEEP[{p!r}].betas lacks the paper's peak(s) {missing} (Figs. 6-7)")
        unknown = [r for r in ABLATION(p).rows if r not in TABLE_4.index]
        if unknown:
            raise ValueError(f"ABLATION[{p!r}].rows: {unknown} are not rows of Table 4 ({list(TABLE_4.index)})")
        stand_in = STUDENT(p).model not in (None, "lfer_ldl")
        if stand_in and any(r in ABLATION(p).rows for r in TABLE_4.index[:2]):
            raise ValueError(f"ABLATION[{p!r}].rows: the architecture rows {list(TABLE_4.index[:2])} need the "
                             f"paper's network, but STUDENT[{p!r}].model is the stand-in {STUDENT(p).model!r}")
        if ABLATION(p).seeds != SWEEP(p).seeds:
            raise ValueError(f"ABLATION[{p!r}].seeds must equal SWEEP[{p!r}].seeds: its LDL row is the sweep's run")
        bad = [t for t in CONTROLS(p).targets if t not in ("label smoothing", "true blend")]
        if bad:
            raise ValueError(f"CONTROLS[{p!r}].targets: {bad}; expected 'label smoothing' or 'true blend'")


_check()


def _options(settings, base: dict) -> dict:
    """``base`` with the recipe's training settings laid over it (``None`` keeps the base's value)."""
    return {**base, **{k: v for k, v in settings.items() if k in _FIELDS and v is not None}}


def student_options(profile: str, dataset: str) -> dict:
    """The student's training options for a profile: the §2.3 protocol with :data:`STUDENT` over it."""
    return _options(STUDENT(profile), paper_protocol(dataset))


def stand_in(profile: str) -> str | None:
    """The network that replaces LFER-LDL's as the student in ``profile`` (:data:`STUDENT`), or ``None``."""
    model = STUDENT(profile).model
    return None if model in (None, "lfer_ldl") else model


def teacher_options(profile: str, dataset: str) -> dict:
    """The teacher's training options (without its seed): :data:`TEACHER`, from the §2.3 protocol where it says."""
    r = TEACHER(profile)
    return _options(r, paper_protocol(dataset) if r.from_protocol else {})
