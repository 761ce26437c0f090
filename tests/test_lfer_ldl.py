"""fernb.papers.lfer_ldl: LFER-LDL's label distributions against SynthFER's true blends, its paper tables, its
recipes, the verdicts in words and bad input."""

import numpy as np
import pandas as pd
import pytest

from fernb.papers import lfer_ldl as ldl
from fernb.papers.lfer_ldl import recipes
from fernb.profiles import PROFILES
from fernb.train.losses import Combo, load_teacher


def _records():
    # four faces: two pure, two blends (anger + disgust at 0.4, happiness + surprise at 0.2)
    return pd.DataFrame({"label": [0, 3, 0, 3], "true_label": [0, 3, 0, 3], "blend_label": [-1, -1, 1, 6],
                         "blend_weight": [0.0, 0.0, 0.4, 0.2], "clarity": [0.9, 0.8, 0.5, 0.6]})


def test_true_blend_distributions_put_the_weight_on_the_partner():
    d = ldl.true_blend_distributions(_records())
    assert np.allclose(d.sum(1), 1)
    assert d[0, 0] == 1 and d[2, 0] == pytest.approx(0.6) and d[2, 1] == pytest.approx(0.4)
    assert d[3, 3] == pytest.approx(0.8) and d[3, 6] == pytest.approx(0.2)


def test_true_blends_need_synthfer_columns():
    with pytest.raises(ValueError, match="blend_label"):
        ldl.true_blend_distributions(pd.DataFrame({"label": [0], "true_label": [0]}))


def test_report_scores_the_truth_perfectly_and_smoothing_worse():
    rec = _records()
    truth = ldl.true_blend_distributions(rec)
    rows = np.arange(4)
    rep = ldl.distribution_report({"truth": truth, "smooth": ldl.smoothed_labels(rec["label"], 7, 0.1)}, rec, rows)
    assert rep.loc["truth", "KL(true || d), all"] == pytest.approx(0, abs=1e-6)
    assert rep.loc["smooth", "KL(true || d), blends"] > 0.1
    assert rep.loc["truth", "2nd class = partner"] == 1.0
    assert rep.loc["smooth", "2nd class = partner"] == 0.0  # a tie is not a second class
    assert rep.loc["truth", "rho(entropy, clarity)"] < 0  # blends are both less clear and more uncertain


def test_report_rejects_distributions_of_the_wrong_shape():
    with pytest.raises(ValueError, match="'teacher' have shape"):
        ldl.distribution_report({"teacher": np.full((3, 7), 1 / 7)}, _records(), np.arange(3))


def test_paired_gap_has_the_sign_of_the_better_source():
    rec = _records()
    truth = ldl.true_blend_distributions(rec)
    g = ldl.paired_gap(truth, ldl.smoothed_labels(rec["label"], 7, 0.1), np.full((4, 7), 1 / 7), np.arange(4))
    assert g["mean"] < 0 and g["ci_low"] <= g["mean"] <= g["ci_high"] and g["images"] == 4


def test_label_conditional_is_the_mean_truth_of_its_label():
    rec = _records()
    truth = ldl.true_blend_distributions(rec)
    d = ldl.label_conditional(truth, rec["label"].to_numpy(), np.arange(4), eps=0)
    assert np.allclose(d[0], (truth[0] + truth[2]) / 2) and np.allclose(d[0], d[2])


@pytest.mark.parametrize("bad", [-0.1, 1.5, "0.2", True, []])
def test_balance_coefficients_outside_zero_one_are_refused(bad):
    with pytest.raises(ValueError, match="beta"):
        ldl.check_coefficients(bad if isinstance(bad, list) else [0.2, bad])


def test_combo_loss_refuses_alpha_outside_zero_one():
    with pytest.raises(ValueError, match="alpha"):
        Combo(alpha=1.2)


def test_teacher_file_must_match_the_dataset(tmp_path):
    good = ldl.save_distributions(np.full((5, 7), 1 / 7), tmp_path / "t.npy")
    assert load_teacher(good, 5, 7).shape == (5, 7)
    with pytest.raises(ValueError, match=r"shape \(5, 7\); expected \(6, 7\)"):
        load_teacher(good, 6, 7)  # rows
    with pytest.raises(ValueError, match=r"expected \(5, 8\)"):
        load_teacher(good, 5, 8)  # classes
    bad = np.full((5, 7), 1 / 7)
    bad[3, 0] = 0.5
    np.save(tmp_path / "bad.npy", bad)
    with pytest.raises(ValueError, match="row 3 is not a probability distribution"):
        load_teacher(tmp_path / "bad.npy", 5, 7)


