"""The chapter's drivers over the chapter object ``ch``: the specifications built from the recipes for
``ch.profile`` (:mod:`.recipes`), their plan, the balanced test set, the benchmark run and scored, and the edge
deployment (BTFER §III-§V). Every run goes through :class:`~fernb.train.Trainer` with ``report=ch.report_dir``, so
the chapter's report lists it."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from fernb.papers.btfer import recipes as R
from fernb.papers.btfer.experiments import best_per_resolution, resolution_gap
from fernb.papers.btfer.spec import (LABEL_QUALITIES, BenchmarkResult, BenchmarkSpec, combine, plan,
                                     run_benchmark)
from fernb.papers.btfer.tables import paper_tables
from fernb.papers.btfer.testset import TestSet, balanced_test_set, score_on_balanced_test

REAL_TRAIN_SETS = ["rafdb", "fer2013", "affectnet-7"]


def zoo(img_size: int) -> list[str]:
    """Every built model of BTFER Table 2 (48) or 3 (224), in the paper's order."""
    return list(paper_tables().query("img_size == @img_size").model.dropna().unique())


def _models(value, img_size: int) -> list[str]:
    return zoo(img_size) if value == "zoo" else list(value)


def train_sets(ch) -> list[str]:
    """The main benchmark's training sets: the three real ones of Tables 2-3 when the recipe trains every real set
    and the chapter runs on real data, else the chapter's dataset."""
    return REAL_TRAIN_SETS if (R.MAIN(ch.profile).every_real_set and not ch.synthetic) else [ch.dataset]


def specs(ch) -> dict[str, list[BenchmarkSpec]]:
    """One list of specifications per question, from the recipes for ``ch.profile``: ``main`` (Tables 2-3),
    ``labels`` (Experiment 3, SynthFER only), ``resolution`` (Experiment 5), ``starts`` (Experiment 1)."""
    p = R.PROTOCOL(ch.profile)
    common = dict(profile=ch.profile, data_seed=ch.seed, train=p.train, freeze_epochs=p.freeze_epochs)
    sets = train_sets(ch)
    m = R.MAIN(ch.profile)
    out = {"main": [BenchmarkSpec(_models(models, size), resolutions=[size], starts=m.starts,
                                  weightings=m.weightings, train_sets=sets, seeds=m.seeds_from(ch.seed), **common)
                    for size, models in ((48, m.models_48), (224, m.models_224)) if models]}
    if m.extra_48:  # more of Table 2 at a lower cost: one weighting, fewer seeds, the recipe's shorter training
        out["main"].append(BenchmarkSpec(m.extra_48, resolutions=[48], starts=["scratch"],
                                         weightings=m.extra_weightings, train_sets=sets,
                                         seeds=m.seeds_from(ch.seed)[:m.extra_seeds],
                                         **{**common, "train": {**p.train, **m.extra_train}}))
    lab = R.LABELS(ch.profile)
    out["labels"] = ([] if not ch.synthetic else
                     [BenchmarkSpec(lab.models, weightings=lab.weightings, seeds=lab.seeds_from(ch.seed),
                                    train_sets=[f"{ch.dataset}:{q}" for q in LABEL_QUALITIES], **common)])
    res = R.RESOLUTION(ch.profile)
    # the low side of each pair comes from the main table; where this asks for more seeds, it trains them too
    sizes = [res.high] + ([res.low] if res.seeds > m.seeds else [])
    out["resolution"] = [BenchmarkSpec(res.models, resolutions=sizes, weightings=res.weightings,
                                       train_sets=sets[:1], seeds=res.seeds_from(ch.seed), **common)]
    st = R.PRETRAINED(ch.profile)
    out["starts"] = [BenchmarkSpec(st.models, resolutions=st.resolutions, starts=st.starts, weightings=st.weightings,
                                   train_sets=sets, seeds=st.seeds_from(ch.seed),
                                   **{**common, "train": {**p.train, **st.train}})]
    return out


def _seeds(n: int) -> str:
    return f"{n} seed{'' if n == 1 else 's'}"


