import numpy as np
import pytest
import torch

from fernb.eval.metrics import classification_report, expected_calibration_error
from fernb.models import create, list_models


def test_registry_builds_and_runs():
    assert {"small_cnn", "tiny_cnn"} <= set(list_models())
    m = create("tiny_cnn", num_classes=7, in_chans=1, img_size=32)
    out = m(torch.randn(2, 1, 32, 32))
    assert out.shape == (2, 7)
    out.sum().backward()


def test_registry_errors_name_the_problem():
    with pytest.raises(ValueError, match="unknown model 'smal_cnn'.*Did you mean 'small_cnn'"):
        create("smal_cnn")
    with pytest.raises(ValueError, match="img_size >= 16"):
        create("small_cnn", img_size=8)
    with pytest.raises(ValueError, match="in_chans"):
        create("small_cnn", in_chans=4)
    with pytest.raises(ValueError, match="num_classes"):
        create("small_cnn", num_classes=1)


def test_report_against_a_hand_computation():
    y = np.array([0, 0, 1, 1, 2, 2])
    pred = np.array([0, 1, 1, 1, 2, 0])
    probs = np.eye(3)[pred] * 0.7 + 0.1
    r = classification_report(y, probs, groups={"gender": np.array(["f", "m", "f", "m", "f", "m"])}, num_classes=3)
    assert r["accuracy"] == pytest.approx(4 / 6)
    assert r["confusion_matrix"] == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    assert r["mean_class_accuracy"] == pytest.approx((0.5 + 1 + 0.5) / 3)
    # per-class F1: class0 p=1/2 r=1/2 -> .5; class1 p=2/3 r=1 -> .8; class2 p=1 r=.5 -> 2/3
    assert r["macro_f1"] == pytest.approx((0.5 + 0.8 + 2 / 3) / 3)
    assert r["accuracy_by_gender"] == {"f": 1.0, "m": pytest.approx(1 / 3)}
    # all confidences are 0.8, accuracy 2/3: ECE = |2/3 - 0.8|
    assert r["ece"] == pytest.approx(abs(4 / 6 - 0.8))


def test_ece_zero_when_calibrated():
    probs = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert expected_calibration_error(probs, np.array([0, 1])) == 0


def test_btfer_class_weights():
    from fernb.train.weighting import class_weights

    counts = [705, 717, 281, 4772, 2524, 1982, 1290]  # RAF-DB training counts, ResEmoteNet Table II
    simple = class_weights(counts, "simple")
    np.testing.assert_allclose(simple, 4772 / np.array(counts))
    assert simple[3] == 1.0 and simple.argmax() == 2  # happiness is the largest class, fear the smallest
    cons = class_weights(counts, "conservative")
    np.testing.assert_allclose(cons, np.minimum(4772 / np.array(counts), 3))
    assert list(class_weights(counts, "none")) == [1.0] * 7
    assert class_weights([10, 0, 5], "simple").tolist() == [1.0, 0.0, 2.0]
    with pytest.raises(ValueError, match="unknown"):
        class_weights(counts, "balanced-ish")


def test_report_names_the_classes_of_a_view():
    import numpy as np

    from fernb.eval.metrics import classification_report

    names = ("anger", "disgust", "fear", "happiness", "sadness", "surprise")  # InFER++ §III-E's six: no neutral
    probs = np.eye(6)[[0, 1, 2, 3, 4, 5]]
    rep = classification_report(np.arange(6), probs, num_classes=6, class_names=names)
    assert list(rep["per_class_accuracy"]) == list(names)


def test_beyond_noise_flags_only_clear_effects():
    import pandas as pd

    from fernb.eval.metrics import beyond_noise

    table = pd.DataFrame({"big": [0.40, 0.45, 0.50], "noise": [0.03, -0.04, 0.02]}, index=[0, 1, 2])
    v = beyond_noise(table)
    assert bool(v.loc["big", "beyond noise"]) and not bool(v.loc["noise", "beyond noise"])
    assert v.loc["big", "mean"] == pytest.approx(0.45) and v.loc["big", "seeds"] == 3
