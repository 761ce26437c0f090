"""crowd-kit's answer table works as is: ``task, worker, label`` columns, string ids and label values, results back by
the caller's ids, and on crowd-kit's own fixtures (tests/crowdkit_fixtures.py) the outcomes its tests assert."""

import numpy as np
import pandas as pd
import pytest
from crowdkit_fixtures import (BOOL, BOOL_TRUTH, DS_LABELS, DS_PRIORS, DS_PROBAS, DS_STEPS, SIMPLE, SIMPLE_TRUTH, TOY,
                               TOY_COLUMNS, TOY_MV, TOY_TRUTH)

from fernb.annotate import GLAD, DawidSkene, MajorityVote, as_votes

TABLES = {"toy": (TOY, TOY_TRUTH), "simple": (SIMPLE, SIMPLE_TRUTH), "bool": (BOOL, BOOL_TRUTH)}


def _table(rows, columns=TOY_COLUMNS):
    return pd.DataFrame(rows, columns=list(columns))


def _truth(d):
    return pd.Series(d, name="agg_label").rename_axis("task").sort_index()


@pytest.mark.parametrize("name", TABLES)
@pytest.mark.parametrize("max_iter,tol", [(100, 0.0), (100500, 1e-5)])  # crowd-kit's n_iter, tol pairs
def test_glad_and_dawid_skene_give_crowdkits_labels(name, max_iter, tol):
    rows, truth = TABLES[name]
    table = _table(rows)
    for est in (GLAD(max_iter=max_iter, tol=tol), DawidSkene(max_iter=max_iter, tol=tol)):
        labels = est.fit_predict(table)
        pd.testing.assert_series_equal(labels.sort_index(), _truth(truth))
        proba = est.proba_
        assert list(proba.index) == list(labels.index) and proba.columns.name == "label"
        assert np.allclose(proba.sum(axis=1), 1) and ((proba >= 0) & (proba <= 1)).all().all()
        pd.testing.assert_frame_equal(est.fit_predict_proba(table), proba)


def test_the_alpha_priors_strength_decides_the_simple_fixture():
    """With a N(1, 1) prior (precision 1) six votes do not outweigh the prior: the fraud's α stays positive, the
    reliable worker's stays close to a middling one's, and a three-way split (chicken, parrot, goose) goes to the
    wrong label; the default precision lets the votes speak (GLAD.alpha_prior, aggregators.ALPHA_PRIOR)."""
    table, task = _table(SIMPLE), "1231239876--5fac0d234ffb2f3b00893efd"
    fraud = "0c3eb7d5fcc414db137c4180a654c06e"
    strong, default = GLAD(alpha_prior=1.0).fit(table), GLAD().fit(table)
    assert strong.labels_[task] != SIMPLE_TRUTH[task] and default.labels_[task] == SIMPLE_TRUTH[task]
    assert default.alphas_[fraud] < 0 < strong.alphas_[fraud]  # the data call the fraud worse than random
    assert default.alphas_.idxmin() == fraud and default.alphas_.index.name == "worker"
    assert default.betas_.index.name == "task" and (default.betas_ > 0).all()
    with pytest.raises(ValueError, match="alpha_prior must be a precision >= 0"):
        GLAD(alpha_prior=-1)


def test_majority_vote_on_toy_and_simple():
    mv = MajorityVote().fit(_table(TOY))
    tied = {"t1"}  # two votes each way: crowd-kit breaks it at random too
    assert {t: v for t, v in mv.labels_.items() if t not in tied} == {t: v for t, v in TOY_MV.items() if t not in tied}
    assert mv.labels_["t1"] in ("yes", "no") and mv.n_ties_ == 1
    assert mv.proba_.loc["t2"].to_dict() == {"no": 0.4, "yes": 0.6}
    pd.testing.assert_series_equal(MajorityVote().fit_predict(_table(SIMPLE)).sort_index(), _truth(SIMPLE_TRUTH))


