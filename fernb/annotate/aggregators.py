"""Label aggregation from crowd votes (InFER++ §III-B/C): majority vote, Dawid–Skene, and the GLAD-style EM of
InFER++ Algorithm 1 / Eqs. 1–3.

All three share one scikit-learn-like API: ``fit(votes)`` returns the estimator with ``labels_`` (one label per
image), ``proba_`` (posterior over the classes) and model parameters ending in ``_``. ``votes`` is three aligned
integer arrays ``(image, annotator, label)`` (or a DataFrame with those columns), one row per vote; images and
annotators are indexed ``0..n-1``. Every step is vectorised over all votes at once (``np.bincount``), with no
per-image or per-annotator Python loop, so an InFER++-scale matrix (35,789 images × 10 votes) takes seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit, log_expit, logsumexp


@dataclass(frozen=True)
class Votes:
    image: np.ndarray
    annotator: np.ndarray
    label: np.ndarray
    n_images: int
    n_annotators: int
    n_classes: int

    @property
    def counts(self) -> np.ndarray:
        """(n_images, n_classes) vote counts: InFER++'s 7-dimensional vote vectors (§III-B)."""
        k = self.n_classes
        return np.bincount(self.image * k + self.label, minlength=self.n_images * k).reshape(self.n_images, k)


def as_votes(votes, n_classes: int = 7, n_images: int | None = None, n_annotators: int | None = None) -> Votes:
    """Validate votes; every problem is reported with the offending row and value before any work is done.

    Images or annotators inside ``0..n-1`` with no votes are an error (an image with no votes has no label to
    estimate; pass the votes of the images you want labelled). NaNs, non-integers and labels outside
    ``0..n_classes-1`` are errors.
    """
    if isinstance(votes, Votes):  # already validated (e.g. by drop_unreliable, which may leave annotators voteless)
        if votes.n_classes != n_classes:
            raise ValueError(f"votes were prepared for {votes.n_classes} classes, not {n_classes}")
        return votes
    if hasattr(votes, "columns"):
        missing = [c for c in ("image", "annotator", "label") if c not in votes.columns]
        if missing:
            raise ValueError(f"votes table lacks column(s) {missing}; it has {list(votes.columns)}")
        votes = (votes["image"].to_numpy(), votes["annotator"].to_numpy(), votes["label"].to_numpy())
    if len(votes) != 3:
        raise ValueError("votes must be (image, annotator, label) arrays or a DataFrame with those columns")
    arrays = []
    for name, a in zip(("image", "annotator", "label"), votes):
        a = np.asarray(a)
        if a.ndim != 1:
            raise ValueError(f"votes: {name} must be one-dimensional, got shape {a.shape}")
        if a.dtype.kind == "f":
            bad = np.flatnonzero(~np.isfinite(a) | (a != np.round(a)))
            if len(bad):
                raise ValueError(f"votes: {name} at row {bad[0]} is {float(a[bad[0]])}; expected an integer id")
            a = a.astype(np.int64)
        elif a.dtype.kind not in "iu":
            raise ValueError(f"votes: {name} must hold integers, got dtype {a.dtype}")
        arrays.append(a.astype(np.int64))
    image, annotator, label = arrays
    if not (len(image) == len(annotator) == len(label)):
        raise ValueError(f"votes: image, annotator and label differ in length ({len(image)}, {len(annotator)}, {len(label)})")
    if len(image) == 0:
        raise ValueError("votes: there are no votes")
    for name, a in (("image", image), ("annotator", annotator)):
        if a.min() < 0:
            raise ValueError(f"votes: {name} at row {int(np.argmin(a))} is negative")
    bad = np.flatnonzero((label < 0) | (label >= n_classes))
    if len(bad):
        raise ValueError(f"votes: label at row {bad[0]} is {label[bad[0]]}; expected 0..{n_classes - 1}")
    n_images = int(image.max()) + 1 if n_images is None else n_images
    n_annotators = int(annotator.max()) + 1 if n_annotators is None else n_annotators
    for name, a, n in (("image", image, n_images), ("annotator", annotator, n_annotators)):
        if a.max() >= n:
            raise ValueError(f"votes: {name} id {int(a.max())} is outside 0..{n - 1}")
        empty = np.flatnonzero(np.bincount(a, minlength=n) == 0)
        if len(empty):
            raise ValueError(f"votes: {len(empty)} {name}(s) in 0..{n - 1} have no votes (first: {empty[0]}); "
                             f"re-index the {name}s that were voted on")
    return Votes(image, annotator, label, n_images, n_annotators, n_classes)


