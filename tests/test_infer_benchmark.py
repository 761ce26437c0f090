"""The InFER++ benchmark chapter's library: paper tables, recipes, checks before training, k-fold folders and the
noisy-label ablation (fernb.papers.infer.benchmark, fernb.papers.infer.noisy)."""

import numpy as np
import pandas as pd
import pytest

from fernb.papers.infer import benchmark, noisy


def test_table3_self_check_reads_the_printed_rows():
    t = benchmark.table3_self_check()
    assert list(t.index) == list(benchmark.TABLE_3)
    # SCN prints 88.1 for per-class figures whose mean is 88.37
    assert t.loc["SCN", "mean of per-class (%)"] == pytest.approx(88.37, abs=0.01)
    assert t.loc["SCN", "printed − mean of per-class"] == pytest.approx(-0.27, abs=0.01)
    assert t.loc["Island Loss", "printed − mean of per-class"] == pytest.approx(0, abs=0.01)


@pytest.mark.parametrize("model,loss,needle", [
    ("mobilenetv3_large", "scn", "attention"),
    ("savchenko_effnet_b0", "sparse_center", "attention"),
    ("small_cnn", "island", "forward_aux"),
])
def test_objective_needing_what_the_model_lacks_fails_before_training(model, loss, needle):
    with pytest.raises(ValueError, match=needle):
        benchmark.check_objective(model, loss, 32)


def test_every_method_pairs_its_model_and_objective():
    others = [n for n in benchmark.METHODS if n not in ("LiteXpressionNet", "Xception")]
    benchmark.check_methods(benchmark.methods(others), 32)
    benchmark.check_methods(benchmark.methods(["LiteXpressionNet"]), 64)
    with pytest.raises(ValueError, match="LiteXpressionNet.*64"):
        benchmark.check_methods(benchmark.methods(["LiteXpressionNet"]), 32)
    with pytest.raises(ValueError, match="not benchmarked"):
        benchmark.methods(["SCNN"])


def test_fold_and_dataset_requests():
    benchmark.check_fold("synth-infer", None)
    benchmark.check_fold("ckplus", 9)
    with pytest.raises(ValueError, match="fold=0.*no folds"):
        benchmark.check_fold("synth-infer", 0)
    with pytest.raises(ValueError, match="0..9"):
        benchmark.check_fold("ckplus", 10)
    assert benchmark.check_table4_dataset("synth-raf") == "RAF-DB"
    assert benchmark.check_table4_dataset("affectnet-8", "/data/affectnet") == "AffectNet-8"
    with pytest.raises(ValueError, match="contempt"):
        benchmark.check_table4_dataset("affectnet-8")
    with pytest.raises(ValueError, match="table4_dataset"):
        benchmark.check_table4_dataset("synth-infer")


def _records(n=200, seed=0):
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 7, n)
    crowd = np.where(rng.random(n) < 0.1, (truth + 1) % 7, truth)
    return pd.DataFrame({"label": crowd, "true_label": truth, "confusable_label": (truth + 3) % 7,
                         "split": np.where(np.arange(n) < 150, "train", "test")})


def test_noisy_labels_flip_exactly_the_share_and_leave_the_test_split():
    rec = _records()
    train, test = rec["split"] == "train", rec["split"] == "test"
    assert (noisy.noisy_labels(rec, noisy.Noise("crowd")) == rec["label"]).all()
    sym = noisy.noisy_labels(rec, noisy.Noise("symmetric", 0.4), seed=1)
    wrong = sym[train] != rec["true_label"][train]
    assert wrong.sum() == 60  # 40 % of 150
    assert (sym[test] == rec["label"][test]).all()
    conf = noisy.noisy_labels(rec, noisy.Noise("confusable", 0.2), seed=1)
    flipped = train & (conf != rec["true_label"])
    assert flipped.sum() == 30 and (conf[flipped] == rec["confusable_label"][flipped]).all()
    assert (noisy.noisy_labels(rec, noisy.Noise("symmetric", 0.4), seed=1) == sym).all()  # seeded


def test_every_profile_trains_known_methods_and_configurations():
    from fernb.profiles import PROFILES

    for profile in PROFILES:
        for recipe in (benchmark.TABLE3_RECIPE, benchmark.TABLE4_RECIPE, benchmark.TABLE5_RECIPE,
                       benchmark.EDGE_RECIPE):
            benchmark.methods(recipe(profile).methods)
        r = noisy.ABLATION_RECIPE(profile)
        assert [noisy.config_name(*noisy.parse_config(c)) for c in r.configs] == list(r.configs)
    assert noisy.parse_config("ELR+SCE + SAM") == ("ELR+SCE", True)
    with pytest.raises(ValueError, match="unknown"):
        noisy.parse_config("GCE + SAM")
    assert "Island Loss" in benchmark.methods_frame("smoke").index.get_level_values("method")


