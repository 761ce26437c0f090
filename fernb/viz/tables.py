"""Tables as a page shows them: missing values as a dash, whole numbers without decimals."""

from __future__ import annotations

import pandas as pd

MISSING = "—"


def dashed(df: pd.DataFrame | pd.Series, digits: int | None = None):
    """``df`` with every missing value shown as ``—`` (an object-typed copy, so no dtype is asked to hold a string);
    ``digits`` rounds the numbers first."""
    out = df.round(digits) if digits is not None else df
    return out.astype(object).where(out.notna(), MISSING)


def without_empty_columns(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` without the columns that hold nothing in any row (missing or empty text): a recorded table keeps
    them, a page need not make its reader scroll sideways past them."""
    empty = [c for c in df.columns if df[c].map(lambda v: v is None or v != v or v == "").all()]
    return df.drop(columns=empty)


def without_constant_levels(df: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """``df`` without the index levels that hold one value in every row (at least one level stays), and those
    values in words ("model btfer_vgg16, img_size 48"), for a caption: the table then fits the page's column."""
    if not isinstance(df.index, pd.MultiIndex) or len(df) < 2:
        return df, ""
    same = [n for n in df.index.names if df.index.get_level_values(n).nunique(dropna=False) == 1]
    same = same[:len(df.index.names) - 1]
    words = ", ".join(f"{n} {df.index.get_level_values(n)[0]}" for n in same)
    return (df.droplevel(same) if same else df), words


def numbers(df: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    """Whole numbers without decimals and the rest rounded to ``digits``, cell by cell: what a transposed table of
    counts and accuracies needs (transposing makes every column float)."""
    def show(v):
        if isinstance(v, (int, float)) and not isinstance(v, bool) and v == v:
            return f"{v:.0f}" if float(v).is_integer() else f"{v:.{digits}f}"
        return MISSING if v is None or v != v else v
    return df.map(show)


def folded(df: pd.DataFrame, summary: str, digits: int | None = None):
    """``df`` (dashed) inside a collapsed ``<details>`` block headed ``summary``: the rows a page keeps for the
    reader who wants them without making every reader scroll past them (an IPython HTML object)."""
    import html

    from IPython.display import HTML

    body = dashed(df, digits).to_html(classes="dataframe", border=0)
    return HTML(f"<details><summary>{html.escape(summary)}</summary>\n{body}\n</details>")
