"""The datasets chapter's comparisons: the papers' published counts beside what a copy holds, the class shares of
every dataset, InFER++'s demographics (Table 2), BTFER's class weights recomputed (§III-E, Figs. 6-9), and every
official layout written small from SynthFER images and read back by its adapter."""

from __future__ import annotations

import shutil
import warnings

import pandas as pd

from fernb import paths
from fernb.data import load_dataset, load_manifest
from fernb.data.mock import write_all
from fernb.data.verify import published_class_counts, verify
from fernb.labels import AGE_GROUPS, EXPRESSIONS, GENDERS
from fernb.train.weighting import class_weights

LAYOUTS = ("rafdb", "fer2013", "affectnet-7", "expw", "ckplus", "infer-pp", "btfer")


def chosen(ch):
    """The chapter's dataset and its verification report (lenient on a reader's copy: every problem listed)."""
    if ch.synthetic:
        ds = load_dataset(ch.dataset, ch.data_root, profile=ch.profile, seed=ch.seed)
        return ds, verify(ch.dataset, ds.root)
    report = verify(ch.dataset, ch.data_root, lenient=True)
    return load_dataset(ch.dataset, ch.data_root, lenient=True), report


def found_counts(report) -> pd.DataFrame:
    """Images found on disk per class (rows) and split (columns)."""
    found = report.counts[report.counts["source"] == "found on disk"]
    return found.pivot_table(index="cls", columns="split", values="found", sort=False).astype(int)


def class_shares(ds) -> pd.DataFrame:
    """Per-class counts of every dataset whose counts a paper prints (with the table), beside ``ds`` as found."""
    dist = {
        "RAF-DB (BTFER Table 1)": published_class_counts("rafdb", "all", "BTFER"),
        "FER2013 (BTFER Table 1)": published_class_counts("fer2013", "all", "BTFER"),
        "AffectNet-7 train (ResEmoteNet Table II)": published_class_counts("affectnet-7", "train"),
        "InFER++ (InFER++ Table 2a)": published_class_counts("infer-pp", "all"),
        "BTFER (BTFER Table 1)": published_class_counts("btfer", "test"),
        f"{ds.name} (found here)": ds.class_counts(),
    }
    return pd.DataFrame(dist).reindex(list(EXPRESSIONS))


def demographics_dataset(ch, ds):
    """The dataset whose demographics stand beside InFER++ Table 2: the reader's InFER++, else synth-infer."""
    if ch.dataset == "infer-pp":
        return ds
    return load_dataset("synth-infer", ch.data_root if ch.synthetic else None, profile=ch.profile, seed=ch.seed)


def joint_demographics(ds) -> pd.DataFrame:
    """Images per (age group, gender) and expression: the joint table InFER++ does not print."""
    r = ds.records
    joint = pd.crosstab([r["age_group"], r["gender"]], r["label"].map(dict(enumerate(EXPRESSIONS))))
    return joint.reindex(pd.MultiIndex.from_product([AGE_GROUPS, GENDERS]), fill_value=0)


def btfer_weights(ds) -> pd.DataFrame:
    """BTFER's simple and conservative weights (§III-E) as printed (Figs. 6, 9), from RAF-DB's official training
    counts (ResEmoteNet Table II), from its whole-dataset counts (BTFER Table 1), and from ``ds``'s training split."""
    train_counts = published_class_counts("rafdb", "train")
    all_counts = published_class_counts("rafdb", "all")
    printed = load_manifest("btfer")["printed_class_weights"]
    own = ds.class_counts("train").iloc[:7].to_numpy()
    return pd.DataFrame({
        "simple, printed (Fig. 6)": pd.Series(printed["simple"]),
        "simple, RAF-DB train": class_weights(train_counts, "simple"),
        "simple, RAF-DB all": class_weights(all_counts, "simple"),
        "conservative, printed (Fig. 9)": pd.Series(printed["conservative"]),
        "conservative, RAF-DB train": class_weights(train_counts, "conservative"),
        "conservative, RAF-DB all": class_weights(all_counts, "conservative"),
        f"conservative, {ds.name} train": class_weights(own, "conservative"),
    }, index=list(EXPRESSIONS))


def weight_gaps(weights: pd.DataFrame) -> str:
    """How far the recomputed simple weights fall from BTFER's printed Fig. 6, from each count source."""
    printed = weights["simple, printed (Fig. 6)"]
    gap_train = (weights["simple, RAF-DB train"] - printed).abs().max()
    gap_all = (weights["simple, RAF-DB all"] - printed).abs().max()
    return (f"largest gap to BTFER Fig. 6: from training counts {gap_train:.2f}, from "
            f"whole-dataset counts {gap_all:.2f}")


def mock_layouts(ch) -> tuple[object, dict]:
    """Write every official layout small from SynthFER smoke images and read each back leniently through its
    adapter: (the folder, {dataset: FERDataset}). What each load quarantines is counted by :func:`layouts_table`,
    so the loads' quarantine warnings are expected here and not shown."""
    root = paths.cache_root() / "mock-layouts"
    shutil.rmtree(root, ignore_errors=True)
    source = load_dataset("synth-raf", ch.data_root if ch.synthetic else None, profile="smoke", seed=0,
                          progress=False)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*quarantin", category=UserWarning)
        layouts = {name: load_dataset(name, folder, progress=False, lenient=True)
                   for name, folder in write_all(root, source).items()}
    return root, layouts


def layouts_table(layouts: dict) -> pd.DataFrame:
    """One row per layout read back: entries, splits, what was excluded or quarantined, the extra columns."""
    rows = []
    for name, d in layouts.items():
        extra = [c for c in d.records.columns if c not in ("image", "label", "split", "origin")]
        rows.append({"dataset": name, "entries read": len(d), "splits": dict(d.records["split"].value_counts()),
                     "excluded": len(d.excluded), "quarantined": len(d.problems),
                     "extra columns": ", ".join(extra)[:70]})
    return pd.DataFrame(rows).set_index("dataset")


def set_aside_table(layouts: dict) -> pd.DataFrame:
    """Entries set aside per layout, by kind and reason: nothing is dropped without a line here."""
    set_aside = pd.concat([d.set_aside.assign(dataset=n) for n, d in layouts.items()], ignore_index=True)
    return set_aside.groupby(["dataset", "kind", "reason"]).size().rename("entries").to_frame()


def damage(mock_root):
    """A copy of the mock RAF-DB with a label id outside the map, a truncated JPEG and a stray file."""
    broken = shutil.copytree(mock_root / "rafdb", mock_root / "rafdb-broken")
    listing = broken / "EmoLabel/list_patition_label.txt"
    lines = listing.read_text().splitlines()
    lines[2] = lines[2].split()[0] + " 9"
    listing.write_text("\n".join(lines) + "\n")
    victim = sorted((broken / "Image/aligned").glob("train_*.jpg"))[5]
    victim.write_bytes(victim.read_bytes()[:600])
    shutil.copy(victim.with_name("test_00001_aligned.jpg"), broken / "Image/aligned/holiday.jpg")
    return broken


def strict_error(folder) -> str:
    """What the strict verifier says of ``folder`` (it stops at the first problem)."""
    try:
        verify("rafdb", folder, progress=False)
    except ValueError as e:
        return f"strict: {e}"
    return "strict: no problem found"
