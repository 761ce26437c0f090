"""Recorded results and the results map (fernb.results, issues #18 and #19)."""

import json

import nbformat
import pandas as pd
import pytest

from fernb import book, results

ITEMS = """
- {id: p-t1, paper: P, item: Table 1, what: accuracy, headline: "90 %", paper_data: RAF-DB, needs: synthfer,
   chapter: 00_quickstart, book_section: first run}
- {id: p-t2, paper: P, item: Table 2, what: counts, headline: "15,339 images", paper_data: RAF-DB,
   needs: reader-data}
- {id: p-f1, paper: P, item: Fig. 1, what: a photo, headline: examples, paper_data: RAF-DB, needs: none,
   why: photographs of real people}
- {id: p-t3, paper: P, item: Table 3, what: big models, headline: "70 %", paper_data: AffectNet, needs: gpu,
   chapter: 99_nothere}
"""


@pytest.fixture
def items(tmp_path, monkeypatch):
    path = tmp_path / "items.yaml"
    path.write_text(ITEMS)
    monkeypatch.setattr(results, "PAPER_ITEMS", path)
    return path


def test_tables_round_trip_and_names_are_checked(tmp_path):
    df = pd.DataFrame({"model": ["a", "b"], "acc": [0.5, 0.25]}).set_index("model")
    results.write_table(tmp_path, "tab-1", df)
    back = results.read_table(tmp_path / "tables" / "tab-1.json")
    assert back.index.tolist() == ["a", "b"] and back["acc"].tolist() == [0.5, 0.25]
    multi = pd.DataFrame({"acc": [1.0, 2.0, 3.0]},
                         index=pd.MultiIndex.from_tuples([("a", "paper"), ("a", "ours"), ("b", "ours")],
                                                         names=["method", "source"]))
    results.write_table(tmp_path, "multi", multi)
    back = results.read_table(tmp_path / "tables" / "multi.json")
    # the levels and the index names come back, so a recorded table reads as the live one
    assert back.index.names == ["method", "source"] and back.index.tolist() == multi.index.tolist()
    assert back["acc"].tolist() == [1.0, 2.0, 3.0]
    assert results.read_table(tmp_path / "tables" / "tab-1.json").index.name == "model"
    with pytest.raises(ValueError, match="name must be"):
        results.write_table(tmp_path, "../escape", df)
    with pytest.raises(TypeError, match="DataFrame"):
        results.write_table(tmp_path, "x", [1, 2])


def test_paper_items_are_validated(tmp_path, items):
    assert [it["id"] for it in results.paper_items()] == ["p-t1", "p-t2", "p-f1", "p-t3"]
    bad = tmp_path / "bad.yaml"
    bad.write_text(ITEMS + "- {id: p-t1, paper: P, item: T, what: w, headline: h, paper_data: d, needs: synthfer}\n")
    with pytest.raises(ValueError, match="entry 5 .*used twice"):
        results.paper_items(bad)
    bad.write_text("- {id: x, paper: P, item: T, what: w, headline: h, paper_data: d, needs: cloud}\n")
    with pytest.raises(ValueError, match="needs='cloud'"):
        results.paper_items(bad)
    bad.write_text("- {id: x, paper: P, item: T, what: w, paper_data: d, needs: none}\n")
    with pytest.raises(ValueError, match="missing headline"):
        results.paper_items(bad)


def test_the_real_catalogue_is_valid():
    items = results.paper_items()
    assert {it["paper"] for it in items} == {"InFER++", "ResEmoteNet", "BTFER", "LFER-LDL"}
    chapters = set(book.chapters())
    for it in items:
        assert it.get("chapter") in chapters | {None}, it["id"]
        assert it["needs"] != "none" or it.get("why"), f"{it['id']}: say why it cannot be reproduced"


def test_headlines_name_known_items(tmp_path, items):
    with pytest.raises(ValueError, match="'p-t4' is not an id.*did you mean p-t"):
        results.add_headline(tmp_path, "p-t4", "1 %", "synth-raf", "quick")
    results.add_headline(tmp_path, "p-t1", "81.2 %", "synth-raf", "quick")
    results.add_headline(tmp_path, "p-t1", "82.0 %", "synth-raf", "quick")  # the last word wins
    assert json.loads((tmp_path / "headlines.json").read_text())["p-t1"]["ours"] == "82.0 %"


def _fake_run(folder):
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"config": {"dataset": "synth-raf"},
                                                    "dataset_fingerprint": "abc123"}))
    (folder / "metrics.json").write_text(json.dumps({"accuracy": 0.5}))
    (folder / "history.jsonl").write_text("{}\n")
    (folder / "model.pt").write_bytes(b"weights")
    return folder


