"""The built book as a reader sees it, in headless Chromium (Debian's, driven by playwright, offline): every
plotly figure of every chapter renders, the confusion-matrix explorer's dropdown switches the matrix, and no page
loads anything from the network.

Run after ``python -m fernb.book build --profile smoke`` (``make test`` does); the fixture builds the book from the
executed smoke notebooks when it is missing. Skipped without playwright or /usr/bin/chromium unless
``FERNB_REQUIRE_BROWSER=1`` (set by ``make test``), where their absence fails.
"""

import os
from pathlib import Path

import pytest

from fernb import book

CHROMIUM = os.environ.get("FERNB_CHROMIUM", "/usr/bin/chromium")  # scripts/system-deps installs it
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
HTML = book.BUILD / "site" / "_build" / "html"
SHOTS = book.BUILD / "screenshots"
LOCAL = ("file://", "data:", "blob:", "about:")


def _need(ok: bool, why: str):
    if not ok:
        if os.environ.get("FERNB_REQUIRE_BROWSER"):
            pytest.fail(why)
        pytest.skip(why)


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _need(False, "playwright is not installed (pip install -e '.[test]')")
    _need(Path(CHROMIUM).exists(), f"{CHROMIUM} is missing (scripts/system-deps chromium installs it)")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def site():
    if not (HTML / "index.html").exists():
        book.build("smoke")
    return HTML


def _open(browser, path: Path):
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return page, requests


@pytest.mark.parametrize("name", book.chapters())
def test_chapter_page_renders_offline(browser, site, name):
    path = site / "notebooks" / f"{name}.html"
    assert path.exists(), f"{path.name} is not in the built book"
    page, requests = _open(browser, path)
    plots = page.locator("div.js-plotly-plot")
    if plots.count():
        page.wait_for_function(
            "() => [...document.querySelectorAll('div.js-plotly-plot')]"
            ".every(d => d.querySelector('svg.main-svg'))", timeout=20000)
    missing = page.evaluate(
        "() => [...document.querySelectorAll('div.plotly-graph-div')]"
        ".filter(d => !d.querySelector('svg.main-svg')).length")
    assert missing == 0, f"{name}: {missing} plotly figure(s) did not render"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    remote = [u for u in requests if not u.startswith(LOCAL)]
    assert not remote, f"{name} loads from the network: {remote[:5]}"
    page.close()


def _explorers(page):
    return page.evaluate(
        "() => [...document.querySelectorAll('div.js-plotly-plot')]"
        ".map((d, i) => [i, (d.layout.meta || {}).fernb, (d.layout.meta || {}).evaluations])"
        ".filter(x => x[1] === 'confusion-explorer')")


def _visible_heatmap(page, i):
    return page.evaluate(
        "i => { const d = document.querySelectorAll('div.js-plotly-plot')[i];"
        " return [d.data.findIndex(t => t.type === 'heatmap' && t.visible !== false),"
        " d.querySelector('.gtitle').textContent]; }", i)


@pytest.mark.parametrize("name", ["00_quickstart", "05_resemotenet", "06_cross_dataset"])
def test_explorer_is_on_the_page(browser, site, name):
    page, _ = _open(browser, site / "notebooks" / f"{name}.html")
    page.wait_for_selector("svg.main-svg", timeout=20000)
    assert _explorers(page), f"{name} shows no confusion-matrix explorer"
    page.close()


def test_explorer_dropdown_switches_the_matrix(browser, site):
    page, requests = _open(browser, site / "notebooks" / "06_cross_dataset.html")
    page.wait_for_selector("svg.main-svg", timeout=20000)
    i, _, names = next(e for e in _explorers(page) if len(e[2]) > 1)
    fig = page.locator("div.js-plotly-plot").nth(i)
    fig.scroll_into_view_if_needed()
    before = _visible_heatmap(page, i)
    assert before[0] == 0
    fig.locator(".updatemenu-header-group", has_text="▼").click()  # the run dropdown
    fig.locator(".updatemenu-dropdown-button").nth(1).click()
    page.wait_for_timeout(300)
    after = _visible_heatmap(page, i)
    assert after[0] == 2 and after[1] != before[1], (before, after)  # 2: heatmap of run 2
    # the normalisation buttons restyle the visible matrix: counts are integers summing to the images
    fig.locator(".updatemenu-button", has_text="counts").click()
    page.wait_for_timeout(300)
    z = page.evaluate(f"() => document.querySelectorAll('div.js-plotly-plot')[{i}].data[2].z")
    assert all(float(v).is_integer() for row in z for v in row)
    SHOTS.mkdir(parents=True, exist_ok=True)
    fig.screenshot(path=str(SHOTS / "06_cross_dataset-explorer-switched.png"))
    assert not [u for u in requests if not u.startswith(LOCAL)]
    page.close()


def test_results_map_lists_every_paper_item(browser, site):
    """The map page: one row per item of book/paper_items.yaml, grouped by paper, with links into chapters."""
    from fernb.results import paper_items

    page, requests = _open(browser, site / "book" / "results_map.html")
    rows = page.locator("table tbody tr")
    assert rows.count() == len(paper_items())
    for paper in ("InFER++", "ResEmoteNet", "BTFER", "LFER-LDL"):
        assert page.locator("h2", has_text=paper).count() == 1
    link = page.locator("table a[href*='05_resemotenet']").first
    assert link.count() and "runs on SynthFER" in page.locator("main").inner_text()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "results_map.png"), full_page=True)
    link.click()
    page.wait_for_load_state("load")
    assert page.url.endswith("05_resemotenet.html")
    assert not [u for u in requests if not u.startswith(LOCAL)]
    page.close()


def test_chapters_launch_on_colab_only_from_a_real_repository_address(browser, site):
    """With ``repository.url`` still the placeholder, no button sends a reader to it (it would fail after a
    minute); with a real address, every chapter has a Colab button to its notebook."""
    from fernb.book import PLACEHOLDER, repository

    page, _ = _open(browser, site / "notebooks" / "00_quickstart.html")
    colab = page.locator("a[href^='https://colab.research.google.com/github/']")
    repo = repository()["url"].removeprefix("https://github.com/")
    if PLACEHOLDER in repository()["url"]:
        assert colab.count() == 0
        hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
        assert not [h for h in hrefs if PLACEHOLDER in h], "a link to the placeholder repository"
    else:
        assert colab.count() >= 1
        href = colab.first.get_attribute("href")
        assert href.endswith(f"/{repo}/blob/{repository()['branch']}/notebooks/00_quickstart.ipynb"), href
    page.close()
