"""SynthFER generation: sample the latent attributes of every image, render the images, simulate the crowd, and write
the domain to disk in the layout of a real dataset (``images/`` + ``records.csv`` + ``votes.csv``), described by its
manifest in ``data_manifests/``.

Determinism: attributes for all images come from one generator seeded by (seed, domain); each image is rendered from
its own generator seeded by (seed, domain, index), so rendering can run in any order or in parallel and a resumed
run produces the same bytes as an uninterrupted one.
"""

from __future__ import annotations

import hashlib
import json
import os
import zlib
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from fernb.data.manifest import load_manifest
from fernb.data.synth import crowd
from fernb.data.synth.facs import (ACTION_UNITS, REFERENCE, anger_open_share, check_divergence, moved, prototype_matrix,
                                   style_matrix, variant_vector)
from fernb.data.splits import stratified_split
from fernb.data.store import encode_jpeg
from fernb.data.synth.render import HAIR_COLOURS, IRIS_COLOURS, SKIN_TONES, FaceSpec, render
from fernb.labels import AGE_GROUPS, EXPRESSIONS, GENDERS
from fernb.progress import progress_bar

GENERATOR_VERSION = 3
DIVERGENCE_RULE = 2
"""Version of the rule a display divergence follows (:func:`display_generator`); part of a diverged folder's name.
Rule 1 also pushed capture past the domain's own beyond divergence 1, which made the target harder to learn rather
than differently displayed (its own model fell from 67 % to 38 % at divergence 3 in chapter 06's quick profile)."""
DOMAINS = ("synth-raf", "synth-infer")
OCCLUDERS = ("turban", "bindi", "beard", "spectacles", "ornament", "hand")


@dataclass(frozen=True)
class SynthConfig:
    """What identifies one generated SynthFER domain on disk."""

    domain: str
    n: int
    seed: int = 0
    size: int = 128
    divergence: float = 1.0
    """How far the domain's display rules (action-unit gains, open-mouth anger) lie from the reference domain's
    (:data:`fernb.data.synth.facs.REFERENCE`): 0 the reference's, 1 the domain's own (the default; the published
    SynthFER domains), 2 twice as far. Capture (pose, lighting, image quality) and the blend share move with it from
    0 to 1 and stay at the domain's own beyond (:func:`display_generator`)."""

    def __post_init__(self):
        if self.domain not in DOMAINS:
            raise ValueError(f"unknown SynthFER domain {self.domain!r}; expected one of {', '.join(DOMAINS)}")
        if not isinstance(self.n, (int, np.integer)) or self.n < 14:
            raise ValueError(f"SynthFER size n must be an integer >= 14 (two images per class), got {self.n!r}")
        if not isinstance(self.size, (int, np.integer)) or not 32 <= self.size <= 512:
            raise ValueError(f"SynthFER image size must be an integer in [32, 512], got {self.size!r}")
        object.__setattr__(self, "divergence", check_divergence(self.domain, self.divergence))

    @property
    def dirname(self) -> str:
        # the generator version is part of the folder name, so a new renderer never reuses (or trips over) images
        # drawn by an old one, and everything keyed by a dataset's fingerprint (its root) is rebuilt
        # a divergence other than the domain's own is named too, with the rule that moves it (the default keeps the
        # published folders' names)
        div = "" if self.divergence == 1.0 else f"-d{self.divergence:g}-r{DIVERGENCE_RULE}"
        return f"{self.domain}{div}-n{self.n}-s{self.seed}-px{self.size}-g{GENERATOR_VERSION}"

    def meta(self) -> dict:
        """What ``meta.json`` of the generated folder must hold to be this configuration."""
        meta = {"generator_version": GENERATOR_VERSION, "domain": self.domain, "n": int(self.n),
                "seed": int(self.seed), "size": int(self.size)}
        return meta if self.divergence == 1.0 else {**meta, "divergence": self.divergence,
                                                     "divergence_rule": DIVERGENCE_RULE}


CAPTURE_BOUNDS = {"jpeg_quality": (10, 100), "yaw_sd": (0, 0.8), "roll_sd": (0, 25), "light_strength": (0, 1),
                  "exposure": (0.3, 2.0), "blur_share": (0, 1), "max_blur": (0, 4), "max_noise": (0, 30),
                  "grayscale_share": (0, 1)}
"""The range each capture setting is kept in when a divergence moves it beyond both domains' values."""


