"""Every real-dataset adapter and the verifier, on tiny copies of each official layout (fernb.data.mock), including
each bad-input case of the datasets issue."""

import shutil
import warnings

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from fernb.data import load_dataset, load_manifest
from fernb.data.adapters import DatasetError
from fernb.data.splits import stratified_split
from fernb.data.mock import write_mock
from fernb.data.store import ImageStore
from fernb.data.verify import verify
from fernb.labels import EXPRESSIONS_8

REAL = ["rafdb", "fer2013", "affectnet-7", "affectnet-8", "expw", "infer-pp", "btfer"]


def fresh(mocks, name, tmp_path):
    """A private, writable copy of one mock dataset to break."""
    return shutil.copytree(mocks[name], tmp_path / name)


@pytest.mark.parametrize("name", REAL)
def test_every_adapter_reads_its_official_layout(mocks, name, tmp_path):
    ds = load_dataset(name, data_root=mocks[name], progress=False)
    m = load_manifest(name)
    counts = ds.class_counts()
    assert (counts.iloc[:7] > 0).all(), counts            # every basic expression arrives, under its canonical name
    assert set(ds.records["split"]) <= set(m["splits"])
    # every entry remembers where it came from: file and line for listings, the file itself for folder layouts
    assert ds.records["origin"].str.contains(":" if name != "btfer" else "/").all()
    st = ImageStore.build(ds, 32, 3, cache_dir=tmp_path, progress=False)
    assert st.shape == (len(ds), 32, 32, 3) and st.images.std() > 10


def test_label_maps_come_from_the_manifests(mocks):
    """The mock writers label by the manifest's published ids, so a wrong map in either place shows up here as a
    label that disagrees with the synthetic source's class."""
    ds = load_dataset("rafdb", data_root=mocks["rafdb"], progress=False)
    listing = (mocks["rafdb"] / "EmoLabel/list_patition_label.txt").read_text().splitlines()
    raw = dict(line.split() for line in listing)
    ids = load_manifest("rafdb")["labels"]["ids"]
    for img, lab in zip(ds.records["image"], ds.records["label"]):
        stem = img.split("/")[-1].replace("_aligned.jpg", ".jpg")
        assert EXPRESSIONS_8[lab] == ids[int(raw[stem])]


def test_rafdb_crlf_attributes_and_original_variant(mocks, tmp_path):
    assert b"\r\n" in (mocks["rafdb"] / "EmoLabel/list_patition_label.txt").read_bytes()
    ds = load_dataset("rafdb", data_root=mocks["rafdb"], progress=False, variant="original")
    assert {"x0", "y0", "x1", "y1", "gender", "age_raf"} <= set(ds.records.columns)
    assert ds.records["image"].str.startswith("Image/original/").all()
    crop = ImageStore.build(ds, 64, 3, cache_dir=tmp_path, progress=False).images
    aligned = ImageStore.build(load_dataset("rafdb", data_root=mocks["rafdb"], progress=False), 64, 3,
                               cache_dir=tmp_path, progress=False).images
    # the box crop of the original recovers the face the aligned image shows
    assert np.abs(crop.astype(int) - aligned.astype(int)).mean() < 12


def test_fer2013_pixels_and_usage_splits(mocks, tmp_path):
    ds = load_dataset("fer2013", data_root=mocks["fer2013"], progress=False)
    assert ds.pixels.shape == (len(ds), 48, 48) and ds.pixels.dtype == np.uint8
    assert set(ds.records["split"]) == {"train", "val", "test"}
    gray = ImageStore.build(ds, 48, 1, cache_dir=tmp_path, progress=False).images
    np.testing.assert_array_equal(gray[..., 0], ds.pixels)
    rgb = ImageStore.build(ds, 48, 3, cache_dir=tmp_path, progress=False).images
    assert (rgb[..., 0] == rgb[..., 2]).all()           # grayscale replicated to three channels


