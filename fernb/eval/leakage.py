"""The leakage audit of the ResEmoteNet chapter: the same photographs, the same network and the same training recipe
under the clean and the augment-before-split protocols (:mod:`fernb.data.leakage`), and what the leak does to the
validation and test accuracy the recipe reports."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from fernb import paths
from fernb.data import load_dataset
from fernb.data.leakage import PROTOCOLS, cross_split_duplicates, write_protocol


@dataclass
class Audit:
    runs: dict  # protocol -> Run
    duplicates: dict  # protocol -> cross_split_duplicates table (test against train)
    datasets: dict  # protocol -> FERDataset
    threshold: float  # near-duplicate threshold: exceeded by 1 % of clean test images (none of which has a copy)

    def summary(self) -> pd.DataFrame:
        """One row per protocol: sizes, best validation accuracy, test accuracy, and the near-duplicate shares."""
        rows = []
        for p in PROTOCOLS:
            run, dup, ds = self.runs[p], self.duplicates[p], self.datasets[p]
            counts = ds.records["split"].value_counts()
            train_sources = ds.records.loc[ds.records["split"] == "train", "source"]
            rows.append({"protocol": p, "train images": int(counts.get("train", 0)),
                         "train photographs": int(train_sources.nunique()), "val images": int(counts.get("val", 0)),
                         "test images": int(counts.get("test", 0)),
                         "best val accuracy": max(h.get("val_acc", np.nan) for h in run.history),
                         "test accuracy": run.metrics["accuracy"], "test macro-F1": run.metrics["macro_f1"],
                         "test with a copy in train (truth)": float(dup["sibling_in_reference"].mean()),
                         "test flagged near-duplicate": float((dup["similarity"] > self.threshold).mean())})
        return pd.DataFrame(rows).set_index("protocol")

    def inflation(self) -> dict:
        s = self.summary()
        return {"test accuracy": float(s.loc["leaky", "test accuracy"] - s.loc["clean", "test accuracy"]),
                "best val accuracy": float(s.loc["leaky", "best val accuracy"] - s.loc["clean", "best val accuracy"])}

    def paired(self) -> pd.DataFrame:
        """Both models on the same images: the leaky test images whose photograph is in the dataset's own test split,
        which the clean model never saw in any form. Grouped by whether the leaky training set holds a copy of the
        photograph, so the difference between the models isolates what seeing a copy is worth."""
        leaky, dup = self.datasets["leaky"], self.duplicates["leaky"]
        clean_test = set(self.datasets["clean"].records.loc[self.datasets["clean"].records["split"] == "test", "source"])
        rows = dup["row"].to_numpy()
        keep = np.array([s in clean_test for s in leaky.records["source"].to_numpy()[rows]])
        rows, sibling = rows[keep], dup["sibling_in_reference"].to_numpy()[keep]
        y = leaky.records["label"].to_numpy()
        out = {}
        for p in PROTOCOLS:
            out[p] = self.runs[p].predict(rows, dataset=leaky).argmax(1) == y[rows]
        g = pd.DataFrame({"copy in leaky train": sibling, "clean model": out["clean"], "leaky model": out["leaky"]})
        res = g.groupby("copy in leaky train").agg(images=("clean model", "size"), **{
            "clean model accuracy": ("clean model", "mean"), "leaky model accuracy": ("leaky model", "mean")})
        res["difference"] = res["leaky model accuracy"] - res["clean model accuracy"]
        return res

    def by_label_noise(self) -> pd.DataFrame | None:
        """Test accuracy of each protocol on images whose (crowd) label matches the true expression and on those whose
        label is wrong, where the records know the truth (SynthFER's ``true_label``); ``None`` otherwise. A label
        that the face does not support can only be predicted by remembering a copy."""
        rows = []
        for p in PROTOCOLS:
            ds, dup = self.datasets[p], self.duplicates[p]
            if "true_label" not in ds.records.columns:
                return None
            rec = ds.records.iloc[dup["row"].to_numpy()]
            y = rec["label"].to_numpy().astype(int)
            noisy = y != rec["true_label"].to_numpy().astype(int)
            correct = self.runs[p].test_probs.argmax(1) == y
            for name, mask in (("label = true expression", ~noisy), ("label ≠ true expression", noisy)):
                rows.append({"protocol": p, "test images": name, "images": int(mask.sum()),
                             "accuracy against the label": float(correct[mask].mean()) if mask.any() else np.nan})
        table = pd.DataFrame(rows).pivot(index="test images", columns="protocol",
                                         values=["images", "accuracy against the label"])
        return table.astype({("images", p): int for p in PROTOCOLS})

    def detection(self) -> pd.DataFrame:
        """How well each fingerprint tells test images with a copy in training from those without (clean test images
        and leaky ones without a copy are the negatives): ROC AUC, and at the calibrated threshold precision/recall."""
        from sklearn.metrics import roc_auc_score

        both = pd.concat([self.duplicates["clean"], self.duplicates["leaky"]], ignore_index=True)
        truth = both["sibling_in_reference"].to_numpy()
        flagged = both["similarity"].to_numpy() > self.threshold
        return pd.DataFrame([
            {"fingerprint": "6×6 colour thumbnail correlation (mirror-aware)",
             "ROC AUC": roc_auc_score(truth, both["similarity"]),
             "precision at threshold": float(truth[flagged].mean()) if flagged.any() else np.nan,
             "recall at threshold": float(flagged[truth].mean())},
            {"fingerprint": "64-bit DCT pHash (mirror-aware)", "ROC AUC": roc_auc_score(truth, -both["phash_distance"]),
             "precision at threshold": np.nan, "recall at threshold": np.nan},
        ]).set_index("fingerprint")


def leakage_audit(ds, train: dict, copies: int = 2, val_share: float = 0.1, seed: int = 0, device="auto",
                  runs_root=None, progress: bool = True) -> Audit:
    """Write both protocols of ``ds`` (under the cache), train ``train`` (``TrainConfig`` options without
    ``dataset``) on each, and fingerprint every test image against its protocol's training images. The
    near-duplicate threshold is calibrated on the clean protocol, where no test photograph has a copy in training:
    the similarity only 1 % of clean test images exceed (a 1 % false-positive rate)."""
    from fernb.train import fit

    if "dataset" in train:
        raise ValueError("leakage_audit trains on the protocols it writes: leave 'dataset' out of train")
    root = paths.cache_root() / "leakage" / f"{ds.name}-{ds.fingerprint}"
    runs, dups, dss = {}, {}, {}
    for p in PROTOCOLS:
        folder = write_protocol(ds, p, root / f"{p}-copies{copies}-val{val_share}-seed{seed}", copies=copies,
                                val_share=val_share, seed=seed, progress=progress)
        dss[p] = load_dataset("records", data_root=folder, progress=False)
        runs[p] = fit({**train, "dataset": "records"}, data_root=folder, device=device, runs_root=runs_root,
                      progress=progress)
        dups[p] = cross_split_duplicates(dss[p], "test", "train")
    return Audit(runs, dups, dss, float(np.quantile(dups["clean"]["similarity"], 0.99)))


def leakage_audits(ds, train: dict, seeds=(0, 1, 2), copies: int = 2, val_share: float = 0.1, device="auto",
                   runs_root=None, progress: bool = True, protocol_seed: int | None = None) -> list[Audit]:
    """The audit repeated over training ``seeds`` (``train['seed']`` is replaced: initialisation, batch order,
    augmentation), so the spread across seeds is the run-to-run variation one pair of runs cannot show. With
    ``protocol_seed`` every audit shares one written pair of protocols (cheap: the images are written and decoded
    once); without it each seed also draws its own split and copies."""
    if not seeds:
        raise ValueError("seeds must name at least one seed")
    return [leakage_audit(ds, {**train, "seed": int(s)}, copies=copies, val_share=val_share,
                          seed=int(s) if protocol_seed is None else int(protocol_seed), device=device,
                          runs_root=runs_root, progress=progress) for s in seeds]


def spread(audits: list[Audit]) -> pd.DataFrame:
    """One row per seed and a mean and standard-deviation row: how far the leaky protocol's test and best
    validation accuracy sit above the clean one's; the paired estimate, i.e. on the same images, how much more the
    leaky model gains where its training set held a copy than where it did not; and, where the records know the truth
    (SynthFER), the accuracy against the label on test images whose crowd label is wrong, which only remembering a
    copy can earn."""
    rows = []
    for a in audits:
        inf, paired = a.inflation(), a.paired()
        gain = np.nan
        if set(paired.index) == {False, True}:
            gain = float(paired.loc[True, "difference"] - paired.loc[False, "difference"])
        row = {"seed": int(a.runs["clean"].config.seed), "test accuracy, leaky − clean": inf["test accuracy"],
               "best val accuracy, leaky − clean": inf["best val accuracy"], "paired: what a copy bought": gain}
        noise = a.by_label_noise()
        if noise is not None and "label ≠ true expression" in noise.index:
            acc = noise.loc["label ≠ true expression", "accuracy against the label"]
            row["wrong-label test images, leaky − clean"] = float(acc["leaky"] - acc["clean"])
        rows.append(row)
    table = pd.DataFrame(rows).set_index("seed")
    stats = pd.DataFrame([table.mean(), table.std(ddof=1) if len(table) > 1 else table.mean() * np.nan],
                         index=["mean", "sd"])
    return pd.concat([table.astype(object), stats.astype(object)])


def beyond_noise(table: pd.DataFrame) -> pd.DataFrame:
    """For each column of :func:`spread`'s table: the mean over seeds, its standard error, and whether the mean lies
    more than two standard errors from zero (a rough test with few seeds: it flags effects clearly larger than the
    run-to-run variation, and says nothing of smaller ones)."""
    per_seed = table.drop(index=["mean", "sd"], errors="ignore").astype(float)
    n = per_seed.notna().sum()
    mean, se = per_seed.mean(), per_seed.std(ddof=1) / np.sqrt(n)
    return pd.DataFrame({"mean": mean, "standard error": se, "seeds": n,
                         "beyond noise": (mean.abs() > 2 * se) & (n > 1)})