def display_generator(cfg: SynthConfig) -> dict:
    """The manifest's ``generator`` block of ``cfg.domain`` at ``cfg.divergence``: the blend share and every capture
    setting moved from the reference domain's value towards the domain's own (:func:`fernb.data.synth.facs.moved`
    at ``min(divergence, 1)``, within :data:`CAPTURE_BOUNDS`). Past 1 only the display rules move (the action-unit
    gains and open-mouth anger, :func:`fernb.data.synth.facs.domain_style`), so a larger divergence shows the same
    expressions differently instead of photographing them worse. At divergence 1 it is the manifest's block itself;
    class prior, demographics, skin tones, occluders and the crowd are the domain's identity and never move."""
    gen = load_manifest(cfg.domain)["generator"]
    d = min(cfg.divergence, 1.0)
    if d == 1.0:
        return gen
    ref = load_manifest(REFERENCE)["generator"]
    capture = {}
    for key, value in gen["capture"].items():
        lo, hi = CAPTURE_BOUNDS[key]
        v = np.clip(moved(ref["capture"][key], value, d), lo, hi)
        capture[key] = [int(round(x)) for x in v] if key == "jpeg_quality" else (
            [float(x) for x in v] if np.ndim(v) else float(v))
    blend = float(np.clip(moved(ref.get("blend_share", 0.2), gen.get("blend_share", 0.2), d), 0, 0.6))
    return {**gen, "capture": capture, "blend_share": blend}


def _domain_key(domain: str) -> int:
    return zlib.crc32(domain.encode())


def _weights(mapping: dict, names) -> np.ndarray:
    w = np.array([float(mapping[k]) for k in names], dtype=np.float64)
    return w / w.sum()


def sample_attributes(cfg: SynthConfig) -> pd.DataFrame:
    """Latent attributes of every image of a domain (vectorised; no pixels)."""
    gen = display_generator(cfg)
    rng = np.random.default_rng([cfg.seed, _domain_key(cfg.domain), 0])
    n = cfg.n
    prior = _weights(gen["class_counts"], EXPRESSIONS)
    # every class gets at least two images so that both splits can hold it; the rest follows the published prior
    label = np.concatenate([np.repeat(np.arange(7), 2), rng.choice(7, size=n - 14, p=prior)])
    label = rng.permutation(label)
    age = rng.choice(len(AGE_GROUPS), size=n, p=_weights(gen["age_group_weights"], AGE_GROUPS))
    female = rng.random(n) < _weights(gen["gender_weights"], GENDERS)[1]

    # expression intensity, blends with a second expression, and the resulting clarity
    intensity = np.clip(0.1 + 0.9 * rng.beta(1.6, 1.6, n), 0, 1)
    blended = rng.random(n) < gen.get("blend_share", 0.2)
    partner = np.where(rng.random(n) < 0.7, crowd.CONFUSABLE_INDEX[label], rng.integers(0, 7, n))
    partner = np.where(partner == label, (label + 1) % 7, partner)
    blend_w = np.where(blended, rng.uniform(0.15, 0.5, n), 0.0)
    neutral = label == EXPRESSIONS.index("neutral")
    # a neutral face blended with something shows a faint trace of it; its clarity is how faint
    clarity = np.where(neutral, 1 - 1.6 * blend_w, intensity * (1 - blend_w))
    clarity = np.clip(clarity, 0, 1)
    # what a viewer confuses the image with: the blended expression, neutral for a faint expression, else the
    # canonical confusion of the class
    confusable = np.where(blended, partner, np.where((intensity < 0.4) & ~neutral, EXPRESSIONS.index("neutral"),
                                                     crowd.CONFUSABLE_INDEX[label]))

    style = style_matrix(cfg.domain, divergence=cfg.divergence)
    protos = prototype_matrix() * style
    # anger's second EMFACS display, the open squared mouth (facs.VARIANTS), for a share of anger faces that grows
    # with intensity; drawn from its own stream so that every other attribute is what it would be without it
    anger = EXPRESSIONS.index("anger")
    lo, hi = anger_open_share(cfg.domain, cfg.divergence)
    v_rng = np.random.default_rng([cfg.seed, _domain_key(cfg.domain), 3])
    open_mouth = (label == anger) & (v_rng.random(n) < lo + (hi - lo) * intensity)
    own = protos[label]
    own[open_mouth] = variant_vector("anger", "open-mouth") * style[anger]
    aus = intensity[:, None] * own + blend_w[:, None] * protos[partner] * np.where(neutral, 0.9, intensity)[:, None]
    aus = aus * rng.uniform(0.8, 1.15, size=aus.shape) + np.abs(rng.normal(0, 0.04, size=aus.shape))
    aus = np.clip(aus, 0, 1)

    occ = gen["occluders"]
    adult_male = (~female) & (age >= 2)
    occluders = {
        "turban": rng.random(n) < np.where(female, occ["turban"] * 0.3, occ["turban"]),
        "bindi": female & (rng.random(n) < occ["bindi"]),
        "beard": adult_male & (rng.random(n) < occ["beard"]),
        "spectacles": rng.random(n) < occ["spectacles"] * np.where(age >= 3, 1.6, 0.6),
        "ornament": rng.random(n) < np.where(female, occ["ornament"], occ["ornament"] * 0.25),
        "hand": rng.random(n) < occ["hand"],
    }
    occ_str = np.array(["+".join(k for k in OCCLUDERS if occluders[k][i]) for i in range(n)], dtype=object)

    # held-out share per expression (InFER++ §III-F splits 80/20 per expression; RAF-DB's official split is ~80/20)
    split = stratified_split(label, float(gen.get("test_share", 0.2)), rng=rng, min_test=1).astype(object)

    df = pd.DataFrame({
        "image": [f"images/{i:06d}.jpg" for i in range(n)],
        "label": label,  # replaced by the crowd's majority vote below; true_label keeps the latent truth
        "split": split,
        "true_label": label,
        "intensity": intensity.round(4),
        "variant": np.where(open_mouth, "open-mouth", ""),
        "blend_label": np.where(blended, partner, -1),
        "blend_weight": blend_w.round(4),
        "clarity": clarity.round(4),
        "confusable_label": confusable,
        "age_group": np.array(AGE_GROUPS, dtype=object)[age],
        "gender": np.where(female, "female", "male"),
        "occluders": occ_str,
    })
    for j, au in enumerate(ACTION_UNITS):
        df[f"AU{au:02d}"] = aus[:, j].round(4)
    return df