def test_bad_requests_name_what_was_expected():
    said = benchmark.bad_requests()
    assert len(said) == 3 and all(s.startswith("ValueError: ") for s in said)
    assert "attention" in said[0] and "no folds" in said[1] and "contempt" in said[2]


def test_noise_conditions_are_checked():
    with pytest.raises(ValueError, match="share"):
        noisy.Noise("symmetric", 1.2)
    with pytest.raises(ValueError, match="kind"):
        noisy.Noise("pairwise", 0.2)
    with pytest.raises(ValueError, match="true_label"):
        noisy.noisy_labels(_records().drop(columns="true_label"), noisy.Noise("symmetric", 0.2))
    with pytest.raises(ValueError, match="unknown"):
        noisy.configurations(["CE", "GCE"])


def test_paired_differences_and_verdicts():
    rows = []
    for seed, (ce, elr) in enumerate([(0.50, 0.60), (0.52, 0.61), (0.49, 0.60)]):
        rows += [{"noise": "symmetric 40%", "objective": "CE", "seed": seed, "accuracy (true labels)": ce},
                 {"noise": "symmetric 40%", "objective": "ELR", "seed": seed, "accuracy (true labels)": elr}]
    p = noisy.paired(pd.DataFrame(rows))
    row = p.loc[("symmetric 40%", "ELR")]
    assert row["mean"] == pytest.approx(10, abs=0.01) and bool(row["beyond noise"])
    assert noisy.summary(pd.DataFrame(rows)).loc["ELR", "symmetric 40%"] == "60.3 ± 0.6"


def test_kfold_folders_partition_a_subset(smoke_raf, tmp_path):
    from fernb.data import load_dataset

    folders = benchmark.kfold_folders(smoke_raf, tmp_path, k=3, n=120, seed=0)
    assert len(folders) == 3
    tests = []
    for f in folders:
        ds = load_dataset("records", data_root=f, progress=False)
        assert len(ds.records) == 120 and "true_label" in ds.records
        tests.append(set(ds.records.loc[ds.records["split"] == "test", "image"]))
    assert sum(len(t) for t in tests) == 120 and len(set.union(*tests)) == 120
    # a record-table copy, no symbolic link: every listed image is a file inside its own fold folder
    assert not any(p.is_symlink() for f in folders for p in f.rglob("*"))
    assert all((f / img).is_file() and not (f / img).is_symlink() for f in folders for img in ds.records["image"])
    with pytest.raises(ValueError, match="folds"):
        benchmark.kfold_folders(smoke_raf, tmp_path, k=1)


def test_ablation_trains_scores_against_truth(fernb_home, tmp_path):
    from fernb.train import fit
    from fernb.data import load_dataset

    ds = load_dataset("synth-infer", profile="smoke", progress=False)

    def train(labels, **kw):
        cfg = dict(dataset="synth-infer", profile="smoke", model="tiny_cnn", img_size=32, epochs=1,
                   batch_size=32, max_batches_per_epoch=1, val_share=0.0, precision="fp32",
                   memory_format="contiguous", **kw)
        return fit(cfg, labels=labels, runs_root=tmp_path, progress=False)

    t = noisy.ablation(train, ds, [noisy.Noise("symmetric", 0.4)], [("ELR+SCE", True), ("CE", False)], [0], {})
    assert list(t["objective"]) == ["ELR+SCE + SAM", "CE"]
    assert t["wrong training labels"].iloc[0] == pytest.approx(0.4, abs=0.01)
    assert t["accuracy (true labels)"].between(0, 1).all() and t["memorised"].between(0, 1).all()


def test_adam_betas_reach_the_optimiser():
    from fernb.train import TrainConfig
    from fernb.train.strategies import build_optimizer
    import torch

    base = TrainConfig()
    assert base.key() == TrainConfig(betas=[0.9, 0.999]).key()
    cfg = TrainConfig(betas=(0.99, 0.999))
    assert cfg.key() != base.key()
    opt = build_optimizer(cfg, torch.nn.Linear(2, 2), torch.nn.Module())
    assert opt.param_groups[0]["betas"] == (0.99, 0.999)
    with pytest.raises(ValueError, match="sgd"):
        TrainConfig(optimizer="sgd", betas=(0.99, 0.999))
    with pytest.raises(ValueError, match="betas"):
        TrainConfig(betas=(1.5, 0.9))


