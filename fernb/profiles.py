"""Run profiles shared by every chapter (see DESIGN.md): ``smoke`` proves the code path in seconds, ``quick`` shows
the effect on a 2-core CPU in minutes, ``long`` answers on SynthFER and the CPU what quick cannot (whole tables, all
seeds, sweeps: up to two hours a chapter, run once in the background and recorded under ``results/``), ``full`` is
the paper's protocol on a GPU."""

PROFILES = ("smoke", "quick", "long", "full")
RECORDED = ("long", "full")
"""The profiles whose results are recorded under ``results/<chapter>/<profile>/`` and shown beside a live build."""
DERIVED = {"long": "quick"}
"""A profile whose recipe column, when a recipe gives none, is another's (``long`` trains what ``quick`` does, on the
same SynthFER size, unless the recipe says more)."""


def check_profile(profile) -> str:
    if profile not in PROFILES:
        raise ValueError(f"profile={profile!r} is not a profile; expected one of {', '.join(PROFILES)}")
    return profile
