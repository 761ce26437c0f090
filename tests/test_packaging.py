"""The promises of the repository itself: dependency lists agree, chapters are paired and parameterised."""

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import jupytext
import nbformat
import pytest
import yaml

from fernb import book

ROOT = Path(__file__).resolve().parents[1]
COMMON_PARAMETERS = ("profile", "dataset", "data_root", "device", "seed")


def _norm(spec: str) -> str:
    return re.sub(r"\s+", "", spec).lower()


def test_environment_yml_lists_the_pyproject_dependencies():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    want = set(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        want |= set(extra)
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    got = {p for p in pip if not p.startswith("-e")}
    assert {_norm(s) for s in got} == {_norm(s) for s in want}


def test_torch_is_a_range_in_the_package_and_a_pin_in_the_makefile():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    torch_spec = next(d for d in deps if re.match(r"torch\b", d) and not d.startswith("torchvision"))
    assert "==" not in torch_spec
    make = (ROOT / "Makefile").read_text()
    assert "torch==2.14.1 torchvision==0.29.1" in make
    assert "jupyter-book>=1.0.4,<2" in (ROOT / "pyproject.toml").read_text()


def test_ci_calls_make_test():
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "make book" in readme and "make test" in readme


@pytest.mark.parametrize("name", book.chapters())
def test_chapter_pair_is_in_sync_and_stripped(name):
    py = ROOT / "notebooks" / f"{name}.py"
    ipynb = py.with_suffix(".ipynb")
    assert ipynb.exists(), f"{ipynb.name} missing: run 'make sync'"
    assert ipynb.read_text() == book.paired_ipynb(py), f"{ipynb.name} is out of sync with {py.name}: run 'make sync'"
    nb = nbformat.read(ipynb, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
    assert nb.metadata["kernelspec"]["name"] == "python3"  # what Colab and a plain Jupyter start
    first = next(c for c in nb.cells if c.cell_type == "code")
    assert first.metadata["tags"] == [book.SETUP_TAG, book.HIDDEN] and "find_spec(\"fernb\")" in first.source
    # the same cells either way, besides the set-up cell
    a = jupytext.read(py)
    assert [c.source for c in a.cells] == [c.source for c in nb.cells if c is not first]


@pytest.mark.parametrize("name", book.chapters())
def test_chapter_declares_the_common_parameters(name):
    params = book.declared_parameters(ROOT / "notebooks" / f"{name}.py")
    for p in COMMON_PARAMETERS:
        assert p in params, f"{name} lacks parameter {p!r}"
    assert params["profile"] in ("smoke", "quick", "full")


def test_every_chapter_is_in_the_toc():
    toc = (ROOT / "_toc.yml").read_text()
    for name in book.chapters():
        assert f"notebooks/{name}" in toc


def test_config_renders_executed_notebooks_without_executing():
    cfg = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert cfg["execute"]["execute_notebooks"] == "off"
    assert "plotly.min.js" in cfg["sphinx"]["config"]["html_js_files"]


# module name -> distribution name, for the imports whose names differ
DISTRIBUTIONS = {"PIL": "pillow", "yaml": "pyyaml", "sklearn": "scikit-learn"}


def test_every_module_level_import_of_the_library_is_declared():
    """What ``import fernb.<anything>`` needs at module level is a declared dependency (optional packages are imported
    inside the functions that use them), and nothing declared goes unused."""
    import ast
    import sys

    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    declared = {re.match(r"[A-Za-z0-9_.-]+", d).group(0).lower() for d in deps}
    used = set()
    for path in (ROOT / "fernb").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in tree.body:
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module else []
            for name in names:
                top = name.split(".")[0]
                if top != "fernb" and top not in sys.stdlib_module_names and top != "__future__":
                    used.add(DISTRIBUTIONS.get(top, top).lower())
    assert used <= declared, f"imported at module level but not declared: {sorted(used - declared)}"
    lazily = {"timm", "plotly", "scikit-learn", "tqdm", "pillow", "pyyaml"}  # imported inside functions too
    needed_by = {"torchvision", "nbformat"}  # torchvision by timm; nbformat by plotly to show figures in notebooks
    assert declared - used <= lazily | needed_by, f"declared but never imported: {sorted(declared - used)}"


def test_the_set_up_cell_stops_at_once_while_the_repository_is_a_placeholder(tmp_path):
    from fernb import book

    cell = book.SETUP_CELL.format(url="https://github.com/OWNER/fernb", branch="main")
    # -S: no site-packages, so fernb is "missing" as on a fresh Colab; the cwd has no fernb folder to install
    env = {k: v for k, v in os.environ.items() if k not in ("FERNB_SOURCE", "PYTHONPATH")}
    p = subprocess.run([sys.executable, "-S", "-c", cell], cwd=tmp_path, env=env, capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 1 and "names no public repository" in p.stderr and "FERNB_SOURCE" in p.stderr
    assert not (tmp_path / "fernb").exists()  # nothing was cloned


def test_the_built_book_has_no_buttons_to_a_placeholder_repository(monkeypatch):
    import yaml

    from fernb import book

    conf = yaml.safe_load(book.site_config())
    if book.PLACEHOLDER in book.repository()["url"]:
        assert "launch_buttons" not in conf and conf["html"]["use_repository_button"] is False
    monkeypatch.setattr(book, "repository", lambda: {"url": "https://github.com/someone/fernb", "branch": "main"})
    assert book.site_config() == (book.ROOT / "_config.yml").read_text()  # a real address keeps them


def test_the_set_up_cell_fits_the_books_code_column():
    from fernb import book

    cell = book.SETUP_CELL.format(**book.repository())
    assert max(len(line) for line in cell.splitlines()) <= book.CODE_WIDTH


@pytest.mark.parametrize("name", book.chapters())
def test_chapter_code_fits_the_books_code_column(name):
    nb = jupytext.read(ROOT / "notebooks" / f"{name}.py")
    wide = [(i, line) for i, c in enumerate(nb.cells) if c.cell_type == "code"
            for line in c.source.splitlines() if len(line) > book.CODE_WIDTH]
    assert not wide, f"{name}: code wider than {book.CODE_WIDTH} characters: {wide[:3]}"
