"""What every chapter's first code cell calls: validate the ``parameters`` cell, resolve the device and paths, set up
figures, and say plainly what data the chapter runs on."""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path

from fernb import paths
from fernb.profiles import check_profile

SYNTHETIC_NOTICE = ("**The data on this page are synthetic (SynthFER).** The numbers measure this book's code on "
                    "procedurally generated faces; they are not, and must not be read as, results on {real}.")


@dataclass
class Chapter:
    profile: str
    dataset: str
    data_root: Path
    device: "object"
    seed: int
    manifest: dict
    name: str | None = None
    report_dir: Path | None = None
    """Where this chapter reports its tables, headlines and runs: given by the book runner (the ``report``
    parameter it injects), ``None`` in JupyterLab or Colab, where reporting writes nothing."""

    @property
    def synthetic(self) -> bool:
        return self.manifest["kind"] == "synthetic"

    def fit(self, labels=None, dataset_options: dict | None = None, progress: bool = False, data_root=None,
            **options):
        """Train (or fetch the stored run of) ``options`` on this chapter's data: ``dataset``, ``profile``,
        ``data_seed`` and ``seed`` come from the chapter unless given, and so does ``data_root`` (give it with a
        ``dataset`` of your own, e.g. a second dataset's copy); ``device`` always does."""
        from fernb.train import TrainConfig, fit

        base = {"dataset": self.dataset, "profile": self.profile, "data_seed": self.seed, "seed": self.seed}
        return fit(TrainConfig(**{**base, **options}), data_root=data_root or self.data_root, device=self.device,
                   progress=progress, labels=labels, dataset_options=dataset_options, report=self.report_dir)

    def report(self, name: str, table, runs: dict | None = None, expected: dict | None = None, columns=None):
        """Keep ``table`` (a DataFrame) as one of this chapter's results, under ``name``: ``--record`` commits it
        with provenance, and :meth:`recorded` shows the recorded copy later. ``runs`` maps table rows (index
        labels) to the run, or runs, each rests on: a row whose run learned nothing is shown as uninformative
        instead of its numbers (:func:`guard_table`), and noted beside the table for the page check, unless
        ``expected`` gives the row's reason (a collapse the chapter is about); ``columns``: the columns that hold
        the runs' results (default: all). Returns the table to display."""
        from fernb import results

        guarded, rows = guard_table(table, runs or {}, expected or {}, columns)
        if self.report_dir is not None:
            results.write_table(self.report_dir, name, guarded)
            if runs:
                (self.report_dir / "tables" / f"{name}.runs.json").write_text(json.dumps(rows, indent=1))
        return guarded

    def headline(self, item: str, ours, note: str = "", dataset: str | None = None, runs=(),
                 expected: str | None = None, effect=None, verdict: dict | None = None):
        """This chapter's number for a paper's table, figure or experiment (an id of ``book/paper_items.yaml``),
        shown on the results map with its dataset and profile. ``runs``: the runs (or lists of runs) the number
        comes from. A number resting on a run that learned nothing is refused: the map shows "uninformative" and
        the reason instead, unless ``expected`` says why the failure is the result. ``effect``: the per-seed
        measurement of the item's ``claim`` (paired differences, one a seed); the map shows the verdict on the
        claim (:func:`fernb.results.verdict`). ``verdict``: a verdict the chapter judged itself, in the same form
        (``status``, ``claim``, ``effect``, ``mean``, ``se``, ``seeds``, ``why``). Returns the verdict, or
        ``None``."""
        from fernb import results

        it = results.catalogue_item(item)  # a misspelt item fails here, in or outside the book runner
        flat = [r for x in runs for r in (x if isinstance(x, (list, tuple)) else [x])]
        failed = [r for r in flat if not r.informative["informative"]]
        if failed and expected:
            note = (note + "; " if note else "") + f"expected failure: {expected}"
        elif failed:
            reasons = "; ".join(dict.fromkeys(r.informative["reason"] for r in failed))
            ours = f"{UNINFORMATIVE} ({len(failed)} of {len(flat)} runs learned nothing: {reasons})"
        judged = None
        if effect is not None:
            if not it.get("claim"):
                raise ValueError(f"headline {item!r} was given an effect, but its catalogue entry states no claim "
                                 f"to judge it by (add claim: to book/paper_items.yaml)")
            judged = results.verdict(it["claim"], effect, learned=not failed or bool(expected))
        elif verdict is not None:
            judged = dict(verdict)
            if failed and not expected:
                judged.update(status="uninformative", why="a run behind it learned nothing")
        if self.report_dir is not None:
            results.add_headline(self.report_dir, item, ours, dataset or self.dataset, self.profile, note,
                                 chapter=self.name, judged=judged)
        return judged

    def finding(self, text: str):
        """One line of what this page found that is no paper item's number (a chapter of the book's own, such as
        the model zoo's size check): it opens the page beside the headlines. ``text`` is computed from the page's
        measurement by the caller, never written by hand."""
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"finding needs a sentence of text, got {text!r}")
        if self.report_dir is not None:
            path = self.report_dir / "findings.json"
            found = json.loads(path.read_text()) if path.exists() else []
            path.write_text(json.dumps([*found, {"text": text, "profile": self.profile, "dataset": self.dataset}],
                                       indent=1))

    def recorded(self, name: str, profile: str | None = None, missing: str | None = None):
        """Show the recorded copies of table ``name`` (made earlier or on another machine, with their provenance):
        the ``long`` CPU recording and the ``full`` one, or only ``profile``'s when given; never this page's own
        profile. Where none is recorded, show ``missing`` if given. Displays and returns nothing."""
        from IPython.display import Markdown, display

        from fernb import results
        from fernb.profiles import RECORDED
        from fernb.viz.tables import dashed, without_constant_levels, without_empty_columns

        shown = 0
        for prof in [profile] if profile else RECORDED:
            found = results.recorded(self.name, name, prof) if self.name and prof != self.profile else None
            if found is not None:
                table, prov = found
                display(Markdown("> **Recorded results.** " + results.provenance_line(prov)))
                # a missing cell reads "—", numbers as the live tables round them; empty columns are not shown,
                # and an index level with one value is said once above the table
                table, same = without_constant_levels(without_empty_columns(table))
                if same:
                    display(Markdown(f"Every row: {same}."))
                display(dashed(table, 3))
                shown += 1
        if not shown and missing:
            display(Markdown(missing))

    def notice(self, real: str = "any real dataset"):
        """A Markdown banner saying what data the results come from."""
        from IPython.display import Markdown, display

        if self.synthetic:
            display(Markdown("> " + SYNTHETIC_NOTICE.format(real=real)))
        else:
            display(Markdown(f"> Results on **{self.manifest['title']}** from `{paths.shown(self.data_root)}`, "
                             f"profile `{self.profile}`."))


