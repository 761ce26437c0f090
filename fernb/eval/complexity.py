"""Parameters and multiply-accumulates of registry models, beside the figures the papers print.

MACs come from ``torch.utils.flop_counter`` (which reports FLOPs = 2 × MACs for convolutions and matrix products and
ignores normalisation, activations and pooling, the usual convention of thop/fvcore-style counters). Models are built
on the meta device, so counting a 140M-parameter VGG costs no memory and no compute.
"""

from __future__ import annotations

import pandas as pd
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode


def count_params(model: nn.Module, trainable_only: bool = False) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def measure(model: nn.Module, img_size: int, in_chans: int = 3) -> tuple[int, int]:
    """(parameters, MACs) of one forward pass of a single ``in_chans×img_size×img_size`` image, in eval mode."""
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:  # every registry model, on the meta device too, counts without a warning
        model(torch.zeros(1, in_chans, img_size, img_size, device=device))
    model.train(was_training)
    return count_params(model), counter.get_total_flops() // 2


def model_complexity(name: str, img_size: int | None = None, num_classes: int = 7, in_chans: int = 3,
                     **model_kwargs) -> dict:
    """Parameters and MACs of registry model ``name`` at ``img_size`` (its paper's resolution by default), built with
    ``model_kwargs`` (e.g. ResEmoteNet's ``width``)."""
    from fernb.models import create
    from fernb.models.registry import entry

    e = entry(name)
    size = img_size or e.img_size
    with torch.device("meta"):
        model = create(name, num_classes=num_classes, in_chans=in_chans, img_size=size, **model_kwargs)
    params, macs = measure(model, size, in_chans)
    return {"model": name, "img_size": size, "params_m": params / 1e6, "macs_m": macs / 1e6}


def complexity_table(names=None, num_classes: int = 7, all_sizes: bool = True) -> pd.DataFrame:
    """One row per (model, paper resolution): measured parameters and MACs beside every figure a paper prints.

    ``params_ratio`` / ``macs_ratio`` are ours ÷ the paper's, counted with the head the paper counted
    (``paper_head``: 1000 for an ImageNet classifier, ``params_m_paper_head``); ``note`` says where the paper's convention differs
    (1000-class ImageNet heads, FLOPs printed for MACs, an unstated resolution).
    """
    from fernb.models import list_models
    from fernb.models.registry import entry

    rows = []
    for name in names or list_models():
        e = entry(name)
        sizes = e.img_sizes if all_sizes else (e.img_size,)
        for size in sizes:
            m = model_complexity(name, size, num_classes)
            pubs = [p for p in e.published if p.img_size == size] or [None]
            for p in pubs:
                head = m
                if p is not None and p.num_classes and p.num_classes != num_classes:
                    head = model_complexity(name, size, p.num_classes)  # count as the paper did
                rows.append({
                    "model": name, "family": e.family, "paper": e.paper, "img_size": size,
                    "params_m": round(m["params_m"], 3), "macs_m": round(m["macs_m"], 1),
                    "paper_params_m": p.params_m if p else None, "paper_macs_m": p.macs_m if p else None,
                    "paper_head": p.num_classes if p and p.num_classes else num_classes,
                    "params_m_paper_head": round(head["params_m"], 3),
                    "params_ratio": round(head["params_m"] / p.params_m, 3) if p and p.params_m else None,
                    "macs_ratio": round(head["macs_m"] / p.macs_m, 3) if p and p.macs_m else None,
                    "source": p.source if p else "", "note": p.note if p else "", "faithful": e.faithful,
                })
    return pd.DataFrame(rows)


def accuracy_cost_points(runs: pd.DataFrame | None = None, papers_dataset: str | None = "RAF-DB") -> pd.DataFrame:
    """Points for an accuracy–MACs figure: one per finished run (``fernb.train.list_runs()``, MACs at the run's
    training resolution, labelled with its dataset) and one per accuracy a paper prints beside its model's size
    (``Published.accuracy``, on ``papers_dataset``; ``None`` keeps every dataset)."""
    from fernb.models import list_models
    from fernb.models.registry import entry

    pts = []
    for r in (runs.itertuples() if runs is not None and len(runs) else []):
        if r.model in list_models():
            c = model_complexity(r.model, r.img_size, in_chans=r.in_chans)
            kind = " (SynthFER)" if r.dataset.startswith("synth-") else ""
            pts.append({"model": r.model, "macs_m": c["macs_m"], "params_m": c["params_m"], "img_size": r.img_size,
                        "accuracy": r.accuracy, "dataset": r.dataset + kind, "source": "fernb"})
    for name in list_models():
        for p in entry(name).published:
            if p.accuracy is not None and papers_dataset in (None, p.dataset):
                pts.append({"model": name, "macs_m": p.macs_m, "params_m": p.params_m, "img_size": p.img_size,
                            "accuracy": p.accuracy, "dataset": p.dataset, "source": "paper"})
    return pd.DataFrame(pts)
