"""Canonical label order shared by every dataset, model and figure in fernb.

Datasets publish their own label ids; the maps to this order live in ``data_manifests/``, never in code.
"""

EXPRESSIONS = ("anger", "disgust", "fear", "happiness", "neutral", "sadness", "surprise")
"""Canonical order, indices 0-6 (contempt is index 7 where a dataset has it)."""

EXPRESSIONS_8 = EXPRESSIONS + ("contempt",)

AGE_GROUPS = ("5-10", "11-19", "20-29", "30-59", "60+")
"""The five InFER++ age groups (InFER++ §III-E, Table 2b)."""

GENDERS = ("male", "female")
"""Gender presentation as InFER++ Table 2c labels it."""

NUM_CLASSES = len(EXPRESSIONS)


def category_key(value):
    """Sort key for group values as a reader expects them: age groups youngest first, numbers (skin tones) by
    value, ``none`` last, anything else alphabetically."""
    v = str(value)
    if v in AGE_GROUPS:
        return (0, AGE_GROUPS.index(v), "")
    if v.replace(".", "", 1).isdigit():
        return (1, float(v), "")
    return (3 if v == "none" else 2, 0, v)
