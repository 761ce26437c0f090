"""The confusion-matrix explorer: one set of evaluations, two front ends.

* :class:`fernb.eval.Evaluation` (not drawn here) holds what a confusion matrix is made of (true
  labels, predicted probabilities, class names) and, when known, the records behind them, so every
  cell can show its images.
* :func:`explorer_figure` is the static explorer of the book: self-contained plotly (no network, no
  kernel), with a dropdown over every evaluation, buttons for recall / precision / counts, hover
  with counts and shares, and a precomputed gallery of each evaluation's largest confusions.
* :class:`ConfusionExplorer` is the live one (JupyterLab, Colab): ipywidgets to choose the
  evaluation, the normalisation and a class subset, click a cell for its images, and compare two
  evaluations side by side or as a difference matrix. Its logic (matrices, selections, galleries) is
  plain Python, tested without a browser.
* :func:`explore` picks the front end: the figure while the book is built, the widgets in a live
  kernel.

InFER++ §III-E, Fig. 5 reads cross-dataset confusion matrices; every chapter's confusion matrix uses
this module.
"""

from __future__ import annotations

import base64
import io
import os
import numpy as np

from fernb.eval.evaluation import DEMOGRAPHICS, NORMS, Evaluation, normalise

def caption(info: dict) -> str:
    """One line (or a few, joined by <br>) describing a gallery image."""
    rows = info.get("label_name", "label")
    lines = [f"{rows} {info['true']}, predicted {info['pred']} ({info['confidence']:.0%})"]
    if "votes" in info:
        lines.append("crowd: " + ", ".join(f"{k} {v}" for k, v in info["votes"].items()))
    demo = [
        f"{info[c]}" if c != "skin_tone" else f"skin tone {info[c]}"
        for c in DEMOGRAPHICS
        if c in info
    ]
    if demo:
        lines.append(", ".join(map(str, demo)))
    return "<br>".join(lines)


def _data_uri(img: np.ndarray, quality: int = 80) -> str:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.asarray(img)).convert("RGB").save(buf, format="JPEG", quality=quality)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode()


def check_comparable(evaluations) -> tuple:
    """The common class names of ``evaluations``; raises naming the first one with other classes."""
    evaluations = list(evaluations)
    if not evaluations:
        raise ValueError("the explorer needs at least one evaluation")
    names = [e.name for e in evaluations]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError(f"evaluation names must be unique; {dup} appear more than once")
    classes = evaluations[0].classes
    for e in evaluations[1:]:
        if e.classes != classes:
            raise ValueError(
                f"evaluation {e.name!r} has {len(e.classes)} classes {e.classes}, but the explorer "
                f"compares {len(classes)} classes {classes} (from {evaluations[0].name!r})"
            )
    return classes


# ---- the static explorer (plotly)
# ---------------------------------------------------------------------------------
HOVER = (
    "{rows} %{{y}}<br>predicted %{{x}}<br>%{{customdata[0]:.0f}} images"
    "<br>%{{customdata[1]:.1f}}% of {rows} %{{y}}"
    "<br>%{{customdata[2]:.1f}}% of predicted %{{x}}<extra></extra>"
)  # {rows}: the evaluation's label_name (crowd label on SynthFER)
# pixels: matrix, gap, one gallery row, top margin (modebar band, title, menus), bottom margin
MATRIX_PX, GAP_PX, ROW_PX, TOP_PX, BOTTOM_PX = 430, 70, 92, 140, 20
TITLE_TOP_PX = 36  # below the band where plotly shows its modebar on hover
MENU_LINE_PX = 34  # the run dropdown sits this far above the normalisation buttons


