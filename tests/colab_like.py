"""Run chapters the way Colab opens them (issue #18): the committed, output-stripped ``notebooks/<chapter>.ipynb``
executed from its first cell in a fresh virtual environment that has torch, torchvision and a kernel and nothing
else, so that the set-up cell must install fernb (pointed at this checkout through ``FERNB_SOURCE``).

    .venv/bin/python tests/colab_like.py                 # every chapter, smoke profile
    .venv/bin/python tests/colab_like.py 00_quickstart   # some

fernb is uninstalled from the environment before each chapter, so every chapter proves its own set-up cell. Not part
of ``make test`` (it installs fernb's dependencies from the package index each time it builds the environment);
``make colab-check`` runs it.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KERNEL = "colab-like"
PREINSTALLED = ["torch==2.14.1", "torchvision==0.29.1", "ipykernel"]


def environment(where: Path) -> Path:
    """A virtual environment with only torch, torchvision and ipykernel (built once, reused)."""
    py = where / "bin" / "python"
    if not (where / ".ready").exists():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(where)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", *PREINSTALLED], check=True)
        subprocess.run([str(py), "-m", "ipykernel", "install", "--prefix", str(where), "--name", KERNEL], check=True)
        (where / ".ready").write_text("ok")
    return py


def run_chapter(name: str, py: Path, env_dir: Path, home: Path, out: Path) -> float:
    import papermill

    subprocess.run([str(py), "-m", "pip", "uninstall", "-q", "-y", "fernb"], check=False,
                   capture_output=True)
    os.environ.update({"JUPYTER_PATH": str(env_dir / "share" / "jupyter"), "FERNB_SOURCE": str(ROOT),
                       "FERNB_HOME": str(home), "TQDM_DISABLE": "1"})
    t = time.perf_counter()
    papermill.execute_notebook(str(ROOT / "notebooks" / f"{name}.ipynb"), str(out / f"{name}.ipynb"),
                               parameters={"profile": "smoke"}, kernel_name=KERNEL, cwd=str(out),
                               progress_bar=False)
    return time.perf_counter() - t


def main(argv=None):
    sys.path.insert(0, str(ROOT))
    from fernb.book import SETUP_TAG, chapters

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("chapters", nargs="*", help="chapters to run (default: all)")
    p.add_argument("--env", default=str(ROOT / "_build" / "colab-like-venv"), help="the environment's folder")
    a = p.parse_args(argv)
    names = a.chapters or chapters()
    env_dir = Path(a.env)
    py = environment(env_dir)
    import nbformat

    failed = []
    with tempfile.TemporaryDirectory() as tmp:
        home, out = Path(tmp) / "home", Path(tmp) / "out"
        out.mkdir()
        for name in names:
            first = next(c for c in nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", 4).cells
                         if c.cell_type == "code")
            if SETUP_TAG not in first.metadata.get("tags", []):
                failed.append(f"{name}: the first code cell is not the set-up cell")
                continue
            try:
                print(f"{name}: {run_chapter(name, py, env_dir, home, out):.0f} s from the set-up cell", flush=True)
            except Exception as e:  # report every chapter, then fail
                failed.append(f"{name}: {type(e).__name__}: {str(e)[-500:]}")
    for line in failed:
        print("FAILED", line)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
