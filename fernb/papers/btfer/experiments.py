"""The six experiments of BTFER §IV read from a benchmark's table (one row per specification row, with ``val_acc``
and ``test_acc``): Tables 2-3 beside the paper, the weighting gap, label quality, resolution, size and the best
model per resolution."""

from __future__ import annotations

import numpy as np
import pandas as pd

from fernb.papers.btfer.spec import LABEL_QUALITIES, parse_train_set
from fernb.papers.btfer.tables import paper_tables

def _mean_over_seeds(table: pd.DataFrame, by: list) -> pd.DataFrame:
    done = table[table["state"] != "skipped"]
    return done.groupby(by, as_index=False).agg(params_m=("params_m", "first"), val_acc=("val_acc", "mean"),
                                                 test_acc=("test_acc", "mean"), seeds=("seed", "nunique"))


def _wide(df: pd.DataFrame, index: list, values: dict) -> pd.DataFrame:
    """One column per (value, weighting): ``{"val_acc": "val"}`` -> ``val_simple``, ``val_conservative``."""
    wide = df.pivot_table(index=index, columns="weighting", values=list(values))
    wide.columns = [f"{values[v]}_{w}" for v, w in wide.columns]
    return wide.reset_index()


def beside_paper(table: pd.DataFrame, img_size: int, paper_dataset: str = "RAF-DB",
                 train_set: str | None = None) -> pd.DataFrame:
    """BTFER Table 2 (48) or 3 (224), every paper row for ``paper_dataset`` with ours beside it: validation and
    balanced-test accuracy per weighting (mean over seeds) of our rows of the same model and start (a paper row
    whose start the paper does not name takes any of ours), ``NaN`` where we trained none."""
    sub = table[(table["img_size"] == img_size) & (table["state"] != "skipped")]
    if train_set is not None:
        sub = sub[sub["train_set"] == train_set]
    cols = ["val_simple", "test_simple", "val_conservative", "test_conservative"]
    ours = (_wide(_mean_over_seeds(sub, ["model", "start", "weighting"]), ["model", "start", "params_m"],
                  {"val_acc": "val", "test_acc": "test"}) if len(sub) else
            pd.DataFrame(columns=["model", "start", "params_m", *cols]))
    paper = paper_tables()
    paper = paper[(paper["img_size"] == img_size) & (paper["paper_dataset"] == paper_dataset)]
    paper = paper.fillna({"start": "—", "model": "— (not built)"})
    order = list(dict.fromkeys(paper["paper_model"]))
    paper = _wide(paper, ["paper_model", "model", "start", "paper_params"],
                  {"paper_val_acc": "paper_val", "paper_test_acc": "paper_test"})
    rows = []
    for _, p in paper.iterrows():
        hit = ours[(ours["model"] == p["model"]) & ((p["start"] == "—") | (ours["start"] == p["start"]))]
        mine = [h.drop("model").to_dict() for _, h in hit.iterrows()] or [{"start": None}]
        rows += [{**p.to_dict(), "start": m.pop("start") or p["start"], **m} for m in mine]
    out = pd.DataFrame(rows).reindex(columns=["paper_model", "model", "start", "paper_params", "params_m", *cols,
                                              *[f"paper_{c}" for c in cols]])
    return out.sort_values("paper_model", key=lambda s: s.map(order.index), kind="stable").reset_index(drop=True)