def test_record_keeps_small_files_and_provenance(tmp_path, items):
    report = tmp_path / "report"
    run = _fake_run(tmp_path / "runs" / "synth-raf-small_cnn-1")
    results.log_run(report, run)
    results.log_run(report, run)  # a run used twice is kept once
    results.log_run(report, tmp_path / "runs" / "unfinished")
    results.write_table(report, "table3", pd.DataFrame({"acc": [0.5]}))
    results.add_headline(report, "p-t1", "50 %", "synth-raf", "full")
    out = results.record("00_quickstart", "full", report, {"profile": "full"}, 12.3, results=tmp_path / "res")
    kept = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert kept == ["headlines.json", "provenance.json", "runs/synth-raf-small_cnn-1/config.json",
                    "runs/synth-raf-small_cnn-1/history.jsonl", "runs/synth-raf-small_cnn-1/metrics.json",
                    "tables/table3.json"]
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["datasets"] == {"synth-raf": ["abc123"]} and prov["wall_s"] == 12.3
    assert prov["device"] and prov["torch"] and prov["commit"]
    table, prov2 = results.recorded("00_quickstart", "table3", results=tmp_path / "res")
    assert table["acc"].tolist() == [0.5] and prov2 == prov
    assert results.recorded(None, "table3", results=tmp_path / "res") is not None
    assert results.recorded("00_quickstart", "other", results=tmp_path / "res") is None
    line = results.provenance_line(prov)
    assert "Recorded in the `full` profile" in line and prov["device"] in line and "synth-raf (abc123)" in line
    # the code a recording started with is its commit, even when HEAD moved while it ran
    again = results.record("00_quickstart", "full", report, {"profile": "full"}, 1.0, results=tmp_path / "res",
                           commit="0123456789ab")
    assert json.loads((again / "provenance.json").read_text())["commit"] == "0123456789ab"


def test_results_map_rows_and_statuses(tmp_path, items):
    live = tmp_path / "build" / "quick" / "00_quickstart"
    live.mkdir(parents=True)
    results.add_headline(live, "p-t1", "81 %", "synth-raf", "quick")
    heads = results.collected_headlines(tmp_path / "build", "quick", results=tmp_path / "none")
    page = results.results_map(results.paper_items(), heads, ["00_quickstart"], "quick")
    rows = {line.split("|")[1].split(" (")[0].strip(): line for line in page.splitlines() if line.startswith("| ")}
    assert "81 % (synth-raf, quick)" in rows["**Table 1**"] and "runs on SynthFER" in rows["**Table 1**"]
    assert "[00](../notebooks/00_quickstart.ipynb) first run" in rows["**Table 1**"]
    assert "needs your copy of RAF-DB" in rows["**Table 2**"]
    assert "not reproducible: photographs of real people" in rows["**Fig. 1**"]
    assert "no chapter yet" in rows["**Table 3**"]
    page = results.results_map(results.paper_items(), heads, ["00_quickstart", "99_nothere"], "quick")
    assert "needs the `full` profile" in page
    assert "90 % (RAF-DB)" in rows["**Table 1**"]


def test_a_gpu_item_recorded_in_long_is_measured_not_waiting_for_full(tmp_path, items):
    results_dir = tmp_path / "res" / "99_nothere" / "long"
    results_dir.mkdir(parents=True)
    results.add_headline(results_dir, "p-t3", "64 %", "synth-raf", "long")
    (results_dir / "provenance.json").write_text(json.dumps(
        {"profile": "long", "device": "CPU: test", "datasets": {"synth-raf": ["abc"]}}))  # as record() writes it
    heads = results.collected_headlines(tmp_path / "build", "quick", results=tmp_path / "res")
    it = next(i for i in results.paper_items() if i["id"] == "p-t3")
    status, text = results.map_status(it, heads["p-t3"], {"99_nothere"})
    assert status == "measured, no claim" and "runs on SynthFER" in text
    assert "64 % (synth-raf, long, recorded, CPU, SynthFER)" in results._ours(heads["p-t3"])
    quick_only = [{**heads["p-t3"][0], "recorded": False, "profile": "quick"}]
    assert results.map_status(it, quick_only, {"99_nothere"})[0] == "needs full"


TINY_CHAPTER = '''# %% [markdown]
# # A tiny chapter

# %% tags=["parameters"]
profile = "smoke"
dataset = "synth-raf"
data_root = None
device = "cpu"
seed = 0
report = None

# %%
import pandas as pd
import fernb.chapter

ch = fernb.chapter.setup(profile, dataset, data_root, device, seed, name="98_tiny", report=report)
table = ch.report("scores", pd.DataFrame({"acc": [0.25, 0.75]}, index=["a", "b"]))
ch.headline("resemotenet-t3", "42.0 %")
ch.recorded("scores", missing="Nothing recorded yet.")
'''


