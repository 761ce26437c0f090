"""Dataset manifests: one YAML per dataset in ``data_manifests/`` (layout, label map, splits, published counts)."""

from __future__ import annotations

import functools
import os
from pathlib import Path

import yaml

from fernb.labels import EXPRESSIONS_8

REQUIRED_KEYS = ("name", "kind", "layout", "labels", "splits", "image", "citation")


def manifest_dir() -> Path:
    """``$FERNB_MANIFESTS`` if set, else ``data_manifests/`` of the checkout fernb is installed from."""
    env = os.environ.get("FERNB_MANIFESTS")
    d = Path(env) if env else Path(__file__).resolve().parents[2] / "data_manifests"
    if not d.is_dir():
        raise FileNotFoundError(
            f"dataset manifests not found at {d}. fernb reads them from the repository checkout: install it with "
            "'pip install -e .' from a clone, or point FERNB_MANIFESTS at a copy of data_manifests/."
        )
    return d


def available() -> list[str]:
    return sorted(p.stem for p in manifest_dir().glob("*.yaml"))


@functools.lru_cache(maxsize=None)
def _load(path: str, mtime: float) -> dict:
    try:
        with open(path, encoding="utf-8") as f:
            m = yaml.safe_load(f)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ValueError(f"manifest {path} does not parse{where}: {getattr(e, 'problem', e)}") from None
    if not isinstance(m, dict):
        raise ValueError(f"manifest {path}: expected a mapping at the top level, got {type(m).__name__}")
    missing = [k for k in REQUIRED_KEYS if k not in m]
    if missing:
        raise ValueError(f"manifest {path}: missing required keys {missing}")
    ids = m["labels"].get("ids") if isinstance(m["labels"], dict) else None
    if not isinstance(ids, dict) or not ids:
        raise ValueError(f"manifest {path}: labels.ids must map each published label id to a canonical expression")
    bad = {k: v for k, v in ids.items() if v not in EXPRESSIONS_8 and v is not None}
    if bad:
        raise ValueError(f"manifest {path}: labels.ids maps to unknown expressions {bad}; allowed: {EXPRESSIONS_8} or null (excluded)")
    return m


def load_manifest(name: str) -> dict:
    """The parsed manifest of dataset ``name``; unknown names list what is available."""
    path = manifest_dir() / f"{name}.yaml"
    if not path.exists():
        import difflib

        names = available()
        close = difflib.get_close_matches(name, names, n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise ValueError(f"unknown dataset {name!r}: no manifest {path.name} in {path.parent}. Available: {', '.join(names)}.{hint}")
    return _load(str(path), path.stat().st_mtime)


def published_names(name: str) -> dict:
    """Canonical class index → the name the dataset itself publishes (InFER++ Table 2's "Happy", "Sad" …), from the
    manifest's label map rather than from code."""
    from fernb.labels import EXPRESSIONS_8

    ids = load_manifest(name)["labels"]["ids"]
    return {EXPRESSIONS_8.index(canon): str(pub) for pub, canon in ids.items()}
