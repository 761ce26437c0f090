"""Procedural face renderer of SynthFER.

A face is a small set of parametric curves (brows, lids, iris, nose, nasolabial folds, lips, jaw) whose control
points are moved by action-unit activations; identity (face shape, skin, hair, age, gender presentation), the
InFER++ occlusions (turban, bindi, beard, spectacles, ornaments, hand), head pose, illumination, background clutter,
blur, sensor noise and JPEG compression are drawn on top.  Everything is drawn with Pillow at twice the output
resolution and downsampled, so edges are anti-aliased; all randomness comes from the caller's generator, so the same
generator state gives the same pixels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from fernb.data.synth.facs import ACTION_UNITS, AU_INDEX

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

    def __post_init__(self):
        aus = np.asarray(self.aus, dtype=np.float32)
        if aus.shape != (len(ACTION_UNITS),):
            raise ValueError(f"FaceSpec.aus must hold {len(ACTION_UNITS)} activations (AU{', AU'.join(map(str, ACTION_UNITS))}), "
                             f"got shape {aus.shape}")
        bad = np.flatnonzero(~((aus >= 0) & (aus <= 1)))
        if len(bad):
            j = int(bad[0])
            raise ValueError(f"AU{ACTION_UNITS[j]} amplitude {float(aus[j])!r} is outside [0, 1]")
        self.aus = aus


def _au(spec: FaceSpec, au: int) -> float:
    """How far AU ``au`` moves the face, as a share of its full (FACS intensity E) displacement.

    FACS intensities A (trace) to E (maximum) are not equal steps: B to D, the range most expressions are shown at,
    span most of the visible change (Ekman, Friesen & Hager 2002, ch. 2).  A concave response maps an activation
    to displacement accordingly, after a dead zone that keeps the resting tone of a neutral face at rest."""
    x = float(spec.aus[AU_INDEX[au]])
    return max(0.0, (x - 0.03) / 0.97) ** 0.7


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


@dataclass
class _Geo:
    """Where the face sits on the (2x) canvas: half-width a, half-height b, centre, feature anchors."""

    S: int
    a: float
    b: float
    cx: float
    cy: float
    fx: float
    fy: float
    yaw: float
    line_w: int
    eye_y: float
    brow_y: float
    nx: float
    tip_y: float


def _geometry(spec: FaceSpec, S: int) -> _Geo:
    a = spec.face_w * S
    jaw = min(1.0, _au(spec, 26) + 0.7 * _au(spec, 27))
    b = a * spec.face_ratio * (1 + 0.08 * jaw)  # the jaw drop lengthens the face (FACS AU26/27)
    cx, cy = spec.cx * S, spec.cy * S
    fx = cx + spec.yaw * 0.18 * a  # features slide with the yaw
    fy = cy + spec.pitch * 0.08 * b
    au9, au10 = _au(spec, 9), _au(spec, 10)
    return _Geo(S=S, a=a, b=b, cx=cx, cy=cy, fx=fx, fy=fy, yaw=spec.yaw, line_w=max(2, int(S / 100)),
                eye_y=fy - 0.1 * b, brow_y=fy - 0.33 * b, nx=fx + spec.yaw * 0.12 * a,
                tip_y=fy + 0.3 * b - 0.04 * b * au9 - 0.015 * b * au10)


def _soft(sd: ImageDraw.ImageDraw, pts, depth: float, width: float):
    """A soft stroke on the shading layer: ``depth`` > 0 darkens (a fold or furrow), < 0 lightens (a bulge)."""
    if abs(depth) >= 1:
        sd.line(pts, fill=int(np.clip(128 - depth, 0, 255)), width=max(1, int(width)), joint="curve")


def _body(d: ImageDraw.ImageDraw, g: _Geo, spec: FaceSpec, hair, rng: np.random.Generator):
    """Shoulders, neck, hair behind the head and ears."""
    a, b, cx, cy = g.a, g.b, g.cx, g.cy
    shirt = _col(rng.uniform(20, 230, size=3))
    d.ellipse([cx - 2.2 * a, cy + 1.12 * b, cx + 2.2 * a, cy + 3.0 * b], fill=shirt)
    d.rectangle([cx - 0.45 * a, cy + 0.5 * b, cx + 0.45 * a, cy + 1.5 * b], fill=_col(spec.skin, 0.78))
    if "turban" not in spec.occluders and spec.hair_style != 2:
        if spec.hair_style == 1:
            d.polygon(_ellipse_poly(cx, cy + 0.2 * b, 1.25 * a, 1.32 * b, power=2.6), fill=_col(hair))
        else:
            d.ellipse([cx - 1.1 * a, cy - 1.16 * b, cx + 1.1 * a, cy + 0.35 * b], fill=_col(hair))
        if spec.hair_style == 3:
            d.ellipse([cx - 0.45 * a, cy - 1.5 * b, cx + 0.45 * a, cy - 0.85 * b], fill=_col(hair))
    for side in (-1, 1):
        ex = cx + side * a * (0.97 - 0.08 * side * g.yaw)
        d.ellipse([ex - 0.16 * a, g.eye_y - 0.02 * b, ex + 0.16 * a, g.eye_y + 0.36 * b], fill=_col(spec.skin, 0.88))
        if "ornament" in spec.occluders:
            d.ellipse([ex - 0.06 * a, g.eye_y + 0.34 * b, ex + 0.06 * a, g.eye_y + 0.46 * b], fill=(212, 175, 55))


def _outline(spec: FaceSpec, g: _Geo) -> list:
    """Face silhouette: a superellipse, squarer for a strong jaw, narrowing at the chin."""
    pts = []
    for t in np.linspace(0, 2 * np.pi, 56, endpoint=False):
        c, s = math.cos(t), math.sin(t)
        p = 2.0 + 1.2 * spec.jaw
        x = g.a * math.copysign(abs(c) ** (2 / p), c)
        y = g.b * math.copysign(abs(s) ** (2 / p), s)
        if s > 0:
            x *= 1 - 0.3 * s**2 * (1 - 0.5 * spec.jaw)
        pts.append((g.cx + x, g.cy + y))
    return pts


def _fringe(d: ImageDraw.ImageDraw, g: _Geo, spec: FaceSpec, hair, rng: np.random.Generator):
    """Age lines on the forehead and the hair fringe."""
    a, b, fx, fy = g.a, g.b, g.fx, g.fy
    if spec.age_group >= 3:
        for i in range(2 if spec.age_group == 3 else 4):
            yl = fy - b * (0.52 + 0.07 * i)
            d.line(_quad((fx - 0.4 * a, yl), (fx, yl - 0.05 * b), (fx + 0.4 * a, yl)), fill=_col(spec.skin, 0.8), width=1)
    part = rng.uniform(-0.4, 0.4)
    low = 0.64 + 0.08 * rng.random()
    if "turban" in spec.occluders or spec.hair_style == 2:
        return
    cx, cy = g.cx, g.cy
    t = np.linspace(np.pi, 2 * np.pi, 20)
    fringe = [(cx + 1.05 * a * math.cos(x), cy - 0.2 * b + 0.95 * b * math.sin(x)) for x in t]
    fringe += [(cx + 1.0 * a, cy - (low - 0.25) * b)]
    fringe += _quad((cx + 0.88 * a, cy - low * b), (cx + part * a, cy - (low + 0.12) * b), (cx - 0.88 * a, cy - low * b))
    fringe += [(cx - 1.0 * a, cy - (low - 0.25) * b)]
    d.polygon(fringe, fill=_col(hair))


def _eyes(img: Image.Image, d: ImageDraw.ImageDraw, sd: ImageDraw.ImageDraw, g: _Geo, spec: FaceSpec):
    """Lids, sclera and iris.  AU5 raises the upper lid until white shows above the iris; AU6 pushes the lower lid
    up into a crescent and bags the skin below it; AU7 tightens both lids; AU4 narrows the eye from above (FACS)."""
    a, b, eye_y = g.a, g.b, g.eye_y
    au4, au5, au6, au7 = (_au(spec, k) for k in (4, 5, 6, 7))
    au7 = max(au7, 0.6 * _au(spec, 9))  # AU9 narrows the eye aperture (FACS)
    down = max(0.0, max(au4, 0.6 * _au(spec, 9)) - 0.8 * max(_au(spec, 1), _au(spec, 2)))  # how far the brow came down
    up = max(0.07 * b * (1 + 1.15 * au5 * (1 - 0.6 * down) - 0.2 * au7 - 0.5 * au6 - 0.35 * down), 0.012 * b)
    lo = 0.045 * b * (1 + 0.3 * au5 - 1.1 * au6 - 0.7 * au7)
    lo = max(lo, -0.5 * up)  # a lower lid pushed up bows upwards: the "smiling eye" crescent
    ew = 0.21 * a * (1.1 if spec.age_group == 0 else 1.0)
    ir = 0.43 * ew
    for side in (-1, 1):
        ex = g.fx + side * 0.4 * a * (1 - 0.12 * side * g.yaw)
        w = ew * (1 - 0.2 * side * g.yaw)
        upper = _quad((ex - w, eye_y), (ex + 0.1 * side * w, eye_y - 2 * up), (ex + w, eye_y), 10)
        lower = _quad((ex + w, eye_y), (ex, eye_y + 2 * lo), (ex - w, eye_y), 10)
        # socket shade (deeper under lowered brows), lid crease (gone when AU5 raises the lid), lower-lid furrow
        _soft(sd, [(ex - 1.1 * w, eye_y - 0.02 * b), (ex + 1.1 * w, eye_y - 0.02 * b)], 10 + 45 * down, 0.2 * b)
        crease = _quad((ex - w, eye_y - 0.2 * up), (ex, eye_y - 2 * up - 0.05 * b), (ex + w, eye_y - 0.2 * up), 8)
        _soft(sd, crease, 30 * (1 - au5), 0.025 * b)
        bag = _quad((ex - w, eye_y + 0.04 * b), (ex, eye_y + 2 * lo + 0.09 * b), (ex + w, eye_y + 0.02 * b), 8)
        _soft(sd, bag, 12 + 40 * au6 + 20 * au7, 0.02 * b)
        _soft(sd, [(ex - 0.5 * w, eye_y + 0.2 * b), (ex + 0.5 * w, eye_y + 0.2 * b)], -22 * au6, 0.12 * b)
        if au6 > 0.25:  # crow's feet
            for k in (-1, 0, 1):
                x0 = ex + side * w * 1.05
                _soft(sd, [(x0, eye_y + k * 0.03 * b), (x0 + side * 0.12 * a, eye_y + k * 0.06 * b)], 45 * au6, 0.015 * b)
        box = [int(ex - w - 2), int(eye_y - 2 * up - 2), int(ex + w + 3), int(eye_y + 2 * abs(lo) + 3)]
        size = (box[2] - box[0], box[3] - box[1])
        mask = Image.new("L", size, 0)
        ImageDraw.Draw(mask).polygon([(x - box[0], y - box[1]) for x, y in upper + lower], fill=255)
        layer = Image.new("RGB", size, (236, 234, 228))
        ld = ImageDraw.Draw(layer)
        ix, iy = ex + 0.25 * w * g.yaw - box[0], eye_y - 0.012 * b - box[1]
        ld.ellipse([ix - ir, iy - ir, ix + ir, iy + ir], fill=_col(spec.iris))
        ld.ellipse([ix - 0.5 * ir, iy - 0.5 * ir, ix + 0.5 * ir, iy + 0.5 * ir], fill=(12, 10, 10))
        ld.ellipse([ix + 0.15 * ir, iy - 0.6 * ir, ix + 0.45 * ir, iy - 0.3 * ir], fill=(250, 250, 250))
        img.paste(layer, box[:2], mask)
        d.line(upper, fill=(22, 16, 14), width=g.line_w + (2 if spec.female else 1), joint="curve")
        d.line(lower, fill=_col(spec.skin, 0.55), width=max(1, g.line_w - 1), joint="curve")


def _brows(d: ImageDraw.ImageDraw, sd: ImageDraw.ImageDraw, g: _Geo, spec: FaceSpec, hair):
    """AU1 raises the inner ends, AU2 the outer ends (arching them in surprise), AU4 lowers them and draws them
    together; AU1+4 gives the oblique brow of sadness and fear, with wrinkles in the middle of the forehead only.
    Forehead wrinkles follow AU1/AU2, vertical glabella furrows AU4 (FACS)."""
    a, b, fx = g.a, g.b, g.fx
    au1, au2 = _au(spec, 1), _au(spec, 2)
    au4 = max(_au(spec, 4), 0.6 * _au(spec, 9))  # AU9 also pulls the inner brows down (FACS)
    col = _col(hair, 0.75) if spec.age_group < 4 else _col(GREY_HAIR, 0.7)
    th = (0.05 if spec.female else 0.065) * b * (1 + 0.3 * au4)
    for side in (-1, 1):
        ix = fx + side * (0.13 - 0.08 * au4) * a
        ox = fx + side * 0.66 * a * (1 - 0.1 * side * g.yaw)
        iy = g.brow_y + 0.01 * b - 0.21 * b * au1 + 0.2 * b * au4
        oy = g.brow_y + 0.03 * b - 0.19 * b * au2 + 0.05 * b * au4
        arch = 0.06 * b + 0.07 * b * au2 * (1 - au4) - 0.04 * b * au4 - 0.02 * b * au1 * (1 - au2)
        mid = ((ix + ox) / 2, (iy + oy) / 2 - arch)
        top = _quad((ix, iy - th), (mid[0], mid[1] - 0.8 * th), (ox, oy - 0.25 * th), 10)
        bottom = _quad((ox, oy + 0.15 * th), (mid[0], mid[1] + 0.2 * th), (ix, iy + 0.1 * th), 10)
        d.polygon(top + bottom, fill=col)
        _soft(sd, [(ix, iy + 0.06 * b), ((ix + ox) / 2, mid[1] + 0.1 * b), (ox, oy + 0.06 * b)], 45 * au4, 0.06 * b)
    for i in range(3):  # forehead wrinkles: AU1 in the middle, AU2 at the sides
        yl = g.brow_y - (0.15 + 0.075 * i) * b - 0.12 * b * max(au1, au2)
        _soft(sd, _quad((fx - 0.2 * a, yl), (fx, yl - 0.03 * b), (fx + 0.2 * a, yl)), 55 * au1, 0.018 * b)
        for side in (-1, 1):
            _soft(sd, _quad((fx + side * 0.2 * a, yl), (fx + side * 0.35 * a, yl - 0.02 * b),
                            (fx + side * 0.52 * a, yl + 0.02 * b)), 50 * au2 * (1 - 0.6 * au4), 0.018 * b)
    for k in (-1, 1):  # glabella furrows
        _soft(sd, [(fx + k * 0.05 * a, g.brow_y - 0.02 * b), (fx + k * 0.035 * a, g.brow_y + 0.17 * b)], 95 * au4, 0.026 * b)
    if "bindi" in spec.occluders:
        r = 0.045 * a
        d.ellipse([fx - r, g.brow_y + 0.06 * b - r, fx + r, g.brow_y + 0.06 * b + r], fill=(190, 20, 40))


def _nose(d: ImageDraw.ImageDraw, sd: ImageDraw.ImageDraw, g: _Geo, spec: FaceSpec):
    """Bridge, tip and nostrils.  AU9 wrinkles the root of the nose and lifts and flares the wings; AU10 lifts the
    wings a little and deepens the upper nasolabial fold (FACS)."""
    a, b, nx, tip_y = g.a, g.b, g.nx, g.tip_y
    au9, au10 = _au(spec, 9), _au(spec, 10)
    side_l = -1 if math.cos(spec.light_dir) > 0 else 1  # the bridge's shaded side faces away from the light
    _soft(sd, [(nx + side_l * 0.08 * a, g.eye_y + 0.05 * b), (nx + side_l * 0.11 * a, tip_y - 0.02 * b)], 40, 0.04 * b)
    _soft(sd, [(nx, g.eye_y + 0.08 * b), (nx, tip_y - 0.06 * b)], -25, 0.04 * b)
    _soft(sd, [(nx - 0.12 * a, tip_y + 0.08 * b), (nx + 0.12 * a, tip_y + 0.08 * b)], 38, 0.04 * b)
    wing = 0.13 * a * (1 + 0.25 * au9)
    for side in (-1, 1):
        _soft(sd, _quad((nx + side * 0.06 * a, tip_y - 0.1 * b), (nx + side * (wing + 0.05 * a), tip_y - 0.02 * b),
                        (nx + side * 0.07 * a, tip_y + 0.05 * b), 6), 45, 0.02 * b)
        d.ellipse([nx + side * 0.08 * a - 0.045 * a, tip_y + 0.005 * b, nx + side * 0.08 * a + 0.045 * a,
                   tip_y + 0.045 * b], fill=_col(spec.skin, 0.38))
    d.ellipse([nx - 0.09 * a, tip_y - 0.07 * b, nx + 0.09 * a, tip_y + 0.02 * b], fill=_col(spec.skin, 1.03, 4))
    for i in range(4):  # AU9: transverse wrinkles across the root and bridge of the nose
        yl = g.eye_y + (0.0 + 0.045 * i) * b
        _soft(sd, _quad((nx - 0.13 * a, yl + 0.02 * b), (nx, yl - 0.025 * b), (nx + 0.13 * a, yl + 0.02 * b), 6),
              75 * au9, 0.022 * b)
    for side in (-1, 1):  # AU9/AU10: wrinkles fanning from the bridge under the eyes
        _soft(sd, [(nx + side * 0.1 * a, g.eye_y + 0.1 * b), (nx + side * 0.22 * a, g.eye_y + 0.16 * b)],
              55 * au9 + 20 * au10, 0.02 * b)


def _mouth_shape(spec: FaceSpec, g: _Geo) -> dict:
    """Lip curves as y(x) on shared x samples: AU12 pulls the corners up and out, AU15 down, AU20 stretches them
    sideways; AU23 tightens and thins the lips, AU24 presses them together (AU23 alone keeps them shut only when
    nothing parts them: with AU10/25/26 it gives the thin-lipped, squared open mouth of anger); AU25 parts them,
    AU26/27 drop the jaw; AU10 raises the middle of the upper lip into a square arch, AU16 lowers the lower lip (FACS).
    Teeth show once the lips part."""
    a, b = g.a, g.b
    a10, a12, a15, a16, a20, a23, a24, a25, a26, a27 = (_au(spec, k) for k in (10, 12, 15, 16, 20, 23, 24, 25, 26, 27))
    jaw = min(1.0, a26 + 0.7 * a27)
    press = max(a23, a24)
    mx, my = g.fx + g.yaw * 0.1 * a, g.fy + 0.57 * b
    opening = max(a25, 1.2 * jaw, 0.8 * a10, 0.8 * a16)
    seal = max(a24, a23 * (1 - min(1.0, 1.5 * opening)))  # how far the lips are held shut
    taut = press - seal  # tightened lips held open: a wide, squared, thin-lipped opening (anger, open mouth)
    hw = 0.32 * a * (1 + 0.42 * a12 + 0.45 * a20 - 0.25 * seal + 0.1 * taut
                     - 0.25 * jaw * (1 - a20) * (1 - a12) * (1 - taut))
    corner = (my - 0.19 * b * a12 + 0.13 * b * a15 + 0.09 * b * a20 + 0.04 * b * jaw * (1 - a12) - 0.02 * b * a10
              + 0.035 * b * press)
    part = float(np.clip(opening - 0.1, 0, 1)) * (1 - 0.9 * seal)
    gap_up = part * (0.03 * b + 0.1 * b * a10 + 0.03 * b * a12)
    # stretched (AU20) or tightened (AU23) lips widen the opening rather than letting it drop into the oval of surprise
    gap_dn = (part * (0.04 * b + 0.08 * b * a16 + 0.09 * b * a12 + 0.05 * b * a20)
              + (0.34 * b * jaw + 0.1 * b * a27) * (1 - 0.5 * a20) * (1 - 0.5 * taut))
    lip_u = 0.048 * b * (1 - 0.75 * press) * (1 - 0.4 * a20) * (1 - 0.3 * a12) * (1.15 if spec.female else 1.0)
    lip_l = 1.4 * lip_u * (1 - 0.3 * a16)
    u = np.linspace(-1, 1, 17)
    xs = mx + hw * u

    def curve(mid, p=2.0):
        return corner + (mid - corner) * (1 - np.abs(u) ** p)

    rest = my + 0.015 * b * a15
    p_up, p_dn = 2 + 3 * a10 + 2 * a20, 2 + 0.8 * jaw + 3 * a20 + 3 * taut  # AU10, AU20, AU23 square the opening
    ui = curve(rest - gap_up, p_up)
    li = curve(rest + gap_dn, p_dn)
    uo = np.minimum(curve(rest - gap_up - lip_u - 0.01 * b, p_up), ui)
    lo = np.maximum(curve(rest + gap_dn + lip_l, p_dn), li)
    return {"xs": xs, "ui": ui, "li": li, "uo": uo, "lo": lo, "mx": mx, "my": my, "hw": hw, "corner": corner,
            "part": part, "u": u, "show_lower": float(np.clip(a16 + a20 + 0.5 * a10 + taut, 0, 1)), "a12": a12,
            "a15": a15, "a20": a20, "press": press, "jaw": jaw}


def _mouth(d: ImageDraw.ImageDraw, sd: ImageDraw.ImageDraw, g: _Geo, spec: FaceSpec) -> dict:
    """Draw the lips, the opening and the teeth, and the folds around them."""
    m = _mouth_shape(spec, g)
    a, b, xs, u = g.a, g.b, m["xs"], m["u"]
    pts = lambda ys: list(zip(xs.tolist(), ys.tolist()))  # noqa: E731
    lip_col = _col(spec.skin * np.array([1.0, 0.7, 0.7]), 0.8 if spec.female else 0.86)
    if m["part"] > 0.02:
        d.polygon(pts(m["ui"]) + pts(m["li"])[::-1], fill=(38, 12, 16))
        inner = np.abs(u) < 0.86  # the corners of the opening stay dark
        th = 0.065 * b * (1 - 0.45 * m["a20"])  # stretched lips cover part of the teeth
        tu = np.minimum(m["ui"] + th, m["ui"] + 0.6 * (m["li"] - m["ui"]))
        if inner.sum() > 1:
            xi = xs[inner]
            d.polygon(list(zip(xi, m["ui"][inner])) + list(zip(xi, tu[inner]))[::-1], fill=(228, 224, 212))
            if m["show_lower"] > 0.2:
                tl = np.maximum(m["li"] - 0.045 * b * m["show_lower"], tu + 0.25 * (m["li"] - tu))
                d.polygon(list(zip(xi, tl[inner])) + list(zip(xi, m["li"][inner]))[::-1], fill=(214, 210, 198))
    d.polygon(pts(m["uo"]) + pts(m["ui"])[::-1], fill=lip_col)
    d.polygon(pts(m["li"]) + pts(m["lo"])[::-1], fill=_col(lip_col, 1.1))
    if m["part"] <= 0.02:
        d.line(pts((m["ui"] + m["li"]) / 2), fill=_col(lip_col, 0.45), width=g.line_w, joint="curve")
    mx, hw, corner = m["mx"], m["hw"], m["corner"]
    for side in (-1, 1):  # shadowed corners (deeper when pulled, pressed or depressed)
        cxp = mx + side * hw
        _soft(sd, [(cxp - side * 0.02 * a, corner), (cxp + side * 0.04 * a, corner + 0.01 * b)],
              40 + 40 * max(m["a12"], m["press"], m["a15"]), 0.035 * b)
    _soft(sd, [(mx - 0.5 * hw, m["lo"][8] + 0.03 * b), (mx + 0.5 * hw, m["lo"][8] + 0.03 * b)],
          30 + 35 * m["press"], 0.05 * b)  # the shadow under the lower lip
    for y in (m["uo"][8] - 0.035 * b, m["lo"][8] + 0.075 * b):  # AU23/24: the skin bulges around pressed lips
        _soft(sd, [(mx - 0.6 * hw, y), (mx + 0.6 * hw, y)], -35 * m["press"], 0.05 * b)
    # nasolabial folds: AU12 and AU6 deepen them and push them out; AU9/AU10 deepen their upper part
    au6, au9, au10 = _au(spec, 6), _au(spec, 9), _au(spec, 10)
    fold = min(1.0, 0.9 * m["a12"] + 0.5 * au9 + 0.6 * au10 + 0.3 * m["a20"] + 0.2 * au6 + (0.3 if spec.age_group == 4 else 0))
    for side in (-1, 1):
        top = (g.nx + side * 0.17 * a, g.tip_y - 0.02 * b)
        end = (mx + side * (hw + 0.07 * a), corner + 0.1 * b)
        ctrl = (mx + side * (hw + 0.12 * a * (1 + m["a12"])), (top[1] + end[1]) / 2)
        _soft(sd, _quad(top, ctrl, end, 8), 15 + 70 * fold, 0.03 * b)
        _soft(sd, [(ctrl[0] + side * 0.06 * a, ctrl[1] - 0.02 * b), (ctrl[0] + side * 0.1 * a, ctrl[1] - 0.1 * b)],
              -24 * max(m["a12"], au6), 0.14 * b)  # the cheek bulging above the fold
        if m["a15"] > 0.2:  # AU15 pulls the skin below the corners down
            _soft(sd, [(mx + side * hw, corner + 0.02 * b), (mx + side * (hw + 0.02 * a), corner + 0.14 * b)],
                  45 * m["a15"], 0.025 * b)
    return m


def _occluders(d: ImageDraw.ImageDraw, g: _Geo, spec: FaceSpec, m: dict, hair, rng: np.random.Generator):
    """The occlusions of the InFER++ setting: beard, spectacles, nose ornament, turban, a hand."""
    a, b, cx, cy, fx, lw = g.a, g.b, g.cx, g.cy, g.fx, g.line_w
    mx, hw = m["mx"], m["hw"]
    if "beard" in spec.occluders:
        beard = _col(hair, 0.9)
        lo_y, up_y = float(m["lo"][8]), float(m["uo"][8])
        pts = [(cx - 0.98 * a, cy + 0.05 * b)] + _quad((cx - 0.9 * a, cy + 0.95 * b), (cx, cy + 1.35 * b),
                                                        (cx + 0.9 * a, cy + 0.95 * b))
        pts += [(cx + 0.98 * a, cy + 0.05 * b), (cx + 0.7 * a, cy + 0.35 * b)]
        pts += _quad((mx + hw + 0.1 * a, m["corner"] + 0.05 * b), (mx, lo_y + 0.12 * b), (mx - hw - 0.1 * a, m["corner"] + 0.05 * b))
        pts += [(cx - 0.7 * a, cy + 0.35 * b)]
        d.polygon(pts, fill=beard)
        d.polygon(_quad((mx - hw, up_y + 0.01 * b), (mx, up_y - 0.12 * b), (mx + hw, up_y + 0.01 * b)), fill=beard)
    if "spectacles" in spec.occluders:
        frame = _col(spec.occluder_colour)
        for side in (-1, 1):
            ex = fx + side * 0.4 * a * (1 - 0.12 * side * g.yaw)
            d.rounded_rectangle([ex - 0.3 * a, g.eye_y - 0.14 * b, ex + 0.3 * a, g.eye_y + 0.12 * b],
                                radius=0.08 * a, outline=frame, width=max(2, lw))
            d.line([(ex + side * 0.3 * a, g.eye_y - 0.08 * b), (cx + side * 1.0 * a, g.eye_y - 0.1 * b)], fill=frame, width=lw)
        d.line(_quad((fx - 0.1 * a, g.eye_y - 0.05 * b), (fx, g.eye_y - 0.1 * b), (fx + 0.1 * a, g.eye_y - 0.05 * b)),
               fill=frame, width=lw)
    if "ornament" in spec.occluders:
        d.ellipse([g.nx + 0.08 * a, g.tip_y, g.nx + 0.18 * a, g.tip_y + 0.1 * b], outline=(212, 175, 55), width=lw)
    if "turban" in spec.occluders:
        tc = _col(spec.occluder_colour)
        d.polygon(_ellipse_poly(cx, cy - 1.0 * b, 1.12 * a, 0.5 * b, power=2.4), fill=tc)
        d.polygon([(cx - 1.05 * a, cy - 1.0 * b), (cx + 1.05 * a, cy - 1.0 * b), (cx + 1.0 * a, cy - 0.62 * b),
                   (cx, cy - 0.7 * b), (cx - 1.0 * a, cy - 0.62 * b)], fill=tc)
        for i in range(3):
            yl = cy - b * (0.88 + 0.15 * i)
            d.line(_quad((cx - 0.95 * a, yl + 0.1 * b), (cx, yl - 0.1 * b), (cx + 0.95 * a, yl + 0.1 * b)),
                   fill=_col(tc, 0.75), width=lw)
    if "hand" in spec.occluders:
        side = 1 if rng.random() < 0.5 else -1
        hx, hy = cx + side * 0.6 * a, cy + rng.uniform(0.6, 0.95) * b
        hand = _col(spec.skin, 0.97)
        d.ellipse([hx - 0.33 * a, hy - 0.2 * b, hx + 0.33 * a, hy + 0.45 * b], fill=hand)
        for k in range(4):
            fxk = hx - 0.25 * a + k * 0.16 * a
            d.rounded_rectangle([fxk - 0.06 * a, hy - 0.45 * b + 0.04 * b * abs(k - 1.5), fxk + 0.06 * a, hy + 0.05 * b],
                                radius=0.05 * a, fill=hand, outline=_col(spec.skin, 0.8))


def _apply_shading(img: Image.Image, shade: Image.Image, spec: FaceSpec, g: _Geo, outline) -> Image.Image:
    """Multiply the blurred shading layer and a Lambertian-like falloff over the face into the image."""
    S = g.S
    shade = shade.filter(ImageFilter.GaussianBlur(radius=max(1.0, S / 110)))
    k = np.asarray(shade, dtype=np.float32) * (1 / 128)
    x0, y0 = max(0, int(g.cx - g.a)), max(0, int(g.cy - g.b))
    x1, y1 = min(S, int(g.cx + g.a) + 1), min(S, int(g.cy + g.b) + 1)
    if x1 > x0 and y1 > y0:
        yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        u, v = (xx - g.cx) / g.a, (yy - g.cy) / g.b
        r2 = u**2 + v**2
        lx, ly = math.cos(spec.light_dir), math.sin(spec.light_dir)
        fall = 1.0 - 0.22 * np.minimum(r2, 1.3) ** 1.5 + spec.light_strength * 0.25 * (u * lx + v * ly)
        mask = Image.new("L", (x1 - x0, y1 - y0), 0)
        ImageDraw.Draw(mask).polygon([(x - x0, y - y0) for x, y in outline], fill=255)
        k[y0:y1, x0:x1] *= np.where(np.asarray(mask) > 0, fall, 1.0)
    arr = np.asarray(img, dtype=np.float32) * k[..., None]
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def _capture(img: Image.Image, spec: FaceSpec, rng: np.random.Generator, size: int) -> np.ndarray:
    """Downsample, then exposure and a lighting gradient, blur, sensor noise and grayscale."""
    img = img.resize((size, size), Image.LANCZOS)
    g = np.linspace(-1, 1, size, dtype=np.float32)
    grad = 1 + 0.18 * spec.light_strength * (math.cos(spec.light_dir) * g[None, :] + math.sin(spec.light_dir) * g[:, None])
    arr = np.asarray(img, dtype=np.float32) * (spec.exposure * grad)[..., None]
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


def render(spec: FaceSpec, rng: np.random.Generator, size: int = 128) -> np.ndarray:
    """Draw ``spec`` and return an (size, size, 3) uint8 RGB array (after blur and noise; JPEG is the caller's)."""
    S = size * 2
    img = _background(S, rng)
    d = ImageDraw.Draw(img)
    g = _geometry(spec, S)
    hair = GREY_HAIR * 0.7 + spec.hair * 0.3 if spec.age_group == 4 else spec.hair
    _body(d, g, spec, hair, rng)
    outline = _outline(spec, g)
    d.polygon(outline, fill=_col(spec.skin))
    _fringe(d, g, spec, hair, rng)
    shade = Image.new("L", (S, S), 128)
    sd = ImageDraw.Draw(shade)
    _eyes(img, d, sd, g, spec)
    _brows(d, sd, g, spec, hair)
    _nose(d, sd, g, spec)
    m = _mouth(d, sd, g, spec)
    img = _apply_shading(img, shade, spec, g, outline)
    _occluders(ImageDraw.Draw(img), g, spec, m, hair, rng)
    if spec.roll:
        img = img.rotate(spec.roll, resample=Image.BILINEAR, center=(g.cx, g.cy),
                         fillcolor=_col(rng.uniform(40, 200, size=3)))
    return _capture(img, spec, rng, size)
