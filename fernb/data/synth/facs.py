"""FACS action-unit prototypes of the seven basic expressions and their per-domain display style.

Prototypes follow the EMFACS-style codes the foundation issue prescribes (Ekman & Friesen; the same AU sets
InFER++ §I and ResEmoteNet §I describe informally):

======== =====================
anger    AU4+5+7+23
disgust  AU9+15+16
fear     AU1+2+4+5+7+20+26
happy    AU6+12
neutral  (none)
sadness  AU1+4+15
surprise AU1+2+5+26
======== =====================
"""

from __future__ import annotations

import numpy as np

from fernb.labels import EXPRESSIONS

ACTION_UNITS = (1, 2, 4, 5, 6, 7, 9, 12, 15, 16, 20, 23, 26)
"""The action units the renderer animates, in the column order of every AU vector."""

AU_INDEX = {au: i for i, au in enumerate(ACTION_UNITS)}

PROTOTYPES = {
    "anger": (4, 5, 7, 23),
    "disgust": (9, 15, 16),
    "fear": (1, 2, 4, 5, 7, 20, 26),
    "happiness": (6, 12),
    "neutral": (),
    "sadness": (1, 4, 15),
    "surprise": (1, 2, 5, 26),
}


def prototype_matrix() -> np.ndarray:
    """(7, n_AU) binary matrix: row k holds the AUs of expression k in canonical order."""
    m = np.zeros((len(EXPRESSIONS), len(ACTION_UNITS)), dtype=np.float32)
    for k, name in enumerate(EXPRESSIONS):
        for au in PROTOTYPES[name]:
            m[k, AU_INDEX[au]] = 1.0
    return m


# Display style: a multiplicative gain per (expression, AU) that differs between the two domains, so that the same
# label looks measurably different across them (the cross-dataset shift of InFER++ §III-D, Fig. 5).  synth-raf shows
# the textbook prototypes; synth-infer shows subtler smiles, anger carried by the lips more than the brows, fear and
# surprise with less jaw drop, and disgust with a stronger nose wrinkle.  These are modelling choices of SynthFER, not
# claims about real populations.
DOMAIN_STYLE = {
    "synth-raf": {},
    "synth-infer": {
        ("happiness", 12): 0.7, ("happiness", 6): 1.2,
        ("anger", 4): 0.6, ("anger", 23): 1.4, ("anger", 5): 0.5,
        ("fear", 26): 0.55, ("fear", 20): 1.3,
        ("surprise", 26): 0.6, ("surprise", 5): 1.25,
        ("disgust", 9): 1.4, ("disgust", 16): 0.7,
        ("sadness", 15): 1.3, ("sadness", 1): 0.8,
    },
}


def style_matrix(domain: str) -> np.ndarray:
    """(7, n_AU) gains applied to the prototype matrix for a domain."""
    if domain not in DOMAIN_STYLE:
        raise ValueError(f"unknown SynthFER domain {domain!r}; expected one of {sorted(DOMAIN_STYLE)}")
    g = np.ones((len(EXPRESSIONS), len(ACTION_UNITS)), dtype=np.float32)
    for (name, au), gain in DOMAIN_STYLE[domain].items():
        g[EXPRESSIONS.index(name), AU_INDEX[au]] = gain
    return g
