"""GLAD-style EM (InFER++ Alg. 1) on an InFER++-scale vote matrix: fernb against crowd-kit, in the same run.

    python benchmarks/annotation.py [--images 35789] [--annotators 30] [--votes 10] [--seed 0] [--no-peer]

The votes come from SynthFER's annotator model (``fernb.data.synth.crowd``: GLAD reliabilities, image difficulty,
confusable-class mistakes). Prints wall time, accuracy against the latent truth, the correlation of the estimated
reliabilities with the simulated ones, fernb's peak traced memory, and the speed ratio. crowd-kit is an optional peer
(``pip install "fernb[peers]"``); without it only fernb's figures are printed.
"""

import argparse
import time
import tracemalloc

import numpy as np

from fernb.annotate import GLAD, DawidSkene, MajorityVote
from fernb.data.synth import crowd


def make_votes(n_images, n_annotators, votes_per_image, seed):
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 7, n_images)
    beta = crowd.inverse_difficulty(rng.beta(2.0, 1.2, n_images))
    alpha = crowd.sample_annotators(rng, n_annotators)
    img, ann, vote = crowd.simulate_votes(rng, truth, beta, alpha, votes_per_image)
    return (img, ann, vote), truth, alpha


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", type=int, default=35789)
    ap.add_argument("--annotators", type=int, default=30)
    ap.add_argument("--votes", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-peer", action="store_true")
    args = ap.parse_args()
    votes, truth, alpha = make_votes(args.images, args.annotators, args.votes, args.seed)
    print(f"{args.images} images x {args.votes} votes from {args.annotators} annotators = {len(votes[0])} votes")

    for est in (MajorityVote(), DawidSkene()):
        fitted, dt = timed(lambda: est.fit(votes))
        print(f"fernb {type(est).__name__:12s} {dt:7.2f} s  accuracy {(fitted.labels_ == truth).mean():.4f}")
    tracemalloc.start()
    glad, t_fernb = timed(lambda: GLAD().fit(votes))
    peak = tracemalloc.get_traced_memory()[1] / 2 ** 20
    tracemalloc.stop()
    acc_fernb = (glad.labels_ == truth).mean()
    print(f"fernb GLAD         {t_fernb:7.2f} s  accuracy {acc_fernb:.4f}  alpha corr "
          f"{np.corrcoef(glad.alphas_, alpha)[0, 1]:.3f}  EM iterations {glad.n_iter_}  peak traced memory {peak:.0f} MiB")
    if args.no_peer:
        return
    try:
        import pandas as pd
        from crowdkit.aggregation import GLAD as CKGLAD
    except ImportError:
        print("crowd-kit not installed (pip install 'fernb[peers]'): no peer measured")
        return
    df = pd.DataFrame({"task": votes[0], "worker": votes[1], "label": votes[2]})
    peer = CKGLAD()
    labels, t_peer = timed(lambda: peer.fit_predict(df))
    acc_peer = (labels.sort_index().to_numpy() == truth).mean()
    ck_alpha = peer.alphas_.sort_index().to_numpy()
    agree = (labels.sort_index().to_numpy() == glad.labels_).mean()
    print(f"crowd-kit GLAD     {t_peer:7.2f} s  accuracy {acc_peer:.4f}  alpha corr "
          f"{np.corrcoef(ck_alpha, alpha)[0, 1]:.3f}")
    print(f"label agreement fernb/crowd-kit {agree:.4f}")
    print(f"ratio crowd-kit / fernb: {t_peer / t_fernb:.1f}x  (accuracy fernb - crowd-kit: {acc_fernb - acc_peer:+.4f})")


if __name__ == "__main__":
    main()
