"""Near-duplicate fingerprints, one place for the whole book: the InFER++ construction's de-duplication (§III-A) and
the ResEmoteNet leakage audit both use them.

- :func:`thumbnails`: each image area-resized to a small square, mean-subtracted and scaled to unit length (and the
  same for its mirror image); the dot product of two is their normalised cross-correlation, robust to the brightness
  and contrast changes of a re-encode and to the small shifts and zooms of augmentation.
- :func:`phash`: the classic 64-bit DCT perceptual hash, compared by Hamming distance.
- :func:`nearest_similarity` / :func:`nearest_hamming`: nearest neighbours between two sets, a matrix product at a
  time; :func:`near_duplicate_groups`: connected components of the pairs above a correlation threshold.
"""

from __future__ import annotations

import numpy as np
import scipy.fft
import torch


def phash(images: np.ndarray, hash_size: int = 8, resample: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """DCT perceptual hashes of a uint8 batch (N, H, W) or (N, H, W, C), and of its mirror images, as uint64.

    Each image is reduced to grey, area-resized to ``resample``², transformed by a 2-D DCT-II (two matrix products for
    the whole batch), and its ``hash_size``² lowest frequencies are thresholded at their median (DC excluded). A
    horizontal mirror negates the odd horizontal frequencies, so the mirrored hash costs no second transform."""
    x = torch.from_numpy(np.array(images))
    if x.ndim == 4:
        x = x.float().mean(-1)
    x = x.float()[:, None]
    x = torch.nn.functional.interpolate(x, size=(resample, resample), mode="area")[:, 0].numpy()
    coef = scipy.fft.dctn(x, type=2, axes=(1, 2), norm="ortho")[:, :hash_size, :hash_size]
    sign = np.where(np.arange(hash_size) % 2 == 1, -1.0, 1.0)[None, None, :]
    weights = (1 << np.arange(hash_size * hash_size, dtype=np.uint64)).astype(np.uint64)

    def bits(c):
        flat = c.reshape(len(c), -1)
        med = np.median(flat[:, 1:], axis=1, keepdims=True)
        return ((flat > med).astype(np.uint64) * weights).sum(1, dtype=np.uint64)

    return bits(coef), bits(coef * sign)


def nearest_hamming(a: np.ndarray, b: np.ndarray, b_mirror: np.ndarray | None = None, chunk: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """For every hash in ``a``: the smallest Hamming distance to ``b`` (or to ``b``'s mirrors) and its index in ``b``."""
    if len(b) == 0:
        return np.full(len(a), 64, np.int64), np.full(len(a), -1, np.int64)
    dist, arg = np.empty(len(a), np.int64), np.empty(len(a), np.int64)
    cands = [b] + ([b_mirror] if b_mirror is not None else [])
    for s in range(0, len(a), chunk):
        block = a[s:s + chunk, None]
        d = np.minimum.reduce([np.bitwise_count(block ^ c[None]) for c in cands]).astype(np.int64)
        arg[s:s + chunk] = d.argmin(1)
        dist[s:s + chunk] = d[np.arange(len(d)), arg[s:s + chunk]]
    return dist, arg


def thumbnails(images: np.ndarray, size: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """Tiny-image fingerprints: each image area-resized to ``size``² (colour kept), mean-subtracted and scaled to unit
    length, and the same for its mirror image. Their dot product is the correlation of two blurred thumbnails, which
    survives the small rotations, shifts, zooms and brightness changes of augmentation better than a DCT hash."""
    x = torch.from_numpy(np.array(images))
    x = (x[..., None] if x.ndim == 3 else x).permute(0, 3, 1, 2).float()

    def unit(t):
        t = torch.nn.functional.interpolate(t, size=(size, size), mode="area").reshape(len(t), -1)
        t = t - t.mean(1, keepdim=True)
        return (t / t.norm(dim=1, keepdim=True).clamp_min(1e-6)).numpy()

    return unit(x), unit(x.flip(-1))


def nearest_similarity(a: np.ndarray, b: np.ndarray, b_mirror: np.ndarray | None = None, chunk: int = 4096):
    """For every fingerprint in ``a``: the highest correlation with ``b`` (or its mirrors) and its index in ``b``."""
    if len(b) == 0:
        return np.full(len(a), -1.0), np.full(len(a), -1, np.int64)
    sim, arg = np.empty(len(a)), np.empty(len(a), np.int64)
    for s in range(0, len(a), chunk):
        c = a[s:s + chunk] @ b.T
        if b_mirror is not None:
            c = np.maximum(c, a[s:s + chunk] @ b_mirror.T)
        arg[s:s + chunk] = c.argmax(1)
        sim[s:s + chunk] = c[np.arange(len(c)), arg[s:s + chunk]]
    return sim, arg


def near_duplicate_groups(sig: np.ndarray, min_corr: float, chunk: int = 1024) -> np.ndarray:
    """Group id per image (the index of the group's first image): images whose correlation reaches ``min_corr`` are
    linked, and groups are the connected components of those links.

    The correlations come from a matrix product, ``chunk`` rows at a time (a 50k-image scrape needs about 200 MB),
    with no Python loop over pairs."""
    import torch
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(sig)
    x = torch.from_numpy(np.ascontiguousarray(sig, dtype=np.float32))
    rows, cols = [], []
    for s in range(0, n, chunk):
        r, c = torch.nonzero(x[s:s + chunk] @ x.T >= min_corr, as_tuple=True)
        rows.append(r.numpy() + s)
        cols.append(c.numpy())
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    _, component = connected_components(coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n)), directed=False)
    first = np.full(component.max() + 1, n)
    np.minimum.at(first, component, np.arange(n))
    return first[component]
