"""LFER-LDL's experiments as drivers over the chapter object ``ch`` (profile, dataset, seed, report): each reads
its profile's column of :mod:`fernb.papers.lfer_ldl.recipes` and trains through ``ch.fit``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from fernb import paths
from fernb.papers.lfer_ldl import distributions as D
from fernb.papers.lfer_ldl.paper import TABLE_4, paper_protocol, peak_beta
from fernb.papers.lfer_ldl.recipes import (ABLATION, CONTROLS, SWEEP, TEACHER, stand_in, student_options,
                                          teacher_options)


def where(ch) -> str:
    """The chapter's dataset as table headers name it (SynthFER said where it is)."""
    return f"{ch.dataset}, SynthFER" if ch.synthetic else ch.dataset


def protocol_table(ch) -> pd.DataFrame:
    """The §2.3 protocol beside what this profile trains the student with (:data:`~.recipes.STUDENT`)."""
    protocol, student = paper_protocol(ch.dataset), student_options(ch.profile, ch.dataset)
    return pd.DataFrame({"§2.3 (paper)": protocol, f"this profile ({ch.profile})": student},
                        dtype=object).loc[list(student)]


@dataclass
class Teachers:
    """The trained teachers (§1.3), their distribution files (one per seed, record order) and their data."""

    runs: list
    files: list
    seeds: list
    dists: list = field(repr=False)

    @property
    def run(self):
        return self.runs[0]

    @property
    def dataset(self):
        return self.run.dataset()

    @property
    def records(self) -> pd.DataFrame:
        return self.dataset.records

    @property
    def classes(self) -> list:
        return list(self.dataset.class_names)

    @property
    def train_rows(self) -> np.ndarray:
        return self.run.split("train")

    @property
    def test_rows(self) -> np.ndarray:
        return self.run.split("test")

    @property
    def truth(self) -> np.ndarray | None:
        """SynthFER's true blends of every record; ``None`` for a real dataset."""
        if not D.has_true_blends(self.records):
            return None
        return D.true_blend_distributions(self.records, len(self.classes))

    def summary(self) -> str:
        t = self.run
        return (f"teacher {t.config.model} @{t.config.img_size}px: test accuracy "
                f"{100 * t.metrics['accuracy']:.1f} % on {t.config.dataset}; distributions for "
                f"{len(self.records)} records x {len(self.classes)} classes")


def train_teachers(ch) -> Teachers:
    """Train (or fetch) the profile's teachers (:data:`~.recipes.TEACHER`) and write each one's distributions over
    every record under ``$FERNB_HOME/cache/ldl/`` (§1.3)."""
    r, options = TEACHER(ch.profile), teacher_options(ch.profile, ch.dataset)
    seeds = r.seeds_from(ch.seed)
    runs = [ch.fit(**options, seed=s) for s in seeds]
    files = [D.teacher_distributions(t, paths.cache_root() / "ldl" / f"{t.dir.name}.npy") for t in runs]
    return Teachers(runs, files, seeds, [np.load(f).astype(np.float64) for f in files])


def examples(ch, teachers: Teachers) -> np.ndarray:
    """The training records the chapter shows: the strongest blends, most uncertain teacher first."""
    return D.ambiguous_examples(teachers.dists[0], teachers.records, teachers.train_rows,
                                k=TEACHER(ch.profile).examples)


def truth_report(teachers: Teachers):
    """(report, gaps) of :func:`~.distributions.teacher_vs_truth` for the teachers; ``None`` on a real dataset."""
    if teachers.truth is None:
        return None
    return D.teacher_vs_truth(teachers.dists, teachers.records, teachers.train_rows, teachers.test_rows,
                              teachers.seeds, len(teachers.classes))


def combo(beta: float) -> dict:
    """The combo loss (§1.4) at balance ``beta``, alpha fixed at 0.5 as in the paper."""
    return {"loss": "combo", "loss_kwargs": {"alpha": 0.5, "beta": beta}}


def with_ldl(beta: float, file) -> dict:
    """The full method's objective: the combo loss plus the KL term towards the distributions in ``file``."""
    return {"loss": "kl_teacher", "loss_kwargs": {"teacher": str(file), "alpha": 0.5, "beta": beta}}


