"""A user's mistake on the command line is one line and exit status 2, never a traceback; the library filters the
warnings it knows at their call (the ONNX exporter's), so a fernb warning in a chapter still reaches the page
check."""

import os
import subprocess
import sys
import textwrap
import warnings

import pytest
import torch
from torch import nn

from fernb import book

ENV = {**os.environ, "FERNB_TRACEBACK": ""}


def _cli(*args):
    p = subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, env=ENV, timeout=120)
    return p.returncode, p.stderr.strip()


@pytest.mark.parametrize("args,message", [
    (("fernb.book", "run", "00_quikstart"), "unknown chapter '00_quikstart'. Did you mean 00_quickstart?"),
    (("fernb.book", "run", "00_quickstart", "-p", "seed", "abc"), "parameter seed='abc' is not an integer"),
    (("fernb.book", "run", "00_quickstart", "-p", "epochs", "3"), "has no parameter 'epochs'"),
    (("fernb.book", "run", "00_quickstart", "-p", "profile", "fast"), "profile='fast' is not a profile"),
    (("fernb.book", "run", "00_quickstart", "-p", "seed", "[1"), "-p seed '[1': not a YAML value"),
    (("fernb.train", '{"lerning_rate": 0.1}'), "inline configuration: unknown training option 'lerning_rate'"),
    (("fernb.train", '{"model": "tiny_cnn", "epochs": 0}'), "epochs must be a positive integer, got 0"),
    (("fernb.train", "no-such.json"), "no-such.json: no such configuration file"),
    (("fernb.train", '{"epochs": '), "line 1: not JSON"),
    (("fernb.train", '{"model": "tiny_cnn", "dataset": "rafdb"}'), "dataset='rafdb' is a licence-gated"),
])
def test_cli_mistakes_are_one_line_and_exit_2(args, message):
    rc, err = _cli(*args)
    assert rc == 2, err
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert message in err


class _Warns(nn.Module):
    """A model whose forward warns like a library would: not a warning the exporter filter knows."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 7, 3)

    def forward(self, x):
        warnings.warn("planted: something about this model", UserWarning)
        return self.conv(x).mean((2, 3))


def test_export_and_complexity_silence_only_what_they_know(tmp_path):
    pytest.importorskip("onnxruntime")
    from fernb.eval.complexity import measure, model_complexity
    from fernb.eval.deploy import export_onnx, onnx_parity
    from fernb.models import create

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        model = create("mobilevit_s", num_classes=7, in_chans=3, img_size=64)  # timm; traced, it warns (filtered)
        path = export_onnx(model, tmp_path / "m.onnx", 64)
        assert onnx_parity(model, path, 64, relative=True) < 1e-3
        model_complexity("btfer_vgg16"), model_complexity("resemotenet")
        measure(create("tiny_cnn", num_classes=7, in_chans=3, img_size=32), 32)
    assert [str(w.message)[:80] for w in seen] == []
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        export_onnx(_Warns(), tmp_path / "w.onnx", 16)
    assert any("planted" in str(w.message) for w in seen)  # everything else still reaches the reader


PLANTED = '''\
    # %% [markdown]
    # A chapter-like page whose library calls warn.

    # %% tags=["parameters"]
    profile = "smoke"
    dataset = "fer2013"
    data_root = None
    device = "cpu"
    seed = 0

    # %%
    import os, tempfile
    import numpy as np
    from fernb.data import load_dataset
    from fernb.eval.deploy import export_onnx
    from fernb.models import create

    root = tempfile.mkdtemp()
    rng = np.random.default_rng(seed)
    pixels = [" ".join(map(str, rng.integers(0, 255, 48 * 48))) for i in range(14)]
    usage = ["Training"] * 10 + ["PrivateTest"] * 4
    rows = ["emotion,pixels,Usage"]
    rows += [f"{i % 7},{p},{u}" for i, (p, u) in enumerate(zip(pixels, usage))]
    rows.append("3,1 2 3,Training")  # a row of 3 pixels: quarantined
    with open(os.path.join(root, "fer2013.csv"), "w") as f:
        f.write("\\n".join(rows) + "\\n")
    model = create("tiny_cnn", num_classes=7, in_chans=1, img_size=48)
    export_onnx(model, os.path.join(root, "m.onnx"), 48, in_chans=1)  # notices filtered
    ds = load_dataset(dataset, data_root=root, lenient=True, progress=False)
    print(len(ds.records), "records")
'''
FAILING = '''\
    # %% tags=["parameters"]
    profile = "smoke"
    dataset = "synth-raf"
    data_root = None
    device = "cpu"
    seed = 0

    # %%
    raise ValueError(f"dataset={dataset!r}: planted failure")
'''


@pytest.fixture
def planted_book(tmp_path, monkeypatch):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    (notebooks / "00_planted.py").write_text(textwrap.dedent(PLANTED))
    (notebooks / "01_failing.py").write_text(textwrap.dedent(FAILING))
    monkeypatch.setattr(book, "NOTEBOOKS", notebooks)
    monkeypatch.setattr(book, "BUILD", tmp_path / "_build")
    return tmp_path


def test_a_fernb_warning_in_a_chapter_reaches_the_page_check(planted_book):
    pytest.importorskip("onnxruntime")
    book.run("00_planted", {"profile": "smoke"})
    problems = [p for p in book.check_pages("smoke") if p.startswith("00_planted")]
    warned = [p for p in problems if "a Python warning" in p]
    assert len(warned) == 1 and "1 entries quarantined" in warned[0], problems
    # besides it, only the warning's own line: the kernel's temporary file path it starts with
    assert all("ipykernel" in p for p in problems if p not in warned), problems


def test_a_chapter_that_raises_is_one_line_naming_it(planted_book, capsys):
    with pytest.raises(SystemExit) as stop:
        book.main(["run", "01_failing", "-p", "profile", "smoke"])
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert "chapter 01_failing stopped at cell" in err and "ValueError: dataset='synth-raf': planted failure" in err


def test_no_blanket_warning_filters_in_the_library_or_the_chapters():
    """Every ``ignore`` filter in fernb/ and notebooks/ names the warning (``message=``) or its source
    (``module=``): a blanket one would hide fernb's own warnings (a quarantine on a reader's real data)."""
    import re

    root = book.ROOT
    call = re.compile(r"warnings\.(simplefilter|filterwarnings)\(\s*[\"']ignore[\"'](?P<rest>[^)]*)\)")
    blanket = []
    for path in sorted([*(root / "fernb").rglob("*.py"), *(root / "notebooks").glob("*.py")]):
        for m in call.finditer(path.read_text()):
            if m.group(1) == "simplefilter" or not re.search(r"\b(message|module)=", m.group("rest")):
                blanket.append(f"{path.relative_to(root)}: {m.group(0)}")
    assert blanket == []
