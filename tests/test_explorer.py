"""The confusion-matrix explorer's logic, without a browser: matrices, selections, galleries, bad
input."""

import numpy as np
import pandas as pd
import pytest

from fernb.data.records import FERDataset
from fernb.eval import Evaluation
from fernb.viz import ConfusionExplorer, explore, explorer_figure
from fernb.viz.explorer import normalise

CLASSES = ("a", "b", "c")


def _dataset(tmp_path, n):
    from PIL import Image

    (tmp_path / "images").mkdir(parents=True)
    for i in range(n):
        Image.new("RGB", (16, 16), (10 * i % 255, 0, 0)).save(tmp_path / "images" / f"{i}.jpg")
    rec = pd.DataFrame(
        {
            "image": [f"images/{i}.jpg" for i in range(n)],
            "label": 0,
            "split": "test",
            "age_group": "20-29",
            "gender": "female",
            "votes_anger": 7,
            "votes_fear": 3,
            "votes_happiness": 0,
        }
    )
    return FERDataset("toy", tmp_path, rec, {"num_classes": 3, "class_names": list(CLASSES)})


def _evaluation(tmp_path, name="run", shift=0):
    y = np.array([0, 0, 0, 1, 1, 2, 2, 2])
    pred = np.array([0, 1, 1, 1, 0, 2, 2, 0])
    probs = np.full((8, 3), 0.1)
    probs[np.arange(8), (pred + shift) % 3] = np.linspace(0.5, 0.8, 8)
    ds = _dataset(tmp_path, 8)
    return Evaluation(name, y, probs, CLASSES, ds, np.arange(8))


def test_selection_of_a_cell_gives_its_images(tmp_path):
    ev = _evaluation(tmp_path)
    assert ev.confusion.tolist() == [[1, 2, 0], [1, 1, 0], [1, 0, 2]]
    ex = ConfusionExplorer([ev], thumb=24)
    items = ex.cell_images("run", "a", "b")
    assert [it["true"] for it in items] == ["a", "a"] and {it["pred"] for it in items} == {"b"}
    assert items[0]["confidence"] >= items[1]["confidence"]  # most confident first
    assert items[0]["image"].shape == (24, 24, 3)
    assert items[0]["votes"] == {"anger": 7, "fear": 3} and items[0]["gender"] == "female"
    assert ex.cell_images("run", "c", "b") == []
    rep = ev.report()
    assert rep["accuracy"] == pytest.approx(4 / 8)
    assert rep["mean_class_recall"] == pytest.approx(np.mean([1 / 3, 1 / 2, 2 / 3]))


def test_normalisations_subsets_and_difference(tmp_path):
    a, b = _evaluation(tmp_path / "1", "A"), _evaluation(tmp_path / "2", "B", shift=1)
    ex = ConfusionExplorer([a, b])
    assert ex.matrix("A", "recall").loc["a"].tolist() == pytest.approx([100 / 3, 200 / 3, 0])
    assert ex.matrix("A", "precision")["a"].sum() == pytest.approx(100)
    assert ex.matrix("A", "counts").to_numpy().sum() == 8
    sub = ex.matrix("A", "counts", classes=["a", "c"])
    assert sub.index.tolist() == ["a", "c"] and sub.to_numpy().tolist() == [[1, 0], [1, 2]]
    d = ex.difference("A", "B", "counts")
    assert (d.to_numpy() == b.confusion - a.confusion).all()
    assert normalise([[0, 0], [1, 1]], "recall").tolist() == [[0, 0], [50, 50]]


def test_bad_input_names_the_run(tmp_path):
    a = _evaluation(tmp_path)
    other = Evaluation("seven", np.zeros(2, int), np.full((2, 7), 1 / 7), tuple("abcdefg"))
    with pytest.raises(ValueError, match="evaluation 'seven' has 7 classes.*compares 3 classes"):
        ConfusionExplorer([a, other])
    relabelled = Evaluation("renamed", np.zeros(2, int), np.full((2, 3), 1 / 3), ("x", "y", "z"))
    with pytest.raises(ValueError, match="'renamed' has 3 classes \\('x', 'y', 'z'\\)"):
        explorer_figure([a, relabelled])
    with pytest.raises(ValueError, match="unknown run 'nope'.*'run'"):
        ConfusionExplorer([a]).matrix("nope")
    with pytest.raises(ValueError, match="class 'q' is not one of"):
        ConfusionExplorer([a]).cell_images("run", "q", "a")
    with pytest.raises(ValueError, match="probs must be \\(2, 3\\)"):
        Evaluation("bad", [0, 1], np.ones((2, 4)), CLASSES)
    with pytest.raises(ValueError, match="normalisation 'rows'"):
        normalise([[1]], "rows")


