"""The GPU code paths, exercised as far as a CPU allows (issue #18): the CUDA precision defaults, the fp16 loss-scaler
step, autocast with channels-last, and a clear refusal when CUDA is asked for and absent."""

import pytest
import torch
from torch import nn

from fernb.train.strategies import PlainStep, Precision, make_step, resolve_device


def test_cuda_defaults_without_a_cuda_device():
    cuda = torch.device("cuda")
    plain, sam = Precision.default(cuda, sam=False), Precision.default(cuda, sam=True)
    assert (plain.name, plain.channels_last) == ("fp16", True)
    assert sam.name == "bf16"  # SAM's two passes cannot share one loss scaler
    assert Precision.default(torch.device("cpu"), sam=False).name == "fp32"
    with pytest.raises(ValueError, match="precision='fp16' needs a CUDA device"):
        Precision.named("fp16", False, torch.device("cpu"), "forced")


def _train(scaler, steps=20):
    torch.manual_seed(0)
    model = nn.Linear(4, 3)
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    x = torch.randn(64, 4)
    y = (x[:, :3] * torch.tensor([1.0, -1.0, 0.5])).argmax(1)
    step = make_step(opt, scaler)
    assert isinstance(step, PlainStep)

    def forward_loss(xb, yb, rows):
        logits = model(xb)
        return nn.functional.cross_entropy(logits, yb), logits

    losses = []
    for _ in range(steps):
        opt.zero_grad()
        losses.append(step(forward_loss, model, None, x, y, None)[0].item())
    return losses, model.weight.detach()


def test_the_loss_scaler_step_trains():
    """PlainStep drives the same GradScaler protocol on CUDA; on the CPU an enabled scaler runs it for real, and
    the scaled-then-unscaled steps match plain steps."""
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**8)
    scaled, w_scaled = _train(scaler)
    plain, w_plain = _train(torch.amp.GradScaler("cpu", enabled=False))
    assert scaled[-1] < 0.6 * scaled[0]
    assert scaler.get_scale() >= 2.0**8  # no overflow pushed the scale down
    torch.testing.assert_close(w_scaled, w_plain, rtol=1e-4, atol=1e-5)


def test_autocast_and_channels_last_on_cpu():
    prec = Precision.named("bf16", True, torch.device("cpu"), "forced")
    model = prec.prepare(nn.Sequential(nn.Conv2d(3, 8, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 2)))
    x = prec.batch(torch.randn(2, 3, 16, 16))
    assert x.is_contiguous(memory_format=torch.channels_last)
    with prec.autocast():
        out = model(x)
    assert out.dtype == torch.bfloat16 and prec.record() == {"precision": "bf16", "channels_last": True,
                                                            "source": "forced"}


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_asking_for_cuda_without_it_names_the_way_out():
    with pytest.raises(ValueError, match="CUDA is not available here; use device='auto' or 'cpu'"):
        resolve_device("cuda:0")
    from fernb import chapter

    with pytest.raises(ValueError, match="device='cuda'"):
        chapter.setup(profile="smoke", device="cuda")