def test_paper_tables_follow_the_text():
    t4 = ldl.TABLE_4["accuracy (%)"]
    assert t4.iloc[-1] - t4.iloc[0] == pytest.approx(5.13)  # §2.4.4: +5.13 over the baseline
    assert ldl.TABLE_1.set_index("method").loc["gACNN", "accuracy (%)"] == pytest.approx(85.07)
    assert ldl.PEAKS["AffectNet-7"] == (0.6, 62.05)
    p = ldl.paper_protocol("affectnet-8")
    assert (p["batch_size"], p["lr_step_size"], p["sampler"]) == (64, 10, "balanced")
    assert ldl.paper_protocol("rafdb")["batch_size"] == 32


def test_ablation_and_sweep_tables_without_runs():
    t = ldl.ablation_table({}, "synth-raf")
    assert list(t.index) == list(ldl.TABLE_4.index)
    assert t["ours acc. (synth-raf, %)"].isna().all()
    assert t.loc["+ PDWRes", "ours FLOPs (M)"] > t.loc["ShuffleNetV2 baseline", "ours FLOPs (M)"]

    class R:
        def __init__(self, a):
            self.metrics = {"accuracy": a}

    s = ldl.sweep_table({0.2: [R(0.5), R(0.52)], 0.6: [R(0.4)]})
    v = ldl.sweep_verdict(s)
    assert v["best beta"] == 0.2 and v["beyond noise"] is True
    with pytest.raises(ValueError, match="paper_dataset"):
        ldl.comparison_table("FER2013", None, "synth-raf")


def test_teacher_vs_truth_reports_both_splits_and_reads_as_words():
    rec = pd.concat([_records()] * 3, ignore_index=True)
    truth = ldl.true_blend_distributions(rec)
    teacher = 0.9 * truth + 0.1 / 7
    report, gaps = ldl.teacher_vs_truth([teacher], rec, np.arange(8), np.arange(8, 12), [0])
    assert set(report.index.get_level_values("split")) == {"train", "test"}
    assert gaps.loc[(0, "test", "blends", ldl.SMOOTHING), "mean"] < 0  # the near-truth teacher wins
    text = ldl.truth_verdict(report, gaps, 0, "synth-raf", "smoke")
    assert "closer to the truth" in text and "SynthFER" in text


def test_examples_without_true_blends_fall_back_to_teacher_entropy():
    rec = pd.DataFrame({"label": [0, 1, 2]})
    teacher = np.array([[1.0, 0, 0, 0, 0, 0, 0], [1 / 7] * 7, [0.5, 0.5, 0, 0, 0, 0, 0]])
    assert not ldl.has_true_blends(rec)
    assert list(ldl.ambiguous_examples(teacher, rec, np.arange(3), k=2)) == [1, 2]
    fig = ldl.distribution_figure([1], teacher, None, rec, [f"c{i}" for i in range(7)])
    assert len(fig.data) == 1


def test_truth_verdict_gives_the_spread_over_teachers():
    rec = pd.concat([_records()] * 3, ignore_index=True)
    truth = ldl.true_blend_distributions(rec)
    teachers = [0.9 * truth + 0.1 / 7, 0.8 * truth + 0.2 / 7]
    report, gaps = ldl.teacher_vs_truth(teachers, rec, np.arange(8), np.arange(8, 12), [0, 1])
    assert "Over 2 teachers" in ldl.truth_verdict(report, gaps, 0, "synth-raf", "quick")


