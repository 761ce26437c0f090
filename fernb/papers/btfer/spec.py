"""The BTFER benchmark specification as data (BTFER §III): models × resolutions × starts × class weightings ×
training sets × seeds, expanded into :class:`~fernb.train.TrainConfig` rows and run through the shared trainer and
the results registry.

Resumption is the registry's: every row is keyed by its configuration and data, so :func:`plan` tells which rows are
finished (``done``), begun (``partial``, a checkpoint to resume from), ``pending`` or ``skipped`` (a pretrained start
whose weights are not on this machine: nothing is downloaded), and :func:`run_benchmark` trains only what is not
finished. Bad names fail in :class:`BenchmarkSpec` before any data is read. Experiment 3's training labels of three
qualities (:func:`training_labels`) are made here too.
"""

from __future__ import annotations

import difflib
import itertools
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from fernb import paths

STARTS = ("scratch", "imagenet", "vggface", "imagenet-analogue", "vggface-analogue")
"""BTFER §III-E's starts, and their analogues made here without a download (:mod:`fernb.train.analogues`)."""
LABEL_QUALITIES = ("plurality", "true", "one_annotator")

# ---- the specification ------------------------------------------------------------------------------------------

def parse_train_set(text: str) -> tuple[str, str]:
    """``"synth-raf"`` (published labels) or ``"synth-raf:true"`` / ``":one_annotator"`` (SynthFER only)."""
    from fernb.data.manifest import load_manifest

    name, _, quality = str(text).partition(":")
    quality = quality or "plurality"
    manifest = load_manifest(name)  # unknown dataset names fail here, with suggestions
    if quality not in LABEL_QUALITIES:
        raise ValueError(f"training set {text!r}: label quality {quality!r} is unknown; expected one of "
                         f"{LABEL_QUALITIES}")
    if quality != "plurality" and manifest["kind"] != "synthetic":
        raise ValueError(f"training set {text!r}: only SynthFER knows the true labels and each annotator's vote; "
                         f"a real dataset trains on its published labels (write {name!r})")
    return name, quality


def _one_of(kind: str, value, allowed) -> None:
    if value not in allowed:
        close = difflib.get_close_matches(str(value), [str(a) for a in allowed], n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"BenchmarkSpec: unknown {kind} {value!r}{hint}; expected one of {tuple(allowed)}")


