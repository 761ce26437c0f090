"""A run folder has one writer (fernb.train.runlock), checked with real processes: two that train one configuration
at once leave one history line per epoch and the weights of a single run; a second one gives up after a timeout
naming the holder's pid; a SIGKILLed holder's lock is taken over and its run resumed to identical weights."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from fernb.train.runlock import RunLock, RunLockTimeout
from fernb.train.trainer import Trainer

EPOCHS = 4
CFG = dict(model="tiny_cnn", dataset="synth-raf", profile="smoke", img_size=32, batch_size=16, epochs=EPOCHS,
           seed=3, precision="fp32", memory_format="contiguous")
SCRIPT = f"""
import sys, time, torch
torch.set_num_threads(1)
from fernb.train import fit
from fernb.train.callbacks import Callback

class Pause(Callback):  # a slower holder, so that another process meets it mid-run (not part of the run's key)
    def on_epoch_end(self, trainer, record):
        time.sleep(float(sys.argv[2]))

fit({CFG!r}, runs_root=sys.argv[1], progress=True, callbacks=[Pause()])
"""
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "TQDM_DISABLE": "1"}


def _train(runs_root, log, pause=0.0):
    out = open(log, "w")
    return subprocess.Popen([sys.executable, "-c", SCRIPT, str(runs_root), str(pause)], env=ENV, stdout=out,
                            stderr=subprocess.STDOUT, text=True)


def _wait(procs, timeout=400):
    for p in procs:
        assert p.wait(timeout=timeout) == 0, p.args


def _until(predicate, timeout=120, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _history(folder):
    return [json.loads(line) for line in (folder / "history.jsonl").read_text().splitlines()]


def _same_weights(a_dir, b_dir):
    a = torch.load(a_dir / "model.pt", weights_only=True)
    b = torch.load(b_dir / "model.pt", weights_only=True)
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


@pytest.fixture(scope="module")
def reference(smoke_raf, tmp_path_factory):
    """One uninterrupted run, alone, in a process of its own."""
    root = tmp_path_factory.mktemp("reference")
    p = _train(root, root / "log.txt")
    _wait([p])
    (folder,) = [d for d in root.iterdir() if d.is_dir()]
    return folder


def test_two_processes_training_one_config_write_it_once(reference, tmp_path):
    a, b = _train(tmp_path, tmp_path / "a.txt", 1.0), _train(tmp_path, tmp_path / "b.txt", 1.0)
    _wait([a, b])
    (folder,) = [d for d in tmp_path.iterdir() if d.is_dir()]
    assert [h["epoch"] for h in _history(folder)] == list(range(1, EPOCHS + 1))  # not 8 lines for 4 epochs
    logs = [(tmp_path / f"{x}.txt").read_text() for x in "ab"]
    waited = [log for log in logs if "is training this run; waiting for it" in log]
    assert len(waited) == 1 and "epoch=1 " not in waited[0]  # the second one trained nothing: it reused the run
    _same_weights(reference, folder)


def test_a_killed_holder_is_taken_over_and_the_run_resumes_exactly(reference, tmp_path):
    holder = _train(tmp_path, tmp_path / "holder.txt", pause=5.0)
    _until(lambda: any(f.read_text().count("\n") >= 1 for f in tmp_path.glob("*/history.jsonl")), what="epoch 1")
    waiter = _train(tmp_path, tmp_path / "waiter.txt")
    _until(lambda: "waiting for it" in (tmp_path / "waiter.txt").read_text(), what="the second process to wait")
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    (folder,) = [d for d in tmp_path.iterdir() if d.is_dir()]
    assert not (folder / "status").exists() and len(_history(folder)) < EPOCHS
    _wait([waiter])
    assert "resuming" in (tmp_path / "waiter.txt").read_text()
    assert [h["epoch"] for h in _history(folder)] == list(range(1, EPOCHS + 1))
    _same_weights(reference, folder)


HOLD = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
fcntl.flock(fd, fcntl.LOCK_EX)
os.write(fd, f"{os.getpid()} somehost\\n".encode())
print("held", flush=True)
time.sleep(120)
"""


def test_a_timeout_names_the_holders_pid(smoke_raf, tmp_path):
    trainer = Trainer(CFG, runs_root=tmp_path, progress=False)
    trainer.locate()
    trainer.folder.mkdir(parents=True)
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(trainer.folder / ".lock")], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        trainer.lock_timeout = 0.5
        t = time.perf_counter()
        with pytest.raises(RunLockTimeout, match=f"held by pid {holder.pid} on somehost.*lock_timeout=0.5 s"):
            trainer.fit()
        assert time.perf_counter() - t < 30
        assert not (trainer.folder / "history.jsonl").exists()  # nothing written while another holds it
    finally:
        holder.kill()
        holder.wait()


def test_the_lock_is_released_after_an_error(smoke_raf, tmp_path):
    trainer = Trainer({**CFG, "loss": "scn"}, runs_root=tmp_path, progress=False)  # tiny_cnn has no embedding
    with pytest.raises(ValueError, match="forward_aux"):
        trainer.fit()  # fails in build, after prepare_data took the lock
    RunLock(trainer.folder, timeout=0).acquire().release()


def test_the_lock_is_not_taken_twice_in_one_process(tmp_path):
    with RunLock(tmp_path) as lock:
        assert (tmp_path / ".lock").read_text().split()[0] == str(os.getpid())
        with pytest.raises(RuntimeError, match="already being trained by this process"):
            RunLock(tmp_path).acquire()
        assert lock.fd is not None
    with pytest.raises(ValueError, match="lock_timeout"):
        RunLock(tmp_path, timeout=-1)
    RunLock(tmp_path, timeout=0).acquire().release()  # free again
