"""The model zoo chapter's drivers: every architecture of the four papers beside the sizes the papers print, the
lightweight models trained under one protocol, their accuracy against cost, ONNX/int8 deployment and batch-1
latency (BTFER §V-A's edge deployment, the PyTorch way).

What each profile measures or trains is a recipe below; the measuring itself is :mod:`fernb.eval.complexity` and
:mod:`fernb.eval.deploy`, the printed sizes are the registry's ``published`` figures (:mod:`fernb.models`).
"""

from __future__ import annotations

import pandas as pd

from fernb.papers.recipes import Recipe

COMPLEXITY = Recipe(
    "complexity", "Size and cost beside the papers",
    # "faithful": the models held to their papers' sizes; None: every registered model
    smoke=dict(models=["faithful", "btfer_vgg16", "btfer_lenet5"]),
    quick=dict(models=None),
    full=dict(models=None),
)
TRAINED = Recipe(
    "trained", "Lightweight models on SynthFER (one protocol: Adam, cosine, conservative weights)",
    common=dict(class_weighting="conservative"),
    # smoke: one model and a forced setting (the autotuner's measurement and a second model cost CI ~15 s of its 40)
    smoke=dict(models=["litexpressionnet"], elsewhere=[], img_size=64, epochs=1, batch_size=32,
               max_batches_per_epoch=3, precision="fp32", memory_format="channels_last"),
    # quick: the plain CNN (chapter 09's teacher) beside LiteXpressionNet; EfficientFace, Table 4's other network,
    # trains under the same protocol in chapter 07 (``elsewhere``), which shares these runs: three 6-epoch fits
    # made this chapter ~350 s from a cold cache against its 240 s. LFER-LDL's network (42 % against a 37 %
    # majority share after these 6 epochs) waits for full. The setting is forced where the autotuner measured
    # fp32 + channels-last fastest for all three at 64 px (0.67 against 0.97 s a step for LiteXpressionNet),
    # sparing each cold run its ~5-20 s measurement.
    quick=dict(models=["small_cnn", "litexpressionnet"], elsewhere=["efficientface"], img_size=64, epochs=6,
               batch_size=64, max_batches_per_epoch=None, precision="fp32", memory_format="channels_last"),
    # img_size None: each model at its paper's resolution
    full=dict(models=["lfer_ldl_baseline", "lfer_ldl", "efficientface", "litexpressionnet", "mobilenetv3_large",
                      "savchenko_effnet_b0", "scn", "resemotenet"], elsewhere=[], img_size=None, epochs=40,
              batch_size=64, max_batches_per_epoch=None, precision="auto", memory_format="auto"),
)
DEPLOY = Recipe(
    "deploy", "ONNX and int8 deployment of trained runs",
    # each model must be trained by TRAINED in the same profile; smoke deploys one to prove the path
    smoke=dict(models=["litexpressionnet"], calibration_images=16, latency_runs=3),
    quick=dict(models=["litexpressionnet"], calibration_images=128, latency_runs=30),
    full=dict(models=["lfer_ldl", "litexpressionnet"], calibration_images=512, latency_runs=100),
)
LATENCY = Recipe(
    "latency", "Batch-1 latency at each paper's resolution (untrained weights)",
    smoke=dict(models=["btfer_lenet5"], runs=3),
    quick=dict(models=["lfer_ldl", "litexpressionnet", "mobilenetv3_large"], runs=20),
    full=dict(models=["lfer_ldl", "efficientface", "litexpressionnet", "mobilenetv3_large", "savchenko_effnet_b0",
                      "btfer_mobilenetv2"], runs=50),
)
SHOWN = ["model", "img_size", "params_m", "macs_m", "paper_params_m", "paper_macs_m", "paper_head",
         "params_m_paper_head", "params_ratio", "macs_ratio", "source", "faithful"]


def _names(models) -> list[str] | None:
    """A recipe's model list with ``"faithful"`` expanded to the registry's faithful models (``None``: all)."""
    from fernb.models import entry, list_models

    if models is None:
        return None
    out = []
    for m in models:
        out += [n for n in list_models() if entry(n).faithful] if m == "faithful" else [m]
    return out


def missing() -> str:
    """The BTFER architectures the registry does not build, and why (Markdown)."""
    from fernb.models.btfer import KNOWN_MISSING

    return "BTFER architectures not built:\n\n" + "\n".join(f"* {k}: {v}" for k, v in KNOWN_MISSING.items())


def complexity(ch) -> pd.DataFrame:
    """Parameters and MACs of this profile's models (``COMPLEXITY``) at every paper resolution, beside the figures
    the papers print (:func:`fernb.eval.complexity.complexity_table`)."""
    from fernb.eval.complexity import complexity_table

    return complexity_table(_names(COMPLEXITY(ch.profile).models))


COMPARED = {"params_m_paper_head": "ours params (M)", "paper_params_m": "paper params (M)",
            "params_ratio": "params ratio", "macs_m": "ours MACs (M)", "paper_macs_m": "paper MACs (M)",
            "macs_ratio": "MACs ratio", "source": "source"}
