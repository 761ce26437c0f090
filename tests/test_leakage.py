"""Perceptual fingerprints and the clean and augment-before-split protocols (the audit that trains on them is
tests/test_resemotenet.py)."""

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
