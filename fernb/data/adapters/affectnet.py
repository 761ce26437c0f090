"""AffectNet, manually annotated part: ``training.csv`` / ``validation.csv`` with ``subDirectory_filePath``, the face
box, 68 landmarks, ``expression``, ``valence`` and ``arousal``. The validation set is the test set (ResEmoteNet
Table II; LFER-LDL §2.1). Classes the manifest maps to null (8-10, and contempt in AffectNet-7) are excluded."""

from __future__ import annotations

from fernb.data.adapters import Intake, read_csv_rows


def read(intake: Intake) -> None:
    m = intake.manifest
    lay = m["layout"]
    for file_key, split in (("train_csv", "train"), ("test_csv", "test")):
        rel = lay[file_key]
        for line, row in read_csv_rows(intake.root / rel, intake, lay["columns"], header="optional"):
            where = f"{rel}:{line}"
            image = (lay["images"].rstrip("/") + "/" + row["subDirectory_filePath"].strip()).replace("\\", "/")
            try:
                x, y, w, h = (float(row[k]) for k in ("face_x", "face_y", "face_width", "face_height"))
                valence, arousal = float(row["valence"]), float(row["arousal"])
            except ValueError:
                intake.problem(where, "face_x, face_y, face_width, face_height, valence and arousal must be numbers", image)
                continue
            if w <= 0 or h <= 0:
                intake.problem(where, f"face box has width {w} and height {h}; both must be positive", image)
                continue
            intake.add(where, image, row["expression"], split, x0=x, y0=y, x1=x + w, y1=y + h,
                       valence=valence, arousal=arousal)
