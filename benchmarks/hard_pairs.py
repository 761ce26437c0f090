"""Where the hard pairs stand among the confusions of models trained on SynthFER.

    python benchmarks/hard_pairs.py [--results results] [--runs-root PATH] [--dataset synth-raf]

The pairs are issue 29's: fear read as surprise and disgust read as anger. Of the four papers only InFER++ names
one of them (§III-E: "sadness and fear, anger and disgust, and happiness and surprise were often confused",
:data:`fernb.papers.infer.cross.PAPER_CONFUSIONS`); fear/surprise is the pair the two expressions' shared action
units (brows raised, upper lids raised, jaw dropped; :mod:`fernb.data.synth.facs`) make likely, not a paper's claim.
This reads every run's test confusion matrix under ``--results`` (the recorded
``results/<chapter>/<profile>/runs/``) and, with ``--runs-root``, a live runs folder too; keeps the runs that
learned something (:func:`fernb.eval.metrics.informative`) on ``--dataset``; turns each matrix into rates
(:func:`fernb.eval.metrics.confusion_rates`) and averages them. It prints, for each true class, its three
largest confusions by rate with the spread over runs, and whether each hard pair is that class's largest. It
trains nothing and needs no data: the matrices are in the runs' metrics.
"""

import argparse
import json
from pathlib import Path

import numpy as np

from fernb.eval.metrics import confusion_rates, informative
from fernb.labels import EXPRESSIONS

HARD_PAIRS = (("fear", "surprise"), ("disgust", "anger"))
"""The papers' hard pairs, as (true expression, the expression it is read as)."""


def rate_matrices(folders, dataset: str) -> dict[tuple, np.ndarray]:
    """Row-normalised test confusions of the informative runs trained on ``dataset`` (their ``config.json``
    says so) anywhere under ``folders``, as {class names: (runs, k, k)}; runs over different class sets (the
    cross-dataset study's six shared classes, the seven basic ones) are kept apart."""
    groups: dict[tuple, list] = {}
    for metrics in sorted(m for folder in folders for m in Path(folder).rglob("metrics.json")):
        config = metrics.with_name("config.json")
        if not config.exists():
            continue
        saved = json.loads(config.read_text())
        if saved.get("config", saved).get("dataset") != dataset:
            continue
        found = json.loads(metrics.read_text())
        cm = np.asarray(found.get("confusion_matrix", []), dtype=float)
        names = tuple(found.get("per_class_accuracy") or EXPRESSIONS)
        if cm.ndim != 2 or cm.shape != (len(names),) * 2 or not informative(cm)["informative"]:
            continue
        groups.setdefault(names, []).append(confusion_rates(cm))
    if not groups:
        where = ", ".join(map(str, folders))
        raise SystemExit(f"no informative {dataset} run with a confusion matrix under {where}")
    return {names: np.stack(r) for names, r in groups.items()}


def report(names: tuple, rates: np.ndarray) -> list[str]:
    """Lines: each class's three largest confusions (mean ± sd over runs), then each hard pair's place."""
    k = len(names)
    mean = rates.mean(0)
    sd = rates.std(0, ddof=1) if len(rates) > 1 else np.zeros((k, k))
    lines = [f"{len(rates)} informative runs over {k} classes; rate = share of a class's test faces read as "
             "another"]
    for i, name in enumerate(names):
        off = [j for j in np.argsort(-mean[i], kind="stable") if j != i][:3]
        parts = ", ".join(f"{names[j]} {mean[i, j]:.3f} ± {sd[i, j]:.3f}" for j in off)
        lines.append(f"  {name:9s} -> {parts}")
    for true, read in HARD_PAIRS:
        if true not in names or read not in names:
            lines.append(f"{true} -> {read}: not both among these classes")
            continue
        i, j = names.index(true), names.index(read)
        row = mean[i].copy()
        row[i] = -1
        place = int((row > row[j]).sum()) + 1
        off = rates[:, i, :] * (1 - np.eye(k)[i])
        lines.append(f"{true} -> {read}: rate {mean[i, j]:.3f}, {place} of {k - 1} among {true}'s "
                     f"confusions; the largest in {(off.argmax(1) == j).sum()} of {len(rates)} runs")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", default="results", help="recorded results (results/<chapter>/<profile>/runs)")
    ap.add_argument("--runs-root", default=None, help="a live runs folder as well (e.g. $FERNB_HOME/runs)")
    ap.add_argument("--dataset", default="synth-raf", help="the training set whose runs are read")
    args = ap.parse_args()
    folders = [Path(args.results)] + ([Path(args.runs_root)] if args.runs_root else [])
    for names, rates in rate_matrices(folders, args.dataset).items():
        print("\n".join(report(names, rates)))


if __name__ == "__main__":
    main()
