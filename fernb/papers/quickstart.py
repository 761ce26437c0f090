"""The quickstart chapter's one experiment: a small CNN from the registry, trained by the shared trainer with
BTFER's conservative class weighting (BTFER §III-E, Fig. 7), and the summaries the chapter shows of it."""

from __future__ import annotations

import pandas as pd

from fernb.labels import AGE_GROUPS, EXPRESSIONS
from fernb.papers.recipes import Recipe

FIRST_MODEL = Recipe(
    "first_model", "A first model",
    common=dict(class_weighting="conservative"),
    smoke=dict(model="tiny_cnn", img_size=48, epochs=1, batch_size=32, max_batches_per_epoch=4),
    quick=dict(model="small_cnn", img_size=64, epochs=10, batch_size=64, max_batches_per_epoch=None),
    full=dict(model="small_cnn", img_size=96, epochs=40, batch_size=128, max_batches_per_epoch=None),
)


def first_model(ch, progress: bool = True):
    """Train (or fetch) the chapter's small CNN on its dataset, as :data:`FIRST_MODEL` says for its profile."""
    return ch.fit(progress=progress, **FIRST_MODEL(ch.profile))


def domain_summary(domains: dict) -> pd.DataFrame:
    """Images per expression in each domain, with a total row."""
    summary = pd.DataFrame({name: ds.class_counts() for name, ds in domains.items()})
    summary.loc["total"] = summary.sum()
    return summary


def split_lines(domains: dict) -> str:
    """One line per domain: its size, train/test split and the crowd's label noise (SynthFER knows the truth)."""
    lines = []
    for name, ds in domains.items():
        r = ds.records
        lines.append(f"{name}: {len(r)} images, train {int((r.split == 'train').sum())} / test "
                     f"{int((r.split == 'test').sum())}, crowd label noise {(r.label != r.true_label).mean():.1%}")
    return "\n".join(lines)


def demographics(ds) -> pd.DataFrame:
    """Expression × (gender, age group) counts, age groups youngest first (InFER++ Table 2's layout)."""
    r = ds.records
    expression = r.true_label.map(dict(enumerate(EXPRESSIONS)))
    table = pd.crosstab(expression, [r.gender, r.age_group])
    return table[sorted(table.columns, key=lambda c: (c[0], AGE_GROUPS.index(c[1])))]


def metrics_lines(run) -> str:
    """The run's test metrics in two sentences."""
    m = run.metrics
    text = (f"{run.config.dataset} test split ({m['n']} images), crowd labels: accuracy {m['accuracy']:.3f}, "
            f"mean class accuracy {m['mean_class_accuracy']:.3f}, macro-F1 {m['macro_f1']:.3f}, ECE {m['ece']:.3f}")
    if "accuracy_vs_true_label" in m:
        text += f"\naccuracy against the latent true expression: {m['accuracy_vs_true_label']:.3f}"
    return text


def first_finding(run) -> str:
    """The first model's result in one line, for the page's opening findings (an uninformative run says so)."""
    m, check = run.metrics, run.informative
    n = len(run.history)
    said = (f"A first model ({run.config.model}, {run.config.img_size} px, {n} epoch{'' if n == 1 else 's'}): "
            f"test accuracy {m['accuracy']:.3f} against the crowd's labels, the commonest class's share "
            f"{check['majority share']:.3f}")
    if "accuracy_vs_true_label" in m:
        said += f", {m['accuracy_vs_true_label']:.3f} against the true expressions"
    return said if check["informative"] else f"{said}; it learned nothing ({check['reason']})"


def group_accuracy(run) -> pd.DataFrame:
    """Test accuracy per age group and gender (none of the four papers reports it; SynthFER and InFER++ allow it)."""
    m = run.metrics
    rows = {**{f"age {k}": v for k, v in m.get("accuracy_by_age_group", {}).items()},
            **{f"gender {k}": v for k, v in m.get("accuracy_by_gender", {}).items()}}
    return pd.DataFrame({"accuracy": rows}).round(3)