def _heatmap(ev: Evaluation, visible: bool):
    import plotly.graph_objects as go

    cm = ev.confusion
    custom = np.dstack([cm, normalise(cm, "recall"), normalise(cm, "precision")])
    z = normalise(cm, "recall")
    return go.Heatmap(
        z=z,
        x=list(ev.classes),
        y=list(ev.classes),
        customdata=custom,
        text=np.round(z).astype(int),
        texttemplate="%{text}",
        hovertemplate=HOVER.format(rows=ev.label_name),
        colorscale="Blues",
        zmin=0,
        zmax=100,
        colorbar=dict(title="%", len=0.5, y=1, yanchor="top"),
        visible=visible,
        name=ev.name,
        xaxis="x",
        yaxis="y",
    )



def _gallery_note(y: float, text: str, **style) -> dict:
    """A text line of the confusion gallery (the second axes), left-aligned at height ``y``."""
    return dict(x=0, y=y, xref="x2", yref="y2", xanchor="left", yanchor="top", showarrow=False, text=text, **style)


def _gallery(ev: Evaluation, cells: int, per_cell: int, thumb: int):
    """Layout images, captions and a hover trace for the largest confusions of ``ev``: row r (from
    the top) is one cell, ``per_cell`` most confident images of it."""
    images, notes, xs, ys, texts = [], [], [], [], []
    cm = ev.confusion
    confusions = ev.largest_confusions(cells) if ev.dataset is not None else []
    for r, (t, p, count) in enumerate(confusions):
        y0 = cells - r  # rows from the top of the gallery axis (range 0..cells)
        share = count / max(cm[t].sum(), 1)
        notes.append(_gallery_note(
            y0 - 0.02, f"<b>{ev.label_name} {ev.classes[t]} → predicted {ev.classes[p]}</b>: "
            f"{count} image{'s' * (count != 1)} ({share:.0%} of {ev.classes[t]})",
            align="left", font=dict(size=12)))
        for j, pos in enumerate(ev.cell(t, p)[:per_cell]):
            images.append(
                dict(
                    source=_data_uri(ev.image(pos, thumb)),
                    x=j + 0.05,
                    y=y0 - 0.26,
                    xref="x2",
                    yref="y2",
                    sizex=0.9,
                    sizey=0.72,
                    xanchor="left",
                    yanchor="top",
                    layer="above",
                    sizing="contain",
                )
            )
            xs.append(j + 0.5), ys.append(y0 - 0.62), texts.append(caption(ev.describe(pos)))
    if ev.dataset is not None and not confusions:
        notes.append(_gallery_note(cells - 0.02, "no confusions: every test image on the diagonal"))
    return images, notes, (xs, ys, texts)


def _subtitle(ev, title: str, subtitle: str) -> str:
    r = ev.report()
    note = "" if ev.note and ev.note in subtitle else ev.note  # said once when the subtitle already says it
    parts = [subtitle, note, f"{r['n']} images, accuracy {r['accuracy']:.1%}, "
             f"mean class recall {r['mean_class_recall']:.1%}"]
    return title + "<br><sup>" + " · ".join(p for p in parts if p) + "</sup>"


