"""What each profile trains for each experiment, as data (DESIGN.md, "Profiles").

A :class:`Recipe` is one experiment's table: one column per profile (``smoke``, ``quick``, ``full``, ...), one row
per setting (models, image size, epochs, seeds, ...). A paper module declares its recipes once::

    TABLE4 = Recipe("table4", "Table 4: accuracy against cost",
                    common=dict(models=["litexpressionnet", "efficientface"]),
                    smoke=dict(img_size=32, epochs=1, seeds=1),
                    quick=dict(img_size=64, epochs=6, seeds=3),
                    full=dict(img_size=224, epochs=50, seeds=1))

and a driver reads its profile's column with ``TABLE4(ch.profile)`` (a :class:`Settings`: ``r.epochs``,
``r.seeds``). Adding a profile is adding one keyword (one column) to each recipe; a recipe that lacks a profile's
column, or whose columns name different settings, fails when the module is imported, naming the recipe and the
setting. The ``long`` column (the recorded CPU profile) is quick's with what it changes: ``long=dict(seeds=5)``
trains quick's experiment over five seeds; a recipe without it trains quick's settings in long. :func:`recipes_frame` shows a paper's recipes as one table on its page.
"""

from __future__ import annotations

from fernb.profiles import DERIVED, PROFILES, check_profile


class Settings(dict):
    """One profile's column of a recipe: a dict of settings only (it can go to ``ch.fit`` as it is) whose keys also
    read as attributes (``r.epochs``); ``r.recipe`` names the recipe it came from."""

    def __init__(self, recipe: str, settings: dict):
        super().__init__(settings)
        self.recipe = recipe

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"recipe {self.__dict__.get('recipe', '?')!r} has no setting {name!r}; it has: "
                                 f"{', '.join(self)}") from None

    def seeds_from(self, seed: int) -> list[int]:
        """``seeds`` (a count) as the seed list starting at the chapter's ``seed``."""
        return [seed + k for k in range(int(self["seeds"]))]


class Recipe:
    """One experiment's settings per profile; ``common`` holds the settings every profile shares."""

    def __init__(self, name: str, title: str = "", common: dict | None = None, **columns):
        self.name, self.title, self.common = name, title or name, dict(common or {})
        unknown = [p for p in columns if p not in PROFILES]
        if unknown:
            raise ValueError(f"recipe {name!r}: {', '.join(unknown)} is not a profile; profiles are "
                             f"{', '.join(PROFILES)}")
        for p, base in DERIVED.items():  # long: quick's column with the settings it changes
            if base in columns:
                extra = sorted(set(columns.get(p, {})) - set(columns[base]))
                if extra:
                    raise ValueError(f"recipe {name!r}: the {p} column may only change {base}'s settings; "
                                     f"{', '.join(extra)} is not one")
                columns[p] = {**columns[base], **columns.get(p, {})}
        missing = [p for p in PROFILES if p not in columns]
        if missing:
            raise ValueError(f"recipe {name!r} has no column for profile(s) {', '.join(missing)}")
        fields = [set(columns[p]) for p in PROFILES]
        every, some = set.intersection(*fields), set.union(*fields)
        if some - every:
            lacking = {p: sorted(some - set(columns[p])) for p in PROFILES if some - set(columns[p])}
            raise ValueError(f"recipe {name!r}: every profile must give the same settings; missing {lacking}")
        clash = sorted(every & set(self.common))
        if clash:
            raise ValueError(f"recipe {name!r}: {', '.join(clash)} given both in common and per profile")
        self.columns = {p: dict(columns[p]) for p in PROFILES}

    def __call__(self, profile: str) -> Settings:
        check_profile(profile)
        return Settings(self.name, {**self.common, **self.columns[profile]})

    def frame(self):
        """Settings × profiles as a DataFrame (shared settings repeated in every column)."""
        import pandas as pd

        rows = {}
        for p in PROFILES:
            for k, v in {**self.common, **self.columns[p]}.items():
                rows.setdefault(k, {})[p] = _shown(v)
        return pd.DataFrame.from_dict(rows, orient="index")[list(PROFILES)]

    def __repr__(self):
        return f"Recipe({self.name!r}, profiles={list(self.columns)})"


def _shown(value) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value)) if value else "—"
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items()) if value else "—"
    return "—" if value is None else str(value)


def recipes_frame(*recipes: Recipe):
    """Several recipes as one table (index: experiment, setting; one column per profile) for a chapter's page."""
    import pandas as pd

    frames = {r.title: r.frame() for r in recipes}
    return pd.concat(frames, names=["experiment", "setting"])
