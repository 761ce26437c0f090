"""RAF-DB basic emotions: ``EmoLabel/list_patition_label.txt`` (``train_00001.jpg 5`` per line) with the aligned
100×100 crops, or the original images cropped with ``Annotation/boundingbox`` (RAF-DB README; counts in
ResEmoteNet Table II). Gender and age come from ``Annotation/manual/*_manu_attri.txt`` when that folder exists."""

from __future__ import annotations

from fernb.data.adapters import DatasetError, Intake, read_lines


def _attributes(path, intake: Intake) -> dict:
    """Lines 1-5 are landmarks; then gender, race and age codes (RAF-DB README)."""
    try:
        lines = [ln.strip() for ln in path.read_text(encoding="utf-8-sig").splitlines() if ln.strip()]
    except FileNotFoundError:
        return {}
    codes = intake.manifest["attributes"]
    if len(lines) < 8:
        intake.problem(f"{intake.rel(path)}:1", f"expected 5 landmark lines then gender, race and age codes; found {len(lines)} lines")
        return {}
    gender, age = lines[5], lines[7]
    return {"gender": codes["gender"].get(int(gender), gender) if gender.isdigit() else gender,
            "age_raf": codes["age"].get(int(age), age) if age.isdigit() else age}


def read(intake: Intake, variant: str = "aligned") -> None:
    lay = intake.manifest["layout"]
    if variant not in intake.manifest["variants"]:
        raise DatasetError(f"rafdb: variant={variant!r} is unknown; expected one of {intake.manifest['variants']}")
    listing = intake.root / lay["labels"]
    manual = (intake.root / lay["attributes"]).parent
    with_attributes = manual.is_dir()
    for line, text in read_lines(listing, intake):
        where = f"{lay['labels']}:{line}"
        parts = text.split()
        if len(parts) != 2:
            intake.problem(where, f"malformed line {text!r}: expected '<name>.jpg <label id>'")
            continue
        name, raw = parts
        stem = name.rsplit(".", 1)[0]
        split = stem.split("_", 1)[0]
        if split not in ("train", "test"):
            intake.problem(where, f"image name {name!r} does not start with train_ or test_, so its split is unknown", name)
            continue
        extra = {}
        if variant == "aligned":
            image = lay["aligned"].format(stem=stem)
        else:
            image = lay["original"].format(stem=stem)
            box_file = intake.root / lay["bbox"].format(stem=stem)
            try:
                x0, y0, x1, y1 = (float(v) for v in box_file.read_text().split()[:4])
            except FileNotFoundError:
                intake.problem(where, f"bounding-box file {intake.rel(box_file)} is missing (needed by variant 'original')", image)
                continue
            except ValueError:
                intake.problem(f"{intake.rel(box_file)}:1", "expected four numbers 'x1 y1 x2 y2'", image)
                continue
            extra = {"x0": x0, "y0": y0, "x1": x1, "y1": y1}
        if with_attributes:
            extra.update(_attributes(intake.root / lay["attributes"].format(stem=stem), intake))
        intake.add(where, image, raw, split, **extra)