UNINFORMATIVE = "uninformative"


def guard_table(table, runs: dict, expected: dict, columns=None):
    """``table`` with every row whose run (or any of its runs) learned nothing
    (:attr:`fernb.train.run.Run.informative`) shown as such: its numbers replaced by "uninformative" and a
    ``learned?`` column giving the reason, or the ``expected`` reason for a declared failure. Returns the table and
    one record per row (run folders, informative, reason, expected) for the page check. ``columns`` are the ones
    that hold the runs' results (default: every column; name them when a paper's figures share the row). A row
    key that is not in the table's index, or a column not in it, fails, naming it."""
    import pandas as pd

    if not runs:
        return table, {}
    frame = table.to_frame() if isinstance(table, pd.Series) else table.copy()
    missing = [k for k in runs if k not in frame.index]
    if missing:
        raise ValueError(f"report(runs=...): rows {missing} are not in the table's index {list(frame.index)[:8]}")
    unknown = [c for c in (columns or []) if c not in frame.columns]
    if unknown:
        raise ValueError(f"report(columns=...): {unknown} are not columns of the table {list(frame.columns)}")
    bad = [k for k in expected if k not in runs]
    if bad:
        raise ValueError(f"report(expected=...): rows {bad} have no runs given")
    records, learned = {}, pd.Series("yes", index=frame.index, dtype=object)
    for key, found in runs.items():
        found = found if isinstance(found, (list, tuple)) else [found]
        checks = [r.informative for r in found]
        failed = [c["reason"] for c in checks if not c["informative"]]
        records[str(key)] = {"runs": [Path(r.dir).name for r in found], "informative": not failed,
                             "reason": "; ".join(dict.fromkeys(failed)), "expected": expected.get(key)}
        if failed:
            numeric = list(columns) if columns else list(frame.columns)
            frame[numeric] = frame[numeric].astype(object)
            frame.loc[[key], numeric] = UNINFORMATIVE
            shown = f"{len(failed)} of {len(found)} runs: {failed[0]}" if len(found) > 1 else failed[0]
            learned[key] = (f"expected failure: {expected[key]} ({shown})" if key in expected
                            else f"no: {shown}")
    if (learned != "yes").any():
        frame["learned?"] = learned
    return frame, records


def require(module: str, install: str):
    """Fail early, naming the package, when an optional dependency is missing."""
    if importlib.util.find_spec(module) is None:
        raise ModuleNotFoundError(f"this chapter needs the Python package {module!r}; install it with: {install}")


def setup(profile="quick", dataset="synth-raf", data_root=None, device="auto", seed=0, datasets=None,
          name: str | None = None, report=None) -> Chapter:
    """Validate the common chapter parameters before any work starts.

    ``datasets`` restricts the allowed dataset names for a chapter (default: any with a manifest). ``name`` is the
    chapter's own name (``"08_btfer"``: where its recorded results live); ``report`` the folder the book runner
    collects its results in (the ``report`` parameter it injects; ``None`` elsewhere).
    """
    from fernb.data.manifest import available, load_manifest
    from fernb.train.trainer import resolve_device
    from fernb.viz import setup_plotly

    check_profile(profile)
    if not isinstance(dataset, str):
        raise TypeError(f"dataset must be a dataset name (str), got {type(dataset).__name__}")
    allowed = list(datasets) if datasets else available()
    if dataset not in allowed:
        raise ValueError(f"dataset={dataset!r} is not available in this chapter; expected one of {', '.join(allowed)}")
    manifest = load_manifest(dataset)
    if data_root is not None and not isinstance(data_root, (str, Path)):
        raise TypeError(f"data_root must be a path or None, got {type(data_root).__name__}")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    root = paths.data_root(data_root)
    if manifest["kind"] == "synthetic":
        paths.ensure_writable(root, "data_root")
    elif not root.exists():
        raise FileNotFoundError(f"data_root={str(root)!r} does not exist; point it at your copy of {manifest['title']}")
    for mod, pkg in (("plotly", "pip install plotly"), ("sklearn", "pip install scikit-learn"), ("tqdm", "pip install tqdm")):
        require(mod, pkg)
    dev = resolve_device(device)
    setup_plotly()
    if report is not None and not isinstance(report, (str, Path)):
        raise TypeError(f"report must be a folder path or None, got {type(report).__name__}")
    folder = Path(report).resolve() if report is not None else None
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
    return Chapter(profile, dataset, root, dev, seed, manifest, name, folder)
