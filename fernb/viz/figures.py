"""Confusion-matrix explorer, sample grids and plotly renderer set-up."""

from __future__ import annotations

import os
import sys

import numpy as np

from fernb.labels import EXPRESSIONS

BOOK_ENV = "FERNB_BOOK_BUILD"


def setup_plotly() -> str:
    """Choose a plotly renderer that works where this kernel runs and return its name.

    Plotly >= 6 in a headless kernel emits only its own MIME bundle, which Jupyter Book drops; while the book is being
    built (``FERNB_BOOK_BUILD=1``, set by ``python -m fernb.book``) figures are written as HTML that calls the
    plotly.js the book ships.  On Colab the Colab renderer is used; elsewhere plotly's default.
    """
    import plotly.io as pio
    from plotly.io._base_renderers import MimetypeRenderer

    class BookHTML(MimetypeRenderer):
        def to_mimebundle(self, fig_dict):
            html = pio.to_html(fig_dict, include_plotlyjs=False, full_html=False, validate=False,
                               config={"displaylogo": False, "responsive": True})
            return {"text/html": html}

    pio.renderers["fernb_book"] = BookHTML()
    if os.environ.get(BOOK_ENV):
        pio.renderers.default = "fernb_book"
    elif "google.colab" in sys.modules:
        pio.renderers.default = "colab"
    return pio.renderers.default


def confusion_matrix_figure(cm, labels=EXPRESSIONS, title: str = "Confusion matrix", subtitle: str = ""):
    """One confusion matrix in the static explorer (:func:`fernb.viz.explorer.explorer_figure`): row-normalised
    colours, hover with counts and shares, buttons for recall, precision and counts."""
    from fernb.eval.evaluation import Evaluation
    from fernb.viz.explorer import explorer_figure

    return explorer_figure([Evaluation.from_counts("matrix", cm, labels)], title, subtitle)


