"""Crowd-label aggregation (InFER++ §III-B/C): hand computations, recovery on simulated crowds, and bad votes."""

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from fernb.annotate import GLAD, DawidSkene, MajorityVote, as_votes, drop_unreliable
from fernb.data.synth import crowd


@pytest.fixture(scope="module")
def simulated():
    rng = np.random.default_rng(1)
    n, m = 3000, 30
    truth = rng.integers(0, 7, n)
    beta = crowd.inverse_difficulty(rng.beta(2.0, 1.2, n))
    alpha = crowd.sample_annotators(rng, m)
    votes = crowd.simulate_votes(rng, truth, beta, alpha, 10)
    return votes, truth, alpha


def test_majority_vote_by_hand():
    votes = ([0, 0, 0, 1, 1, 2, 2], [0, 1, 2, 0, 1, 0, 1], [3, 3, 1, 5, 5, 2, 4])
    mv = MajorityVote().fit(votes)
    assert mv.labels_[:2].tolist() == [3, 5]
    np.testing.assert_allclose(mv.proba_[0, [1, 3]], [1 / 3, 2 / 3])
    assert mv.labels_[2] in (2, 4) and mv.n_ties_ == 1
    # ties are broken at random, not always towards the lower class id
    picks = {MajorityVote(seed=s).fit(votes).labels_[2] for s in range(20)}
    assert picks == {2, 4}
    assert as_votes(votes).counts[0].tolist() == [0, 1, 0, 2, 0, 0, 0]


def test_glad_e_step_matches_eq_1_and_3_by_hand():
    """Image 0 gets label 0 from annotator 0 (α=2) and label 1 from annotator 1 (α=0); β=1, K=3, uniform prior."""
    v = as_votes(([0, 0], [0, 1], [0, 1]), n_classes=3)
    post, _ = GLAD(n_classes=3)._e_step(v, np.array([2.0, 0.0]), np.array([0.0]), np.log(np.full(3, 1 / 3)))
    right = lambda a: expit(a)  # noqa: E731  (Eq. 1 with β = 1)
    wrong = lambda a: (1 - expit(a)) / 2  # noqa: E731
    unnorm = np.array([right(2) * wrong(0), wrong(2) * right(0), wrong(2) * wrong(0)])
    np.testing.assert_allclose(post[0], unnorm / unnorm.sum(), rtol=1e-10)  # Eq. 3


def test_aggregators_beat_majority_vote_and_find_the_spammers(simulated):
    votes, truth, alpha = simulated
    mv = MajorityVote().fit(votes)
    ds = DawidSkene().fit(votes)
    glad = GLAD().fit(votes)
    acc = {name: (est.labels_ == truth).mean() for name, est in (("mv", mv), ("ds", ds), ("glad", glad))}
    assert acc["glad"] >= acc["mv"] and acc["ds"] >= acc["mv"], acc
    assert np.corrcoef(glad.alphas_, alpha)[0, 1] > 0.9
    assert np.isfinite(glad.proba_).all() and np.allclose(glad.proba_.sum(1), 1)
    assert (glad.betas_ > 0).all() and glad.n_iter_ <= glad.max_iter
    # the least reliable annotators by GLAD are the simulated spammers
    left, dropped = drop_unreliable(votes, glad.alphas_, keep=24)
    assert set(dropped) == set(np.argsort(alpha)[:6])
    again = GLAD().fit(left)
    assert (again.labels_ == truth).mean() >= acc["glad"] - 0.005


