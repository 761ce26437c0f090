"""BTFER benchmark (fernb.papers.btfer): the specification as data, resumption through the registry, the balanced test
set, label qualities, and the summaries beside the paper's tables."""

import numpy as np
import pandas as pd
import pytest

from fernb.data import load_dataset
from fernb.papers import btfer
from fernb.papers.btfer import verdicts as V
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
    test = btfer.balanced_test_set(profile="smoke", per_class=4)
    result = btfer.score_on_balanced_test(btfer.run_benchmark(s, runs_root=runs), test)
    t = result.table
    assert len(t) == 12 and t.test_acc.between(0, 1).all() and t.val_acc.between(0, 1).all()
    assert set(result.evaluations) == set(range(12)) and t.informative.isin([True, False]).all()
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


class Ch:
    """The chapter attributes the drivers read (fernb.chapter.Chapter without the set-up)."""

    def __init__(self, profile, dataset="synth-raf", seed=0):
        self.profile, self.dataset, self.seed, self.data_root, self.device = profile, dataset, seed, None, "cpu"
        self.synthetic, self.report_dir = dataset.startswith("synth"), None


def test_specs_come_from_the_recipes_one_column_per_profile():
    from fernb.profiles import PROFILES

    for r in btfer.RECIPES:
        assert list(r.frame().columns) == list(PROFILES)
    quick = btfer.specs(Ch("quick"))
    # LeNet5 x 3 seeds (conservative) + one ResNet18 + Dense row; 3 label qualities x 3 seeds
    assert btfer.row_counts(quick) == {"main": 4, "labels": 9, "resolution": 1, "starts": 4}
    main, extra = quick["main"]
    assert main.models == ("btfer_lenet5",) and main.seeds == (0, 1, 2) and main.train["epochs"] == 8
    assert extra.models == ("btfer_resnet18_dense",) and extra.seeds == (0,) and extra.weightings == ("conservative",)
    assert extra.train["epochs"] == 3 and extra.train["max_batches_per_epoch"] == 50 and extra.train["lr"] == 3e-3
    assert quick["resolution"][0].resolutions == (96,)
    assert btfer.specs(Ch("quick", seed=5))["main"][0].seeds == (5, 6, 7)
    real = btfer.specs(Ch("full", dataset="rafdb"))
    assert real["labels"] == [] and real["main"][0].train_sets == ("rafdb", "fer2013", "affectnet-7")
    assert [s.resolutions for s in real["main"]] == [(48,), (224,)]
    assert set(real["main"][0].models) == set(btfer.zoo(48))


def test_keras_augmentation_where_it_learns_and_full_stops_early():
    """§III-F: ImageDataGenerator(rotation 20, shifts 0.2, zoom 0.2, flips), no crop or colour jitter, in full and
    smoke; quick's LeNet5 keeps the crop (it does not learn under the Keras transform in 16 epochs) and no jitter.
    full's second stage runs until early stopping, its cap (400) well beyond any run's stop."""
    keras = dict(aug_rotation=20.0, aug_shift=0.2, aug_zoom=0.2, aug_flip=0.5, aug_scale=(1.0, 1.0),
                 aug_ratio=(1.0, 1.0), aug_brightness=0.0, aug_contrast=0.0)
    for profile in ("smoke", "full"):
        train = btfer.PROTOCOL(profile).train
        assert {k: train[k] for k in keras} == keras, profile
    row = btfer.specs(Ch("smoke"))["main"][0].rows()[0]
    assert {k: getattr(row.config, k) for k in keras} == keras
    quick = btfer.PROTOCOL("quick").train
    assert quick["aug_brightness"] == quick["aug_contrast"] == quick["aug_rotation"] == 0.0
    full = btfer.PROTOCOL("full").train
    assert full["early_stop_patience"] == 20 and full["epochs"] >= 10 * full["early_stop_patience"]