"""The columns of the size comparison as the page names them (ours counted with the head the paper counted)."""


def off_by(table: pd.DataFrame, tolerance: float = 0.10) -> pd.Series:
    """Per row of :func:`complexity`: whether a ratio to the paper's figure lies outside ``1 ± tolerance``."""
    ratios = table[["params_ratio", "macs_ratio"]]
    return ((ratios - 1).abs() > tolerance).any(axis=1)


def complexity_split(table: pd.DataFrame, tolerance: float = 0.10) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(what the page shows, what it folds) of :func:`complexity`: first the rows with a paper figure whose ratio is
    off by more than ``tolerance`` and the models held to their papers (``faithful``), then every other row."""
    compared = table.paper_params_m.notna() | table.paper_macs_m.notna()
    shown = compared & (off_by(table, tolerance) | table.faithful)
    head = (table[shown].assign(off=off_by(table[shown], tolerance))
            .sort_values(["off", "model"], ascending=[False, True]))
    view = head.set_index(["model", "img_size"])[list(COMPARED)].rename(columns=COMPARED)
    rest = table[~shown].set_index(["model", "img_size"])[SHOWN[2:]]
    return view, rest


def _within(row) -> bool:
    """A faithful model's size within ±10 % of its paper's: parameters, and MACs where the paper prints them."""
    return 0.9 <= row.params_ratio <= 1.1 and (row.macs_ratio != row.macs_ratio or 0.9 <= row.macs_ratio <= 1.1)


def size_finding(table: pd.DataFrame, tolerance: float = 0.10) -> str:
    """The size check in one sentence, for the page's opening findings: how many rows with a paper figure are
    within ``tolerance`` of it, which differ by more, and whether the faithful models hold."""
    compared = table[table.paper_params_m.notna() | table.paper_macs_m.notna()]
    off = compared[off_by(compared, tolerance)]
    names = ", ".join(dict.fromkeys(off["model"]))
    held = table[table.faithful]
    ok = all(_within(r) for r in held.itertuples())
    return (f"Sizes: {len(compared) - len(off)} of {len(compared)} model-resolution rows with a paper figure are "
            f"within {tolerance:.0%} of it" + (f"; {len(off)} differ by more ({names})" if len(off) else "")
            + f"; the {held.model.nunique()} models held to their papers are "
            + ("all within ±10 %" if ok else "not all within ±10 %"))


def faithful_check(table: pd.DataFrame) -> str:
    """One line per faithful model: ours ÷ the paper's parameters (and MACs, where printed), within ±10 % or not."""
    lines = []
    for name, row in table[table.faithful].set_index("model").iterrows():
        has_macs = row.macs_ratio == row.macs_ratio
        macs = f", MACs ratio {row.macs_ratio:.2f}" if has_macs else ""
        within = _within(row)
        lines.append(f"{name:18s} vs {row.source}: params ratio {row.params_ratio:.2f}{macs}  (within ±10%: {within})")
    return "\n".join(lines)


def assumptions(names=("litexpressionnet", "lfer_ldl")) -> str:
    """The choices we made where a paper gives no layer table, from each model's registry entry (Markdown)."""
    from fernb.models import entry

    return "\n\n".join(f"**{n}** ({entry(n).paper})\n\n" + "\n".join(f"* {a[3:]}" for a in entry(n).assumptions)
                       for n in names)


def ablation_cost() -> pd.DataFrame:
    """ResEmoteNet's Table IV configurations C1-C6: what each removes, its parameters and MACs at 64×64."""
    from fernb.eval.complexity import complexity_table
    from fernb.models import entry

    res = complexity_table([f"resemotenet_c{i}" for i in range(1, 7)])
    res = res.assign(removed=[entry(n).paper.split("removed: ")[1][:-1] for n in res.model])
    return res[["model", "removed", "params_m", "macs_m"]].set_index("model")


def fit_trained(ch, name: str, dataset: str | None = None, data_root=None):
    """One model of ``TRAINED`` (``models``, or ``elsewhere``: trained under the same protocol by the chapter that
    shares the runs) under this profile's one protocol, on ``dataset`` (default: the chapter's). The same call in
    another chapter reads the same run from the cache (chapter 07's Table 4 does in ``quick``)."""
    from fernb.models import entry

    r = TRAINED(ch.profile)
    where = {k: v for k, v in (("dataset", dataset), ("data_root", data_root)) if v is not None}
    if name not in r.models + r.elsewhere:
        raise ValueError(f"zoo.TRAINED[{ch.profile!r}] trains {r.models + r.elsewhere}, not {name!r}")
    return ch.fit(model=name, img_size=r.img_size or entry(name).img_size, epochs=r.epochs,
                  batch_size=r.batch_size, class_weighting=r.class_weighting,
                  max_batches_per_epoch=r.max_batches_per_epoch, precision=r.precision,
                  memory_format=r.memory_format, **where)


