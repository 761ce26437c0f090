import json

import numpy as np
import pytest
import torch
from PIL import Image

from fernb.data import store as store_mod
from fernb.data.loader import BatchAugment, BatchLoader
from fernb.data.store import ImageStore, decode


def test_store_holds_the_decoded_images(smoke_raf, tmp_path):
    st = ImageStore.build(smoke_raf, 64, 3, cache_dir=tmp_path, progress=False)
    assert st.shape == (280, 64, 64, 3) and st.images.dtype == np.uint8
    ref = decode(smoke_raf.root / smoke_raf.records["image"].iloc[7], 64, 3)
    np.testing.assert_array_equal(st.images[7], ref)
    gray = ImageStore.build(smoke_raf, 48, 1, cache_dir=tmp_path, progress=False)
    assert gray.shape == (280, 48, 48, 1)
    want = np.asarray(Image.open(smoke_raf.root / smoke_raf.records["image"].iloc[3]).convert("L").resize((48, 48), Image.BILINEAR))
    assert np.abs(gray.images[3, ..., 0].astype(int) - want).mean() < 3


def test_store_is_reused_not_rebuilt(smoke_raf, tmp_path, monkeypatch):
    a = ImageStore.build(smoke_raf, 32, 3, cache_dir=tmp_path, progress=False)
    monkeypatch.setattr(store_mod, "decode", lambda *a, **k: (_ for _ in ()).throw(AssertionError("decoded again")))
    b = ImageStore.build(smoke_raf, 32, 3, cache_dir=tmp_path, progress=False)
    assert a.path == b.path


def test_interrupted_build_leaves_no_complete_looking_cache(smoke_raf, tmp_path, monkeypatch):
    calls = {"n": 0}
    real = store_mod.decode

    def flaky(path, size, channels):
        calls["n"] += 1
        if calls["n"] > 100:
            raise KeyboardInterrupt("killed")
        return real(path, size, channels)

    monkeypatch.setattr(store_mod, "decode", flaky)
    with pytest.raises(KeyboardInterrupt):
        ImageStore.build(smoke_raf, 40, 3, cache_dir=tmp_path, progress=False)
    assert list(tmp_path.glob("*.json")) == [] and list(tmp_path.glob("*.npy")) == []
    monkeypatch.setattr(store_mod, "decode", real)
    st = ImageStore.build(smoke_raf, 40, 3, cache_dir=tmp_path, progress=False)
    assert json.loads(next(tmp_path.glob("*.json")).read_text())["n"] == 280 and st.images[-1].any()


def test_corrupt_image_is_named(tmp_path):
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    with pytest.raises(OSError, match="broken.jpg"):
        decode(bad, 32, 3)
    with pytest.raises(FileNotFoundError, match="missing.jpg"):
        decode(tmp_path / "missing.jpg", 32, 3)


class ArrayStore:
    def __init__(self, images):
        self.images = images

    def __len__(self):
        return len(self.images)

    @property
    def shape(self):
        return self.images.shape


def numbered_store(n=50, size=16, c=3):
    """Image i is filled with value i, so batches can be traced back to rows."""
    return ArrayStore(np.broadcast_to(np.arange(n, dtype=np.uint8)[:, None, None, None], (n, size, size, c)).copy())


