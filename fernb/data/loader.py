"""Batched loading from an :class:`~fernb.data.store.ImageStore` with augmentation applied to whole batches.

A batch is one fancy-index gather from the uint8 memory map, then crop/resize/flip as an index gather on uint8, then
one float conversion with normalisation (with Keras's rotation/shift/zoom on, the crop, flip and transform are one
bilinear ``grid_sample`` instead of the gather); on a GPU the augmentation runs on the device.  A background thread
prepares the next batch while the model works on the current one.  Shuffling and augmentation are seeded per epoch,
so a run resumed at an epoch boundary sees exactly the batches an uninterrupted run would.
"""

from __future__ import annotations

import queue
import threading

import numpy as np
import torch


class BatchAugment:
    """Random resized crop (area ``scale``, aspect ``ratio``), horizontal flip and brightness/contrast jitter, on a
    uint8 NCHW batch.  The crop is resampled by nearest-neighbour index gathering, the cheapest exact operation on
    uint8; ``flip`` is the probability of a horizontal flip.

    ``rotation`` (degrees), ``shift`` (a share of the side) and ``zoom`` (a factor per axis in ``[1 - zoom,
    1 + zoom]``) add Keras ``ImageDataGenerator``'s geometric augmentation (``rotation_range``,
    ``width_shift_range``/``height_shift_range``, ``zoom_range``; BTFER §III-F trains with 20, 0.2, 0.2 and
    horizontal flips). With any of them set, the crop, flip and Keras transform of each image are one affine map,
    the batch is resampled by one ``affine_grid``/``grid_sample`` (bilinear, edge pixels repeated: Keras's
    ``interpolation_order=1`` and ``fill_mode="nearest"``) and the result is float."""

    def __init__(self, out_size: int, scale=(0.8, 1.0), ratio=(0.9, 1.1), flip: float = 0.5,
                 brightness: float = 0.0, contrast: float = 0.0, rotation: float = 0.0, shift: float = 0.0,
                 zoom: float = 0.0):
        if not 0 < scale[0] <= scale[1] <= 1:
            raise ValueError(f"scale must satisfy 0 < min <= max <= 1, got {scale}")
        if not 0 <= flip <= 1:
            raise ValueError(f"flip must be a probability, got {flip}")
        if not (0 <= rotation < 180 and 0 <= shift < 1 and 0 <= zoom < 1):
            raise ValueError(f"rotation must be in [0, 180) degrees and shift, zoom in [0, 1); got "
                             f"rotation={rotation}, shift={shift}, zoom={zoom}")
        self.out_size, self.scale, self.ratio, self.flip = out_size, scale, ratio, flip
        self.brightness, self.contrast = brightness, contrast
        self.rotation, self.shift, self.zoom = float(rotation), float(shift), float(zoom)

    def __repr__(self):
        return (f"BatchAugment(out_size={self.out_size}, scale={self.scale}, ratio={self.ratio}, flip={self.flip}, "
                f"brightness={self.brightness}, contrast={self.contrast}, rotation={self.rotation}, "
                f"shift={self.shift}, zoom={self.zoom})")

    @property
    def geometric(self) -> bool:
        """Whether the Keras transform is on (the batch is then warped, not gathered)."""
        return bool(self.rotation or self.shift or self.zoom)

    def _crop_draws(self, b: int, h: int, w: int, gen: torch.Generator):
        """Crop height, width, top, left (pixels) and the flip of each image, drawn in a fixed order."""
        area = torch.empty(b).uniform_(*self.scale, generator=gen)
        logr = torch.empty(b).uniform_(np.log(self.ratio[0]), np.log(self.ratio[1]), generator=gen)
        ar = torch.exp(logr)
        ch = torch.clamp(torch.sqrt(area / ar) * h, 1, h)
        cw = torch.clamp(torch.sqrt(area * ar) * w, 1, w)
        y0 = torch.rand(b, generator=gen) * (h - ch)
        x0 = torch.rand(b, generator=gen) * (w - cw)
        flip = torch.rand(b, generator=gen) < self.flip
        return ch, cw, y0, x0, flip

    def crop_indices(self, b: int, h: int, w: int, gen: torch.Generator, device):
        """Row and column source indices, (B, out) each, of a random resized crop (columns reversed when flipped)."""
        o = self.out_size
        ch, cw, y0, x0, flip = self._crop_draws(b, h, w, gen)
        t = (torch.arange(o, dtype=torch.float32) + 0.5) / o
        rows = (y0[:, None] + t[None] * ch[:, None]).long().clamp_(0, h - 1)
        cols = (x0[:, None] + t[None] * cw[:, None]).long().clamp_(0, w - 1)
        cols = torch.where(flip[:, None], cols.flip(1), cols)
        return rows.to(device), cols.to(device)

    def affine_params(self, b: int, h: int, w: int, gen: torch.Generator) -> torch.Tensor:
        """(B, 2, 3) ``affine_grid`` matrices of random crops, flips and Keras transforms (angle uniform in
        ±``rotation``, zoom per axis in ``1 ± zoom``, shift per axis in ±``shift`` of the side)."""
        crop = self._crop_draws(b, h, w, gen)
        angle = torch.empty(b).uniform_(-self.rotation, self.rotation, generator=gen)
        zoom = torch.empty(b, 2).uniform_(1 - self.zoom, 1 + self.zoom, generator=gen)
        shift = torch.empty(b, 2).uniform_(-self.shift, self.shift, generator=gen)
        return affine_matrix(*crop, angle, zoom, shift, h, w)

    def __call__(self, x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        """Crop/flip a (B, H, W, C) uint8 batch into (B, out, out, C): one ``index_select`` over whole pixels (uint8),
        or, with the Keras transform on, one warp (float)."""
        b, h, w, c = x.shape
        if self.geometric:
            return self.warp(x, self.affine_params(b, h, w, gen))
        return self.gather(x, *self.crop_indices(b, h, w, gen, x.device))

    def gather(self, x: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
        """Apply crop indices drawn by :meth:`crop_indices` to a (B, H, W, C) batch."""
        b, h, w, c = x.shape
        row_base = torch.arange(b, device=x.device)[:, None] * (h * w) + rows * w  # (B, out)
        flat = row_base[:, :, None] + cols[:, None, :]  # (B, out, out) pixel indices
        o = self.out_size
        return x.reshape(b * h * w, c).index_select(0, flat.reshape(-1)).reshape(b, o, o, c)

    def warp(self, x: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
        """Resample a (B, H, W, C) batch through the matrices of :meth:`affine_params`: (B, out, out, C) float in
        the input's units, bilinear, coordinates outside the image clamped to its edge."""
        b, h, w, c = x.shape
        grid = torch.nn.functional.affine_grid(theta.to(x.device, torch.float32), [b, c, self.out_size, self.out_size],
                                               align_corners=False)
        out = torch.nn.functional.grid_sample(x.permute(0, 3, 1, 2).float(), grid, mode="bilinear",
                                              padding_mode="border", align_corners=False)
        return out.permute(0, 2, 3, 1)

    def jitter_params(self, b: int, gen: torch.Generator):
        """Per-image contrast gain and brightness offset (in [0, 1] intensity units), or None without jitter."""
        if self.brightness == 0 and self.contrast == 0:
            return None
        gain = 1 + torch.empty(b).uniform_(-self.contrast, self.contrast, generator=gen)
        bias = torch.empty(b).uniform_(-self.brightness, self.brightness, generator=gen)
        return gain, bias


def affine_matrix(ch, cw, y0, x0, flip, angle, zoom, shift, h: int, w: int) -> torch.Tensor:
    """(B, 2, 3) matrices from output to input coordinates in ``affine_grid``'s normalised (x, y) convention.

    Within the crop window (``ch`` × ``cw`` pixels at ``y0``, ``x0``) the map is Keras ``apply_affine_transform``'s
    about the window's centre, in its pixels: input = centre + R(angle) Z (output - centre) + R(angle) t, with R the
    (row, col) rotation [[cos, -sin], [sin, cos]], Z = diag(zoom) and t = shift × side; ``zoom`` and ``shift`` are
    (B, 2) in (x, y) = (column, row) order. A flipped image is mirrored after the transform, as Keras flips last."""
    rad = angle * (np.pi / 180)
    cos, sin = torch.cos(rad), torch.sin(rad)
    # Keras's (row, col) rotation written on (x, y) = (col, row): x' = cos x + sin y, y' = -sin x + cos y
    rot = torch.stack([torch.stack([cos, sin], -1), torch.stack([-sin, cos], -1)], -2)  # (B, 2, 2)
    side = torch.stack([cw, ch], -1)  # window size in pixels, (x, y)
    # pixel offsets from the centre are u * side / 2 in normalised units u: conjugate the pixel map by diag(side)
    lin = rot * (zoom * side)[:, None, :] / side[:, :, None]
    trans = 2 * torch.einsum("bij,bj->bi", rot, shift * side) / side
    mirror = torch.ones(len(flip), 1, 2)
    mirror[flip, 0, 0] = -1.0  # a flipped image reads output column x through the map at -x
    lin = lin * mirror
    scale = torch.stack([cw / w, ch / h], -1)  # the window within the image
    centre = torch.stack([(2 * x0 + cw) / w - 1, (2 * y0 + ch) / h - 1], -1)
    return torch.cat([lin * scale[:, :, None], (trans * scale + centre)[:, :, None]], 2)


CPU_LOADER = "sync"
"""How a CPU fit shares its cores between computing and making batches (``benchmarks/threads.py`` measures the
three in one run):

* ``"spare"``: a prefetch thread makes the next batch while torch computes with one thread fewer than its default,
  so that the thread does not preempt a compute thread at every batch (with both cores computing, the other waits
  at each operator's barrier);
* ``"sync"``: no prefetch thread; the batch is made between steps and every core computes;
* ``"all"``: the prefetch thread and every core computing (torch's default, the slowest on 2 cores).

``"sync"`` is the default: the batch takes a few milliseconds to make against a step of tens to hundreds, so
overlapping them gains less than the contention costs. Seconds per epoch on this book's 2-core CPU, one run of
``benchmarks/threads.py`` (20 batches of 64), sync against spare: LiteXpressionNet 64 px 1.80× faster, small_cnn
32 px 1.52×, EfficientFace 64 px 1.17×, lfer_ldl 32 px 1.13×; ``all`` is 0.57-1.10× spare.
"""
CPU_LOADERS = ("spare", "sync", "all")


def cpu_policy(device, threads: int) -> tuple[int, int | None]:
    """(compute threads, loader prefetch or ``None`` for the loader's default) for a fit on ``device`` under
    :data:`CPU_LOADER`."""
    if CPU_LOADER not in CPU_LOADERS:
        raise ValueError(f"fernb.data.loader.CPU_LOADER={CPU_LOADER!r}; expected one of {CPU_LOADERS}")
    if getattr(device, "type", device) != "cpu" or threads < 2 or CPU_LOADER == "all":
        return threads, None
    return (threads - 1, None) if CPU_LOADER == "spare" else (threads, 0)


class BatchLoader:
    """Iterate ``(images, labels)`` batches over rows ``indices`` of ``store`` (``(images, labels, rows)`` with
    ``with_index=True``).

    ``images`` is float32 NCHW normalised with ``mean``/``std`` (per channel or scalar), on ``device``, in the
    channels-last memory layout or, with ``channels_last=False``, contiguous; ``labels`` is int64.  ``in_chans=3``
    on a one-channel store repeats the channel (grayscale datasets into RGB models).
    """

    def __init__(self, store, indices, labels, batch_size: int = 64, shuffle: bool = False,
                 augment: BatchAugment | None = None, out_size: int | None = None, in_chans: int | None = None,
                 mean=0.5, std=0.5, device="cpu", drop_last: bool = False, seed: int = 0, prefetch: int = 2,
                 with_index: bool = False, sample_weights=None, shard: tuple = (0, 1), channels_last: bool = True):
        self.store, self.with_index, self.channels_last = store, with_index, bool(channels_last)
        self.indices = np.asarray(indices, dtype=np.int64)
        labels = np.asarray(labels)
        if labels.ndim != 1 and labels.ndim != 2:
            raise ValueError(f"labels must be (N,) class indices or (N, K) distributions, got shape {labels.shape}")
        if len(labels) != len(store):
            raise ValueError(f"labels has {len(labels)} rows but the store holds {len(store)} images")
        self.labels = torch.from_numpy(np.array(labels))
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.batch_size, self.shuffle, self.augment, self.drop_last = batch_size, shuffle, augment, drop_last
        h = store.shape[1]
        self.out_size = out_size or (augment.out_size if augment else h)
        if augment is not None and augment.out_size != self.out_size:
            raise ValueError(f"augment.out_size={augment.out_size} differs from out_size={self.out_size}")
        store_c = store.shape[3]
        self.in_chans = in_chans or store_c
        if self.in_chans not in (store_c, 3) or (self.in_chans == 3 and store_c not in (1, 3)):
            raise ValueError(f"in_chans={self.in_chans} cannot be made from a {store_c}-channel store")
        self.device = torch.device(device)
        mean = torch.as_tensor(mean, dtype=torch.float32).reshape(-1)
        std = torch.as_tensor(std, dtype=torch.float32).reshape(-1)
        if len(mean) not in (1, 3) or len(std) not in (1, 3):
            raise ValueError(f"mean and std must be scalars or per-channel triples, got {mean.tolist()} and {std.tolist()}")
        if (std <= 0).any():
            raise ValueError(f"std must be positive, got {std.tolist()}")
        if bool((mean == mean[0]).all() and (std == std[0]).all()):
            # equal statistics for every channel: plain scalars, broadcast over whole images rather than over the
            # 3-wide innermost NHWC axis, which is several times slower
            self.mean, self.std = float(mean[0]), float(std[0])
        elif store_c == 1:
            raise ValueError(f"per-channel mean/std {mean.tolist()}/{std.tolist()} given for a one-channel store")
        else:
            self.mean, self.std = mean.reshape(1, 1, 1, 3).to(self.device), std.reshape(1, 1, 1, 3).to(self.device)
        self.seed, self.epoch, self.prefetch = seed, 0, prefetch
        if sample_weights is not None:
            sample_weights = torch.as_tensor(np.asarray(sample_weights, dtype=np.float64))
            if sample_weights.shape != (len(self.indices),) or not bool(torch.isfinite(sample_weights).all()) \
                    or bool((sample_weights < 0).any()) or float(sample_weights.sum()) <= 0:
                raise ValueError(f"sample_weights must be {len(self.indices)} non-negative finite numbers with a positive sum")
            if not shuffle:
                raise ValueError("sample_weights draw a random epoch; they need shuffle=True")
        self.sample_weights = sample_weights
        rank, world = shard
        if not 0 <= rank < world:
            raise ValueError(f"shard=(rank, world) needs 0 <= rank < world, got {shard}")
        self.shard = (rank, world)

    def set_epoch(self, epoch: int):
        """Select the shuffle order and augmentation draws of ``epoch`` (deterministic given the seed)."""
        self.epoch = epoch

    def __len__(self) -> int:
        n = len(self.indices)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _batch_seed(self, k: int) -> int:
        """Seed of batch ``k`` of the current epoch: each batch draws its augmentation from its own generator, so
        batches can be made in any order and a resumed epoch repeats them exactly.  (Forked worker processes
        sharing the memory map were tried and measured slower than this one thread on 2 cores: 4.0x vs 7.2x the PIL
        peer, the shared-memory hand-off of float batches costing more than it saves.)"""
        return ((self.seed * 100_003 + self.epoch) * 1_000_003 + k + 1) % (2**63)

    def _batches(self):
        order = self.indices
        if self.shuffle:
            gen = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
            if self.sample_weights is not None:  # balanced sampling: an epoch of draws with replacement
                order = order[torch.multinomial(self.sample_weights, len(order), True, generator=gen).numpy()]
            else:
                order = order[torch.randperm(len(order), generator=gen).numpy()]
        for k in range(len(self)):
            yield np.sort(order[k * self.batch_size:(k + 1) * self.batch_size]), self._batch_seed(k)

    CHUNK = 32  # images processed together: their uint8 intermediates stay in cache (measured ~20 % faster than whole batches)

    def _make(self, idx, seed: int):
        """Batch ``idx`` with its augmentation drawn from ``seed``. Under data parallelism (``shard``) every process
        draws the whole batch's augmentation and makes only its contiguous part, so the processes together see
        exactly the images one process would."""
        gen = torch.Generator().manual_seed(seed)
        b_full = len(idx)
        rank, world = self.shard
        part = slice(None)
        if world > 1:
            bounds = np.cumsum([0] + [len(a) for a in np.array_split(np.arange(b_full), world)])
            part = slice(int(bounds[rank]), int(bounds[rank + 1]))
        h, w = self.store.shape[1:3]
        jit = crops = warps = None
        if self.augment is not None:
            jit = self.augment.jitter_params(b_full, gen)
            jit = None if jit is None else (jit[0][part], jit[1][part])
            if self.augment.geometric:  # one affine matrix per image (Keras's transform with the crop and flip)
                warps = self.augment.affine_params(b_full, h, w, gen)[part]
            else:
                crops = self.augment.crop_indices(b_full, h, w, gen, torch.device("cpu"))
                crops = (crops[0][part], crops[1][part])
        idx = idx[part]
        images = torch.from_numpy(self.store.images[idx])  # one gather from the memory map: (B, H, W, C) uint8
        if self.device.type == "cuda":
            images = images.pin_memory().to(self.device, non_blocking=True)
        b, c = len(idx), images.shape[-1]
        out = self._output(b, c, images.device)
        for s in range(0, b, self.CHUNK):
            x = images[s:s + self.CHUNK]
            if warps is not None:
                x = self.augment.warp(x, warps[s:s + self.CHUNK])
            elif crops is not None:
                x = self.augment.gather(x, crops[0][s:s + self.CHUNK].to(x.device), crops[1][s:s + self.CHUNK].to(x.device))
            elif x.shape[1] != self.out_size:  # evaluation at another resolution than the store's
                x = torch.nn.functional.interpolate(x.permute(0, 3, 1, 2).float(), size=(self.out_size, self.out_size),
                                                    mode="bilinear", antialias=True, align_corners=False)
                x = x.round_().clamp_(0, 255).permute(0, 2, 3, 1)
            self._normalise(x, None if jit is None else (jit[0][s:s + self.CHUNK], jit[1][s:s + self.CHUNK]), out[s:s + self.CHUNK])
        if c != self.in_chans:
            out = out.repeat(1, 1, 1, self.in_chans)
        # NHWC viewed as NCHW is the channels_last layout; with channels_last=False the memory is already NCHW
        x = out.permute(0, 3, 1, 2)
        x = x if self.channels_last else x.contiguous()  # a copy only after a channel repeat
        y = self.labels[idx].to(self.device, non_blocking=True)
        if self.with_index:  # per-sample state in a loss (ELR's target memory) needs the store rows
            return x, y, torch.from_numpy(idx).to(self.device)
        return x, y

    def _output(self, b: int, c: int, device) -> torch.Tensor:
        """The float batch to write into, as a (B, out, out, C) view: NHWC memory (channels_last), or NCHW memory
        seen through a permutation, so that a contiguous model gets its layout from the loader's thread instead of
        a copy in the training step (``benchmarks/train.py --through-fit``)."""
        o = self.out_size
        if self.channels_last or c != self.in_chans:
            return torch.empty((b, o, o, c), dtype=torch.float32, device=device)
        return torch.empty((b, c, o, o), dtype=torch.float32, device=device).permute(0, 2, 3, 1)

    def _normalise(self, x: torch.Tensor, jit, out: torch.Tensor) -> torch.Tensor:
        """Write (x / 255 - mean) / std into ``out`` as one cast, one multiply and one add, with the contrast/brightness
        jitter folded into the same per-image scale and offset:
        ((x/255 - m) * g + m + b - mean) / std = x * g / (255 std) + ((1 - g) m + b - mean) / std."""
        mean, std = self.mean, self.std
        out.copy_(x)
        if jit is None:
            return out.mul_(1.0 / (255.0 * std)).sub_(mean / std)
        gain, bias = (t.to(x.device).reshape(-1, 1, 1, 1) for t in jit)
        m = x.sum(dim=(1, 2, 3), keepdim=True, dtype=torch.float32) / (255.0 * x[0].numel())  # per-image mean in [0, 1]
        out.mul_(gain / (255.0 * std)).add_(((1 - gain) * m + bias - mean) / std)
        return out.clamp_(-mean / std, (1 - mean) / std)

    def __iter__(self):
        if self.prefetch <= 0:
            for idx, seed in self._batches():
                yield self._make(idx, seed)
            return
        q: queue.Queue = queue.Queue(maxsize=self.prefetch)
        stop = threading.Event()

        def work():
            try:
                for idx, seed in self._batches():
                    if stop.is_set():
                        return
                    q.put(self._make(idx, seed))
                q.put(None)
            except BaseException as e:  # surface worker errors in the consumer
                q.put(e)

        t = threading.Thread(target=work, daemon=True)
        t.start()
        try:
            while True:
                item = q.get()
                if item is None:
                    break
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()
            while t.is_alive():
                try:
                    q.get_nowait()
                except queue.Empty:
                    t.join(0.01)
