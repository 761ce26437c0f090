"""Deployment, the PyTorch counterpart of BTFER §V-A (TensorFlow Lite on a Raspberry Pi): ONNX export checked against
onnxruntime, static int8 quantisation with onnxruntime (QDQ, per-channel weights, calibrated on training images), and
batch-1 CPU latency in PyTorch and onnxruntime.

Needs the ``deploy`` extra: ``pip install "fernb[deploy]"`` (onnx, onnxruntime).
"""

from __future__ import annotations

import statistics
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn


# the models small enough for an edge board, at their papers' resolutions: what benchmarks/latency.py and the parity
# tests cover
LIGHTWEIGHT = ("lfer_ldl", "efficientface", "litexpressionnet", "savchenko_effnet_b0", "mobilenetv3_large",
               "mobilevit_s", "btfer_mobilenet", "btfer_mobilenetv2", "btfer_efficientnetv2_b0", "btfer_seq3conv",
               "btfer_lenet5")


# What exporting says on every call, known and harmless: the legacy (TorchScript) exporter's deprecation notices, and
# timm's MobileViT converting its feature-map size to Python numbers while traced (constant at a fixed input size;
# onnx_parity checks the result). Filtered by message and module here, so any other warning still reaches the reader.
_EXPORT_WARNINGS = (
    (DeprecationWarning, r"You are using the legacy TorchScript-based ONNX export", r"fernb\.eval\.deploy"),
    (DeprecationWarning, r"The feature will be removed\. Please remove usage of this function", r"torch\.onnx"),
    (torch.jit.TracerWarning, r"Converting a tensor to a Python (float|boolean|integer|index)",
     r"timm\.models\.mobilevit"),
)


def _need_ort():
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError as err:
        raise ImportError('ONNX export and int8 need the deploy extra: pip install "fernb[deploy]"') from err


def export_onnx(model: nn.Module, path, img_size: int, in_chans: int = 3, opset: int = 17) -> Path:
    """Export ``model`` (in eval mode) to ONNX with a dynamic batch axis; returns the path."""
    _need_ort()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    model = model.eval()
    x = torch.randn(1, in_chans, img_size, img_size)
    with warnings.catch_warnings(), torch.no_grad():
        for category, message, module in _EXPORT_WARNINGS:
            warnings.filterwarnings("ignore", message=message, category=category, module=module)
        torch.onnx.export(model, (x,), str(path), input_names=["image"], output_names=["logits"], opset_version=opset,
                          dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}}, dynamo=False)
    return path


def session(path, threads: int | None = None):
    """An onnxruntime CPU session using ``threads`` intra-op threads (default: as many as torch uses)."""
    _need_ort()
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads or torch.get_num_threads()
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def ort_logits(sess, images: np.ndarray, batch_size: int = 64) -> np.ndarray:
    name = sess.get_inputs()[0].name
    return np.concatenate([sess.run(None, {name: images[i:i + batch_size].astype(np.float32)})[0]
                           for i in range(0, len(images), batch_size)])