@pytest.mark.parametrize("n_iter", [0, 1])
def test_dawid_skene_step_by_step(n_iter):
    """crowd-kit's DawidSkene(n_iter) posteriors, priors and labels after 0 and 1 EM iterations; ours counts the
    majority-vote start as its first pass and takes no smoothing there to compare."""
    ds = DawidSkene(max_iter=n_iter, smoothing=0.0, tol=0.0) if n_iter else MajorityVote()
    ds.fit(_table(DS_STEPS, ("task", "worker", "label")))
    want = pd.DataFrame(DS_PROBAS[n_iter], index=["no", "yes"]).T
    np.testing.assert_allclose(ds.proba_.loc[want.index, ["no", "yes"]], want, atol=0.005)
    if n_iter:
        np.testing.assert_allclose(ds.priors_[["no", "yes"]], DS_PRIORS[0], atol=0.005)
    decided = [t for t, p in DS_PROBAS[n_iter].items() if p[0] != p[1]]
    assert {t: ds.labels_[t] for t in decided} == {t: DS_LABELS[n_iter][t] for t in decided}


def test_any_hashable_ids_and_label_values_and_fernbs_own_columns():
    rows = [((1, "a"), 3.5, "happy"), ((1, "a"), "ann", "happy"), ((2, "b"), 3.5, "sad"), ((2, "b"), "ann", "sad")]
    table = _table(rows, ("task", "worker", "label"))
    glad = GLAD().fit(table)
    assert glad.labels_.to_dict() == {(1, "a"): "happy", (2, "b"): "sad"}
    assert set(glad.alphas_.index) == {3.5, "ann"}
    named = table.rename(columns={"task": "image", "worker": "annotator"})  # fernb's names keep working, keyed
    assert MajorityVote().fit(named).labels_.to_dict() == {(1, "a"): "happy", (2, "b"): "sad"}
    ints = pd.DataFrame({"image": [0, 0, 1], "annotator": [0, 1, 0], "label": [2, 2, 5]})
    assert isinstance(MajorityVote().fit(ints).labels_, np.ndarray)  # the integer form stays arrays
    assert as_votes(table).n_classes == 2 and as_votes(table).n_images == 2


def test_integer_labels_with_n_classes_are_class_ids():
    table = _table([("w1", "t1", 0), ("w2", "t1", 0), ("w1", "t2", 4)])
    mv = MajorityVote(n_classes=7).fit(table)
    assert list(mv.proba_.columns) == list(range(7)) and mv.labels_.to_dict() == {"t1": 0, "t2": 4}
    assert list(MajorityVote().fit(table).proba_.columns) == [0, 4]  # otherwise the values seen


@pytest.mark.parametrize("table,message", [
    (_table([("w1", "t1", "yes"), (None, "t2", "no")]), "worker at row 1 is missing"),
    (_table([("w1", "t1", "yes"), ("w1", "t2", np.nan)]), "label at row 1 is missing"),
    (pd.DataFrame({"task": ["t1"], "annotator": ["w1"], "label": ["no"]}), "lacks column.*task, worker, label as in"),
    (_table([], TOY_COLUMNS), "no votes"),
])
def test_bad_tables_are_named(table, message):
    with pytest.raises(ValueError, match=message):
        GLAD().fit(table)


def test_n_classes_against_label_values():
    with pytest.raises(ValueError, match="n_classes=7, but the votes hold 2 distinct label values"):
        GLAD(n_classes=7).fit(_table(TOY))


def test_drop_unreliable_takes_and_gives_back_the_table():
    from fernb.annotate import drop_unreliable

    table = _table(SIMPLE)
    glad = GLAD().fit(table)
    kept, dropped = drop_unreliable(table, glad.alphas_, threshold=0.0)
    assert list(dropped) == ["0c3eb7d5fcc414db137c4180a654c06e"]  # the fraud
    assert isinstance(kept, pd.DataFrame) and set(kept.worker) == set(table.worker) - set(dropped)
    with pytest.raises(ValueError, match="alphas has no value for worker"):
        drop_unreliable(table, glad.alphas_.iloc[1:], keep=3)