def sample_grid(images, row_labels, col_labels, cell: int = 128, pad: int = 4, font_size: int = 16):
    """A PIL image: ``images[r][c]`` (uint8 arrays) in a grid with row and column captions."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(size=font_size)
    nr, nc = len(images), max(len(r) for r in images)
    left, top = 8 * font_size, 2 * font_size
    W, H = left + nc * (cell + pad), top + nr * (cell + pad)
    canvas = Image.new("RGB", (W, H), "white")
    d = ImageDraw.Draw(canvas)
    for c, name in enumerate(col_labels):
        d.text((left + c * (cell + pad) + 4, 4), str(name), fill="black", font=font)
    for r, row in enumerate(images):
        d.text((4, top + r * (cell + pad) + cell // 2 - font_size // 2), str(row_labels[r]), fill="black", font=font)
        for c, img in enumerate(row):
            if img is None:
                continue
            im = Image.fromarray(np.asarray(img)).convert("RGB").resize((cell, cell), Image.BILINEAR)
            canvas.paste(im, (left + c * (cell + pad), top + r * (cell + pad)))
    return canvas


def expression_examples(dataset, label_column: str = "true_label") -> list:
    """One image per expression: the most intense unblended, unoccluded example where the record table says so
    (SynthFER), otherwise the first image of the class; ``None`` for a class with no image."""
    from fernb.data.store import record_image

    r = dataset.records
    col = label_column if label_column in r else "label"
    out = []
    for k in range(len(EXPRESSIONS)):
        cand = r[r[col] == k]
        clean = cand
        if "blend_weight" in r:
            clean = clean[clean["blend_weight"] == 0]
        if "occluders" in r:
            clean = clean[clean["occluders"].isna() | (clean["occluders"] == "")]
        cand = clean if len(clean) else cand
        if "intensity" in cand:
            cand = cand.sort_values("intensity", ascending=False)
        out.append(record_image(dataset, cand.index[0]) if len(cand) else None)
    return out


def class_distribution_figure(counts, title: str = "Class distribution", subtitle: str = ""):
    """Grouped bars of per-class image counts, one group per column of ``counts`` (a DataFrame indexed by class),
    with buttons to switch between the share of each column (comparable across datasets of any size) and counts."""
    import plotly.graph_objects as go

    counts = counts.fillna(0)
    shares = counts / counts.sum(0).replace(0, np.nan) * 100
    fig = go.Figure()
    for col in counts.columns:
        fig.add_bar(name=str(col), x=[str(i) for i in counts.index], y=shares[col], customdata=counts[col],
                    hovertemplate=f"{col}<br>%{{x}}: %{{customdata:,.0f}} images (%{{y:.1f}}%)<extra></extra>")
    n = len(counts.columns)
    buttons = [dict(label="share (%)", method="update", args=[{"y": [shares[c] for c in counts.columns]}, {"yaxis.title.text": "% of images"}]),
               dict(label="counts", method="update", args=[{"y": [counts[c] for c in counts.columns]}, {"yaxis.title.text": "images"}])]
    fig.update_layout(barmode="group", title=dict(text=title + (f"<br><sup>{subtitle}</sup>" if subtitle else "")),
                      yaxis=dict(title="% of images"), legend=dict(orientation="h", y=-0.18),
                      updatemenus=[dict(buttons=buttons, direction="right", x=0, y=1.15, xanchor="left", type="buttons")],
                      height=460 + 14 * max(0, n - 4), margin=dict(t=110))
    return fig


def class_examples(dataset, per_class: int = 1, size: int = 96, channels: int = 3) -> list:
    """The first ``per_class`` images of each class as uint8 arrays, decoded as the image store decodes them (face
    boxes cropped, pixel strings converted), without building a store of the whole dataset; ``None`` for an empty
    class."""
    from fernb.data.store import record_loader

    load = record_loader(dataset, size, channels)
    labels = dataset.records["label"].to_numpy()
    out = []
    for k in range(dataset.num_classes):
        imgs = [load(i) for i in np.flatnonzero(labels == k)[:per_class]]
        out.append((imgs[0] if per_class == 1 else imgs) if imgs else None)
    return out


def _one_per_model(g):
    """One marker per model and cost: the median accuracy of its points, the range as whiskers, labelled once
    (with the number of runs when there are several), so the runs of every chapter do not bury one another."""
    g = g.assign(img_size=g.get("img_size", g["macs_m"] * 0), params_m=g.get("params_m", g["macs_m"] * 0))
    out = (g.groupby(["model", "macs_m"], sort=False)
           .agg(accuracy=("accuracy", "median"), low=("accuracy", "min"), high=("accuracy", "max"),
                n=("accuracy", "size"), img_size=("img_size", "first"), params_m=("params_m", "first"))
           .reset_index())
    return out.assign(label=[m if n == 1 else f"{m} ({n})" for m, n in zip(out["model"], out["n"])])


def label_layout(macs, acc, y_range: tuple, plot_px: float = 330, gap_px: float = 15, near: float = 0.3) -> list:
    """Where each marker's label goes, ``(x, y)`` in the axes' units (x in log10 MACs): markers within ``near``
    decades of one another form a cluster whose labels stand in one column right of its rightmost marker, in the
    markers' order of accuracy, at least ``gap_px`` apart on a plot ``plot_px`` high over ``y_range``; each label
    is joined to its marker by a line. Labels therefore never print over one another, however dense the cluster."""
    x = np.log10(np.maximum(np.asarray(macs, dtype=float), 1e-9))
    y = np.asarray(acc, dtype=float)
    gap = gap_px * (y_range[1] - y_range[0]) / plot_px
    order = np.argsort(x, kind="stable")
    clusters, current = [], [order[0]] if len(order) else []
    for i in order[1:]:
        if x[i] - x[current[-1]] < near:
            current.append(i)
        else:
            clusters.append(current)
            current = [i]
    if current:
        clusters.append(current)
    out = [None] * len(x)
    for members in clusters:
        column = max(x[i] for i in members) + 0.06
        ranked = sorted(members, key=lambda i: -y[i])
        ys = []
        for k, i in enumerate(ranked):
            ys.append(min(y[i], ys[-1] - gap) if k else min(y[i], y_range[1] - gap / 2))
        shift = max(0.0, (y_range[0] + gap / 2) - ys[-1]) if ys else 0.0  # a stack that ran off the bottom
        for i, yy in zip(ranked, ys):
            out[i] = (column if len(members) > 1 else x[i] + 0.04, yy + shift)
    return out


def accuracy_macs_figure(points, title: str = "Accuracy against cost", subtitle: str = ""):
    """Scatter of test accuracy against MACs (log axis), one marker per model and cost (the median of its runs,
    whiskers from the lowest to the highest), one colour per dataset.

    ``points``: a DataFrame with columns model, macs_m, accuracy, dataset and optionally img_size, params_m, source.
    Paper figures can be added as rows with ``source`` naming the paper (drawn as open markers): they stay labelled
    with their own dataset, never mixed with a SynthFER number.
    """
    import pandas as pd
    import plotly.graph_objects as go

    fig = go.Figure()
    groups = [(dataset, source, _one_per_model(g)) for (dataset, source), g in
              points.groupby([points["dataset"], points.get("source", "fernb")], sort=False)]
    every = pd.concat([g for *_, g in groups], ignore_index=True)
    lo, hi = float(every["low"].min()), float(every["high"].max())
    y_range = (max(0.0, lo - 0.06), min(1.02, hi + 0.06)) if len(every) else (0.0, 1.0)
    layout = label_layout(every["macs_m"], every["accuracy"], y_range)
    x_range = ([float(np.log10(every["macs_m"].min())) - 0.2, max(ax for ax, _ in layout) + 0.55] if layout
               else None)  # room for the label columns right of the markers
    spots = iter(layout)
    for dataset, source, g in groups:
        ours = source == "fernb"
        for (_, row), (ax, ay) in zip(g.iterrows(), spots):  # each label in its column, joined to its marker
            fig.add_annotation(x=np.log10(row["macs_m"]), y=row["accuracy"], ax=ax, ay=ay, axref="x", ayref="y",
                               text=row["label"], showarrow=True, arrowhead=0, arrowwidth=1,
                               arrowcolor="rgba(90,90,90,0.6)", xanchor="left", font=dict(size=11))
        fig.add_scatter(x=g["macs_m"], y=g["accuracy"], mode="markers", text=g["label"],
                        name=f"{dataset} ({'measured here' if ours else source})",
                        error_y=dict(type="data", symmetric=False, array=g["high"] - g["accuracy"],
                                     arrayminus=g["accuracy"] - g["low"], thickness=1, width=3,
                                     visible=bool((g["high"] > g["low"]).any())),  # no caps on single points
                        marker=dict(size=11, symbol="circle" if ours else "circle-open", line=dict(width=2)),
                        customdata=np.stack([g["img_size"], g["params_m"], g["n"], g["low"], g["high"]], 1),
                        hovertemplate="%{text}<br>%{x:,.1f}M MACs at %{customdata[0]}px, %{customdata[1]:.2f}M params"
                                      "<br>accuracy %{y:.3f} (median of %{customdata[2]} run(s): "
                                      "%{customdata[3]:.3f}-%{customdata[4]:.3f})<extra></extra>")
    fig.update_layout(title=dict(text=title + (f"<br><sup>{subtitle}</sup>" if subtitle else "")),
                      xaxis=dict(title="MACs (millions, log scale) at the training resolution", type="log",
                                 range=x_range),
                      yaxis=dict(title="test accuracy", range=list(y_range)), legend=dict(orientation="h", y=-0.2),
                      height=520,
                      margin=dict(t=90))
    return fig


def training_curves_figure(history, title: str = "Training curves"):
    """Training and validation accuracy (left) and loss (right) per epoch from a run's history (records with
    ``epoch`` and any of ``train_acc``, ``val_acc``, ``train_loss``, ``val_loss``)."""
    import pandas as pd
    from plotly.subplots import make_subplots

    h = pd.DataFrame(history)
    fig = make_subplots(rows=1, cols=2, subplot_titles=("accuracy", "loss"))
    for col, key, name in ((1, "train_acc", "train"), (1, "val_acc", "validation"),
                           (2, "train_loss", "train"), (2, "val_loss", "validation")):
        if key in h:
            fig.add_scatter(x=h["epoch"], y=h[key], mode="lines+markers", name=f"{name} {key.split('_')[1]}",
                            row=1, col=col)
    fig.update_xaxes(title_text="epoch")
    fig.update_layout(title=title, height=380)
    return fig
