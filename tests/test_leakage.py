"""Perceptual fingerprints, the clean and augment-before-split protocols, and the audit that compares them."""

import json

import numpy as np
import pytest

from fernb.data import load_dataset
from fernb.data.leakage import (cross_split_duplicates, nearest_hamming, nearest_similarity, phash, thumbnails,
                                write_protocol)


def test_phash_and_thumbnails_know_mirrors():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (5, 40, 40, 3), dtype=np.uint8)
    h, hm = phash(x)
    hf, _ = phash(x[:, :, ::-1])
    assert h.dtype == np.uint64 and (np.bitwise_count(hm ^ hf) <= 1).all()  # the mirror hash is the flipped image's
    assert (phash(x.copy())[0] == h).all()
    t, tm = thumbnails(x)
    tf, _ = thumbnails(x[:, :, ::-1])
    np.testing.assert_allclose(tm, tf, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(t, axis=1), 1, atol=1e-5)


def test_nearest_search_matches_brute_force():
    rng = np.random.default_rng(1)
    a = rng.integers(0, 2**63, 7, dtype=np.uint64)
    b = rng.integers(0, 2**63, 11, dtype=np.uint64)
    d, arg = nearest_hamming(a, b, chunk=3)
    brute = np.array([[bin(int(x) ^ int(y)).count("1") for y in b] for x in a])
    assert (d == brute.min(1)).all() and (brute[np.arange(7), arg] == d).all()
    fa, fb, fm = (rng.normal(size=(n, 12)) for n in (6, 9, 9))
    s, arg = nearest_similarity(fa, fb, fm, chunk=4)
    full = np.maximum(fa @ fb.T, fa @ fm.T)
    np.testing.assert_allclose(s, full.max(1)) and np.testing.assert_array_equal(arg, full.argmax(1))


def test_protocols_split_photographs_as_described(smoke_raf, tmp_path):
    out = {p: write_protocol(smoke_raf, p, tmp_path / p, copies=2, progress=False) for p in ("clean", "leaky")}
    ds = {p: load_dataset("records", data_root=out[p], progress=False) for p in out}
    rec = {p: ds[p].records.astype({"source": int}) for p in ds}
    by = {p: {s: set(r.loc[r.split == s, "source"]) for s in ("train", "val", "test")} for p, r in rec.items()}
    clean = by["clean"]
    assert not (clean["train"] & clean["test"]) and not (clean["train"] & clean["val"])
    assert clean["test"] == set(smoke_raf.split("test").tolist())
    counts = {p: rec[p].split.value_counts().to_dict() for p in rec}
    assert counts["clean"]["train"] == counts["leaky"]["train"]  # the same number of training images
    assert counts["leaky"]["test"] == 2 * counts["clean"]["test"] and counts["leaky"]["val"] == 2 * counts["clean"]["val"]
    assert len(by["leaky"]["train"] & by["leaky"]["test"]) > 0.5 * len(by["leaky"]["test"])
    # labels travel with their photographs
    src_label = dict(zip(range(len(smoke_raf.records)), smoke_raf.records["label"]))
    assert all(src_label[s] == lab for s, lab in zip(rec["leaky"].source, rec["leaky"].label))
    stamp = (out["clean"] / "records.csv").stat().st_mtime_ns
    write_protocol(smoke_raf, "clean", tmp_path / "clean", copies=2, progress=False)  # stored: not rewritten
    assert (out["clean"] / "records.csv").stat().st_mtime_ns == stamp
    assert json.loads((out["clean"] / "protocol.json").read_text())["protocol"] == "clean"
    with pytest.raises(ValueError, match="protocol='sloppy'"):
        write_protocol(smoke_raf, "sloppy", tmp_path / "x")
    with pytest.raises(ValueError, match="copies must be a positive integer"):
        write_protocol(smoke_raf, "clean", tmp_path / "x", copies=0)
    # the thumbnail fingerprint finds the leaky copies; above the clean protocol's best similarity (which no true copy
    # produced), nearly everything flagged is a copy
    dup = {p: cross_split_duplicates(ds[p]) for p in ds}
    assert not dup["clean"].sibling_in_reference.any()
    threshold = dup["clean"].similarity.max()
    leaky = dup["leaky"]
    flagged = leaky.similarity > threshold
    assert flagged.sum() > 0.4 * leaky.sibling_in_reference.sum()
    assert leaky.sibling_in_reference[flagged].mean() >= 0.9, leaky[flagged]


def test_leakage_audit_summary(smoke_raf, tmp_path):
    from fernb.eval.leakage import leakage_audit

    audit = leakage_audit(smoke_raf, dict(model="tiny_cnn", img_size=32, batch_size=32, epochs=1, max_batches_per_epoch=2),
                          runs_root=tmp_path, progress=False)
    s = audit.summary()
    assert list(s.index) == ["clean", "leaky"] and s.loc["clean", "train images"] == s.loc["leaky", "train images"]
    run = audit.runs["clean"]
    assert run.metrics["n_val"] == s.loc["clean", "val images"]  # the trainer used the protocol's own validation split
    paired = audit.paired()
    assert paired["images"].sum() > 0 and set(paired.index) <= {False, True} and 0 < audit.detection().iloc[0]["ROC AUC"] <= 1
    noise = audit.by_label_noise()
    assert noise[("images", "clean")].sum() == s.loc["clean", "test images"]
    with pytest.raises(ValueError, match="leave 'dataset' out"):
        leakage_audit(smoke_raf, dict(dataset="synth-raf"), runs_root=tmp_path, progress=False)


def test_audits_over_seeds_report_their_spread(smoke_raf, tmp_path):
    from fernb.eval.leakage import leakage_audits, spread

    train = dict(model="tiny_cnn", img_size=32, batch_size=32, epochs=1, max_batches_per_epoch=2)
    audits = leakage_audits(smoke_raf, train, seeds=(0, 1), runs_root=tmp_path, progress=False)
    assert [a.runs["clean"].config.seed for a in audits] == [0, 1]
    table = spread(audits)
    assert list(table.index) == [0, 1, "mean", "sd"]
    col = "test accuracy, leaky − clean"
    assert table.loc["mean", col] == pytest.approx((table.loc[0, col] + table.loc[1, col]) / 2)
    assert audits[0].datasets["clean"].root != audits[1].datasets["clean"].root  # each seed its own split
    shared = leakage_audits(smoke_raf, train, seeds=(0, 1), runs_root=tmp_path, progress=False, protocol_seed=0)
    assert shared[0].datasets["clean"].root == shared[1].datasets["clean"].root  # one written pair, two trainings
    assert shared[0].runs["clean"].dir != shared[1].runs["clean"].dir
    with pytest.raises(ValueError, match="at least one seed"):
        leakage_audits(smoke_raf, train, seeds=(), runs_root=tmp_path, progress=False)


def test_beyond_noise_flags_only_clear_effects():
    import pandas as pd

    from fernb.eval.leakage import beyond_noise

    table = pd.DataFrame({"big": [0.40, 0.45, 0.50], "noise": [0.03, -0.04, 0.02]}, index=[0, 1, 2])
    v = beyond_noise(table)
    assert bool(v.loc["big", "beyond noise"]) and not bool(v.loc["noise", "beyond noise"])
    assert v.loc["big", "mean"] == pytest.approx(0.45) and v.loc["big", "seeds"] == 3