def test_recipes_give_every_profile_a_student_and_a_teacher():
    for p in PROFILES:
        student = recipes.student_options(p, "synth-raf")
        assert student["momentum"] == 0.9 and student["weight_decay"] == 1e-4  # §2.3 kept where not shrunk
        assert "seeds" not in recipes.teacher_options(p, "synth-raf")  # only training options reach the trainer
    assert recipes.student_options("full", "affectnet-7") == ldl.paper_protocol("affectnet-7")
    assert recipes.teacher_options("full", "rafdb")["model"] == "btfer_resnet50"
    quick = recipes.student_options("quick", "synth-raf")
    assert (quick["img_size"], quick["epochs"], quick["batch_size"], quick["scheduler"]) == (32, 4, 64, "cosine")
    assert (quick["model"], quick["optimizer"]) == ("small_cnn", "adam")  # the stand-in that learns on every seed
    assert recipes.stand_in("quick") == "small_cnn" and recipes.stand_in("full") is None
    assert recipes.student_options("full", "rafdb")["model"] == "lfer_ldl"
    assert "memory_format" not in quick  # None: the trainer measures
    for name in ("label smoothing", "true blend"):  # both controls, paired by seed with the LDL row
        assert name in ldl.CONTROLS("quick").targets and ldl.CONTROLS("quick").seeds == ldl.SWEEP("quick").seeds >= 3
    assert "max_batches_per_epoch" not in quick  # None keeps the trainer's default
    assert ldl.peak_beta("affectnet-8") == 0.6 and ldl.peak_beta("synth-raf") == 0.2
    for p in PROFILES:  # the ablation's LDL row is the sweep's run at the peak
        assert ldl.peak_beta("synth-raf") in ldl.SWEEP(p).betas and ldl.ABLATION(p).seeds == ldl.SWEEP(p).seeds


def test_a_stand_in_student_cannot_train_the_architecture_rows(monkeypatch):
    monkeypatch.setitem(recipes.ABLATION.columns["quick"], "rows", list(ldl.TABLE_4.index))
    with pytest.raises(ValueError, match=r"ABLATION\['quick'\].rows: the architecture rows .* stand-in 'small_cnn'"):
        recipes._check()


def test_a_stand_in_student_is_named_wherever_its_number_is_shown():
    stand, own = [_Run(0.8, 0, model="small_cnn")], [_Run(0.8, 0)]
    assert ldl.network(stand) == "small_cnn stand-in at 32 px" and ldl.network(own) == "LFER-LDL's network"
    assert ldl.table_headline("synth-raf", stand)[1].endswith("small_cnn stand-in at 32 px")
    table = ldl.comparison_tables("synth-raf", "synth-raf, SynthFER", stand)
    last = next(iter(table.values())).iloc[-1]
    assert last.name == "small_cnn + LDL (stand-in)" and "not LFER-LDL's network" in last["source"]
    t4 = ldl.ablation_table({"+ PDWRes": stand, "+ LDL (LFER-LDL)": stand}, "synth-raf")
    assert t4.loc["+ LDL (LFER-LDL)", "ours network"] == "small_cnn stand-in at 32 px"


class _Run:
    def __init__(self, acc, seed=0, learned=True, model="lfer_ldl"):
        self.metrics, self.history = {"accuracy": acc}, [{"epoch": 1, "val_acc": 0.3}, {"epoch": 2, "val_acc": 0.4}]
        self.config = type("C", (), {"seed": seed, "model": model, "img_size": 32})()
        self.informative = {"informative": learned, "accuracy": acc, "majority share": 0.37,
                            "reason": "" if learned else "predicts 1 class"}


def test_ablation_words_follow_the_measurement():
    ablated = {"+ PDWRes": [_Run(0.30, 0), _Run(0.32, 1)], "+ LDL (LFER-LDL)": [_Run(0.40, 0), _Run(0.44, 1)]}
    t4 = ldl.ablation_table(ablated, "synth-raf")
    assert ldl.steps_text(t4) == "LDL step: +11.00"
    assert ldl.steps_text(t4, ablated) == "LDL step on LFER-LDL's network: +11.00"
    gain = ldl.ldl_gain(ablated, "synth-raf")
    assert list(gain.columns) == ["seed 0", "seed 1"] and gain.loc["LDL gain (points)", "seed 1"] == pytest.approx(12)
    assert "+11.0 points on average over 2 seed(s)" in ldl.gain_words(gain) and "+3.77" in ldl.gain_words(gain)
    text = ldl.ldl_step_summary(t4, "quick")
    assert "+11.00 points" in text and "the only step" in text and "+3.77" in text
    assert "measures no LDL step" in ldl.ldl_step_summary(ldl.ablation_table({}, "synth-raf"), "smoke")
    assert ldl.table_headline("synth-raf", ablated["+ LDL (LFER-LDL)"]) == (
        "lferldl-t1", "42.00 % with LDL at β = 0.2, mean of 2 seed(s), LFER-LDL's network")
    assert ldl.curves_headline("affectnet-7", _Run(0.5)) == (
        "lferldl-f9", "curves over 2 epochs; test 50.0 %, LFER-LDL's network")