def train(ch) -> dict:
    """Train this profile's lightweight models (``TRAINED``) under one protocol; returns model -> Run."""
    return {name: fit_trained(ch, name) for name in TRAINED(ch.profile).models}


def trained_table(ch, runs: dict) -> pd.DataFrame:
    """One row per trained model: its resolution, epochs, last training loss, test accuracy, macro-F1 and time;
    reported as ``trained``."""
    table = pd.DataFrame({n: {"img_size": r.config.img_size, "epochs": r.config.epochs,
                              "last_train_loss": r.history[-1]["train_loss"], "accuracy": r.metrics["accuracy"],
                              "macro_f1": r.metrics["macro_f1"], "train_s": r.metrics["train_seconds"]}
                          for n, r in runs.items()}).T
    return ch.report("trained", table, runs=runs, columns=["accuracy", "macro_f1"])


def accuracy_cost_figure(ch):
    """Every finished run of this dataset and profile in the registry (MACs at its training resolution) beside the
    papers' own RAF-DB figures (InFER++ Table 4, LFER-LDL Table 1)."""
    from fernb.eval.complexity import accuracy_cost_points
    from fernb.train import list_runs
    from fernb.viz import accuracy_macs_figure

    done = list_runs()
    if len(done):
        done = done[(done.dataset == ch.dataset) & (done.profile == ch.profile)]
    kind = "synthetic" if ch.synthetic else "real"
    return accuracy_macs_figure(accuracy_cost_points(done, papers_dataset="RAF-DB"), title="Test accuracy against MACs",
                                subtitle=f"filled: measured here on {ch.dataset} ({kind}), profile {ch.profile}; "
                                         "open: the papers' RAF-DB figures")


def deployment(ch, runs: dict) -> pd.DataFrame:
    """ONNX export, parity, int8 quantisation, accuracy and batch-1 latency (one CPU thread) of this profile's
    deployed runs (``DEPLOY``), one row per model."""
    import torch

    from fernb import paths
    from fernb.eval.deploy import deploy_report

    r = DEPLOY(ch.profile)
    lacking = [m for m in r.models if m not in runs]
    if lacking:
        raise ValueError(f"DEPLOY names {lacking}, which TRAINED does not train in profile {ch.profile!r}")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        rows = [deploy_report(runs[n], paths.cache_root() / "deploy", calibration_images=r.calibration_images,
                              latency_runs=r.latency_runs) for n in r.models]
    finally:
        torch.set_num_threads(threads)
    return pd.DataFrame(rows).set_index("model")


def latency(ch) -> pd.DataFrame:
    """PyTorch against onnxruntime, batch 1 and one thread, at each paper's resolution for this profile's models
    (``LATENCY``), with the export's parity; reported as ``latency``."""
    import torch

    from fernb import paths
    from fernb.eval.deploy import export_onnx, onnx_parity, ort_latency, torch_latency
    from fernb.models import create, entry

    r = LATENCY(ch.profile)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    rows = []
    try:
        for name in r.models:
            size = entry(name).img_size
            model = create(name, img_size=size).eval()
            path = export_onnx(model, paths.cache_root() / "deploy" / f"{name}-untrained-{size}.onnx", size)
            t_torch = torch_latency(model, size, runs=r.runs)["median_ms"]
            t_ort = ort_latency(path, size, runs=r.runs)["median_ms"]
            rows.append({"model": name, "img_size": size, "pytorch_ms": t_torch, "onnxruntime_ms": t_ort,
                         "speed-up": t_torch / t_ort, "max_abs_diff": onnx_parity(model, path, size),
                         "max_rel_diff": onnx_parity(model, path, size, relative=True)})
    finally:
        torch.set_num_threads(threads)
    return ch.report("latency", pd.DataFrame(rows).set_index("model"))


def trained_reading(table: pd.DataFrame) -> str:
    """Whether the ShuffleNetV2-trunk models (LFER-LDL, EfficientFace) left the class prior more slowly than the
    plain CNN, by their last training loss (Markdown; empty when the profile trains no such pair)."""
    trunk = [m for m in ("lfer_ldl", "efficientface") if m in table.index]
    if "small_cnn" not in table.index or not trunk:
        return ""
    plain = float(table.loc["small_cnn", "last_train_loss"])
    losses = ", ".join(f"{m} {float(table.loc[m, 'last_train_loss']):.3f}" for m in trunk)
    slower = all(float(table.loc[m, "last_train_loss"]) > plain for m in trunk)
    if slower:
        return (f"Trained from scratch on this data, the depthwise, channel-shuffled ShuffleNetV2 trunk leaves the "
                f"class prior more slowly than a plain 3×3-convolution CNN: last training loss {losses} against "
                f"small_cnn's {plain:.3f}.")
    return (f"Trained from scratch on this data, the ShuffleNetV2-trunk models reach a last training loss of "
            f"{losses} against the plain CNN's {plain:.3f}: not all of them lag behind it here.")
