"""InFER++ §III-E: the RAF-DB ↔ InFER++ cross-dataset study (Fig. 5), and what SynthFER adds to it.

Train on all images of one dataset, test on all images of the other, both directions, six classes;
within-domain baselines (each dataset's own split) beside them; accuracy by demographic group; and,
on SynthFER, each cross-domain confusion related to the difference between the two domains' displays
of the expressions (the action units the generator draws, ``fernb.data.synth.facs.DOMAIN_STYLE``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from fernb.eval.metrics import confusion_rates
from fernb.labels import category_key
from fernb.papers.recipes import Recipe

PAPER_FIG5 = {"RAF-DB → InFER++": 33.0, "InFER++ → RAF-DB": 23.0}
"""InFER++ §III-E text: "the average accuracy of the RAF-DB → InFER analysis turned out to be 33%,
whereas that of the InFER → RAF-DB analysis was just 23%" (real photographs, six classes, the
paper's model)."""
PAPER_CONFUSIONS = (("sadness", "fear"), ("anger", "disgust"), ("happiness", "surprise"))
"""§III-E: "sadness and fear, anger and disgust, and happiness and surprise were often confused"."""
PAPER_BEST = ("surprise", "happiness", "disgust")
"""§III-E: the three classes with the highest accuracy in both directions."""

CROSS = Recipe(
    "cross", "§III-E: the four cross-dataset runs",
    common=dict(class_weighting="conservative"),
    smoke=dict(model="tiny_cnn", img_size=48, epochs=1, batch_size=32, max_batches_per_epoch=3),
    quick=dict(model="small_cnn", img_size=32, epochs=6, batch_size=64, max_batches_per_epoch=None),
    long=dict(img_size=48),
    full=dict(model="mobilevit_s", img_size=224, epochs=40, batch_size=64, max_batches_per_epoch=None),
)
"""What each profile trains, four times (each dataset on its own split and on all its images): ``smoke`` a tiny
CNN for a few batches; ``quick`` the small CNN (0.3 M parameters) at 32×32, because MobileViT-S at 64×64 trains at
about 15 images a second on a 2-core CPU (and 48×48 took the chapter past its four minutes once the shift study
trained its models until they learned); ``long`` the same at 48×48; ``full`` the text's MobileViT-S at 224×224
(Fig. 5's caption says MobileNet: give ``model="mobilenetv3_large"``). Adam with a cosine schedule and BTFER's
conservative class weights: the paper gives no recipe."""


def check_pair(dataset_a: str, dataset_b: str, data_root_b=None):
    """The second dataset's root, checked: a real dataset needs its ``data_root_b``; the same
    dataset twice is not a cross-dataset study. SynthFER falls back to the first dataset's root
    (``None``).
    """
    from fernb.data.manifest import load_manifest

    if dataset_a == dataset_b:
        raise ValueError(
            f"dataset_b={dataset_b!r} is dataset_a: a cross-dataset study needs two datasets"
        )
    manifest = load_manifest(dataset_b)
    if manifest["kind"] != "synthetic" and data_root_b is None:
        raise ValueError(
            f"dataset_b={dataset_b!r} is a licence-gated real dataset: "
            f"set data_root_b to the folder "
            f"holding your copy (request it at: {manifest.get('request', 'see its citation')})"
        )
    return data_root_b


def load_pair(ch, dataset_b: str, data_root_b=None, classes="six") -> dict:
    """The chapter's dataset (A) and ``dataset_b`` as the ``classes`` view, all splits: ``{name: dataset}``."""
    from fernb.data import load_dataset

    root_b = check_pair(ch.dataset, dataset_b, data_root_b) or ch.data_root
    return {
        name: load_dataset(name, root, profile=ch.profile, seed=ch.seed, progress=False,
                           classes=classes)
        for name, root in ((ch.dataset, ch.data_root), (dataset_b, root_b))
    }


@dataclass
class CrossStudy:
    """The four runs and four evaluations of §III-E: ``within[a]``, ``within[b]`` (own split) and
    ``transfer[(a, b)]``, ``transfer[(b, a)]`` (trained on all of one, tested on all of the other).
    """

    a: str
    b: str
    runs: dict
    within: dict
    transfer: dict
    datasets: dict

    def evaluations(self) -> list:
        return [
            self.transfer[(self.a, self.b)],
            self.transfer[(self.b, self.a)],
            self.within[self.a],
            self.within[self.b],
        ]

    def summary(self) -> pd.DataFrame:
        """Overall accuracy and mean per-class recall (%) of every evaluation."""
        rows = []
        for ev in self.evaluations():
            r = ev.report()
            rows.append(
                {
                    "evaluation": ev.name,
                    "images": r["n"],
                    "accuracy (%)": 100 * r["accuracy"],
                    "mean class recall (%)": 100 * r["mean_class_recall"],
                }
            )
        return pd.DataFrame(rows).set_index("evaluation").round(1)