def test_a_recorded_table_shows_in_the_chapter_with_provenance(tmp_path, monkeypatch):
    """Record a chapter, then (after its recording is promoted to ``full``) the chapter shows that table with its
    provenance beside its live one: the whole mechanism through papermill and a real kernel."""
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "98_tiny.py").write_text(TINY_CHAPTER)
    monkeypatch.setattr(book, "NOTEBOOKS", tmp_path / "notebooks")
    monkeypatch.setattr(book, "BUILD", tmp_path / "build")
    monkeypatch.setenv("FERNB_RESULTS", str(tmp_path / "results"))
    monkeypatch.setenv("FERNB_HOME", str(tmp_path / "home"))
    first = nbformat.read(book.run("98_tiny", record=True), as_version=4)
    assert "Nothing recorded yet." in json.dumps(first.cells[-1].outputs)
    rec = tmp_path / "results" / "98_tiny" / "smoke"
    assert results.read_table(rec / "tables" / "scores.json")["acc"].tolist() == [0.25, 0.75]
    assert json.loads((rec / "headlines.json").read_text())["resemotenet-t3"]["chapter"] == "98_tiny"
    import shutil

    shutil.copytree(rec, rec.parent / "long")  # as if recorded in the long profile on this CPU ...
    prov = json.loads((rec.parent / "long" / "provenance.json").read_text())
    prov.update(profile="long", datasets={"synth-raf": ["abc"]})
    (rec.parent / "long" / "provenance.json").write_text(json.dumps(prov))
    rec.rename(rec.parent / "full")  # ... and with -p profile full on a GPU
    second = nbformat.read(book.run("98_tiny"), as_version=4)  # the recording changed: it runs again
    shown = json.dumps(second.cells[-1].outputs)
    assert "Recorded results" in shown and "Not re-run in this build" in shown and "0.75" in shown
    assert shown.count("Recorded results") == 2 and "`long` profile (recorded, CPU, SynthFER)" in shown
    first_code = next(c for c in second.cells if c.cell_type == "code")
    assert first_code.metadata["tags"] == [book.SETUP_TAG, book.HIDDEN]  # the set-up cell comes first
    assert book.FINDINGS_TAG in second.cells[1].metadata["tags"]  # under the title, what the page found
    assert "**Recorded earlier** (`long` profile (recorded, CPU, SynthFER)" in second.cells[1].source  # and what
    assert second.cells[1].source.count("42.0 %") == 3  # it found in the recorded long and full profiles
    params = next(c for c in second.cells if "parameters" in c.metadata.get("tags", []))
    injected = next(c for c in second.cells if "injected-parameters" in c.metadata.get("tags", []))
    assert book.HIDDEN in params.metadata["tags"] and book.HIDDEN in injected.metadata["tags"]  # collapsed


def test_a_verdict_judges_the_claimed_direction_against_the_seeds_noise():
    up, down = {"says": "x raises y", "effect": "gain", "sign": 1}, {"says": "x lowers y", "effect": "gain",
                                                                     "sign": -1}
    assert results.verdict(up, [3.0, 2.5, 3.5])["status"] == "replicates"
    assert results.verdict(down, [3.0, 2.5, 3.5])["status"] == "contradicted"
    assert results.verdict(up, [3.0, -2.5, 1.0])["status"] == "absent"  # within two standard errors
    one = results.verdict(up, [3.0])
    assert one["status"] == "uninformative" and "one seed" in one["why"]
    assert results.verdict(up, [3.0, 2.5, 3.5], learned=False)["status"] == "uninformative"
    v = results.verdict(up, [3.0, 2.5, 3.5])
    assert v["mean"] == pytest.approx(3.0) and v["se"] == pytest.approx(0.5 / 3 ** 0.5) and v["seeds"] == 3
    with pytest.raises(ValueError, match="no per-seed effect"):
        results.verdict(up, [])


