"""InFER++ §III-A construction on a simulated web: the pipeline measures its own stages and writes a dataset the
infer-pp adapter reads back."""

import numpy as np
import pytest

from fernb.papers.infer.construction import LANGUAGES, SEGMENTS, compose_query
from fernb.data.fingerprints import near_duplicate_groups, thumbnails


def test_queries_have_the_papers_shape():
    rng = np.random.default_rng(0)
    q, lang = compose_query(rng, "happiness", "60+", "female", translated_share=0.0)
    words = q.split()
    assert words[0] in SEGMENTS["happiness"] and words[1] in SEGMENTS["age"]["60+"]
    assert words[2] in SEGMENTS["ethnicity"] and words[-1] in SEGMENTS["gender"]["female"] and lang == "English"
    assert compose_query(rng, "anger", "5-10", "male", translated_share=1.0)[1] in LANGUAGES
    for _ in range(20):  # children are boys and girls, not men and women
        assert compose_query(rng, "fear", "5-10", "female")[0].split()[-1] in ("girl", "female")


def test_near_duplicates_group_and_distinct_images_do_not():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 255, (64, 64), dtype=np.uint8)
    b = rng.integers(0, 255, (64, 64), dtype=np.uint8)
    a2 = np.clip(a.astype(int) * 0.9 + 10, 0, 255).astype(np.uint8)  # a re-encode: brightness and contrast change
    groups = near_duplicate_groups(thumbnails(np.stack([a, b, a2]), size=32)[0], min_corr=0.95, chunk=2)
    assert groups.tolist() == [0, 1, 0]


def test_build_writes_an_infer_pp_copy_the_adapter_reads(fernb_home, tmp_path):
    pytest.importorskip("facenet_pytorch")
    from fernb.data import load_dataset
    from fernb.papers.infer.construction import build, web_sizes
    from fernb.data.verify import verify

    faces = load_dataset("synth-infer", profile="smoke", progress=False)
    report = build(faces, tmp_path / "infer-pp", profile="smoke", progress=False)
    det, dd = report["detection"], report["dedup"]
    assert det["scraped"] == sum(web_sizes("smoke")) and det["precision"] > 0.95 and det["recall"] > 0.9
    assert dd["pairs_resolved"] >= 0.6 * dd["planted_pairs"] and dd["wrongly_removed"] <= 3
    rep = verify("infer-pp", tmp_path, progress=False)  # counts differ from the 35,789 published: only layout is checked
    assert rep.problems.empty and not rep.extra_files and rep.identical.empty and len(rep.records) == report["final_images"]
    ds = load_dataset("infer-pp", data_root=tmp_path, progress=False)
    assert len(ds.records) == report["final_images"]
    assert set(ds.records["split"]) == {"train", "test"}
    test_share = (ds.records["split"] == "test").mean()
    assert 0.15 < test_share < 0.25  # §III-F: 80/20 per expression
    assert build(faces, tmp_path / "infer-pp", profile="smoke", progress=False) == report  # stored, not rebuilt