def labels_from(proba: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """argmax with ties broken at random (seeded), not towards the lowest class index."""
    top = proba >= proba.max(1, keepdims=True) - 1e-12
    noise = rng.random(proba.shape) * top
    return noise.argmax(1)


class MajorityVote:
    """The plurality of each image's votes; ``proba_`` is the vote share. Ties are broken at random (``seed``)."""

    def __init__(self, n_classes: int = 7, seed: int = 0):
        self.n_classes, self.seed = n_classes, seed

    def fit(self, votes):
        v = as_votes(votes, self.n_classes)
        counts = v.counts
        self.proba_ = counts / counts.sum(1, keepdims=True)
        self.labels_ = labels_from(self.proba_, np.random.default_rng(self.seed))
        self.n_ties_ = int(((self.proba_ >= self.proba_.max(1, keepdims=True) - 1e-12).sum(1) > 1).sum())
        return self


class DawidSkene:
    """Dawid & Skene (1979): each annotator has a full confusion matrix π_a[true, given]; EM from majority vote.

    ``confusions_`` (annotators × K × K), ``priors_`` (K), ``n_iter_``, ``log_likelihood_``.

    With a single annotator the model is not identifiable (EM can trade every label for the majority class through
    the confusion matrix), so ``fit`` returns that annotator's labels with ``n_iter_ = 0``.
    """

    def __init__(self, n_classes: int = 7, max_iter: int = 100, tol: float = 1e-6, smoothing: float = 0.01, seed: int = 0):
        self.n_classes, self.max_iter, self.tol, self.smoothing, self.seed = n_classes, max_iter, tol, smoothing, seed

    def fit(self, votes):
        v = as_votes(votes, self.n_classes)
        k, a_idx = v.n_classes, v.annotator * v.n_classes + v.label
        post = MajorityVote(k, self.seed).fit(v).proba_
        if len(np.unique(v.annotator)) == 1:
            self.proba_, self.labels_, self.n_iter_, self.log_likelihood_ = post, post.argmax(1), 0, 0.0
            self.priors_ = post.mean(0)
            self.confusions_ = np.tile(np.eye(k), (v.n_annotators, 1, 1))
            return self
        prev = -np.inf
        for it in range(1, self.max_iter + 1):
            # M-step: confusion counts Σ_votes T[image, true] at (annotator, true, given), smoothed
            conf = np.stack([np.bincount(a_idx, weights=post[v.image, t], minlength=v.n_annotators * k)
                             for t in range(k)], axis=1).reshape(v.n_annotators, k, k)  # (annotator, given, true)
            conf = conf.transpose(0, 2, 1) + self.smoothing
            conf /= conf.sum(2, keepdims=True)
            priors = post.mean(0) + 1e-12
            priors /= priors.sum()
            # E-step: log p(true | votes) = log prior + Σ_votes log π[a, true, given]
            log_conf = np.log(conf)[v.annotator, :, v.label]  # (votes, true)
            logpost = np.log(priors) + np.stack([np.bincount(v.image, weights=log_conf[:, t], minlength=v.n_images)
                                                 for t in range(k)], axis=1)
            norm = logsumexp(logpost, axis=1, keepdims=True)
            post = np.exp(logpost - norm)
            ll = float(norm.sum())
            if ll - prev < self.tol * max(1.0, abs(ll)):
                break
            prev = ll
        self.confusions_, self.priors_, self.proba_ = conf, priors, post
        self.labels_ = labels_from(post, np.random.default_rng(self.seed))
        self.n_iter_, self.log_likelihood_ = it, ll
        return self


class GLAD:
    """GLAD-style EM, InFER++ Algorithm 1 with Eqs. 1–3 (after Whitehill et al. 2009).

    An annotator a with reliability α_a labels image j, whose difficulty is 1/β_j (β_j > 0), correctly with
    probability σ(α_a β_j) (Eq. 1); a wrong vote is spread uniformly over the other K − 1 classes. EM maximises the
    lower bound of Eq. 2: the E-step is Eq. 3 (posterior over the hidden true label); the M-step maximises the
    expected complete log-likelihood over α and log β (block-coordinate Newton steps, vectorised over the votes, with
    a Gaussian prior N(1, 1) on α and N(0, 1) on log β keeping both finite), and re-estimates the class prior.

    Initialisation (Alg. 1, line 1): true labels from majority vote and α = 1. Alg. 1 sets β_j to the image's vote
    entropy H_j, but in Eq. 1 1/β_j is the difficulty, so that literal reading would make the most ambiguous image the
    easiest. ``beta_init="entropy"`` (default) uses β_j = exp(−H_j), which agrees with Eq. 1 (1 for a unanimous image,
    smaller the more the votes spread); ``"one"`` starts every β at 1 (Whitehill's choice).

    Fitted: ``alphas_`` (annotators), ``betas_`` (images), ``priors_``, ``proba_``, ``labels_``, ``n_iter_``,
    ``log_likelihood_``. Iterations are capped (``max_iter``) and the parameters bounded, so it always terminates with
    finite values.
    """

    def __init__(self, n_classes: int = 7, max_iter: int = 50, tol: float = 1e-5, beta_init: str = "entropy",
                 m_step_iter: int = 10, seed: int = 0):
        if beta_init not in ("entropy", "one"):
            raise ValueError(f"beta_init must be 'entropy' or 'one', got {beta_init!r}")
        self.n_classes, self.max_iter, self.tol, self.beta_init = n_classes, max_iter, tol, beta_init
        self.m_step_iter, self.seed = m_step_iter, seed

    def _e_step(self, v: Votes, alpha, log_beta, log_prior):
        x = alpha[v.annotator] * np.exp(log_beta[v.image])
        right, wrong = log_expit(x), log_expit(-x) - np.log(v.n_classes - 1)
        k = v.n_classes
        logpost = log_prior + np.bincount(v.image, weights=wrong, minlength=v.n_images)[:, None]
        logpost = logpost + np.bincount(v.image * k + v.label, weights=right - wrong,
                                        minlength=v.n_images * k).reshape(v.n_images, k)
        norm = logsumexp(logpost, axis=1, keepdims=True)
        return np.exp(logpost - norm), float(norm.sum())

    def _m_step(self, v: Votes, q, alpha, log_beta):
        """Maximise Σ_votes [q log σ(αβ) + (1 − q) log(1 − σ(αβ))] − (α − 1)²/2 − (log β)²/2, q = P(vote is right).

        Block-coordinate Newton: all α at once with β fixed, then all log β with α fixed; each block's Hessian is
        diagonal, so one step is a handful of ``bincount`` calls over the votes. The objective is concave in each
        block, steps are clipped to ±2 for safety and the parameters bounded (α in ±20, log β in [−10, 5]).
        """
        na, ni = v.n_annotators, v.n_images
        for _ in range(self.m_step_iter):
            b = np.exp(log_beta)
            bv = b[v.image]
            x = alpha[v.annotator] * bv
            s = expit(x)
            g, h = q - s, s * (1 - s)
            grad = np.bincount(v.annotator, weights=g * bv, minlength=na) - (alpha - 1)
            hess = np.bincount(v.annotator, weights=h * bv * bv, minlength=na) + 1
            step_a = np.clip(grad / hess, -2, 2)
            alpha = np.clip(alpha + step_a, -20, 20)
            av = alpha[v.annotator]
            x = av * bv
            s = expit(x)
            g, h = q - s, s * (1 - s)
            # d/dlogβ of f(αβ) = f'·αβ; second derivative f''·(αβ)² + f'·αβ; prior −logβ; use the Gauss–Newton part
            grad = np.bincount(v.image, weights=g * x, minlength=ni) - log_beta
            hess = np.bincount(v.image, weights=h * x * x, minlength=ni) + 1
            step_b = np.clip(grad / hess, -2, 2)
            log_beta = np.clip(log_beta + step_b, -10, 5)
            if max(np.abs(step_a).max(), np.abs(step_b).max()) < 1e-4:
                break
        return alpha, log_beta

    def fit(self, votes):
        v = as_votes(votes, self.n_classes)
        mv = MajorityVote(v.n_classes, self.seed).fit(v)
        post = np.eye(v.n_classes)[mv.labels_]
        alpha = np.ones(v.n_annotators)
        if self.beta_init == "entropy":
            share = mv.proba_
            entropy = -(share * np.log(np.where(share > 0, share, 1))).sum(1)
            log_beta = -entropy
        else:
            log_beta = np.zeros(v.n_images)
        prev = -np.inf
        for it in range(1, self.max_iter + 1):
            priors = post.mean(0) + 1e-6
            priors /= priors.sum()
            alpha, log_beta = self._m_step(v, post[v.image, v.label], alpha, log_beta)
            post, ll = self._e_step(v, alpha, log_beta, np.log(priors))
            if ll - prev < self.tol * max(1.0, abs(ll)):
                break
            prev = ll
        self.alphas_, self.betas_, self.priors_, self.proba_ = alpha, np.exp(log_beta), priors, post
        self.labels_ = labels_from(post, np.random.default_rng(self.seed))
        self.n_iter_, self.log_likelihood_ = it, ll
        return self


def drop_unreliable(votes, alphas, threshold: float | None = None, keep: int | None = None):
    """Remove the votes of unreliable annotators (InFER++ §III-C: 30 annotators → 24).

    Either ``keep`` the most reliable ones or drop those with α below ``threshold``. Returns the remaining votes (as
    a ``Votes`` with the original image and annotator ids) and the sorted ids of the dropped annotators. Raises if an
    image would lose all its votes, naming it.
    """
    v = as_votes(votes)
    alphas = np.asarray(alphas, dtype=float)
    if len(alphas) != v.n_annotators:
        raise ValueError(f"alphas has {len(alphas)} entries for {v.n_annotators} annotators")
    if (threshold is None) == (keep is None):
        raise ValueError("give exactly one of threshold= or keep=")
    if keep is not None:
        if not 1 <= keep <= v.n_annotators:
            raise ValueError(f"keep={keep} must be in 1..{v.n_annotators}")
        dropped = np.sort(np.argsort(-alphas, kind="stable")[keep:])
    else:
        dropped = np.flatnonzero(alphas < threshold)
    mask = ~np.isin(v.annotator, dropped)
    left = np.bincount(v.image[mask], minlength=v.n_images)
    if (left == 0).any():
        raise ValueError(f"dropping annotators {dropped.tolist()} leaves {int((left == 0).sum())} image(s) with no "
                         f"votes (first: {int(np.argmax(left == 0))}); keep more annotators")
    out = Votes(v.image[mask], v.annotator[mask], v.label[mask], v.n_images, v.n_annotators, v.n_classes)
    return out, dropped


def dataset_votes(dataset):
    """The per-annotator votes of a dataset that ships them (SynthFER's ``votes.csv``), as validated ``Votes`` whose
    image ids are the dataset's record positions, and the simulated reliabilities when ``annotators.csv`` exists."""
    import pandas as pd

    path = dataset.root / "votes.csv"
    if not path.exists():
        raise FileNotFoundError(f"{path}: this dataset ships no per-annotator votes (SynthFER domains do; InFER++'s "
                                "public release has only per-class vote counts)")
    table = pd.read_csv(path)
    position = pd.Series(np.arange(len(dataset.records)), index=dataset.records["image"].to_numpy())
    missing = ~table["image"].isin(position.index)
    if missing.any():
        raise ValueError(f"{path}: line {int(np.argmax(missing.to_numpy())) + 2} votes for {table['image'][missing].iloc[0]!r}, "
                         "which is not in the records")
    v = as_votes((position[table["image"]].to_numpy(), table["annotator"].to_numpy(), table["label"].to_numpy()),
                 n_images=len(dataset.records))
    ann = dataset.root / "annotators.csv"
    alpha = pd.read_csv(ann).sort_values("annotator")["alpha"].to_numpy() if ann.exists() else None
    return v, alpha