def test_subset_of_a_real_dataset_keeps_pixels_aligned(mocks):
    full = load_dataset("fer2013", data_root=mocks["fer2013"], progress=False)
    part = load_dataset("fer2013", data_root=mocks["fer2013"], progress=False, n=5, seed=3)
    assert len(part) == 5 and part.pixels.shape[0] == 5
    for img, px in zip(part.records["image"], part.pixels):
        np.testing.assert_array_equal(full.pixels[np.flatnonzero(full.records["image"] == img)[0]], px)


def test_affectnet_variants_exclusions_and_headerless_validation(mocks, smoke_raf, tmp_path):
    a7 = load_dataset("affectnet-7", data_root=mocks["affectnet-7"], progress=False)
    a8 = load_dataset("affectnet-8", data_root=mocks["affectnet-8"], progress=False)
    assert a7.num_classes == 7 and a8.num_classes == 8
    assert len(a8) == len(a7) + 1 and a8.class_counts()["contempt"] == 1
    # classes 8-10 (and contempt for AffectNet-7) are excluded, and listed, never silently dropped
    assert len(a7.excluded) == 4 and len(a8.excluded) == 3
    assert a7.excluded["reason"].str.contains("excluded by the manifest").all()
    assert {"valence", "arousal", "x0"} <= set(a7.records.columns)
    with_header = write_mock("affectnet-7", tmp_path / "hdr", smoke_raf, validation_header=True)
    assert len(load_dataset("affectnet-7", data_root=with_header, progress=False)) == len(a7)


def test_expw_faces_of_one_photo_stay_on_one_side():
    labels = np.repeat(np.arange(7), 40)
    groups = np.arange(len(labels)) // 2                  # two faces per photograph
    split = stratified_split(labels, 0.25, 0, groups)
    for g in np.unique(groups):
        assert len(set(split[groups == g])) == 1
    share = (split == "test").mean()
    assert 0.2 < share < 0.3
    np.testing.assert_array_equal(split, stratified_split(labels, 0.25, 0, groups))   # deterministic


def test_expw_reads_several_faces_per_photograph(mocks):
    ds = load_dataset("expw", data_root=mocks["expw"], progress=False)
    assert ds.records["image"].duplicated().any() and not ds.records.duplicated(["image", "face_id"]).any()


def test_infer_split_is_made_when_absent(smoke_raf, tmp_path):
    root = write_mock("infer-pp", tmp_path / "infer", smoke_raf, per_class=5, with_split=False)
    ds = load_dataset("infer-pp", data_root=root, progress=False)
    per_class = ds.records.groupby("label")["split"].apply(lambda s: (s == "test").mean())
    assert np.allclose(per_class, 0.2)                    # InFER++ §III-F: 80/20 within each expression
    assert {"age_group", "gender", "votes_happiness"} <= set(ds.records.columns)


def test_ckplus_peak_frames_subject_folds_and_detection(mocks, tmp_path):
    with pytest.warns(UserWarning, match="quarantined"):
        ds = load_dataset("ckplus", data_root=mocks["ckplus"], progress=False, lenient=True)
    rec = ds.records
    # each labelled sequence gives its first frame as neutral and its last three frames with its label
    n_seq = rec["sequence"].groupby(rec["subject"]).nunique().sum()
    assert len(rec) + len(ds.problems) == 4 * n_seq
    assert (rec.loc[rec["image"].str.endswith("00000001.png"), "label"] == EXPRESSIONS_8.index("neutral")).all()
    assert len(ds.excluded) == 1 and "no emotion file" in ds.excluded["reason"].iloc[0]
    # subject-independent folds: no subject in two folds
    assert (rec.groupby("subject")["fold"].nunique() == 1).all() and rec["fold"].nunique() == 10
    f3 = ds.with_fold(3)
    assert set(f3.records.loc[f3.records["split"] == "test", "fold"]) == {3}
    assert not np.isnan(rec[["x0", "y0", "x1", "y1"]].to_numpy()).any()
    # every frame without a face is named, in strict mode as an error
    if len(ds.problems):
        with pytest.raises(ValueError, match="no face found"):
            load_dataset("ckplus", data_root=mocks["ckplus"], progress=False)


