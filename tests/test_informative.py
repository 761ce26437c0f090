"""The informative-run guard (issue: every number answers its question): a run that predicts fewer than three
classes, or sits within two points of the commonest class's share, is never shown as a result."""

import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from fernb.chapter import Chapter, guard_table
from fernb.eval.metrics import informative


def cm_of(pred, y, k=7):
    cm = np.zeros((k, k), int)
    np.add.at(cm, (y, pred), 1)
    return cm


def fake_run(name, cm):
    return SimpleNamespace(dir=f"/runs/{name}", informative=informative(cm))


Y = np.repeat(np.arange(7), [40, 10, 10, 10, 10, 10, 10])  # the commonest class holds 40 %


def test_the_rule_names_why_a_run_is_uninformative():
    one = informative(cm_of(np.zeros_like(Y), Y))
    assert not one["informative"] and "predicts 1 class" in one["reason"] and one["majority share"] == 0.4
    # three classes predicted but no better than the prior (accuracy 0.41 vs majority 0.40)
    pred = np.zeros_like(Y)
    pred[40:41], pred[50:51] = 1, 2
    near = informative(cm_of(pred, Y))
    assert near["classes predicted"] == 3 and not near["informative"] and "within 2 points" in near["reason"]
    # three classes predicted, every one wrong: below the prior, and the reason says "below", not "within"
    pred = np.repeat([1, 2, 0], [40, 10, 50])
    under = informative(cm_of(pred, Y))
    assert under["accuracy"] < 0.4 and "is below the commonest class's share (40.0 %)" in under["reason"]
    good = informative(cm_of(Y, Y))
    assert good["informative"] and good["reason"] == "" and good["accuracy"] == 1.0
    with pytest.raises(ValueError, match="square confusion matrix"):
        informative(np.zeros((2, 3)))


def test_tables_show_uninformative_rows_as_such_and_note_them_for_the_check(tmp_path):
    table = pd.DataFrame({"accuracy (%)": [40.0, 100.0], "note": ["a", "b"]}, index=["collapsed", "learned"])
    runs = {"collapsed": fake_run("c", cm_of(np.zeros_like(Y), Y)), "learned": fake_run("l", cm_of(Y, Y))}
    shown, notes = guard_table(table, runs, {})
    assert shown.loc["collapsed", "accuracy (%)"] == "uninformative" and shown.loc["learned", "accuracy (%)"] == 100
    assert shown.loc["collapsed", "learned?"].startswith("no: predicts 1 class")
    assert notes["collapsed"]["informative"] is False and notes["learned"]["informative"] is True
    declared, notes = guard_table(table, runs, {"collapsed": "ELR's collapse is the point"})
    assert declared.loc["collapsed", "learned?"].startswith("expected failure: ELR's collapse")
    assert notes["collapsed"]["expected"] == "ELR's collapse is the point"
    with pytest.raises(ValueError, match="rows \\['other'\\] are not in the table"):
        guard_table(table, {"other": runs["learned"]}, {})


def test_the_page_check_fails_an_undeclared_uninformative_row(tmp_path, monkeypatch):
    from fernb import book

    reports = tmp_path / "ch"
    ch = Chapter("quick", "synth-raf", tmp_path, "cpu", 0, {"kind": "synthetic"}, "ch", reports)
    (reports / "tables").mkdir(parents=True)
    table = pd.DataFrame({"accuracy": [0.4, 1.0]}, index=["collapsed", "learned"])
    runs = {"collapsed": fake_run("c", cm_of(np.zeros_like(Y), Y)), "learned": fake_run("l", cm_of(Y, Y))}
    ch.report("t", table, runs=runs)
    problems = book.uninformative_tables(reports, "ch")
    assert len(problems) == 1 and "row collapsed" in problems[0] and "predicts 1 class" in problems[0]
    ch.report("t", table, runs=runs, expected={"collapsed": "the collapse is the result"})
    assert book.uninformative_tables(reports, "ch") == []
    assert json.loads((reports / "tables" / "t.runs.json").read_text())["learned"]["runs"] == ["l"]


def test_a_headline_from_an_uninformative_run_is_refused(tmp_path):
    import json as _json

    reports = tmp_path / "ch"
    reports.mkdir()
    ch = Chapter("quick", "synth-raf", tmp_path, "cpu", 0, {"kind": "synthetic"}, "ch", reports)
    bad, good = fake_run("c", cm_of(np.zeros_like(Y), Y)), fake_run("l", cm_of(Y, Y))
    ch.headline("infer-t3", "40 %", runs=[[bad, good]])
    said = _json.loads((reports / "headlines.json").read_text())["infer-t3"]
    assert said["ours"].startswith("uninformative (1 of 2 runs learned nothing: predicts 1 class")
    ch.headline("infer-t3", "40 %", runs=[bad], expected="the collapse is the result")
    said = _json.loads((reports / "headlines.json").read_text())["infer-t3"]
    assert said["ours"] == "40 %" and "expected failure: the collapse" in said["note"]
    ch.headline("infer-t3", "100 %", runs=[good])
    assert _json.loads((reports / "headlines.json").read_text())["infer-t3"]["ours"] == "100 %"


def test_confusion_rates_divide_each_row_by_its_true_count_and_leave_an_empty_class_at_zero():
    from fernb.eval.metrics import confusion_rates

    rates = confusion_rates([[6, 2, 0], [0, 0, 0], [1, 1, 2]])
    assert np.allclose(rates, [[0.75, 0.25, 0], [0, 0, 0], [0.25, 0.25, 0.5]])