def cross_study(ch, dataset_b: str, data_root_b=None, classes="six", model: str | None = None) -> CrossStudy:
    """Run §III-E for the chapter's dataset (A) and ``dataset_b`` (B): four trainings of the profile's
    :data:`CROSS` recipe (``model`` overrides its model), each on the ``classes`` view; the "all images" runs use
    :func:`fernb.data.views.all_images` without a further validation share (the paper selects no model)."""
    from fernb.data import load_dataset
    from fernb.eval import Evaluation

    a, b = ch.dataset, dataset_b
    root_b = check_pair(a, b, data_root_b) or ch.data_root
    roots = {a: ch.data_root, b: root_b}
    train = dict(CROSS(ch.profile))
    train["model"] = model or train["model"]
    runs, within, transfer, datasets = {}, {}, {}, {}
    for name in (a, b):
        fit = dict(dataset=name, data_root=roots[name], **train)
        own = ch.fit(dataset_options={"classes": classes}, **fit)
        everything = ch.fit(dataset_options={"classes": classes, "splits": "all"}, val_share=0.0, **fit)
        runs[name] = {"within": own, "all": everything}
        datasets[name] = load_dataset(name, roots[name], profile=ch.profile, seed=ch.seed, progress=False,
                                      classes=classes)
        within[name] = Evaluation.from_run(own, name=f"{name} → {name} (own test split)",
                                           note=f"trained and tested on {name}'s own split")
    for src, dst in ((a, b), (b, a)):
        transfer[(src, dst)] = Evaluation.transfer(runs[src]["all"], datasets[dst], name=f"{src} → {dst}",
                                                   note=f"trained on all of {src}, tested on all of {dst}")
    return CrossStudy(a, b, runs, within, transfer, datasets)


def accuracy_by(evaluations, column: str) -> pd.DataFrame:
    """Accuracy (%) of each evaluation per value of a record column (age group, gender, skin tone);
    for ``occluders`` (``a+b`` strings) per occluder, with ``none`` for unoccluded faces. Cells:
    accuracy (n)."""
    out = {}
    for ev in evaluations:
        if ev.dataset is None or column not in ev.dataset.records:
            continue
        values = ev.dataset.records[column].iloc[ev.rows].fillna("").astype(str).to_numpy()
        correct = ev.pred == ev.y
        groups = groups_of(values, column)
        out[ev.name] = {
            k: f"{100 * correct[m].mean():.0f} ({int(m.sum())})"
            for k, m in groups.items()
            if m.any()
        }
    table = pd.DataFrame(out)
    return table.loc[sorted(table.index, key=category_key)].fillna("—").rename_axis(column)


def groups_of(values, column: str) -> dict:
    """Boolean masks of each group of a record column's ``values``; ``occluders`` (``a+b`` strings) by occluder,
    with ``none`` for unoccluded faces."""
    if column == "occluders":
        groups = {o: np.array([o in v.split("+") for v in values])
                  for o in sorted({o for v in values for o in v.split("+") if o})}
        groups["none"] = values == ""
        return groups
    return {v: values == v for v in sorted(set(values))}


def named_confusions(evaluations, pairs=PAPER_CONFUSIONS) -> pd.DataFrame:
    """For each pair the paper names, the share (%) of each class predicted as the other, per
    evaluation."""
    rows = []
    for x, y in pairs:
        for t, p in ((x, y), (y, x)):
            row = {"true → predicted": f"{t} → {p}"}
            for ev in evaluations:
                rate = confusion_rates(ev.confusion)[ev.class_index(t), ev.class_index(p)]
                row[ev.name] = round(100 * rate, 1)
            rows.append(row)
    return pd.DataFrame(rows).set_index("true → predicted")


def display_shift(ev, train_ds, top: int = 4, per: int = 3) -> pd.DataFrame:
    """Why ``ev`` (a model of ``train_ds`` tested on ``ev.dataset``) confuses what it confuses, on
    SynthFER: for each of its ``top`` largest confusions true t → predicted p, the mean action-unit
    display of t in the test domain minus that in the training domain (the shift), projected on the
    direction from t to p in the training domain. ``toward p`` is that projection as a share of the
    t→p distance (> 0: the test domain shows t more like the training domain's p); ``AUs`` are the
    action units contributing most, with the domains' style gains."""
    from fernb.data.synth.facs import ACTION_UNITS, AU_NAMES, DOMAIN_STYLE, domain_style
    from fernb.data.synth.generate import divergence_of

    test_ds = ev.dataset
    cols = [f"AU{au:02d}" for au in ACTION_UNITS]
    for ds in (train_ds, test_ds):
        if ds.name not in DOMAIN_STYLE or not set(cols) <= set(ds.records.columns):
            raise ValueError(
                f"display_shift needs SynthFER domains with action-unit columns; "
                f"{ds.name!r} has none"
            )

    def mean_display(ds, k):
        r = ds.records
        return r.loc[r["true_label"] == k, cols].to_numpy(float).mean(0)

    gains = {id(ds): domain_style(ds.name, divergence_of(ds)) for ds in (train_ds, test_ds)}
    rows = []
    for t, p, count in ev.largest_confusions(top):
        a_t, a_p, b_t = (
            mean_display(train_ds, t),
            mean_display(train_ds, p),
            mean_display(test_ds, t),
        )
        shift, direction = b_t - a_t, a_p - a_t
        contrib = shift * direction / max(np.linalg.norm(direction), 1e-9)
        t_name, p_name = ev.classes[t], ev.classes[p]
        aus = []
        for j in np.argsort(-contrib)[:per]:
            if contrib[j] <= 0:
                break
            au = ACTION_UNITS[j]
            g_train = gains[id(train_ds)].get((t_name, au), 1.0)
            g_test = gains[id(test_ds)].get((t_name, au), 1.0)
            aus.append(f"AU{au} {AU_NAMES[au]} {shift[j]:+.2f} (gain {g_train:.3g} → {g_test:.3g})")
        rows.append(
            {
                "true → predicted": f"{t_name} → {p_name}",
                "images": count,
                "share of true (%)": round(100 * count / max(ev.confusion[t].sum(), 1), 1),
                "toward p (%)": round(
                    100 * float(shift @ direction) / max(float(direction @ direction), 1e-9), 1
                ),
                "AUs moving t toward p (test − train mean)": "; ".join(aus) or "—",
            }
        )
    return pd.DataFrame(rows).set_index("true → predicted")