def test_released_networks_have_the_notebooks_sizes_and_keras_bn_order():
    """ZF_NET and VGGNet as the released notebooks build them (their model.summary() counts); BN after the ReLU
    where §III-C's Keras layers put it (Conv2D(activation='relu') then BatchNormalization())."""
    import torch
    from torch import nn

    from fernb.models import create

    def count(name, size=48):
        with torch.device("meta"):
            return sum(p.numel() for p in create(name, img_size=size).parameters())

    assert count("btfer_zfnet") == 21_589_127  # Table 2: ~21.5M
    assert count("btfer_vggnet") == 33_625_927 and count("btfer_vggnet", 224) == 134_289_223
    assert count("btfer_seq3conv") == 1_364_679  # Conv3 notebooks: 1,365,703 with BN's running statistics
    for name in ("btfer_seq3conv", "btfer_seq4conv"):
        layers = list(create(name).features)
        bn = next(i for i, m in enumerate(layers) if isinstance(m, nn.BatchNorm2d))
        assert isinstance(layers[bn - 1], nn.ReLU) and isinstance(layers[bn - 2], nn.Conv2d), name
    members = create("btfer_ensemble").members[0]  # "Batch Normalization and ReLU Activation": conv, BN, ReLU
    assert isinstance(members[1], nn.BatchNorm2d) and isinstance(members[2], nn.ReLU)


def test_imagenet_check_is_offline_without_touching_the_environment(monkeypatch):
    import os

    from fernb.models import pretrained

    monkeypatch.delenv("FERNB_OFFLINE", raising=False)
    seen = []

    def build():
        seen.append((pretrained._offline(), os.environ.get("FERNB_OFFLINE")))
        raise RuntimeError("not cached")

    assert pretrained.weights_load(build, offline=True) is False
    assert seen == [(True, None)] and not pretrained._offline()  # set for the call only, never in os.environ
    assert pretrained.weights_load(lambda: None, offline=True) is True


def _table(**cols):
    n = len(next(iter(cols.values())))
    base = dict(model=["btfer_lenet5"] * n, img_size=[48] * n, start=["scratch"] * n, state=["trained"] * n,
                params_m=[0.2] * n, informative=[True] * n, train_set=["synth-raf"] * n)
    return pd.DataFrame({**base, **cols})


def test_verdicts_are_data_and_give_both_the_page_and_the_headlines():
    t = _table(weighting=["simple", "conservative"] * 3, seed=[0, 0, 1, 1, 2, 2],
               val_acc=[0.80, 0.81, 0.79, 0.80, 0.82, 0.80], test_acc=[0.60, 0.66, 0.61, 0.67, 0.62, 0.65])
    drop = V.cross_domain(t)  # validation far above the balanced test: the paper's way
    assert drop.verdict == "replicates" and drop.effect == pytest.approx(0.1683, abs=1e-3) and drop.seeds == 6
    w = V.weighting(t)
    assert w.verdict == "needs full" and "3 pairs" in w.measured and "beyond seed noise" in w.measured
    assert V.size(t).verdict == "needs full"
    assert V.cross_domain(t.assign(informative=[False] + [True] * 5)).verdict == "uninformative"
    assert V.cross_domain(t.head(1)).verdict == "no noise estimate"
    labels = _table(weighting=["conservative"] * 6, seed=[0, 1, 2] * 2,
                    train_set=["synth-raf:true"] * 3 + ["synth-raf:one_annotator"] * 3,
                    test_acc=[0.70, 0.71, 0.69, 0.70, 0.72, 0.68], in_domain_true_acc=[0.9] * 3 + [0.8, 0.81, 0.82])
    labels = pd.concat([labels, labels.head(3).assign(train_set="synth-raf:plurality")], ignore_index=True)
    inside, across = V.labels(labels)
    assert inside.verdict == "replicates" and inside.effect == pytest.approx(-0.09)  # one annotator hurts
    assert across.verdict == "absent"
    vs = [drop, w, inside, across]
    page = btfer.verdicts_markdown(vs, "quick")
    assert "2 replicates, 1 needs full, 1 absent" in page
    assert "**Experiment 3 (labels), in the training domain** — *replicates*" in page
    heads = btfer.headlines(vs)
    assert set(heads) == {"btfer-e4", "btfer-e3"}  # the cross-domain drop is on the page only
    assert heads["btfer-e3"].startswith("replicates: in the training domain: gap to true labels")
    assert "absent: on the balanced test set" in heads["btfer-e3"]
    assert btfer.verdicts_frame(vs).loc["Experiment 4 (weighting)", "verdict"] == "needs full"