def test_sweep_and_target_words():
    s = ldl.sweep_table({0.2: [_Run(0.5), _Run(0.52)], 0.6: [_Run(0.4)]})
    assert ldl.sweep_headline(s, "synth-raf") == ("lferldl-f6", "best 51.00 % at β = 0.2 of 2 values; beyond seed noise")
    assert "**the curve is beyond the noise**" in ldl.sweep_words(s, "synth-raf", True)
    assert "skips" in ldl.targets_words({"teacher": [_Run(0.5)]}, pd.DataFrame(), "smoke")


def _controls(teacher, smoothing, blend, none=(0.40, 0.41, 0.39)):
    return {name: [_Run(a, seed) for seed, a in enumerate(accs)]
            for name, accs in (("none (combo loss only)", none), ("teacher", teacher),
                               ("label smoothing", smoothing), ("true blend", blend))}


def test_paired_gaps_pair_by_seed_and_the_verdict_follows_them():
    same = _controls((0.50, 0.52, 0.48), (0.51, 0.50, 0.49), (0.50, 0.53, 0.47))
    gaps = ldl.paired_gaps(same)
    assert list(gaps.index) == ["seed 0", "seed 1", "seed 2"] and len(gaps.columns) == len(ldl.CONTROL_PAIRS)
    assert gaps.loc["seed 1", "teacher − label smoothing"] == pytest.approx(2.0)
    v = ldl.target_verdicts(gaps)
    assert v.loc["teacher − none (combo loss only)", "beyond noise"]  # +10 points on every seed
    assert not v.loc["teacher − label smoothing", "beyond noise"]
    text = ldl.targets_words(same, gaps, "quick")
    assert "**any dense target**" in text and "within the noise" in text
    better = _controls((0.55, 0.56, 0.54), (0.45, 0.47, 0.46), (0.50, 0.51, 0.52))
    assert "**the teacher's ambiguity**" in ldl.targets_words(better, ldl.paired_gaps(better), "quick")
    part = {k: v for k, v in same.items() if k != "true blend"}
    part["teacher"] = part["teacher"][:2]  # seed 2 trained no teacher: pairs only on seeds 0 and 1
    pg = ldl.paired_gaps(part)
    assert pd.isna(pg.loc["seed 2", "teacher − label smoothing"]) and "teacher − true blend" not in pg
    assert ldl.target_verdicts(pg).loc["teacher − label smoothing", "seeds"] == 2
    failed = dict(same, **{"label smoothing": [_Run(0.37, 0, learned=False)]})
    text = ldl.targets_words(failed, ldl.paired_gaps(failed), "quick")
    assert "learned nothing" in text and "Against label smoothing" not in text
    # a student that failed on one seed silences its own comparisons only: teacher vs smoothing still decided
    blend_failed = dict(same, **{"true blend": [_Run(0.5, 0), _Run(0.37, 1, learned=False), _Run(0.5, 2)]})
    text = ldl.targets_words(blend_failed, ldl.paired_gaps(blend_failed), "quick")
    assert "true blend student(s) learned nothing" in text and "Against the true blends" not in text
    assert "Against label smoothing" in text and "**any dense target**" in text


