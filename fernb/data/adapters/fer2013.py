"""FER2013: one CSV, ``emotion,pixels,Usage``; each ``pixels`` field holds 48×48 = 2,304 grey values (ResEmoteNet
Table I). ``Usage`` Training / PublicTest / PrivateTest becomes train / val / test (manifest ``split_map``)."""

from __future__ import annotations

import numpy as np

from fernb.data.adapters import Intake, read_csv_rows


def read(intake: Intake) -> None:
    m = intake.manifest
    lay, size = m["layout"], int(m["image"]["size"])
    split_map = m["split_map"]
    path = intake.root / lay["csv"]
    for line, row in read_csv_rows(path, intake, lay["columns"]):
        where = f"{lay['csv']}:{line}"
        key = f"{lay['csv']}#{line}"
        usage = row["Usage"].strip()
        if usage not in split_map:
            intake.problem(where, f"Usage {usage!r} is not one of {list(split_map)}", key)
            continue
        try:
            px = np.array(row["pixels"].split(), dtype=np.int64)
        except ValueError:
            intake.problem(where, "pixels must be space-separated integers 0-255", key)
            continue
        if px.size != size * size:
            intake.problem(where, f"pixels has {px.size} values, expected {size * size} ({size}×{size})", key)
            continue
        if px.min() < 0 or px.max() > 255:
            intake.problem(where, f"pixel values must lie in 0..255, found {px.min()}..{px.max()}", key)
            continue
        intake.add(where, key, row["emotion"], split_map[usage], pixels=px.astype(np.uint8).reshape(size, size))
