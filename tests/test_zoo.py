"""The model-zoo chapter's drivers (fernb.papers.zoo): recipes that fit together, and text from measurements."""

import pandas as pd

from fernb.models import entry
from fernb.papers import zoo
from fernb.profiles import PROFILES


def test_recipes_fit_together():
    for p in PROFILES:
        assert set(zoo.DEPLOY(p).models) <= set(zoo.TRAINED(p).models)  # deployment needs trained runs
        for name in zoo.TRAINED(p).models + zoo.TRAINED(p).elsewhere + zoo.LATENCY(p).models:
            entry(name)  # every name is a registered model
    names = zoo._names(zoo.COMPLEXITY("smoke").models)
    assert "btfer_lenet5" in names and all(entry(n).faithful for n in names if n not in ("btfer_vgg16", "btfer_lenet5"))
    assert zoo._names(zoo.COMPLEXITY("quick").models) is None  # quick and full measure every model


def test_table4_shares_the_zoo_runs_where_its_recipe_says():
    from fernb.papers.infer import benchmark

    for p in PROFILES:
        r = benchmark.TABLE4_RECIPE(p)
        if r.shared == "zoo":  # chapter 07 reads chapter 04's runs: every network must be one zoo trains
            models = {benchmark.METHODS[m].model for m in r.methods}
            assert models <= set(zoo.TRAINED(p).models + zoo.TRAINED(p).elsewhere), p
    assert "shared" not in benchmark.train_options(benchmark.TABLE4_RECIPE("quick"))
    assert "reads the model-zoo chapter's runs" in benchmark.table4_protocol("quick")
    assert "efficientface trains here" in benchmark.table4_protocol("quick")
    assert "own objective" in benchmark.table4_protocol("full")


def test_a_model_outside_the_zoo_recipe_is_refused():
    import pytest

    class Ch:
        profile = "quick"

    with pytest.raises(ValueError, match=r"zoo.TRAINED\['quick'\] trains .*not 'scn'"):
        zoo.fit_trained(Ch(), "scn")


def test_faithful_check_reads_the_ratios():
    table = pd.DataFrame([{"model": "a", "faithful": True, "params_ratio": 1.05, "macs_ratio": float("nan"),
                           "source": "X"},
                          {"model": "b", "faithful": True, "params_ratio": 1.0, "macs_ratio": 1.2, "source": "Y"},
                          {"model": "c", "faithful": False, "params_ratio": 3.0, "macs_ratio": 3.0, "source": "Z"}])
    lines = zoo.faithful_check(table).splitlines()
    assert len(lines) == 2 and lines[0].endswith("(within ±10%: True)") and "MACs" not in lines[0]
    assert "MACs ratio 1.20" in lines[1] and lines[1].endswith("(within ±10%: False)")


def test_trained_reading_follows_the_losses():
    t = pd.DataFrame({"last_train_loss": [0.5, 1.6, 1.7]}, index=["small_cnn", "lfer_ldl", "efficientface"])
    assert "more slowly" in zoo.trained_reading(t)
    t.loc["lfer_ldl", "last_train_loss"] = 0.4
    assert "not all of them lag" in zoo.trained_reading(t)
    assert zoo.trained_reading(t.drop(index="small_cnn")) == ""


def test_the_size_table_shows_what_is_off_and_folds_the_rest():
    from fernb.papers import zoo

    from fernb.eval.complexity import complexity_table

    table = complexity_table(["btfer_vggnet", "btfer_resnet50", "lfer_ldl", "adcorre_resnet50"])
    shown, rest = zoo.complexity_split(table)
    assert len(shown) + len(rest) == len(table)
    models = set(shown.index.get_level_values("model"))
    assert "btfer_vggnet" in models  # its ratio is far from 1
    assert "lfer_ldl" in models  # held to its paper
    assert "btfer_resnet50" not in models and "adcorre_resnet50" not in models  # within 10 %; no paper figure
    assert list(shown.columns) == list(zoo.COMPARED.values())
