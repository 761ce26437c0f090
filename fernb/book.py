"""Run chapters and build the book: jupytext ``.py`` → ``.ipynb`` → papermill (kernel ``fernb``) → executed notebooks
in ``_build/executed/<profile>/`` → Jupyter Book renders those with execution off.

    python -m fernb.book run 00_quickstart -p profile smoke -p seed 1
    python -m fernb.book run-all --profile smoke
    python -m fernb.book build --profile quick
    python -m fernb.book sync          # rewrite the paired, output-stripped .ipynb files for Colab
    python -m fernb.book run 05_resemotenet -p profile full --record   # keep its results under results/
    python -m fernb.book record 09_lfer_ldl 05_resemotenet --background   # the long profile, recorded, detached
    python -m fernb.book record-gpu 05_resemotenet --budget-s 480          # full on a GPU (fernb.recording)
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from fernb import paths
from fernb.profiles import PROFILES, RECORDED, check_profile

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
BUILD = paths.build_root()
KERNEL = "fernb"
KERNELSPEC = {"name": KERNEL, "display_name": "fernb (Python 3)", "language": "python"}
# seconds on a 2-core CPU (issue #13): quick about 3 min per chapter on average and the whole book within 30 min after
# install; smoke under 40 s per chapter
# long: at most two hours of 2-core time a chapter, recorded once (DESIGN.md, "Profiles")
BUDGET = {"smoke": {"chapter": 40, "book": None}, "quick": {"chapter": 180, "book": 1800},
          "long": {"chapter": 7200, "book": None}, "full": {"chapter": None, "book": None}}


def chapters() -> list[str]:
    return paths.chapters(NOTEBOOKS)


def chapter_path(name: str) -> Path:
    return paths.chapter_path(name, NOTEBOOKS)


def repository() -> dict:
    """``repository`` of ``_config.yml``: the one place the repository URL and branch are configured (the Colab
    set-up cell and the book's launch buttons use it)."""
    import yaml

    repo = (yaml.safe_load((ROOT / "_config.yml").read_text()) or {}).get("repository") or {}
    if not repo.get("url"):
        raise ValueError("_config.yml has no repository.url; the Colab set-up cell installs fernb from it")
    return {"url": repo["url"].rstrip("/"), "branch": repo.get("branch", "main")}


SETUP_TAG = "fernb-setup"
SETUP_CELL = '''# Set-up for Colab or any fresh Python: installs fernb only when it is missing.
# drive_folder: keep data and runs in Google Drive (e.g. "fernb"); None keeps them here.
drive_folder = None
import importlib.util, os, subprocess, sys

if drive_folder:
    from google.colab import drive

    drive.mount("/content/drive")
    os.environ["FERNB_HOME"] = os.path.join("/content/drive/MyDrive", drive_folder)
if importlib.util.find_spec("fernb") is None:  # a clone, which holds the manifests
    src = os.environ.get("FERNB_SOURCE") or "fernb"
    if not os.path.isdir(src):
        repo = "{url}"
        if "/OWNER/" in repo:  # the book's repository.url is still the placeholder
            raise SystemExit(
                "fernb is not installed here, and this copy of the book names no "
                "public repository to fetch it from yet. Copy or clone fernb onto "
                "this machine, set os.environ['FERNB_SOURCE'] = '/path/to/fernb' "
                "and run this cell again."
            )
        subprocess.run(["git", "clone", "-q", "-b", "{branch}", repo, src], check=True)
    pip, here = [sys.executable, "-m", "pip", "install", "-q"], os.path.abspath(src)
    subprocess.run(pip + ["-e", here + "[deploy]", "requests"], check=True)
    # MTCNN face detection (it needs requests); its pins are outdated, so without them
    subprocess.run(pip + ["--no-deps", "facenet-pytorch==2.6.0"], check=True)
    sys.path.insert(0, here)'''


PLACEHOLDER = "/OWNER/"
"""What ``repository.url`` of ``_config.yml`` holds until the repository has a public address: the set-up cell then
stops at once with what to set, and the built book shows no launch or repository buttons (they would fail)."""
HIDDEN, INPUT_HIDDEN = "hide-cell", "hide-input"
"""Jupyter Book's tags for a cell shown collapsed (the set-up, parameter and papermill's injected cells) and for one
whose code is collapsed but whose output shows (the imports cell that prints the data notice)."""


def setup_cell():
    """The first code cell of every chapter (see :data:`SETUP_CELL`), tagged so tests and the book can find it and
    collapsed on the page."""
    import nbformat

    cell = nbformat.v4.new_code_cell(SETUP_CELL.format(**repository()))
    cell.metadata["tags"] = [SETUP_TAG, HIDDEN]
    return cell


def collapse_scaffolding(nb):
    """Tag the cells a reader does not need open: the parameters cell and papermill's injected parameters
    collapsed whole, the first code cell after the parameters (imports and ``fernb.chapter.setup``) with its code
    collapsed and its output shown."""
    code = [c for c in nb.cells if c.cell_type == "code"]
    for k, c in enumerate(code):
        tags = c.metadata.setdefault("tags", [])
        if ("parameters" in tags or "injected-parameters" in tags) and HIDDEN not in tags:
            tags.append(HIDDEN)
        if "parameters" in tags and k + 1 < len(code):
            after = code[k + 1].metadata.setdefault("tags", [])
            if "injected-parameters" in after and k + 2 < len(code):
                after = code[k + 2].metadata.setdefault("tags", [])
            if INPUT_HIDDEN not in after and HIDDEN not in after:
                after.append(INPUT_HIDDEN)
    return nb


def to_notebook(py: Path):
    """The jupytext notebook of a chapter, with the fernb kernel named (papermill needs it explicit) and the
    set-up cell before its first code cell."""
    import jupytext

    nb = jupytext.read(py, fmt="py:percent")
    first_code = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code"), len(nb.cells))
    nb.cells.insert(first_code, setup_cell())
    collapse_scaffolding(nb)
    for i, c in enumerate(nb.cells):  # stable ids, so the paired .ipynb only changes when the chapter does
        c["id"] = f"{py.stem[:40]}-{i:03d}"
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata.setdefault("language_info", {"name": "python"})
    return nb


def paired_ipynb(py: Path):
    """The output-stripped ``.ipynb`` committed beside each chapter (Colab opens only .ipynb)."""
    import jupytext

    nb = to_notebook(py)
    nb.metadata["jupytext"] = {"formats": "ipynb,py:percent"}
    # Colab and a plain Jupyter know the "python3" kernel; the book runner names "fernb" itself
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for c in nb.cells:
        if c.cell_type == "code":
            c.outputs, c.execution_count = [], None
    return jupytext.writes(nb, fmt="ipynb")


def sync() -> list[Path]:
    written = []
    for name in chapters():
        py = NOTEBOOKS / f"{name}.py"
        out = py.with_suffix(".ipynb")
        text = paired_ipynb(py)
        if not out.exists() or out.read_text() != text:
            out.write_text(text)
            written.append(out)
    return written


def declared_parameters(py: Path) -> dict:
    """Names and default values of the chapter's ``parameters`` cell."""
    import ast

    nb = to_notebook(py)
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    if len(cells) != 1:
        raise ValueError(f"{py}: expected exactly one cell tagged 'parameters', found {len(cells)}")
    out = {}
    for node in ast.parse(cells[0].source).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            out[node.targets[0].id] = ast.literal_eval(node.value)
    return out


def _library_hash() -> str:
    h = hashlib.sha256()
    for p in sorted(list((ROOT / "fernb").rglob("*.py")) + list((ROOT / "data_manifests").glob("*.yaml"))):
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


def _check_kernel():
    from jupyter_client.kernelspec import find_kernel_specs

    if KERNEL not in find_kernel_specs():
        raise RuntimeError(f"Jupyter kernel {KERNEL!r} is not installed; run 'make install' or "
                           f"'{sys.executable} -m ipykernel install --sys-prefix --name {KERNEL}'")


def _rel(path: Path) -> Path:
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


def _recorded_hash(name: str, profile: str) -> str:
    """Recorded results a chapter shows change its page, so they are part of its key (not those of its own
    profile, which it writes rather than shows)."""
    from fernb.results import results_root

    h, folder = hashlib.sha256(), results_root() / name
    for p in sorted(folder.rglob("*")) if folder.exists() else []:
        if p.is_file() and p.relative_to(folder).parts[0] != profile:
            h.update(str(p.relative_to(folder)).encode() + p.read_bytes())
    return h.hexdigest()[:16]


def run(name: str, params: dict | None = None, profile: str | None = None, force: bool = False,
        record: bool = False, log_output: bool = False) -> Path:
    """Execute one chapter with papermill; returns the executed notebook.  Skipped when an executed copy with the
    same chapter text, parameters, library and recorded results already exists. The chapter reports into
    ``_build/reports/<profile>/<chapter>/``; ``record`` then copies that to ``results/`` (:mod:`fernb.results`).
    ``log_output``: echo the cells' output (each epoch's line) while they run, for a long run's log."""
    import nbformat
    import papermill

    py = chapter_path(name)
    params = dict(params or {})
    if profile is not None:
        params["profile"] = profile
    declared = declared_parameters(py)
    for k in params:
        if k not in declared or k == "report":
            raise ValueError(f"chapter {name} has no parameter {k!r}; its parameters are: {', '.join(declared)}")
    _check_parameter_values(name, params, declared)
    prof = check_profile(params.get("profile", declared.get("profile")))
    key = hashlib.sha256(json.dumps([py.read_text(), params, _library_hash(), _recorded_hash(name, prof),
                                     SETUP_CELL], sort_keys=True, default=str).encode()).hexdigest()
    out = BUILD / "executed" / prof / f"{name}.ipynb"
    reports = BUILD / "reports" / prof / name
    if out.exists() and not force and reports.exists():
        try:
            meta = nbformat.read(out, as_version=4).metadata.get("fernb", {})
            if meta.get("key") == key:
                print(f"{name} [{prof}]: up to date ({_rel(out)})")
                if record:
                    _record(name, prof, reports, params, meta.get("seconds") or 0.0, meta.get("commit"))
                return out
        except Exception:  # an unreadable leftover is simply re-executed
            pass
    _check_kernel()
    src = BUILD / "notebooks" / f"{name}.ipynb"
    src.parent.mkdir(parents=True, exist_ok=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(to_notebook(py), src)
    if reports.exists():
        shutil.rmtree(reports)
    reports.mkdir(parents=True)
    injected = dict(params)
    if "report" in declared:  # where the chapter reports (fernb.chapter.setup), relative to papermill's cwd
        injected["report"] = os.path.relpath(reports, NOTEBOOKS)
    from fernb.results import code_version

    commit = code_version()  # the code this run starts with: a commit made while it runs is not its code
    t = time.perf_counter()
    print(f"{name} [{prof}]: executing with {params or 'default parameters'}")
    tmp = out.with_suffix(".partial.ipynb")
    with _kernel_environment():
        try:
            papermill.execute_notebook(str(src), str(tmp), parameters=injected, kernel_name=KERNEL,
                                       cwd=str(NOTEBOOKS), progress_bar=False, log_output=log_output,
                                       kernel_manager_class=_ipc_kernel_manager())
        except papermill.PapermillExecutionError as e:
            raise ChapterError(f"chapter {name} stopped at cell {e.exec_count}: {e.ename}: {e.evalue} (its "
                               f"traceback is in {_rel(tmp)})") from None
    seconds = round(time.perf_counter() - t, 1)
    nb = collapse_scaffolding(nbformat.read(tmp, as_version=4))
    add_findings(nb, reports)
    nb.metadata["fernb"] = {"key": key, "profile": prof, "parameters": params, "seconds": seconds, "commit": commit}
    nbformat.write(nb, out)
    tmp.unlink()
    print(f"{name} [{prof}]: done in {seconds:.0f}s -> {_rel(out)}")
    if record:
        _record(name, prof, reports, params, seconds, commit)
    return out


@contextlib.contextmanager
def _kernel_environment():
    """What the chapter's kernel inherits while papermill runs it, restored afterwards: figures as HTML calling the
    book's plotly.js (``fernb.viz.setup_plotly``), and no progress bars (the page keeps the epoch log)."""
    saved = {k: os.environ.get(k) for k in ("FERNB_BOOK_BUILD", "TQDM_DISABLE")}
    os.environ["FERNB_BOOK_BUILD"] = "1"
    os.environ.setdefault("TQDM_DISABLE", "1")
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _log_cells():
    """papermill's cell output (``log_output``) on standard output, one line a record."""
    import logging

    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    log = logging.getLogger("papermill")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False


def _record(name: str, profile: str, reports: Path, params: dict, seconds: float, commit: str | None = None):
    from fernb import results

    out = results.record(name, profile, reports, params, seconds, commit=commit)
    print(f"{name} [{profile}]: recorded -> {_rel(out)}")


# code cells at a size where the book's 88-character code column fits the content column of a laptop screen
BOOK_CSS = """div.cell div.highlight pre, div.cell_output pre { font-size: 0.78em; }
div.fernb-map table { font-size: 0.8em; }
div.fernb-map table td:first-child { min-width: 14em; }
"""


def _ipc_kernel_manager():
    """A kernel manager talking to the kernel over local IPC sockets rather than unencrypted TCP (the kernel then
    has nothing to warn about on stderr, and nothing listens on a port)."""
    from jupyter_client.manager import KernelManager

    import tempfile

    sockets = Path(tempfile.mkdtemp(prefix="fernb-kernel-"))  # not the chapter folder (papermill's cwd)

    class IPCKernelManager(KernelManager):
        def __init__(self, **kw):
            super().__init__(transport="ipc", ip=str(sockets / "kernel-ipc"), **kw)

    return IPCKernelManager


def build(profile: str = "quick", force: bool = False) -> Path:
    """Run every chapter in ``profile`` and build the HTML book from the executed notebooks."""
    import plotly

    executed = [run(n, profile=profile, force=force) for n in chapters()]
    report = timings(executed, profile)
    site = BUILD / "site"
    if site.exists():
        for p in site.iterdir():
            if p.name != "_build":
                shutil.rmtree(p) if p.is_dir() else p.unlink()
    site.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "_toc.yml", site / "_toc.yml")
    (site / "_config.yml").write_text(site_config())
    shutil.copytree(ROOT / "book", site / "book")
    (site / "book" / "timings.md").write_text(timings_page(report))
    (site / "book" / "results_map.md").write_text(results_map_page(profile))
    (site / "notebooks").mkdir()
    for nb in executed:
        shutil.copy(nb, site / "notebooks" / nb.name)
    (site / "_static").mkdir()
    shutil.copy(Path(plotly.__file__).parent / "package_data" / "plotly.min.js", site / "_static" / "plotly.min.js")
    (site / "_static" / "fernb.css").write_text(BOOK_CSS)
    jb = Path(sys.executable).parent / "jupyter-book"
    cmd = [str(jb) if jb.exists() else "jupyter-book", "build", str(site), "--builder", "html"]
    subprocess.run(cmd, check=True)
    index = site / "_build" / "html" / "index.html"
    print(f"\nThe book is at {index}\n  (open file://{index})")
    return index


FINDINGS_TAG = "fernb-findings"


def findings(reports: Path, recorded: dict | None = None) -> str | None:
    """What a chapter found, in the words its own report gives (``headlines.json``: each paper item it measured,
    the verdict on the item's claim where it judged one), as the Markdown the page opens with, followed by what its
    recorded profiles found (``recorded``: profile -> folder under ``results/``, shown as recorded); ``None`` when
    it reported nothing."""
    from fernb import results

    path, more = reports / "headlines.json", reports / "findings.json"
    heads = json.loads(path.read_text()) if path.exists() else {}
    own = json.loads(more.read_text()) if more.exists() else []
    if not heads and not own:
        return None
    profile = next(iter(heads.values()))["profile"] if heads else own[0]["profile"]
    lines = _finding_lines(heads) + [f"* {f['text']} ({f['dataset']})." for f in own]
    text = (f"**What this page found** (profile `{profile}`; computed by the chapter below, each with the data it "
            f"was measured on; the [results map](../book/results_map.md) sets them beside the papers):\n\n"
            + "\n".join(lines))
    for prof, folder in (recorded or {}).items():
        done = folder / "headlines.json"
        if prof != profile and done.exists():
            prov = folder / "provenance.json"
            where = results.recorded_label(json.loads(prov.read_text())) if prov.exists() else f"`{prof}` profile"
            text += (f"\n\n**Recorded earlier** ({where}; not re-run in this build, its tables appear below beside "
                     f"this profile's):\n\n" + "\n".join(_finding_lines(json.loads(done.read_text()))))
    return text


def _finding_lines(heads: dict) -> list[str]:
    from fernb import results

    items = {it["id"]: it for it in results.paper_items()}
    lines = []
    for item, h in heads.items():
        it = items.get(item, {"paper": "?", "item": item})
        v = h.get("verdict")
        claim = v.get("claim") or items[item]["claim"]["says"] if v else ""
        judged = f" **{v['status']}** on the paper's claim ({claim}): {results.measured_words(v)}." if v else ""
        lines.append(f"* {it['paper']} {it['item']}: {h['ours']} ({h['dataset']}).{judged}")
    return lines


def add_findings(nb, reports: Path):
    """Insert :func:`findings` right under the chapter's title line (splitting the first Markdown cell there, so
    the reader sees what the page found before its introduction), replacing an earlier copy."""
    import nbformat

    from fernb.profiles import RECORDED
    from fernb.results import results_root

    nb.cells = [c for c in nb.cells if FINDINGS_TAG not in c.metadata.get("tags", [])]
    text = findings(reports, {p: results_root() / reports.name / p for p in RECORDED})
    if text is None:
        return nb
    cell = nbformat.v4.new_markdown_cell(text)
    cell.metadata["tags"] = [FINDINGS_TAG]
    at = next((i for i, c in enumerate(nb.cells) if c.cell_type == "markdown"), None)
    if at is None:
        nb.cells.insert(0, cell)
        return nb
    title, _, rest = nb.cells[at].source.partition("\n")
    if title.startswith("# ") and rest.strip():
        nb.cells[at].source = title
        intro = nbformat.v4.new_markdown_cell(rest.strip("\n"))
        intro.metadata["tags"] = [FINDINGS_TAG + "-intro"]
        nb.cells.insert(at + 1, intro)
    nb.cells.insert(at + 1, cell)
    return nb


def site_config() -> str:
    """``_config.yml`` as the built book uses it: without the launch and repository buttons while
    ``repository.url`` is the placeholder (:data:`PLACEHOLDER`), so no button sends a reader to an address that
    does not exist."""
    import yaml

    text = (ROOT / "_config.yml").read_text()
    if PLACEHOLDER not in repository()["url"]:
        return text
    conf = yaml.safe_load(text)
    conf.pop("launch_buttons", None)
    conf.setdefault("html", {})["use_repository_button"] = False
    return ("# built from _config.yml; repository.url is still a placeholder, so the buttons are off\n"
            + yaml.safe_dump(conf, sort_keys=False, allow_unicode=True))


def results_map_page(profile: str) -> str:
    """The results map (:func:`fernb.results.results_map`) from this build's reports and the recorded results."""
    from fernb import results

    heads = results.collected_headlines(BUILD / "reports", profile)
    return results.results_map(results.paper_items(), heads, chapters(), profile)


def timings(executed: list[Path], profile: str) -> dict:
    """Each chapter's wall time as recorded when it was executed (a chapter reused from an earlier run keeps its
    time), the total, the budget, and the machine; printed, and written to ``_build/timings-<profile>.json``."""
    import platform

    import nbformat

    rows = {}
    for nb in executed:
        meta = nbformat.read(nb, as_version=4).metadata.get("fernb", {})
        rows[nb.stem] = meta.get("seconds")
    known = [v for v in rows.values() if v is not None]
    budget = BUDGET[profile]
    report = {"profile": profile, "chapters": rows, "total_s": round(sum(known), 1),
              "mean_s": round(sum(known) / max(len(known), 1), 1), "budget_s": budget,
              "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores, torch threads {_torch_threads()}",
              "over_budget": [n for n, v in rows.items() if v is not None and budget["chapter"]
                              and v > budget["chapter"]]}
    BUILD.mkdir(exist_ok=True)
    (BUILD / f"timings-{profile}.json").write_text(json.dumps(report, indent=1))
    print(f"\nchapter times ({profile}):")
    for n, v in rows.items():
        flag = "  over the chapter budget" if n in report["over_budget"] else ""
        print(f"  {n:<28} {'?' if v is None else f'{v:7.1f} s'}{flag}")
    print(f"  {'total':<28} {report['total_s']:7.1f} s (mean {report['mean_s']:.1f} s per chapter)")
    return report


def _torch_threads() -> int:
    import torch

    return torch.get_num_threads()


def timings_page(report: dict) -> str:
    """The appendix page of the build's chapter times beside the budget."""
    b = report["budget_s"]
    lines = ["# How long each chapter takes", "",
             f"Wall time of each chapter of this build (profile `{report['profile']}`), measured by the book runner "
             f"when the chapter was executed, on {report['machine']}. The budget for `quick` on a 2-core CPU is "
             "about 3 minutes per chapter on average and 30 minutes for the whole book after installation; `smoke` "
             "(what CI runs) stays under 40 s per chapter.", "",
             "| chapter | seconds | minutes |", "|---|---:|---:|"]
    for n, v in report["chapters"].items():
        lines.append(f"| {n} | {'—' if v is None else f'{v:.0f}'} | {'—' if v is None else f'{v / 60:.1f}'} |")
    lines.append(f"| **total** | **{report['total_s']:.0f}** | **{report['total_s'] / 60:.1f}** |")
    if b["book"]:
        verdict = "within" if report["total_s"] <= b["book"] else "over"
        lines += ["", f"The whole book took {report['total_s'] / 60:.1f} min: {verdict} the {b['book'] / 60:.0f}-minute "
                      f"budget; the mean chapter took {report['mean_s'] / 60:.1f} min "
                      f"(budget {b['chapter'] / 60:.0f} min)."]
    return "\n".join(lines) + "\n"


CODE_WIDTH = 88  # characters: the book's code column; wider lines make readers scroll sideways
_PAGE_PROBLEMS = (
    (r"(?m)(\.py:\d+: |^)\w*Warning: ", "a Python warning"),
    (r"Traceback \(most recent call last\)", "a traceback"),
    (r"(?<![\w.])/(tmp|home|root|Users|private|var/folders)/", "an absolute local path"),
    (r"\.venv/|site-packages/", "a path inside the virtual environment"),
)


def _local_paths() -> list[str]:
    """This machine's own folders, which a page must never print: the checkout, FERNB_HOME, the home folder."""
    from fernb import paths

    found = {str(ROOT), str(paths.home().resolve()), str(Path.home())}
    return sorted((p for p in found if len(p) > 1), key=len, reverse=True)


def page_problems(nb, name: str = "chapter") -> list[str]:
    """What a published page must not show, found in an executed notebook's outputs: Python warnings, tracebacks,
    absolute local paths, ``NaN`` in a displayed table (HTML tables print missing values as ``—``), and code
    lines wider than :data:`CODE_WIDTH`. One line per problem, naming the cell."""
    import re

    problems = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        where = f"{name} cell {i}"
        for k, line in enumerate(cell.source.splitlines()):
            if len(line) > CODE_WIDTH:
                problems.append(f"{where} line {k + 1}: code {len(line)} characters wide (limit {CODE_WIDTH})")
        for out in cell.get("outputs", []):
            texts = []
            if out.get("output_type") == "stream":
                texts.append(("text", out.get("text", "")))
            elif out.get("output_type") == "error":
                problems.append(f"{where}: raised {out.get('ename')}: {out.get('evalue', '')[:120]}")
            for mime, data in out.get("data", {}).items():
                if mime in ("text/plain", "text/html", "text/markdown"):
                    texts.append((mime, data if isinstance(data, str) else "".join(data)))
            for mime, text in texts:
                if mime == "application/vnd.plotly.v1+json":
                    continue
                for pattern, what in _PAGE_PROBLEMS:
                    m = re.search(pattern, text)
                    if m:
                        problems.append(f"{where}: {what} in the output: ...{text[max(0, m.start() - 40):m.end() + 40]!r}")
                hit = next((p for p in _local_paths() if p in text), None)
                if hit:
                    problems.append(f"{where}: this machine's folder {hit} in the output")
                if mime == "text/html" and "<table" in text and re.search(r">\s*(NaN|nan|None|<NA>)\s*<", text):
                    problems.append(f"{where}: NaN/None shown in a table (show '—' for a missing value)")
    return problems


def check_pages(profile: str = "smoke") -> list[str]:
    """:func:`page_problems` over every executed chapter of ``profile``; missing chapters are problems too."""
    import nbformat

    problems = []
    for name in chapters():
        path = BUILD / "executed" / profile / f"{name}.ipynb"
        if not path.exists():
            problems.append(f"{name}: not executed in profile {profile} (run python -m fernb.book run-all)")
            continue
        problems += page_problems(nbformat.read(path, as_version=4), name)
        if profile != "smoke":  # smoke proves the code paths; its one-batch runs are not meant to learn
            problems += uninformative_tables(BUILD / "reports" / profile / name, name)
    return problems


def uninformative_tables(reports: Path, name: str) -> list[str]:
    """The rows of a chapter's reported tables that rest on a run that learned nothing and are not declared an
    expected failure (``ch.report(..., runs=, expected=)`` notes them beside the table): one line per row."""
    problems = []
    for notes in sorted((reports / "tables").glob("*.runs.json")):
        table = notes.name[: -len(".runs.json")]
        for row, rec in json.loads(notes.read_text()).items():
            if not rec["informative"] and not rec.get("expected"):
                problems.append(f"{name}: table {table!r} row {row} rests on a run that learned nothing "
                                f"({rec['reason']}); train it until it learns or declare it expected")
    return problems


def _parse_params(pairs) -> dict:
    import yaml

    out = {}
    for k, v in pairs or []:
        try:
            out[k] = yaml.safe_load(v)
        except yaml.YAMLError as e:
            raise ValueError(f"-p {k} {v!r}: not a YAML value ({getattr(e, 'problem', None) or e})") from None
    return out


class ChapterError(Exception):
    """A chapter raised while papermill executed it (its executed notebook holds the traceback)."""


def _check_parameter_values(name: str, params: dict, declared: dict):
    """A parameter's value has the type of the chapter's default (a float default takes an int; a ``None``
    default takes anything), so ``-p seed abc`` is refused here rather than deep inside the chapter."""
    for k, v in params.items():
        default = declared.get(k)
        if default is None or v is None:
            continue
        want = (int, float) if type(default) is float else type(default)
        if not isinstance(v, want) or (isinstance(v, bool) and type(default) is not bool):
            kind = _KINDS.get(type(default), f"a {type(default).__name__}")
            raise ValueError(f"chapter {name}: parameter {k}={v!r} is not {kind} like its default {default!r}")


_KINDS = {int: "an integer", float: "a number", str: "a string", bool: "true or false", list: "a list",
          dict: "a mapping"}


def _one_line(e: BaseException) -> str:
    return " ".join(str(e).split()) or type(e).__name__


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m fernb.book", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="execute one chapter")
    r.add_argument("chapter")
    r.add_argument("-p", "--param", nargs=2, action="append", metavar=("NAME", "VALUE"), help="a chapter parameter (YAML value)")
    r.add_argument("--force", action="store_true")
    r.add_argument("--record", action="store_true", help="keep the chapter's results under results/ (fernb.results)")
    r.add_argument("--log", action="store_true", help="echo each cell's output as it runs (a long recording's log)")
    ra = sub.add_parser("run-all", help="execute every chapter")
    ra.add_argument("--profile", choices=PROFILES, default="smoke")
    ra.add_argument("--force", action="store_true")
    b = sub.add_parser("build", help="execute every chapter and build the HTML book")
    b.add_argument("--profile", choices=PROFILES, default="quick")
    b.add_argument("--force", action="store_true")
    sub.add_parser("sync", help="rewrite the paired .ipynb of every chapter")
    c = sub.add_parser("check", help="fail on warnings, tracebacks, local paths, NaN tables or wide code in pages")
    c.add_argument("--profile", choices=PROFILES, default="smoke")
    gpu = sub.add_parser("record-gpu", help="run chapters in full within a time budget (a GPU) and record them")
    gpu.add_argument("chapters", nargs="+")
    gpu.add_argument("--budget-s", type=float, default=480.0, help="seconds for all chapters together")
    gpu.add_argument("-p", "--param", nargs=2, action="append", metavar=("NAME", "VALUE"),
                     help="a parameter for every chapter (dataset, data_root for your own data)")
    gpu.add_argument("--dry-run", action="store_true", help="the same in the smoke profile (a CPU check)")
    gpu.add_argument("--out", default=os.environ.get("OUT"), help="folder for a tarball of the recordings")
    rec = sub.add_parser("record", help="run chapters in a recorded profile (long) and keep their results")
    rec.add_argument("chapters", nargs="+")
    rec.add_argument("--profile", choices=RECORDED, default="long")
    rec.add_argument("--force", action="store_true", help="re-execute chapters (trained runs are still reused)")
    rec.add_argument("--background", action="store_true", help="detach; output to _build/logs/record-<profile>.log")
    sub.add_parser("list", help="list chapters and their parameters")
    a = p.parse_args(argv)
    try:
        _dispatch(a)
    except (ValueError, FileNotFoundError, PermissionError, RuntimeError, ChapterError) as e:
        if os.environ.get("FERNB_TRACEBACK"):
            raise
        print(f"python -m fernb.book {a.cmd}: error: {_one_line(e)}", file=sys.stderr)
        sys.exit(2)


def _dispatch(a):
    if a.cmd == "run":
        if a.log:
            _log_cells()
        run(a.chapter, _parse_params(a.param), force=a.force, record=a.record, log_output=a.log)
    elif a.cmd == "run-all":
        timings([run(n, profile=a.profile, force=a.force) for n in chapters()], a.profile)
    elif a.cmd == "build":
        build(a.profile, a.force)
    elif a.cmd == "record-gpu":
        from fernb.recording import record_gpu

        done = record_gpu(a.chapters, a.budget_s, _parse_params(a.param), a.dry_run, a.out and Path(a.out))
        sys.exit(0 if all(d["status"] == "recorded" for d in done) else 1)
    elif a.cmd == "record" and a.background:
        from fernb.recording import record_in_background

        pid, log = record_in_background(a.chapters, a.profile, a.force)
        print(f"recording {', '.join(a.chapters)} [{a.profile}] in the background: pid {pid}, log {_rel(log)}; "
              f"stop it with kill {pid}, resume it with the same command")
    elif a.cmd == "record":
        from fernb.recording import record_chapters

        record_chapters(a.chapters, a.profile, a.force)
    elif a.cmd == "sync":
        for w in sync():
            print(f"wrote {_rel(w)}")
    elif a.cmd == "check":
        problems = check_pages(a.profile)
        for line in problems:
            print(line)
        print(f"{len(problems)} problem(s) in the {a.profile} pages" if problems else f"{a.profile} pages: clean")
        sys.exit(1 if problems else 0)
    elif a.cmd == "list":
        for n in chapters():
            print(n, declared_parameters(NOTEBOOKS / f"{n}.py"))


if __name__ == "__main__":
    main()
