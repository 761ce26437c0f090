"""One folder per class (BTFER §III-A: 300 images in each of seven folders). Files with other extensions are
listed in the reading's notes; a folder that is not a class is a problem."""

from __future__ import annotations

from fernb.data.adapters import Intake


def read(intake: Intake) -> None:
    m = intake.manifest
    lay = m["layout"]
    folders, exts = lay["folders"], {e.lower() for e in lay["extensions"]}
    split = m["splits"][0]
    present = sorted(p for p in intake.root.iterdir() if p.is_dir() and not p.name.startswith("."))
    for d in present:
        if d.name not in folders.values():
            intake.problem(d.name + "/", f"folder {d.name!r} is not a class folder; expected {sorted(folders.values())}")
    for label_id, folder in folders.items():
        d = intake.root / folder
        if not d.is_dir():
            intake.problem(folder + "/", f"class folder {folder}/ is missing")
            continue
        for f in sorted(d.iterdir()):
            rel = intake.rel(f)
            if f.name.startswith("."):
                continue
            if f.suffix.lower() not in exts:
                intake.notes.append(f"{rel}: not an image extension {sorted(exts)}; ignored")
                continue
            intake.add(rel, rel, label_id, split)
