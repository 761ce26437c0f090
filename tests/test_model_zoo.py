"""The model zoo: every architecture builds and trains at its papers' resolutions, the faithful ones match their
papers' sizes, and bad requests fail before any compute with a message that names the problem."""

import numpy as np
import pytest
import torch

from fernb.eval.complexity import complexity_table, model_complexity
from fernb.eval.deploy import LIGHTWEIGHT
from fernb.models import create, entry, list_models

ZOO = [n for n in list_models() if entry(n).family]
CASES = [(n, s) for n in ZOO for s in entry(n).img_sizes]


@pytest.mark.parametrize("name,size", CASES, ids=[f"{n}@{s}" for n, s in CASES])
def test_forward_and_backward_at_each_paper_resolution(name, size):
    torch.manual_seed(0)
    model = create(name, num_classes=7, img_size=size)
    x = torch.randn(2, 3, size, size)
    out = model(x)
    assert out.shape == (2, 7) and torch.isfinite(out).all()
    loss = out.logsumexp(1).sum()
    if hasattr(model, "forward_aux"):  # the parts only a method's loss reaches (DACL's attention, SCN's α)
        aux = model.forward_aux(x)
        loss = loss + sum(v.float().mean() for k, v in aux.items() if k != "logits")
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is not None for g in grads), f"{name}: some parameters got no gradient"
    assert sum(float(g.abs().sum()) for g in grads) > 0


@pytest.mark.parametrize("name", ZOO)
def test_smallest_declared_input_really_fits(name):
    """min_img_size is what create() promises; the model must build and run there (on the meta device: no compute)."""
    e = entry(name)
    with torch.device("meta"):
        model = create(name, img_size=e.min_img_size).eval()
        assert model(torch.zeros(2, 3, e.min_img_size, e.min_img_size)).shape == (2, 7)
    with pytest.raises(ValueError, match=f"needs img_size >= {e.min_img_size}"):
        create(name, img_size=e.min_img_size - 1)


def test_faithful_models_match_their_papers_within_ten_percent():
    table = complexity_table([n for n in ZOO if entry(n).faithful])
    assert set(table.model) >= {"resemotenet", "lfer_ldl", "efficientface", "scn", "litexpressionnet"}
    for row in table.itertuples():
        assert row.paper_params_m, row.model
        assert 0.9 <= row.params_ratio <= 1.1, (row.model, row.params_m_paper_head, row.paper_params_m)
        if row.paper_macs_m == row.paper_macs_m:  # not NaN: the paper prints a MAC/FLOP figure
            assert 0.9 <= row.macs_ratio <= 1.1, (row.model, row.macs_m, row.paper_macs_m)


def test_lfer_ldl_ablation_increments_match_section_2_4_4():
    """Table 4 of LFER-LDL: the output module adds ~0.02M parameters and PDWRes ~0.01M and ~3.09M FLOPs."""
    c = {n: model_complexity(n) for n in ("lfer_ldl_baseline", "lfer_ldl_output", "lfer_ldl_pdwres")}
    out_params = c["lfer_ldl_output"]["params_m"] - c["lfer_ldl_baseline"]["params_m"]
    pdw_params = c["lfer_ldl_pdwres"]["params_m"] - c["lfer_ldl_output"]["params_m"]
    pdw_flops = 2 * (c["lfer_ldl_pdwres"]["macs_m"] - c["lfer_ldl_output"]["macs_m"])
    assert 0.005 <= out_params <= 0.025 and 0.005 <= pdw_params <= 0.015
    assert 2.5 <= pdw_flops <= 3.5


@pytest.mark.parametrize("size", [97, 100, 112, 131])
def test_pdwres_quadrants_reassemble_to_the_stage2_map_at_odd_sizes(size):
    model = create("lfer_ldl", img_size=size).eval()
    with torch.no_grad():
        assert model(torch.randn(1, 3, size, size)).shape == (1, 7)


