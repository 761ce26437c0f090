"""Procedural face renderer of SynthFER.

A face is a small set of parametric curves (brows, lids, iris, nose, nasolabial folds, lips, jaw) whose control
points are moved by action-unit activations; identity (face shape, skin, hair, age, gender presentation), the
InFER++ occlusions (turban, bindi, beard, spectacles, ornaments, hand), head pose, illumination, background clutter,
blur, sensor noise and JPEG compression are drawn on top.  Everything is drawn with Pillow at twice the output
resolution and downsampled, so edges are anti-aliased; all randomness comes from the caller's generator, so the same
generator state gives the same pixels.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter

from fernb.data.synth.facs import AU_INDEX

SKIN_TONES = np.array(
    [  # light → deep; RGB
        (250, 220, 196), (241, 204, 175), (228, 185, 152), (214, 165, 128), (198, 145, 108),
        (176, 122, 88), (150, 100, 70), (122, 80, 56), (96, 62, 44),
    ],
    dtype=np.float32,
)
HAIR_COLOURS = np.array([(20, 16, 14), (45, 30, 22), (80, 55, 35), (125, 90, 55), (170, 130, 80), (200, 170, 110)],
                        dtype=np.float32)
GREY_HAIR = np.array((178, 176, 172), dtype=np.float32)
IRIS_COLOURS = np.array([(60, 38, 24), (92, 60, 35), (40, 30, 25), (70, 100, 130), (90, 110, 70)], dtype=np.float32)


@dataclass
class FaceSpec:
    """Everything needed to draw one image; produced by :func:`sample_face`, consumed by :func:`render`."""

    aus: np.ndarray  # activation per AU in facs.ACTION_UNITS order, each in [0, 1]
    age_group: int  # index into labels.AGE_GROUPS
    female: bool
    skin: np.ndarray  # RGB float
    hair: np.ndarray
    iris: np.ndarray
    hair_style: int  # 0 short, 1 long, 2 bald/very short, 3 bun
    face_w: float  # half-width of the face as a share of the canvas
    face_ratio: float  # half-height / half-width
    jaw: float  # 0 round … 1 square
    cx: float
    cy: float
    yaw: float  # -1 … 1
    pitch: float
    roll: float  # degrees
    light_dir: float  # radians
    light_strength: float
    exposure: float
    occluders: tuple = ()
    occluder_colour: np.ndarray = field(default_factory=lambda: np.zeros(3, np.float32))
    background: int = 0
    blur: float = 0.0
    noise: float = 0.0
    jpeg_quality: int = 90
    grayscale: bool = False
    clutter_seed: int = 0


def _au(spec: FaceSpec, au: int) -> float:
    return float(spec.aus[AU_INDEX[au]])


def _quad(p0, p1, p2, n=12):
    """Points of a quadratic Bézier curve."""
    t = np.linspace(0.0, 1.0, n)[:, None]
    pts = (1 - t) ** 2 * np.asarray(p0) + 2 * (1 - t) * t * np.asarray(p1) + t**2 * np.asarray(p2)
    return [tuple(p) for p in pts]


def _ellipse_poly(cx, cy, rx, ry, n=48, angle=0.0, power=2.0):
    """Superellipse polygon: power 2 is an ellipse, larger powers get squarer."""
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    c, s = np.cos(t), np.sin(t)
    x = rx * np.sign(c) * np.abs(c) ** (2 / power)
    y = ry * np.sign(s) * np.abs(s) ** (2 / power)
    ca, sa = math.cos(angle), math.sin(angle)
    return [(cx + xi * ca - yi * sa, cy + xi * sa + yi * ca) for xi, yi in zip(x, y)]


def _col(rgb, k=1.0, add=0.0):
    return tuple(int(v) for v in np.clip(np.asarray(rgb, np.float32) * k + add, 0, 255))


def _background(size: int, rng: np.random.Generator) -> Image.Image:
    """Indoor/outdoor-like clutter: a two-tone gradient plus shapes, drawn small and upsampled (so it is out of focus),
    so the face is not on a flat card."""
    lo = 48
    base = rng.uniform(40, 220, size=3)
    other = np.clip(base + rng.normal(0, 50, size=3), 0, 255)
    t = np.linspace(0, 1, lo, dtype=np.float32)[:, None, None]
    arr = np.broadcast_to(base * (1 - t) + other * t, (lo, lo, 3))
    img = Image.fromarray(arr.astype(np.uint8))
    draw = ImageDraw.Draw(img)
    for _ in range(int(rng.integers(3, 10))):
        kind = rng.integers(0, 3)
        c = _col(rng.uniform(20, 235, size=3))
        x0, y0 = rng.uniform(-0.2, 1.0, size=2) * lo
        w, h = rng.uniform(0.1, 0.6, size=2) * lo
        if kind == 0:
            draw.rectangle([x0, y0, x0 + w, y0 + h], fill=c)
        elif kind == 1:
            draw.ellipse([x0, y0, x0 + w, y0 + h], fill=c)
        else:
            draw.line([x0, y0, x0 + w, y0 + h * rng.choice([-1, 1])], fill=c, width=int(rng.integers(1, 3)))
    return img.resize((size, size), Image.BILINEAR)


def render(spec: FaceSpec, rng: np.random.Generator, size: int = 128) -> np.ndarray:
    """Draw ``spec`` and return an (size, size, 3) uint8 RGB array (after blur, noise and JPEG round-trip)."""
    S = size * 2
    img = _background(S, rng)
    d = ImageDraw.Draw(img)

    a = spec.face_w * S
    jaw_drop = _au(spec, 26)
    b = a * spec.face_ratio * (1 + 0.07 * jaw_drop)
    cx, cy = spec.cx * S, spec.cy * S
    yaw = spec.yaw
    skin = spec.skin
    age = spec.age_group
    hair = GREY_HAIR * 0.7 + spec.hair * 0.3 if age == 4 else spec.hair
    turban = "turban" in spec.occluders

    # Shoulders and neck.
    shirt = _col(rng.uniform(20, 230, size=3))
    d.ellipse([cx - 2.3 * a, cy + 1.45 * b, cx + 2.3 * a, cy + 3.4 * b], fill=shirt)
    d.rectangle([cx - 0.45 * a, cy + 0.55 * b, cx + 0.45 * a, cy + 1.6 * b], fill=_col(skin, 0.82))

    # Hair behind the head.
    if not turban and spec.hair_style != 2:
        if spec.hair_style == 1:
            d.polygon(_ellipse_poly(cx, cy + 0.25 * b, 1.28 * a, 1.35 * b, power=2.6), fill=_col(hair))
        else:
            d.ellipse([cx - 1.12 * a, cy - 1.18 * b, cx + 1.12 * a, cy + 0.4 * b], fill=_col(hair))
        if spec.hair_style == 3:
            d.ellipse([cx - 0.45 * a, cy - 1.55 * b, cx + 0.45 * a, cy - 0.85 * b], fill=_col(hair))

    # Ears.
    for side in (-1, 1):
        ex = cx + side * a * (0.97 - 0.08 * side * yaw)
        d.ellipse([ex - 0.17 * a, cy - 0.22 * b, ex + 0.17 * a, cy + 0.22 * b], fill=_col(skin, 0.9))
        if "ornament" in spec.occluders:
            d.ellipse([ex - 0.06 * a, cy + 0.2 * b, ex + 0.06 * a, cy + 0.32 * b], fill=(212, 175, 55))

    # Face outline: a superellipse, squarer for a strong jaw, narrowing at the chin.
    pts = []
    for t in np.linspace(0, 2 * np.pi, 64, endpoint=False):
        c, s = math.cos(t), math.sin(t)
        p = 2.0 + 1.2 * spec.jaw
        x = a * np.sign(c) * abs(c) ** (2 / p)
        y = b * np.sign(s) * abs(s) ** (2 / p)
        if s > 0:  # lower half narrows towards the chin
            x *= 1 - 0.28 * s**2 * (1 - 0.5 * spec.jaw)
        pts.append((cx + x, cy + y))
    d.polygon(pts, fill=_col(skin))
    face_mask_img = Image.new("L", img.size, 0)
    ImageDraw.Draw(face_mask_img).polygon(pts, fill=255)

    arr = np.asarray(img, dtype=np.float32)
    # Shading: the face is lit from light_dir and darkens towards its silhouette (a cheap Lambertian look).
    yy, xx = np.mgrid[0:S, 0:S].astype(np.float32)
    u = (xx - cx) / a
    v = (yy - cy) / b
    r2 = u**2 + v**2
    lx, ly = math.cos(spec.light_dir), math.sin(spec.light_dir)
    shade = 1.0 - 0.22 * np.clip(r2, 0, 1.3) ** 1.5 + spec.light_strength * 0.25 * (u * lx + v * ly) * (r2 < 1.4)
    face_mask = (np.asarray(face_mask_img) > 0)[..., None]
    arr = np.where(face_mask, arr * shade[..., None], arr)
    img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    d = ImageDraw.Draw(img)

    fx = cx + yaw * 0.18 * a  # features slide with the yaw
    fy = cy + spec.pitch * 0.08 * b
    dark = _col(skin, 0.55)
    line_w = max(2, int(S / 110))

    # Age lines (forehead, crow's feet) for adults and seniors.
    if age >= 3:
        k = 0.65 if age == 3 else 0.5
        for i in range(2 if age == 3 else 4):
            yl = fy - b * (0.55 + 0.08 * i)
            d.line(_quad((fx - 0.4 * a, yl), (fx, yl - 0.05 * b), (fx + 0.4 * a, yl)), fill=_col(skin, k + 0.2), width=1)

    # Forehead hair fringe.
    if not turban and spec.hair_style != 2:
        part = rng.uniform(-0.4, 0.4)
        t = np.linspace(np.pi, 2 * np.pi, 24)
        skull = [(cx + 1.05 * a * math.cos(x), cy - 0.2 * b + 0.95 * b * math.sin(x)) for x in t]
        low = 0.32 + 0.1 * rng.random()
        fringe = skull + [(cx + 1.0 * a, cy - low * b)]
        fringe += _quad((cx + 0.9 * a, cy - (low + 0.15) * b), (cx + part * a, cy - 0.5 * b), (cx - 0.9 * a, cy - (low + 0.2) * b))
        fringe += [(cx - 1.0 * a, cy - low * b)]
        d.polygon(fringe, fill=_col(hair))

    # Eyes: almond between an upper and a lower lid curve; openness from AU5 (up), AU7/AU6 (down).
    eye_y = fy - 0.12 * b
    eye_w = 0.2 * a * (1.12 if age == 0 else 1.0)
    open_ = 0.085 * b * (1 + 0.75 * _au(spec, 5) - 0.45 * _au(spec, 7) - 0.25 * _au(spec, 6))
    open_ = max(open_, 0.012 * b)
    lower_raise = 0.5 * _au(spec, 6) + 0.3 * _au(spec, 7)
    for side in (-1, 1):
        ex = fx + side * 0.4 * a * (1 - 0.12 * side * yaw)
        ew = eye_w * (1 - 0.2 * side * yaw)
        upper = _quad((ex - ew, eye_y), (ex, eye_y - 2.2 * open_), (ex + ew, eye_y))
        lower = _quad((ex + ew, eye_y), (ex, eye_y + 1.6 * open_ * (1 - lower_raise)), (ex - ew, eye_y))
        # socket shadow
        d.ellipse([ex - 1.3 * ew, eye_y - 2.0 * open_ - 0.05 * b, ex + 1.3 * ew, eye_y + 1.5 * open_ + 0.03 * b],
                  fill=_col(skin, 0.86))
        mask = Image.new("L", img.size, 0)
        ImageDraw.Draw(mask).polygon(upper + lower, fill=255)
        layer = Image.new("RGB", img.size, (238, 236, 232))
        ld = ImageDraw.Draw(layer)
        ir = 0.55 * ew
        ix = ex + 0.25 * ew * yaw
        ld.ellipse([ix - ir, eye_y - ir - 0.2 * open_, ix + ir, eye_y + ir - 0.2 * open_], fill=_col(spec.iris))
        pr = 0.45 * ir
        ld.ellipse([ix - pr, eye_y - pr - 0.2 * open_, ix + pr, eye_y + pr - 0.2 * open_], fill=(12, 10, 10))
        ld.ellipse([ix + 0.2 * ir, eye_y - 0.6 * ir, ix + 0.45 * ir, eye_y - 0.35 * ir], fill=(250, 250, 250))
        img.paste(layer, (0, 0), mask)
        d.line(upper, fill=(25, 18, 15), width=line_w + (1 if spec.female else 0))
        d.line(lower, fill=_col(skin, 0.62), width=max(1, line_w - 1))
        if _au(spec, 6) > 0.3 or age == 4:  # crow's feet
            for k in (-1, 0, 1):
                x0 = ex + side * ew * 1.1
                d.line([(x0, eye_y + k * 0.03 * b), (x0 + side * 0.12 * a, eye_y + k * 0.05 * b)], fill=_col(skin, 0.7), width=1)

    # Brows: AU1 raises the inner end, AU2 the outer end, AU4 lowers and draws them together.
    brow_y = fy - 0.36 * b
    au1, au2, au4 = _au(spec, 1), _au(spec, 2), _au(spec, 4)
    brow_thick = max(3, int(S / (38 if not spec.female else 55)))
    brow_col = _col(hair, 0.8) if age < 4 else _col(GREY_HAIR, 0.75)
    for side in (-1, 1):
        inner_x = fx + side * (0.15 - 0.07 * au4) * a
        outer_x = fx + side * 0.66 * a * (1 - 0.1 * side * yaw)
        inner_y = brow_y - 0.2 * b * au1 + 0.15 * b * au4
        outer_y = brow_y + 0.03 * b - 0.2 * b * au2 - 0.04 * b * au4
        mid = ((inner_x + outer_x) / 2, (inner_y + outer_y) / 2 - 0.06 * b + 0.02 * b * au4 - 0.04 * b * au1 * (1 - au2))
        d.line(_quad((inner_x, inner_y), mid, (outer_x, outer_y)), fill=brow_col, width=brow_thick, joint="curve")
    if au4 > 0.3:  # glabella furrows
        for k in (-1, 1):
            d.line([(fx + k * 0.05 * a, brow_y + 0.02 * b), (fx + k * 0.04 * a, brow_y + 0.14 * b)], fill=_col(skin, 0.7), width=1)
    if "bindi" in spec.occluders:
        r = 0.045 * a
        d.ellipse([fx - r, brow_y + 0.04 * b - r, fx + r, brow_y + 0.04 * b + r], fill=(190, 20, 40))

    # Nose: bridge shadow, tip, nostrils; AU9 wrinkles the bridge and lifts the wings.
    au9 = _au(spec, 9)
    nx = fx + yaw * 0.12 * a
    tip_y = fy + 0.3 * b - 0.03 * b * au9
    d.line([(nx - 0.07 * a, eye_y + 0.05 * b), (nx - 0.09 * a, tip_y - 0.05 * b)], fill=_col(skin, 0.78), width=line_w)
    d.ellipse([nx - 0.12 * a, tip_y - 0.07 * b, nx + 0.12 * a, tip_y + 0.04 * b], fill=_col(skin, 1.04, 4))
    for side in (-1, 1):
        d.ellipse([nx + side * 0.1 * a - 0.05 * a, tip_y + 0.01 * b, nx + side * 0.1 * a + 0.05 * a, tip_y + 0.05 * b],
                  fill=_col(skin, 0.4))
    if au9 > 0.25:
        for i in range(3):
            yl = eye_y + (0.02 + 0.04 * i) * b
            d.line(_quad((nx - 0.1 * a, yl), (nx, yl - 0.02 * b), (nx + 0.1 * a, yl)), fill=_col(skin, 0.68), width=1)

    # Mouth: corners moved by AU12 (up, out), AU15 (down), AU20 (out), AU23 (thin, narrow); AU16 lowers the lower lip;
    # AU26 opens the jaw.
    au12, au15, au16, au20, au23 = (_au(spec, k) for k in (12, 15, 16, 20, 23))
    mx = fx + yaw * 0.1 * a
    my = fy + 0.58 * b + 0.05 * b * jaw_drop
    half_w = 0.34 * a * (1 + 0.35 * au12 + 0.4 * au20 - 0.3 * au23 - 0.15 * jaw_drop)
    corner_y = my - 0.16 * b * au12 + 0.14 * b * au15 + 0.02 * b * au20
    lip = 0.065 * b * (1 - 0.7 * au23) * (1.15 if spec.female else 1.0)
    opening = 0.45 * b * jaw_drop + 0.09 * b * max(au12 - 0.35, 0) + 0.08 * b * au16
    smile_bow = 0.08 * b * au12 - 0.05 * b * au15
    lc, rc = (mx - half_w, corner_y), (mx + half_w, corner_y)
    upper_top = _quad(lc, (mx, my - lip - 0.35 * opening * 0.3 - 0.02 * b * au9), rc)
    upper_bottom = _quad(rc, (mx, my + smile_bow * 0.6 - 0.1 * opening), lc)
    lower_top = _quad(lc, (mx, my + smile_bow + 0.9 * opening), rc)
    lower_bottom = _quad(rc, (mx, my + smile_bow + opening + 2 * lip + 0.03 * b * au16), lc)
    lip_col = _col(skin * np.array([1.0, 0.72, 0.72]), 0.85 if not spec.female else 0.8)
    if opening > 0.01 * b:
        d.polygon(upper_bottom[::-1] + lower_top[1:], fill=(45, 15, 20))
        # teeth: upper row, and the lower row when AU16 pulls the lip down
        tmask = Image.new("L", img.size, 0)
        ImageDraw.Draw(tmask).polygon(upper_bottom[::-1] + lower_top[1:], fill=255)
        teeth = Image.new("L", img.size, 0)
        td = ImageDraw.Draw(teeth)
        td.rectangle([mx - half_w, my - 0.05 * b, mx + half_w, my + smile_bow * 0.6 + 0.045 * b], fill=255)
        if au16 > 0.3:
            td.rectangle([mx - half_w, my + smile_bow + 0.85 * opening - 0.035 * b, mx + half_w, my + 2 * b], fill=255)
        img.paste(Image.new("RGB", img.size, (232, 228, 215)), (0, 0), ImageChops.multiply(tmask, teeth))
        d = ImageDraw.Draw(img)
    d.polygon(upper_top + upper_bottom[1:], fill=lip_col)
    d.polygon(lower_top + lower_bottom[1:], fill=_col(lip_col, 1.08))
    d.line(_quad(lc, (mx, my + smile_bow * 0.6 - 0.1 * opening), rc), fill=_col(lip_col, 0.55), width=max(1, line_w - 1))

    # Nasolabial folds deepen with AU6, AU9, AU12 and AU20.
    fold = 0.5 * au12 + 0.4 * au9 + 0.3 * au20 + 0.25 * _au(spec, 6) + (0.35 if age == 4 else 0.0)
    if fold > 0.2:
        for side in (-1, 1):
            d.line(_quad((nx + side * 0.16 * a, tip_y), (mx + side * (half_w + 0.06 * a), my - 0.1 * b),
                         (mx + side * (half_w + 0.02 * a), corner_y + 0.08 * b)),
                   fill=_col(skin, 1 - 0.25 * min(fold, 1.0)), width=max(1, line_w - 1))

    # Occluders of the InFER++ setting.
    if "beard" in spec.occluders:
        beard = _col(hair, 0.9)
        pts = [(cx - 0.98 * a, cy + 0.05 * b)] + _quad((cx - 0.9 * a, cy + 0.95 * b), (cx, cy + 1.35 * b), (cx + 0.9 * a, cy + 0.95 * b))
        pts += [(cx + 0.98 * a, cy + 0.05 * b), (cx + 0.7 * a, cy + 0.35 * b)]
        pts += _quad((mx + half_w + 0.1 * a, my + 0.2 * b), (mx, my + 0.35 * b + opening), (mx - half_w - 0.1 * a, my + 0.2 * b))
        pts += [(cx - 0.7 * a, cy + 0.35 * b)]
        d.polygon(pts, fill=beard)
        d.polygon(_quad((mx - half_w, my - lip - 0.02 * b), (mx, my - lip - 0.12 * b), (mx + half_w, my - lip - 0.02 * b)),
                  fill=beard)
    if "spectacles" in spec.occluders:
        frame = _col(spec.occluder_colour)
        for side in (-1, 1):
            ex = fx + side * 0.4 * a * (1 - 0.12 * side * yaw)
            d.rounded_rectangle([ex - 0.3 * a, eye_y - 0.14 * b, ex + 0.3 * a, eye_y + 0.12 * b], radius=0.08 * a,
                                outline=frame, width=max(2, line_w))
            d.line([(ex + side * 0.3 * a, eye_y - 0.08 * b), (cx + side * 1.0 * a, eye_y - 0.1 * b)], fill=frame, width=line_w)
        d.line(_quad((fx - 0.1 * a, eye_y - 0.05 * b), (fx, eye_y - 0.1 * b), (fx + 0.1 * a, eye_y - 0.05 * b)), fill=frame, width=line_w)
    if "ornament" in spec.occluders:
        d.ellipse([nx + 0.1 * a, tip_y, nx + 0.2 * a, tip_y + 0.1 * b], outline=(212, 175, 55), width=line_w)
    if turban:
        tc = _col(spec.occluder_colour)
        # wrapped cloth over the skull, its lower edge on the forehead above the brows
        d.polygon(_ellipse_poly(cx, cy - 0.98 * b, 1.12 * a, 0.52 * b, power=2.4), fill=tc)
        d.polygon([(cx - 1.05 * a, cy - 0.98 * b), (cx + 1.05 * a, cy - 0.98 * b), (cx + 1.0 * a, cy - 0.58 * b),
                   (cx, cy - 0.66 * b), (cx - 1.0 * a, cy - 0.58 * b)], fill=tc)
        for i in range(3):
            yl = cy - b * (0.85 + 0.15 * i)
            d.line(_quad((cx - 0.95 * a, yl + 0.1 * b), (cx, yl - 0.1 * b), (cx + 0.95 * a, yl + 0.1 * b)), fill=_col(tc, 0.75), width=line_w)
    if "hand" in spec.occluders:
        side = 1 if rng.random() < 0.5 else -1
        hx = cx + side * 0.55 * a
        hy = cy + rng.uniform(0.55, 0.95) * b
        hand = _col(skin, 0.97)
        d.ellipse([hx - 0.33 * a, hy - 0.2 * b, hx + 0.33 * a, hy + 0.45 * b], fill=hand)
        for k in range(4):
            fxk = hx - 0.25 * a + k * 0.16 * a
            d.rounded_rectangle([fxk - 0.06 * a, hy - 0.45 * b + 0.04 * b * abs(k - 1.5), fxk + 0.06 * a, hy + 0.05 * b],
                                radius=0.05 * a, fill=hand, outline=_col(skin, 0.8))

    if spec.roll:
        img = img.rotate(spec.roll, resample=Image.BILINEAR, center=(cx, cy), fillcolor=_col(rng.uniform(40, 200, size=3)))
    img = img.resize((size, size), Image.LANCZOS)

    arr = np.asarray(img, dtype=np.float32)
    # Global illumination: exposure and a directional gradient across the whole frame.
    g = np.linspace(-1, 1, size, dtype=np.float32)
    grad = 1 + 0.18 * spec.light_strength * (math.cos(spec.light_dir) * g[None, :] + math.sin(spec.light_dir) * g[:, None])
    arr = arr * spec.exposure * grad[..., None]
    out = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    if spec.blur > 0:
        out = out.filter(ImageFilter.GaussianBlur(radius=spec.blur))
    arr = np.asarray(out, dtype=np.float32)
    if spec.noise > 0:
        arr = arr + rng.normal(0, spec.noise, size=arr.shape).astype(np.float32)
    arr = np.clip(arr, 0, 255).astype(np.uint8)
    if spec.grayscale:
        arr = np.repeat(np.asarray(Image.fromarray(arr).convert("L"))[..., None], 3, axis=2)
    return arr


def encode_jpeg(arr: np.ndarray, quality: int) -> bytes:
    """JPEG bytes of an RGB array (baseline, no optimisation flags, so the output is reproducible)."""
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="JPEG", quality=int(quality), subsampling=2)
    return buf.getvalue()
