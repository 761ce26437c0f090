"""The leakage audit of ResEmoteNet's released protocol: augmented copies made before the split (issues #36 and #47 of
the authors' repository; the paper's §III-B names only flips). The same photographs, network and recipe are trained
under the clean and the augment-before-split protocols (written by :mod:`fernb.data.leakage`), and this module
measures what the leak does to the validation and test accuracy the recipe reports, over several seeds, and how well
perceptual fingerprints find the copies. Its verdict text is computed from those measurements."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from fernb import paths
from fernb.data import load_dataset
from fernb.data.leakage import PROTOCOLS, cross_split_duplicates, write_protocol
from fernb.eval.metrics import beyond_noise
from fernb.papers.recipes import Recipe
from fernb.papers.resemotenet import PROTOCOL, options

AUDIT = Recipe(
    "leakage", "Leakage audit (clean vs augment-before-split)",
    common=dict(copies=2),
    smoke=dict(n=None, seeds=1, train=dict(model="tiny_cnn", img_size=32, batch_size=32, epochs=1,
                                           max_batches_per_epoch=3)),
    # ResEmoteNet is too slow on a CPU: the book's small_cnn, flip-only, Adam until it fits its training set. 800
    # photographs: with 1,500 the six runs took 340 s on 2 cores (about 50 s each), over the chapter's 4 minutes
    quick=dict(n=800, seeds=3, train=dict(model="small_cnn", img_size=32, batch_size=64, epochs=20, optimizer="adam",
                                           lr=1e-3, scheduler="none", aug_scale=(1.0, 1.0), aug_ratio=(1.0, 1.0),
                                           aug_brightness=0.0, aug_contrast=0.0)),
    full=dict(n=None, seeds=3, train="protocol"),  # "protocol": the Table III protocol of the profile (PROTOCOL)
)
WRONG_LABEL = "wrong-label test images, leaky − clean"


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
        clean = self.datasets["clean"].records
        clean_test = set(clean.loc[clean["split"] == "test", "source"])
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

    def copy_gain(self) -> float:
        """The paired estimate: how much more the leaky model gains, on the same images, where its training set held
        a copy than where it did not (NaN unless both groups exist)."""
        paired = self.paired()
        if set(paired.index) != {False, True}:
            return float("nan")
        return float(paired.loc[True, "difference"] - paired.loc[False, "difference"])

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


# --- drivers ---------------------------------------------------------------------------------------------------------
def source(ch):
    """The photographs the audit starts from: the chapter's dataset, ``n`` of them in this profile's ``AUDIT``."""
    return load_dataset(ch.dataset, ch.data_root, profile=ch.profile, seed=ch.seed, n=AUDIT(ch.profile).n,
                        progress=False)


def leakage_audit(ch, ds, train: dict, copies: int = 2, val_share: float = 0.1, seed: int = 0,
                  progress: bool = False) -> Audit:
    """Write both protocols of ``ds`` (under the cache), train ``train`` (``TrainConfig`` options without
    ``dataset``) on each with ``ch.fit``, and fingerprint every test image against its protocol's training images.
    The near-duplicate threshold is calibrated on the clean protocol, where no test photograph has a copy in
    training: the similarity only 1 % of clean test images exceed (a 1 % false-positive rate)."""
    if "dataset" in train:
        raise ValueError("leakage_audit trains on the protocols it writes: leave 'dataset' out of train")
    root = paths.cache_root() / "leakage" / f"{ds.name}-{ds.fingerprint}"
    runs, dups, dss = {}, {}, {}
    for p in PROTOCOLS:
        folder = write_protocol(ds, p, root / f"{p}-copies{copies}-val{val_share}-seed{seed}", copies=copies,
                                val_share=val_share, seed=seed, progress=progress)
        dss[p] = load_dataset("records", data_root=folder, progress=False)
        runs[p] = ch.fit(**train, dataset="records", data_root=folder, progress=progress)
        dups[p] = cross_split_duplicates(dss[p], "test", "train")
    return Audit(runs, dups, dss, float(np.quantile(dups["clean"]["similarity"], 0.99)))


def leakage_audits(ch, ds, train: dict, seeds=(0, 1, 2), copies: int = 2, val_share: float = 0.1,
                   protocol_seed: int | None = None, progress: bool = False) -> list[Audit]:
    """The audit repeated over training ``seeds`` (``train['seed']`` is replaced: initialisation, batch order,
    augmentation), so the spread across seeds is the run-to-run variation one pair of runs cannot show. With
    ``protocol_seed`` every audit shares one written pair of protocols (cheap: the images are written and decoded
    once); without it each seed also draws its own split and copies."""
    if not seeds:
        raise ValueError("seeds must name at least one seed")
    return [leakage_audit(ch, ds, {**train, "seed": int(s)}, copies=copies, val_share=val_share,
                          seed=int(s) if protocol_seed is None else int(protocol_seed), progress=progress)
            for s in seeds]


def audits(ch, ds) -> list[Audit]:
    """This profile's audits (``AUDIT``): one per training seed from ``ch.seed``, on one written pair of protocols;
    ``train="protocol"`` trains the profile's Table III protocol (:data:`fernb.papers.resemotenet.PROTOCOL`)."""
    r = AUDIT(ch.profile)
    train = options(PROTOCOL(ch.profile)) if r.train == "protocol" else r.train
    return leakage_audits(ch, ds, train, seeds=r.seeds_from(ch.seed), copies=r.copies, protocol_seed=ch.seed)


