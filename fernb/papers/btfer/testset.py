"""BTFER's balanced test set (§II: 2,100 faces, 7 × 300, from a domain no training set shares) and the score of a
benchmark's runs on it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from fernb import paths
from fernb.papers.btfer.spec import BenchmarkResult

@dataclass
class TestSet:
    """A balanced test set: ``dataset`` with the record ``rows`` it uses and their labels ``y``."""

    dataset: object
    rows: np.ndarray
    y: np.ndarray
    title: str

    def counts(self) -> pd.Series:
        names = self.dataset.class_names
        return pd.Series(np.bincount(self.y, minlength=len(names)), index=list(names), name="images")


def balanced_test_set(btfer_root=None, profile: str = "quick", per_class: int = 300, seed: int = 0,
                      domain: str = "synth-infer", data_root=None, trained_on: str | None = None) -> TestSet:
    """BTFER's balanced in-the-wild test set: the reader's copy under ``btfer_root`` (2,100 faces, 7 × 300, checked),
    or on SynthFER ``per_class`` images of each expression of the ``domain`` set (synth-infer: other demographics,
    display style and capture than synth-raf), drawn by their latent true label and scored against it. The
    chapter never trains on ``domain``, so none of these images was seen in training. A real training set
    (``trained_on``) needs the real test set."""
    from fernb.data import load_dataset
    from fernb.data.manifest import load_manifest

    if btfer_root is None and trained_on is not None and load_manifest(trained_on)["kind"] != "synthetic":
        raise ValueError(f"dataset={trained_on!r} is a real training set: set btfer_root=<your copy of BTFER> "
                         f"(7 × 300 faces, one folder per class); the synthetic test set is for SynthFER")

    if btfer_root is not None:
        ds = load_dataset("btfer", btfer_root, progress=False)
        counts = np.bincount(ds.records["label"], minlength=7)
        if len(ds.records) != 2100 or (counts != 300).any():
            raise ValueError(f"btfer_root={paths.shown(btfer_root)!r} holds {len(ds.records)} faces with class counts "
                             f"{dict(zip(ds.class_names, counts.tolist()))}; BTFER is 7 × 300 (BTFER Table 1)")
        rows = np.arange(len(ds.records))
        return TestSet(ds, rows, ds.records["label"].to_numpy()[rows], "BTFER (7 × 300)")
    if not isinstance(per_class, int) or per_class < 1:
        raise ValueError(f"per_class must be a positive integer, got {per_class!r}")
    ds = load_dataset(domain, data_root, profile=profile, seed=seed, progress=False)
    truth = ds.records["true_label"].to_numpy()
    have = np.bincount(truth, minlength=7)
    if have.min() < per_class:
        raise ValueError(f"{domain} ({profile}) has only {have.min()} images of "
                         f"{ds.class_names[int(have.argmin())]}; ask for per_class <= {have.min()}")
    rng = np.random.default_rng(seed)
    rows = np.sort(np.concatenate([rng.choice(np.flatnonzero(truth == c), per_class, replace=False)
                                   for c in range(7)]))
    return TestSet(ds, rows, truth[rows], f"SynthFER {domain}, balanced {per_class} × 7, true labels")


def score_on_balanced_test(result: BenchmarkResult, test: TestSet) -> BenchmarkResult:
    """Each trained row's accuracy on the balanced test set (``test_acc``, BTFER §II), through the run's own
    preprocessing, and whether the run is ``informative`` there (it predicts at least three classes and beats the
    largest class's share by more than 2 points: DESIGN.md); the evaluations (for the confusion-matrix explorer)
    are kept in ``result.evaluations``."""
    from sklearn.metrics import confusion_matrix

    from fernb.eval import Evaluation
    from fernb.eval.metrics import informative

    table = result.table.copy()
    table["test_acc"] = np.nan
    table["informative"] = pd.Series([None] * len(table), index=table.index, dtype=object)
    k = len(test.dataset.class_names)
    evaluations = {}
    for i, run in result.runs.items():
        probs = run.predict(test.rows, dataset=test.dataset)
        ev = Evaluation(_label(table.loc[i]), test.y, probs, test.dataset.class_names, test.dataset, test.rows,
                        note=test.title)
        pred = probs.argmax(1)
        acc = float((pred == test.y).mean())
        table.loc[i, "test_acc"] = acc
        table.at[i, "informative"] = informative(confusion_matrix(test.y, pred, labels=range(k)))["informative"]
        evaluations[i] = ev
    return BenchmarkResult(table, result.runs, evaluations)


def _label(row) -> str:
    return f"{row['model']} {row['img_size']}px {row['start']} {row['weighting']} {row['train_set']} s{row['seed']}"
