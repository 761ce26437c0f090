import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from fernb.train import TrainConfig, fit
from fernb.train.trainer import resolve_device

TINY = dict(model="tiny_cnn", dataset="synth-raf", profile="smoke", img_size=32, batch_size=32, epochs=2)


def test_config_rejects_typos_and_bad_values():
    with pytest.raises(ValueError, match="unknown training option 'lerning_rate'"):
        TrainConfig.from_dict({"lerning_rate": 0.1})
    with pytest.raises(ValueError, match="did you mean 'epochs'"):
        TrainConfig.from_dict({"epoch": 3})
    with pytest.raises(ValueError, match="optimizer"):
        TrainConfig(optimizer="rmsprop")
    with pytest.raises(ValueError, match="profile"):
        TrainConfig(profile="fast")
    with pytest.raises(ValueError, match="unknown model"):
        TrainConfig(model="resnet9000")
    with pytest.raises(ValueError, match="epochs"):
        TrainConfig(epochs=0)
    assert TrainConfig(**TINY).key() == TrainConfig.from_dict(dict(TINY)).key()
    assert TrainConfig(**TINY).key() != TrainConfig(**{**TINY, "lr": 0.01}).key()


def test_device_errors():
    assert resolve_device("cpu").type == "cpu"
    with pytest.raises(ValueError, match="not a device"):
        resolve_device("gpu0")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            resolve_device("cuda")


def test_fit_writes_a_run_and_reuses_it(smoke_raf, tmp_path):
    run = fit(TINY, runs_root=tmp_path, progress=False)
    files = {p.name for p in run.dir.iterdir()}
    assert {"config.json", "history.jsonl", "checkpoint.pt", "model.pt", "metrics.json", "test_probs.npy", "status"} <= files
    m = run.metrics
    assert m["n"] == len(smoke_raf.split("test")) and 0 <= m["accuracy"] <= 1
    assert len(m["confusion_matrix"]) == 7 and sum(map(sum, m["confusion_matrix"])) == m["n"]
    assert set(m["accuracy_by_gender"]) == {"female", "male"}
    assert run.test_probs.shape == (m["n"], 7)
    stamp = (run.dir / "metrics.json").stat().st_mtime_ns
    again = fit(TINY, runs_root=tmp_path, progress=False)
    assert again.dir == run.dir and (run.dir / "metrics.json").stat().st_mtime_ns == stamp
    # model.pt holds exactly the weights the stored metrics and probabilities came from
    from fernb.data.loader import BatchLoader
    from fernb.data.store import ImageStore
    from fernb.train.trainer import predict

    store = ImageStore.build(smoke_raf, 32, 3, progress=False)
    loader = BatchLoader(store, smoke_raf.split("test"), smoke_raf.records["label"].to_numpy(), 256)
    np.testing.assert_allclose(predict(run.load_model(), loader), run.test_probs, atol=1e-5)


def test_run_rebuilds_its_data_and_reproduces_the_stored_test_predictions(smoke_raf, tmp_path):
    from fernb.train import list_runs

    run = fit({**TINY, "epochs": 1}, runs_root=tmp_path, progress=False)
    assert run.data.dataset == "synth-raf" and run.data.profile == "smoke" and run.data.labels_sha is None
    np.testing.assert_allclose(run.predict("test"), run.test_probs, atol=1e-5)  # what the trainer evaluated
    x, y = next(iter(run.loader("test", batch_size=8)))
    assert x.dtype == torch.float32 and x.shape == (8, 3, 32, 32)
    assert np.array_equal(y.numpy(), smoke_raf.records["label"].to_numpy()[run.split("test")[:8]])
    n_val = run.metrics["n_val"]
    assert len(run.split("val")) == n_val and len(run.split("train")) == run.metrics["n_train"]
    assert sum(len(b[1]) for b in run.loader("train", limit=10)) == 10
    logits = run.predict(np.arange(5), logits=True)
    assert logits.shape == (5, 7) and not np.allclose(logits.sum(1), 1)
    with pytest.raises(ValueError, match="record indices"):
        run.predict(np.array([len(smoke_raf.records)]))
    runs = list_runs(tmp_path)
    assert list(runs.model) == ["tiny_cnn"] and runs.accuracy.iloc[0] == run.metrics["accuracy"]


