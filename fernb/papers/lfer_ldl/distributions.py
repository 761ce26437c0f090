"""Label distributions (LFER-LDL §1.3) and what SynthFER lets us measure beyond the paper: the teacher's
distributions scored against each face's true blend, beside label-smoothing and label-conditional baselines."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from fernb.train.losses import load_teacher

SMOOTHING = "label smoothing (0.1)"
ORACLE = "label-conditional (oracle)"
SMOOTHING_EPS = 0.1


def teacher_distributions(run, path) -> Path:
    """A trained run's predicted distribution for every record of its dataset, in record order, saved as ``path``
    (.npy): the label distributions ``loss="kl_teacher"`` learns from (§1.3: the teacher's softmax output)."""
    probs = run.predict(np.arange(len(run.dataset().records)))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, (probs / probs.sum(1, keepdims=True)).astype(np.float32))
    return path


def save_distributions(d: np.ndarray, path, num_classes: int | None = None) -> Path:
    """Write distributions for ``loss='kl_teacher'`` and read them back through the trainer's own check."""
    d = np.asarray(d, np.float64)
    d = d / d.sum(1, keepdims=True)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, d.astype(np.float32))
    load_teacher(path, len(d), num_classes or d.shape[1])
    return path


def has_true_blends(records: pd.DataFrame) -> bool:
    """Whether the records carry SynthFER's true blends and clarity (real datasets do not)."""
    return {"true_label", "blend_label", "blend_weight", "clarity"} <= set(records.columns)


def true_blend_distributions(records: pd.DataFrame, num_classes: int = 7) -> np.ndarray:
    """SynthFER's true label distribution of every record: weight 1 - w on the true expression and w on the blended
    one (``blend_label``, ``blend_weight``), one-hot where the face is not a blend."""
    need = ("true_label", "blend_label", "blend_weight")
    missing = [c for c in need if c not in records.columns]
    if missing:
        raise ValueError(f"records lack {missing}: true blends exist only for SynthFER datasets (synth-raf, ...)")
    n = len(records)
    d = np.zeros((n, num_classes), np.float64)
    w = records["blend_weight"].to_numpy(np.float64)
    partner = records["blend_label"].to_numpy()
    d[np.arange(n), records["true_label"].to_numpy()] = 1.0
    blended = partner >= 0
    d[blended] *= (1 - w[blended])[:, None]
    d[np.flatnonzero(blended), partner[blended]] += w[blended]
    return d


def smoothed_labels(labels, num_classes: int = 7, eps: float = SMOOTHING_EPS) -> np.ndarray:
    """Label smoothing as a distribution: 1 - eps + eps/K on the label, eps/K elsewhere."""
    if not 0 <= eps < 1:
        raise ValueError(f"eps={eps!r}: label smoothing must be in [0, 1)")
    labels = np.asarray(labels)
    d = np.full((len(labels), num_classes), eps / num_classes)
    d[np.arange(len(labels)), labels] += 1 - eps
    return d


def label_conditional(truth: np.ndarray, labels, rows, eps: float = 1e-3) -> np.ndarray:
    """The best distribution that knows only the label: the mean true distribution of the ``rows`` with each label
    (an oracle of the dataset's confusion structure, not of the image), lightly smoothed."""
    labels = np.asarray(labels)
    k = truth.shape[1]
    means = np.full((k, k), 1.0 / k)
    for c in range(k):
        sel = rows[labels[rows] == c]
        if len(sel):
            means[c] = truth[sel].mean(0)
    means = (1 - eps) * means + eps / k
    return means[labels]


def kl_rows(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """KL(p || q) of each row, in nats (0 log 0 = 0)."""
    q = np.clip(q, 1e-8, None)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * (np.log(np.clip(p, 1e-12, None)) - np.log(q)), 0.0)
    return terms.sum(1)


def entropy(d: np.ndarray) -> np.ndarray:
    return -(np.clip(d, 1e-12, None) * np.log(np.clip(d, 1e-12, None))).sum(1)


def _second(d: np.ndarray) -> np.ndarray:
    """The second most likely class of each row (-1 where the top two tie, as for smoothed labels)."""
    order = np.argsort(-d, axis=1, kind="stable")
    second = order[:, 1].copy()
    tie = np.isclose(d[np.arange(len(d)), order[:, 1]], d[np.arange(len(d)), order[:, 2]])
    second[tie] = -1
    return second


def _spearman(a, b) -> float | None:
    if len(a) < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return None
    return float(spearmanr(a, b).statistic)


