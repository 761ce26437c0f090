"""The trainer's precision and memory-format choice: forced settings are honoured, ``auto`` is measured, recorded
and cached, and a resumed run keeps the setting it started with."""

import json

import pytest
import torch

from fernb.train import StopAfterEpoch, TrainConfig, fit
from fernb.train import autotune
from fernb.train.strategies import Precision

TINY = dict(model="tiny_cnn", dataset="synth-raf", profile="smoke", img_size=32, batch_size=32, epochs=2)


def _recorded(run):
    return json.loads((run.dir / "config.json").read_text())["precision"]


def test_forced_setting_is_honoured_and_recorded(smoke_raf, tmp_path):
    run = fit({**TINY, "epochs": 1, "precision": "bf16", "memory_format": "channels_last"}, runs_root=tmp_path,
              progress=False)
    assert _recorded(run) == {"precision": "bf16", "channels_last": True, "source": "forced"}
    assert run.metrics["precision"] == "bf16" and run.metrics["channels_last"] is True
    # evaluated again in the precision it was evaluated with
    torch.testing.assert_close(torch.from_numpy(run.predict("test")), torch.from_numpy(run.test_probs))
    with pytest.raises(ValueError, match="precision='fp16' needs a CUDA device"):
        fit({**TINY, "precision": "fp16", "memory_format": "contiguous"}, runs_root=tmp_path, progress=False,
            device="cpu")
    with pytest.raises(ValueError, match="TrainConfig.precision='half'"):
        TrainConfig(precision="half")
    with pytest.raises(ValueError, match="memory_format='nhwc'"):
        TrainConfig(memory_format="nhwc")


def test_auto_is_measured_cached_and_kept_on_resume(smoke_raf, tmp_path, monkeypatch):
    calls = []
    real = autotune.measure

    def counted(*a, **k):
        calls.append(a)
        return real(*a, **k)

    monkeypatch.setattr(autotune, "measure", counted)
    monkeypatch.setattr(autotune, "_cache_path", lambda: tmp_path / "autotune.json")  # this test's own cache
    from fernb.train import strategies

    short = fit({**TINY, "seed": 5, "epochs": 1}, runs_root=tmp_path, progress=False)
    assert _recorded(short)["source"] == "default (short run)" and not calls  # 6 steps cannot repay measuring
    monkeypatch.setattr(strategies, "MIN_TUNED_STEPS", 0)
    cfg = {**TINY, "seed": 3}
    with pytest.raises(KeyboardInterrupt):
        fit(cfg, runs_root=tmp_path, progress=False, callbacks=[StopAfterEpoch(1)])
    records = [json.loads(p.read_text()) for p in tmp_path.glob("*/config.json")]
    first = next(r for r in records if r["config"]["seed"] == 3)["precision"]
    assert first["source"] == "autotune" and set(first["timings_s_per_step"]) == {
        "fp32", "fp32+channels_last", "bf16", "bf16+channels_last"}
    assert len(calls) == 1
    # the cache answers for another run of the same model, input and batch, and resume keeps the recorded choice
    cache = json.loads((autotune._cache_path()).read_text())
    key = next(iter(cache))
    cache[key]["choice"] = ["bf16", True] if first["precision"] == "fp32" else ["fp32", False]
    autotune._cache_path().write_text(json.dumps(cache))
    run = fit(cfg, runs_root=tmp_path, progress=False)
    assert len(calls) == 1
    rec = _recorded(run)
    assert rec["source"] == "resumed" and rec["precision"] == first["precision"]
    assert rec["channels_last"] == first["channels_last"]
    other = fit({**TINY, "seed": 4, "epochs": 1}, runs_root=tmp_path, progress=False)
    assert len(calls) == 1 and _recorded(other)["precision"] == cache[key]["choice"][0]


def test_measure_rejects_settings_whose_loss_strays(monkeypatch):
    """A candidate is only chosen when it is correct (its loss agrees with fp32's) and clearly faster."""
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.Flatten(), torch.nn.LazyLinear(7))
    model(torch.zeros(1, 3, 16, 16))
    dev = torch.device("cpu")
    allowed = [("fp32", False), ("bf16", False)]
    out = autotune.measure(model, 16, 3, 8, 7, dev, allowed, steps=2, warmup=1)
    assert set(out["timings"]) == {"fp32", "bf16"} and out["choice"][0] in ("fp32", "bf16")
    monkeypatch.setattr(autotune, "LOSS_TOLERANCE", -1.0)  # nothing agrees: only the reference can be chosen
    assert autotune.measure(model, 16, 3, 8, 7, dev, allowed, steps=2, warmup=1)["choice"] == ("fp32", False)
    assert Precision.named("bf16", True, dev, "forced").autocast() is not None
