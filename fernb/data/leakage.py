"""Split leakage: perceptual hashes, near-duplicates across splits, and the two protocols of the ResEmoteNet audit.

ResEmoteNet's datasets were enlarged with augmented copies (rotations, contrast changes, jitter) before they were split
(issues #36 and #47 of the authors' repository; the paper's §III-B names only horizontal flips), so copies of one
photograph can land in training, validation and test alike. This module
writes both protocols from the same photographs as record-table datasets (``records`` manifest) the trainer reads:

- ``clean``: the official train/test split first; validation is a share of the training *photographs*; only training
  photographs get augmented copies; test and validation are the untouched originals;
- ``leaky``: every photograph (train and test) gets its copies first; the pooled copies are then split at random into
  train / validation / test with the same shares.

Both give the network the same number of training images. ``cross_split_duplicates`` finds near-duplicates between
any two splits of any dataset (a reader's RAF-DB or FER2013 too) by two perceptual fingerprints: the classic DCT hash
(pHash), which catches exact and re-encoded copies, and the correlation of mirror-aware 6×6 colour thumbnails, which
also catches augmented copies (rotated, shifted, zoomed, re-lit).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.fft
import torch

from fernb.data.fingerprints import nearest_hamming, nearest_similarity, phash, thumbnails  # noqa: F401

PROTOCOLS = ("clean", "leaky")


def cross_split_duplicates(ds, query: str = "test", reference: str = "train", min_similarity: float = 0.9,
                           size: int = 64, progress: bool = False) -> pd.DataFrame:
    """One row per ``query``-split image: its nearest ``reference``-split image by mirror-aware thumbnail correlation
    (``similarity``; a near-duplicate at ≥ ``min_similarity``) and the mirror-aware pHash Hamming distance to that
    image's nearest pHash (``phash_distance``, of 64 bits). Where the records carry a ``source`` column,
    ``sibling_in_reference`` says whether a copy of the same photograph really is in the reference split."""
    from fernb.data.store import ImageStore

    store = ImageStore.build(ds, size, 3, progress=progress)
    q, r = ds.split(query), ds.split(reference)
    if len(q) == 0 or len(r) == 0:
        raise ValueError(f"{ds.name}: splits {query!r} ({len(q)} images) and {reference!r} ({len(r)}) must both be non-empty")
    fp, fp_m = thumbnails(store.images[q]), thumbnails(store.images[r])
    sim, arg = nearest_similarity(fp[0], fp_m[0], fp_m[1])
    hashes, mirrors = phash(store.images)
    dist, _ = nearest_hamming(hashes[q], hashes[r], mirrors[r])
    out = pd.DataFrame({"row": q, "image": ds.records["image"].to_numpy()[q], "nearest": r[arg],
                        "similarity": sim, "near_duplicate": sim >= min_similarity, "phash_distance": dist})
    if "source" in ds.records.columns:
        ref_sources = set(ds.records["source"].to_numpy()[r].tolist())
        out["sibling_in_reference"] = [s in ref_sources for s in ds.records["source"].to_numpy()[q]]
    return out


def _augment(img, rng: np.random.Generator):
    """One offline augmented copy, in the spirit of the released code: flip, a small rotation, shift and zoom, and
    brightness/contrast jitter (torchvision functional transforms on PIL)."""
    import torchvision.transforms.v2.functional as TF

    if rng.random() < 0.5:
        img = TF.horizontal_flip(img)
    w, h = img.size
    img = TF.affine(img, angle=float(rng.uniform(-10, 10)),
                    translate=[int(rng.uniform(-0.05, 0.05) * w), int(rng.uniform(-0.05, 0.05) * h)],
                    scale=float(rng.uniform(0.95, 1.1)), shear=[0.0, 0.0])
    img = TF.adjust_brightness(img, float(rng.uniform(0.85, 1.15)))
    return TF.adjust_contrast(img, float(rng.uniform(0.85, 1.15)))


def write_protocol(ds, protocol: str, out, copies: int = 2, val_share: float = 0.1, seed: int = 0, size: int = 128,
                   progress: bool = True) -> Path:
    """Write ``ds`` under ``out`` as a ``records`` dataset split by ``protocol`` (see the module docstring).

    Every photograph is used as its original plus ``copies − 1`` augmented copies (the copies of test and validation
    photographs only exist in the leaky protocol). Written once per (dataset, protocol, copies, val_share, seed);
    ``records.csv`` has a ``source`` column naming the photograph each image came from. Images are written as
    ``size``² RGB JPEGs (quality 95) from the dataset's face crops."""
    from PIL import Image

    from fernb.data.store import ImageStore, encode_jpeg
    from fernb.progress import progress_bar

    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol={protocol!r}; expected one of {PROTOCOLS}")
    if not isinstance(copies, int) or copies < 1:
        raise ValueError(f"copies must be a positive integer (1 = originals only), got {copies!r}")
    if not 0 < val_share < 0.5:
        raise ValueError(f"val_share must be in (0, 0.5), got {val_share}")
    out = Path(out)
    stamp = {"dataset": ds.name, "fingerprint": ds.fingerprint, "protocol": protocol, "copies": copies,
             "val_share": val_share, "seed": seed, "size": size}
    if (out / "protocol.json").exists() and json.loads((out / "protocol.json").read_text()) == stamp:
        return out
    rng = np.random.default_rng(seed)
    rec = ds.records.reset_index(drop=True)
    labels = rec["label"].to_numpy()
    train, test = ds.split("train"), ds.split("test")
    if len(test) == 0:
        raise ValueError(f"{ds.name} has no test split to audit")
    n_val = int(np.ceil(val_share * len(train)))  # validation photographs in both protocols
    if protocol == "clean":
        from sklearn.model_selection import train_test_split

        tr, va = train_test_split(train, test_size=n_val, random_state=seed, stratify=labels[train])
        plan = [(i, c, "train") for i in np.sort(tr) for c in range(copies)]
        plan += [(i, 0, "val") for i in np.sort(va)] + [(i, 0, "test") for i in test]
    else:  # the same numbers of images per split as copies of the clean protocol's photographs would give
        pool = [(i, c) for i in np.concatenate([train, test]) for c in range(copies)]
        order = rng.permutation(len(pool))
        n_test, n_va = copies * len(test), copies * n_val
        split = np.array(["train"] * len(pool), dtype=object)
        split[order[:n_test]] = "test"
        split[order[n_test:n_test + n_va]] = "val"
        plan = [(i, c, s) for (i, c), s in zip(pool, split)]
    (out / "images").mkdir(parents=True, exist_ok=True)
    store = ImageStore.build(ds, size, 3, progress=progress)
    rows = []
    bar = progress_bar(total=len(plan), desc=f"writing the {protocol} protocol", unit="img", enabled=progress)
    for k, (i, c, s) in enumerate(plan):
        img = Image.fromarray(np.ascontiguousarray(store.images[i]))
        if c > 0:
            img = _augment(img, np.random.default_rng([seed, int(i), c]))
        name = f"images/{k:06d}.jpg"
        (out / name).write_bytes(encode_jpeg(np.asarray(img.convert("RGB")), 95))
        row = {"image": name, "label": int(labels[i]), "split": s, "source": int(i)}
        for col in ("age_group", "gender", "true_label"):
            if col in rec.columns:
                row[col] = rec.at[i, col]
        rows.append(row)
        bar.update()
    bar.close()
    pd.DataFrame(rows).to_csv(out / "records.csv", index=False)
    (out / "protocol.json").write_text(json.dumps(stamp))
    return out
