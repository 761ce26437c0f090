"""Tiny copies of every official dataset layout, drawn from SynthFER images.

They let the tests (and the Datasets chapter) run each adapter and the verifier on the real file formats, quirks
included: CRLF line endings, header rows present or absent, grayscale pixel strings, several faces per photograph,
raw frames that need face detection. The pixels are synthetic; only the layouts are real.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from PIL import Image

from fernb.data.manifest import load_manifest
from fernb.labels import EXPRESSIONS_8


def _published_id(manifest: dict) -> dict:
    """canonical index -> the dataset's own label id (first id mapping to it)."""
    out = {}
    for k, v in manifest["labels"]["ids"].items():
        if v is not None and EXPRESSIONS_8.index(v) not in out:
            out[EXPRESSIONS_8.index(v)] = k
    return out


def _pick(source, per_class: int, seed: int = 0) -> list[tuple[Image.Image, int]]:
    """``per_class`` images of each of the seven expressions from a SynthFER dataset, as (RGB image, label);
    drawn with replacement when a class has fewer images."""
    rng = np.random.default_rng(seed)
    rec = source.records
    out = []
    for c in range(7):
        rows = np.flatnonzero(rec["label"].to_numpy() == c)
        if not len(rows):
            raise ValueError(f"source dataset has no image of class {c}")
        for r in rng.choice(rows, per_class, replace=len(rows) < per_class):
            with Image.open(source.root / rec["image"].iloc[r]) as im:
                out.append((im.convert("RGB"), c))
    return out