@pytest.mark.parametrize("batch_size", [8, 45])  # below and above the loader's processing chunk
def test_one_epoch_visits_every_row_once_and_labels_follow_images(batch_size):
    st = numbered_store()
    labels = np.arange(50) % 7
    idx = np.arange(3, 50)
    seen = []
    loader = BatchLoader(st, idx, labels, batch_size=batch_size, shuffle=True, mean=0.0, std=1.0)
    for x, y in loader:
        rows = (x[:, 0, 0, 0] * 255).round().long().numpy()
        np.testing.assert_array_equal(labels[rows], y.numpy())
        seen += rows.tolist()
    assert sorted(seen) == idx.tolist()
    assert len(loader) == -(-47 // batch_size)


def test_shuffle_is_deterministic_per_epoch():
    st = numbered_store()
    mk = lambda: BatchLoader(st, np.arange(50), np.zeros(50, int), batch_size=10, shuffle=True, seed=5, prefetch=0)  # noqa: E731
    a, b = mk(), mk()

    def order(loader, epoch):
        loader.set_epoch(epoch)
        return [tuple(x[:, 0, 0, 0].tolist()) for x, _ in loader]

    assert order(a, 1) == order(b, 1)
    assert order(a, 1) != order(a, 2)


def test_flip_mirrors_and_full_crop_is_identity():
    img = np.random.default_rng(0).integers(0, 255, (4, 12, 12, 3), dtype=np.uint8)
    x = torch.from_numpy(img)
    g = torch.Generator().manual_seed(0)
    same = BatchAugment(12, scale=(1, 1), ratio=(1, 1), flip=0.0)(x, g)
    np.testing.assert_array_equal(same.numpy(), img)
    flipped = BatchAugment(12, scale=(1, 1), ratio=(1, 1), flip=1.0)(x, g)
    np.testing.assert_array_equal(flipped.numpy(), img[:, :, ::-1])
    small = BatchAugment(8, scale=(0.5, 0.5))(x, g)
    assert small.shape == (4, 8, 8, 3)


def test_grayscale_store_feeds_rgb_models_normalised():
    st = numbered_store(10, 8, 1)
    x, y = next(iter(BatchLoader(st, np.arange(10), np.zeros(10, int), batch_size=10, in_chans=3, mean=0.5, std=0.5)))
    assert x.shape == (10, 3, 8, 8) and x.dtype == torch.float32
    np.testing.assert_allclose(x[9, 2, 0, 0].item(), (9 / 255 - 0.5) / 0.5, rtol=1e-6)


def test_loader_rejects_mismatches():
    st = numbered_store(10)
    with pytest.raises(ValueError, match="labels has 3 rows"):
        BatchLoader(st, np.arange(3), np.zeros(3, int))
    with pytest.raises(ValueError, match="batch_size"):
        BatchLoader(st, np.arange(10), np.zeros(10, int), batch_size=0)
    with pytest.raises(ValueError, match="scale"):
        BatchAugment(8, scale=(0.0, 1.2))
    with pytest.raises(ValueError, match="one-channel store"):
        BatchLoader(numbered_store(10, 8, 1), np.arange(10), np.zeros(10, int), in_chans=3, mean=[0.4, 0.5, 0.6])
    with pytest.raises(ValueError, match="std must be positive"):
        BatchLoader(st, np.arange(10), np.zeros(10, int), std=0.0)


def test_jitter_folded_into_normalisation_matches_the_stepwise_formula():
    rng = np.random.default_rng(1)
    st = ArrayStore(rng.integers(0, 256, (6, 10, 10, 3), dtype=np.uint8))
    aug = BatchAugment(10, scale=(1, 1), ratio=(1, 1), flip=0.0, brightness=0.3, contrast=0.4)
    mean, std = [0.4, 0.5, 0.6], [0.2, 0.25, 0.3]
    loader = BatchLoader(st, np.arange(6), np.zeros(6, int), batch_size=6, augment=aug, mean=mean, std=std, prefetch=0)
    x, _ = next(iter(loader))
    # replay the same random draws: the batch's jitter parameters, then the crop of its one chunk
    gen = torch.Generator().manual_seed(loader._batch_seed(0))
    gain, bias = aug.jitter_params(6, gen)
    img = torch.from_numpy(st.images).permute(0, 3, 1, 2).float() / 255
    m = img.mean(dim=(1, 2, 3), keepdim=True)
    ref = ((img - m) * gain.view(-1, 1, 1, 1) + m + bias.view(-1, 1, 1, 1)).clamp(0, 1)
    ref = (ref - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)
    torch.testing.assert_close(x, ref, atol=1e-5, rtol=1e-5)



@pytest.mark.parametrize("store_c", [3, 1])
def test_contiguous_batches_hold_the_channels_last_values(store_c):
    """A contiguous model's loader writes NCHW memory directly (no copy in the step); the values are the same."""
    rng = np.random.default_rng(2)
    st = ArrayStore(rng.integers(0, 256, (40, 12, 12, store_c), dtype=np.uint8))
    aug = BatchAugment(10, brightness=0.2, contrast=0.2)
    stats = dict(mean=[0.4, 0.5, 0.6], std=[0.2, 0.25, 0.3]) if store_c == 3 else dict(mean=0.5, std=0.5)
    batches = {}
    for cl in (True, False):
        loader = BatchLoader(st, np.arange(40), np.zeros(40, int), batch_size=40, augment=aug, in_chans=3, seed=3,
                             shuffle=True, channels_last=cl, **stats)
        batches[cl] = next(iter(loader))[0]
    assert batches[True].is_contiguous(memory_format=torch.channels_last)
    assert batches[False].is_contiguous() and batches[False].shape == (40, 3, 10, 10)
    torch.testing.assert_close(batches[False], batches[True], atol=0, rtol=0)


def _keras_reference(img, angle, tx, ty, zx, zy, flip):
    """Keras ImageDataGenerator's transform of one (H, W) channel, written from its documented algorithm
    (``apply_affine_transform``: rotation · shift · zoom about the image centre, scipy ``affine_transform`` with
    ``order=1``, ``mode="nearest"``; the horizontal flip after it). ``tx``/``zx`` act on rows, ``ty``/``zy`` on
    columns, shifts in pixels."""
    from scipy import ndimage

    h, w = img.shape
    t = np.deg2rad(angle)
    rot = np.array([[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0], [0, 0, 1]])
    shift = np.array([[1, 0, tx], [0, 1, ty], [0, 0, 1]])
    zoom = np.diag([zx, zy, 1.0])
    m = rot @ shift @ zoom
    o = np.array([[1, 0, h / 2 - 0.5], [0, 1, w / 2 - 0.5], [0, 0, 1]])
    back = np.array([[1, 0, -(h / 2 - 0.5)], [0, 1, -(w / 2 - 0.5)], [0, 0, 1]])
    m = o @ m @ back
    out = ndimage.affine_transform(img, m[:2, :2], m[:2, 2], order=1, mode="nearest")
    return out[:, ::-1] if flip else out


@pytest.mark.parametrize("angle,tx,ty,zx,zy,flip", [(0, 0, 0, 1, 1, False), (0, 0, 0, 1, 1, True),
                                                     (17.0, 1.5, -2.25, 0.85, 1.15, False),
                                                     (-12.0, -2.0, 0.5, 1.2, 0.9, True), (90.0, 0, 0, 1, 1, False)])
def test_keras_transform_matches_image_data_generator(angle, tx, ty, zx, zy, flip):
    """BTFER §III-F trains with Keras's rotation/shift/zoom: our one-warp-per-batch map is Keras's, pixel for pixel."""
    from fernb.data.loader import affine_matrix

    size = 12
    img = np.random.default_rng(3).uniform(0, 255, (size, size)).astype(np.float64)
    one = lambda v: torch.tensor([float(v)])  # noqa: E731
    theta = affine_matrix(one(size), one(size), one(0), one(0), torch.tensor([flip]), one(angle),
                          torch.tensor([[zy, zx]]), torch.tensor([[ty / size, tx / size]]), size, size)
    x = torch.from_numpy(img).float()[None, :, :, None]
    got = BatchAugment(size, scale=(1, 1), ratio=(1, 1), rotation=1.0).warp(x, theta)[0, :, :, 0].numpy()
    np.testing.assert_allclose(got, _keras_reference(img, angle, tx, ty, zx, zy, flip), atol=1e-3)


def test_keras_draws_stay_in_their_ranges_and_batches_are_reproducible():
    aug = BatchAugment(16, scale=(1, 1), ratio=(1, 1), flip=0.5, rotation=20, shift=0.2, zoom=0.2)
    theta = aug.affine_params(4000, 16, 16, torch.Generator().manual_seed(0))
    lin, trans = theta[:, :, :2], theta[:, :, 2]
    det = torch.linalg.det(lin)  # |det| = zx * zy, negative when flipped
    assert 0.8**2 - 1e-5 <= det.abs().min() and det.abs().max() <= 1.2**2 + 1e-5
    assert 0.4 < (det < 0).float().mean() < 0.6
    assert trans.abs().max() <= 2 * 0.2 * 1.2 * 2**0.5 + 1e-5 and trans.abs().max() > 0.3
    # the angle, read from an image drawn without zoom or flip
    plain = BatchAugment(16, scale=(1, 1), ratio=(1, 1), flip=0.0, rotation=20)
    lin = plain.affine_params(4000, 16, 16, torch.Generator().manual_seed(1))[:, :, :2]
    angle = torch.rad2deg(torch.atan2(lin[:, 0, 1], lin[:, 0, 0]))
    assert angle.abs().max() <= 20 + 1e-4 and angle.abs().max() > 19
    st = numbered_store(20, 16)
    make = lambda shard=(0, 1): BatchLoader(st, np.arange(20), np.zeros(20, int), batch_size=20, shuffle=True,  # noqa: E731
                                            augment=aug, seed=3, prefetch=0, shard=shard)
    x, _ = next(iter(make()))
    assert x.shape == (20, 3, 16, 16) and torch.isfinite(x).all()
    torch.testing.assert_close(next(iter(make()))[0], x)
    halves = torch.cat([next(iter(make((r, 2))))[0] for r in range(2)])  # data-parallel parts make the whole batch
    torch.testing.assert_close(halves, x)