def distribution_report(sources: dict, records: pd.DataFrame, rows, num_classes: int = 7) -> pd.DataFrame:
    """How well each source of label distributions (name -> (records, K) array) matches SynthFER's true blends on
    ``rows``: mean KL(true || source) over all rows and over the blended ones; how often the source's second most
    likely class is the true blend partner (ties count as misses: chance is 1/6); the rank correlation of the
    probability on the partner with the blend weight; and of the entropy with the image's clarity."""
    truth = true_blend_distributions(records, num_classes)
    rows = np.asarray(rows)
    partner = records["blend_label"].to_numpy()[rows]
    blended = partner >= 0
    clarity = records["clarity"].to_numpy()[rows]
    out = []
    for name, d in sources.items():
        d = np.asarray(d, np.float64)
        if d.shape != truth.shape:
            raise ValueError(f"distributions {name!r} have shape {d.shape}; expected {truth.shape}, one row per "
                             f"record of the dataset")
        dr, tr = d[rows], truth[rows]
        kl = kl_rows(tr, dr)
        br = np.flatnonzero(blended)
        out.append({
            "source": name,
            "KL(true || d), all": kl.mean(),
            "KL(true || d), blends": kl[br].mean() if len(br) else None,
            "2nd class = partner": (_second(dr[br]) == partner[br]).mean() if len(br) else None,
            "rho(p_partner, weight)": _spearman(dr[br, partner[br]], records["blend_weight"].to_numpy()[rows][br]),
            "rho(entropy, clarity)": _spearman(entropy(dr), clarity),
        })
    return pd.DataFrame(out).set_index("source")


def paired_gap(truth: np.ndarray, a: np.ndarray, b: np.ndarray, rows, n_boot: int = 1000, seed: int = 0) -> dict:
    """Mean over ``rows`` of KL(true || a) - KL(true || b), with a 95 % bootstrap interval over images."""
    rows = np.asarray(rows)
    diff = kl_rows(truth[rows], a[rows]) - kl_rows(truth[rows], b[rows])
    rng = np.random.default_rng(seed)
    boots = diff[rng.integers(0, len(diff), (n_boot, len(diff)))].mean(1)
    lo, hi = np.percentile(boots, [2.5, 97.5])
    return {"mean": float(diff.mean()), "ci_low": float(lo), "ci_high": float(hi), "images": len(rows)}


def ambiguous_examples(teacher: np.ndarray, records: pd.DataFrame, rows, k: int = 4) -> np.ndarray:
    """``k`` blended records among ``rows`` with the strongest blends, then the highest teacher entropy (the
    highest entropy alone where the records know no blends)."""
    rows = np.asarray(rows)
    blended = rows[records["blend_label"].to_numpy()[rows] >= 0] if has_true_blends(records) else rows[:0]
    if not len(blended):
        return rows[np.argsort(-entropy(teacher[rows]))[:k]]
    w = records["blend_weight"].to_numpy()[blended]
    strong = blended[np.argsort(-w, kind="stable")[:4 * k]]
    return strong[np.argsort(-entropy(teacher[strong]), kind="stable")[:k]]


def teacher_vs_truth(dists: list, records: pd.DataFrame, train_rows, test_rows, seeds, num_classes: int = 7):
    """:func:`distribution_report` of the first teacher and its baselines on the train and test rows, and every
    teacher's paired KL gap to each baseline on all faces and on the blended ones (our test of §1.3's premise
    that the teacher's output is each image's true distribution)."""
    truth = true_blend_distributions(records, num_classes)
    labels = records["label"].to_numpy()
    base = {SMOOTHING: smoothed_labels(labels, num_classes, SMOOTHING_EPS),
            ORACLE: label_conditional(truth, labels, np.asarray(train_rows)),
            "uniform": np.full_like(truth, 1 / num_classes)}
    splits = {"train": np.asarray(train_rows), "test": np.asarray(test_rows)}
    report = pd.concat({s: distribution_report({"teacher": dists[0], **base}, records, rows, num_classes)
                        for s, rows in splits.items()}, names=["split"])
    blended = records["blend_label"].to_numpy() >= 0
    gaps = []
    for seed, d in zip(seeds, dists):
        for split, rows in splits.items():
            for faces, sel in (("all", rows), ("blends", rows[blended[rows]])):
                for name in (SMOOTHING, ORACLE):
                    g = paired_gap(truth, d, base[name], sel, seed=seed)
                    gaps.append({"teacher seed": seed, "split": split, "faces": faces, "minus": name, **g})
    return report, pd.DataFrame(gaps).set_index(["teacher seed", "split", "faces", "minus"])
