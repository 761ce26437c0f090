"""Figures for the book: plotly for anything interactive, PIL for image grids.

Plotly figures render wherever the chapter runs: in the built book (the page loads the plotly.js shipped in the book's
``_static/``, no network), on Colab (its own renderer), and in Jupyter (plotly's default).
"""

from fernb.viz.figures import (accuracy_macs_figure, class_distribution_figure, class_examples,
                               confusion_matrix_figure, expression_examples, sample_grid, setup_plotly,
                               training_curves_figure)
from fernb.viz.explorer import ConfusionExplorer, explore, explorer_figure

__all__ = ["ConfusionExplorer", "explore", "explorer_figure", "accuracy_macs_figure",
           "class_distribution_figure", "class_examples", "confusion_matrix_figure", "expression_examples",
           "sample_grid", "setup_plotly", "training_curves_figure"]