def plan_words(profile: str) -> str:
    """What ``profile`` trains, in words, read from the recipes (so the page cannot say otherwise)."""
    m, p, lab, res = R.MAIN(profile), R.PROTOCOL(profile), R.LABELS(profile), R.RESOLUTION(profile)
    train = p.train
    steps = (f"{train['epochs']} epoch{'' if train['epochs'] == 1 else 's'}" +
             (f" of at most {train['max_batches_per_epoch']} batches" if train.get("max_batches_per_epoch") else ""))
    lines = [f"* Tables 2-3: {', '.join(_models(m.models_48, 48))} at 48 px from {', '.join(m.starts)}, "
             f"{_seeds(m.seeds)}, {' and '.join(m.weightings)} weighting ({steps})"]
    if m.extra_48:
        extra = {**train, **m.extra_train}
        more = (f"{extra['epochs']} epoch{'' if extra['epochs'] == 1 else 's'}" +
                (f" of at most {extra['max_batches_per_epoch']} batches"
                 if extra.get("max_batches_per_epoch") else ""))
        lines.append(f"* more of Table 2 at a lower cost: {', '.join(m.extra_48)}, {_seeds(m.extra_seeds)}, "
                     f"{' and '.join(m.extra_weightings)} weighting only ({more})")
    lines.append("* Table 3 (224 px): " + (", ".join(_models(m.models_224, 224)) if m.models_224 else
                                          "nothing; it belongs to `full`"))
    st = R.PRETRAINED(profile)
    lines.append(f"* Experiment 1: {', '.join(st.models)} at {', '.join(f'{r} px' for r in st.resolutions)} from "
                 f"{', '.join(st.starts)} (each start whose weights are here), {_seeds(st.seeds)}, "
                 f"{' and '.join(st.weightings)} weighting" +
                 (f" (at lr {st.train['lr']:g})" if "lr" in st.train else ""))
    lines.append(f"* Experiment 3: {', '.join(lab.models)} with three label qualities, {_seeds(lab.seeds)}")
    lines.append(f"* Experiment 5: {', '.join(res.models)} at {res.high} px against {res.low} px, "
                 f"{_seeds(res.seeds)}")
    return f"This page's profile, `{profile}`, trains:\n\n" + "\n".join(lines)


def row_counts(specs: dict) -> dict:
    """How many rows each question's specifications expand to."""
    return {k: sum(len(s.rows()) for s in v) for k, v in specs.items()}


def plan_all(ch, specs: dict) -> pd.DataFrame:
    """:func:`~fernb.papers.btfer.spec.plan` of every specification, with the question it serves (``spec``)."""
    return pd.concat([plan(s, ch.data_root).assign(spec=k) for k, v in specs.items() for s in v],
                     ignore_index=True)


def state_counts(table: pd.DataFrame) -> pd.DataFrame:
    """Rows per question and state (planned: done/partial/pending/skipped; run: found/resumed/trained/skipped)."""
    return table.groupby(["spec", "state"]).size().unstack(fill_value=0)


def skipped(planned: pd.DataFrame) -> pd.DataFrame:
    """Each skipped (model, start) once, with what it needs."""
    rows = planned[planned.state == "skipped"].drop_duplicates(["model", "start"])
    return rows[["model", "start", "note"]].set_index(["model", "start"])


def test_set(ch, btfer_root=None) -> TestSet:
    """BTFER's balanced test set (the reader's copy under ``btfer_root``) or its SynthFER counterpart, of the
    recipe's size for ``ch.profile`` (:func:`~fernb.papers.btfer.testset.balanced_test_set`)."""
    return balanced_test_set(btfer_root, profile=ch.profile, per_class=R.TEST(ch.profile).per_class, seed=ch.seed,
                             data_root=ch.data_root if ch.synthetic else None, trained_on=ch.dataset)


@dataclass
class Benchmark:
    """Every question's result (``results``: name -> :class:`BenchmarkResult`, scored on ``test``)."""

    results: dict
    test: TestSet
    profile: str

    @property
    def main(self) -> pd.DataFrame:
        return self.results["main"].table

    def table(self, name: str) -> pd.DataFrame:
        """One question's table (empty when the profile or dataset does not ask it)."""
        return self.results[name].table

    @property
    def every(self) -> pd.DataFrame:
        return pd.concat([r.table.assign(spec=k) for k, r in self.results.items()], ignore_index=True)

    @property
    def sized(self) -> BenchmarkResult:
        """The main benchmark and the resolution rows together (Experiments 5 and 6, the deployment), each run
        once (a low-resolution row the resolution question trains again is the main table's run)."""
        return combine([self.results["main"], self.results["resolution"]])

    def runs_named(self, names) -> list:
        """The runs whose folder names are ``names`` (a verdict's ``runs``), from every question, each once."""
        every = {run.dir.name: run for r in self.results.values() for run in r.runs.values()}
        return [every[n] for n in dict.fromkeys(names) if n in every]


def runs_where(result: BenchmarkResult, **where) -> list:
    """The runs of ``result``'s trained rows whose columns equal ``where`` (e.g. ``model=..., img_size=48``)."""
    t = result.table
    mask = pd.Series(True, index=t.index)
    for k, v in where.items():
        mask &= t[k] == v
    return [result.runs[i] for i in t.index[mask] if i in result.runs]