@dataclass(frozen=True)
class BenchmarkSpec:
    """What to run, as data: every combination of ``models`` × ``resolutions`` × ``starts`` × ``weightings`` ×
    ``train_sets`` × ``seeds`` is one row (BTFER Tables 2-3 are its 48 and 224 halves). ``train`` holds the
    :class:`~fernb.train.TrainConfig` options common to every row (epochs, learning rate, schedule …);
    ``freeze_epochs`` is the head-only first stage of pretrained rows (BTFER §III-F; scratch rows have one stage);
    ``weight_files`` maps a model to its VGGFace/VGGFace2 weight file (default
    ``$FERNB_HOME/weights/<model>-vggface.pt``). Everything is checked here, before any data is read."""

    models: tuple
    resolutions: tuple = (48,)
    starts: tuple = ("scratch",)
    weightings: tuple = ("simple", "conservative")
    train_sets: tuple = ("synth-raf",)
    seeds: tuple = (0,)
    profile: str = "quick"
    data_seed: int = 0
    train: dict = field(default_factory=dict)
    freeze_epochs: int = 0
    weight_files: dict = field(default_factory=dict)

    def __post_init__(self):
        from fernb.models.registry import entry
        from fernb.profiles import check_profile
        from fernb.train.weighting import SCHEMES

        for name in ("models", "resolutions", "starts", "weightings", "train_sets", "seeds"):
            value = getattr(self, name)
            if isinstance(value, (str, int)) or not len(value):
                raise ValueError(f"BenchmarkSpec.{name} must be a non-empty list, got {value!r}")
            object.__setattr__(self, name, tuple(value))
        for m in self.models:
            entry(m)  # unknown model names fail here, with suggestions
        for s in self.starts:
            _one_of("start", s, STARTS)
        for w in self.weightings:
            _one_of("class weighting", w, SCHEMES)
        for t in self.train_sets:
            parse_train_set(t)
        check_profile(self.profile)
        for r in self.resolutions:
            if not isinstance(r, int) or isinstance(r, bool) or r < 8:
                raise ValueError(f"BenchmarkSpec.resolutions: {r!r} is not an image size in pixels (>= 8)")
        reserved = {"model", "img_size", "class_weighting", "seed", "dataset", "profile", "data_seed"}
        if reserved & set(self.train):
            raise ValueError(f"BenchmarkSpec.train must not set {sorted(reserved & set(self.train))}: the "
                             f"specification's axes set them")
        for m, p in self.weight_files.items():
            entry(m)
            if not isinstance(p, (str, os.PathLike)):
                raise TypeError(f"BenchmarkSpec.weight_files[{m!r}] must be a path, got {p!r}")

    def rows(self) -> list[Row]:
        """Every combination, each with its configuration or the reason it is skipped (worked out once: finding
        whether pretrained weights are present builds the model)."""
        if "_rows" not in self.__dict__:
            combos = itertools.product(self.models, self.resolutions, self.starts, self.weightings,
                                       self.train_sets, self.seeds)
            object.__setattr__(self, "_rows", [self._row(*c) for c in combos])
        return list(self._rows)

    def _row(self, model, img_size, start, weighting, train_set, seed) -> Row:
        from fernb.models.registry import entry
        from fernb.train import TrainConfig

        base = Row(model, img_size, start, weighting, train_set, seed)
        e = entry(model)
        if img_size < e.min_img_size:
            return base.skip(f"{model} takes inputs of at least {e.min_img_size} px")
        weights, reason = start_weights(model, start, self.weight_files)
        if reason:
            return base.skip(reason)
        dataset, _ = parse_train_set(train_set)
        kwargs = {} if start == "scratch" else {"pretrained": weights}
        opts = {**self.train, "freeze_epochs": 0 if start == "scratch" else self.freeze_epochs}
        cfg = TrainConfig(model=model, img_size=img_size, class_weighting=weighting, seed=seed, dataset=dataset,
                          profile=self.profile, data_seed=self.data_seed, model_kwargs=kwargs, **opts)
        return Row(model, img_size, start, weighting, train_set, seed, cfg)


@dataclass(frozen=True)
class Row:
    model: str
    img_size: int
    start: str
    weighting: str
    train_set: str
    seed: int
    config: object = None
    skipped: str | None = None

    def skip(self, reason: str) -> Row:
        return Row(self.model, self.img_size, self.start, self.weighting, self.train_set, self.seed, None, reason)

    def key(self) -> dict:
        return {"model": self.model, "img_size": self.img_size, "start": self.start, "weighting": self.weighting,
                "train_set": self.train_set, "seed": self.seed}


def start_weights(model: str, start: str, weight_files: dict | None = None):
    """``(pretrained value, None)`` when ``start`` can be used for ``model`` on this machine, else ``(None, reason)``:
    nothing is downloaded (BTFER §III-E: ImageNet, VGGFace, or scratch)."""
    from fernb.models import create
    from fernb.models.pretrained import weights_load
    from fernb.models.registry import entry

    if start == "scratch":
        return False, None
    have = entry(model).pretrained
    if start == "imagenet":
        if "imagenet" not in have:
            return None, f"{model} has no ImageNet weights (BTFER trains it from scratch)"
        found = weights_load(lambda: create(model, img_size=224, pretrained="imagenet"), offline=True)
        absent = "needs its ImageNet weights in the local timm/torchvision cache (none here; nothing is downloaded)"
        return ("imagenet", None) if found else (None, absent)
    if start.endswith("-analogue"):  # pretrained here on first use, into the same weight-file path
        if "file" not in have:
            return None, f"{model} takes no weight file, so no {start} start"
        return start, None
    if "file" not in have:
        return None, f"{model} has no VGGFace/VGGFace2 start in BTFER"
    path = Path((weight_files or {}).get(model) or paths.home() / "weights" / f"{model}-vggface.pt").expanduser()
    if not path.is_file():
        return None, (f"needs a VGGFace weight file converted to PyTorch at {paths.shown(path)} "
                      f"(keras-vggface, BTFER [29]; none is shipped or downloaded)")
    return str(path), None