def _face_spec(cfg: SynthConfig, row: dict, gen: dict, rng: np.random.Generator) -> FaceSpec:
    """Identity, pose, lighting and capture of one image (drawn from its own generator)."""
    age = AGE_GROUPS.index(row["age_group"])
    female = row["gender"] == "female"
    tones = np.asarray(gen["skin_tone_weights"], dtype=np.float64)
    tone = rng.choice(len(SKIN_TONES), p=tones / tones.sum())
    skin = SKIN_TONES[tone] * rng.uniform(0.94, 1.06, 3)
    hair_p = np.array([0.35, 0.3, 0.15, 0.1, 0.06, 0.04])
    hair = HAIR_COLOURS[rng.choice(len(HAIR_COLOURS), p=hair_p)]
    if female:
        style = rng.choice(4, p=[0.2, 0.6, 0.0, 0.2])
    else:
        p = np.array([0.75, 0.08, 0.17 if age >= 3 else 0.05, 0.0])
        style = rng.choice(4, p=p / p.sum())
    cap = gen["capture"]
    # framing: the face spans about two thirds of the frame's width, as in a loose portrait crop, so that it fills
    # a face detector's crop (FER2013, RAF-DB aligned) and still leaves clutter and shoulders around it
    face_w = rng.uniform(0.28, 0.33) * (0.92 if age == 0 else 1.0)
    quality = int(rng.integers(cap["jpeg_quality"][0], cap["jpeg_quality"][1] + 1))
    return FaceSpec(
        aus=np.array([row[f"AU{au:02d}"] for au in ACTION_UNITS], dtype=np.float32),
        age_group=age, female=female, skin=skin, hair=hair, iris=IRIS_COLOURS[rng.choice(len(IRIS_COLOURS), p=[0.35, 0.3, 0.2, 0.1, 0.05])],
        hair_style=int(style), face_w=face_w,
        face_ratio=rng.uniform(1.18, 1.38) * (0.93 if age == 0 else 1.0),
        jaw=float(np.clip(rng.normal(0.55 if not female else 0.25, 0.2), 0, 1)),
        cx=0.5 + rng.normal(0, 0.025), cy=0.46 + rng.normal(0, 0.02),
        yaw=float(np.clip(rng.normal(0, cap["yaw_sd"]), -0.8, 0.8)),
        pitch=float(np.clip(rng.normal(0, 0.3), -0.8, 0.8)),
        roll=float(np.clip(rng.normal(0, cap["roll_sd"]), -25, 25)),
        light_dir=rng.uniform(0, 2 * np.pi), light_strength=rng.uniform(0, cap["light_strength"]),
        exposure=rng.uniform(*cap["exposure"]),
        occluders=tuple(o for o in str(row["occluders"]).split("+") if o),
        occluder_colour=rng.uniform(20, 235, 3).astype(np.float32),
        blur=float(rng.uniform(0, cap["max_blur"])) if rng.random() < cap["blur_share"] else 0.0,
        noise=float(rng.uniform(0, cap["max_noise"])),
        jpeg_quality=quality,
        grayscale=bool(rng.random() < cap.get("grayscale_share", 0.0)),
    )


