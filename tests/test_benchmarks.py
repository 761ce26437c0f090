"""The benchmark scripts still run (on tiny inputs; their figures are only meaningful at full size)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*args):
    out = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def test_loader_benchmark_runs(smoke_raf):
    out = _run("benchmarks/loader.py", "--profile", "smoke", "--epochs", "1", "--workers", "0", "--size", "32")
    assert "ratio fernb / peer:" in out


def test_detection_benchmark_runs():
    pytest.importorskip("facenet_pytorch")
    out = _run("benchmarks/synthfer_detection.py", "--n", "8")
    assert "non-face images: mtcnn fires on" in out


def test_latency_benchmark_runs():
    pytest.importorskip("onnxruntime")
    out = _run("benchmarks/latency.py", "--models", "btfer_lenet5", "--runs", "3")
    assert "btfer_lenet5" in out and "torch/ort" in out


def test_annotation_benchmark_runs():
    out = _run("benchmarks/annotation.py", "--images", "300", "--no-peer")
    assert "fernb GLAD" in out and "alpha corr" in out


def test_train_benchmark_runs(smoke_raf):
    out = _run("benchmarks/train.py", "--profile", "smoke", "--models", "tiny_cnn:32", "--batches", "2",
               "--batch-size", "8", "--workers", "0")
    assert "tiny_cnn" in out and "auto/fp32" in out and "auto/peer" in out


def test_train_benchmark_through_fit_prints_the_ratios(smoke_raf):
    out = _run("benchmarks/train.py", "--through-fit", "--profile", "smoke", "--models", "tiny_cnn:32",
               "--batches", "5", "--batch-size", "8")
    assert "tiny_cnn" in out and "auto/best" in out and out.count("=") >= 4  # fit/bare for each forced setting
    row = next(line for line in out.splitlines() if line.strip().startswith("tiny_cnn")).split()
    pick_over_best, spread = float(row[-2]), float(row[-1])
    assert "pick/best" in out and 0 < pick_over_best <= 1 and spread >= 0  # the pick's forced speed, not above best


def test_hard_pairs_reads_recorded_confusions_and_places_each_pair(tmp_path):
    import json

    import numpy as np

    def run(name, cm, dataset="synth-raf"):
        d = tmp_path / "08" / "long" / "runs" / name
        d.mkdir(parents=True)
        d.joinpath("config.json").write_text(json.dumps({"config": {"dataset": dataset}}))
        names = ["anger", "disgust", "fear", "happiness", "neutral", "sadness", "surprise"]
        d.joinpath("metrics.json").write_text(json.dumps(
            {"confusion_matrix": cm.tolist(), "per_class_accuracy": dict.fromkeys(names, 0.0)}))

    cm = np.diag([20] * 7)
    cm[2, 6], cm[2, 4] = 8, 2  # fear read as surprise most: the pair is fear's largest confusion
    cm[1, 4], cm[1, 0] = 6, 3  # disgust read as neutral before anger: second of six
    run("a", cm)
    run("b", cm)
    run("collapsed", np.outer(np.ones(7, int), np.eye(7, dtype=int)[0]) * 20)  # learned nothing: left out
    run("other-set", cm, dataset="synth-infer")
    out = _run("benchmarks/hard_pairs.py", "--results", str(tmp_path))
    assert out.startswith("2 informative runs over 7 classes")
    assert "fear -> surprise: rate 0.267, 1 of 6 among fear's confusions; the largest in 2 of 2 runs" in out
    assert "disgust -> anger: rate 0.103, 2 of 6 among disgust's confusions; the largest in 0 of 2 runs" in out
