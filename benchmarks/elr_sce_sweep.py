"""Which constants make InFER++'s ELR + SCE train? A sweep on SynthFER, scored against the true expression.

    python benchmarks/elr_sce_sweep.py [--seeds 0 1] [--img-size 32] [--epochs 15] [--noises crowd symmetric:0.4]
                                       [--out benchmarks/recorded/elr_sce_sweep.csv]

InFER++ §IV trains LiteXpressionNet with ELR + SCE and prints none of their constants. ELR's λ = 3, β = 0.7 (Liu et
al. 2020) and SCE's α = 0.1, β = 1, A = −4 (Wang et al. 2019) were each tuned on CIFAR-10 with a different base, and
together they collapse to one class: near a one-class state SCE's label term pulls the logit gap with a force of
about α, while ELR pushes it with about λ/2. This script trains the small CNN on a record-table copy of synth-infer
(2,400 training images, 600 test) for every ELR + SCE configuration of the grid λ ∈ {0.3, 1, 3} × α ∈ {0.1, 1}, a
λ warm-up variant, and the CE and ELR (CE base) references, under each noise condition (the crowd's labels, or the
true labels with a share flipped symmetrically or to the confusable class) and seed. Every run is scored against the
true test labels (:func:`fernb.papers.infer.noisy.score_against_truth`); the table printed at the end is the mean
± sd over seeds, the number of runs that predicted fewer than three classes, and each configuration minus CE paired
by seed (:func:`fernb.eval.metrics.beyond_noise`). Runs are stored under ``$FERNB_HOME/runs`` by their
configuration, so a rerun (or the chapter, with the same recipe) reuses them; the per-run table is written to
``--out``.
"""

import argparse
import time

import pandas as pd

from fernb import paths
from fernb.data import load_dataset
from fernb.papers.infer.noisy import Noise, noisy_labels, score_against_truth, training_subset
from fernb.train import fit

GRID = {"CE": ("ce", {}), "ELR (λ=3)": ("elr", {"lam": 3.0}), "SCE (α=0.1)": ("sce", {"alpha": 0.1}),
        "SCE (α=1)": ("sce", {"alpha": 1.0})}
GRID.update({f"ELR+SCE (λ={lam:g}, α={a:g})": ("elr_sce", {"lam": lam, "sce_alpha": a})
             for a in (0.1, 1.0) for lam in (0.3, 1.0, 3.0)})
GRID["ELR+SCE (λ=3, α=0.1, warm-up 5)"] = ("elr_sce", {"lam": 3.0, "sce_alpha": 0.1, "lam_warmup": 5})
GRID["ELR+SCE (λ=0.3, α=1, β=0.1)"] = ("elr_sce", {"lam": 0.3, "sce_alpha": 1.0, "sce_beta": 0.1})
GRID["SCE (α=1, β=0.1)"] = ("sce", {"alpha": 1.0, "beta": 0.1})
GRID["ELR+SCE (λ=0.1, α=1)"] = ("elr_sce", {"lam": 0.1, "sce_alpha": 1.0})
GRID["ELR+SCE (λ=0.3, α=1, warm-up 5)"] = ("elr_sce", {"lam": 0.3, "sce_alpha": 1.0, "lam_warmup": 5})


def noise_arg(text: str) -> Noise:
    kind, _, share = text.partition(":")
    return Noise(kind, float(share) if share else 0.0)


def recipe(img_size: int, epochs: int, lr: float = 3e-3) -> dict:
    """The training recipe every configuration shares (the chapter 07 ablation's, at a size where CE learns)."""
    return dict(model="small_cnn", dataset="records", optimizer="adam", lr=lr, scheduler="cosine",
                val_share=0.0, aug_scale=(1.0, 1.0), aug_ratio=(1.0, 1.0), batch_size=64, img_size=img_size,
                epochs=epochs)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--img-size", type=int, default=32)
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--n-train", type=int, default=None, help="a class-stratified training subset (default: all)")
    ap.add_argument("--noises", type=noise_arg, nargs="+", default=[Noise("crowd"), Noise("symmetric", 0.4)])
    ap.add_argument("--configs", nargs="+", default=list(GRID), choices=list(GRID))
    ap.add_argument("--out", default="benchmarks/recorded/elr_sce_sweep.csv")
    a = ap.parse_args()
    source = load_dataset("synth-infer", profile="quick", seed=0, progress=False)
    sub = training_subset(source, paths.cache_root() / "noisy", n_train=a.n_train, seed=0)
    rows = []
    for noise in a.noises:
        labels = noisy_labels(sub.records, noise, seed=0)
        for name in a.configs:
            loss, kw = GRID[name]
            for seed in a.seeds:
                t = time.perf_counter()
                run = fit({**recipe(a.img_size, a.epochs, a.lr), "loss": loss, "loss_kwargs": kw, "seed": seed},
                          data_root=sub.root, labels=labels, progress=False)
                score = score_against_truth(run, sub, labels)
                rows.append({"noise": noise.name, "config": name, "seed": seed, **score,
                             "top class share (last epoch)": run.history[-1].get("top_class_share"),
                             "seconds": round(time.perf_counter() - t, 1)})
                print(f"{noise.name:15s} {name:34s} seed {seed}: true {score['accuracy (true labels)']:.3f} "
                      f"crowd {score['accuracy (crowd labels)']:.3f} classes {score['classes predicted']} "
                      f"({rows[-1]['seconds']} s)", flush=True)
                pd.DataFrame(rows).to_csv(a.out, index=False)
    report(pd.DataFrame(rows))


def report(table: pd.DataFrame):
    from fernb.eval.metrics import beyond_noise

    g = table.groupby(["config", "noise"], sort=False)["accuracy (true labels)"]
    summary = (100 * g.mean()).round(1).astype(str) + " ± " + (100 * g.std(ddof=1)).round(1).astype(str)
    print("\ntrue-label test accuracy, mean ± sd over seeds (%)\n", summary.unstack("noise").to_string())
    few = (table["classes predicted"] < 3).groupby(table["config"], sort=False).sum()
    print("\nruns predicting fewer than three classes\n", few.to_string())
    for noise, t in table.groupby("noise", sort=False):
        wide = t.pivot(index="seed", columns="config", values="accuracy (true labels)")
        diff = wide.drop(columns="CE").sub(wide["CE"], axis=0)
        print(f"\n{noise}: configuration minus CE, paired by seed\n", beyond_noise(diff).to_string())


if __name__ == "__main__":
    main()