def test_resemotenet_ablations_remove_what_table_iv_says():
    from fernb.models.resemotenet import ResEmoteNet

    full, no_se = create("resemotenet_c1"), create("resemotenet_c2")
    assert isinstance(no_se.se, torch.nn.Identity) and not isinstance(full.se, torch.nn.Identity)
    # conv stages of 4 modules, each but the last followed by dropout
    assert len(create("resemotenet_c3").cnn) == 9 and len(create("resemotenet_c4").cnn) == 4
    assert len(create("resemotenet_c5").res) == 2 and len(create("resemotenet_c6").res) == 1
    assert all(m.num_features == 2048 for m in (full, create("resemotenet_c6")))
    assert isinstance(full, ResEmoteNet)


def test_grayscale_input_and_other_class_counts():
    for name, size in [("resemotenet", 64), ("lfer_ldl", 112), ("btfer_vgg16", 48), ("litexpressionnet", 112)]:
        m = create(name, num_classes=8, in_chans=1, img_size=size).eval()
        with torch.no_grad():
            assert m(torch.randn(2, 1, size, size)).shape == (2, 8)


def test_method_outputs_for_their_losses():
    torch.manual_seed(0)
    x = torch.randn(3, 3, 64, 64)
    aux = create("scn", img_size=64).eval().forward_aux(x)
    assert aux["attention"].shape == (3,) and ((aux["attention"] > 0) & (aux["attention"] < 1)).all()
    dacl = create("dacl", img_size=64, context_grid=3).eval()
    aux = dacl.forward_aux(x)
    att = aux["attention"]
    assert att.shape == (3, 512) and ((att > 0) & (att < 1)).all()
    # an independent gate per dimension (DACL's released two-way softmax), not a share the dimensions compete
    # for: raising one dimension's score leaves every other weight as it was
    with torch.no_grad():
        dacl.scores.bias[1] += 5.0  # dimension 0's "on" score
        moved = dacl.forward_aux(x)["attention"]
    assert (moved[:, 0] > att[:, 0]).all()
    torch.testing.assert_close(moved[:, 1:], att[:, 1:])
    aux = create("island_cnn").eval().forward_aux(x)
    assert aux["embedding"].shape == (3, 1024) and aux["logits"].shape == (3, 7)


def test_bad_requests_fail_before_any_compute():
    with pytest.raises(ValueError, match="unknown model 'resemotnet'.*Did you mean 'resemotenet"):
        create("resemotnet")
    with pytest.raises(ValueError, match="btfer_vgg16 'cannot|needs img_size >= 75"):
        create("btfer_inceptionv3", img_size=48)
    with pytest.raises(ValueError, match="in_chans"):
        create("lfer_ldl", in_chans=4)
    with pytest.raises(ValueError, match="num_classes"):
        create("lfer_ldl", num_classes=1)
    with pytest.raises(ValueError, match="takes no parameter 'widht'.*width"):
        create("litexpressionnet", widht=0.5)
    with pytest.raises(ValueError, match="pool must be"):
        create("btfer_vgg16", pool="max")


def test_bad_batches_get_a_clear_message():
    m = create("btfer_seq_simple", img_size=48)  # flatten head: tied to 48×48
    with pytest.raises(ValueError, match="flatten head built for 48×48.*got 64×64"):
        m(torch.randn(2, 3, 64, 64))
    with pytest.raises(ValueError, match=r"built for \(batch, 3, H, W\)"):
        create("lfer_ldl")(torch.randn(2, 1, 224, 224))
    with pytest.raises(ValueError, match="at least 32×32"):
        create("lfer_ldl")(torch.randn(2, 3, 16, 16))


