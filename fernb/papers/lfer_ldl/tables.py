"""The chapter's tables: the balance sweep (Figs. 6-7), Table 4 beside ours, the LDL step per seed, the KL-target
controls and Tables 1-3 with our network as the last row."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from fernb.papers.lfer_ldl.paper import PAPER_TABLES, TABLE_4, paper_dataset


def accuracies(runs) -> np.ndarray:
    """Test accuracies (%) of finished runs."""
    return np.array([100 * r.metrics["accuracy"] for r in runs], np.float64)


def learned(runs) -> bool:
    """Whether every one of ``runs`` learned something (:attr:`fernb.train.run.Run.informative`)."""
    return all(r.informative["informative"] for r in runs)


def network(runs) -> str:
    """The network ``runs`` trained, as the page names it: LFER-LDL's own, or the profile's stand-in student
    (:func:`~.recipes.stand_in`) with its resolution, so no stand-in number reads as the paper's network."""
    c = runs[0].config
    return "LFER-LDL's network" if c.model == "lfer_ldl" else f"{c.model} stand-in at {c.img_size} px"


def _mean_sd(acc: np.ndarray) -> tuple[float, float | None]:
    return float(acc.mean()), (float(acc.std(ddof=1)) if len(acc) > 1 else None)


def sweep_table(by_coefficient: dict) -> pd.DataFrame:
    """Accuracy against the balance coefficient (Figs. 6-7): mean and sd over the seeds trained at each value."""
    rows = []
    for beta, runs in sorted(by_coefficient.items()):
        acc = accuracies(runs)
        mean, sd = _mean_sd(acc)
        rows.append({"beta": beta, "accuracy (%)": mean, "sd": sd, "seeds": len(acc)})
    return pd.DataFrame(rows).set_index("beta")


def peak_effect(by_coefficient: dict, dataset: str) -> list[float] | None:
    """Per seed: accuracy at the paper's peak coefficient (:func:`~.paper.peak_beta`) minus the mean over the
    sweep's other values, for the seeds trained at every value (the claim of Figs. 6-7); ``None`` when fewer than
    three values or two such seeds ran (quick's two peaks, one seed off the peak)."""
    from fernb.papers.lfer_ldl.paper import peak_beta

    peak = peak_beta(dataset)
    by_seed = {b: {r.config.seed: 100 * r.metrics["accuracy"] for r in runs} for b, runs in by_coefficient.items()}
    if peak not in by_seed or len(by_seed) < 3:
        return None
    seeds = sorted(set.intersection(*(set(v) for v in by_seed.values())))
    if len(seeds) < 2:
        return None
    return [by_seed[peak][s] - float(np.mean([v[s] for b, v in by_seed.items() if b != peak])) for s in seeds]


@functools.cache
def complexity(model: str, img_size: int = 224) -> dict:
    """Parameters (M) and the paper's FLOPs (2 x MACs, M) of a registry model."""
    from fernb.eval.complexity import model_complexity

    c = model_complexity(model, img_size=img_size)
    return {"params (M)": round(c["params_m"], 3), "FLOPs (M)": round(2 * c["macs_m"], 2)}


def ablation_table(runs_by_row: dict, dataset: str) -> pd.DataFrame:
    """Table 4 beside ours: the paper's parameters, FLOPs and accuracy (RAF-DB) and ours at 224 x 224, with each
    row's step over the row above (ours where both rows ran and the row above learned: a step measured from a
    network that learned nothing is left out); rows without runs show no accuracy."""
    rows = []
    prev_paper = prev_ours = None
    for name, r in TABLE_4.iterrows():
        ours = complexity(r["model"])
        runs = runs_by_row.get(name, [])
        mean, sd = _mean_sd(accuracies(runs)) if runs else (None, None)
        rows.append({"row": name, "paper params (M)": r["params (M)"], "ours params (M)": ours["params (M)"],
                     "paper FLOPs (M)": r["FLOPs (M)"], "ours FLOPs (M)": ours["FLOPs (M)"],
                     "paper acc. (RAF-DB, %)": r["accuracy (%)"],
                     "paper step": None if prev_paper is None else round(r["accuracy (%)"] - prev_paper, 2),
                     "ours network": network(runs) if runs else None,
                     f"ours acc. ({dataset}, %)": mean, "ours sd": sd, "seeds": len(runs),
                     "ours step": None if mean is None or prev_ours is None else mean - prev_ours})
        prev_paper, prev_ours = r["accuracy (%)"], (mean if runs and learned(runs) else None)
    return pd.DataFrame(rows).set_index("row")


