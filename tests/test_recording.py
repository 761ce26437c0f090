"""Recorded profiles (fernb.recording): one long recording at a time, and the GPU script's CPU dry run."""

import fcntl
import json
import tarfile

import pytest

from fernb import recording


def test_one_recording_at_a_time_and_only_recorded_profiles(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="recorded profiles are long, full"):
        recording.record_chapters(["00_quickstart"], "quick")
    with pytest.raises(ValueError, match="unknown chapter '00_quikstart'"):
        recording.record_chapters(["00_quikstart"])
    monkeypatch.setenv("FERNB_BUILD", str(tmp_path))
    with open(tmp_path / "record-long.lock", "w") as held:  # another recording holds the lock
        held.write("pid 4242")
        held.flush()
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(RuntimeError, match=r"a long recording is already running \(pid 4242\)"):
            recording.record_chapters(["00_quickstart"])


def test_the_gpu_script_dry_run_records_within_its_budget_and_stops_at_it(tmp_path, monkeypatch, fernb_home,
                                                                          capsys):
    """``record-gpu --dry-run``: the GPU script in smoke on the CPU. With budget to spare the chapter is recorded
    (with provenance) and packed for the device's $OUT; with two seconds it is stopped and nothing is recorded."""
    monkeypatch.setenv("FERNB_RESULTS", str(tmp_path / "results"))
    monkeypatch.setenv("FERNB_BUILD", str(tmp_path / "build"))
    with pytest.raises(ValueError, match="--budget-s must be a positive"):
        recording.record_gpu(["00_quickstart"], budget_s=0, dry_run=True)
    done = recording.record_gpu(["00_quickstart"], budget_s=300, dry_run=True, out=tmp_path / "out")
    assert [d["status"] for d in done] == ["recorded"]
    prov = json.loads((tmp_path / "results" / "00_quickstart" / "smoke" / "provenance.json").read_text())
    assert prov["profile"] == "smoke" and prov["device"].startswith("CPU")
    with tarfile.open(tmp_path / "out" / "results-smoke.tar.gz") as tar:
        assert "00_quickstart/smoke/provenance.json" in tar.getnames()
    monkeypatch.setattr(recording, "MIN_START_S", 0)
    done = recording.record_gpu(["00_quickstart", "01_datasets"], budget_s=2, dry_run=True,
                                params={"seed": 1})
    assert done[0]["status"] == "stopped at the budget: not recorded"
    assert done[1]["status"] == "not started: the budget is spent"
    assert "not started: the budget is spent" in capsys.readouterr().out