# ---- training labels of different quality (Experiment 3) --------------------------------------------------------

def training_labels(ds, quality: str, seed: int = 0):
    """The labels a SynthFER training set is trained on, one per record (``None``: the published ones).

    ``plurality``: the published label, the plurality of the 10 crowd votes (SynthFER publishes it as RAF-DB publishes
    its crowd's); ``true``: the latent expression the face was rendered with; ``one_annotator``: one of each image's
    votes drawn at random (seeded by ``seed``), a single annotator's label as in FER2013-like labelling."""
    if quality == "plurality":
        return None
    if quality == "true":
        if "true_label" not in ds.records:
            raise ValueError(f"label quality 'true' needs the latent labels; dataset {ds.name!r} has none")
        return ds.records["true_label"].to_numpy().astype(np.int64)
    if quality == "one_annotator":
        from fernb.annotate.aggregators import dataset_votes

        votes, _ = dataset_votes(ds)
        order = np.random.default_rng(seed).permutation(len(votes.image))
        images, first = np.unique(votes.image[order], return_index=True)
        labels = np.empty(votes.n_images, np.int64)
        labels[images] = votes.label[order][first]
        return labels
    raise ValueError(f"label quality {quality!r} is unknown; expected one of {LABEL_QUALITIES}")


def label_noise(ds, seed: int = 0) -> pd.Series:
    """Share of training labels that differ from the latent truth, per label quality (what Experiment 3 varies)."""
    truth = ds.records["true_label"].to_numpy()
    train = ds.split("train")
    out = {}
    for q in LABEL_QUALITIES:
        labels = training_labels(ds, q, seed)
        labels = ds.records["label"].to_numpy() if labels is None else labels
        out[q] = float((labels[train] != truth[train]).mean())
    return pd.Series(out, name="label_noise")


# ---- running and resuming ---------------------------------------------------------------------------------------

def _trainer(row: Row, data_root, device, runs_root, progress, callbacks=(), report=None):
    from fernb.data import load_dataset
    from fernb.train import Trainer

    dataset, quality = parse_train_set(row.train_set)
    labels = None
    if quality != "plurality":
        ds = load_dataset(dataset, data_root, profile=row.config.profile, seed=row.config.data_seed, progress=False)
        labels = training_labels(ds, quality, row.seed)
    return Trainer(row.config, data_root, device, runs_root, progress, labels, callbacks=callbacks, report=report)


def _state(folder: Path) -> str:
    status = folder / "status"
    if status.exists() and status.read_text().strip() == "done":
        return "done"
    return "partial" if (folder / "checkpoint.pt").exists() else "pending"


def plan(spec: BenchmarkSpec, data_root=None, runs_root=None) -> pd.DataFrame:
    """Every row with its state in the results registry, without training: ``done`` (found, not retrained),
    ``partial`` (resumes from its last checkpoint), ``pending`` or ``skipped`` (with the reason)."""
    out = []
    for row in spec.rows():
        if row.skipped:
            out.append({**row.key(), "state": "skipped", "note": row.skipped})
            continue
        trainer = _trainer(row, data_root, "cpu", runs_root, False)
        trainer.locate()
        out.append({**row.key(), "state": _state(trainer.folder), "note": "", "run": trainer.folder.name})
    return pd.DataFrame(out)


