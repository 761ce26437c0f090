"""ExpW: ``label/label.lst`` lists ``image_name face_id top left right bottom confidence label`` per face over
``image/origin/``; the face is cropped at load. No official split: a stratified split grouped by photograph,
with the test share in the manifest (see ``data_manifests/expw.yaml``)."""

from __future__ import annotations

import numpy as np

from fernb.data.adapters import Intake, read_lines
from fernb.data.splits import stratified_split


def read(intake: Intake) -> None:
    m = intake.manifest
    lay = m["layout"]
    for line, text in read_lines(intake.root / lay["labels"], intake):
        where = f"{lay['labels']}:{line}"
        parts = text.split()
        if len(parts) != 8:
            intake.problem(where, f"malformed line: {len(parts)} fields, expected 8 "
                                  "(image_name face_id top left right bottom confidence label)")
            continue
        name, face, top, left, right, bottom, conf, raw = parts
        image = lay["images"].rstrip("/") + "/" + name
        try:
            top, left, right, bottom, conf = map(float, (top, left, right, bottom, conf))
        except ValueError:
            intake.problem(where, "face box and confidence must be numbers", image)
            continue
        if right <= left or bottom <= top:
            intake.problem(where, f"empty face box (left {left}, right {right}, top {top}, bottom {bottom})", image)
            continue
        intake.add(where, image, raw, "train", key=(image, face), face_id=face,
                   x0=left, y0=top, x1=right, y1=bottom, face_confidence=conf)
    if intake.rows:
        rule = m["split_rule"]
        labels = np.array([r["label"] for r in intake.rows])
        groups = np.array([r["image"] for r in intake.rows])
        for r, s in zip(intake.rows, stratified_split(labels, rule["test_share"], rule["seed"], groups)):
            r["split"] = str(s)