def paper_comparison(study: CrossStudy) -> pd.DataFrame:
    """Each direction measured here beside §III-E's figure for the corresponding real direction, each
    labelled with its own datasets (a SynthFER number is never a paper result)."""
    real = {
        "synth-raf": "RAF-DB",
        "rafdb": "RAF-DB",
        "synth-infer": "InFER++",
        "infer-pp": "InFER++",
    }
    rows = []
    for (src, dst), ev in study.transfer.items():
        r = ev.report()
        paper_key = f"{real.get(src, src)} → {real.get(dst, dst)}"
        rows.append(
            {
                "measured here": ev.name,
                "accuracy (%)": round(100 * r["accuracy"], 1),
                "mean class recall (%)": round(100 * r["mean_class_recall"], 1),
                "paper (§III-E, real photographs)": paper_key if paper_key in PAPER_FIG5 else "—",
                "paper average accuracy (%)": PAPER_FIG5.get(paper_key),
            }
        )
    return pd.DataFrame(rows).set_index("measured here")


# --- chapter 06: the tables and verdicts its cells call ---------------------------------------------------------------


def class_counts(pair: dict) -> pd.DataFrame:
    """Images per class of each dataset of the pair (:func:`load_pair`), with totals."""
    counts = pd.DataFrame({name: ds.class_counts() for name, ds in pair.items()})
    counts.loc["total"] = counts.sum()
    return counts


def headline(beside: pd.DataFrame) -> str:
    """The results map's line for Fig. 5 (``infer-f5``): each direction's accuracy."""
    return "; ".join(f"{k} {v} %" for k, v in beside["accuracy (%)"].items())


def best_recognised(study: CrossStudy, n: int = 3) -> str:
    """The ``n`` best-recognised classes of each cross-dataset direction beside §III-E's, and how many agree."""
    lines = []
    for ev in study.transfer.values():
        recall = pd.Series(ev.report()["recall"]).sort_values(ascending=False)
        best = list(recall.index[:n])
        shared = [c for c in best if c in PAPER_BEST]
        lines.append(f"- {ev.name}: best recognised {', '.join(best)} ({len(shared)} of the paper's {n})")
    return "\n".join(lines + [f"- the paper, both directions: {', '.join(PAPER_BEST)}"])


def uninformative(ev) -> str:
    """Why ``ev`` answers no question (:func:`fernb.eval.metrics.informative`: at least three classes predicted
    and more than 2 points above the majority share), or ``""`` when it is informative."""
    from fernb.eval.metrics import informative

    return informative(ev.confusion)["reason"]


def transfer_text(study: CrossStudy) -> str:
    """Each cross-dataset direction against the within-domain baseline of the dataset it is tested on, in
    Markdown: the accuracy it keeps and loses, or why a run answers nothing."""
    lines = []
    for (src, dst), ev in study.transfer.items():
        cross_acc = round(100 * ev.report()["accuracy"], 1)  # the summary's rounding, so the gap reads right
        own = round(100 * study.within[dst].report()["accuracy"], 1)
        why = [f"{e.name} {u}" for e in (ev, study.within[dst]) if (u := uninformative(e))]
        if why:
            lines.append(f"- **{ev.name}**: {cross_acc:.1f} % accuracy, not comparable with {dst}'s own "
                         f"{own:.1f} %: uninformative ({'; '.join(why)})")
            continue
        gap = own - cross_acc
        lines.append(f"- **{ev.name}**: {cross_acc:.1f} % accuracy, {abs(gap):.1f} points "
                     f"{'below' if gap > 0 else 'above'} the {own:.1f} % of a model trained on {dst} itself")
    return "\n".join(lines)