def sweep(ch, teachers: Teachers) -> dict:
    """The balance sweep (§2.4.1, Figs. 6-7): the full method at every beta of :data:`~.recipes.SWEEP`, with all
    its seeds at the paper's peak for the dataset and ``seeds_off_peak`` of them elsewhere. beta -> runs."""
    r, student = SWEEP(ch.profile), student_options(ch.profile, ch.dataset)
    seeds, peak = r.seeds_from(ch.seed), peak_beta(ch.dataset)
    return {beta: [ch.fit(**student, **with_ldl(beta, teachers.files[0]), seed=s)
                   for s in (seeds if beta == peak else seeds[:r.seeds_off_peak])]
            for beta in r.betas}


def ablation(ch, swept: dict) -> dict:
    """Table 4 (§2.4.4): each row of :data:`~.recipes.ABLATION` trained with the combo loss alone at the paper's
    peak beta; the LDL row is the sweep's run there. With a stand-in student (:func:`~.recipes.stand_in`) the
    combo-only row is the stand-in without the teacher's distributions (the architecture rows are then not
    trained: :func:`~.recipes._check`). row -> runs."""
    r, student, peak = ABLATION(ch.profile), student_options(ch.profile, ch.dataset), peak_beta(ch.dataset)
    if peak not in swept:
        raise ValueError(f"the sweep has no run at the paper's peak beta={peak}; SWEEP[{ch.profile!r}].betas must "
                         f"include it")
    seeds = r.seeds_from(ch.seed)
    return {row: (swept[peak][:len(seeds)] if TABLE_4.loc[row, "ldl"] else
                  [ch.fit(**{**student, "model": stand_in(ch.profile) or TABLE_4.loc[row, "model"], **combo(peak),
                             "seed": s})
                   for s in seeds])
            for row in TABLE_4.index if row in r.rows}


def ldl_pair(ablated: dict) -> list:
    """The runs the LDL step of :func:`~.tables.ldl_gain` rests on: the last ablation row without and with LDL."""
    return [*ablated[TABLE_4.index[2]], *ablated[TABLE_4.index[3]]]


def kl_targets(ch, teachers: Teachers, ablated: dict) -> dict:
    """Students that differ only in the KL term's target (:data:`~.recipes.CONTROLS`): none (combo loss only), the
    teacher's, and the control targets of this profile (label smoothing, the true blends). target -> runs."""
    r, student, peak = CONTROLS(ch.profile), student_options(ch.profile, ch.dataset), peak_beta(ch.dataset)
    without, with_ = TABLE_4.index[2], TABLE_4.index[3]
    found = {"label smoothing": D.smoothed_labels(teachers.records["label"], len(teachers.classes),
                                                  D.SMOOTHING_EPS),
             "true blend": teachers.truth}
    targets = {"none (combo loss only)": ablated[without], "teacher": ablated[with_]}
    for name in [t for t in r.targets if found[t] is not None]:
        file = D.save_distributions(found[name], paths.cache_root() / "ldl" / f"{ch.dataset}-{name}.npy")
        targets[name] = [ch.fit(**student, **with_ldl(peak, file), seed=s) for s in r.seeds_from(ch.seed)]
    return targets


def students(swept: dict, ablated: dict, targets: dict) -> dict:
    """Every student the page compares, by name (the sweep's by beta, the ablation's by row, the controls' by
    target); a run that appears under two names is the same run."""
    return {**{f"LDL, β = {b}": runs for b, runs in swept.items()}, **ablated, **targets}


def peak_runs(ch, swept: dict) -> list:
    """The sweep's runs at the paper's peak beta: the chapter's LFER-LDL (Tables 1-3, Figs. 8-9)."""
    return swept[peak_beta(ch.dataset)]


def evaluations(swept: dict) -> list:
    """One test-split :class:`~fernb.eval.Evaluation` per beta (its first seed), for the confusion explorer."""
    from fernb.eval import Evaluation

    return [Evaluation.from_run(runs[0], name=f"β = {b}") for b, runs in swept.items()]

