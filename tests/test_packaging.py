"""The promises of the repository itself: dependency lists agree, chapters are paired and parameterised."""

import re
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
    assert first.metadata["tags"] == [book.SETUP_TAG] and "find_spec(\"fernb\")" in first.source
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
