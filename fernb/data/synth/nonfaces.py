"""Non-face images for checking a face detector's false positives: scenes, objects, text and animal-like drawings,
drawn with the same capture pipeline (clutter, blur, noise, JPEG) as SynthFER faces.  InFER++ §III-A filtered its
50,371 scraped images down to 35,789 faces; these stand in for what such a filter must reject."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from fernb.data.synth.render import _background, _col

KINDS = ("scene", "objects", "text", "animal")


def render_nonface(rng: np.random.Generator, kind: str, size: int = 128) -> np.ndarray:
    if kind not in KINDS:
        raise ValueError(f"unknown non-face kind {kind!r}; expected one of {KINDS}")
    S = size * 2
    img = _background(S, rng)
    d = ImageDraw.Draw(img)
    if kind == "scene":  # horizon, sun, buildings
        sky, ground = _col(rng.uniform(80, 230, 3)), _col(rng.uniform(30, 160, 3))
        h = rng.uniform(0.4, 0.7) * S
        d.rectangle([0, 0, S, h], fill=sky)
        d.rectangle([0, h, S, S], fill=ground)
        for _ in range(int(rng.integers(2, 7))):
            x, w, t = rng.uniform(0, S), rng.uniform(0.08, 0.25) * S, rng.uniform(0.1, 0.5) * S
            d.rectangle([x, h - t, x + w, h], fill=_col(rng.uniform(40, 200, 3)))
            for k in range(int(rng.integers(1, 6))):
                wy = h - t + (k + 0.5) * t / 6
                d.rectangle([x + 0.2 * w, wy, x + 0.4 * w, wy + 0.05 * t], fill=(240, 230, 150))
        r = rng.uniform(0.04, 0.1) * S
        cx, cy = rng.uniform(0.1, 0.9) * S, rng.uniform(0.05, 0.3) * S
        d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=(250, 230, 120))
    elif kind == "objects":  # cups, balls, boxes on a table
        d.rectangle([0, 0.6 * S, S, S], fill=_col(rng.uniform(60, 180, 3)))
        for _ in range(int(rng.integers(2, 5))):
            x, y, w = rng.uniform(0.05, 0.75) * S, rng.uniform(0.3, 0.6) * S, rng.uniform(0.1, 0.25) * S
            c = _col(rng.uniform(30, 230, 3))
            shape = rng.integers(0, 3)
            if shape == 0:
                d.rectangle([x, y, x + w, y + w * 1.2], fill=c, outline=_col(c, 0.6), width=3)
            elif shape == 1:
                d.ellipse([x, y, x + w, y + w], fill=c)
                d.ellipse([x + 0.2 * w, y + 0.15 * w, x + 0.4 * w, y + 0.3 * w], fill=_col(c, 1.3, 40))
            else:
                d.polygon([(x, y + w), (x + w / 2, y), (x + w, y + w)], fill=c)
    elif kind == "text":  # a poster with lines of text
        d.rectangle([0.1 * S, 0.1 * S, 0.9 * S, 0.9 * S], fill=_col(rng.uniform(180, 250, 3)))
        font = ImageFont.load_default(size=int(S / 12))
        words = ["SALE", "OPEN", "CAFE", "2026", "MENU", "EXIT", "NEWS", "BOOK", "TEAM", "ROAD"]
        for k in range(int(rng.integers(3, 7))):
            txt = " ".join(rng.choice(words, size=2))
            d.text((0.14 * S, 0.14 * S + k * S / 9), txt, fill=_col(rng.uniform(0, 120, 3)), font=font)
    else:  # a four-legged animal in profile
        c = _col(rng.uniform(60, 200, 3))
        bx, by = rng.uniform(0.2, 0.4) * S, rng.uniform(0.35, 0.5) * S
        bw, bh = rng.uniform(0.35, 0.5) * S, rng.uniform(0.18, 0.25) * S
        d.ellipse([bx, by, bx + bw, by + bh], fill=c)
        hx = bx + bw * (0.95 if rng.random() < 0.5 else -0.2)
        d.ellipse([hx, by - 0.12 * S, hx + 0.16 * S, by + 0.04 * S], fill=c)
        d.polygon([(hx + 0.02 * S, by - 0.1 * S), (hx + 0.05 * S, by - 0.2 * S), (hx + 0.08 * S, by - 0.1 * S)], fill=c)
        for k in range(4):
            lx = bx + (0.1 + 0.25 * k) * bw
            d.rectangle([lx, by + 0.8 * bh, lx + 0.04 * S, by + bh + 0.15 * S], fill=_col(c, 0.8))
        d.line([(bx, by + 0.3 * bh), (bx - 0.12 * S, by - 0.05 * S)], fill=c, width=6)
    img = img.rotate(rng.normal(0, 6), resample=Image.BILINEAR, fillcolor=_col(rng.uniform(40, 200, 3)))
    img = img.resize((size, size), Image.LANCZOS)
    if rng.random() < 0.3:
        img = img.filter(ImageFilter.GaussianBlur(radius=rng.uniform(0.3, 1.2)))
    arr = np.asarray(img, dtype=np.float32) + rng.normal(0, rng.uniform(0, 6), size=(size, size, 3))
    return np.clip(arr, 0, 255).astype(np.uint8)


def nonface_image(i: int, seed: int = 0, size: int = 128) -> np.ndarray:
    """The ``i``-th non-face image of the sequence :func:`nonface_images` draws (one at a time, for large pools)."""
    return render_nonface(np.random.default_rng([seed, 7, i]), KINDS[i % len(KINDS)], size)


def nonface_images(n: int, seed: int = 0, size: int = 128) -> list[np.ndarray]:
    """``n`` non-face images cycling through :data:`KINDS`, deterministic in ``seed``."""
    return [nonface_image(i, seed, size) for i in range(n)]