def test_words_refuse_rows_that_learned_nothing():
    ablated = {"+ PDWRes": [_Run(0.36, 0, learned=False)], "+ LDL (LFER-LDL)": [_Run(0.46, 0)]}
    t4 = ldl.ablation_table(ablated, "synth-raf")
    assert pd.isna(t4.loc["+ LDL (LFER-LDL)", "ours step"])  # a step from a network that learned nothing
    from fernb.chapter import guard_table

    class R(_Run):
        dir = "run"

    runs = {"+ PDWRes": [R(0.36, 0, learned=False)], "+ LDL (LFER-LDL)": [R(0.46, 0)]}
    shown, _ = guard_table(t4, runs, {}, ["ours acc. (synth-raf, %)", "ours sd", "ours step"])
    assert "learned nothing" in ldl.ldl_step_summary(shown, "quick")
    assert ldl.steps_text(shown) == "—"
    gain, _ = guard_table(ldl.ldl_gain(runs, "synth-raf"), {"LDL gain (points)": sum(runs.values(), [])}, {})
    assert "states no gain" in ldl.gain_words(gain)
    sweep = ldl.sweep_table({0.2: runs["+ PDWRes"], 0.6: runs["+ LDL (LFER-LDL)"]})
    shown_sweep, _ = guard_table(sweep, {0.2: runs["+ PDWRes"], 0.6: runs["+ LDL (LFER-LDL)"]}, {},
                                 ["accuracy (%)", "sd"])
    assert "learned nothing" in ldl.sweep_words(shown_sweep, "synth-raf", True)
    words = ldl.learned_words({"a": runs["+ PDWRes"], "b": runs["+ LDL (LFER-LDL)"] * 2}, "quick")
    assert "of the 2 students (a)" in words and "-1.0 points" in words and "a learned nothing" in words
    assert "every comparison" in ldl.learned_words({"b": [_Run(0.46)]}, "quick")


def test_curve_and_architecture_words_follow_the_runs():
    assert "only the start" in ldl.curves_words(_Run(0.5), "synth-raf", "quick")
    assert "40.0 % after the last" in ldl.curves_words(_Run(0.5), "synth-raf", "quick")
    noisy = ldl.sweep_table({0.2: [_Run(0.40), _Run(0.50)], 0.6: [_Run(0.4)]})
    assert "could not resolve" in ldl.architecture_words(noisy, "quick")
    tight = ldl.sweep_table({0.2: [_Run(0.500), _Run(0.501)], 0.6: [_Run(0.4)]})
    assert "could resolve" in ldl.architecture_words(tight, "full")


def test_summary_words_come_from_the_truth_report():
    rec = pd.concat([_records()] * 3, ignore_index=True)
    truth = ldl.true_blend_distributions(rec)
    report, gaps = ldl.teacher_vs_truth([0.9 * truth + 0.1 / 7], rec, np.arange(8), np.arange(8, 12), [0])
    text = ldl.truth_summary((report, gaps), 0, "quick")
    assert "closer to the truth than label smoothing" in text and "times chance" in text
    assert "no true blends" in ldl.truth_summary(None, 0, "quick")
    assert "Label smoothing has no second class" in ldl.smoothing_words(report)


def test_the_quick_teacher_on_seed_0_is_the_run_chapter_04_trains():
    from fernb.papers import zoo
    from fernb.train import TrainConfig

    base = {"dataset": "synth-raf", "profile": "quick", "data_seed": 0, "seed": 0}
    r = zoo.TRAINED("quick")
    ch04 = TrainConfig(**base, model="small_cnn", img_size=r.img_size, epochs=r.epochs, batch_size=r.batch_size,
                       class_weighting=r.class_weighting, max_batches_per_epoch=r.max_batches_per_epoch,
                       precision=r.precision, memory_format=r.memory_format)
    teacher = TrainConfig(**{**base, **recipes.teacher_options("quick", "synth-raf")})
    assert "small_cnn" in r.models and teacher == ch04  # one run, so the book trains it once


def test_the_peak_effect_pairs_the_paper_peak_with_the_other_values_by_seed():
    from types import SimpleNamespace as NS

    def runs(*accs):
        return [NS(config=NS(seed=s), metrics={"accuracy": a}) for s, a in enumerate(accs)]

    sweep = {0.0: runs(0.70, 0.72), 0.2: runs(0.80, 0.78), 0.6: runs(0.74, 0.70)}
    effect = ldl.peak_effect(sweep, "synth-raf")
    assert effect == pytest.approx([80 - 72, 78 - 71])
    assert ldl.peak_effect({0.2: runs(0.8), 0.6: runs(0.7)}, "synth-raf") is None  # quick: two values
    assert ldl.peak_effect({**sweep, 0.4: runs(0.7)}, "synth-raf") is None  # one seed trained at every value
