"""Batch-1 CPU latency of the lightweight models: PyTorch eager against onnxruntime fp32 and int8, measured in the
same run on the same machine, with ONNX parity and the int8 file size (BTFER §V-A's edge question, in PyTorch).

    python benchmarks/latency.py [--models lfer_ldl,litexpressionnet] [--runs 50] [--threads 1] [--size N]

Weights are random (latency does not depend on them; int8 calibration uses random normal images). Accuracy after
int8 quantisation needs trained weights: the model-zoo chapter measures it on SynthFER.
"""

import argparse
import tempfile
from pathlib import Path

import numpy as np
import torch

from fernb.eval.complexity import model_complexity
from fernb.eval.deploy import LIGHTWEIGHT, export_onnx, onnx_parity, ort_latency, quantize_int8, torch_latency
from fernb.models import create, entry


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default=",".join(LIGHTWEIGHT))
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--threads", type=int, default=1, help="CPU threads for both runtimes (1 = a small edge board)")
    ap.add_argument("--size", type=int, default=None, help="input size for every model (default: each paper's)")
    ap.add_argument("--no-int8", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"threads={args.threads} runs={args.runs} torch={torch.__version__}")
    header = f"{'model':24s} {'size':>4s} {'params M':>8s} {'MACs M':>8s} {'torch ms':>9s} {'ort ms':>8s} " \
             f"{'int8 ms':>8s} {'torch/ort':>9s} {'ort/int8':>8s} {'max|Δ|':>8s} {'MB fp32':>7s} {'MB int8':>7s}"
    print(header)
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.models.split(","):
            size = args.size or entry(name).img_size
            model = create(name, img_size=size).eval()
            cx = model_complexity(name, size)
            t_torch = torch_latency(model, size, runs=args.runs)["median_ms"]
            path = export_onnx(model, Path(tmp) / f"{name}.onnx", size)
            diff = onnx_parity(model, path, size)
            t_ort = ort_latency(path, size, runs=args.runs)["median_ms"]
            t_int8, mb8 = float("nan"), float("nan")
            if not args.no_int8:
                cal = np.random.default_rng(0).standard_normal((16, 3, size, size)).astype(np.float32)
                q = quantize_int8(path, Path(tmp) / f"{name}.int8.onnx", cal)
                t_int8 = ort_latency(q, size, runs=args.runs)["median_ms"]
                mb8 = q.stat().st_size / 2 ** 20
            print(f"{name:24s} {size:4d} {cx['params_m']:8.2f} {cx['macs_m']:8.1f} {t_torch:9.2f} {t_ort:8.2f} "
                  f"{t_int8:8.2f} {t_torch / t_ort:8.2f}× {t_ort / t_int8:7.2f}× {diff:8.1e} "
                  f"{path.stat().st_size / 2 ** 20:7.2f} {mb8:7.2f}", flush=True)


if __name__ == "__main__":
    main()