def test_run_key_holds_every_option_and_only_what_changes_training():
    """Every field is in the key (a default changed later keys new runs instead of returning stale ones; options
    added later only while they are on, see the next test); the profile, which only sizes SynthFER, is not in a real
    dataset's key; momentum with Adam is refused."""
    import dataclasses

    base = TrainConfig(**TINY)
    blob = base.to_dict()
    assert set(blob) == {f.name for f in dataclasses.fields(TrainConfig)}
    assert base.key() != TrainConfig(**{**TINY, "aug_ratio": (1.0, 1.0)}).key()
    assert base.key() != TrainConfig(**TINY, loss="sce").key()
    assert base.key() != TrainConfig(**{**TINY, "profile": "quick"}).key()  # SynthFER: the profile is its size
    real = {k: v for k, v in TINY.items() if k not in ("dataset", "profile")}
    assert (TrainConfig(**real, dataset="rafdb", profile="quick").key()
            == TrainConfig(**real, dataset="rafdb", profile="full").key())
    with pytest.raises(ValueError, match="momentum has no effect"):
        TrainConfig(**TINY, momentum=0.5)
    assert TrainConfig(**{**TINY, "optimizer": "sgd"}, momentum=0.5).momentum == 0.5


def test_checkpoint_of_another_config_is_refused(smoke_raf, tmp_path):
    run = fit({**TINY, "epochs": 1}, runs_root=tmp_path, progress=False)
    ck = torch.load(run.dir / "checkpoint.pt", weights_only=True)
    ck["config_key"] = "someone-else"
    torch.save(ck, run.dir / "checkpoint.pt")
    (run.dir / "status").unlink()
    with pytest.raises(ValueError, match="belongs to another configuration"):
        fit({**TINY, "epochs": 1}, runs_root=tmp_path, progress=False)


SCRIPT = """
import sys, torch
torch.set_num_threads(1)
from fernb.train import fit
cfg = dict(model="tiny_cnn", dataset="synth-raf", profile="smoke", img_size=32, batch_size=16, epochs=5, seed=1,
           precision="bf16", memory_format="channels_last")  # resume is exact in reduced precision too
fit(cfg, runs_root=sys.argv[1], progress=True)
"""


def _train(runs_root, env):
    return subprocess.Popen([sys.executable, "-c", SCRIPT, str(runs_root)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def test_killed_run_resumes_to_identical_weights(smoke_raf, tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TQDM_DISABLE": "1"}
    ref = _train(tmp_path / "ref", env)
    assert ref.wait(timeout=300) == 0, ref.stdout.read()

    victim = _train(tmp_path / "killed", env)
    deadline = time.time() + 300
    history = None
    while time.time() < deadline:
        found = list((tmp_path / "killed").glob("*/history.jsonl"))
        if found and found[0].read_text().count("\n") >= 1:  # written after the epoch's checkpoint
            history = found[0]
            break
        time.sleep(0.05)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    assert history is not None, "the run never finished an epoch"
    done_before = history.read_text().count("\n")
    assert not (history.parent / "status").exists() and 1 <= done_before < 5

    resumed = _train(tmp_path / "killed", env)
    out, _ = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, out
    assert "resuming" in out
    assert history.read_text().count("\n") == 5  # one line per epoch, none repeated
    a = torch.load(next((tmp_path / "ref").glob("*/model.pt")), weights_only=True)
    b = torch.load(next((tmp_path / "killed").glob("*/model.pt")), weights_only=True)
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    ma = json.loads(next((tmp_path / "ref").glob("*/metrics.json")).read_text())
    mb = json.loads(next((tmp_path / "killed").glob("*/metrics.json")).read_text())
    assert ma["confusion_matrix"] == mb["confusion_matrix"]


def test_options_added_later_leave_stored_run_keys_alone():
    """Keras's rotation/shift/zoom (BTFER §III-F) are left out of the key while off, so every run stored before they
    existed keeps its folder; on, they key new runs."""
    base = TrainConfig(**TINY)
    assert base.key() == "4df0bd45738b"  # the key this configuration had before the options existed
    assert TrainConfig(**TINY, aug_rotation=0, aug_shift=0.0).key() == base.key()
    keys = {TrainConfig(**TINY, **{name: 0.2}).key() for name in ("aug_rotation", "aug_shift", "aug_zoom")}
    assert len(keys) == 3 and base.key() not in keys
    assert TrainConfig(**TINY, aug_rotation=20).aug_rotation == 20.0
    with pytest.raises(ValueError, match="aug_zoom"):
        TrainConfig(**TINY, aug_zoom=1.5)