def _menus(evaluations, panels, titles, plot_px: int) -> list:
    """The normalisation buttons (restyle every heatmap) and, for several runs, the run dropdown (show one run's
    heatmap and gallery, its title, images and notes)."""
    heat = list(range(0, 2 * len(evaluations), 2))
    norm_buttons = []
    for key, label in NORMS.items():
        z = [normalise(e.confusion, key) for e in evaluations]
        style = {"z": z, "text": [np.round(v).astype(int) for v in z],
                 "zmax": [None if key == "counts" else 100] * len(z),
                 "colorbar.title.text": ["images" if key == "counts" else "%"] * len(z)}
        norm_buttons.append(dict(label=label, method="restyle", args=[style, heat]))
    run_buttons = [
        dict(label=ev.name, method="update",
             args=[{"visible": [j // 2 == i for j in range(2 * len(evaluations))]},
                   {"title.text": titles[i], "images": panels[i][0], "annotations": panels[i][1]}])
        for i, ev in enumerate(evaluations)]
    common = dict(y=1 + 12 / plot_px, yanchor="bottom", pad=dict(t=0, b=0), font=dict(size=11))
    menus = [dict(buttons=norm_buttons, type="buttons", direction="right", x=1, xanchor="right", **common)]
    if len(evaluations) > 1:  # on a line of its own above the buttons: a long run name must not run under them
        above = {**common, "y": 1 + (12 + MENU_LINE_PX) / plot_px}
        menus.append(dict(buttons=run_buttons, direction="down", x=0, xanchor="left", showactive=True, **above))
    return menus


def _layout(title: str, menus, panel, plot_px: int, gal_px: int, cells: int, per_cell: int,
            rows: str = "label") -> dict:
    """Matrix on top, gallery below (its own hidden axes), title clear of the modebar band."""
    layout = dict(
        title=dict(text=title, x=0.01, xanchor="left", y=1 - TITLE_TOP_PX / (plot_px + TOP_PX + BOTTOM_PX),
                   yanchor="top", yref="container", font=dict(size=16)),
        plot_bgcolor="white",
        xaxis=dict(title="predicted", domain=[0, 0.86], anchor="y", constrain="domain"),
        yaxis=dict(title=rows, autorange="reversed", domain=[1 - MATRIX_PX / plot_px, 1], anchor="x"),
        updatemenus=menus, images=panel[0], annotations=panel[1], height=plot_px + TOP_PX + BOTTOM_PX,
        width=700, margin=dict(t=TOP_PX, b=BOTTOM_PX, l=90, r=20), hoverlabel=dict(align="left"))
    if gal_px:
        layout.update(
            xaxis2=dict(domain=[0, 1], range=[0, per_cell], visible=False, fixedrange=True, anchor="y2"),
            yaxis2=dict(domain=[0, gal_px / plot_px], range=[0, cells], visible=False, fixedrange=True,
                        anchor="x2"))
    else:
        layout.update(xaxis2=dict(visible=False), yaxis2=dict(visible=False))
    return layout


def explorer_figure(
    evaluations,
    title: str = "Confusion matrix",
    subtitle: str = "",
    cells: int = 3,
    per_cell: int = 6,
    thumb: int = 64,
):
    """The static explorer (InFER++ Fig. 5 style): a dropdown over ``evaluations`` (each with its
    own note), the normalisation buttons, hover with counts and both shares, and for evaluations
    with images a gallery of the ``cells`` largest confusions (``per_cell`` most confident images
    each, hover for labels, votes, demographics). Self-contained: thumbnails are embedded,
    plotly.js comes from the page."""
    import plotly.graph_objects as go

    evaluations = list(evaluations)
    classes = check_comparable(evaluations)
    with_gallery = any(e.dataset is not None for e in evaluations)
    gal_px = cells * ROW_PX if with_gallery else 0
    plot_px = MATRIX_PX + (GAP_PX + gal_px if with_gallery else 0)
    fig = go.Figure()
    panels = []
    for i, ev in enumerate(evaluations):
        fig.add_trace(_heatmap(ev, i == 0))
        images, notes, (xs, ys, texts) = (
            _gallery(ev, cells, per_cell, thumb) if with_gallery else ([], [], ([],) * 3)
        )
        fig.add_scatter(
            x=xs, y=ys, text=texts, mode="markers", hovertemplate="%{text}<extra></extra>",
            marker=dict(size=thumb * 0.8, color="rgba(0,0,0,0)", symbol="square"),
            showlegend=False, visible=i == 0, xaxis="x2", yaxis="y2", name=f"{ev.name} gallery",
        )
        panels.append((images, notes))
    titles = [_subtitle(ev, title, subtitle) for ev in evaluations]
    menus = _menus(evaluations, panels, titles, plot_px)
    fig.update_layout(**_layout(titles[0], menus, panels[0], plot_px, gal_px, cells, per_cell,
                                rows=evaluations[0].label_name))
    fig.layout.meta = {
        "fernb": "confusion-explorer",
        "evaluations": [e.name for e in evaluations],
        "classes": list(classes),
    }
    return fig


# ---- the live explorer (ipywidgets)
# -------------------------------------------------------------------------------
class ConfusionExplorer:
    """Evaluations to explore in a live kernel. The methods are the explorer's logic (tested without
    a browser); :meth:`widget` wires them to ipywidgets: run, optional second run (side by side
    or difference), normalisation, class subset, and a click on a cell shows the images that
    landed there."""

    def __init__(self, evaluations, per_cell: int = 12, thumb: int = 72):
        evaluations = list(evaluations)
        self.classes = check_comparable(evaluations)
        self.evaluations = {e.name: e for e in evaluations}
        self.per_cell, self.thumb = per_cell, thumb

    def get(self, name: str) -> Evaluation:
        if name not in self.evaluations:
            raise ValueError(
                f"unknown run {name!r}; the explorer holds {', '.join(map(repr, self.evaluations))}"
            )
        return self.evaluations[name]

    def subset(self, classes=None) -> list:
        """Indices of a class subset (names), in the explorer's order; all classes when ``None``."""
        if classes is None:
            return list(range(len(self.classes)))
        bad = [c for c in classes if c not in self.classes]
        if bad or not classes:
            raise ValueError(
                f"classes {bad or '(none)'} are not among the explorer's {self.classes}"
            )
        return [k for k, c in enumerate(self.classes) if c in set(classes)]

    def matrix(self, name: str, norm: str = "recall", classes=None):
        """The (sub-)matrix of one run as a DataFrame (rows true, columns predicted), normalised
        within the subset shown."""
        import pandas as pd

        keep = self.subset(classes)
        cm = self.get(name).confusion[np.ix_(keep, keep)]
        names = [self.classes[k] for k in keep]
        return pd.DataFrame(
            normalise(cm, norm),
            index=pd.Index(names, name=self.get(name).label_name),
            columns=pd.Index(names, name="predicted"),
        )

    def difference(self, a: str, b: str, norm: str = "recall", classes=None):
        """``b`` minus ``a``: where the second run gains (positive) or loses images against the
        first."""
        return self.matrix(b, norm, classes) - self.matrix(a, norm, classes)

    def cell_images(self, name: str, true, pred, limit: int | None = None) -> list:
        """The images of one cell, most confident first: dicts of :meth:`Evaluation.describe` plus
        ``image`` (uint8, or ``None`` when the run's images are unknown)."""
        ev = self.get(name)
        positions = ev.cell(true, pred)[: limit or self.per_cell]
        return [{**ev.describe(p), "image": ev.image(p, self.thumb)} for p in positions]

    # ---- widgets ---------------------------------------------------------------------------
    # ---------------------
    def _grid(self, frame, on_click, diverging: bool = False):
        import ipywidgets as w

        vals = frame.to_numpy()
        top = np.abs(vals).max() or 1.0
        k = len(frame)
        cells = [w.Label(f"{frame.index.name or 'label'} \\ predicted")] + [w.Label(c) for c in frame.columns]
        for i, t in enumerate(frame.index):
            cells.append(w.Label(t))
            for j, p in enumerate(frame.columns):
                v = vals[i, j]
                b = w.Button(
                    description=f"{v:+.0f}" if diverging else f"{v:.0f}",
                    layout=w.Layout(width="64px", height="32px"),
                )
                b.style.button_color = _colour(v / top, diverging)
                b.on_click(lambda _b, t=t, p=p: on_click(t, p))
                cells.append(b)
        return w.GridBox(cells, layout=w.Layout(grid_template_columns=f"110px repeat({k}, 66px)"))

    def _gallery_widget(self, name: str, true, pred):
        import ipywidgets as w
        from PIL import Image

        items = self.cell_images(name, true, pred)
        head = w.HTML(
            f"<b>{name}</b>: {self.get(name).label_name} {true}, predicted {pred}: "
            f"{len(self.get(name).cell(true, pred))} "
            f"images{'' if items else ' (none)'}"
        )
        tiles = []
        for it in items:
            if it["image"] is None:
                continue
            buf = io.BytesIO()
            Image.fromarray(it["image"]).save(buf, format="PNG")
            tiles.append(
                w.VBox(
                    [
                        w.Image(value=buf.getvalue(), format="png", width=self.thumb),
                        w.HTML(f"<small>{caption(it)}</small>", layout=w.Layout(width="150px")),
                    ]
                )
            )
        return w.VBox([head, w.HBox(tiles, layout=w.Layout(flex_flow="row wrap"))])

    def widget(self):
        import ipywidgets as w

        names = list(self.evaluations)
        run = w.Dropdown(options=names, description="run")
        other = w.Dropdown(options=["(none)"] + names, description="compare")
        mode = w.ToggleButtons(options=["side by side", "difference"])
        norm = w.ToggleButtons(options=list(NORMS), description="normalise")
        subset = w.SelectMultiple(
            options=self.classes, value=self.classes, description="classes", rows=4
        )
        out, gallery = w.Output(), w.Output()

        def show(name, t, p):
            with gallery:
                gallery.clear_output()
                display(self._gallery_widget(name, t, p))

        def redraw(*_):
            classes = list(subset.value) or None
            panes = []
            with out:
                out.clear_output()
                if other.value != "(none)" and mode.value == "difference":
                    d = self.difference(run.value, other.value, norm.value, classes)
                    panes = [
                        w.VBox(
                            [
                                w.HTML(f"<b>{other.value}</b> minus <b>{run.value}</b>"),
                                self._grid(d, lambda t, p: show(other.value, t, p), True),
                            ]
                        )
                    ]
                else:
                    for name in [run.value] + ([other.value] if other.value != "(none)" else []):
                        m = self.matrix(name, norm.value, classes)
                        panes.append(
                            w.VBox(
                                [
                                    w.HTML(f"<b>{name}</b> ({NORMS[norm.value]})"),
                                    self._grid(m, lambda t, p, n=name: show(n, t, p)),
                                ]
                            )
                        )
                display(w.HBox(panes))

        for c in (run, other, mode, norm, subset):
            c.observe(redraw, names="value")
        redraw()
        return w.VBox([w.HBox([run, other]), w.HBox([norm, mode]), subset, out, gallery])


def display(obj):
    from IPython.display import display as ipy_display

    ipy_display(obj)


def _colour(share: float, diverging: bool) -> str:
    """A Blues ramp (or red/blue for a difference) for a value scaled to [-1, 1]."""
    s = float(np.clip(share, -1, 1))
    if diverging:
        fade = int(255 * (1 - abs(s)))
        return f"rgb({fade},{fade},255)" if s >= 0 else f"rgb(255,{fade},{fade})"
    lo, hi = np.array([247, 251, 255]), np.array([66, 146, 198])
    r, g, b = (lo + (hi - lo) * s).astype(int)
    return f"rgb({r},{g},{b})"


def live_kernel() -> bool:
    """Whether this is an interactive kernel that renders widgets (JupyterLab, Colab) rather than
    the book build."""
    import importlib.util
    import sys

    if os.environ.get("FERNB_BOOK_BUILD") or importlib.util.find_spec("ipywidgets") is None:
        return False
    ip = sys.modules.get("IPython")
    shell = ip.get_ipython() if ip is not None and hasattr(ip, "get_ipython") else None
    return shell is not None and type(shell).__name__ in ("ZMQInteractiveShell", "Shell")


def explore(
    evaluations, title: str = "Confusion matrix", subtitle: str = "", live: bool | None = None, **kw
):
    """The explorer for where this runs: ipywidgets in a live kernel, the static plotly figure in
    the book (or with ``live=False``)."""
    evaluations = list(evaluations)
    if live if live is not None else live_kernel():
        return ConfusionExplorer(evaluations).widget()
    return explorer_figure(evaluations, title, subtitle, **kw)
