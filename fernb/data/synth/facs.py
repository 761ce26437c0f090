"""FACS action-unit prototypes of the seven basic expressions and their per-domain display style.

Prototypes follow EMFACS (Ekman & Friesen, 1978; Ekman, Friesen & Hager, 2002), the AU sets InFER++ §I and
ResEmoteNet §I describe informally, with the lip and jaw actions a full-intensity face shows (AU25 lips part,
AU26 jaw drop / AU27 mouth stretch; AU10 with AU9 in disgust; AU24 with AU23 in anger):

========= ===============================
anger     AU4+5+7+23+24 (closed, pressed lips) or AU4+5+7+10+23+25+26 (open, squared mouth)
disgust   AU9+10+15+16+25
fear      AU1+2+4+5+7+20+25+26
happiness AU6+12+25
neutral   (none)
sadness   AU1+4+15
surprise  AU1+2+5+25+26+27
========= ===============================

Anger has two displays in EMFACS: lips pressed together (AU23+24) or lips tightened and parted into an open,
squared mouth that bares the teeth (AU10+23+25 with the jaw dropped, AU26; "anger, open mouth" in Ekman, Friesen &
Hager 2002, and the 4+5+7+10+23+25/26 rows of EMFACS's anger list).  SynthFER draws the open display for a share of
anger faces that grows with intensity (``ANGER_OPEN_SHARE``, per domain); the closed one is the prototype below.

Every activation is in [0, 1]: 0 is absent, 1 the most a real face shows (FACS intensity E).
"""

from __future__ import annotations

import numpy as np

from fernb.labels import EXPRESSIONS

ACTION_UNITS = (1, 2, 4, 5, 6, 7, 9, 10, 12, 15, 16, 20, 23, 24, 25, 26, 27)
"""The action units the renderer animates, in the column order of every AU vector."""

AU_INDEX = {au: i for i, au in enumerate(ACTION_UNITS)}

AU_NAMES = {
    1: "inner brow raiser", 2: "outer brow raiser", 4: "brow lowerer", 5: "upper lid raiser", 6: "cheek raiser",
    7: "lid tightener", 9: "nose wrinkler", 10: "upper lip raiser", 12: "lip corner puller",
    15: "lip corner depressor", 16: "lower lip depressor", 20: "lip stretcher", 23: "lip tightener",
    24: "lip pressor", 25: "lips part", 26: "jaw drop", 27: "mouth stretch",
}
"""FACS names of the animated action units (Ekman, Friesen & Hager, 2002)."""

PROTOTYPES = {
    "anger": (4, 5, 7, 23, 24),
    "disgust": (9, 10, 15, 16, 25),
    "fear": (1, 2, 4, 5, 7, 20, 25, 26),
    "happiness": (6, 12, 25),
    "neutral": (),
    "sadness": (1, 4, 15),
    "surprise": (1, 2, 5, 25, 26, 27),
}


VARIANTS = {
    "anger": {"open-mouth": (4, 5, 7, 10, 23, 25, 26)},
}
"""Second displays of an expression (EMFACS lists several AU combinations per emotion), by name; faces that show
one record its name in the ``variant`` column, the others show ``PROTOTYPES``."""


def check_au(au, amplitude: float | None = None) -> int:
    """``au`` as an animated action unit, with an error naming it (and a bad amplitude) otherwise."""
    if au not in AU_INDEX:
        raise ValueError(f"unknown action unit {au!r}; SynthFER animates AU{', AU'.join(map(str, ACTION_UNITS))}")
    if amplitude is not None and not (np.isfinite(amplitude) and 0.0 <= amplitude <= 1.0):
        raise ValueError(f"AU{au} amplitude {amplitude!r} is outside [0, 1]")
    return int(au)


def au_vector(activations: dict) -> np.ndarray:
    """An AU vector (``ACTION_UNITS`` order) from ``{au: amplitude}``, e.g. ``{12: 1.0, 6: 0.8, 25: 0.7}``."""
    v = np.zeros(len(ACTION_UNITS), dtype=np.float32)
    for au, amp in activations.items():
        v[AU_INDEX[check_au(au, amp)]] = amp
    return v


def prototype_matrix() -> np.ndarray:
    """(7, n_AU) binary matrix: row k holds the AUs of expression k in canonical order."""
    m = np.zeros((len(EXPRESSIONS), len(ACTION_UNITS)), dtype=np.float32)
    for k, name in enumerate(EXPRESSIONS):
        for au in PROTOTYPES[name]:
            m[k, AU_INDEX[au]] = 1.0
    return m


def variant_vector(expression: str, variant: str) -> np.ndarray:
    """Binary AU vector (``ACTION_UNITS`` order) of a named second display, e.g. ``("anger", "open-mouth")``."""
    if variant not in VARIANTS.get(expression, {}):
        known = [f"{e}/{v}" for e, vs in VARIANTS.items() for v in vs]
        raise ValueError(f"unknown display variant {expression}/{variant}; SynthFER draws {', '.join(known)}")
    return au_vector({au: 1.0 for au in VARIANTS[expression][variant]})


