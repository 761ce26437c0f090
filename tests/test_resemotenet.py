"""The ResEmoteNet paper module: its printed numbers, its recipes, Tables III and IV, and the leakage audit."""

from types import SimpleNamespace

import pandas as pd
import pytest

from fernb.papers import resemotenet
from fernb.papers.resemotenet import leakage
from fernb.profiles import PROFILES


@pytest.fixture()
def ch(tmp_path):
    import fernb.chapter

    return fernb.chapter.setup("smoke", "synth-raf", device="cpu", name="05_resemotenet", report=tmp_path / "report")


def test_printed_numbers_are_the_papers():
    assert resemotenet.TABLE_III["RAF-DB"] == resemotenet.TABLE_IV["resemotenet"][0] == 94.76
    assert resemotenet.TABLE_IV["resemotenet_c5"] == (75.39, 10.2)
    for p in PROFILES:  # every configuration a profile trains is a Table IV row, and full trains them all
        assert set(resemotenet.ABLATION(p).configs) <= set(resemotenet.TABLE_IV)
    assert resemotenet.ABLATION("full").configs == list(resemotenet.TABLE_IV)


def test_table3_puts_ours_on_the_row_of_its_dataset(ch):
    run = SimpleNamespace(metrics={"accuracy": 0.5})
    t = resemotenet.table3(ch, run)
    assert t.loc["synth-raf (synthetic)", "measured here (%)"] == 50.0
    assert t["measured here (%)"].notna().sum() == 1
    assert (ch.report_dir / "tables" / "table3.json").exists()


def test_leakage_audit_summary(ch, smoke_raf):
    audit = leakage.leakage_audit(ch, smoke_raf, dict(model="tiny_cnn", img_size=32, batch_size=32, epochs=1,
                                                      max_batches_per_epoch=2))
    s = audit.summary()
    assert list(s.index) == ["clean", "leaky"] and s.loc["clean", "train images"] == s.loc["leaky", "train images"]
    run = audit.runs["clean"]
    assert run.metrics["n_val"] == s.loc["clean", "val images"]  # the trainer used the protocol's own validation split
    paired = audit.paired()
    assert paired["images"].sum() > 0 and set(paired.index) <= {False, True} and 0 < audit.detection().iloc[0]["ROC AUC"] <= 1
    noise = audit.by_label_noise()
    assert noise[("images", "clean")].sum() == s.loc["clean", "test images"]
    assert leakage.checks(audit).splitlines()[0] == "equal training sets: True"
    assert (ch.report_dir / "runs.jsonl").exists()  # the audit's runs reach the report
    with pytest.raises(ValueError, match="leave 'dataset' out"):
        leakage.leakage_audit(ch, smoke_raf, dict(dataset="synth-raf"))


def test_audits_over_seeds_report_their_spread(ch, smoke_raf):
    train = dict(model="tiny_cnn", img_size=32, batch_size=32, epochs=1, max_batches_per_epoch=2)
    audits = leakage.leakage_audits(ch, smoke_raf, train, seeds=(0, 1))
    assert [a.runs["clean"].config.seed for a in audits] == [0, 1]
    table = leakage.spread(audits)
    assert list(table.index) == [0, 1, "mean", "sd"]
    col = "test accuracy, leaky − clean"
    assert table.loc["mean", col] == pytest.approx((table.loc[0, col] + table.loc[1, col]) / 2)
    assert audits[0].datasets["clean"].root != audits[1].datasets["clean"].root  # each seed its own split
    shared = leakage.leakage_audits(ch, smoke_raf, train, seeds=(0, 1), protocol_seed=0)
    assert shared[0].datasets["clean"].root == shared[1].datasets["clean"].root  # one written pair, two trainings
    assert shared[0].runs["clean"].dir != shared[1].runs["clean"].dir
    with pytest.raises(ValueError, match="at least one seed"):
        leakage.leakage_audits(ch, smoke_raf, train, seeds=())


def test_reading_follows_the_measurements():
    def verdict(test_beyond, wrong_beyond, seeds=3):
        return pd.DataFrame({"mean": [0.01, 0.0, 0.2], "standard error": [0.01, 0.01, 0.02], "seeds": seeds,
                             "beyond noise": [test_beyond, False, wrong_beyond]},
                            index=["test accuracy, leaky − clean", "best val accuracy, leaky − clean",
                                   leakage.WRONG_LABEL])

    quiet = leakage.reading(verdict(False, True))
    assert "within what two training runs differ" in quiet and "do pay" in quiet and "+20.0" in quiet
    loud = leakage.reading(verdict(True, False))
    assert "gap in test accuracy is clearly beyond" in loud and "best val accuracy is within it" in loud
    assert "within the run-to-run variation" in loud
    assert "One seed" in leakage.reading(verdict(True, True, seeds=1))
    assert leakage.seeds_text(verdict(True, True, seeds=1)) == ""


def test_network_and_recipe_as_the_authors_released_them():
    """approach/ResEmoteNet.py: 80,238,599 parameters, dropout 0.2 after the first two conv stages and 0.5 after each
    hidden layer of the classifier; train_files/ResEmoteNet_train.py: SGD momentum 0.9, weight decay 1e-4."""
    import torch
    from torch import nn

    from fernb.models import create

    with torch.device("meta"):
        net = create("resemotenet")
    assert sum(p.numel() for p in net.parameters()) == 80_238_599
    cnn = list(net.cnn)
    assert [m.p for m in cnn if isinstance(m, nn.Dropout)] == [0.2, 0.2]
    assert isinstance(cnn[-1], nn.MaxPool2d)  # no dropout between the last stage and the SE block
    assert [m.p for m in net.head if isinstance(m, nn.Dropout)] == [0.5, 0.5, 0.5]
    for p in PROFILES:
        r = resemotenet.PROTOCOL(p)
        assert (r.optimizer, r.momentum, r.weight_decay) == ("sgd", 0.9, 1e-4)
    assert resemotenet.PROTOCOL("full").model_kwargs == {}  # the released dropout; quick's narrow net has lighter
    quick = create("resemotenet", **resemotenet.PROTOCOL("quick").model_kwargs)
    assert [m.p for m in quick.modules() if isinstance(m, nn.Dropout)] == [0.0, 0.0, 0.2, 0.2, 0.2]
