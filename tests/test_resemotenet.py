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


def fake_run(accuracy, learned=True, name="r"):
    check = {"informative": learned, "accuracy": accuracy, "majority share": 0.37,
             "reason": "" if learned else "predicts 1 class"}
    return SimpleNamespace(metrics={"accuracy": accuracy}, informative=check, dir=f"/runs/{name}")


def test_table3_puts_ours_on_the_row_of_its_dataset(ch):
    t = resemotenet.table3(ch, fake_run(0.5))
    assert t.loc["synth-raf (synthetic)", "measured here (%)"] == 50.0
    assert t["measured here (%)"].notna().sum() == 1
    assert (ch.report_dir / "tables" / "table3.json").exists()
    failed = resemotenet.table3(ch, fake_run(0.37, learned=False))
    assert failed.loc["synth-raf (synthetic)", "measured here (%)"] == "uninformative"


def test_table4_pairs_each_configuration_with_c1_by_seed(ch):
    c1 = [0.60, 0.64, 0.62]
    runs = {"resemotenet": [fake_run(a) for a in c1],
            "resemotenet_c3": [fake_run(a - 0.10 + e) for a, e in zip(c1, (0.0, 0.005, -0.005))],
            "resemotenet_c5": [fake_run(a + e) for a, e in zip(c1, (0.03, -0.04, 0.01))]}
    t = resemotenet.table4(ch, runs)
    assert t.loc["resemotenet_c3", "ours: − C1 (pts)"] == -10.0
    assert t.loc["resemotenet_c3", "beyond seed noise"] is True
    assert t.loc["resemotenet_c5", "beyond seed noise"] is False
    assert pd.isna(t.loc["resemotenet", "ours: − C1 (pts)"]) and pd.isna(t.loc["resemotenet_c2", "± se"])
    text = resemotenet.table4_text(t, 3)
    assert "C3** (removes CNN (64)): -10.0" in text and "the paper's direction" in text
    assert "C5** " in text and "within seed noise" in text and "Not trained in this profile: C2, C4, C6" in text
    empty = resemotenet.table4(ch, {})  # a profile that trains none: the paper's columns and our MACs only
    assert "ours: − C1 (pts)" not in empty and "MACs (M)" in empty
    assert "trains no configuration" in resemotenet.table4_text(empty, 3)
    assert "full trains C1-C6" in resemotenet.table4_line(empty)
    runs["resemotenet_c5"][1] = fake_run(0.37, learned=False)
    t = resemotenet.table4(ch, runs)
    assert t.loc["resemotenet_c5", "ours: − C1 (pts)"] == "uninformative"
    assert "C5**" not in resemotenet.table4_text(t, 3)


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


def test_long_cuts_and_stops_on_the_validation_loss():
    """long watches the validation loss (its slow starters sat at chance accuracy while their loss still fell);
    the other profiles keep validation accuracy, and long's settings make a valid training configuration."""
    from fernb.train import TrainConfig

    assert {p: resemotenet.PROTOCOL(p).monitor for p in PROFILES} == {
        "smoke": "val_acc", "quick": "val_acc", "long": "val_loss", "full": "val_acc"}
    cfg = TrainConfig(**{**resemotenet.options(resemotenet.PROTOCOL("long")), "profile": "long"})
    assert cfg.monitor == "val_loss" and cfg.val_share > 0 and cfg.early_stop_patience == 10
