"""Pretrained starts made here (fernb.train.analogues): identity faces, the analogue's weight file, and the same
``pretrained=`` path a VGGFace conversion takes."""

import numpy as np
import pytest
import torch

from fernb.data.synth.identities import identity_faces
from fernb.models import create
from fernb.train import analogues

TINY = analogues.AnalogueRecipe(identities=3, per_identity=2, nonfaces=8, epochs=1, batch_size=4)


def test_identity_faces_are_deterministic_and_grouped():
    x, y = identity_faces(3, 2, size=32, seed=5)
    assert x.shape == (6, 32, 32, 3) and x.dtype == np.uint8 and y.tolist() == [0, 0, 1, 1, 2, 2]
    again, _ = identity_faces(3, 2, size=32, seed=5)
    assert np.array_equal(x, again) and not np.array_equal(x, identity_faces(3, 2, size=32, seed=6)[0])
    with pytest.raises(ValueError, match="at least 2 identities"):
        identity_faces(1, 5)


@pytest.mark.parametrize("kind", analogues.KINDS)
def test_an_analogue_is_made_once_and_loads_through_pretrained(fernb_home, kind, monkeypatch):
    path = analogues.weights_file("btfer_vgg16", kind, 48, TINY, progress=False)
    assert path.is_file() and path.is_relative_to(fernb_home)
    info = analogues.about(path)
    assert info["classes"] == (3 if kind == "vggface-analogue" else 4) and 0 <= info["last_epoch_train_accuracy"] <= 1
    stamp = path.stat().st_mtime_ns
    assert analogues.weights_file("btfer_vgg16", kind, 48, TINY) == path and path.stat().st_mtime_ns == stamp
    saved = torch.load(path, weights_only=True)
    monkeypatch.setitem(analogues.RECIPES, kind, TINY)
    kwargs = analogues.build_kwargs("btfer_vgg16", 48, {"pretrained": kind})  # what the trainer does
    assert kwargs == {"pretrained": str(path)}
    net = create("btfer_vgg16", img_size=48, **kwargs)  # the registry's pretrained= path
    loaded = analogues.trunk(net).state_dict()
    assert all(torch.equal(saved[k], loaded[k]) for k in saved)
    assert net.head(torch.zeros(1, net.num_features)).shape == (1, 7)  # a fresh 7-way head


def test_a_model_without_weight_files_refuses_an_analogue():
    with pytest.raises(ValueError, match="btfer_lenet5.*no vggface-analogue start"):
        create("btfer_lenet5", img_size=48, pretrained="vggface-analogue")
    with pytest.raises(ValueError, match="made here by fernb.train.analogues"):
        create("btfer_vgg16", img_size=48, pretrained="vggface-analogue")