def _write_text(path: Path, lines: list[str], crlf: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        f.write(("\r\n" if crlf else "\n").join(lines) + ("\r\n" if crlf else "\n"))


def _on_canvas(face: Image.Image, canvas: tuple[int, int], box: tuple[int, int, int], gray: bool = False, seed: int = 0):
    """Paste a face (resized to ``box[2]`` px) at (box[0], box[1]) on a textured canvas; returns the image."""
    rng = np.random.default_rng(seed)
    bg = rng.integers(60, 200, (canvas[1] // 8 + 1, canvas[0] // 8 + 1, 3), dtype=np.uint8)
    im = Image.fromarray(bg).resize(canvas, Image.BILINEAR)
    im.paste(face.resize((box[2], box[2]), Image.BILINEAR), (box[0], box[1]))
    return im.convert("L") if gray else im


def write_rafdb(dest, source, per_class: int = 4, crlf: bool = True) -> Path:
    """``EmoLabel/list_patition_label.txt`` (CRLF by default, as the official file), aligned crops, originals with
    bounding-box files and manual-attribute files."""
    dest = Path(dest)
    ids = _published_id(load_manifest("rafdb"))
    lines = []
    for i, (im, c) in enumerate(_pick(source, per_class)):
        split = "test" if i % per_class == 0 else "train"
        stem = f"{split}_{i + 1:05d}"
        (dest / "Image/aligned").mkdir(parents=True, exist_ok=True)
        (dest / "Image/original").mkdir(parents=True, exist_ok=True)
        im.resize((100, 100), Image.BILINEAR).save(dest / f"Image/aligned/{stem}_aligned.jpg", quality=92)
        x, y, s = 40 + 3 * i % 50, 30 + 5 * i % 40, 120
        _on_canvas(im, (260, 220), (x, y, s), seed=i).save(dest / f"Image/original/{stem}.jpg", quality=92)
        _write_text(dest / f"Annotation/boundingbox/{stem}_boundingbox.txt", [f"{x:.1f} {y:.1f} {x + s:.1f} {y + s:.1f}"])
        _write_text(dest / f"Annotation/manual/{stem}_manu_attri.txt",
                    [f"{x + 40}.0 {y + 50}.0"] * 5 + [str(i % 3), str(i % 3), str(i % 5)], crlf=crlf)
        lines.append(f"{stem}.jpg {ids[c]}")
    _write_text(dest / "EmoLabel/list_patition_label.txt", lines, crlf=crlf)
    return dest


def write_fer2013(dest, source, per_class: int = 3) -> Path:
    """``fer2013.csv`` with 48×48 grayscale pixel strings and all three Usage values."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    ids = _published_id(load_manifest("fer2013"))
    usages = ("Training", "PublicTest", "PrivateTest")
    with open(dest / "fer2013.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["emotion", "pixels", "Usage"])
        for i, (im, c) in enumerate(_pick(source, per_class)):
            px = np.asarray(im.convert("L").resize((48, 48), Image.BILINEAR)).reshape(-1)
            w.writerow([ids[c], " ".join(map(str, px)), usages[i % 3]])
    return dest


def write_affectnet(dest, source, per_class: int = 3, validation_header: bool = False) -> Path:
    """``training.csv`` and ``validation.csv`` (without its header row by default, as some releases ship it), full
    images with the face box, plus rows of the excluded classes 7-10."""
    dest = Path(dest)
    m = load_manifest("affectnet-8")
    ids = _published_id(m)
    cols = m["layout"]["columns"]
    rows = {"training.csv": [], "validation.csv": []}
    picks = _pick(source, per_class)
    extra = [(picks[j][0], None, k) for j, k in zip(range(4), (7, 8, 9, 10))]   # contempt, none, uncertain, no-face
    for i, (im, c, *raw) in enumerate([(im, c) for im, c in picks] + extra):
        label = raw[0] if raw else ids[c]
        sub = f"{100 + i % 3}"
        name = f"{sub}/{i:04d}a1b2.jpg"
        (dest / "Manually_Annotated_Images" / sub).mkdir(parents=True, exist_ok=True)
        x, y, s = 20 + i % 30, 25 + i % 20, 150
        _on_canvas(im, (224, 224), (x, y, s), seed=i).save(dest / "Manually_Annotated_Images" / name, quality=92)
        landmarks = ";".join(f"{x + k:.2f}" for k in range(136))
        file = "validation.csv" if i % per_class == 0 else "training.csv"
        rows[file].append([name, x, y, s, s, landmarks, label, f"{(i % 9 - 4) / 4:.3f}", f"{(i % 7 - 3) / 3:.3f}"])
    lists = dest / "Manually_Annotated_file_lists"
    lists.mkdir(parents=True, exist_ok=True)
    for file, body in rows.items():
        with open(lists / file, "w", newline="") as f:
            w = csv.writer(f)
            if file == "training.csv" or validation_header:
                w.writerow(cols)
            w.writerows(body)
    return dest


def write_expw(dest, source, per_class: int = 10) -> Path:
    """``label/label.lst`` with two faces per photograph over ``image/origin/``."""
    dest = Path(dest)
    ids = _published_id(load_manifest("expw"))
    (dest / "image/origin").mkdir(parents=True, exist_ok=True)
    picks = _pick(source, per_class)
    lines = []
    for j in range(0, len(picks), 2):
        pair = picks[j:j + 2]
        canvas = _on_canvas(pair[0][0], (360, 200), (10, 20, 150), seed=j)
        boxes = [(10, 20, 150)]
        if len(pair) > 1:
            canvas.paste(pair[1][0].resize((140, 140)), (200, 40))
            boxes.append((200, 40, 140))
        name = f"photo_{j:04d}.jpg"
        canvas.save(dest / "image/origin" / name, quality=92)
        for face, ((_, c), (x, y, s)) in enumerate(zip(pair, boxes)):
            lines.append(f"{name} {face} {y} {x} {x + s} {y + s} {90.5 - face:.1f} {ids[c]}")
    _write_text(dest / "label/label.lst", lines)
    return dest


def write_ckplus(dest, source, subjects: int = 11, frames: int = 5) -> Path:
    """``cohn-kanade-images/`` with grayscale 320×240 frames (a smaller stand-in for 640×490) and ``Emotion/``
    files for all but the last sequence, which stays unlabelled as many CK+ sequences are."""
    dest = Path(dest)
    ids = _published_id(load_manifest("ckplus"))
    picks = _pick(source, 2)
    neutral = [im for im, c in picks if c == 4]
    for s in range(subjects):
        subject = f"S{s + 10:03d}"
        for q in range(2 if s < subjects - 1 else 1):
            im, c = picks[(2 * s + q) % len(picks)]
            if c == 4:  # neutral is the first frame, never a sequence label
                im, c = picks[(2 * s + q + 1) % len(picks)]
            seq = f"{q + 1:03d}"
            folder = dest / "cohn-kanade-images" / subject / seq
            folder.mkdir(parents=True, exist_ok=True)
            start = neutral[s % len(neutral)]
            for f in range(frames):
                t = f / (frames - 1)
                face = Image.blend(start, im, t)
                _on_canvas(face, (320, 240), (90, 40, 150), gray=True, seed=s).save(folder / f"{subject}_{seq}_{f + 1:08d}.png")
            if s < subjects - 1:
                _write_text(dest / "Emotion" / subject / seq / f"{subject}_{seq}_{frames:08d}_emotion.txt",
                            [f"   {float(ids[c]):.7e}"])
    return dest


def write_infer(dest, source, per_class: int = 4, with_split: bool = True) -> Path:
    """The InFER++ layout of ``data_manifests/infer-pp.yaml``: ``records.csv`` + ``images/``, 256×256 grayscale."""
    dest = Path(dest)
    m = load_manifest("infer-pp")
    names = _published_id(m)
    (dest / "images").mkdir(parents=True, exist_ok=True)
    header = ["image", "expression"] + (["split"] if with_split else []) + ["age_group", "gender"] + \
             [f"votes_{e}" for e in EXPRESSIONS_8[:7]]
    ages, genders = ("5-10", "11-19", "20-29", "30-59", "60+"), ("male", "female")
    with open(dest / "records.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        for i, (im, c) in enumerate(_pick(source, per_class)):
            name = f"images/{i:06d}.jpg"
            im.convert("L").resize((256, 256), Image.BILINEAR).save(dest / name, quality=90)
            votes = [0] * 7
            votes[c] = 8
            votes[(c + 1) % 7] = 2
            w.writerow([name, names[c]] + (["test" if i % per_class == 0 else "train"] if with_split else []) +
                       [ages[i % 5], genders[i % 2]] + votes)
    return dest


def write_btfer(dest, source, per_class: int = 3) -> Path:
    """One folder per class, 256×256 JPEG faces."""
    dest = Path(dest)
    m = load_manifest("btfer")
    ids = _published_id(m)
    for i, (im, c) in enumerate(_pick(source, per_class)):
        folder = dest / m["layout"]["folders"][ids[c]]
        folder.mkdir(parents=True, exist_ok=True)
        im.resize((256, 256), Image.BILINEAR).save(folder / f"img_{i:04d}.jpg", quality=92)
    return dest


WRITERS = {"rafdb": write_rafdb, "fer2013": write_fer2013, "affectnet-7": write_affectnet,
           "affectnet-8": write_affectnet, "expw": write_expw, "ckplus": write_ckplus, "infer-pp": write_infer,
           "btfer": write_btfer}


def write_mock(name: str, dest, source, **kw) -> Path:
    """Write a tiny copy of dataset ``name``'s official layout under ``dest`` from SynthFER ``source`` images."""
    if name not in WRITERS:
        raise ValueError(f"no mock layout for {name!r}; expected one of {sorted(WRITERS)}")
    return WRITERS[name](dest, source, **kw)


def write_all(dest, source, names=None) -> dict:
    """Write every mock layout (or ``names``) under ``dest/<name>``; returns ``{name: folder}``."""
    return {n: write_mock(n, Path(dest) / n, source) for n in (names or WRITERS)}
