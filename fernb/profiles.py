"""Run profiles shared by every chapter (see DESIGN.md): ``smoke`` proves the code path in seconds, ``quick`` shows
the effect on a 2-core CPU in minutes, ``full`` is the paper's protocol on a GPU."""

PROFILES = ("smoke", "quick", "full")


def check_profile(profile) -> str:
    if profile not in PROFILES:
        raise ValueError(f"profile={profile!r} is not a profile; expected one of {', '.join(PROFILES)}")
    return profile