# Display style: a multiplicative gain per (expression, AU) that differs between the two domains, so that the same
# label looks measurably different across them (the cross-dataset shift of InFER++ §III-D, Fig. 5).  synth-raf shows
# the textbook prototypes; synth-infer shows closed-lip, subtler smiles with more cheek, anger carried by the lips more
# than the brows (pressed lips more often; thin, tight lips under a higher upper lip when the mouth opens), fear and
# surprise with less jaw drop (fear kept legible by stronger lip stretch, AU20, brows raised and drawn together,
# AU1+2+4, and wide eyes, AU5), and disgust with a stronger nose wrinkle.  These are modelling
# choices of SynthFER, not claims about real populations.
DOMAIN_STYLE = {
    "synth-raf": {},
    "synth-infer": {
        ("happiness", 12): 0.85, ("happiness", 6): 1.2, ("happiness", 25): 0.6,
        ("anger", 4): 0.8, ("anger", 23): 1.4, ("anger", 24): 1.3, ("anger", 5): 0.5,
        ("anger", 10): 1.2,  # the open-mouth display (VARIANTS): a higher upper lip, with the tight lips above
        ("fear", 26): 0.7, ("fear", 20): 1.3, ("fear", 25): 1.2,  # less jaw, more lip stretch, and stronger ...
        ("fear", 1): 1.3, ("fear", 2): 1.3, ("fear", 4): 1.15, ("fear", 5): 1.4,  # ... brows and wider eyes
        ("surprise", 26): 0.75, ("surprise", 27): 0.4, ("surprise", 5): 1.25,
        ("disgust", 9): 1.4, ("disgust", 16): 0.7,
        ("sadness", 15): 1.3, ("sadness", 1): 0.8,
    },
}

ANGER_OPEN_SHARE = {"synth-raf": (0.25, 0.75), "synth-infer": (0.15, 0.55)}
"""Share of anger faces drawn with the open-mouth display (``VARIANTS``), per domain, as (share at intensity 0,
share at intensity 1), linear in between: shouting anger is the more intense display, and synth-infer carries anger
in pressed lips more often than synth-raf."""


REFERENCE = "synth-raf"
"""The domain every display divergence is measured from: synth-raf shows the textbook prototypes."""


def check_divergence(domain: str, divergence) -> float:
    """``divergence`` as a float for ``domain``, with an error naming what was expected: a finite number in
    [0, 4], and exactly 1 for the reference domain (whose display is the origin the knob moves away from)."""
    try:
        d = float(divergence)
    except (TypeError, ValueError):
        raise ValueError(f"divergence={divergence!r}: expected a number in [0, 4]") from None
    if not (np.isfinite(d) and 0.0 <= d <= 4.0):
        raise ValueError(f"divergence={divergence!r}: expected a number in [0, 4] (1 is the default display)")
    if domain == REFERENCE and d != 1.0:
        raise ValueError(f"divergence={divergence!r} on {REFERENCE!r}: the reference domain has one display; "
                         f"the divergence moves the other domain's display away from it (e.g. synth-infer)")
    return d


def domain_style(domain: str, divergence: float = 1.0) -> dict:
    """The display gains of ``domain`` at a display-rule ``divergence`` from :data:`REFERENCE`: each gain ``g`` of
    :data:`DOMAIN_STYLE` becomes ``g ** divergence``, so 0 is the reference's display, 1 the domain's own (exactly
    the table), 2 the same changes twice over (a gain of 0.5 becomes 0.25; activations stay clipped to [0, 1])."""
    d = check_divergence(domain, divergence)
    if domain not in DOMAIN_STYLE:
        raise ValueError(f"unknown SynthFER domain {domain!r}; expected one of {sorted(DOMAIN_STYLE)}")
    return {k: (g if d == 1.0 else float(g) ** d) for k, g in DOMAIN_STYLE[domain].items()}


def moved(reference, own, divergence: float):
    """``own`` moved ``divergence`` times its distance from ``reference``: ``own`` itself at 1 (exactly),
    ``reference`` at 0; elementwise over sequences."""
    if isinstance(own, (list, tuple)):
        return type(own)(moved(r, o, divergence) for r, o in zip(reference, own))
    return own if divergence == 1.0 else own + (divergence - 1.0) * (own - reference)


def anger_open_share(domain: str, divergence: float = 1.0) -> tuple:
    """(share at intensity 0, share at intensity 1) of open-mouth anger (:data:`ANGER_OPEN_SHARE`) at a display
    ``divergence`` from :data:`REFERENCE`, clipped to [0, 1]."""
    d = check_divergence(domain, divergence)
    lo, hi = moved(ANGER_OPEN_SHARE[REFERENCE], ANGER_OPEN_SHARE[domain], d)
    return (lo, hi) if d == 1.0 else (float(np.clip(lo, 0, 1)), float(np.clip(hi, 0, 1)))


def style_matrix(domain: str, style: dict | None = None, divergence: float = 1.0) -> np.ndarray:
    """(7, n_AU) gains applied to the prototype matrix for a domain at a display ``divergence``
    (:func:`domain_style`), or for an explicit ``style`` mapping ``{(expression, au): gain}``, with errors naming an
    unknown domain, expression, AU or a negative gain."""
    if style is None:
        style = domain_style(domain, divergence)
    g = np.ones((len(EXPRESSIONS), len(ACTION_UNITS)), dtype=np.float32)
    for (name, au), gain in style.items():
        if name not in EXPRESSIONS:
            raise ValueError(f"display style of {domain!r} names unknown expression {name!r}; "
                             f"expected one of {', '.join(EXPRESSIONS)}")
        check_au(au)
        if not (np.isfinite(gain) and gain >= 0):
            raise ValueError(f"display style of {domain!r}: gain {gain!r} for ({name!r}, AU{au}) must be >= 0")
        g[EXPRESSIONS.index(name), AU_INDEX[au]] = gain
    return g