BENCH_CHAPTER = '''# %% tags=["parameters"]
profile = "smoke"
dataset = "synth-raf"
data_root = None
device = "cpu"
seed = 0
report = None

# %%
import fernb.chapter
from fernb.papers import btfer
from fernb.papers.btfer import verdicts as V

ch = fernb.chapter.setup(profile, dataset, data_root, device, seed, name="97_bench", report=report)
spec = btfer.BenchmarkSpec(["btfer_lenet5"], profile=ch.profile, weightings=["conservative"],
                           train=dict(epochs=1, batch_size=32, max_batches_per_epoch=2))
result = btfer.run_benchmark(spec, ch.data_root, ch.device, report=ch.report_dir)
print(result.table.state.tolist())
'''


def test_a_benchmark_row_run_through_the_book_runner_is_recorded(tmp_path, monkeypatch):
    """One BTFER row trained through the Trainer by a chapter the book runner executes with ``--record``: the run
    reaches the chapter's runs.jsonl and is kept under results/<chapter>/<profile>/runs/."""
    import json

    from fernb import book

    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "97_bench.py").write_text(BENCH_CHAPTER)
    monkeypatch.setattr(book, "NOTEBOOKS", tmp_path / "notebooks")
    monkeypatch.setattr(book, "BUILD", tmp_path / "build")
    monkeypatch.setenv("FERNB_RESULTS", str(tmp_path / "results"))
    monkeypatch.setenv("FERNB_HOME", str(tmp_path / "home"))
    book.run("97_bench", record=True)
    runs = list((tmp_path / "results" / "97_bench" / "smoke" / "runs").iterdir())
    assert len(runs) == 1 and (runs[0] / "metrics.json").exists()
    config = json.loads((runs[0] / "config.json").read_text())["config"]
    assert config["model"] == "btfer_lenet5" and config["class_weighting"] == "conservative"


def test_verdicts_of_starts_resolution_and_best_read_their_rows():
    starts = _table(model=["btfer_vgg16"] * 4, start=["imagenet", "imagenet", "vggface", "vggface"],
                    weighting=["simple", "conservative"] * 2, seed=[0] * 4, test_acc=[0.6, 0.62, 0.5, 0.52],
                    val_acc=[0.7] * 4)
    e1 = V.starts(starts)
    assert e1.effect == pytest.approx(0.10) and e1.verdict == "replicates"  # ImageNet over VGGFace, both pairs
    skipped = starts.assign(state=["skipped", "skipped", "trained", "trained"])
    assert V.starts(skipped).verdict == "needs full"
    sized = _table(img_size=[48, 48, 96], weighting=["conservative"] * 3, seed=[0, 1, 0],
                   val_acc=[0.8, 0.8, 0.85], test_acc=[0.6, 0.62, 0.7])
    e5 = V.resolution(sized, 48, 96, ["btfer_lenet5"])
    # paired by seed: only seed 0 has both sizes (0.70 - 0.60), not the unpaired means' 0.09
    assert e5.effect == pytest.approx(0.10) and e5.verdict == "no noise estimate" and e5.seeds == 1
    assert V.resolution(sized, 48, 224, ["btfer_lenet5"]).verdict == "needs full"
    e6 = V.best(sized)
    assert e6.verdict == "needs full" and "btfer_lenet5 at 96 px" in e6.measured


def _zoo(test_acc, seeds=(0,), informative=True):
    models = ["btfer_lenet5", "btfer_seq3conv", "btfer_mobilenetv2", "btfer_resnet18", "btfer_resnet18_dense"]
    params = [0.17, 1.4, 2.6, 11.3, 11.7]
    rows = [dict(model=m, params_m=p, seed=s, test_acc=a + 0.01 * s, val_acc=0.7, run=f"{m}-{s}")
            for m, p, a in zip(models, params, test_acc) for s in seeds]
    t = pd.DataFrame(rows)
    return _table(**{c: t[c].tolist() for c in t}, weighting=["conservative"] * len(t),
                  informative=[informative] * len(t))


