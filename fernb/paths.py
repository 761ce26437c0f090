"""Where fernb keeps data, caches and runs: ``$FERNB_HOME`` (default ``~/.cache/fernb``).

``make book`` and ``make test`` set ``FERNB_HOME=<checkout>/.fernb`` so that everything stays inside the checkout.
"""

from __future__ import annotations

import os
from pathlib import Path


REPO = Path(__file__).resolve().parents[1]
"""The checkout: its ``notebooks/`` hold the chapters, its ``_build/`` what the book runner makes."""


def build_root() -> Path:
    """What the book runner makes (executed chapters, reports, logs, locks): ``_build/``, or ``$FERNB_BUILD``."""
    return Path(os.environ.get("FERNB_BUILD") or REPO / "_build")


def chapters(folder: Path | None = None) -> list[str]:
    """The book's chapters (in ``folder``, default the checkout's ``notebooks/``), by name, in order."""
    return sorted(p.stem for p in Path(folder or REPO / "notebooks").glob("[0-9][0-9]_*.py"))


def chapter_path(name: str, folder: Path | None = None) -> Path:
    """A chapter's ``.py`` source; an unknown name fails, suggesting the closest ones."""
    names = chapters(folder)
    if name not in names:
        import difflib

        close = difflib.get_close_matches(name, names, n=2)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise ValueError(f"unknown chapter {name!r}.{hint} Chapters: {', '.join(names)}")
    return Path(folder or REPO / "notebooks") / f"{name}.py"


def in_repo(path: Path) -> Path:
    """``path`` relative to the checkout when it lies inside it (what a command prints)."""
    path = Path(path)
    return path.relative_to(REPO) if path.is_relative_to(REPO) else path


def home() -> Path:
    return Path(os.environ.get("FERNB_HOME") or Path.home() / ".cache" / "fernb").expanduser()


def data_root(data_root: str | os.PathLike | None = None) -> Path:
    """The folder datasets live in: the chapter's ``data_root`` parameter, else ``$FERNB_HOME/data``."""
    return Path(data_root).expanduser() if data_root else home() / "data"


def cache_root() -> Path:
    return home() / "cache"


def runs_root() -> Path:
    return home() / "runs"


def shown(path) -> str:
    """A path as a page may print it: relative to ``$FERNB_HOME`` (``$FERNB_HOME/runs/…``), never the reader's
    absolute local path; paths outside ``$FERNB_HOME`` show their last two parts."""
    p = Path(path).expanduser()
    try:
        return str(Path("$FERNB_HOME") / p.resolve().relative_to(home().resolve()))
    except ValueError:
        return str(Path("…", *p.parts[-2:])) if len(p.parts) > 2 else str(p)


def ensure_writable(path: Path, what: str) -> Path:
    """Create ``path`` (and parents) or fail with an error naming the parameter it came from."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".fernb-write-test-{os.getpid()}"  # per process: two may probe one folder at once
        probe.write_text("ok")
        probe.unlink()
    except OSError as e:
        raise PermissionError(f"{what}={str(path)!r} is not writable: {e.strerror or e}") from None
    return path