def test_dataframe_input_and_degenerate_crowds():
    df = pd.DataFrame({"image": [0, 0, 1, 1], "annotator": [0, 1, 0, 1], "label": [2, 2, 6, 6]})
    for est in (MajorityVote(), DawidSkene(), GLAD()):
        fitted = est.fit(df)  # everybody agrees on everything: the unanimous labels, finite, terminates
        assert fitted.labels_.tolist() == [2, 6] and np.isfinite(fitted.proba_).all()
    single = ([0, 1, 2], [0, 0, 0], [1, 4, 4])  # one annotator: his labels are the only evidence
    for est in (MajorityVote(), DawidSkene(), GLAD()):
        assert est.fit(single).labels_.tolist() == [1, 4, 4]
    adversary = ([0, 0, 0, 1, 1, 1], [0, 1, 2, 0, 1, 2], [0, 0, 5, 3, 3, 1])
    g = GLAD().fit(adversary)
    assert np.isfinite(g.alphas_).all() and np.isfinite(g.betas_).all()


@pytest.mark.parametrize("votes,message", [
    (([0, 1], [0, 0], [3, 7]), "label at row 1 is 7; expected 0..6"),
    (([0, 1], [0, 0], [3, -1]), "label at row 1 is -1"),
    (([0.0, np.nan], [0, 0], [3, 2]), "image at row 1 is nan"),
    (([0, 2], [0, 0], [3, 2]), "1 image.*have no votes .first: 1."),
    (([0, 1], [0, 2], [3, 2]), "1 annotator.*have no votes .first: 1."),
    (([], [], []), "no votes"),
    (([0, 1], [0], [3, 2]), "differ in length"),
    (pd.DataFrame({"image": [0], "worker": [0], "label": [1]}), r"lacks column\(s\) \['annotator'\]"),
])
def test_bad_votes_are_named(votes, message):
    with pytest.raises(ValueError, match=message):
        GLAD().fit(votes)


def test_drop_unreliable_arguments(simulated):
    votes, _, _ = simulated
    alphas = np.linspace(-1, 2, 30)
    _, dropped = drop_unreliable(votes, alphas, threshold=0.0)
    assert dropped.tolist() == list(range(10))
    with pytest.raises(ValueError, match="exactly one"):
        drop_unreliable(votes, alphas, threshold=0.0, keep=3)
    with pytest.raises(ValueError, match="keep=0"):
        drop_unreliable(votes, alphas, keep=0)
    with pytest.raises(ValueError, match="no votes"):
        drop_unreliable(votes, alphas, keep=1)
    with pytest.raises(ValueError, match="alphas has 3 entries"):
        drop_unreliable(votes, alphas[:3], keep=1)


def test_ranking_helpers():
    from fernb.annotate import label_losses, precision_recall_at_k, top_k

    assert top_k(np.array([0.1, 0.9, 0.5, 0.9]), 3).tolist() == [1, 3, 2]
    with pytest.raises(ValueError, match="budget k=5"):
        top_k(np.zeros(4), 5)
    wrong = np.array([True, False, True, True, False])
    assert precision_recall_at_k(np.array([0, 1]), wrong) == (0.5, pytest.approx(1 / 3))
    logits = np.tile(np.log([0.5, 0.2, 0.1, 0.1, 0.05, 0.03, 0.02]), (5, 1))
    losses = label_losses(logits, np.array([0, 1, 2, 3, 4]))
    np.testing.assert_allclose(losses, -np.log([0.5, 0.2, 0.1, 0.1, 0.05]), rtol=1e-5)
    with pytest.raises(ValueError, match="5 rows of logits but 4 labels"):
        label_losses(logits, np.arange(4))


def test_dataset_votes_reads_synthfer(smoke_raf, tmp_path):
    from fernb.annotate import dataset_votes

    v, alpha = dataset_votes(smoke_raf)
    assert v.n_images == len(smoke_raf.records) and len(alpha) == v.n_annotators
    # the vote vectors agree with the published votes_* columns of records.csv
    cols = [c for c in smoke_raf.records.columns if c.startswith("votes_")]
    np.testing.assert_array_equal(v.counts, smoke_raf.records[cols].to_numpy())

    class Fake:
        root, records = tmp_path, smoke_raf.records
    with pytest.raises(FileNotFoundError, match="ships no per-annotator votes"):
        dataset_votes(Fake)

