"""Label aggregation from crowd votes (InFER++ §III-B/C): majority vote, Dawid–Skene, and the GLAD-style EM of
InFER++ Algorithm 1 / Eqs. 1–3.

All three share one scikit-learn-like API, the shape crowd-kit's aggregators have: ``fit(votes)`` returns the
estimator with ``labels_`` (one label per image), ``proba_`` (posterior over the classes) and model parameters ending
in ``_``; ``fit_predict`` / ``fit_predict_proba`` return ``labels_`` / ``proba_``. ``votes`` is one row per vote:

* crowd-kit's answer table, a DataFrame with columns ``task, worker, label`` holding any hashable ids and any label
  values: results come back by the caller's ids (``labels_`` a Series indexed by task, ``proba_`` a DataFrame with
  one column per label value, ``alphas_`` a Series indexed by worker);
* fernb's integer form, three aligned arrays ``(image, annotator, label)`` or a DataFrame with those columns, images
  and annotators indexed ``0..n-1`` and labels class ids ``0..n_classes-1``: results are arrays in that order
  (an ``image, annotator`` table with other ids or label values is keyed like crowd-kit's).

Every step is vectorised over all votes at once (``np.bincount``), with no per-image or per-annotator Python loop,
so an InFER++-scale matrix (35,789 images × 10 votes) takes seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit, log_expit, logsumexp

# GLAD's default precision of the N(1, 1/precision) prior on annotator reliability α: weak enough that a worker's own
# handful of votes decides (with precision 1 the prior outweighs six votes: in crowd-kit's "simple" fixture a fraud's
# α stays positive, a reliable worker's close to a middling one's, and a three-way split goes to the wrong label),
# strong enough to keep α finite for a worker who is never contradicted
ALPHA_PRIOR = 0.1
CROWDKIT_COLUMNS, FERNB_COLUMNS = ("task", "worker", "label"), ("image", "annotator", "label")


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


@dataclass(frozen=True)
class Keys:
    """The caller's ids behind a :class:`Votes`' codes ``0..n-1``: tasks (images), workers (annotators), classes."""

    tasks: pd.Index
    workers: pd.Index
    classes: pd.Index


def _table_columns(table) -> tuple:
    """crowd-kit's ``task, worker, label`` or fernb's ``image, annotator, label``, else an error naming what lacks."""
    for cols in (CROWDKIT_COLUMNS, FERNB_COLUMNS):
        if all(c in table.columns for c in cols):
            return cols
    missing = min(([c for c in cols if c not in table.columns] for cols in (FERNB_COLUMNS, CROWDKIT_COLUMNS)), key=len)
    raise ValueError(f"votes table lacks column(s) {missing}; it has {list(table.columns)} (expected columns "
                     f"task, worker, label as in crowd-kit, or image, annotator, label)")


def _codes(values: pd.Series, name: str) -> tuple[np.ndarray, pd.Index]:
    missing = np.flatnonzero(values.isna().to_numpy())
    if len(missing):
        raise ValueError(f"votes: {name} at row {missing[0]} is missing ({values.iloc[missing[0]]!r})")
    try:
        codes, uniques = pd.factorize(values, sort=True)
    except TypeError:  # ids of mixed types that do not sort: order of first appearance
        codes, uniques = pd.factorize(values, sort=False)
    return codes.astype(np.int64), pd.Index(uniques, name=name)


def encode_votes(votes, n_classes: int | None = None) -> tuple[Votes, Keys | None]:
    """Validated :class:`Votes` and the :class:`Keys` mapping its codes back to the caller's ids (``None`` for
    fernb's integer form, whose ids are the codes). In a keyed table the classes are the distinct label values,
    sorted, unless ``n_classes`` is given and the labels are class ids ``0..n_classes-1``."""
    if not hasattr(votes, "columns"):
        return as_votes(votes, n_classes), None
    cols = _table_columns(votes)
    table = votes[list(cols)].reset_index(drop=True)
    numeric = all(table[c].dtype.kind in "iuf" for c in cols)
    if cols == FERNB_COLUMNS and numeric:  # fernb's integer form (floats are checked to be whole there)
        return as_votes(votes, n_classes), None
    if len(table) == 0:
        raise ValueError("votes: there are no votes")
    (image, tasks), (annotator, workers) = _codes(table[cols[0]], cols[0]), _codes(table[cols[1]], cols[1])
    label_values = table["label"]
    if n_classes is not None and label_values.dtype.kind in "iu" and label_values.between(0, n_classes - 1).all():
        label, classes = label_values.to_numpy().astype(np.int64), pd.RangeIndex(n_classes, name="label")
    else:
        label, classes = _codes(label_values, "label")
        if n_classes is not None and n_classes != len(classes):
            raise ValueError(f"n_classes={n_classes}, but the votes hold {len(classes)} distinct label values "
                             f"{list(classes)[:10]}; leave n_classes unset for a table of label values")
    v = Votes(image, annotator, label, len(tasks), len(workers), len(classes))
    return v, Keys(pd.Index(tasks, name="task"), pd.Index(workers, name="worker"), classes)


def as_votes(votes, n_classes: int | None = None, n_images: int | None = None,
             n_annotators: int | None = None) -> Votes:
    """Validate votes; every problem is reported with the offending row and value before any work is done.

    Images or annotators inside ``0..n-1`` with no votes are an error (an image with no votes has no label to
    estimate; pass the votes of the images you want labelled). NaNs, non-integers and labels outside
    ``0..n_classes-1`` (7 unless given) are errors. A keyed table (crowd-kit's) is coded by :func:`encode_votes`.
    """
    if isinstance(votes, Votes):  # already validated (e.g. by drop_unreliable, which may leave annotators voteless)
        if n_classes is not None and votes.n_classes != n_classes:
            raise ValueError(f"votes were prepared for {votes.n_classes} classes, not {n_classes}")
        return votes
    if hasattr(votes, "columns"):
        if _table_columns(votes) == CROWDKIT_COLUMNS or any(votes[c].dtype.kind not in "iuf" for c in FERNB_COLUMNS):
            return encode_votes(votes, n_classes)[0]  # a keyed table: codes in sorted order of its ids
        votes = (votes["image"].to_numpy(), votes["annotator"].to_numpy(), votes["label"].to_numpy())
    n_classes = 7 if n_classes is None else n_classes
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


class Aggregator:
    """What the three aggregators share: crowd-kit's ``fit_predict`` / ``fit_predict_proba`` and results by the
    caller's ids for a keyed table (see the module docstring)."""

    n_classes: int | None

    def _votes(self, votes) -> Votes:
        v, self._keys = encode_votes(votes, self.n_classes)
        return v

    def _publish(self, **per_worker):
        """Re-key the fitted arrays: labels and posteriors by task, ``per_worker`` arrays by worker."""
        keys = self._keys
        if keys is None:
            return self
        self.labels_ = pd.Series(keys.classes[self.labels_], index=keys.tasks, name="agg_label")
        self.proba_ = pd.DataFrame(self.proba_, index=keys.tasks, columns=keys.classes)
        if getattr(self, "priors_", None) is not None:
            self.priors_ = pd.Series(self.priors_, index=keys.classes, name="prior")
        for name, values in per_worker.items():
            setattr(self, name, pd.Series(values, index=keys.workers, name=name.rstrip("_")))
        return self

    def fit_predict(self, votes):
        """``fit(votes).labels_``."""
        return self.fit(votes).labels_

    def fit_predict_proba(self, votes):
        """``fit(votes).proba_``."""
        return self.fit(votes).proba_


class MajorityVote(Aggregator):
    """The plurality of each image's votes; ``proba_`` is the vote share. Ties are broken at random (``seed``)."""

    def __init__(self, n_classes: int | None = None, seed: int = 0):
        self.n_classes, self.seed = n_classes, seed

    def fit(self, votes):
        v = self._votes(votes)
        counts = v.counts
        self.proba_ = counts / counts.sum(1, keepdims=True)
        self.labels_ = labels_from(self.proba_, np.random.default_rng(self.seed))
        self.n_ties_ = int(((self.proba_ >= self.proba_.max(1, keepdims=True) - 1e-12).sum(1) > 1).sum())
        return self._publish()


class DawidSkene(Aggregator):
    """Dawid & Skene (1979): each annotator has a full confusion matrix π_a[true, given]; EM from majority vote.

    ``confusions_`` (annotators × K × K), ``priors_`` (K), ``n_iter_``, ``log_likelihood_``.

    With a single annotator the model is not identifiable (EM can trade every label for the majority class through
    the confusion matrix), so ``fit`` returns that annotator's labels with ``n_iter_ = 0``.
    """

    def __init__(self, n_classes: int | None = None, max_iter: int = 100, tol: float = 1e-6, smoothing: float = 0.01,
                 seed: int = 0):
        self.n_classes, self.max_iter, self.tol, self.smoothing, self.seed = n_classes, max_iter, tol, smoothing, seed

    def fit(self, votes):
        v = self._votes(votes)
        k, a_idx = v.n_classes, v.annotator * v.n_classes + v.label
        post = MajorityVote(k, self.seed).fit(v).proba_
        if len(np.unique(v.annotator)) == 1:
            self.proba_, self.labels_, self.n_iter_, self.log_likelihood_ = post, post.argmax(1), 0, 0.0
            self.priors_ = post.mean(0)
            self.confusions_ = np.tile(np.eye(k), (v.n_annotators, 1, 1))
            return self._publish()
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
            with np.errstate(divide="ignore"):  # smoothing=0: a never-seen confusion is impossible, log 0 = -inf
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
        return self._publish()


class GLAD(Aggregator):
    """GLAD-style EM, InFER++ Algorithm 1 with Eqs. 1–3 (after Whitehill et al. 2009).

    An annotator a with reliability α_a labels image j, whose difficulty is 1/β_j (β_j > 0), correctly with
    probability σ(α_a β_j) (Eq. 1); a wrong vote is spread uniformly over the other K − 1 classes. EM maximises the
    lower bound of Eq. 2: the E-step is Eq. 3 (posterior over the hidden true label); the M-step maximises the
    expected complete log-likelihood over α and log β (block-coordinate Newton steps, vectorised over the votes, with
    Gaussian priors keeping both finite: α ~ N(1, 1/``alpha_prior``), log β ~ N(0, 1/``beta_prior``); a precision
    of 0 is no prior), and re-estimates the class prior. ``alpha_prior`` = 0.1 by default lets a worker's few votes
    outweigh the prior (see :data:`ALPHA_PRIOR`); InFER++-scale crowds (hundreds of votes each) barely feel it.

    Initialisation (Alg. 1, line 1): true labels from majority vote and α = 1. Alg. 1 sets β_j to the image's vote
    entropy H_j, but in Eq. 1 1/β_j is the difficulty, so that literal reading would make the most ambiguous image the
    easiest. ``beta_init="entropy"`` (default) uses β_j = exp(−H_j), which agrees with Eq. 1 (1 for a unanimous image,
    smaller the more the votes spread); ``"one"`` starts every β at 1 (Whitehill's choice).

    Fitted: ``alphas_`` (annotators), ``betas_`` (images), ``priors_``, ``proba_``, ``labels_``, ``n_iter_``,
    ``log_likelihood_``. Iterations are capped (``max_iter``) and the parameters bounded, so it always terminates with
    finite values.
    """

    def __init__(self, n_classes: int | None = None, max_iter: int = 50, tol: float = 1e-5, beta_init: str = "entropy",
                 m_step_iter: int = 10, seed: int = 0, alpha_prior: float = ALPHA_PRIOR, beta_prior: float = 1.0):
        if beta_init not in ("entropy", "one"):
            raise ValueError(f"beta_init must be 'entropy' or 'one', got {beta_init!r}")
        for name, value in (("alpha_prior", alpha_prior), ("beta_prior", beta_prior)):
            if not value >= 0:
                raise ValueError(f"{name} must be a precision >= 0 (0: no prior), got {value!r}")
        self.n_classes, self.max_iter, self.tol, self.beta_init = n_classes, max_iter, tol, beta_init
        self.m_step_iter, self.seed, self.alpha_prior, self.beta_prior = m_step_iter, seed, alpha_prior, beta_prior

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
            grad = np.bincount(v.annotator, weights=g * bv, minlength=na) - self.alpha_prior * (alpha - 1)
            hess = np.bincount(v.annotator, weights=h * bv * bv, minlength=na) + self.alpha_prior + 1e-9
            step_a = np.clip(grad / hess, -2, 2)
            alpha = np.clip(alpha + step_a, -20, 20)
            av = alpha[v.annotator]
            x = av * bv
            s = expit(x)
            g, h = q - s, s * (1 - s)
            # d/dlogβ of f(αβ) = f'·αβ; second derivative f''·(αβ)² + f'·αβ; prior −logβ; use the Gauss–Newton part
            grad = np.bincount(v.image, weights=g * x, minlength=ni) - self.beta_prior * log_beta
            hess = np.bincount(v.image, weights=h * x * x, minlength=ni) + self.beta_prior + 1e-9
            step_b = np.clip(grad / hess, -2, 2)
            log_beta = np.clip(log_beta + step_b, -10, 5)
            if max(np.abs(step_a).max(), np.abs(step_b).max()) < 1e-4:
                break
        return alpha, log_beta

    def fit(self, votes):
        v = self._votes(votes)
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
        self._publish(alphas_=alpha)
        if self._keys is not None:
            self.betas_ = pd.Series(self.betas_, index=self._keys.tasks, name="beta")
        return self


def drop_unreliable(votes, alphas, threshold: float | None = None, keep: int | None = None):
    """Remove the votes of unreliable annotators (InFER++ §III-C: 30 annotators → 24).

    Either ``keep`` the most reliable ones or drop those with α below ``threshold``. Returns the remaining votes (as
    a ``Votes`` with the original image and annotator ids) and the sorted ids of the dropped annotators. Raises if an
    image would lose all its votes, naming it. A keyed table (crowd-kit's) gives back its remaining rows and the
    dropped workers' ids; ``alphas`` may then be ``GLAD().fit(table).alphas_`` (a Series by worker).
    """
    v, keys = encode_votes(votes)
    if keys is not None and isinstance(alphas, pd.Series):
        absent = keys.workers.difference(alphas.index)
        if len(absent):
            raise ValueError(f"alphas has no value for worker(s) {list(absent[:5])}")
        alphas = alphas.reindex(keys.workers)
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
        names = (lambda codes: list(codes)) if keys is None else (lambda codes: list(keys.workers[codes]))
        first = int(np.argmax(left == 0)) if keys is None else keys.tasks[int(np.argmax(left == 0))]
        raise ValueError(f"dropping annotators {names(dropped)} leaves {int((left == 0).sum())} image(s) with no "
                         f"votes (first: {first!r}); keep more annotators")
    if keys is not None:
        return votes[mask], keys.workers[dropped]
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