@dataclass
class BenchmarkResult:
    """The rows of a benchmark (``table``: one row per specification row, with what happened) and their runs."""

    table: pd.DataFrame
    runs: dict  # row index in ``table`` -> Run
    evaluations: dict = field(default_factory=dict)  # row index -> Evaluation on the balanced test set

    def run(self, **where):
        """The one run whose row matches ``where`` (e.g. ``model="btfer_lenet5", weighting="simple"``)."""
        t = self.table
        mask = np.ones(len(t), bool)
        for k, v in where.items():
            mask &= (t[k] == v).to_numpy()
        hits = [i for i in np.flatnonzero(mask) if i in self.runs]
        if len(hits) != 1:
            raise KeyError(f"{len(hits)} trained rows match {where}")
        return self.runs[hits[0]]


def run_benchmark(spec: BenchmarkSpec, data_root=None, device="auto", runs_root=None, progress: bool = False,
                  callbacks=(), report=None) -> BenchmarkResult:
    """Train every row that is not finished (rows already in the registry are found, a begun row resumes from its
    checkpoint) and collect the runs. ``state`` says what happened: ``found``, ``resumed``, ``trained``, ``skipped``.
    ``callbacks`` reach every training (e.g. :class:`~fernb.train.StopAfterEpoch` to simulate a crash); ``report``
    is the chapter's report folder (``ch.report_dir``): every run, trained or found, is noted there (its
    ``runs.jsonl``, which ``--record`` keeps)."""
    from fernb.models import create

    out, runs = [], {}
    for row in spec.rows():
        rec = {**row.key(), "params_m": _params_m(create, row), "state": "skipped", "note": row.skipped or ""}
        if not row.skipped:
            trainer = _trainer(row, data_root, device, runs_root, progress, callbacks, report)
            trainer.locate()
            before = _state(trainer.folder)
            run = trainer.fit()
            rec.update(state={"done": "found", "partial": "resumed"}.get(before, "trained"),
                       val_acc=_best_val(run), in_domain_acc=run.metrics["accuracy"],
                       in_domain_true_acc=run.metrics.get("accuracy_vs_true_label", np.nan),
                       train_s=run.metrics["train_seconds"], run=run.dir.name)
            runs[len(out)] = run
        out.append(rec)
    columns = [*Row("", 0, "", "", "", 0).key(), "params_m", "state", "note", "val_acc", "in_domain_acc",
               "in_domain_true_acc", "train_s", "run"]
    return BenchmarkResult(pd.DataFrame(out).reindex(columns=columns), runs)


def combine(results) -> BenchmarkResult:
    """Several results as one (their tables stacked, runs and evaluations re-indexed to match), each run once: a
    row whose run an earlier row already holds (one run asked by two questions) is dropped."""
    tables, runs, evaluations, offset = [], {}, {}, 0
    for r in results:
        tables.append(r.table)
        runs.update({i + offset: run for i, run in r.runs.items()})
        evaluations.update({i + offset: ev for i, ev in r.evaluations.items()})
        offset += len(r.table)
    table = pd.concat(tables, ignore_index=True)
    if "run" not in table:
        return BenchmarkResult(table, runs, evaluations)
    keep = table.index[~(table["run"].notna() & table["run"].duplicated())]
    new = dict(zip(keep, range(len(keep))))
    return BenchmarkResult(table.loc[keep].reset_index(drop=True), {new[i]: r for i, r in runs.items() if i in new},
                           {new[i]: e for i, e in evaluations.items() if i in new})


def _params_m(create, row: Row) -> float:
    import torch

    with torch.device("meta"):
        model = create(row.model, img_size=row.img_size)
    return sum(p.numel() for p in model.parameters()) / 1e6


def _best_val(run) -> float:
    """BTFER's validation accuracy: the best epoch's, the one its checkpoint keeps (§III-F)."""
    vals = [h["val_acc"] for h in run.history if "val_acc" in h]
    return float(max(vals)) if vals else float("nan")


