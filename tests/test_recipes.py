"""Recipes as data (fernb.papers.recipes): one column per profile, checked when a paper module is imported."""

import pytest

from fernb.papers.recipes import Recipe, recipes_frame
from fernb.profiles import PROFILES


def _columns(**over):
    cols = {p: dict(epochs=i + 1, seeds=1) for i, p in enumerate(PROFILES)}
    cols.update(over)
    return cols


def test_a_recipe_gives_its_profile_column_with_the_shared_settings():
    r = Recipe("t4", "Table 4", common=dict(models=["a", "b"]), **_columns())
    quick = r("quick")
    assert quick.epochs == PROFILES.index("quick") + 1 and quick.models == ["a", "b"]
    assert quick.seeds_from(5) == [5]
    with pytest.raises(AttributeError, match="no setting 'epoch'.*epochs"):
        quick.epoch
    with pytest.raises(ValueError, match="not a profile"):
        r("fast")
    frame = recipes_frame(r)
    assert list(frame.columns) == list(PROFILES) and frame.loc[("Table 4", "models"), "quick"] == "a, b"


def test_a_recipe_missing_a_profile_or_a_setting_fails_when_declared():
    cols = _columns()
    cols.pop("full")
    with pytest.raises(ValueError, match="no column for profile.*full"):
        Recipe("t", **cols)
    with pytest.raises(ValueError, match="same settings.*epochs"):
        Recipe("t", **_columns(smoke=dict(seeds=1)))
    with pytest.raises(ValueError, match="both in common and per profile"):
        Recipe("t", common=dict(epochs=3), **_columns())
    with pytest.raises(ValueError, match="'fast' is not a profile|fast is not a profile"):
        Recipe("t", fast=dict(epochs=1, seeds=1), **_columns())


def test_a_profile_column_holds_settings_only():
    r = Recipe("t4", "Table 4", common=dict(model="small_cnn"), **_columns())("smoke")
    assert r.recipe == "t4" and set(r) == {"model", "epochs", "seeds"}


def test_the_long_column_is_quicks_with_what_it_changes():
    cols = _columns()
    cols.pop("long")
    r = Recipe("t", **cols)
    assert r("long") == r("quick")
    r = Recipe("t", **{**cols, "long": dict(seeds=5)})
    assert r("long").seeds == 5 and r("long").epochs == r("quick").epochs
    assert list(r.frame().columns) == list(PROFILES)
    with pytest.raises(ValueError, match="long column may only change quick's settings; folds is not one"):
        Recipe("t", **{**cols, "long": dict(folds=10)})


def test_a_long_run_of_quicks_size_is_quicks_run():
    from fernb.train.config import TrainConfig, sized_as

    assert sized_as("synth-raf", "long") == "quick" and sized_as("synth-raf", "full") == "full"
    quick, long = TrainConfig(profile="quick"), TrainConfig(profile="long")
    assert quick.key() == long.key() != TrainConfig(profile="full").key()
