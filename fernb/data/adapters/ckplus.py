"""CK+: ``cohn-kanade-images/<subject>/<sequence>/*.png`` frames and ``Emotion/<subject>/<sequence>/*_emotion.txt``
for the labelled sequences. The peak-frame protocol InFER++ §IV-A evaluates with: the last ``peak_frames`` frames
of a labelled sequence take its label, its first frame is neutral; every frame gets a subject-independent fold
(scikit-learn ``StratifiedGroupKFold``). Sequences without an emotion file are listed as excluded."""

from __future__ import annotations

import warnings

import numpy as np

from fernb.data.adapters import DatasetError, Intake

IMAGE_EXTS = {".png", ".jpg", ".jpeg"}


def read(intake: Intake) -> None:
    m = intake.manifest
    proto = m["protocol"]
    images_dir = intake.root / "cohn-kanade-images"
    emotion_dir = intake.root / "Emotion"
    if not emotion_dir.is_dir():
        raise DatasetError(f"ckplus: {emotion_dir} is missing; expected Emotion/<subject>/<sequence>/*_emotion.txt "
                           "beside cohn-kanade-images/")
    neutral_id = next(k for k, v in m["labels"]["ids"].items() if v == "neutral")
    for subject in sorted(p for p in images_dir.iterdir() if p.is_dir()):
        for seq in sorted(p for p in subject.iterdir() if p.is_dir()):
            frames = sorted(f for f in seq.iterdir() if f.suffix.lower() in IMAGE_EXTS)
            seq_rel = intake.rel(seq)
            emo = sorted((emotion_dir / subject.name / seq.name).glob("*_emotion.txt"))
            if not emo:
                intake.excluded.append({"where": seq_rel + "/", "image": None,
                                        "reason": "sequence has no emotion file (unlabelled; not used by the peak-frame protocol)"})
                continue
            where = f"{intake.rel(emo[0])}:1"
            if len(emo) > 1:
                intake.problem(where, f"sequence has {len(emo)} emotion files; expected one")
                continue
            text = emo[0].read_text(encoding="utf-8-sig").strip()
            try:
                raw = float(text)
            except ValueError:
                intake.problem(where, f"expected one number (the emotion code), found {text[:40]!r}")
                continue
            if len(frames) < proto["peak_frames"] + 1:
                intake.problem(where, f"{seq_rel}/ has {len(frames)} frames; the protocol needs at least {proto['peak_frames'] + 1}")
                continue
            chosen = [(f, raw) for f in frames[-proto["peak_frames"]:]]
            if proto.get("neutral_first_frame", True):
                chosen.insert(0, (frames[0], neutral_id))
            for f, lab in chosen:
                rel = intake.rel(f)
                intake.add(where if lab == raw else rel, rel, lab, "train", subject=subject.name, sequence=seq.name)
    if intake.rows:
        from sklearn.model_selection import StratifiedGroupKFold

        labels = np.array([r["label"] for r in intake.rows])
        subjects = np.array([r["subject"] for r in intake.rows])
        k = int(proto["folds"])
        n_subjects = len(np.unique(subjects))
        if n_subjects < k:
            raise DatasetError(f"ckplus: {n_subjects} subjects under {images_dir}; subject-independent {k}-fold "
                               f"evaluation needs at least {k}")
        fold = np.zeros(len(labels), np.int64)
        with warnings.catch_warnings():  # "least populated class has fewer than k members" is expected for CK+ fear
            warnings.filterwarnings("ignore", message="The least populated class in y has only", category=UserWarning)
            for i, (_, test) in enumerate(StratifiedGroupKFold(n_splits=k).split(labels, labels, subjects)):
                fold[test] = i
        for r, f in zip(intake.rows, fold):
            r["fold"] = int(f)