def spread(audits: list[Audit]) -> pd.DataFrame:
    """One row per seed and a mean and standard-deviation row: how far the leaky protocol's test and best
    validation accuracy sit above the clean one's; the paired estimate (:meth:`Audit.copy_gain`); and, where the
    records know the truth (SynthFER), the accuracy against the label on test images whose crowd label is wrong,
    which only remembering a copy can earn."""
    rows = []
    for a in audits:
        inf = a.inflation()
        row = {"seed": int(a.runs["clean"].config.seed), "test accuracy, leaky − clean": inf["test accuracy"],
               "best val accuracy, leaky − clean": inf["best val accuracy"],
               "paired: what a copy bought": a.copy_gain()}
        noise = a.by_label_noise()
        if noise is not None and "label ≠ true expression" in noise.index:
            acc = noise.loc["label ≠ true expression", "accuracy against the label"]
            row[WRONG_LABEL] = float(acc["leaky"] - acc["clean"])
        rows.append(row)
    table = pd.DataFrame(rows).set_index("seed")
    stats = pd.DataFrame([table.mean(), table.std(ddof=1) if len(table) > 1 else table.mean() * np.nan],
                         index=["mean", "sd"])
    return pd.concat([table.astype(object), stats.astype(object)])


def in_points(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`spread`'s table in signed points, one column per seed (then the mean and sd), to fit the page."""
    return table.map(lambda v: f"{100 * v:+.1f}" if isinstance(v, float) else v).T


# --- what the page says, from the measurements -----------------------------------------------------------------------
def checks(audit: Audit) -> str:
    """The protocol's invariants, as printed lines (equal training sets; no clean test image with a copy in train;
    most leaky test images with one)."""
    s = audit.summary()
    copy = "test with a copy in train (truth)"
    return (f"equal training sets: {s.loc['clean', 'train images'] == s.loc['leaky', 'train images']}\n"
            f"clean test images with a copy in train: {s.loc['clean', copy]}\n"
            f"leaky test images with a copy in train > 50 %: {s.loc['leaky', copy] > 0.5}")


def inflation_text(ch, audit: Audit) -> str:
    """The first seed's two gaps (test and best validation accuracy, leaky − clean), in Markdown."""
    inf = audit.inflation()
    kind = "SynthFER, synthetic" if ch.synthetic else "real"
    return (f"**Measured on {ch.dataset} ({kind}), profile {ch.profile}:** the leaky protocol reports a test accuracy "
            f"{100 * inf['test accuracy']:+.1f} points and a best validation accuracy "
            f"{100 * inf['best val accuracy']:+.1f} points away from the clean protocol's, for the same photographs, "
            f"network and recipe.")


def seeds_text(verdict: pd.DataFrame) -> str:
    """Each measure's mean ± standard error over seeds and whether it is beyond the run-to-run variation
    (:func:`fernb.eval.metrics.beyond_noise`); empty with one seed."""
    n = int(verdict["seeds"].max()) if len(verdict) else 0
    if n < 2:
        return ""
    lines = [f"* {name}: {100 * r['mean']:+.1f} ± {100 * r['standard error']:.1f} points (mean ± standard error), "
             f"{'clearly beyond' if r['beyond noise'] else 'within'} the run-to-run variation"
             for name, r in verdict.iterrows()]
    return f"Over {n} seeds:\n\n" + "\n".join(lines)


def reading(verdict: pd.DataFrame) -> str:
    """What the seeds say (Markdown): whether the overall gaps and the gap on wrong-label images lie beyond the
    run-to-run variation, from :func:`fernb.eval.metrics.beyond_noise`'s table."""
    if not len(verdict) or int(verdict["seeds"].max()) < 2:
        return ("One seed cannot separate these gaps from the run-to-run variation; the `quick` and `full` profiles "
                "train several.")
    gaps = ("test accuracy, leaky − clean", "best val accuracy, leaky − clean")
    overall = [c for c in gaps if c in verdict.index]
    beyond = [c.split(",")[0] for c in overall if verdict.loc[c, "beyond noise"]]
    within = [c.split(",")[0] for c in overall if not verdict.loc[c, "beyond noise"]]
    if beyond:
        text = (f"Here the gap in {' and '.join(beyond)} is clearly beyond the run-to-run variation: the copies "
                f"inflate that figure itself")
        text += f"; the gap in {' and '.join(within)} is within it." if within else "."
    else:
        text = ("Here the overall gaps sit within what two training runs differ by anyway (with a handful of seeds "
                "only a large effect can be called).")
    if WRONG_LABEL in verdict.index:
        r = verdict.loc[WRONG_LABEL]
        if r["beyond noise"] and r["mean"] > 0:
            text += (f" Where the copies do pay is the images whose crowd label is wrong: the leaky model agrees "
                     f"with those labels {100 * r['mean']:+.1f} points more often, clearly beyond the run-to-run "
                     f"variation.")
        else:
            text += (f" On the images whose crowd label is wrong the leaky model's gain ({100 * r['mean']:+.1f} "
                     f"points) is within the run-to-run variation here.")
    return text


def paired_text(audit: Audit) -> str:
    """The paired estimate on the first seed's images, in Markdown (empty unless both groups exist)."""
    paired, s = audit.paired(), audit.summary()
    if set(paired.index) != {False, True}:
        return ""
    return (f"On the same images the leaky model is {100 * paired.loc[True, 'difference']:+.1f} points better where "
            f"it saw a copy and {100 * paired.loc[False, 'difference']:+.1f} points where it did not. The gap without "
            f"a copy does not come from remembering these images. It comes from two other sources: the leaky "
            f"training set spreads its images over more distinct photographs ({s.loc['leaky', 'train photographs']} "
            f"against {s.loc['clean', 'train photographs']}, test photographs included), and two training runs "
            f"differ anyway. What the copies bought is the remainder, **{100 * audit.copy_gain():+.1f} points** "
            f"({int(paired['images'].sum())} images, one pair of runs).")


def own_split(ch, ds, threshold: float) -> tuple[str, pd.DataFrame]:
    """The same fingerprint check on the dataset's own split (its test images against its training images): a
    sentence and the five most similar pairs."""
    own = cross_split_duplicates(ds, "test", "train", min_similarity=threshold)
    text = (f"{ch.dataset}: {int(own['near_duplicate'].sum())} of {len(own)} test images above the threshold; "
            f"{int((own['phash_distance'] <= 4).sum())} within 4 bits of a training image's pHash")
    return text, own.sort_values("similarity", ascending=False).head(5)


# --- figures ---------------------------------------------------------------------------------------------------------
def figure(ch, audit: Audit):
    """Best validation and test accuracy of the clean and the leaky protocol (plotly grouped bars)."""
    import plotly.graph_objects as go

    summary = audit.summary()
    fig = go.Figure()
    for metric in ("best val accuracy", "test accuracy"):
        fig.add_bar(name=metric, x=list(summary.index), y=summary[metric], text=summary[metric].round(3),
                    textposition="outside")
    fig.update_layout(title=f"Clean vs augment-before-split<br><sup>{ch.dataset}, profile {ch.profile}, model "
                            f"{audit.runs['clean'].config.model}</sup>",
                      yaxis_title="accuracy", yaxis_range=[0, 1], barmode="group", height=420)
    return fig


def copy_pairs(audit: Audit, k: int = 4):
    """The ``k`` leaky test images most similar to a training image, each beside that image (a PIL grid)."""
    from fernb.data.store import ImageStore
    from fernb.viz import sample_grid

    dup = audit.duplicates["leaky"].sort_values("similarity", ascending=False).head(k)
    store = ImageStore.build(audit.datasets["leaky"], 96, 3, progress=False)
    return sample_grid([[store.images[r.row], store.images[r.nearest]] for r in dup.itertuples()],
                       [f"sim {r.similarity:.3f}" for r in dup.itertuples()],
                       ["leaky test image", "nearest training image"], cell=96, font_size=12)