def test_size_and_best_verdicts_rank_the_trained_models():
    """Experiment 2 needs five models and correlates size with accuracy; Experiment 6 sets the paper's 48 px pick
    against the best other model, paired over seeds, and names the runs it rests on."""
    grows = _zoo([0.40, 0.45, 0.50, 0.55, 0.60])  # accuracy rises with size: the paper's claim contradicted
    e2 = V.size(grows)
    assert e2.verdict == "contradicted" and e2.effect == pytest.approx(1.0) and e2.seeds == 5
    assert "over 5 models" in e2.measured and set(e2.runs) == set(grows.run)
    assert V.size(_zoo([0.60, 0.45, 0.50, 0.55, 0.40])).verdict == "replicates"
    assert V.size(grows.head(4)).verdict == "needs full"
    assert V.size(_zoo([0.40, 0.45, 0.50, 0.55, 0.60], informative=False)).verdict == "uninformative"
    six = pd.concat([grows, _zoo([0.9]).assign(model="btfer_vgg16", params_m=138.0, informative=False, run="vgg")])
    e2 = V.size(six)  # a network that learned nothing is left out of the ranking, and named
    assert e2.verdict == "contradicted" and "over 5 models" in e2.measured and "btfer_vgg16" in e2.measured
    # a second weighting of one model does not count it twice
    assert V.size_rows(pd.concat([grows, grows.head(1).assign(weighting="simple")])).model.nunique() == 5
    e6 = V.best(_zoo([0.40, 0.45, 0.50, 0.70, 0.60], seeds=(0, 1, 2)))
    assert e6.verdict == "contradicted" and e6.effect == pytest.approx(-0.10) and e6.seeds == 3
    assert "btfer_resnet18_dense − btfer_resnet18" in e6.measured
    assert set(e6.runs) == {f"btfer_resnet18{x}-{s}" for x in ("", "_dense") for s in range(3)}
    one = V.best(_zoo([0.40, 0.45, 0.50, 0.55, 0.60]))
    assert one.verdict == "no noise estimate" and one.effect == pytest.approx(0.05)
    assert V.best(_zoo([0.4, 0.45, 0.5, 0.55, 0.6]).query("model != 'btfer_resnet18_dense'")).verdict == "needs full"
    assert V.headline_runs([e6])["btfer-e6"] == e6.runs


def test_quick_trains_more_of_table_2_and_says_so():
    """The quick plan: LeNet5 over seeds, another network of Table 2 at a lower cost, shorter than the protocol;
    the page's words come from the same recipes."""
    m = btfer.MAIN("quick")
    assert m.extra_48 and not set(m.models_48) & set(m.extra_48)
    assert set(m.models_48 + m.extra_48) <= set(btfer.zoo(48))  # rows of Table 2, not of Table 3
    assert m.extra_train["max_batches_per_epoch"] and m.extra_train["epochs"] < btfer.PROTOCOL("quick").train["epochs"]
    words = btfer.plan_words("quick")
    assert all(name in words for name in m.extra_48) and f"{m.seeds} seeds" in words
    assert "3 epochs of at most 50 batches" in words and "simple" not in words.split("\n")[2]
    assert btfer.LABELS("quick").seeds >= 2 and "nothing; it belongs to `full`" in words


def test_long_asks_experiment_1_from_the_analogue_starts_over_seeds():
    """long has no real weights, so Experiment 1 compares scratch with the two analogues made here, over enough
    seeds for a paired noise estimate, and the page's plan says so."""
    from fernb.models.pretrained import ANALOGUES

    st = btfer.PRETRAINED("long")
    assert "scratch" in st.starts and set(ANALOGUES) <= set(st.starts)
    assert not {"imagenet", "vggface"} & set(st.starts) and st.seeds >= 2
    line = next(x for x in btfer.plan_words("long").split("\n") if "Experiment 1" in x)
    assert "vggface-analogue" in line and f"{st.seeds} seeds" in line
    # the paper's learning rate (§III-F): at long's 1e-3 VGG16 from scratch stays at the class prior
    assert st.train == {"lr": 1e-4} and "at lr 0.0001" in line and btfer.PRETRAINED("quick").train == {}


def test_experiment_1_trains_at_its_recipes_learning_rate(tmp_path):
    """The starts rows take the protocol's training with Experiment 1's change on top; the other rows do not."""
    from types import SimpleNamespace

    from fernb.papers.btfer.drivers import specs

    ch = SimpleNamespace(profile="long", seed=0, dataset="synth-raf", synthetic=True, data_root=None)
    out = specs(ch)
    starts = out["starts"][0].train
    assert starts["lr"] == 1e-4 and starts["epochs"] == btfer.PROTOCOL("long").train["epochs"]
    assert {s.train["lr"] for s in out["main"]} == {btfer.PROTOCOL("long").train["lr"]}


