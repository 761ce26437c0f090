"""The record-table layout: ``records.csv`` with an ``image`` column, a label column and optional ``split``,
``age_group``, ``gender`` and ``votes_*`` columns. It is the InFER++ layout fernb's construction chapter writes
(documented in ``data_manifests/infer-pp.yaml``) and the layout of SynthFER. Without a ``split`` column the rows get
the manifest's stratified split (InFER++ §III-F: 80 % of each expression for training)."""

from __future__ import annotations

import csv

import numpy as np

from fernb.data.adapters import DatasetError, Intake
from fernb.data.splits import stratified_split

KEEP = ("age_group", "gender", "true_label", "subject", "source")


def read(intake: Intake) -> None:
    m = intake.manifest
    lay = m["layout"]
    rel = lay["records"]
    label_col = lay.get("label_column", "label")
    path = intake.root / rel
    if not path.is_file():
        raise DatasetError(f"{intake.name}: {path} is missing; expected the record table {rel}")
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        cols = reader.fieldnames or []
        missing = [c for c in ("image", label_col) if c not in cols]
        if missing:
            raise DatasetError(f"{intake.name}: {path} line 1: header is missing columns {missing}; found {cols}")
        has_split = "split" in cols
        keep = [c for c in cols if c in KEEP or c.startswith("votes_")]
        votes = [c for c in keep if c.startswith("votes_")]
        splits = set(m["splits"])
        for row in reader:
            line = reader.line_num
            where = f"{rel}:{line}"
            if None in row or any(v is None for v in row.values()):
                intake.problem(where, f"malformed row: expected {len(cols)} fields ({cols})")
                continue
            image = row["image"].strip().replace("\\", "/")
            split = row["split"].strip() if has_split else "train"
            if split not in splits:
                intake.problem(where, f"split {split!r} is not one of {sorted(splits)}", image)
                continue
            extra = {c: row[c] for c in keep}
            bad = [c for c in votes if not row[c].strip().isdigit()]
            if bad:
                intake.problem(where, f"vote counts must be non-negative integers; {bad[0]} is {row[bad[0]]!r}", image)
                continue
            extra.update({c: int(row[c]) for c in votes})
            intake.add(where, image, row[label_col], split, **extra)
    if intake.rows and not has_split:
        rule = m["split_rule"]
        labels = np.array([r["label"] for r in intake.rows])
        for r, s in zip(intake.rows, stratified_split(labels, rule["test_share"], rule["seed"])):
            r["split"] = str(s)
        intake.notes.append(f"{rel} has no split column: made the stratified {1 - rule['test_share']:.0%}/"
                            f"{rule['test_share']:.0%} split per expression (seed {rule['seed']})")
