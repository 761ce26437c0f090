"""A run knows its data (DataSpec, Run.loader/predict, score_records on any class count and split), nothing that
changes training is dropped silently, and the model's entry decides its input normalisation."""

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from fernb.train import DataSpec, TrainConfig, fit
from fernb.train.losses import build_loss

TINY = dict(model="tiny_cnn", dataset="synth-raf", profile="smoke", img_size=32, batch_size=32, epochs=1)


def test_options_an_objective_would_ignore_are_errors():
    w = np.array([1.0, 2.0, 3.0, 1.0, 1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="class_weighting='simple' has no effect with loss='combo'"):
        build_loss("combo", 10, 7, weight=w, class_weighting="simple")
    with pytest.raises(ValueError, match="label_smoothing=0.1 has no effect with loss='sce'"):
        build_loss("sce", 10, 7, label_smoothing=0.1)
    teacher = np.full((10, 7), 1 / 7, np.float32)
    with pytest.raises(ValueError, match="kl_teacher's combo base"):
        build_loss("kl_teacher", 10, 7, weight=w, teacher=teacher)
    # used where the objective takes them: CE-based teacher, weighted SCE; uniform weights ('none') change nothing
    assert torch.equal(build_loss("kl_teacher", 10, 7, weight=w, teacher=teacher, base="ce").base.weight,
                       torch.tensor(w, dtype=torch.float32))
    assert torch.equal(build_loss("sce", 10, 7, weight=w).weight, torch.tensor(w, dtype=torch.float32))
    build_loss("combo", 10, 7, weight=np.ones(7), class_weighting="none")


def test_combo_with_class_weighting_fails_before_training(smoke_raf, tmp_path):
    with pytest.raises(ValueError, match="has no effect with loss='combo'"):
        fit({**TINY, "loss": "combo", "class_weighting": "conservative"}, runs_root=tmp_path, progress=False)
    assert not list(tmp_path.glob("*/checkpoint.pt"))


def test_score_records_covers_every_split_and_class_count(mocks, tmp_path):
    from fernb.annotate import score_records

    for name in ("affectnet-8", "fer2013"):  # 8 classes; a dataset with its own validation split
        run = fit({**TINY, "dataset": name, "val_share": 0.0}, data_root=mocks[name], runs_root=tmp_path,
                  progress=False)
        n, k = len(run.dataset().records), run.num_classes
        losses, probs = score_records(run)
        assert probs.shape == (n, k) and losses.shape == (n,)
        assert np.isfinite(losses).all() and np.allclose(probs.sum(1), 1, atol=1e-5)
        np.testing.assert_allclose(probs[run.split("test")], run.test_probs, atol=1e-5)
        if name == "fer2013":
            assert len(run.split("val")) > 0  # PublicTest rows are scored too, not left uninitialised
            labels = run.labels()
            np.testing.assert_allclose(losses, -np.log(probs[np.arange(n), labels]), rtol=1e-3, atol=1e-4)


def test_a_run_whose_data_moved_says_where(mocks, tmp_path):
    copy = tmp_path / "rafdb"
    shutil.copytree(mocks["rafdb"], copy)
    run = fit({**TINY, "dataset": "rafdb", "val_share": 0.0}, data_root=copy, runs_root=tmp_path / "runs", progress=False)
    assert run.data.data_root == str(copy.resolve())
    moved = tmp_path / "moved"
    copy.rename(moved)
    from fernb.train import load_run

    again = load_run(run.dir)
    with pytest.raises(FileNotFoundError, match=f"{copy.resolve()}.*no longer exists"):
        again.predict("test")
    again.dataset(data_root=moved)  # pointed at the new place, it finds its data again
    np.testing.assert_allclose(again.predict("test"), run.test_probs, atol=1e-5)


def test_data_spec_round_trips_and_rejects_unrecordable_options():
    cfg = TrainConfig(**TINY)
    spec = DataSpec.of(cfg, None, {"variant": "aligned", "lenient": True})
    assert DataSpec.from_dict(spec.to_dict()) == spec
    assert spec.key_suffix().startswith(":options=") and DataSpec.of(cfg).key_suffix() == ""
    with pytest.raises(ValueError, match=r"dataset_options \['detector'\] must be plain values"):
        DataSpec.of(cfg, None, {"detector": object()})


def test_weights_path_like_and_normalisation_from_the_entry(tmp_path):
    from fernb.models import create
    from fernb.models.registry import normalization
    from fernb.train.run import input_norm

    src = create("btfer_vgg16").features
    torch.save(src.state_dict(), tmp_path / "vggface.pt")
    m = create("btfer_vgg16", pretrained=Path(tmp_path / "vggface.pt"))  # a Path, not only a str
    for a, b in zip(m.features.state_dict().values(), src.state_dict().values()):
        assert torch.equal(a, b)
    cfg = TrainConfig(model="btfer_vgg16", img_size=48, model_kwargs={"pretrained": tmp_path / "vggface.pt"})
    assert cfg.model_kwargs["pretrained"] == str(tmp_path / "vggface.pt")  # recorded as plain JSON
    assert normalization("small_cnn") == ((0.5,), (0.5,))
    mean, std = normalization("btfer_resnet50", "imagenet")
    assert mean == pytest.approx((0.485, 0.456, 0.406)) and std == pytest.approx((0.229, 0.224, 0.225))
    assert input_norm(TrainConfig(model="btfer_resnet50", img_size=48,
                                  model_kwargs={"pretrained": "imagenet"}))[0] == mean