def test_pretrained_requests(monkeypatch, tmp_path):
    monkeypatch.setenv("FERNB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))  # an empty cache
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    with pytest.raises(RuntimeError, match="not in the local cache.*pretrained=False"):
        create("btfer_resnet50", pretrained=True)
    with pytest.raises(RuntimeError, match="not in the local cache"):
        create("btfer_vgg16", pretrained="imagenet")
    with pytest.raises(ValueError, match="has no ImageNet weights"):
        create("resemotenet", pretrained=True)
    with pytest.raises(FileNotFoundError, match="vggface.pt"):
        create("btfer_vgg16", pretrained=str(tmp_path / "vggface.pt"))
    with pytest.raises(ValueError, match="must be False, True"):
        create("btfer_vgg16", pretrained=3)


def test_face_weight_file_loads_by_order_and_shape(tmp_path):
    """A VGGFace-style file with foreign names loads into the VGG16 trunk; a file for another network is refused."""
    src = create("btfer_vgg16").features
    foreign = {f"conv_{i}.param": t.clone() for i, t in enumerate(src.state_dict().values())}
    torch.save(foreign, tmp_path / "vggface.pt")
    m = create("btfer_vgg16", pretrained=str(tmp_path / "vggface.pt"))
    for a, b in zip(m.features.state_dict().values(), src.state_dict().values()):
        assert torch.equal(a, b)
    torch.save(create("btfer_vgg19").features.state_dict(), tmp_path / "vgg19.pt")
    with pytest.raises(ValueError, match="vgg19.pt: tensor .* has shape"):
        create("btfer_vgg16", pretrained=str(tmp_path / "vgg19.pt"))


@pytest.mark.parametrize("name", LIGHTWEIGHT)
def test_onnx_export_matches_pytorch(name, tmp_path):
    """BTFER §V-A in PyTorch: every lightweight model exports to ONNX and onnxruntime agrees to < 1e-4."""
    pytest.importorskip("onnxruntime")
    from fernb.eval.deploy import export_onnx, onnx_parity

    e = entry(name)
    size = max(e.min_img_size, 64) if not e.fixed_size else e.img_size
    torch.manual_seed(0)
    model = create(name, img_size=size).eval()
    path = export_onnx(model, tmp_path / f"{name}.onnx", size)
    assert onnx_parity(model, path, size, n=3) < 1e-4
    assert onnx_parity(model, path, size, n=3, relative=True) < 1e-4  # and small against the logits' own scale


@pytest.mark.parametrize("name", ["lfer_ldl", "litexpressionnet"])
def test_int8_quantisation_shrinks_and_runs(name, tmp_path):
    pytest.importorskip("onnxruntime")
    from fernb.eval.deploy import export_onnx, ort_logits, quantize_int8, session

    torch.manual_seed(0)
    model = create(name, img_size=64).eval()
    fp32 = export_onnx(model, tmp_path / "m.onnx", 64)
    cal = np.random.default_rng(0).standard_normal((8, 3, 64, 64)).astype(np.float32)
    int8 = quantize_int8(fp32, tmp_path / "m.int8.onnx", cal)
    assert int8.stat().st_size < 0.4 * fp32.stat().st_size
    assert ort_logits(session(int8), cal[:2]).shape == (2, 7)
    with pytest.raises(ValueError, match="calibration must be"):
        quantize_int8(fp32, tmp_path / "x.onnx", cal[0])


def test_accuracy_cost_points_keep_papers_and_runs_apart():
    import pandas as pd

    from fernb.eval.complexity import accuracy_cost_points

    runs = pd.DataFrame([{"model": "lfer_ldl", "img_size": 64, "in_chans": 3, "accuracy": 0.3, "dataset": "synth-raf"}])
    pts = accuracy_cost_points(runs)
    ours = pts[pts.source == "fernb"].iloc[0]
    assert ours.dataset == "synth-raf (SynthFER)" and ours.macs_m == pytest.approx(model_complexity("lfer_ldl", 64)["macs_m"])
    paper = pts[pts.source == "paper"].set_index("model")
    assert set(paper.dataset) == {"RAF-DB"} and paper.loc["lfer_ldl", "accuracy"] == 0.8715
    assert "AffectNet-8" in set(accuracy_cost_points(None, papers_dataset=None).dataset)


def test_cached_torchvision_weights_load_offline(tmp_path, monkeypatch):
    """Offline, torchvision's ImageNet weights are refused only when torch.hub's cache lacks them."""
    import torch
    import torchvision

    from fernb.models import pretrained

    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    assert not pretrained.torchvision_cached(torchvision.models.vgg16)
    name = torchvision.models.VGG16_Weights.DEFAULT.url.rsplit("/", 1)[1]
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / name).write_bytes(b"")
    assert pretrained.torchvision_cached(torchvision.models.vgg16)
    monkeypatch.setenv("FERNB_OFFLINE", "1")
    with pytest.raises(RuntimeError, match="not in the local cache"):
        pretrained.torchvision_create(torchvision.models.resnet18, "imagenet")
