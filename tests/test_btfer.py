"""BTFER benchmark (fernb.eval.btfer): the specification as data, resumption through the registry, the balanced test
set, label qualities, and the summaries beside the paper's tables."""

import numpy as np
import pandas as pd
import pytest

from fernb.data import load_dataset
from fernb.eval import btfer
from fernb.train import StopAfterEpoch

TINY = dict(epochs=2, batch_size=32, max_batches_per_epoch=2)


def spec(**kw):
    base = dict(models=["btfer_lenet5"], profile="smoke", train=TINY, weightings=["conservative"])
    return btfer.BenchmarkSpec(**{**base, **kw})


def test_paper_tables_hold_tables_2_and_3():
    t = btfer.paper_tables()
    assert len(t) == 2 * 3 * (25 + 20)  # weightings × training sets × paper rows (Table 2: 25, Table 3: 20)
    row = t[(t.paper_model == "ResNet50 - VF") & (t.paper_dataset == "RAF-DB") & (t.weighting == "simple")]
    assert row.paper_val_acc.item() == 0.86 and row.paper_test_acc.item() == 0.62
    assert row.model.item() == "btfer_resnet50" and row.start.item() == "vggface"
    assert set(t.model.dropna()) <= set(__import__("fernb.models", fromlist=["x"]).list_models())
    assert t[t.model.isna()].paper_model.unique().tolist() == ["NasNet", "Mediapipe Feature Extraction + VGGNet"]


def test_specification_expands_and_bad_names_fail_before_training():
    rows = spec(models=["btfer_lenet5", "btfer_vgg16"], starts=["scratch", "vggface"],
                weightings=["simple", "conservative"], seeds=[0, 1]).rows()
    assert len(rows) == 2 * 2 * 2 * 2
    trained = [r for r in rows if r.config is not None]
    assert {(r.model, r.start) for r in trained} == {("btfer_lenet5", "scratch"), ("btfer_vgg16", "scratch")}
    assert all(r.config.epochs == 2 and r.config.freeze_epochs == 0 for r in trained)
    vf = [r for r in rows if r.model == "btfer_vgg16" and r.start == "vggface"]
    assert all("VGGFace weight file" in r.skipped for r in vf)
    lenet_vf = [r for r in rows if r.model == "btfer_lenet5" and r.start == "vggface"]
    assert all("no VGGFace" in r.skipped for r in lenet_vf)
    with pytest.raises(ValueError, match="unknown model 'btfer_lenet'"):
        spec(models=["btfer_lenet"])
    with pytest.raises(ValueError, match="unknown start 'imagenett' \\(did you mean 'imagenet'"):
        spec(starts=["imagenett"])
    with pytest.raises(ValueError, match="unknown class weighting 'simpel'"):
        spec(weightings=["simpel"])
    with pytest.raises(ValueError, match="only SynthFER knows the true labels"):
        spec(train_sets=["fer2013:true"])
    with pytest.raises(ValueError, match="label quality 'noisy' is unknown"):
        spec(train_sets=["synth-raf:noisy"])
    with pytest.raises(ValueError, match="must not set \\['model'\\]"):
        spec(train={"model": "x"})
    with pytest.raises(ValueError, match="models must be a non-empty list"):
        spec(models="btfer_lenet5")


def test_pretrained_start_with_weights_present_trains_in_two_stages(tmp_path):
    import torch

    from fernb.models import create

    path = tmp_path / "vgg16-face.pt"
    torch.save(create("btfer_vgg16", img_size=48).features.state_dict(), path)
    rows = spec(models=["btfer_vgg16"], starts=["vggface"], weight_files={"btfer_vgg16": path},
                freeze_epochs=3).rows()
    assert rows[0].skipped is None and rows[0].config.freeze_epochs == 3
    assert rows[0].config.model_kwargs["pretrained"] == str(path)