def side_by_side(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`beside_paper`'s table as a page shows it: one row per paper model and start, columns grouped by
    weighting, ours (SynthFER) beside the paper's."""
    out = table.set_index(["paper_model", "start"])
    cols = {}
    for w in ("simple", "conservative"):
        for who, prefix in (("ours", ""), ("paper", "paper_")):
            for metric in ("val", "test"):
                cols[(w, f"{who} {metric}")] = out[f"{prefix}{metric}_{w}"]
    wide = pd.DataFrame(cols)
    wide.insert(0, ("size", "ours M"), out["params_m"])
    wide.insert(1, ("size", "paper"), out["paper_params"])
    if "learned?" in out:  # the guard's reason for a row whose runs learned nothing (ch.report)
        wide[("ours", "learned?")] = out["learned?"]
    wide.columns = pd.MultiIndex.from_tuples(wide.columns)
    return wide


def weighting_gap(table: pd.DataFrame) -> pd.DataFrame:
    """Experiment 4 (BTFER §IV-G): balanced-test accuracy with simple minus conservative weighting, paired by model,
    resolution, start, training set and seed; summarised for scratch and pretrained starts."""
    done = table[table["state"] != "skipped"]
    key = ["model", "img_size", "start", "train_set", "seed"]
    wide = done.pivot_table(index=key, columns="weighting", values="test_acc").dropna()
    if not {"simple", "conservative"} <= set(wide.columns):
        return pd.DataFrame(columns=["start_kind", "pairs", "mean_gap", "mean_abs_gap", "sd_gap", "beyond_noise"])
    gap = (wide["simple"] - wide["conservative"]).rename("gap").reset_index()
    gap["start_kind"] = np.where(gap["start"] == "scratch", "scratch", "pretrained")
    out = gap.groupby("start_kind").agg(pairs=("gap", "size"), mean_gap=("gap", "mean"),
                                        mean_abs_gap=("gap", lambda g: g.abs().mean()),
                                        sd_gap=("gap", "std")).reset_index()
    se = out["sd_gap"] / np.sqrt(out["pairs"])
    out["beyond_noise"] = (out["pairs"] > 1) & (out["mean_gap"].abs() > 2 * se)
    return out


def label_quality(table: pd.DataFrame, metric: str = "test_acc") -> pd.DataFrame:
    """Experiment 3 (BTFER §IV-F) as a controlled variable: ``metric`` (balanced-test accuracy, or
    ``in_domain_true_acc``: the training domain's test split scored against the true labels) per model and label
    quality (mean, sd over seeds), and the paired (same seed) gap of each quality to the true labels, flagged when
    it exceeds two standard errors of the paired gaps."""
    done = table[table["state"] != "skipped"].copy()
    done["quality"] = [parse_train_set(t)[1] for t in done["train_set"]]
    wide = done.pivot_table(index=["model", "img_size", "weighting", "seed"], columns="quality", values=metric)
    rows = []
    for (model, size, weighting), g in wide.groupby(level=[0, 1, 2]):
        for q in [q for q in LABEL_QUALITIES if q in g.columns]:
            gap = (g[q] - g["true"]) if "true" in g.columns else pd.Series(dtype=float)
            n = int(gap.notna().sum())
            se = gap.std() / np.sqrt(n) if n > 1 else np.nan
            rows.append({"model": model, "img_size": size, "weighting": weighting, "labels": q,
                         "seeds": int(g[q].notna().sum()), metric: g[q].mean(), "sd": g[q].std(),
                         "gap_to_true": gap.mean() if q != "true" else np.nan,
                         "gap_se": se if q != "true" else np.nan,
                         "beyond_noise": bool(n > 1 and abs(gap.mean()) > 2 * se) if q != "true" else None})
    return pd.DataFrame(rows)


def resolution_gap(table: pd.DataFrame, low: int, high: int) -> pd.DataFrame:
    """Experiment 5 (BTFER §IV-H): accuracy at ``high`` minus at ``low`` pixels, per model (mean over seeds)."""
    ours = _mean_over_seeds(table, ["model", "start", "weighting", "img_size"])
    wide = ours.pivot_table(index=["model", "start", "weighting"], columns="img_size", values=["val_acc", "test_acc"])
    if (("test_acc", low) not in wide.columns) or (("test_acc", high) not in wide.columns):
        return pd.DataFrame()
    out = pd.DataFrame({f"val_{low}": wide[("val_acc", low)], f"val_{high}": wide[("val_acc", high)],
                        f"test_{low}": wide[("test_acc", low)], f"test_{high}": wide[("test_acc", high)]})
    out["val_gain"] = out[f"val_{high}"] - out[f"val_{low}"]
    out["test_gain"] = out[f"test_{high}"] - out[f"test_{low}"]
    return out.dropna().reset_index()


def top_models(table: pd.DataFrame, img_size: int, n: int = 5) -> pd.DataFrame:
    """Experiment 2 (BTFER Tables 4-5): the ``n`` best rows at a resolution by validation accuracy, with their size."""
    ours = _mean_over_seeds(table[table["img_size"] == img_size], ["model", "start", "weighting", "train_set"])
    return ours.sort_values("val_acc", ascending=False).head(n).reset_index(drop=True)


def params_accuracy(table: pd.DataFrame) -> dict:
    """Experiment 2: Spearman's rank correlation of parameter count with balanced-test accuracy (all trained rows)."""
    from scipy.stats import spearmanr

    ours = _mean_over_seeds(table, ["model", "img_size", "start", "weighting", "train_set"])
    if len(ours) < 3:
        return {"rows": len(ours), "spearman": float("nan"), "p": float("nan")}
    rho, p = spearmanr(ours["params_m"], ours["test_acc"])
    return {"rows": len(ours), "spearman": float(rho), "p": float(p)}


def best_per_resolution(table: pd.DataFrame, small_m: float = 5.0) -> pd.DataFrame:
    """Experiment 6 (BTFER Table 6): per resolution the best row overall and the best under ``small_m`` million
    parameters (the edge choice), by balanced-test accuracy, beside the paper's picks."""
    ours = _mean_over_seeds(table, ["model", "img_size", "start", "weighting", "train_set"])
    rows = []
    for size, g in ours.groupby("img_size"):
        for pick, pool in (("best", g), (f"best under {small_m:g}M", g[g["params_m"] < small_m])):
            if len(pool):
                rows.append({"pick": pick, **pool.sort_values("test_acc", ascending=False).iloc[0].to_dict()})
    return pd.DataFrame(rows)


def starts_table(table: pd.DataFrame) -> pd.DataFrame:
    """Experiment 1 (BTFER §IV-D, Figs. 10-13): VGG16's rows per start and seed, with what a skipped start
    needs, whether the row learned (``informative`` on the balanced test set), and, for a start made here, how well
    it learned its own pretraining task (``pretrain_acc``: last-epoch training accuracy, beside ``chance``)."""
    cols = ["model", "img_size", "start", "weighting", "seed", "state", "note", "val_acc", "test_acc", "informative"]
    out = table[[c for c in cols if c in table]].copy()
    made = [_analogue_info(r["model"], r["start"], r["img_size"]) for _, r in out.iterrows()]
    out["pretrain_acc"] = [m["last_epoch_train_accuracy"] if m else np.nan for m in made]
    out["chance"] = [m["chance"] if m else np.nan for m in made]
    return out.set_index(["model", "img_size", "start", "weighting", "seed"])


def _analogue_info(model: str, start: str, img_size: int) -> dict | None:
    """What :func:`fernb.train.analogues.about` says of the start's weight file, if it is an analogue made here."""
    from fernb.train import analogues

    if start not in analogues.KINDS:
        return None
    path = analogues.weights_path(model, start, int(img_size))
    return analogues.about(path) if path.with_suffix(".json").is_file() else None


def label_noise_table(ch) -> pd.DataFrame | None:
    """Experiment 3's controlled variable: the share of the chapter's training labels that differ from the latent
    truth, per label quality (SynthFER only; ``None`` on a real dataset)."""
    if not ch.synthetic:
        return None
    from fernb.data import load_dataset
    from fernb.papers.btfer.spec import label_noise

    ds = load_dataset(ch.dataset, ch.data_root, profile=ch.profile, seed=ch.seed, progress=False)
    return label_noise(ds, ch.seed).to_frame("share of training labels wrong").T.round(3)


def class_weights_beside_paper(ch) -> pd.DataFrame | None:
    """Experiment 4's weights (BTFER §III-D, Figs. 6 and 9): simple ``max(n)/n_c`` and conservative (capped at 3)
    for the chapter's SynthFER training split, beside the ones BTFER prints for RAF-DB (``None`` on real data)."""
    if not ch.synthetic:
        return None
    from fernb.data import load_dataset
    from fernb.data.manifest import load_manifest
    from fernb.train.weighting import class_weights

    ds = load_dataset(ch.dataset, ch.data_root, profile=ch.profile, seed=ch.seed, progress=False)
    counts = ds.class_counts("train")
    printed = load_manifest("btfer")["printed_class_weights"]
    out = {f"SynthFER {w}": class_weights(counts.to_numpy(), w) for w in ("simple", "conservative")}
    out.update({f"BTFER {w} (RAF-DB)": [printed[w][c] for c in counts.index] for w in ("simple", "conservative")})
    return pd.DataFrame(out, index=counts.index).T.round(2)


def first_seed_evaluations(result, seed: int) -> list:
    """The balanced-test evaluations of ``seed``'s trained rows (one per label quality, for the explorer)."""
    t = result.table
    first = t[(t.seed == seed) & (t.state != "skipped")]
    return [result.evaluations[i] for i in first.index if i in result.evaluations]