def table_runs(bench: Benchmark, table: pd.DataFrame, img_size: int, train_set: str | None = None) -> dict:
    """:func:`~fernb.papers.btfer.experiments.beside_paper`'s rows that hold ours -> the runs their numbers average
    (same model, start and resolution; every weighting and seed), for ``ch.report(..., runs=...)``."""
    where = {} if train_set is None else {"train_set": train_set}
    out = {}
    for i, row in table[table["params_m"].notna()].iterrows():
        found = runs_where(bench.results["main"], model=row["model"], start=row["start"], img_size=img_size,
                           **where)
        if found:
            out[i] = found
    return out


def best_runs(bench: Benchmark, best: pd.DataFrame) -> dict:
    """Each row of :func:`best_table` -> the runs (seeds) its accuracies are the mean of."""
    keys = ["model", "img_size", "start", "weighting", "train_set"]
    return {i: runs_where(bench.sized, **{k: row[k] for k in keys}) for i, row in best.iterrows()}


OURS_COLUMNS = ["val_simple", "test_simple", "val_conservative", "test_conservative"]
"""The columns of Tables 2-3 beside the paper that hold our runs' results (the guard blanks only these)."""


def _empty() -> BenchmarkResult:
    cols = ["model", "img_size", "start", "weighting", "train_set", "seed", "params_m", "state", "note", "val_acc",
            "in_domain_acc", "in_domain_true_acc", "train_s", "run", "test_acc", "informative"]
    return BenchmarkResult(pd.DataFrame(columns=cols), {})


def benchmark(ch, specs: dict, test: TestSet) -> Benchmark:
    """Train what is not finished of every specification (found rows are reused, begun ones resume), score each
    run on the balanced test set, and note every run in the chapter's report (``ch.report_dir``)."""
    results = {}
    for name, group in specs.items():
        scored = [score_on_balanced_test(run_benchmark(s, ch.data_root, ch.device, report=ch.report_dir), test)
                  for s in group]
        results[name] = combine(scored) if scored else _empty()
    return Benchmark(results, test, ch.profile)


def rerun_main(ch, specs: dict) -> pd.Series:
    """The main specifications run again: every row is found in the registry, none retrained (their states)."""
    tables = [run_benchmark(s, ch.data_root, ch.device, report=ch.report_dir).table for s in specs["main"]]
    return pd.concat(tables, ignore_index=True).state.value_counts()


def resolution_table(bench: Benchmark) -> pd.DataFrame:
    """Experiment 5 (BTFER §IV-H) at the recipe's resolutions: accuracy at ``high`` minus ``low`` px for the
    compared models (:func:`~fernb.papers.btfer.experiments.resolution_gap`)."""
    res = R.RESOLUTION(bench.profile)
    sized = bench.sized.table
    return resolution_gap(sized[sized.model.isin(res.compared)], res.low, res.high)


def best_table(bench: Benchmark) -> pd.DataFrame:
    """Experiment 6 (BTFER Table 6): the best row per resolution and the best under the recipe's edge size."""
    return best_per_resolution(bench.sized.table, R.TEST(bench.profile).small_m)


def deploy(ch, bench: Benchmark) -> pd.DataFrame:
    """BTFER §V-A on the PyTorch route: the best ``deployed`` rows by balanced-test accuracy exported to ONNX, int8
    in onnxruntime, sizes, batch-1 latency on one CPU thread, accuracy in fp32 and int8 (one column per model)."""
    import torch

    from fernb import paths
    from fernb.eval.deploy import deploy_report

    t = R.TEST(ch.profile)
    sized = bench.sized
    picks = (sized.table[sized.table.state != "skipped"].sort_values("test_acc", ascending=False)
             .drop_duplicates(["model", "img_size"]).head(t.deployed))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        rows = [deploy_report(sized.runs[i], paths.cache_root() / "deploy-btfer",
                              calibration_images=t.calibration_images, latency_runs=t.latency_runs)
                for i in picks.index]
    finally:
        torch.set_num_threads(threads)
    out = pd.DataFrame(rows)
    out.index = [f"{m} {s} px" for m, s in zip(out.model, out.img_size)]
    keep = ["img_size", "size_mb_fp32", "size_mb_int8", "ms_torch", "ms_onnx_fp32", "ms_onnx_int8",
            "acc_onnx_fp32", "acc_onnx_int8", "int8_agreement_with_fp32"]
    return out[keep].T.round(3)
