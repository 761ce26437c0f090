"""Adapters: each reads one official dataset format into fernb's record table.

An adapter walks a reader's copy and hands every entry to an :class:`Intake`, which maps the published label id
through the manifest, and either raises at the first problem (strict, the default) with the file and line, or, when
``lenient``, quarantines the entry with its reason and goes on. Entries whose label the manifest maps to ``null``
(e.g. AffectNet's "None" class) are *excluded*, and listed as such; nothing is dropped silently.

The record table has ``image`` (path relative to the dataset root, or a ``file#line`` key for pixel sources),
``label`` (canonical index, :mod:`fernb.labels`), ``split``, ``origin`` (``file:line`` the entry came from) and,
where the format has them, ``x0, y0, x1, y1`` (face box in image pixels), ``subject``, ``age_group``, ``gender``,
``valence``, ``arousal`` and ``votes_*``.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from fernb.data.records import escapes_root
from fernb.labels import EXPRESSIONS_8

ADAPTERS = {"rafdb": "rafdb", "fer2013": "fer2013", "affectnet": "affectnet", "expw": "expw", "ckplus": "ckplus",
            "table": "table", "folders": "folders"}


class DatasetError(ValueError):
    """A reader's copy does not match its manifest; the message names the file (and line) and what was expected."""


@dataclass
class Reading:
    """What an adapter found: the usable records, pixel arrays for pixel-string formats, and everything set aside."""

    records: pd.DataFrame
    pixels: np.ndarray | None
    problems: pd.DataFrame      # quarantined entries (lenient mode): where, image, reason
    excluded: pd.DataFrame      # entries the manifest excludes (label mapped to null, unlabelled sequences …)
    notes: list = field(default_factory=list)


def normalise_id(raw) -> str:
    """Label ids compare as text: ``3``, ``"3"``, ``"3.0000000e+00"`` (CK+) and ``" 3 "`` are the same id."""
    s = str(raw).strip()
    try:
        f = float(s)
    except ValueError:
        return s
    return str(int(f)) if f.is_integer() else s


class Intake:
    """Collects an adapter's records; strict mode raises at the first problem, lenient mode quarantines it."""

    def __init__(self, manifest: dict, root: Path, lenient: bool = False):
        self.manifest, self.root, self.lenient = manifest, Path(root), lenient
        self.name = manifest["name"]
        self.ids = {normalise_id(k): v for k, v in manifest["labels"]["ids"].items()}
        self.rows: list[dict] = []
        self.pixels: list[np.ndarray] = []
        self.problems: list[dict] = []
        self.excluded: list[dict] = []
        self.notes: list[str] = []
        self._seen: dict[tuple, str] = {}

    def rel(self, path: Path) -> str:
        return Path(os.path.relpath(path, self.root)).as_posix()

    def problem(self, where: str, reason: str, image: str | None = None) -> None:
        if not self.lenient:
            raise DatasetError(f"{self.name}: {where}: {reason}")
        self.problems.append({"where": where, "image": image, "reason": reason})

    def label(self, raw, where: str, image: str | None = None):
        """Canonical index of a published id; ``None`` after recording a problem or an exclusion."""
        key = normalise_id(raw)
        if key not in self.ids:
            known = ", ".join(map(str, self.ids))
            self.problem(where, f"label id {raw!r} is not in the {self.name} label map (known ids: {known})", image)
            return None
        name = self.ids[key]
        if name is None:
            self.excluded.append({"where": where, "image": image, "reason": f"label id {key} excluded by the manifest"})
            return None
        return EXPRESSIONS_8.index(name)

    def add(self, where: str, image: str, raw_label, split: str, key=None, pixels: np.ndarray | None = None, **extra) -> bool:
        """Record one entry; duplicates (same ``key``, default the image path) are a problem naming both lines."""
        if pixels is None and escapes_root(image):
            self.problem(where, f"image path {image!r} escapes the dataset root {self.root}", image)
            return False
        label = self.label(raw_label, where, image)
        if label is None:
            return False
        key = (image,) if key is None else key
        if key in self._seen:
            self.problem(where, f"duplicate entry: {image!r} is already listed at {self._seen[key]}", image)
            return False
        self._seen[key] = where
        self.rows.append({"image": image, "label": label, "split": split, "origin": where, **extra})
        if pixels is not None:
            self.pixels.append(pixels)
        return True

    def result(self) -> Reading:
        cols = ["where", "image", "reason"]
        rec = pd.DataFrame(self.rows)
        if rec.empty:
            rec = pd.DataFrame(columns=["image", "label", "split", "origin"])
        return Reading(rec, np.stack(self.pixels) if self.pixels else None,
                       pd.DataFrame(self.problems, columns=cols), pd.DataFrame(self.excluded, columns=cols), self.notes)


