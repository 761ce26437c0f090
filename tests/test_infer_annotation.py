"""InFER++ §III-B/C, the annotation study of chapter 03: the assessment funnel, the expert panel, the budget and the
drivers' tables and verdicts on a small simulated crowd."""

import numpy as np
import pandas as pd
import pytest

from fernb.papers.infer import annotation


def test_expert_panel_reads_clear_faces():
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 7, 2000)
    experts = annotation.expert_labels(rng, truth, np.full(2000, 0.9))
    assert (experts == truth).mean() > 0.95  # a reliable panel on clear faces


def test_assessment_funnel_keeps_the_reliable():
    f = annotation.assessment_funnel(np.random.default_rng(0))
    assert f.kept.sum() == 30 and len(f) == 50
    assert f.alpha[f.kept].mean() > f.alpha[~f.kept].mean()
    assert f.accuracy[f.kept].min() >= f.accuracy[~f.kept].max()
    with pytest.raises(ValueError, match="n_keep=60"):
        annotation.assessment_funnel(np.random.default_rng(0), n_keep=60)
    assert "Kept 30 of 50" in annotation.funnel_text(f)
    assert len(annotation.funnel_figure(f).data) == 2


def test_budget_is_the_papers_share():
    assert annotation.budget(35789) == 6754
    assert annotation.budget(3000) == round(3000 * 6754 / 35789)
    assert annotation.ALG2("quick").model == "small_cnn" and annotation.ALG2("full").model == "resnet18"


def test_crowd_drivers_on_smoke_votes(smoke_raf):
    from fernb.annotate import dataset_votes

    votes, alpha = dataset_votes(smoke_raf)
    r = smoke_raf.records
    crowd = annotation.Crowd(smoke_raf, votes, alpha, r["true_label"].to_numpy(), r["apparent_label"].to_numpy())
    table, fitted = annotation.compare_aggregators(crowd, 0)
    assert list(table.index) == ["MajorityVote", "DawidSkene", "GLAD"]
    assert (table["accuracy vs truth"] > 0.5).all()
    glad = fitted["GLAD"]
    assert "Correlation of GLAD's estimated α" in annotation.reliability_text(crowd, glad)
    keep = votes.n_annotators - 2
    refit, dropped = annotation.drop_and_refit(crowd, glad, 0, keep=keep)
    assert len(dropped) == 2 and f"{keep} annotators" in annotation.drop_text(crowd, glad, refit, dropped)
    wrong = refit.labels_ != crowd.truth
    k = annotation.budget(len(r))
    rankings = {annotation.ALG2_ROW: np.arange(k), annotation.DOUBT_ROW: np.arange(k),
                annotation.RANDOM_ROW: np.arange(k)}
    ranking = annotation.Ranking(None, refit.labels_, np.zeros(len(r)), None, k, wrong, rankings,
                                 pd.DataFrame({"precision@k": [0.1, 0.2, 0.1]}, index=list(rankings)))
    assert "does no better than chance" in annotation.ranking_text(ranking, crowd)
    final = refit.labels_.copy()
    stages = annotation.stages_table(crowd, fitted, glad, ranking, final)
    assert stages.loc["after expert re-annotation"].item() == stages.loc["GLAD, 24 annotators"].item()
    assert len(annotation.hardest_votes_figure(crowd, ranking, final).data) == 7


def test_alg2_scores_every_image_out_of_fold(fernb_home, tmp_path):
    """Every record is scored by the network of the fold that held it out, and that network never trained on
    it: each fold's test split is disjoint from its training split and the folds cover the records once."""
    from fernb.data import load_dataset
    from fernb.train import fit

    ds = load_dataset("synth-infer", profile="smoke", progress=False)

    class Ch:
        seed = 0

        def fit(self, labels=None, data_root=None, **kw):
            cfg = dict(profile="smoke", precision="fp32", memory_format="contiguous", **kw)
            return fit(cfg, data_root=data_root, labels=labels, runs_root=tmp_path, progress=False)

    labels = ds.records["label"].to_numpy()
    losses, probs, runs = annotation.out_of_fold_scores(Ch(), ds, labels, annotation.ALG2("smoke"))
    assert len(runs) == annotation.ALG2("smoke").folds == 2
    held = [set(r.split("test").tolist()) for r in runs]
    assert held[0].isdisjoint(held[1]) and held[0] | held[1] == set(range(len(labels)))
    for r, h in zip(runs, held):
        assert h.isdisjoint(r.split("train").tolist())
    assert (losses > 0).all() and np.allclose(probs.sum(1), 1, atol=1e-4)