def test_verify_matches_a_clean_copy_and_compares_published_counts(mocks):
    rep = verify("btfer", mocks["btfer"], progress=False)
    assert rep.problems.empty and not rep.extra_files
    pub = rep.counts.dropna(subset=["published"])
    assert set(pub["published"]) == {300} and (pub["difference"] == 3 - 300).all()
    assert not rep.ok and "DIFFERENCES FOUND" in rep.summary()


def test_verify_on_synthfer_root(smoke_raf):
    rep = verify("synth-raf", smoke_raf.root, progress=False)
    assert rep.problems.empty and len(rep.records) == len(smoke_raf)
    assert rep.ok


def test_verify_cli(mocks, capsys):
    from fernb.data.__main__ import main

    assert main(["verify", "btfer", "--root", str(mocks["btfer"])]) == 1    # the mock is 3 per class, not 300
    assert "published counts compared: 7" in capsys.readouterr().out
    assert main(["verify", "rafdb", "--root", str(mocks["btfer"])]) == 2
    assert "EmoLabel/list_patition_label.txt" in capsys.readouterr().err


# ---- bad input: every case names the file (and line) and what was expected --------------------------------------

def test_missing_root_and_wrong_layout(mocks, tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        load_dataset("rafdb", data_root=tmp_path / "nowhere")
    root = fresh(mocks, "rafdb", tmp_path)
    shutil.rmtree(root / "EmoLabel")
    with pytest.raises(DatasetError, match=r"expected EmoLabel/list_patition_label.txt.*found \['Annotation/', 'Image/'\]"):
        load_dataset("rafdb", data_root=root)
    with pytest.raises(ValueError, match="pass data_root"):
        load_dataset("rafdb")


def _edit_line(path, lineno, text):
    lines = path.read_text().splitlines()
    lines[lineno - 1] = text
    path.write_text("\n".join(lines) + "\n")


def test_unknown_label_id_names_file_and_line(mocks, tmp_path):
    root = fresh(mocks, "rafdb", tmp_path)
    listing = root / "EmoLabel/list_patition_label.txt"
    name = listing.read_text().splitlines()[4].split()[0]
    _edit_line(listing, 5, f"{name} 9")
    with pytest.raises(DatasetError, match=r"list_patition_label.txt:5: label id '9' is not in the rafdb label map"):
        load_dataset("rafdb", data_root=root)
    with pytest.warns(UserWarning, match="1 entries quarantined"):
        ds = load_dataset("rafdb", data_root=root, lenient=True)
    assert len(ds) == 27 and ds.problems["where"].tolist() == ["EmoLabel/list_patition_label.txt:5"]


def test_duplicate_entries(mocks, tmp_path):
    root = fresh(mocks, "rafdb", tmp_path)
    listing = root / "EmoLabel/list_patition_label.txt"
    first = listing.read_text().splitlines()[0]
    listing.write_text(listing.read_text() + first + "\n")
    with pytest.raises(DatasetError, match=r":29: duplicate entry: .* already listed at .*:1"):
        verify("rafdb", root, progress=False)


def test_malformed_lines_and_paths_escaping_the_root(mocks, tmp_path):
    root = fresh(mocks, "rafdb", tmp_path)
    _edit_line(root / "EmoLabel/list_patition_label.txt", 2, "just-one-field")
    with pytest.raises(DatasetError, match=r":2: malformed line 'just-one-field'"):
        load_dataset("rafdb", data_root=root)
    root = fresh(mocks, "infer-pp", tmp_path)
    table = root / "records.csv"
    lines = table.read_text().splitlines()
    lines[3] = "../../etc/passwd" + lines[3][lines[3].index(","):]
    table.write_text("\n".join(lines) + "\n")
    with pytest.raises(DatasetError, match=r"records.csv:4: image path '../../etc/passwd' escapes the dataset root"):
        load_dataset("infer-pp", data_root=root)


def test_csv_missing_columns_malformed_rows_and_bad_pixels(mocks, tmp_path):
    root = fresh(mocks, "fer2013", tmp_path)
    csv_path = root / "fer2013.csv"
    text = csv_path.read_text().splitlines()
    csv_path.write_text("\n".join(["emotion,pixels"] + text[1:]) + "\n")
    with pytest.raises(DatasetError, match=r"fer2013.csv line 1: header is missing columns \['Usage'\]"):
        load_dataset("fer2013", data_root=root)
    rows = list(text)
    rows[2] = "3,1 2 3"                                   # two fields
    emotion, pixels, usage = rows[3].split(",")
    rows[3] = ",".join([emotion, pixels.rsplit(" ", 1)[0], usage])   # 2,303 values
    csv_path.write_text("\n".join(rows) + "\n")
    with pytest.raises(DatasetError, match=r"fer2013.csv:3: malformed row: 2 fields, expected 3"):
        load_dataset("fer2013", data_root=root)
    with pytest.warns(UserWarning):
        ds = load_dataset("fer2013", data_root=root, lenient=True)
    reasons = ds.problems.set_index("where")["reason"]
    assert "2303 values, expected 2304" in reasons["fer2013.csv:4"]
    assert len(ds) + len(ds.problems) == len(text) - 1   # nothing dropped silently


def test_affectnet_csv_row_with_bad_numbers(mocks, tmp_path):
    root = fresh(mocks, "affectnet-7", tmp_path)
    path = root / "Manually_Annotated_file_lists/training.csv"
    df = pd.read_csv(path, dtype=str)
    df.loc[1, "face_width"] = "wide"
    df.to_csv(path, index=False)
    with pytest.raises(DatasetError, match=r"training.csv:3: face_x, face_y, face_width"):
        load_dataset("affectnet-7", data_root=root)


def test_missing_corrupt_and_truncated_images(mocks, tmp_path):
    root = fresh(mocks, "btfer", tmp_path)
    files = sorted(root.glob("*/*.jpg"))
    data = files[0].read_bytes()
    files[0].write_bytes(data[: len(data) // 2])          # truncated JPEG
    files[1].write_bytes(b"not an image at all")          # corrupt
    files[2].unlink()                                     # missing: never listed then, since BTFER lists by folder
    with pytest.raises(DatasetError, match=rf"{files[0].parent.name}/{files[0].name}: unreadable image"):
        verify("btfer", root, progress=False)
    rep = verify("btfer", root, lenient=True, progress=False)
    assert len(rep.problems) == 2 and rep.problems["reason"].str.contains("unreadable").all()
    assert len(rep.records) == 21 - 3
    # a store build on the truncated file names it too
    ds = load_dataset("btfer", data_root=root)
    with pytest.raises(OSError, match=files[0].name):
        ImageStore.build(ds, 32, 3, cache_dir=tmp_path / "st", progress=False)

    root = fresh(mocks, "rafdb", tmp_path)
    victim = sorted((root / "Image/aligned").glob("*.jpg"))[3]
    victim.unlink()
    with pytest.raises(DatasetError, match=rf"list_patition_label.txt:\d+: image file {victim.relative_to(root)} is missing"):
        load_dataset("rafdb", data_root=root)


def test_verify_reports_unlisted_files_and_identical_images(mocks, tmp_path):
    root = fresh(mocks, "rafdb", tmp_path)
    aligned = sorted((root / "Image/aligned").glob("*.jpg"))
    shutil.copy(aligned[0], root / "Image/aligned/stray_photo.jpg")
    train = [p for p in aligned if p.name.startswith("train")][0]
    test = [p for p in aligned if p.name.startswith("test")][0]
    shutil.copy(train, test)                              # the same bytes under a train and a test entry: leakage
    rep = verify("rafdb", root, progress=False)
    assert rep.extra_files == ["Image/aligned/stray_photo.jpg"]
    assert rep.identical["cross_split"].sum() == 1
    assert "1 across splits" in rep.summary()


def test_ckplus_bad_emotion_file(mocks, tmp_path):
    root = fresh(mocks, "ckplus", tmp_path)
    emo = sorted((root / "Emotion").rglob("*_emotion.txt"))[0]
    emo.write_text("happy\n")
    with pytest.raises(DatasetError, match=rf"{emo.name}:1: expected one number"):
        load_dataset("ckplus", data_root=root, lenient=False)


def test_unparseable_manifest(tmp_path, monkeypatch):
    (tmp_path / "mine.yaml").write_text("name: mine\nlabels: {ids: {0: anger\n")
    monkeypatch.setenv("FERNB_MANIFESTS", str(tmp_path))
    with pytest.raises(ValueError, match=r"mine.yaml does not parse at line \d+"):
        load_dataset("mine", data_root=tmp_path)


def test_manifests_are_complete_and_consistent():
    from fernb.data.manifest import available

    for name in available():
        m = load_manifest(name)
        k = int(m.get("num_classes", 7))
        mapped = {v for v in m["labels"]["ids"].values() if v is not None}
        assert mapped == set(EXPRESSIONS_8[:k]), name    # every class reachable, nothing beyond num_classes
        if m["kind"] == "real":
            assert m.get("published") and m.get("request") and m["layout"].get("marker"), name
            for src in m["published"]:
                for split, per_class in (src.get("counts") or {}).items():
                    assert set(per_class) <= set(EXPRESSIONS_8[:k]), (name, src["source"])
    # totals printed by the papers agree with their own per-class tables
    raf = {s["source"]: s for s in load_manifest("rafdb")["published"]}
    t2 = raf["ResEmoteNet Table II (class-wise distribution, train / test)"]["counts"]
    assert sum(t2["train"].values()) == 12271 and sum(t2["test"].values()) == 3068
    tot = raf["BTFER Table 1 (images per class, whole dataset)"]["counts"]["all"]
    assert {c: t2["train"][c] + t2["test"][c] for c in tot} == tot
    infer = {s["source"]: s for s in load_manifest("infer-pp")["published"]}
    assert sum(infer["InFER++ Table 2(a)"]["counts"]["all"].values()) == 35789
    for attr in ("age_group", "gender"):
        assert sum(infer["InFER++ Table 2(b), 2(c)"]["attributes"][attr].values()) == 35789
    aff = {s["source"]: s for s in load_manifest("affectnet-7")["published"]}
    t2 = aff["ResEmoteNet Table II (AffectNet-7, train / test)"]["counts"]
    assert sum(t2["train"].values()) + sum(t2["test"].values()) == aff["ResEmoteNet Table I (total samples)"]["totals"]["all"]


def test_published_counts_and_demographics_helpers(mocks):
    from fernb.data.verify import demographics_table, published_class_counts

    raf_train = published_class_counts("rafdb", "train")
    assert raf_train.name.startswith("ResEmoteNet Table II") and raf_train.sum() == 12271
    assert published_class_counts("fer2013", "all", "BTFER").sum() == 35887
    with pytest.raises(KeyError, match="no published per-class counts"):
        published_class_counts("ckplus", "train")
    ds = load_dataset("infer-pp", data_root=mocks["infer-pp"], progress=False)
    t = demographics_table(ds)
    assert set(t.index.get_level_values(0)) == {"expression", "age_group", "gender"}
    assert t.loc["gender", "infer-pp (paper)"].sum() == 35789
    assert t.loc["expression", "infer-pp (here)"].sum() == len(ds) == t.loc["age_group", "infer-pp (here)"].sum()