def test_training_subset_keeps_the_test_split_and_the_truth(fernb_home, tmp_path):
    from fernb.data import load_dataset

    ds = load_dataset("synth-infer", profile="smoke", progress=False)
    sub = noisy.training_subset(ds, tmp_path, n_train=100, seed=0)
    counts = sub.records["split"].value_counts()
    assert counts["train"] == 100 and counts["test"] == (ds.records["split"] == "test").sum()
    assert {"true_label", "confusable_label"} <= set(sub.records.columns)
    by_image = ds.records.set_index("image")
    assert (sub.records["confusable_label"].to_numpy()
            == by_image.loc[sub.records["image"], "confusable_label"].to_numpy()).all()


def test_published_recipes_and_the_teacher_reach_the_runs(fernb_home, tmp_path):
    """fit_method lays a method's released recipe over the table's options, and EfficientFace learns from a
    cross-entropy teacher's distributions (kl_teacher with no base term) written once per teacher run."""
    from fernb.train import fit

    calls = []

    class Ch:
        def fit(self, **kw):
            calls.append(kw)
            cfg = dict(dataset="synth-infer", profile="smoke", epochs=1, batch_size=16, max_batches_per_epoch=1,
                       val_share=0.0, precision="fp32", memory_format="contiguous", **kw)
            return fit(cfg, runs_root=tmp_path, progress=False)

    common = dict(img_size=32, optimizer="adam", lr=1e-3, betas=(0.99, 0.999), scheduler="none")
    run = benchmark.fit_method(Ch(), benchmark.METHODS["EfficientFace"], **common)
    teacher, student = calls
    assert teacher["model"] == "resnet18" and teacher["loss"] == "ce" and teacher["optimizer"] == "adam"
    assert student["optimizer"] == "sgd" and student["lr"] == 0.1 and student["loss"] == "kl_teacher"
    assert student["loss_kwargs"]["base"] == "none"
    d = np.load(student["loss_kwargs"]["teacher"])
    assert d.shape == (len(run.dataset().records), 7) and np.allclose(d.sum(1), 1, atol=1e-4)
    assert run.config.loss == "kl_teacher"
    calls.clear()
    benchmark.fit_method(Ch(), benchmark.METHODS["DACL"], **common)
    (dacl,) = calls
    assert (dacl["optimizer"], dacl["lr"], dacl["scheduler"], dacl["lr_step_size"]) == ("sgd", 0.01, "step", 20)
    assert dacl["loss_kwargs"] == {"lam": 0.01, "center_lr_scale": 50.0}
    assert "released" in benchmark.recipes_of(["SCN", "DACL"])["recipe"].str.cat()


def test_table3_ranking_and_table5_folds_are_judged():
    from types import SimpleNamespace as NS

    def run(acc, learned=True):
        return NS(metrics={"mean_class_accuracy": acc}, informative={"informative": learned, "reason": ""})

    names = list(benchmark.TABLE_3)
    paper = {n: benchmark.TABLE_3[n][1] for n in names}
    same = {n: run(paper[n] / 200) for n in names}  # ours in the paper's order
    v = benchmark.ranking_verdict(same)
    assert v["status"] == "replicates" and v["mean"] == pytest.approx(1.0) and v["seeds"] == len(names)
    reversed_ = {n: run((200 - paper[n]) / 200) for n in names}
    assert benchmark.ranking_verdict(reversed_)["status"] == "contradicted"
    some = {**same, names[0]: run(0.1, learned=False)}
    assert names[0] in benchmark.ranking_verdict(some)["why"] and benchmark.ranking_verdict(some)["seeds"] == 6
    assert benchmark.ranking_verdict(dict(list(same.items())[:3])) is None
    assert len(benchmark.ranking_runs(some)) == 6 and len(benchmark.ranking_runs({"x": run(0.1, False)})) == 1
    cv = pd.DataFrame({"method": ["LiteXpressionNet"] * 3 + ["ShuffleNetV2"] * 3, "fold": [0, 1, 2] * 2,
                       "accuracy": [0.8, 0.7, 0.9, 0.6, 0.6, 0.7]})
    assert benchmark.fold_effect(cv) == pytest.approx([20.0, 10.0, 20.0])
    assert benchmark.fold_effect(cv[cv.method == "ShuffleNetV2"]) is None
