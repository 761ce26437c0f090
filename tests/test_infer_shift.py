"""InFER++ §III-E as a measurement of shift (fernb.papers.infer.shift): equal shares, paired seeds, the display
divergence as a dataset option recorded in every run, and the tables and verdict built on them."""

import numpy as np
import pytest

import fernb.chapter
from fernb.papers.infer import shift


@pytest.fixture(scope="module")
def study(fernb_home):
    ch = fernb.chapter.setup("smoke", "synth-raf", None, "cpu", 0, datasets=["synth-raf", "synth-infer"],
                             name="06_cross_dataset")
    return shift.shift_study(ch, "synth-infer")


def test_models_pair_by_seed_and_the_reference_trains_once(study):
    r = shift.SHIFT("smoke")
    assert study.divergences == r.divergences and study.seeds == [0, 1]
    for seed in study.seeds:
        a1, a4 = study.runs[(1.0, seed)]["A"], study.runs[(4.0, seed)]["A"]
        b1, b4 = study.runs[(1.0, seed)]["B"], study.runs[(4.0, seed)]["B"]
        assert a1.dir == a4.dir and b1.dir != b4.dir  # synth-raf does not depend on the divergence
        assert dict(b4.data.options)["divergence"] == 4.0 and "divergence" not in dict(b1.data.options)
        ev = study.evals[(4.0, seed)]
        # the drop compares two models on the same images: the target's test split
        assert np.array_equal(ev["A→B"].y, ev["B→B"].y) and np.array_equal(ev["B→A"].y, ev["A→A"].y)
        assert np.array_equal(ev["A→B"].rows, ev["B→B"].rows)
    drops = study.drops(4.0)
    acc = [study.accuracy(4.0, s, "A→B") - study.accuracy(4.0, s, "B→B") for s in study.seeds]
    assert drops["A→B"] == pytest.approx(acc)


def test_tables_figure_and_verdict(study):
    table = study.table()
    assert list(table.index.get_level_values("divergence").unique()) == ["1", "4"]
    assert {"target's own model (%)", "cross (%)", "cross − own (points)", "beyond noise"} == set(table.columns)
    assert (table["beyond noise"].isin(["yes", "no", "—"])).all()
    fig = shift.shift_figure(study)
    assert [len(t.x) for t in fig.data] == [2, 2]
    v = shift.fig5_verdict(study)
    assert v["status"] in ("replicates", "absent", "contradicted", "uninformative") and v["seeds"] == 2
    text = shift.shift_text(study)
    assert "divergence 4" in text
    assert set(shift.growth(study)) == {"A→B", "B→A"}
    gaps = shift.group_gaps(study)
    assert shift.named_gaps(gaps).startswith(("Gaps beyond noise", "No group's gap"))
    ranks = shift.rate_confusions(study, top=3)
    assert len(ranks) == 3 and len(ranks.columns) == 4
