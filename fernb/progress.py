"""Progress bars (tqdm) that a reader sees live and the rendered book leaves out (``TQDM_DISABLE=1``)."""

from __future__ import annotations

import os
import warnings


def progress_bar(*args, enabled: bool = True, **kwargs):
    """``tqdm.auto.tqdm`` unless ``enabled`` is false or ``TQDM_DISABLE`` is set (the book build sets it)."""
    from tqdm import TqdmWarning

    with warnings.catch_warnings():  # tqdm.auto warns inside a kernel without ipywidgets, then falls back to text
        warnings.filterwarnings("ignore", message="IProgress not found", category=TqdmWarning)
        from tqdm.auto import tqdm
    disable = not enabled or os.environ.get("TQDM_DISABLE", "") not in ("", "0")
    return tqdm(*args, disable=disable, **kwargs)
