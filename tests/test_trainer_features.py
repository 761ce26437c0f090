"""The trainer's options: SAM, early stopping, two-stage fine-tuning, balanced sampling, other class counts, CK+
folds, the objectives that read forward_aux, a teacher's distributions, DDP, and the errors raised before training."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from torch import nn

from fernb.papers.lfer_ldl import teacher_distributions
from fernb.train import StopAfterEpoch, TrainConfig, fit
from fernb.train.sam import SAM, frozen_bn_stats

TINY = dict(model="tiny_cnn", dataset="synth-raf", profile="smoke", img_size=32, batch_size=32, epochs=2)


def test_sam_step_on_a_quadratic_by_hand():
    a = torch.tensor([[2.0, 0.0], [0.0, 0.5]])
    w = nn.Parameter(torch.tensor([1.0, -2.0]))
    sam = SAM(torch.optim.SGD([w], lr=0.1), rho=0.05)
    f = lambda: 0.5 * w @ a @ w  # noqa: E731
    w0 = w.detach().clone()
    f().backward()
    sam.first_step()
    g = a @ w0
    eps = 0.05 * g / g.norm()
    assert torch.allclose(w.detach(), w0 + eps) and w.grad is None
    f().backward()
    sam.second_step()
    assert torch.allclose(w.detach(), w0 - 0.1 * (a @ (w0 + eps)), atol=1e-6)
    with pytest.raises(ValueError, match="rho must be positive"):
        SAM(torch.optim.SGD([w], lr=0.1), rho=0)


def test_frozen_bn_stats_keeps_running_statistics():
    bn = nn.BatchNorm1d(3).train()
    bn(torch.randn(8, 3))
    before = (bn.running_mean.clone(), bn.running_var.clone(), int(bn.num_batches_tracked))
    with frozen_bn_stats(bn):
        bn(torch.randn(8, 3) + 5)
    assert torch.equal(bn.running_mean, before[0]) and torch.equal(bn.running_var, before[1])
    assert int(bn.num_batches_tracked) == before[2] and bn.momentum == 0.1
    bn(torch.randn(8, 3) + 5)
    assert not torch.equal(bn.running_mean, before[0])


def test_sam_run_trains_and_differs_from_plain(smoke_raf, tmp_path):
    plain = fit({**TINY, "epochs": 1}, runs_root=tmp_path, progress=False)
    sam = fit({**TINY, "epochs": 1, "sam_rho": 0.05}, runs_root=tmp_path, progress=False)
    assert sam.dir != plain.dir and np.isfinite(sam.history[0]["train_loss"])
    a = torch.load(plain.dir / "model.pt", weights_only=True)
    b = torch.load(sam.dir / "model.pt", weights_only=True)
    assert any(not torch.equal(a[k], b[k]) for k in a if a[k].is_floating_point())


def test_a_cpu_fit_follows_its_core_policy_and_gives_the_threads_back(smoke_raf, tmp_path, monkeypatch):
    from fernb.data import loader
    from fernb.train.callbacks import Callback

    seen = []

    class Threads(Callback):
        def on_epoch_end(self, tr, record):
            seen.append((torch.get_num_threads(), tr.train_loader.prefetch))

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        for k, (policy, want) in enumerate((("sync", (2, 0)), ("spare", (1, 2)), ("all", (2, 2)))):
            monkeypatch.setattr(loader, "CPU_LOADER", policy)
            fit({**TINY, "epochs": 1, "seed": 10 + k}, runs_root=tmp_path, progress=False, device="cpu",
                callbacks=[Threads()])
            assert seen[-1] == want and torch.get_num_threads() == 2, policy
        torch.set_num_threads(1)  # one thread: nothing to share
        fit({**TINY, "epochs": 1, "seed": 5}, runs_root=tmp_path, progress=False, device="cpu", callbacks=[Threads()])
        assert seen[-1] == (1, 2) and torch.get_num_threads() == 1
        monkeypatch.setattr(loader, "CPU_LOADER", "threads")
        with pytest.raises(ValueError, match="CPU_LOADER='threads'; expected one of"):
            loader.cpu_policy(torch.device("cpu"), 2)
    finally:
        torch.set_num_threads(before)


def test_early_stopping_ends_a_run_without_progress(smoke_raf, tmp_path):
    run = fit({**TINY, "epochs": 8, "lr": 1e-12, "early_stop_patience": 2, "scheduler": "none"}, runs_root=tmp_path,
              progress=False)
    # the weights hardly move, so validation accuracy never improves after the first epoch
    assert len(run.history) == 3 and run.history[-1].get("early_stop") and run.metrics["epochs_run"] == 3


def test_two_stage_fine_tuning_trains_the_head_first(smoke_raf, tmp_path):
    from fernb.models import create

    cfg = {**TINY, "freeze_epochs": 1, "epochs": 1, "scheduler": "none"}
    with pytest.raises(KeyboardInterrupt):
        fit(cfg, runs_root=tmp_path, progress=False, callbacks=[StopAfterEpoch(1)])
    ck = torch.load(next(tmp_path.glob("*/checkpoint.pt")), weights_only=True)
    torch.manual_seed(0)
    init = create("tiny_cnn", img_size=32).state_dict()
    after = ck["model"]
    head = [k for k in init if k.startswith("head.")]
    body = [k for k in init if not k.startswith("head.") and "num_batches" not in k]
    assert all(torch.equal(init[k], after[k]) for k in body)  # backbone frozen, BN statistics included
    assert any(not torch.equal(init[k], after[k]) for k in head)
    run = fit(cfg, runs_root=tmp_path, progress=False)  # resumes into stage 2
    assert [h["stage"] for h in run.history] == [1, 2]
    final = torch.load(run.dir / "checkpoint.pt", weights_only=True)["model"]
    assert any(not torch.equal(after[k], final[k]) for k in body)


def test_balanced_sampler_and_shards():
    from fernb.data.loader import BatchLoader

    class Store:
        def __init__(self, n):
            self.images = np.zeros((n, 4, 4, 1), np.uint8)
            self.shape = self.images.shape

        def __len__(self):
            return len(self.images)

    labels = np.array([0] * 90 + [1] * 10)
    store = Store(100)
    w = 1.0 / np.bincount(labels)[labels]
    loader = BatchLoader(store, np.arange(100), labels, 50, shuffle=True, sample_weights=w, prefetch=0)
    ys = torch.cat([y for _, y in loader]).numpy()
    assert len(ys) == 100 and 0.3 < ys.mean() < 0.7  # the minority class drawn about as often as the majority
    again = torch.cat([y for _, y in loader]).numpy()
    assert np.array_equal(ys, again)  # the same epoch draws the same samples
    full = BatchLoader(store, np.arange(100), labels, 10, shuffle=True, prefetch=0, with_index=True)
    parts = [BatchLoader(store, np.arange(100), labels, 10, shuffle=True, prefetch=0, with_index=True, shard=(r, 2))
             for r in range(2)]
    for (_, _, rows), (_, _, r0), (_, _, r1) in zip(full, *parts):
        assert torch.equal(rows, torch.cat([r0, r1]))
    with pytest.raises(ValueError, match="sample_weights must be 100"):
        BatchLoader(store, np.arange(100), labels, 10, shuffle=True, sample_weights=w[:5])
    with pytest.raises(ValueError, match="0 <= rank < world"):
        BatchLoader(store, np.arange(100), labels, 10, shard=(2, 2))


def test_balanced_sampler_run(smoke_raf, tmp_path):
    run = fit({**TINY, "epochs": 1, "sampler": "balanced"}, runs_root=tmp_path, progress=False)
    assert run.metrics["n"] == len(smoke_raf.split("test"))


def test_eight_classes_and_ckplus_folds(mocks, tmp_path):
    run = fit({**TINY, "dataset": "affectnet-8", "epochs": 1, "val_share": 0.0}, data_root=mocks["affectnet-8"],
              runs_root=tmp_path, progress=False)
    assert len(run.metrics["confusion_matrix"]) == 8 and run.test_probs.shape[1] == 8
    assert run.load_model()(torch.zeros(1, 3, 32, 32)).shape == (1, 8)
    opts = {"lenient": True}
    with pytest.warns(UserWarning, match="quarantined"):
        f3 = fit({**TINY, "dataset": "ckplus", "epochs": 1, "val_share": 0.0, "fold": 3}, data_root=mocks["ckplus"],
                 runs_root=tmp_path, progress=False, dataset_options=opts)
    from fernb.data import load_dataset

    with pytest.warns(UserWarning):
        ds = load_dataset("ckplus", data_root=mocks["ckplus"], progress=False, lenient=True)
    assert f3.metrics["n"] == int((ds.records["fold"] == 3).sum())
    # the fold run knows its data: evaluated again, it sees fold 3 as its test split, with the same options
    assert f3.data.fold == 3 and dict(f3.data.options) == opts
    with pytest.warns(UserWarning, match="quarantined"):
        again = f3.predict("test")
    np.testing.assert_allclose(again, f3.test_probs, atol=1e-5)
    with pytest.raises(ValueError, match="fold=42 does not exist"), pytest.warns(UserWarning):
        fit({**TINY, "dataset": "ckplus", "fold": 42}, data_root=mocks["ckplus"], runs_root=tmp_path, progress=False,
            dataset_options=opts)


@pytest.mark.parametrize("model,loss", [("scn", "scn"), ("dacl", "sparse_center"), ("island_cnn", "island"),
                                        ("adcorre_resnet50", "adcorre")])
def test_forward_aux_objectives_train(smoke_raf, tmp_path, model, loss):
    cfg = {**TINY, "model": model, "loss": loss, "epochs": 1, "max_batches_per_epoch": 2, "batch_size": 16,
           "img_size": 32}
    run = fit(cfg, runs_root=tmp_path, progress=False)
    assert np.isfinite(run.history[0]["train_loss"])
    if loss in ("island", "sparse_center"):  # the class centres moved with the optimiser and are checkpointed
        ck = torch.load(run.dir / "checkpoint.pt", weights_only=True)
        assert ck["loss"]["centers"].abs().sum() > 0


def test_teacher_distributions_feed_kl_teacher(smoke_raf, tmp_path):
    teacher = fit({**TINY, "epochs": 1}, runs_root=tmp_path, progress=False)
    path = teacher_distributions(teacher, tmp_path / "teacher.npy")
    d = np.load(path)
    assert d.shape == (len(smoke_raf.records), 7) and np.allclose(d.sum(1), 1, atol=1e-5)
    cfg = {**TINY, "epochs": 1, "loss": "kl_teacher", "loss_kwargs": {"teacher": str(path), "lam": 1.0}}
    student = fit(cfg, runs_root=tmp_path, progress=False)
    np.save(path, np.roll(d, 1, axis=0))  # other distributions at the same path: another run
    assert fit(cfg, runs_root=tmp_path, progress=False).dir != student.dir


def test_bad_configurations_fail_before_training(smoke_raf, tmp_path):
    with pytest.raises(ValueError, match="early_stop_patience needs a validation split"):
        TrainConfig(early_stop_patience=3, val_share=0.0)
    with pytest.raises(ValueError, match="sampler='balance'"):
        TrainConfig(sampler="balance")
    with pytest.raises(ValueError, match="did you mean 'sam_rho'"):
        TrainConfig.from_dict({"sam_roh": 0.05})
    with pytest.raises(ValueError, match="lr_gamma"):
        TrainConfig(lr_gamma=0)
    with pytest.raises(ValueError, match="needs the model's embedding"):
        fit({**TINY, "loss": "center"}, runs_root=tmp_path, progress=False)
    with pytest.raises(ValueError, match=r"needs \['attention'\]"):
        fit({**TINY, "model": "island_cnn", "loss": "scn"}, runs_root=tmp_path, progress=False)
    with pytest.raises(ValueError, match="does not exist"):
        fit({**TINY, "loss": "kl_teacher", "loss_kwargs": {"teacher": str(tmp_path / "none.npy")}}, runs_root=tmp_path,
            progress=False)
    with pytest.raises(ValueError, match="no 'fold' column"):
        fit({**TINY, "fold": 1}, runs_root=tmp_path, progress=False)
    with pytest.raises(ValueError, match="img_size"):
        fit({**TINY, "model": "resemotenet", "img_size": 8}, runs_root=tmp_path, progress=False)
    assert not list(tmp_path.glob("*/checkpoint.pt"))  # nothing trained


@pytest.mark.parametrize("loss", ["ce", "center"])
def test_ddp_two_processes_match_one(smoke_raf, tmp_path, loss):
    """torchrun with two gloo processes trains the same weights (and class centres) as one process: a model without
    BatchNorm or dropout, so the only difference is who computes which half of each augmented batch."""
    cfg = dict(model="btfer_lenet5", dataset="synth-raf", profile="smoke", img_size=48, batch_size=32, epochs=2,
               optimizer="sgd", lr=0.05, loss=loss, precision="fp32", memory_format="contiguous")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as each torchrun process: the same kernels, the same float summation order
    try:
        single = fit(cfg, runs_root=tmp_path / "one", progress=False)
    finally:
        torch.set_num_threads(threads)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TQDM_DISABLE": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29533",
           "-m", "fernb.train", json.dumps(cfg), "--runs-root", str(tmp_path / "two"), "--device", "cpu", "--quiet"]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    assert summary["world_size"] == 2
    a = torch.load(single.dir / "model.pt", weights_only=True)
    b = torch.load(next((tmp_path / "two").glob("*/model.pt")), weights_only=True)
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=1e-4, atol=1e-5)
    if loss == "center":
        ca = torch.load(single.dir / "checkpoint.pt", weights_only=True)["loss"]["centers"]
        cb = torch.load(next((tmp_path / "two").glob("*/checkpoint.pt")), weights_only=True)["loss"]["centers"]
        torch.testing.assert_close(ca, cb, rtol=1e-4, atol=1e-5)


def test_ddp_refuses_per_sample_memories(smoke_raf, tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TQDM_DISABLE": "1"}
    cfg = {**TINY, "loss": "elr_sce"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29534",
           "-m", "fernb.train", json.dumps(cfg), "--runs-root", str(tmp_path), "--device", "cpu", "--quiet"]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode != 0 and "per-sample memory that data-parallel processes do not share" in out.stdout + out.stderr


def test_plateau_schedule_and_val_loss_monitor(smoke_raf, tmp_path):
    run = fit({**TINY, "epochs": 3, "lr": 1e-12, "scheduler": "plateau", "plateau_patience": 0, "lr_gamma": 0.5,
               "monitor": "val_loss", "min_lr": 2e-13}, runs_root=tmp_path, progress=False)
    lrs = [h["lr"] for h in run.history]
    # the lr is recorded before the epoch's scheduler step; a stalled val loss halves it, down to min_lr
    assert lrs[:2] == pytest.approx([1e-12, 1e-12]) and lrs[2] == pytest.approx(5e-13)
    assert all("val_loss" in h for h in run.history)


def test_cli_reports_bad_config_files(tmp_path):
    out = subprocess.run([sys.executable, "-m", "fernb.train", str(tmp_path / "missing.json")], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode != 0 and "no such configuration file" in out.stderr
    bad = tmp_path / "bad.json"
    bad.write_text('{"model": "tiny_cnn",\n "epochs": }')
    out = subprocess.run([sys.executable, "-m", "fernb.train", str(bad)], capture_output=True, text=True, timeout=120)
    assert out.returncode != 0 and "bad.json: line 2: not JSON" in out.stderr
