"""What each profile trains for LFER-LDL, as data (:mod:`fernb.papers.recipes`): the student's protocol (§2.3),
the teacher (§1.3), the balance sweep (§2.4.1), the ablation (Table 4) and the KL-target controls.

In :data:`STUDENT` and :data:`TEACHER` a setting of ``None`` keeps the value of the configuration the recipe
starts from (the §2.3 protocol; for a teacher that does not start from it, the trainer's default).

Why ``quick`` trains the student as it does (measured on synth-raf, seed 0, 2-core CPU shared with other jobs, so
the seconds are upper bounds; test majority share 36.8 %, so informative means > 38.8 %; measured with
``ch.fit(**student_options("quick", "synth-raf"), **overrides)`` for the combo-only ``lfer_ldl_pdwres`` at
beta 0.2 and the LDL ``lfer_ldl``)::

    48 px, batch 64, lr 0.01, constant, 3 epochs   combo 34.7 % (uninformative)  LDL 45.8 %   ~40 s a run
    32 px, batch 64, lr 0.05, cosine,   4 epochs   combo 29.8 % (uninformative)  LDL 39.0 %   ~30 s
    32 px, batch 64, lr 0.1,  cosine,   4 epochs   combo 38.5 % (uninformative)  LDL 29.2 % (uninformative)
    32 px, batch 64, lr 0.05, cosine,   6 epochs   combo 44.0 %                  LDL 43.7 %   ~50 s
    32 px, batch 32, lr 0.03, cosine,   6 epochs   combo 49.3 %                  LDL 44.5 %   ~85 s

The last (the paper's RAF-DB batch of 32, so twice the steps per epoch) is the first whose combo-only student is
10 points above the prior, and both its students are informative; it is the ``quick`` student. Its cost: about
80 s of training a run on the shared CPU; 13 student runs and 2 teachers (about 20 s each) make the chapter about
1,100 s of training from a cold cache (``python -m fernb.book run 09_lfer_ldl -p profile quick``: 916 s with the
seed-0 students cached), far over the 240 s budget. Over seeds 0, 1, 2 (test %, prior 36.8)::

    combo only (+ PDWRes)   49.3  38.7  43.7     LDL (teacher)   44.5  39.3  46.7
    label smoothing         39.2  39.3  39.8     true blend      40.0  38.8  47.0

Seed 1's combo-only and true-blend students stop within 2 points of the prior (uninformative), so six epochs are
still not enough on every seed; the next step is more epochs, which needs a cheaper training step first (a bare
step is 0.077 s at batch 64, the trainer's about 0.24 s on this CPU). Channels-last is forced: a bare training step of
``lfer_ldl`` at 32 px takes 0.077 s channels-last against 0.146 s contiguous (batch 64); forcing it spares each
run the trainer's own measurement. The ablation, the sweep's peak and both KL-target controls share three seeds, so
every comparison of the page is paired by seed (:func:`~fernb.papers.lfer_ldl.tables.paired_gaps`).
"""

from __future__ import annotations

import dataclasses

from fernb.papers.lfer_ldl.paper import PEAKS, TABLE_4, check_coefficients, paper_protocol
from fernb.papers.recipes import Recipe
from fernb.profiles import PROFILES
from fernb.train.config import TrainConfig

_KEEP = dict(img_size=None, epochs=None, batch_size=None, lr=None, scheduler=None, memory_format=None,
             max_batches_per_epoch=None)

STUDENT = Recipe(
    "student", "The student: §2.3, shrunk",
    smoke=dict(img_size=32, epochs=1, batch_size=32, lr=None, scheduler=None, memory_format=None,
               max_batches_per_epoch=2),
    quick=dict(img_size=32, epochs=6, batch_size=None, lr=0.03, scheduler="cosine", memory_format="channels_last",
               max_batches_per_epoch=None),
    full=_KEEP,
)
_ADAM = dict(optimizer="adam", lr=1e-3, scheduler="cosine")
TEACHER = Recipe(
    "teacher", "The teacher (§1.3)",
    smoke=dict(model="tiny_cnn", from_protocol=False, img_size=32, epochs=1, batch_size=32, **_ADAM,
               max_batches_per_epoch=3, seeds=1, examples=2),
    quick=dict(model="small_cnn", from_protocol=False, img_size=48, epochs=5, batch_size=64, **_ADAM,
               max_batches_per_epoch=None, seeds=2, examples=4),
    full=dict(model="btfer_resnet50", from_protocol=True, img_size=None, epochs=None, batch_size=None,
              scheduler=None, max_batches_per_epoch=None, optimizer=None, lr=None, seeds=3,
              examples=4),
)
SWEEP = Recipe(
    "sweep", "The balance sweep (§2.4.1, Figs. 6-7)",
    smoke=dict(betas=[0.2, 0.6], seeds=1, seeds_off_peak=1),
    quick=dict(betas=[0.2, 0.6], seeds=3, seeds_off_peak=1),
    full=dict(betas=[round(0.1 * k, 1) for k in range(11)], seeds=3, seeds_off_peak=3),
)
ABLATION = Recipe(
    "ablation", "The ablation (Table 4)",
    smoke=dict(rows=list(TABLE_4.index[2:]), seeds=1),
    quick=dict(rows=list(TABLE_4.index[2:]), seeds=3),
    full=dict(rows=list(TABLE_4.index), seeds=3),
)
CONTROLS = Recipe(
    "controls", "Other targets of the KL term",
    smoke=dict(targets=[], seeds=1),
    quick=dict(targets=["label smoothing", "true blend"], seeds=3),
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


def teacher_options(profile: str, dataset: str) -> dict:
    """The teacher's training options (without its seed): :data:`TEACHER`, from the §2.3 protocol where it says."""
    r = TEACHER(profile)
    return _options(r, paper_protocol(dataset) if r.from_protocol else {})
