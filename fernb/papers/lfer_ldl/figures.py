"""LFER-LDL's figures: accuracy against the balance coefficient beside the paper's peaks (Figs. 6-7), the teacher's
distributions beside the true blends (§1.3), and the training curves (Figs. 8-9, drawn by :mod:`fernb.viz`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from fernb.papers.lfer_ldl.paper import PEAKS
from fernb.papers.lfer_ldl.tables import network


def sweep_figure(table: pd.DataFrame, dataset: str, profile: str):
    """Accuracy against beta with the seeds' sd, and the paper's peaks marked (on their own datasets)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    fig.add_scatter(x=table.index, y=table["accuracy (%)"], mode="lines+markers", name=f"{dataset} (ours)",
                    error_y={"type": "data", "array": table["sd"].fillna(0).to_numpy(), "visible": True})
    for (name, (beta, acc)), dash in zip(PEAKS.items(), ("dash", "dot")):
        fig.add_vline(x=beta, line_dash=dash, line_color="grey",
                      annotation_text=f"paper's peak, {name}: {acc} % at {beta}", annotation_position="top")
    fig.update_layout(title=f"Accuracy against the balance coefficient<br><sup>{dataset}, profile {profile}; "
                            f"bars: sd over seeds</sup>", xaxis_title="beta (combo loss)",
                      yaxis_title="test accuracy (%)", xaxis_range=[-0.05, 1.05], height=420)
    return fig


def distribution_figure(rows, teacher: np.ndarray, truth: np.ndarray | None, records: pd.DataFrame, class_names):
    """The teacher's distribution beside the true blend for a few records, one panel each."""
    from plotly.subplots import make_subplots

    names = list(class_names)
    titles = []
    for r in rows:
        rec = records.iloc[r]
        title = f"#{r}: label {names[rec['label']]}"
        if truth is not None:
            partner = names[rec["blend_label"]] if rec["blend_label"] >= 0 else "-"
            title += f", true {names[rec['true_label']]} + {partner} ({rec['blend_weight']:.2f})"
        titles.append(title)
    fig = make_subplots(rows=len(rows), cols=1, subplot_titles=titles, shared_xaxes=True, vertical_spacing=0.08)
    for i, r in enumerate(rows):
        for d, name, color in ((teacher, "teacher", "#1f77b4"), (truth, "true blend", "#ff7f0e")):
            if d is None:
                continue
            fig.add_bar(x=names, y=d[r], name=name, marker_color=color, showlegend=i == 0, row=i + 1, col=1)
    fig.update_layout(barmode="group", height=220 * len(rows) + 80, title="Teacher distributions and true blends")
    fig.update_yaxes(range=[0, 1])
    return fig


def teacher_examples(teachers, rows):
    """The chosen records as images (one row of a grid) and, below, the first teacher's distribution beside
    their true blend: (image grid, figure)."""
    from fernb.data.store import record_loader
    from fernb.viz import sample_grid

    load = record_loader(teachers.dataset, 96, 3)
    grid = sample_grid([[load(r) for r in rows]], ["image"], [f"#{r}" for r in rows], cell=96, font_size=12)
    return grid, distribution_figure(rows, teachers.dists[0], teachers.truth, teachers.records, teachers.classes)


def curves_figure(run, dataset: str, profile: str, beta: float):
    """Figs. 8-9: the LFER-LDL (or stand-in) run's training and validation accuracy and loss per epoch."""
    from fernb.viz import training_curves_figure

    return training_curves_figure(
        run.history, f"Training curves, {network([run])} with LDL, β = {beta}<br><sup>{dataset}, profile "
                     f"{profile}; "
                     f"validation = 10 % of the training split; train loss = combo + KL, validation loss = "
                     f"cross-entropy</sup>")
