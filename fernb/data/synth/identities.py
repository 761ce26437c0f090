"""SynthFER faces grouped by identity: the training set of the VGGFace analogue (fernb.train.analogues).

VGGFace is a network trained to tell people apart (2,622 identities, Parkhi et al. 2015), which BTFER §III-E uses
as a face-specific start. Its analogue here is trained to tell SynthFER identities apart: each identity keeps what
makes a person recognisable in the renderer (face shape, jaw, skin, hair, eyes, age, gender presentation) and each
of its images varies what VGGFace's photographs vary (expression, pose, lighting, occlusion, capture). Deterministic:
image ``j`` of identity ``i`` is drawn from its own generator seeded by (seed, i, j).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from fernb.data.manifest import load_manifest
from fernb.data.synth.facs import ACTION_UNITS, prototype_matrix
from fernb.data.synth.generate import OCCLUDERS, SynthConfig, _face_spec
from fernb.data.synth.render import render
from fernb.labels import AGE_GROUPS, GENDERS

IDENTITY = ("age_group", "female", "skin", "hair", "iris", "hair_style", "face_w", "face_ratio", "jaw")
"""The FaceSpec fields an identity keeps across its images; everything else is drawn per image."""
_KEY = 0x1D  # separates these generators from the domains' own


def _row(rng: np.random.Generator, age: str, gender: str) -> dict:
    """One image's latent row: a random expression prototype at a random intensity, sometimes an occluder."""
    protos = prototype_matrix()
    aus = protos[rng.integers(len(protos))] * rng.uniform(0.0, 1.0)
    occ = str(rng.choice(OCCLUDERS)) if rng.random() < 0.15 else ""
    return {"age_group": age, "gender": gender, "occluders": occ,
            **{f"AU{au:02d}": float(np.clip(v, 0, 1)) for au, v in zip(ACTION_UNITS, aus)}}


def identity_faces(identities: int = 200, per_identity: int = 15, size: int = 64, seed: int = 0,
                   domain: str = "synth-raf") -> tuple[np.ndarray, np.ndarray]:
    """``(images, identity)``: ``identities × per_identity`` RGB uint8 images (N, size, size, 3) and each one's
    identity index, drawn with ``domain``'s capture settings."""
    if identities < 2 or per_identity < 2:
        raise ValueError(f"identity_faces needs at least 2 identities of 2 images, got {identities} × {per_identity}")
    gen = load_manifest(domain)["generator"]
    cfg = SynthConfig(domain, 14, seed, max(size, 32))
    images, labels = [], []
    for i in range(identities):
        rng = np.random.default_rng([seed, _KEY, i])
        age, gender = str(rng.choice(AGE_GROUPS)), str(rng.choice(GENDERS))
        person = _face_spec(cfg, _row(rng, age, gender), gen, rng)
        for j in range(per_identity):
            r = np.random.default_rng([seed, _KEY, i, j])
            spec = _face_spec(cfg, _row(r, age, gender), gen, r)
            spec = replace(spec, **{f: getattr(person, f) for f in IDENTITY})
            images.append(render(spec, r, size=size))
            labels.append(i)
    return np.stack(images), np.asarray(labels, dtype=np.int64)