def onnx_parity(model: nn.Module, path, img_size: int, in_chans: int = 3, n: int = 4, seed: int = 0,
                relative: bool = False) -> float:
    """Largest absolute difference between PyTorch and onnxruntime logits on ``n`` random inputs; with ``relative``,
    divided by the largest |logit| (untrained networks have logits of order 0.01, where an absolute bound says little)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, in_chans, img_size, img_size, generator=g)
    with torch.no_grad():
        ref = model.eval()(x).numpy()
    out = ort_logits(session(path), x.numpy())
    diff = float(np.abs(ref - out).max())
    return diff / max(float(np.abs(ref).max()), 1e-12) if relative else diff


def quantize_int8(onnx_path, out_path, calibration: np.ndarray, per_channel: bool = True) -> Path:
    """Static int8 quantisation (QDQ; int8 weights per channel, uint8 activations) calibrated on ``calibration``
    images (N, C, H, W float32, normalised as the model expects)."""
    _need_ort()
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    if calibration.ndim != 4 or len(calibration) == 0:
        raise ValueError(f"calibration must be a non-empty (N, C, H, W) array, got shape {calibration.shape}")

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.it = iter(calibration[i:i + 1].astype(np.float32) for i in range(len(calibration)))

        def get_next(self):
            x = next(self.it, None)
            return None if x is None else {"image": x}

    out_path = Path(out_path)
    prep = out_path.with_suffix(".prep.onnx")
    quant_pre_process(str(onnx_path), str(prep), skip_symbolic_shape=True)
    quantize_static(str(prep), str(out_path), Reader(), quant_format=QuantFormat.QDQ, per_channel=per_channel,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
    prep.unlink(missing_ok=True)
    return out_path


def latency_ms(fn, x, warmup: int = 5, runs: int = 30) -> dict:
    """Median and interquartile range (ms) of ``fn(x)`` over ``runs`` calls after ``warmup``."""
    for _ in range(warmup):
        fn(x)
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn(x)
        times.append((time.perf_counter() - t) * 1e3)
    q = statistics.quantiles(times, n=4)
    return {"median_ms": statistics.median(times), "iqr_ms": q[2] - q[0]}


def torch_latency(model: nn.Module, img_size: int, in_chans: int = 3, **kw) -> dict:
    model = model.eval()
    x = torch.randn(1, in_chans, img_size, img_size)

    def run(t):
        with torch.inference_mode():
            model(t)
    return latency_ms(run, x, **kw)


def ort_latency(path, img_size: int, in_chans: int = 3, **kw) -> dict:
    sess = session(path)
    name = sess.get_inputs()[0].name
    x = np.random.default_rng(0).standard_normal((1, in_chans, img_size, img_size)).astype(np.float32)
    return latency_ms(lambda a: sess.run(None, {name: a}), x, **kw)


def deploy_report(run, workdir, calibration_images: int = 128, latency_runs: int = 30) -> dict:
    """Export a trained run to ONNX, check parity, quantise to int8 and compare accuracy and latency.

    Calibration images are a seeded subset of the run's training split; accuracies are on its own test split, both
    fed exactly as the trainer fed them (:meth:`fernb.train.Run.loader`), streamed batch by batch.
    """
    cfg = run.config
    model = run.load_model()
    workdir = Path(workdir)
    fp32 = export_onnx(model, workdir / f"{cfg.model}.onnx", cfg.img_size, cfg.in_chans)
    parity = onnx_parity(model, fp32, cfg.img_size, cfg.in_chans)
    x_cal = np.concatenate([x.numpy() for x, _ in run.loader("train", limit=calibration_images)])
    int8 = quantize_int8(fp32, workdir / f"{cfg.model}.int8.onnx", x_cal)
    s_fp32, s_int8 = session(fp32), session(int8)
    preds = {"torch": [], "fp32": [], "int8": [], "y": []}
    for x, y in run.loader("test"):
        with torch.no_grad():
            preds["torch"].append(model(x).argmax(1).numpy())
        preds["fp32"].append(ort_logits(s_fp32, x.numpy()).argmax(1))
        preds["int8"].append(ort_logits(s_int8, x.numpy()).argmax(1))
        preds["y"].append(y.numpy())
    p = {k: np.concatenate(v) for k, v in preds.items()}
    y_test = p["y"]
    kw = dict(runs=latency_runs)
    return {
        "model": cfg.model, "img_size": cfg.img_size, "test_images": len(y_test), "onnx_max_abs_diff": parity,
        "acc_torch_fp32": float((p["torch"] == y_test).mean()), "acc_onnx_fp32": float((p["fp32"] == y_test).mean()),
        "acc_onnx_int8": float((p["int8"] == y_test).mean()),
        "int8_agreement_with_fp32": float((p["int8"] == p["fp32"]).mean()),
        "size_mb_fp32": fp32.stat().st_size / 2 ** 20, "size_mb_int8": int8.stat().st_size / 2 ** 20,
        "ms_torch": torch_latency(model, cfg.img_size, cfg.in_chans, **kw)["median_ms"],
        "ms_onnx_fp32": ort_latency(fp32, cfg.img_size, cfg.in_chans, **kw)["median_ms"],
        "ms_onnx_int8": ort_latency(int8, cfg.img_size, cfg.in_chans, **kw)["median_ms"],
    }
