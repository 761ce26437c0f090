"""Where fernb keeps data, caches and runs: ``$FERNB_HOME`` (default ``~/.cache/fernb``).

``make book`` and ``make test`` set ``FERNB_HOME=<checkout>/.fernb`` so that everything stays inside the checkout.
"""

from __future__ import annotations

import os
from pathlib import Path


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
