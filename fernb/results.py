"""What a chapter reports while it runs, and what was recorded from earlier runs (issues #18, #19).

While ``python -m fernb.book run`` executes a chapter it hands the chapter an empty folder (the ``report`` parameter
it injects, which ``fernb.chapter.setup`` keeps as ``Chapter.report_dir``); the chapter then leaves there, through
:class:`fernb.chapter.Chapter`:

* ``tables/<name>.json``: each table it reports (``ch.report(name, frame)``);
* ``headlines.json``: its result for each paper table or figure of ``book/paper_items.yaml`` (``ch.headline``),
  which the results map shows;
* ``runs.jsonl``: every training run it used (appended by the trainer's last step, whatever path trained it).

``--record`` copies that folder, with the small files of each run (configuration, metrics, history; never weights or
images) and its provenance (commit, device, torch and CUDA versions, date, wall time, datasets and their
fingerprints), to the committed ``results/<chapter>/<profile>/``. A chapter shows a recorded table beside its live
one with ``ch.recorded(name)``. Outside the book runner (JupyterLab, Colab) reporting writes nothing.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAPER_ITEMS = ROOT / "book" / "paper_items.yaml"
NEEDS = ("synthfer", "reader-data", "gpu", "none")
"""What an item needs: ``synthfer`` (a chapter shows it on SynthFER), ``reader-data`` (only meaningful on the real
dataset), ``gpu`` (the chapter runs it in ``full``; ``quick`` cannot), ``none`` (not reproducible; ``why`` says)."""
RUN_FILES = ("config.json", "metrics.json", "history.jsonl")


def results_root() -> Path:
    """The committed ``results/`` of the checkout (``$FERNB_RESULTS`` overrides it, e.g. in tests)."""
    return Path(os.environ.get("FERNB_RESULTS") or ROOT / "results")


def write_table(folder: Path, name: str, table) -> Path:
    """A DataFrame as ``tables/<name>.json`` (pandas' "split" layout keeps the index, the columns and their order)."""
    import pandas as pd

    if not isinstance(table, (pd.DataFrame, pd.Series)):
        raise TypeError(f"report({name!r}, ...) needs a pandas DataFrame or Series, got {type(table).__name__}")
    _check_name(name)
    frame = table.to_frame() if isinstance(table, pd.Series) else table
    names = [n for n in frame.index.names if n is not None]  # "split" JSON drops them: kept beside it
    if isinstance(frame.index, pd.MultiIndex):  # "split" JSON keeps one index level: the levels become columns
        frame = frame.reset_index()
    if isinstance(frame.columns, pd.MultiIndex):
        frame = frame.set_axis([" / ".join(map(str, c)) for c in frame.columns], axis=1)
    out = folder / "tables" / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    blob = json.loads(frame.to_json(orient="split", double_precision=6, default_handler=str))
    out.write_text(json.dumps({**blob, "index_names": names} if names else blob, ensure_ascii=False))
    return out


def read_table(path: Path):
    import io

    import pandas as pd

    blob = json.loads(Path(path).read_text())
    names = blob.pop("index_names", [])
    frame = pd.read_json(io.StringIO(json.dumps(blob)), orient="split")
    if names and all(n in frame.columns for n in names):  # a MultiIndex, stored as its levels' columns
        return frame.set_index(names)
    if len(names) == 1:
        frame.index.name = names[0]
    return frame


def _check_name(name: str):
    if not isinstance(name, str) or not name or not all(c.isalnum() or c in "-_." for c in name):
        raise ValueError(f"a reported table's name must be letters, digits, '-', '_' or '.', got {name!r}")


def paper_items(path: Path | None = None) -> list[dict]:
    """The four papers' tables, figures and experiments (``book/paper_items.yaml``), checked."""
    import yaml

    path = Path(path or PAPER_ITEMS)
    items = yaml.safe_load(Path(path).read_text()) or []
    seen = set()
    for i, it in enumerate(items):
        where = f"{path.name} entry {i + 1} ({it.get('id', '?')})"
        missing = [k for k in ("id", "paper", "item", "what", "headline", "paper_data", "needs") if not it.get(k)]
        if missing:
            raise ValueError(f"{where}: missing {', '.join(missing)}")
        if it["needs"] not in NEEDS:
            raise ValueError(f"{where}: needs={it['needs']!r}; expected one of {', '.join(NEEDS)}")
        if it["id"] in seen:
            raise ValueError(f"{where}: the id {it['id']!r} is used twice")
        if it.get("same_as") is not None and it["same_as"] not in {x["id"] for x in items}:
            raise ValueError(f"{where}: same_as={it['same_as']!r} is not an id of this catalogue")
        claim = it.get("claim")
        if claim is not None and (not isinstance(claim, dict) or claim.get("sign") not in (1, -1)
                                  or not claim.get("says") or not claim.get("effect")):
            raise ValueError(f"{where}: claim must give 'says' (the paper's statement), 'effect' (what the chapter "
                             f"measures) and 'sign' (1: the paper says it is positive, -1: negative), got {claim!r}")
        seen.add(it["id"])
    return items


VERDICTS = ("replicates", "absent", "contradicted", "uninformative")
"""What a measurement says of a paper's directional claim: the effect beyond the seeds' noise in the claimed
direction, within the noise, beyond it the other way, or resting on a run that learned nothing (or on one seed,
which gives no spread to judge it by)."""


def verdict(claim: dict, per_seed, learned: bool = True) -> dict:
    """The verdict on ``claim`` (a catalogue item's ``claim``: ``sign`` +1 or -1) of a per-seed effect (paired
    differences, one per seed, in the units the item names): status, mean, standard error and seeds, judged by the
    rule of :func:`fernb.eval.metrics.beyond_noise` (the mean more than two standard errors from zero)."""
    import numpy as np

    values = np.asarray([v for v in per_seed if v is not None and v == v], dtype=float)
    if not len(values):
        raise ValueError(f"verdict on {claim.get('effect')!r}: no per-seed effect was given")
    mean = float(values.mean())
    se = float(values.std(ddof=1) / np.sqrt(len(values))) if len(values) > 1 else None
    if not learned or se is None:
        status = "uninformative"
    elif not abs(mean) > 2 * se:
        status = "absent"
    else:
        status = "replicates" if mean * claim["sign"] > 0 else "contradicted"
    why = ("a run behind it learned nothing" if not learned else
           "one seed: no spread to judge it by" if se is None else "")
    return {"status": status, "claim": claim["says"], "effect": claim["effect"], "mean": mean, "se": se,
            "seeds": len(values), "over": claim.get("over", "seed(s)"), "why": why}


def catalogue_item(item: str) -> dict:
    """The entry of ``book/paper_items.yaml`` with id ``item``, or an error naming the closest ids."""
    items = {it["id"]: it for it in paper_items()}
    if item not in items:
        import difflib

        close = difflib.get_close_matches(item, sorted(items), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ValueError(f"headline item {item!r} is not an id in book/paper_items.yaml{hint}")
    return items[item]


def add_headline(folder: Path, item: str, ours: str, dataset: str, profile: str, note: str = "",
                 chapter: str | None = None, judged: dict | None = None) -> dict:
    """Record the chapter's result for paper item ``item`` (an id of ``book/paper_items.yaml``), with the
    :func:`verdict` on its claim when ``judged`` gives one."""
    catalogue_item(item)
    entry = {"item": item, "ours": str(ours), "dataset": dataset, "profile": profile, "note": note,
             "chapter": chapter, **({"verdict": judged} if judged else {})}
    path = folder / "headlines.json"
    found = json.loads(path.read_text()) if path.exists() else {}
    found[item] = entry
    path.write_text(json.dumps(found, indent=1))
    return entry


def log_run(folder: Path | None, run_folder: Path):
    """Note a training run the chapter used (the trainer's last step, :meth:`fernb.train.Trainer.log`)."""
    if folder is None:
        return
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "runs.jsonl", "a") as f:
        f.write(json.dumps({"run": str(run_folder)}) + "\n")


def _git(*args) -> str:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def device_name() -> str:
    import torch

    if torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"CPU: {cpu}, {os.cpu_count()} cores"


def _runs(folder: Path) -> list[Path]:
    path = folder / "runs.jsonl"
    if not path.exists():
        return []
    seen = dict.fromkeys(Path(json.loads(line)["run"]) for line in path.read_text().splitlines() if line.strip())
    return [p for p in seen if (p / "metrics.json").exists()]


def code_version() -> str:
    """The checkout's commit (12 hex digits), marked when tracked files differ from it; "unknown" outside git."""
    commit = _git("rev-parse", "HEAD")
    dirty = bool(_git("status", "--porcelain", "--untracked-files=no"))
    return commit[:12] + ("+uncommitted changes" if dirty else "") if commit else "unknown"


def provenance(chapter: str, profile: str, params: dict, seconds: float, folder: Path,
               commit: str | None = None) -> dict:
    """Where and how a chapter's results were made; ``commit`` is the code the chapter started with
    (:func:`code_version` when it started), which a commit made while a recording runs does not change."""
    import torch

    datasets = {}
    for run in _runs(folder):
        rec = json.loads((run / "config.json").read_text())
        datasets.setdefault(rec["config"]["dataset"], set()).add(rec.get("dataset_fingerprint", "?"))
    return {"chapter": chapter, "profile": profile, "parameters": params,
            "commit": commit or code_version(),
            "device": device_name(), "torch": torch.__version__, "cuda": torch.version.cuda or "none",
            "python": platform.python_version(), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "wall_s": round(seconds, 1),
            "datasets": {k: sorted(v) for k, v in sorted(datasets.items())}}


def record(chapter: str, profile: str, folder: Path, params: dict, seconds: float, results: Path | None = None,
           commit: str | None = None) -> Path:
    """Copy a finished chapter's report (tables, headlines, the small files of its runs) to
    ``results/<chapter>/<profile>/`` with its provenance (``commit``: the code it started with), replacing an
    earlier recording."""
    out = (results or results_root()) / chapter / profile
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for part in ("tables", "headlines.json"):
        src = folder / part
        if src.is_dir():
            shutil.copytree(src, out / part)
        elif src.exists():
            shutil.copy(src, out / part)
    for run in _runs(folder):
        dest = out / "runs" / run.name
        dest.mkdir(parents=True)
        for name in RUN_FILES:
            if (run / name).exists():
                shutil.copy(run / name, dest / name)
    prov = provenance(chapter, profile, params, seconds, folder, commit)
    (out / "provenance.json").write_text(json.dumps(prov, indent=1))
    return out


def recorded(chapter: str | None, name: str, profile: str = "full", results: Path | None = None):
    """``(table, provenance)`` of a recorded table, or ``None`` when nothing was recorded. Without a chapter name
    (a notebook opened outside the book runner) the table is looked up by name across chapters."""
    results = results or results_root()
    if chapter:
        candidates = [results / chapter / profile]
    else:
        candidates = sorted(p.parent for p in results.glob(f"*/{profile}/tables/{name}.json"))
        candidates = [p.parent for p in candidates]
    for folder in candidates:
        path = folder / "tables" / f"{name}.json"
        if path.exists():
            return read_table(path), json.loads((folder / "provenance.json").read_text())
    return None


def recording_kind(prov: dict) -> str:
    """What a recording is, in a few words: "recorded, CPU, SynthFER"."""
    kind = "CPU" if prov["device"].startswith("CPU") else "GPU"
    synth = bool(prov.get("datasets")) and all(k.startswith("synth") for k in prov["datasets"])
    return f"recorded, {kind}" + (", SynthFER" if synth else "")


def recorded_label(prov: dict) -> str:
    """"`long` profile (recorded, CPU, SynthFER)": the profile and :func:`recording_kind`."""
    return f"`{prov['profile']}` profile ({recording_kind(prov)})"


def provenance_line(prov: dict) -> str:
    """The admonition text above a recorded table."""
    # fingerprints joined with spaces, so that a recording over many data folders wraps inside the column
    data = "; ".join(f"{k} ({', '.join(v)})" for k, v in prov.get("datasets", {}).items()) or "see the chapter"
    return (f"Recorded in the {recorded_label(prov)} on {prov['device']} at commit `{prov['commit']}` "
            f"({prov['date']}; torch {prov['torch']}, CUDA {prov['cuda']}; {prov['wall_s']:.0f} s), "
            f"data: {data}. Not re-run in this build.")


def collected_headlines(build_reports: Path, profile: str, results: Path | None = None) -> dict:
    """``{item: [headline, ...]}``: the live ones of this build's ``profile`` and every recorded one."""
    results = results or results_root()
    found: dict[str, list] = {}
    sources = sorted(build_reports.glob(f"{profile}/*/headlines.json"))
    sources += sorted(results.glob("*/*/headlines.json"))
    for path in sources:
        is_recorded = results in path.parents
        prov = path.parent / "provenance.json"
        label = recording_kind(json.loads(prov.read_text())) if is_recorded and prov.exists() else None
        for item, h in json.loads(path.read_text()).items():
            found.setdefault(item, []).append({**h, "recorded": is_recorded, "recording": label})
    return found


STATUSES = (*VERDICTS, "needs full", "needs your data", "not reproducible", "claim not judged here",
            "measured, no claim", "no number yet")
"""The results map's statuses, in the order its summary line counts them: "claim not judged here" is an item
whose claim this build's profile did not measure; "measured, no claim" one whose paper number states no
direction to judge (a count, a diagram, a curve), shown beside ours."""


def measured_words(v: dict) -> str:
    """A verdict's measurement in words: the effect, its mean ± standard error and its seeds (the map's rows and
    each page's findings say it the same way)."""
    spread = f"{v['mean']:+.2f}" + (f" ± {v['se']:.2f}" if v["se"] is not None else "")
    return f"{v['effect']} {spread} over {v['seeds']} {v.get('over') or 'seed(s)'}"


def _verdict_text(h: dict) -> str:
    v = h["verdict"]
    why = f"; {v['why']}" if v.get("why") else ""
    return f"**{v['status']}**: {measured_words(v)} ({h['dataset']}, {h['profile']}{why})"


def map_status(it: dict, heads: list, chapters: set) -> tuple[str, str]:
    """(status of :data:`STATUSES`, its text) of one catalogue item on the results map: the verdict on its claim
    where a chapter measured one (recorded results first), otherwise what it waits for."""
    if it["needs"] == "none":
        return "not reproducible", f"not reproducible: {it.get('why') or 'see the paper'}"
    judged = sorted((h for h in heads if h.get("verdict")), key=lambda h: not h["recorded"])
    if judged:
        claim = judged[0]["verdict"].get("claim") or (it.get("claim") or {}).get("says", "")
        return judged[0]["verdict"]["status"], f"claim: {claim}<br>" + "<br>".join(_verdict_text(h) for h in judged)
    if it["needs"] == "reader-data":
        return "needs your data", f"needs your copy of {it['paper_data']}"
    if not it.get("chapter") or it["chapter"] not in chapters:
        return "no number yet", "no chapter yet"
    if not heads:
        if it["needs"] == "gpu":
            return "needs full", "needs the `full` profile (a GPU; pretrained weights where the paper used them)"
        return "no number yet", "in the chapter; no number reported yet"
    if all(h["ours"].startswith("uninformative") for h in heads):
        return "uninformative", "uninformative: the runs behind it learned nothing"
    if all(h["ours"].startswith("needs full") for h in heads):  # the chapter said it measured nothing here
        return "needs full", "needs the `full` profile (the chapter says what it lacks)"
    done = "runs on SynthFER" if any(h["dataset"].startswith("synth") for h in heads) else "measured"
    if it.get("claim"):
        done += f"; claim ({it['claim']['says']}) not judged in this profile"
    if it["needs"] == "gpu" and not any(h["recorded"] and h["profile"] in ("long", "full") for h in heads):
        return "needs full", done + "; paper scale needs a GPU (`full`) or the recorded `long` profile"
    if it.get("claim"):
        return "claim not judged here", done
    return "measured, no claim", done + "; the paper gives a level or a description, not a direction to judge"


def _ours(heads: list) -> str:
    parts = []
    for h in heads:
        tag = f"{h['dataset']}, {h['profile']}" + (f", {h.get('recording') or 'recorded'}" if h["recorded"] else "")
        parts.append(f"{h['ours']} ({tag})")
    return "<br>".join(parts) or "—"


def _cell(text) -> str:
    return str(text or "—").replace("|", "\\|").replace("\n", " ")


def _heads(it: dict, headlines: dict) -> list:
    """The headlines a catalogue item shows: its own and, for an item that asks the ``same_as`` question of another
    (a figure drawn for an experiment), the other item's, so the two rows agree."""
    own = headlines.get(it["id"], [])
    shared = headlines.get(it["same_as"], []) if it.get("same_as") else []
    return own + [h for h in shared if h not in own]


def results_map(items: list[dict], headlines: dict, chapters: list[str], profile: str) -> str:
    """The results map page: per paper, one row per table, figure or experiment, with the chapter that
    reproduces it, the paper's number, ours (with its dataset and profile) and a status."""
    lines = ["# Results map", "",
             "Every table, figure and experiment of the four papers, where this book reproduces it, the paper's "
             "headline number on the paper's data, and ours with the data and profile it was measured on. "
             f"Generated when the book was built (`{profile}` profile) from the numbers the chapters report "
             "and from recorded runs under `results/`. **SynthFER numbers measure this book's code on synthetic "
             "faces; they are not results on the papers' datasets.**", ""]
    known = set(chapters)
    counts = dict.fromkeys(STATUSES, 0)
    for it in items:
        counts[map_status(it, _heads(it, headlines), known)[0]] += 1
    lines += ["**Summary** (" + f"{len(items)} items): " + "; ".join(f"{k} {n}" for k, n in counts.items()) + ".",
              "A verdict judges the paper's direction by our per-seed paired measurement: **replicates** (beyond "
              "the seeds' noise, the paper's way), **absent** (within the noise), **contradicted** (beyond it, the "
              "other way), **uninformative** (a run behind it learned nothing, or one seed gave no spread).", ""]
    for paper in dict.fromkeys(it["paper"] for it in items):
        lines += [f"## {paper}", "", ":::{container} fernb-map", "",
                  "| item | the paper (its data) | here: chapter, ours (data, profile) | status |",
                  "|---|---|---|---|"]
        for it in (x for x in items if x["paper"] == paper):
            heads = _heads(it, headlines)
            row = [f"**{it['item']}** ({it.get('section') or '—'}): {it['what']}",
                   f"{it['headline']} ({it['paper_data']})", _here(it, heads, known),
                   map_status(it, heads, known)[1]]
            lines.append("| " + " | ".join(_cell(c) for c in row) + " |")
        lines += ["", ":::", ""]
    return "\n".join(lines)


def _here(it: dict, heads: list, known: set) -> str:
    ch = it.get("chapter")
    if not ch or ch not in known:
        return "—"
    where = f"[{ch[:2]}](../notebooks/{ch}.ipynb)" + (f" {it['book_section']}" if it.get("book_section") else "")
    return where + ("<br>" + _ours(heads) if heads else "")
