import os

import pytest

from fernb import book, chapter
from fernb.data.manifest import load_manifest
from fernb.data.records import validate_records
from fernb.viz import confusion_matrix_figure, setup_plotly


def test_run_rejects_unknown_chapters_and_parameters():
    with pytest.raises(ValueError, match="unknown chapter '00_quikstart'.*00_quickstart"):
        book.run("00_quikstart")
    with pytest.raises(ValueError, match="no parameter 'epochs'.*profile"):
        book.run("00_quickstart", {"epochs": 3})
    with pytest.raises(ValueError, match="profile='fast' is not a profile"):
        book.run("00_quickstart", {"profile": "fast"})


def test_cli_values_are_typed():
    assert book._parse_params([["seed", "3"], ["data_root", "null"], ["profile", "smoke"]]) == {
        "seed": 3, "data_root": None, "profile": "smoke"}


def test_setup_names_the_bad_parameter(tmp_path):
    with pytest.raises(ValueError, match="profile='medium'.*smoke, quick, long, full"):
        chapter.setup(profile="medium")
    with pytest.raises(ValueError, match="dataset='rafdb' is not available in this chapter"):
        chapter.setup(dataset="rafdb", datasets=["synth-raf", "synth-infer"])
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        chapter.setup(seed="1")
    with pytest.raises(TypeError, match="data_root must be a path"):
        chapter.setup(data_root=3)
    with pytest.raises(ValueError, match="device='tpu'"):
        chapter.setup(device="tpu")
    blocker = tmp_path / "f"
    blocker.write_text("x")
    with pytest.raises(PermissionError, match="data_root="):
        chapter.setup(data_root=str(blocker / "sub"))
    with pytest.raises(ModuleNotFoundError, match="pip install nothere"):
        chapter.require("fernb_not_a_module", "pip install nothere")
    ch = chapter.setup(profile="smoke", data_root=str(tmp_path / "ok"))
    assert ch.synthetic and ch.report_dir is None and ch.name is None  # outside the book runner: no report
    with pytest.raises(TypeError, match="report must be a folder path"):
        chapter.setup(profile="smoke", data_root=str(tmp_path / "ok"), report=3)
    ch = chapter.setup(profile="smoke", data_root=str(tmp_path / "ok"), name="00_x", report=tmp_path / "rep")
    assert ch.report_dir == (tmp_path / "rep").resolve() and ch.report_dir.is_dir()


def test_manifest_errors(tmp_path, monkeypatch):
    (tmp_path / "broken.yaml").write_text("name: broken\nlabels: {ids: {0: anger}\n  bad")
    monkeypatch.setenv("FERNB_MANIFESTS", str(tmp_path))
    with pytest.raises(ValueError, match=r"broken.yaml does not parse at line \d+"):
        load_manifest("broken")
    (tmp_path / "nolabels.yaml").write_text("name: x\nkind: real\nlayout: {}\nlabels: {ids: {1: joy}}\nsplits: []\nimage: {}\ncitation: x\n")
    with pytest.raises(ValueError, match="unknown expressions"):
        load_manifest("nolabels")


def test_record_validation_names_rows():
    import pandas as pd

    ok = pd.DataFrame({"image": ["a.jpg", "b.jpg"], "label": [0, 6], "split": ["train", "test"]})
    assert validate_records(ok, "t.csv")["label"].dtype == "int64"
    with pytest.raises(ValueError, match="missing required columns \\['split'\\]"):
        validate_records(ok.drop(columns="split"), "t.csv")
    with pytest.raises(ValueError, match="t.csv: row 2: label 9"):
        validate_records(ok.assign(label=[0, 9]), "t.csv")
    with pytest.raises(ValueError, match="row 2: image 'a.jpg' is listed more than once"):
        validate_records(ok.assign(image=["a.jpg", "a.jpg"]), "t.csv")
    with pytest.raises(ValueError, match="escapes the dataset root"):
        validate_records(ok.assign(image=["../x.jpg", "b.jpg"]), "t.csv")
    with pytest.raises(ValueError, match="row 1: split 'dev'"):
        validate_records(ok.assign(split=["dev", "test"]), "t.csv")


def test_confusion_matrix_explorer():
    cm = [[8, 2], [1, 9]]
    fig = confusion_matrix_figure(cm, labels=["a", "b"])
    z = fig.data[0].z
    assert z[0][0] == pytest.approx(80) and z[1][1] == pytest.approx(90)
    labels = [b.label for b in fig.layout.updatemenus[0].buttons]
    assert labels == ["recall (row %)", "precision (column %)", "counts"]
    assert fig.layout.updatemenus[0].buttons[2].args[0]["z"][0].tolist() == [[8, 2], [1, 9]]


def test_book_renderer_writes_html_without_plotly_js(monkeypatch):
    import plotly.io as pio

    monkeypatch.setenv("FERNB_BOOK_BUILD", "1")
    old = pio.renderers.default
    try:
        assert setup_plotly() == "fernb_book"
        bundle = pio.renderers["fernb_book"].to_mimebundle(confusion_matrix_figure([[1, 0], [0, 1]], labels=["a", "b"]).to_dict())
        html = bundle["text/html"]
        assert "Plotly.newPlot" in html and len(html) < 200_000  # the library itself is not inlined
    finally:
        pio.renderers.default = old