def test_label_qualities_differ_from_truth_as_expected(smoke_raf):
    truth = smoke_raf.records["true_label"].to_numpy()
    assert btfer.training_labels(smoke_raf, "plurality") is None
    assert (btfer.training_labels(smoke_raf, "true") == truth).all()
    one = btfer.training_labels(smoke_raf, "one_annotator", seed=0)
    assert one.shape == truth.shape and not (one == btfer.training_labels(smoke_raf, "one_annotator", 1)).all()
    votes = smoke_raf.records[[c for c in smoke_raf.records if c.startswith("votes_")]].to_numpy()
    assert (votes[np.arange(len(one)), one] > 0).all()  # every drawn label is a vote that image received
    noise = btfer.label_noise(smoke_raf)
    assert noise["true"] == 0 and noise["plurality"] < noise["one_annotator"]


def test_balanced_test_set_synthetic_and_real_checks(tmp_path, mocks):
    test = btfer.balanced_test_set(profile="smoke", per_class=5)
    assert test.dataset.name == "synth-infer" and (test.counts() == 5).all()
    assert (test.y == test.dataset.records["true_label"].to_numpy()[test.rows]).all()
    with pytest.raises(ValueError, match="ask for per_class <="):
        btfer.balanced_test_set(profile="smoke", per_class=1000)
    with pytest.raises(ValueError, match="BTFER is 7 × 300"):
        btfer.balanced_test_set(mocks["btfer"])
    with pytest.raises(ValueError, match="dataset='rafdb' is a real training set: set btfer_root"):
        btfer.balanced_test_set(profile="smoke", per_class=5, trained_on="rafdb")


class StopModel(StopAfterEpoch):
    """A crash after one epoch of one model's run (the second row of the benchmark)."""

    def __init__(self, model):
        super().__init__(1)
        self.model = model

    def on_epoch_end(self, trainer, record):
        if trainer.cfg.model == self.model:
            super().on_epoch_end(trainer, record)


def test_killed_benchmark_resumes_without_retraining_finished_rows(tmp_path):
    s = spec(models=["btfer_lenet5", "btfer_seq_simple"])
    runs = tmp_path / "runs"
    assert btfer.plan(s, runs_root=runs).state.tolist() == ["pending", "pending"]
    with pytest.raises(KeyboardInterrupt):  # the second row dies after its first epoch
        btfer.run_benchmark(s, runs_root=runs, callbacks=[StopModel("btfer_seq_simple")])
    assert btfer.plan(s, runs_root=runs).state.tolist() == ["done", "partial"]
    first = runs / btfer.plan(s, runs_root=runs).run[0]
    stamp = (first / "model.pt").stat().st_mtime_ns
    result = btfer.run_benchmark(s, runs_root=runs)
    assert result.table.state.tolist() == ["found", "resumed"]
    assert (first / "model.pt").stat().st_mtime_ns == stamp  # the finished row was not retrained
    assert len(result.runs[1].history) == 2
    assert btfer.run_benchmark(s, runs_root=runs).table.state.tolist() == ["found", "found"]


def test_scores_and_summaries(tmp_path):
    runs = tmp_path / "runs"
    s = spec(weightings=["simple", "conservative"], seeds=[0, 1],
             train_sets=["synth-raf", "synth-raf:true", "synth-raf:one_annotator"])
    result = btfer.score(btfer.run_benchmark(s, runs_root=runs), btfer.balanced_test_set(profile="smoke",
                                                                                       per_class=4))
    t = result.table
    assert len(t) == 12 and t.test_acc.between(0, 1).all() and t.val_acc.between(0, 1).all()
    assert set(result.evaluations) == set(range(12))
    q = btfer.label_quality(t)
    assert set(q.labels) == set(btfer.LABEL_QUALITIES) and (q.seeds == 2).all()
    w = btfer.weighting_gap(t)
    assert w.start_kind.tolist() == ["scratch"] and w.pairs.item() == 6
    side = btfer.side_by_side(btfer.beside_paper(t, 48, train_set="synth-raf"))
    lenet = side.loc[("LeNet5 *", "scratch")]
    assert lenet[("simple", "paper val")] == 0.53 and lenet[("conservative", "ours test")] == pytest.approx(
        t[(t.train_set == "synth-raf") & (t.weighting == "conservative")].test_acc.mean())
    best = btfer.best_per_resolution(t)
    assert best.pick.tolist() == ["best", "best under 5M"]
    assert isinstance(btfer.top_models(t, 48), pd.DataFrame)
