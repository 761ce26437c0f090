"""BTFER's chapter figures (plotly): Experiment 3's accuracy per training-label quality, seed by seed, in the
training domain and on the balanced test set (§IV-F)."""

from __future__ import annotations

import pandas as pd

from fernb.papers.btfer.spec import LABEL_QUALITIES, parse_train_set


def label_quality_figure(table: pd.DataFrame, test_title: str):
    """One panel per reading (training domain, balanced test set): each seed's accuracy per label quality, its
    mean as a bar. ``None`` when no label-quality rows were trained."""
    from plotly.subplots import make_subplots

    done = table[table["state"] != "skipped"].copy()
    if not len(done):
        return None
    done["labels"] = [parse_train_set(t)[1].replace("_", " ") for t in done["train_set"]]
    order = [q.replace("_", " ") for q in LABEL_QUALITIES]
    panels = (("in_domain_true_acc", "training domain (test split, true labels)"), ("test_acc", test_title))
    fig = make_subplots(rows=1, cols=2, subplot_titles=[t for _, t in panels], shared_yaxes=True)
    for col, (metric, _) in enumerate(panels, start=1):
        means = done.groupby("labels")[metric].mean().reindex(order)
        fig.add_bar(x=order, y=means.to_numpy(), name="mean over seeds", marker_color="#9ecae1",
                    showlegend=col == 1, row=1, col=col)
        fig.add_scatter(x=done["labels"], y=done[metric], mode="markers", name="one seed",
                        marker={"color": "#08519c", "size": 8}, showlegend=col == 1,
                        text=[f"seed {s}" for s in done["seed"]], row=1, col=col)
    fig.update_yaxes(title_text="accuracy against the true labels", row=1, col=1)
    fig.update_layout(title="Training-label quality and accuracy (Experiment 3)<br><sup>SynthFER; the same "
                            "images and seeds, only the labels differ</sup>", height=420, bargap=0.4)
    return fig