def read_lines(path: Path, intake: Intake):
    """Yield ``(line_number, text)`` of a text file, any line ending, BOM removed, blank lines skipped."""
    if not path.is_file():
        raise DatasetError(f"{intake.name}: {path} is missing; expected {intake.manifest['layout']}")
    with open(path, encoding="utf-8-sig", newline=None) as f:
        for i, line in enumerate(f, 1):
            line = line.strip()
            if line:
                yield i, line


def read_csv_rows(path: Path, intake: Intake, columns: list[str], header: str = "required"):
    """Yield ``(line_number, row dict)`` from a CSV, checking the header and every row's field count.

    ``header="optional"`` accepts a file without a header row (AffectNet's validation.csv ships that way in some
    releases) when its first row does not name the columns.
    """
    import csv

    if not path.is_file():
        raise DatasetError(f"{intake.name}: {path} is missing; expected a CSV with columns {columns}")
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        first = next(reader, None)
        if first is None:
            raise DatasetError(f"{intake.name}: {path} is empty; expected a header row {columns}")
        names = [c.strip() for c in first]
        if set(columns) <= set(names):
            pending = None
        elif header == "optional" and len(first) == len(columns) and not (set(names) & set(columns)):
            names, pending = list(columns), first
            intake.notes.append(f"{path.name} has no header row; read with the columns {columns}")
        else:
            missing = [c for c in columns if c not in names]
            raise DatasetError(f"{intake.name}: {path} line 1: header is missing columns {missing}; found {names}")
        def numbered():
            if pending:
                yield 1, pending
            for r in reader:
                yield reader.line_num, r

        for line, row in numbered():
            if not row or all(not c.strip() for c in row):
                continue
            if len(row) != len(names):
                intake.problem(f"{path.name}:{line}", f"malformed row: {len(row)} fields, expected {len(names)} ({names})")
                continue
            yield line, dict(zip(names, row))


def resolve_root(manifest: dict, data_root) -> Path:
    """The folder holding a reader's copy: ``data_root`` itself or ``data_root/<default_dir>``, whichever has the
    layout's marker; otherwise a clear error saying what was looked for and what is there."""
    name, marker = manifest["name"], manifest["layout"]["marker"]
    root = Path(data_root).expanduser()
    if not root.exists():
        raise DatasetError(f"{name}: data_root {str(root)!r} does not exist; point it at your copy of {manifest['title']} "
                           f"(the folder that holds {marker})")
    candidates = [root] + ([root / manifest["default_dir"]] if manifest.get("default_dir") else [])
    for c in candidates:
        if (c / marker).exists():
            return c
    found = sorted(p.name + ("/" if p.is_dir() else "") for p in root.iterdir())[:12]
    raise DatasetError(f"{name}: {root} does not have the {manifest['title']} layout: expected {marker} under "
                       f"{' or '.join(str(c) for c in candidates)}; found {found or 'an empty folder'}. "
                       f"Layout: {manifest['layout']}")


def read(manifest: dict, root, lenient: bool = False, **options) -> Reading:
    """Read a reader's copy of the dataset ``manifest`` describes, rooted at ``root`` (see :func:`resolve_root`)."""
    kind = manifest.get("adapter", "table")
    if kind not in ADAPTERS:
        raise DatasetError(f"manifest {manifest['name']}: unknown adapter {kind!r}; expected one of {sorted(ADAPTERS)}")
    module = importlib.import_module(f"fernb.data.adapters.{ADAPTERS[kind]}")
    intake = Intake(manifest, root, lenient)
    module.read(intake, **options)
    reading = intake.result()
    if reading.records.empty:
        raise DatasetError(f"{manifest['name']}: no usable entries under {root} "
                           f"({len(reading.problems)} quarantined, {len(reading.excluded)} excluded)")
    return reading
