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