def test_static_figure_has_a_dropdown_per_run_and_a_gallery(tmp_path):
    a, b = _evaluation(tmp_path / "1", "A"), _evaluation(tmp_path / "2", "B", shift=1)
    fig = explorer_figure([a, b], "t", "s", cells=2, per_cell=3, thumb=16)
    norm_menu, run_menu = fig.layout.updatemenus
    assert [x.label for x in run_menu.buttons] == ["A", "B"]
    assert [x.label for x in norm_menu.buttons] == [
        "recall (row %)",
        "precision (column %)",
        "counts",
    ]
    assert run_menu.buttons[1].args[0]["visible"] == [False, False, True, True]
    assert len(fig.layout.images) == 3 and fig.layout.images[0].source.startswith(
        "data:image/jpeg;base64,"
    )
    assert "label a → predicted b" in fig.layout.annotations[0].text  # rows named as what they are
    assert fig.layout.yaxis.title.text in ("label", "crowd label")
    # the subtitle sits above the buttons, not under them
    assert fig.layout.updatemenus[0].yanchor == "bottom" and fig.layout.title.yref == "container"


def test_explore_picks_the_static_figure_in_the_book(tmp_path, monkeypatch):
    monkeypatch.setenv("FERNB_BOOK_BUILD", "1")
    fig = explore([_evaluation(tmp_path)], "t")
    assert fig.layout.meta["fernb"] == "confusion-explorer"


def test_widget_builds_and_a_click_fills_the_gallery(tmp_path):
    pytest.importorskip("ipywidgets")
    a, b = _evaluation(tmp_path / "1", "A"), _evaluation(tmp_path / "2", "B", shift=1)
    ex = ConfusionExplorer([a, b], thumb=16)
    w = ex.widget()
    run, other = w.children[0].children
    other.value = "B"
    w.children[1].children[1].value = "difference"
    gallery = ex._gallery_widget("A", "a", "b")
    assert (
        len(gallery.children[1].children) == 2
    )  # two thumbnails in the cell true a -> predicted b


def test_rows_are_named_crowd_labels_where_the_labels_are_the_crowds():
    import pandas as pd

    from fernb.eval import Evaluation

    class Data:
        def __init__(self, cols):
            self.records = pd.DataFrame({c: [0, 1] for c in cols})

    probs = np.array([[0.9, 0.1], [0.2, 0.8]])
    synth = Evaluation("s", np.array([0, 1]), probs, ("a", "b"), Data(["label", "true_label"]), np.arange(2))
    real = Evaluation("r", np.array([0, 1]), probs, ("a", "b"), Data(["label"]), np.arange(2))
    assert synth.label_name == "crowd label" and real.label_name == "label"
    assert explorer_figure([synth]).layout.yaxis.title.text == "crowd label"


def test_a_note_the_subtitle_already_gives_is_said_once_and_the_menus_do_not_overlap():
    from fernb.eval import Evaluation

    probs = np.array([[0.9, 0.1], [0.2, 0.8]])
    evs = [Evaluation(n, np.array([0, 1]), probs, ("a", "b"), note="balanced test, 2 per class")
           for n in ("a run with a long name", "another")]
    fig = explorer_figure(evs, subtitle="balanced test, 2 per class; SynthFER")
    assert fig.layout.title.text.count("balanced test, 2 per class") == 1
    buttons, dropdown = fig.layout.updatemenus
    assert dropdown.y > buttons.y  # the run menu on its own line above the normalisation buttons


def test_the_accuracy_cost_figure_draws_one_marker_per_model_and_cost():
    from fernb.viz import accuracy_macs_figure

    pts = pd.DataFrame({"model": ["a", "a", "a", "b"], "macs_m": [10.0, 10.0, 10.0, 50.0],
                        "accuracy": [0.5, 0.7, 0.6, 0.8], "dataset": ["synth-raf"] * 4, "source": ["fernb"] * 4,
                        "img_size": [64] * 4, "params_m": [1.0] * 4})
    trace = accuracy_macs_figure(pts).data[0]
    assert list(trace.text) == ["a (3)", "b"] and list(trace.y) == [0.6, 0.8]
    assert list(trace.error_y.array) == pytest.approx([0.1, 0.0]) and list(trace.error_y.arrayminus) == \
        pytest.approx([0.1, 0.0])


def test_labels_of_close_markers_stand_in_a_column_without_overlap():
    from fernb.viz.figures import label_layout

    spots = label_layout([126, 147, 154, 1800], [0.863, 0.871, 0.884, 0.87], (0.8, 0.95), plot_px=300, gap_px=15)
    gap = 15 * 0.15 / 300
    column = [spots[i] for i in range(3)]
    assert len({round(x, 6) for x, _ in column}) == 1 and column[0][0] > np.log10(154)  # right of the cluster
    ys = sorted(y for _, y in column)
    assert all(b - a >= gap - 1e-9 for a, b in zip(ys, ys[1:]))  # never closer than the gap
    assert [i for i in sorted(range(3), key=lambda i: -spots[i][1])] == [2, 1, 0]  # in order of accuracy
    assert spots[3] == (pytest.approx(np.log10(1800) + 0.04), 0.87)  # a lone marker keeps its height
