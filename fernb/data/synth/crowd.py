"""Simulated crowd annotation for SynthFER, after the GLAD model (Whitehill et al., 2009) that InFER++ §III-C, Alg. 1
and Eqs. 1-3 fit.

Annotator j has reliability alpha_j; image i has inverse difficulty beta_i > 0.  Annotator j labels image i
correctly with probability sigmoid(alpha_j * beta_i) (InFER++ Eq. 1); a wrong vote goes to the image's most
confusable class with probability ``confusion_share`` and uniformly to another class otherwise, so that mistakes
follow the expression confusions real crowds make (fear/surprise, anger/disgust, sadness/neutral).
"""

from __future__ import annotations

import numpy as np

from fernb.labels import EXPRESSIONS

CONFUSABLE = {
    "anger": "disgust", "disgust": "anger", "fear": "surprise", "happiness": "surprise",
    "neutral": "sadness", "sadness": "neutral", "surprise": "fear",
}
CONFUSABLE_INDEX = np.array([EXPRESSIONS.index(CONFUSABLE[e]) for e in EXPRESSIONS])


def sample_annotators(rng: np.random.Generator, n: int) -> np.ndarray:
    """Reliabilities alpha_j of a pool of n annotators: mostly careful, some sloppy, a few near-random.

    The mixture (70 % careful, 22 % sloppy, 8 % spammers) is a modelling choice that gives a vote accuracy around the
    70-80 % real FER crowds show; it is what InFER++'s assessment round (§III-B) is there to filter.
    """
    kind = rng.choice(3, size=n, p=[0.70, 0.22, 0.08])
    alpha = np.where(kind == 0, rng.uniform(1.6, 3.2, n), np.where(kind == 1, rng.uniform(0.6, 1.5, n), rng.uniform(-0.3, 0.3, n)))
    return alpha.astype(np.float32)


def inverse_difficulty(clarity: np.ndarray) -> np.ndarray:
    """beta_i from how clearly the image shows its expression (0 = ambiguous, 1 = textbook)."""
    return (0.02 + 2.8 * np.clip(clarity, 0, 1) ** 2).astype(np.float32)


def apparent_labels(rng: np.random.Generator, true_label: np.ndarray, confusable: np.ndarray, clarity: np.ndarray,
                    threshold: float = 0.45):
    """The label a careful viewer would give, and the class the remaining mistakes go to.

    Under GLAD a positive-reliability annotator is right more often than not, so a crowd's plurality can only be
    wrong where the image itself reads as another expression.  Below ``threshold`` clarity, an image reads as its
    confusable class with probability 0.5 * (1 - clarity / threshold): a faint fear that looks neutral, an
    anger/disgust blend that looks like disgust.  Such errors are irreducible by any aggregator; they are the share
    of label noise only re-annotation by experts (InFER++ Alg. 2) can fix.
    """
    switch = rng.random(len(true_label)) < 0.5 * np.clip(1 - clarity / threshold, 0, 1)
    return np.where(switch, confusable, true_label), np.where(switch, true_label, confusable)


def simulate_votes(rng: np.random.Generator, true_label: np.ndarray, beta: np.ndarray, alpha: np.ndarray,
                   votes_per_image: int, partner: np.ndarray | None = None, confusion_share: float = 0.7):
    """Draw ``votes_per_image`` votes per image from distinct random annotators.

    Returns (image_index, annotator_index, vote) arrays of length n_images * votes_per_image.
    ``partner`` gives each image's confusable class (defaults to the canonical confusion of its true class).
    """
    n, m = len(true_label), len(alpha)
    if votes_per_image > m:
        raise ValueError(f"votes_per_image={votes_per_image} exceeds the annotator pool of {m}")
    # distinct annotators per image: the first k columns of a random permutation of the pool, row by row
    ann = np.argsort(rng.random((n, m)), axis=1)[:, :votes_per_image]
    img = np.repeat(np.arange(n), votes_per_image).reshape(n, votes_per_image)
    y = true_label[:, None]
    p_correct = 1.0 / (1.0 + np.exp(-alpha[ann] * beta[:, None]))
    correct = rng.random(ann.shape) < p_correct
    if partner is None:
        partner = CONFUSABLE_INDEX[true_label]
    to_partner = rng.random(ann.shape) < confusion_share
    # a uniform wrong class: shift by 1..K-1 modulo K
    k = len(EXPRESSIONS)
    uniform_wrong = (y + rng.integers(1, k, size=ann.shape)) % k
    wrong = np.where(to_partner & (partner[:, None] != y), partner[:, None], uniform_wrong)
    votes = np.where(correct, y, wrong)
    return img.ravel(), ann.ravel(), votes.ravel().astype(np.int64)


def vote_counts(image: np.ndarray, vote: np.ndarray, n_images: int, k: int = len(EXPRESSIONS)) -> np.ndarray:
    """(n_images, k) vote-count vectors, the 7-dimensional vote vectors InFER++ §III-C describes."""
    counts = np.zeros((n_images, k), dtype=np.int64)
    np.add.at(counts, (image, vote), 1)
    return counts