def skin_tones(cfg: SynthConfig, n: int) -> np.ndarray:
    """The skin tone (1 = lightest .. 9 = deepest, ``SKIN_TONES``) each image of a domain was drawn with: the first
    draw of its render generator (:func:`_face_spec`), recomputed without rendering."""
    gen = load_manifest(cfg.domain)["generator"]
    p = np.asarray(gen["skin_tone_weights"], dtype=np.float64)
    p = p / p.sum()
    key = _domain_key(cfg.domain)
    return np.array([np.random.default_rng([cfg.seed, key, 1, i]).choice(len(SKIN_TONES), p=p) + 1
                     for i in range(n)], dtype=np.int64)


def render_one(cfg: SynthConfig, index: int, row: dict, gen: dict) -> bytes:
    """JPEG bytes of image ``index`` of a domain; a pure function of (cfg, index, row)."""
    rng = np.random.default_rng([cfg.seed, _domain_key(cfg.domain), 1, index])
    spec = _face_spec(cfg, row, gen, rng)
    return encode_jpeg(render(spec, rng, size=cfg.size), spec.jpeg_quality)


def _render_chunk(args):
    cfg, root, items, gen = args
    for index, row in items:
        path = Path(root) / row["image"]
        if path.exists():
            continue
        data = render_one(cfg, index, row, gen)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
    return len(items)


def generate(cfg: SynthConfig, root: str | Path, workers: int | None = None, progress: bool = True) -> Path:
    """Write one SynthFER domain under ``root/cfg.dirname`` and return that folder.

    Resumable: a finished folder (its ``meta.json`` matches ``cfg``) is returned as is; an interrupted one keeps the
    images already written (each is written whole, then renamed) and renders only the rest.
    """
    root = Path(root)
    out = root / cfg.dirname
    meta_path = out / "meta.json"
    meta_want = cfg.meta()
    if meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if {k: meta.get(k) for k in meta_want} == meta_want:
            return out
        raise RuntimeError(f"{meta_path} describes a different SynthFER configuration ({meta}); remove {out} to regenerate")
    try:
        (out / "images").mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise PermissionError(f"cannot write SynthFER data under data_root={str(root)!r}: {e}") from None

    gen = display_generator(cfg)
    df = sample_attributes(cfg)
    rows = df.to_dict("records")
    items = list(enumerate(rows))
    workers = workers or min(4, os.cpu_count() or 1)
    chunk = 64
    chunks = [(cfg, str(out), items[i:i + chunk], gen) for i in range(0, len(items), chunk)]
    bar = progress_bar(total=len(items), desc=f"SynthFER {cfg.domain}", unit="img", enabled=progress)
    if workers > 1 and len(chunks) > 1:
        with ProcessPoolExecutor(workers) as pool:
            for k in pool.map(_render_chunk, chunks):
                bar.update(k)
    else:
        for c in chunks:
            bar.update(_render_chunk(c))
    bar.close()

    # the crowd (simulated after rendering so that the pixels never depend on it)
    rng = np.random.default_rng([cfg.seed, _domain_key(cfg.domain), 2])
    alpha = crowd.sample_annotators(rng, int(gen["annotators"]))
    clarity = df["clarity"].to_numpy()
    beta = crowd.inverse_difficulty(clarity)
    apparent, other = crowd.apparent_labels(rng, df["true_label"].to_numpy(), df["confusable_label"].to_numpy(), clarity)
    img_i, ann_j, vote = crowd.simulate_votes(rng, apparent, beta, alpha, int(gen["votes_per_image"]), other)
    df["apparent_label"] = apparent
    counts = crowd.vote_counts(img_i, vote, len(df))
    # the published label is the crowd's plurality vote, ties broken at random (as a dataset would publish it)
    tie_break = rng.random(counts.shape) * 0.5
    df["label"] = np.argmax(counts + tie_break, axis=1)
    for k, name in enumerate(EXPRESSIONS):
        df[f"votes_{name}"] = counts[:, k]
    df.to_csv(out / "records.csv", index=False)
    pd.DataFrame({"image": df["image"].to_numpy()[img_i], "annotator": ann_j, "label": vote}).to_csv(out / "votes.csv", index=False)
    pd.DataFrame({"annotator": np.arange(len(alpha)), "alpha": alpha.round(4)}).to_csv(out / "annotators.csv", index=False)

    meta = dict(meta_want)
    meta["records_sha256"] = hashlib.sha256((out / "records.csv").read_bytes()).hexdigest()
    meta["label_noise"] = float(np.mean(df["label"] != df["true_label"]))
    tmp = meta_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(meta, indent=1))
    os.replace(tmp, meta_path)  # written last: its presence means the folder is complete
    return out


def divergence_of(ds) -> float:
    """The display divergence a SynthFER dataset was generated at (its folder's ``meta.json``; 1 when absent)."""
    import json

    meta = ds.root / "meta.json"
    return float(json.loads(meta.read_text()).get("divergence", 1.0)) if meta.exists() else 1.0