def ldl_gain(ablated: dict, dataset: str) -> pd.DataFrame:
    """The last step of Table 4 per seed: the same network and seed with and without the teacher's distributions
    (points of test accuracy), one column per seed."""
    seeds = [r.config.seed for r in ablated[TABLE_4.index[2]]]
    table = pd.DataFrame({f"seed {s}": {"LDL gain (points)": g} for s, g in zip(seeds, ldl_effect(ablated))})
    table.columns.name = dataset
    return table


def ldl_effect(ablated: dict) -> list[float]:
    """The LDL step of Table 4 per seed (points): the same network and seed with minus without the teacher's
    distributions; the per-seed effect behind the verdict on ``lferldl-t4``'s claim."""
    without, with_ = TABLE_4.index[2], TABLE_4.index[3]
    return list(accuracies(ablated[with_]) - accuracies(ablated[without]))


def targets_table(targets: dict, dataset: str) -> pd.DataFrame:
    """Test accuracy (%) of the students of :func:`~.experiments.kl_targets`: one row per KL target, one column
    per seed (to 0.01 points: a guarded row makes the columns text)."""
    table = pd.DataFrame({name: {f"seed {r.config.seed}": round(100 * r.metrics["accuracy"], 2) for r in runs}
                          for name, runs in targets.items()}).T
    table.columns.name = f"test accuracy (%, {dataset})"
    return table


CONTROL_PAIRS = (("teacher", "none (combo loss only)"), ("label smoothing", "none (combo loss only)"),
                 ("true blend", "none (combo loss only)"), ("teacher", "label smoothing"),
                 ("teacher", "true blend"))
"""The paired comparisons of the KL-target students: each dense target over the combo loss alone, and the
teacher's distributions over each target that lacks (smoothing) or is (the true blends) the faces' ambiguity."""


def paired_gaps(targets: dict, pairs=CONTROL_PAIRS) -> pd.DataFrame:
    """Per-seed paired differences of test accuracy (points) between the students of
    :func:`~.experiments.kl_targets` (``target -> runs``): one row per seed both targets trained, one column
    ``"a − b"`` per pair of ``pairs`` whose targets both ran. Read it with :func:`fernb.eval.metrics.beyond_noise`."""
    by_seed = {name: {r.config.seed: 100 * r.metrics["accuracy"] for r in runs} for name, runs in targets.items()}
    cols = {}
    for a, b in pairs:
        if a in by_seed and b in by_seed:
            cols[f"{a} − {b}"] = {f"seed {s}": by_seed[a][s] - by_seed[b][s]
                                  for s in sorted(set(by_seed[a]) & set(by_seed[b]))}
    table = pd.DataFrame(cols)
    table.index.name = "paired difference (points)"
    return table


def comparison_table(paper_ds: str, accuracy: float | None, dataset: str, img_size: int = 224,
                     model: str = "lfer_ldl") -> pd.DataFrame:
    """Tables 1-3: the paper's rows on ``paper_ds`` and our measured network (``model``: LFER-LDL's, or a
    profile's stand-in student) as the last row (size at ``img_size``; ``accuracy`` on ``dataset`` in a column of
    its own, left out when ``None``)."""
    if paper_ds not in PAPER_TABLES:
        raise ValueError(f"paper_dataset={paper_ds!r}; the paper's tables are for {list(PAPER_TABLES)}")
    name, table = PAPER_TABLES[paper_ds]
    t = table.rename(columns={"accuracy (%)": f"accuracy (%, {paper_ds})"})
    t.insert(0, "from", f"paper, {name}")
    ours = ({"method": "LFER-LDL (ours)", "source": f"our network at {img_size}x{img_size}"} if model == "lfer_ldl"
            else {"method": f"{model} + LDL (stand-in)",
                  "source": f"stand-in student at {img_size}x{img_size}, not LFER-LDL's network"})
    ours = {"from": "measured here", **ours, **complexity(model, img_size)}
    t = pd.concat([t, pd.DataFrame([ours])], ignore_index=True)
    if accuracy is not None:
        t[f"accuracy (%, {dataset})"] = [None] * (len(t) - 1) + [accuracy]
    return t.set_index("method")


def comparison_tables(dataset: str, label: str, peak: list) -> dict:
    """Tables 1-3 titled as the paper numbers them; our mean accuracy at the peak (``peak``: its runs) joins the
    table of the paper's dataset that ``dataset`` stands beside."""
    ours, mine, c = accuracies(peak).mean(), paper_dataset(dataset), peak[0].config
    size = {} if c.model == "lfer_ldl" else {"img_size": c.img_size, "model": c.model}
    return {f"{PAPER_TABLES[name][0]}: {name}": comparison_table(name, ours if name == mine else None, label, **size)
            for name in PAPER_TABLES}