def test_the_pages_verdicts_reach_the_results_map_in_points():
    from fernb.papers.btfer.verdicts import Verdict, map_verdicts

    vs = [Verdict("Experiment 3 (labels), in the training domain", "btfer-e3", "cleaner labels, higher accuracy",
                  0.05, 0.01, 3, "replicates", "+5 points"),
          Verdict("Experiment 3 (labels), balanced test", "btfer-e3", "the same", -0.2, 0.01, 3, "contradicted", "x"),
          Verdict("Experiment 5", "btfer-e5", "higher resolution, higher accuracy", 0.03, None, 1,
                  "no noise estimate", "+3 points, one seed"),
          Verdict("Experiment 1", "btfer-e1", "starts", None, None, 0, "needs full", "weights absent")]
    got = map_verdicts(vs)
    assert set(got) == {"btfer-e3", "btfer-e5"}  # the first judged verdict of an item; none that needs full
    assert got["btfer-e3"]["status"] == "replicates" and got["btfer-e3"]["mean"] == pytest.approx(5.0)
    assert got["btfer-e3"]["se"] == pytest.approx(1.0)
    assert got["btfer-e5"]["status"] == "uninformative" and got["btfer-e5"]["se"] is None


def test_the_sized_table_holds_each_run_once():
    """Experiment 5's low-resolution rows may be the main table's runs again (long trains them over more seeds):
    the table Experiments 5 and 6 read keeps each run once, with its run."""
    from fernb.papers.btfer.drivers import Benchmark
    from fernb.papers.btfer.spec import BenchmarkResult

    main = BenchmarkResult(pd.DataFrame({"model": ["a", "b"], "img_size": [48, 48], "run": ["ra", "rb"]}),
                           {0: "run-a", 1: "run-b"})
    res = BenchmarkResult(pd.DataFrame({"model": ["a", "a"], "img_size": [48, 96], "run": ["ra", "ra96"]}),
                          {0: "run-a", 1: "run-a96"})
    sized = Benchmark({"main": main, "resolution": res}, None, "long").sized
    assert sized.table["run"].tolist() == ["ra", "rb", "ra96"]
    assert sized.runs == {0: "run-a", 1: "run-b", 2: "run-a96"}


def test_the_starts_table_keeps_each_seed_on_its_own_row():
    """Experiment 1 over two seeds: one row per start and seed (a seedless index repeated each start's rows)."""
    rows = [dict(model="btfer_vgg16", img_size=48, start=s, weighting="conservative", seed=k, state="trained",
                 note="", val_acc=0.5, test_acc=0.4 + 0.01 * k, train_set="synth-raf")
            for s in ("scratch", "imagenet-analogue", "vggface-analogue") for k in (0, 1)]
    table = btfer.starts_table(pd.DataFrame(rows))
    assert table.index.is_unique and len(table) == 6
    assert table.loc[("btfer_vgg16", 48, "scratch", "conservative", 1), "test_acc"] == pytest.approx(0.41)


def test_the_starts_table_says_how_well_each_analogue_learned_its_pretraining(fernb_home):
    """An analogue start's row carries its pretraining accuracy beside chance (read from the JSON beside its weight
    file), a scratch row none, and every row whether it learned on the balanced test set."""
    import json

    from fernb.train import analogues

    path = analogues.weights_path("btfer_vgg16", "vggface-analogue", 48)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.with_suffix(".json").write_text(json.dumps({"last_epoch_train_accuracy": 0.11, "chance": 0.005}))
    rows = [dict(model="btfer_vgg16", img_size=48, start=s, weighting="conservative", seed=0, state="trained",
                 note="", val_acc=0.5, test_acc=0.4, informative=s != "scratch", train_set="synth-raf")
            for s in ("scratch", "vggface-analogue", "imagenet-analogue")]
    try:
        table = btfer.starts_table(pd.DataFrame(rows)).droplevel(["model", "img_size", "weighting", "seed"])
    finally:
        path.with_suffix(".json").unlink()
    assert table.loc["vggface-analogue", "pretrain_acc"] == 0.11 and table.loc["vggface-analogue", "chance"] == 0.005
    assert table.loc[["scratch", "imagenet-analogue"], "pretrain_acc"].isna().all()  # none made here yet
    assert table["informative"].tolist() == [False, True, True]
