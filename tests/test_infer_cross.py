"""InFER++ §III-E: six-class, all-images views of a dataset, training on them, train-on-A/test-on-B
evaluations, the group and display-shift tables, and the errors a reader's mistakes meet."""

import numpy as np
import pytest

from fernb.data import load_dataset
from fernb.data.views import SIX_CLASSES, all_images, parse_classes, restrict_classes
from fernb.papers.infer import cross
from fernb.train import TrainConfig, fit
from fernb.eval import Evaluation
from fernb.viz import ConfusionExplorer

TINY = dict(
    model="tiny_cnn", profile="smoke", img_size=32, batch_size=32, epochs=1, max_batches_per_epoch=2
)


def test_six_class_view_drops_neutral_and_keeps_names(smoke_raf):
    six = restrict_classes(smoke_raf, "six")
    assert six.class_names == SIX_CLASSES and six.num_classes == 6
    r, r7 = six.records, smoke_raf.records
    assert len(r) == int((r7.label != 4).sum()) and set(r.label) == set(range(6))
    # labels are remapped by name, not by position: sadness (canonical 5) becomes 4
    assert (r.label[r.image.isin(r7.image[r7.label == 5])] == 4).all()
    assert (
        r.true_label[r.image.isin(r7.image[r7.true_label == 4])] == -1
    ).all()  # neutral truth: outside the set
    assert six.class_counts().index.tolist() == list(SIX_CLASSES)
    assert six.fingerprint != smoke_raf.fingerprint


def test_all_images_view_trains_on_everything_but_a_stratified_holdout(smoke_raf):
    everything = all_images(restrict_classes(smoke_raf, "six"), holdout=0.1, seed=0)
    split = everything.records.split
    assert set(split) == {"train", "test"} and 0.08 < (split == "test").mean() < 0.13
    assert set(everything.records.label[split == "test"]) == set(range(6))
    assert (
        load_dataset(
            "synth-raf", profile="smoke", progress=False, classes="six", splits="all"
        ).fingerprint
        == everything.fingerprint
    )


def test_bad_class_sets_and_datasets_without_the_six_classes(smoke_raf):
    with pytest.raises(ValueError, match="classes \\['joy'\\] are not expressions"):
        parse_classes("anger,joy")
    no_fear = restrict_classes(
        smoke_raf, ("anger", "disgust", "happiness", "neutral", "sadness", "surprise")
    )
    with pytest.raises(ValueError, match="dataset 'synth-raf' has no images of fear"):
        restrict_classes(no_fear, "six")
    with pytest.raises(ValueError, match="splits='everything'"):
        load_dataset("synth-raf", profile="smoke", progress=False, splits="everything")


def test_pair_checks_name_the_dataset():
    with pytest.raises(
        ValueError, match="dataset_b='infer-pp' is a licence-gated real dataset: set data_root_b"
    ):
        cross.check_pair("rafdb", "infer-pp", None)
    with pytest.raises(ValueError, match="dataset_b='synth-raf' is dataset_a"):
        cross.check_pair("synth-raf", "synth-raf")
    assert cross.check_pair("synth-raf", "synth-infer") is None


def test_skin_tone_is_the_tone_the_face_was_drawn_with(smoke_raf):
    from fernb.data.manifest import load_manifest
    from fernb.data.synth.generate import SKIN_TONES, SynthConfig, _domain_key, _face_spec

    cfg = SynthConfig("synth-raf", len(smoke_raf.records), 0, 128)
    gen = load_manifest("synth-raf")["generator"]
    for i in range(6):
        row = smoke_raf.records.iloc[i]
        spec = _face_spec(
            cfg, row.to_dict(), gen, np.random.default_rng([0, _domain_key("synth-raf"), 1, i])
        )
        ratio = spec.skin / SKIN_TONES[row.skin_tone - 1]
        assert ((ratio > 0.93) & (ratio < 1.07)).all()


def test_train_on_all_of_a_and_test_on_b(fernb_home, tmp_path):
    run = fit(
        TrainConfig(dataset="synth-raf", val_share=0.0, **TINY),
        runs_root=tmp_path,
        progress=False,
        dataset_options={"classes": "six", "splits": "all"},
    )
    assert run.num_classes == 6 and run.dataset().class_names == SIX_CLASSES
    assert len(run.split("train")) > 0.85 * len(run.dataset().records)
    b = load_dataset("synth-infer", profile="smoke", progress=False, classes="six")
    ev = Evaluation.transfer(run, b, name="raf → infer")
    assert ev.confusion.sum() == len(b.records) and ev.classes == SIX_CLASSES
    own = Evaluation.from_run(run, name="own")
    ConfusionExplorer([ev, own])  # comparable: the same six classes
    seven = load_dataset("synth-infer", profile="smoke", progress=False)
    with pytest.raises(
        ValueError, match="dataset 'synth-infer' has classes .*'neutral'.* but run .* predicts"
    ):
        Evaluation.transfer(run, seven)
    table = cross.accuracy_by([ev], "occluders")
    assert "none" in table.index and "beard" in table.index
    assert set(cross.accuracy_by([ev], "skin_tone").index) <= {str(k) for k in range(1, 10)}
    named = cross.named_confusions([ev])
    assert named.index.tolist()[:2] == ["sadness → fear", "fear → sadness"]
    shift = cross.display_shift(ev, run.dataset(), top=2)
    assert len(shift) <= 2 and "toward p (%)" in shift.columns


def test_recipe_and_informative_runs():
    from fernb.profiles import PROFILES

    assert {p: cross.CROSS(p).model for p in PROFILES} == {
        "smoke": "tiny_cnn", "quick": "small_cnn", "long": "small_cnn", "full": "mobilevit_s"
    }
    classes = list(SIX_CLASSES)
    diagonal = Evaluation.from_counts("good", np.diag([20, 10, 10, 10, 10, 10]), classes)
    assert cross.uninformative(diagonal) == ""
    one_class = np.zeros((6, 6), int)
    one_class[:, 0] = 10
    assert "predicts 1 class" in cross.uninformative(
        Evaluation.from_counts("one", one_class, classes)
    )