def test_expression_examples_pick_one_clear_image_per_class(smoke_raf):
    from fernb.viz import expression_examples

    ims = expression_examples(smoke_raf)
    assert len(ims) == 7 and all(im is None or im.shape == (128, 128, 3) for im in ims)
    assert sum(im is not None for im in ims) == 7


def test_timings_report_and_page(tmp_path, monkeypatch):
    import json

    import nbformat

    monkeypatch.setattr(book, "BUILD", tmp_path)
    executed = []
    for name, secs in (("00_a", 100.0), ("01_b", 250.0)):
        nb = nbformat.v4.new_notebook()
        nb.metadata["fernb"] = {"seconds": secs}
        path = tmp_path / f"{name}.ipynb"
        nbformat.write(nb, path)
        executed.append(path)
    report = book.timings(executed, "quick")
    assert report["total_s"] == 350.0 and report["mean_s"] == 175.0 and report["over_budget"] == ["01_b"]
    assert json.loads((tmp_path / "timings-quick.json").read_text())["chapters"] == {"00_a": 100.0, "01_b": 250.0}
    page = book.timings_page(report)
    assert "| 01_b | 250 | 4.2 |" in page and "within the 30-minute budget" in page


def test_page_check_finds_what_a_page_must_not_show():
    import nbformat

    nb = nbformat.v4.new_notebook()
    clean = nbformat.v4.new_code_cell("x = 1", outputs=[nbformat.v4.new_output("stream", text="accuracy 0.9\n")])
    nb.cells = [clean]
    assert book.page_problems(nb, "ch") == []
    planted = [
        nbformat.v4.new_output("stream", name="stderr",
                               text="/x/fernb/train.py:3: UserWarning: something changed\n"),
        nbformat.v4.new_output("stream", text="stored in /tmp/pytest-7/runs/abc\n"),
        nbformat.v4.new_output("display_data", data={"text/html": "<table><td>NaN</td></table>"}),
        nbformat.v4.new_output("error", ename="ValueError", evalue="bad", traceback=[]),
    ]
    nb.cells = [clean, nbformat.v4.new_code_cell("y = '" + "a" * 100 + "'", outputs=planted)]
    found = "\n".join(book.page_problems(nb, "ch"))
    for what in ("Python warning", "absolute local path", "NaN/None shown in a table", "raised ValueError",
                 "characters wide"):
        assert what in found, what


def test_tables_show_dashes_and_meaningful_orders():
    import numpy as np
    import pandas as pd

    from fernb.labels import category_key
    from fernb.viz.tables import dashed

    df = pd.DataFrame({"a": [1.23456, np.nan], "b": ["x", None]})
    shown = dashed(df, 2)
    assert shown.loc[1, "a"] == "—" and shown.loc[1, "b"] == "—" and shown.loc[0, "a"] == 1.23
    assert sorted(["30-59", "other", "5-10", "60+"], key=category_key) == ["5-10", "30-59", "60+", "other"]
    assert sorted(["none", "10", "9", "bindi"], key=category_key) == ["9", "10", "bindi", "none"]
    from fernb.viz.tables import numbers

    shown = numbers(pd.DataFrame({"clean": [2156.0, 0.8171, np.nan]}))
    assert shown["clean"].tolist() == ["2156", "0.817", "—"]
    from fernb.viz.tables import without_empty_columns

    df = pd.DataFrame({"note": ["", None], "acc": [0.5, np.nan], "gone": [np.nan, np.nan], "zero": [0, 0]})
    assert without_empty_columns(df).columns.tolist() == ["acc", "zero"]  # a 0 or one missing cell is kept
    from fernb.viz.tables import without_constant_levels

    df = pd.DataFrame({"model": ["m", "m"], "start": ["a", "b"], "acc": [0.1, 0.2]}).set_index(["model", "start"])
    kept, words = without_constant_levels(df)
    assert kept.index.names == ["start"] and words == "model m"
    kept, words = without_constant_levels(df.iloc[:1])  # one row: nothing to fold
    assert kept.index.names == ["model", "start"] and words == ""


def test_paths_are_shown_relative_to_fernb_home(tmp_path, monkeypatch):
    import nbformat

    from fernb import paths

    monkeypatch.setenv("FERNB_HOME", str(tmp_path / "home"))
    assert paths.shown(tmp_path / "home" / "runs" / "abc") == "$FERNB_HOME/runs/abc"
    assert paths.shown("/somewhere/deep/inside/x") == "…/inside/x"
    nb = nbformat.v4.new_notebook()
    out = nbformat.v4.new_output("stream", text=f"stored in {tmp_path / 'home' / 'runs'}\n")
    nb.cells = [nbformat.v4.new_code_cell("print(run.dir)", outputs=[out])]
    assert any("this machine's folder" in p for p in book.page_problems(nb))