def test_claims_in_the_catalogue_are_checked(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(ITEMS + "- {id: p-t9, paper: P, item: T, what: w, headline: h, paper_data: d, needs: synthfer,\n"
                   "   claim: {says: s, effect: e, sign: 2}}\n")
    with pytest.raises(ValueError, match=r"bad.yaml entry 5 \(p-t9\): claim must give 'says'.*'sign'"):
        results.paper_items(bad)


VERDICT_CHAPTER = TINY_CHAPTER.replace('name="98_tiny"', 'name="97_claim"').replace(
    'ch.headline("resemotenet-t3", "42.0 %")\nch.recorded("scores", missing="Nothing recorded yet.")\n',
    'sign = 1 if seed == 0 else -1  # seed 1 measures the opposite of the paper\n'
    'ch.headline("lferldl-t4", "a step", effect=[sign * 3.0, sign * 2.5, sign * 3.5])\n')


def test_a_tiny_book_shows_a_claim_replicated_and_contradicted(tmp_path, monkeypatch):
    """A chapter reports its per-seed effect on a claim of the catalogue through papermill and a real kernel; the
    results map built from its report shows the verdict, and counts it in its summary line."""
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "97_claim.py").write_text(VERDICT_CHAPTER)
    monkeypatch.setattr(book, "NOTEBOOKS", tmp_path / "notebooks")
    monkeypatch.setattr(book, "BUILD", tmp_path / "build")
    monkeypatch.setenv("FERNB_RESULTS", str(tmp_path / "results"))
    monkeypatch.setenv("FERNB_HOME", str(tmp_path / "home"))
    for seed, status in ((0, "replicates"), (1, "contradicted")):
        nb = nbformat.read(book.run("97_claim", params={"seed": seed}), as_version=4)
        opening = nb.cells[1]  # under the title: what the page found, from its own report
        assert book.FINDINGS_TAG in opening.metadata["tags"] and f"**{status}** on the paper's claim" in opening.source
        assert sum(book.FINDINGS_TAG in c.metadata.get("tags", []) for c in nb.cells) == 1
        page = book.results_map_page("smoke")
        row = next(line for line in page.splitlines() if line.startswith("| **Table 4** (§2.4.4)"))
        assert f"**{status}**: LDL step (points) {3.0 * (1 if seed == 0 else -1):+.2f} ± 0.29 over 3" in row
        assert f"{status} 1;" in page.split("**Summary**")[1].splitlines()[0]


def test_what_the_page_found_goes_under_its_title_line(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# A chapter\n\nIts introduction."), nbformat.v4.new_code_cell("1")]
    book.add_findings(nb, tmp_path)  # nothing reported: nothing added
    assert len(nb.cells) == 2
    results.add_headline(tmp_path, "lferldl-t4", "+2.00", "synth-raf", "quick")
    book.add_findings(nb, tmp_path)
    assert [c.source.split("\n")[0] for c in nb.cells[:3]] == [
        "# A chapter", nb.cells[1].source.split("\n")[0], "Its introduction."]
    assert nb.cells[1].source.startswith("**What this page found**") and "+2.00 (synth-raf)" in nb.cells[1].source


def test_a_figure_that_asks_an_experiments_question_shows_its_measurement(tmp_path, monkeypatch):
    path = tmp_path / "items.yaml"
    path.write_text(ITEMS + "- {id: p-e5, paper: P, item: Experiment 5, what: w, headline: h, paper_data: d,\n"
                    "   needs: synthfer, chapter: 00_quickstart}\n"
                    "- {id: p-f24, paper: P, item: Fig. 24, what: w, headline: h, paper_data: d, needs: synthfer,\n"
                    "   chapter: 00_quickstart, same_as: p-e5}\n")
    monkeypatch.setattr(results, "PAPER_ITEMS", path)
    live = tmp_path / "build" / "quick" / "00_quickstart"
    live.mkdir(parents=True)
    results.add_headline(live, "p-e5", "+0.09 at 96 px", "synth-raf", "quick")
    heads = results.collected_headlines(tmp_path / "build", "quick", results=tmp_path / "none")
    page = results.results_map(results.paper_items(), heads, ["00_quickstart"], "quick")
    rows = {line.split(" (")[0]: line for line in page.splitlines() if line.startswith("| **")}
    assert "+0.09 at 96 px" in rows["| **Fig. 24**"] and "+0.09 at 96 px" in rows["| **Experiment 5**"]
    results.add_headline(live, "p-e5", "needs full: 4 of 4 rows skipped", "synth-raf", "quick")
    heads = results.collected_headlines(tmp_path / "build", "quick", results=tmp_path / "none")
    page = results.results_map(results.paper_items(), heads, ["00_quickstart"], "quick")
    assert "needs full 2;" in page  # a chapter that says it measured nothing is not counted as measured
    bad = tmp_path / "bad.yaml"
    bad.write_text(ITEMS + "- {id: p-f9, paper: P, item: F, what: w, headline: h, paper_data: d, needs: synthfer,\n"
                   "   same_as: p-nothere}\n")
    with pytest.raises(ValueError, match="same_as='p-nothere' is not an id"):
        results.paper_items(bad)


def test_a_chapter_without_paper_items_opens_with_its_own_findings(tmp_path):
    from fernb import chapter

    ch = chapter.setup("smoke", report=tmp_path / "rep")
    with pytest.raises(ValueError, match="finding needs a sentence"):
        ch.finding("  ")
    ch.finding("sizes: 3 of 4 rows within 10 %")
    text = book.findings(tmp_path / "rep")
    assert text.startswith("**What this page found** (profile `smoke`") and "* sizes: 3 of 4 rows within 10 %" in text
