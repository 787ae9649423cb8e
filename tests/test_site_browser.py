"""The dashboard in a real browser: Debian's Chromium driven by Playwright, the site served
on 127.0.0.1. Skips (with how to install) when Chromium is missing; with
RELEAD_REQUIRE_BROWSER=1 (as .ci/run sets) it fails instead.

Every page kind is measured at 1366 and 390 px with long and hostile leads (nothing wider than
the screen), checked with axe-core (no serious or critical violation), and printed to A4 PDF
(rows on page 1, headers' words on every page, legend colours that print). Checks that need no
browser (the Nu HTML checker, contrast, chart label layout) are in test_site_a11y.py."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from site_builder.build import build

from site_fixtures import (EXAMPLE, HOSTILE_IMG, HOSTILE_NAME, TODAY, PageWatch, chromium, hostile_repo,
                           require_chromium, serve)
from browser_fixtures import (CHART_TEXT_CLASH_JS, LONG_COMPANY, LONG_LEAD_PAGE, LONG_NAME, SCROLLERS_JS,
                              TOO_WIDE_JS, layout_repo, run_axe, serious)

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def browser():
    require_chromium()
    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("browser") / "_site"
    assert build(EXAMPLE, out, today=TODAY).files
    return out


@pytest.fixture(scope="module")
def served(site):
    with serve(site) as base:
        yield base


def open_page(browser, base: str, rel: str, viewport=LAPTOP):
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    watch = PageWatch(page, base)
    watch.open(rel)
    return context, page, watch


def rows_shown(page) -> int:
    return page.locator("#priorities tbody tr:not([hidden])").count()


def test_overview_shows_the_funnel_of_summary_json(browser, served, site, tmp_path):
    summary = json.loads((site / "data/summary.json").read_text(encoding="utf-8"))
    context, page, watch = open_page(browser, served, "index.html")
    try:
        shown = page.eval_on_selector_all(
            "#funnel-table tbody tr",
            "rows => rows.map(r => [r.querySelector('[data-reached]').textContent,"
            " r.querySelector('[data-lost]').textContent])")
        expected = [[f"{f['reached']:,}", f"{f['lost_here']:,}"] for f in summary["funnel"]]
        assert shown == expected
        assert page.locator("figure.chart svg[role=img], figure.chart svg[role=group]").count() >= 5
        assert page.locator("svg title").first.text_content().startswith("Funnel")
        assert page.get_by_text("Lost leads", exact=True).is_visible()
        page.screenshot(path=str(tmp_path / "overview.png"), full_page=True)
        assert (tmp_path / "overview.png").stat().st_size > 10_000
        assert watch.errors == [] and watch.dialogs == [] and watch.outside() == []
    finally:
        context.close()


def test_priorities_filter_and_sort_in_the_browser(browser, served, site, tmp_path):
    context, page, watch = open_page(browser, served, "priorities.html")
    try:
        total = rows_shown(page)
        assert total > 10
        assert page.locator("#filters").is_visible(), "the script shows the filters"
        page.select_option("#filters select[name=temp]", "hot")
        hot = rows_shown(page)
        assert 0 < hot < total
        assert page.locator("#shown").text_content() == f"{hot} leads"
        temps = page.eval_on_selector_all("#priorities tbody tr:not([hidden])", "rs => rs.map(r => r.dataset.temp)")
        assert set(temps) == {"hot"}
        page.select_option("#filters select[name=temp]", "")
        first = page.locator("#priorities tbody tr").first.locator("td.lead a").text_content()
        page.fill("#filters input[name=q]", first)
        assert 1 <= rows_shown(page) < total
        page.fill("#filters input[name=q]", "")
        assert rows_shown(page) == total
        page.click("#priorities th:has-text('Value') button")
        values = page.eval_on_selector_all("#priorities tbody tr td[data-label=Value]",
                                           "cs => cs.map(c => parseFloat(c.dataset.v))")
        assert values == sorted(values)
        page.click("#priorities th:has-text('Value') button")
        values = page.eval_on_selector_all("#priorities tbody tr td[data-label=Value]",
                                           "cs => cs.map(c => parseFloat(c.dataset.v))")
        assert values == sorted(values, reverse=True)
        page.screenshot(path=str(tmp_path / "priorities.png"), full_page=True)
        assert watch.errors == [] and watch.dialogs == [] and watch.outside() == []
    finally:
        context.close()


def test_priorities_work_without_javascript(browser, served):
    context = browser.new_context(viewport=LAPTOP, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(served + "priorities.html")
        assert page.locator("#priorities tbody tr").count() > 10
        assert not page.locator("#filters").is_visible(), "no filters that cannot work"
    finally:
        context.close()


def test_the_overview_prints(browser, served, tmp_path):
    context, page, watch = open_page(browser, served, "index.html")
    try:
        page.emulate_media(media="print")
        assert not page.locator("header nav").is_visible()
        assert page.locator("#funnel-h").is_visible()
        pdf = page.pdf(path=str(tmp_path / "overview.pdf"), format="A4")
        assert pdf[:4] == b"%PDF"
    finally:
        context.close()


def test_hostile_lead_data_never_runs(browser, tmp_path_factory):
    root = hostile_repo(tmp_path_factory.mktemp("hostile-browser") / "repo")
    out = root.parent / "_site"
    assert build(root, out, today=TODAY).files
    with serve(out) as base:
        for rel in ("priorities.html", "leads/hostile-script.html", "leads/hostile-img.html", "hygiene.html",
                    "index.html", "today.html", "pages/hostile.html"):
            context, page, watch = open_page(browser, base, rel)
            try:
                page.mouse.move(200, 300)
                if rel == "priorities.html":
                    page.select_option("#filters select[name=owner]", "sam")
                    assert page.get_by_text(HOSTILE_NAME).count() >= 1, "shown as text"
                if rel == "leads/hostile-img.html":
                    assert page.locator("h1").text_content() == HOSTILE_IMG
                assert watch.dialogs == [], (rel, watch.dialogs)
                assert page.evaluate("document.querySelectorAll('img, svg[onload], [onerror]').length") == 0
                assert watch.outside() == [], (rel, watch.outside())
                assert watch.errors == [], (rel, watch.errors)
            finally:
                context.close()


# --------------------------------------------------------------------------- layout, print, axe
#
# Every page kind, built from the example plus long and hostile leads (browser_fixtures.LONG_LEADS:
# a name, a company and an email with no space to break at; site_fixtures.HOSTILE_LEADS: HTML and
# script in every field), on a laptop and a phone.

SCREEN = {"laptop": {"width": 1366, "height": 768}, "phone": PHONE}
KINDS = ["index.html", "priorities.html", "today.html", "campaigns.html", "campaigns/hot-reactivation.html",
         "hygiene.html", "leads/dale-simmons-heartland-tractor.html", LONG_LEAD_PAGE, "leads/hostile-script.html",
         "pages/playbook.html", "pages/hostile.html", "priorities/*"]


def resolve(site: Path, rel: str) -> str:
    """``priorities/*``: the first of the ranked list's drill-down pages (one per owner, reason...)."""
    if not rel.endswith("*"):
        return rel
    found = sorted(site.glob(rel))
    assert found, f"no page {rel}"
    return found[0].relative_to(site).as_posix()


@pytest.fixture(scope="module")
def long_site(tmp_path_factory) -> Path:
    repo = layout_repo(tmp_path_factory.mktemp("layout") / "repo")
    out = repo.parent / "_site"
    assert build(repo, out, today=TODAY).files
    return out


@pytest.fixture(scope="module")
def long_served(long_site):
    with serve(long_site) as base:
        yield base


@pytest.mark.parametrize("rel", KINDS)
def test_no_page_is_wider_than_the_screen(browser, long_site, long_served, rel):
    """Every page kind is clean on a laptop and a phone: nothing reaches past the right edge (a
    long name made a lead page 473 px wide on a 390 px phone) except inside a box that scrolls
    sideways on purpose, no script error, no dialog, nothing loaded from elsewhere."""
    rel = resolve(long_site, rel)
    for name, viewport in SCREEN.items():
        context, page, watch = open_page(browser, long_served, rel, viewport)
        try:
            page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= viewport["width"], f"{rel} is {width}px wide on a {viewport['width']}px {name}"
            assert page.evaluate(TOO_WIDE_JS) == [], (rel, name)
            assert page.evaluate("getComputedStyle(document.body).fontFamily").startswith("system-ui"), \
                "the stylesheet loaded"
            assert watch.errors == [] and watch.dialogs == [] and watch.outside() == [], (rel, name)
        finally:
            context.close()


def test_the_long_leads_are_on_the_pages_measured(long_site):
    """The layout tests above see the long name where it used to break out."""
    for rel in ("priorities.html", "hygiene.html", LONG_LEAD_PAGE):
        assert LONG_NAME in (long_site / rel).read_text(encoding="utf-8"), rel
    assert LONG_COMPANY in (long_site / "priorities.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("rel", KINDS)
def test_axe_finds_nothing_serious_on_a_laptop_or_a_phone(browser, long_site, long_served, rel):
    """axe-core (WCAG 2 A and AA, best practices): no serious or critical violation, and no
    heading that skips a level."""
    rel = resolve(long_site, rel)
    for name, viewport in SCREEN.items():
        context, page, watch = open_page(browser, long_served, rel, viewport)
        try:
            results = run_axe(page)
            assert results["testEngine"]["version"].startswith("4."), results["testEngine"]
            assert serious(results) == [], (rel, name)
            assert [v["id"] for v in results["violations"] if v["id"] == "heading-order"] == [], (rel, name)
        finally:
            context.close()


def test_axe_is_really_run(browser, served):
    """axe-core reports a violation on a page that has one: the checks above can fail."""
    context, page, watch = open_page(browser, served, "index.html", PHONE)
    try:
        page.evaluate("const box = document.createElement('div'); box.style.cssText = 'width: 80px; overflow-x: auto';"
                      "const p = document.createElement('p'); p.textContent = 'a wide paragraph, nothing to focus';"
                      "p.style.width = '600px'; box.append(p);"
                      "document.querySelector('main').append(box)")
        assert any(line.startswith("scrollable-region-focusable") for line in serious(run_axe(page)))
    finally:
        context.close()


@pytest.mark.parametrize("rel", ["index.html", "campaigns.html", "campaigns/hot-reactivation.html"])
def test_chart_words_never_touch_or_stick_out(browser, long_served, rel):
    """'38%38%': two labels drawn over each other. The boxes the browser drew, at both widths."""
    for name, viewport in SCREEN.items():
        context, page, watch = open_page(browser, long_served, rel, viewport)
        try:
            page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
            assert page.locator("figure.chart svg").count() >= 1
            assert page.evaluate(CHART_TEXT_CLASH_JS) == [], (rel, name)
        finally:
            context.close()


@pytest.mark.parametrize("rel", ["index.html", "campaigns.html", "campaigns/hot-reactivation.html", "hygiene.html"])
def test_a_table_that_scrolls_shows_it_and_scrolls_from_the_keyboard(browser, long_served, rel):
    """On a phone a wide table scrolls in its box: the box is named, takes the focus, scrolls
    with the arrow keys, and shows a shadow at the edge with more beyond it."""
    context, page, watch = open_page(browser, long_served, rel, PHONE)
    try:
        boxes = page.evaluate(SCROLLERS_JS)
        assert boxes, f"{rel}: some table is wider than a phone"
        for box in boxes:
            assert box["tabindex"] == "0" and box["role"] == "region" and box["label"], box
            assert box["cue"].count("radial-gradient") == 2 and "linear-gradient" in box["cue"], box
        index = page.eval_on_selector_all(
            ".scroll", "els => els.findIndex(el => el.offsetParent !== null && el.scrollWidth > el.clientWidth + 1)")
        box = page.locator(".scroll").nth(index)
        for _ in range(300):                                # the keyboard reaches it
            page.keyboard.press("Tab")
            if box.evaluate("el => el === document.activeElement"):
                break
        assert box.evaluate("el => el === document.activeElement"), "Tab never reaches the box"
        page.keyboard.press("ArrowRight")
        page.wait_for_function("() => document.activeElement.scrollLeft > 0")
        assert box.evaluate("el => getComputedStyle(el).outlineStyle") != "none", "the focus shows"
    finally:
        context.close()


def test_priorities_fit_a_laptop_with_compact_rows(browser, served):
    """At 1366 x 768 the whole ranked list is in view, 'Why this score' included (it grew to
    1,377 px and hid that column), and rows are compact: at least ten on one screen."""
    context, page, watch = open_page(browser, served, "priorities.html", SCREEN["laptop"])
    try:
        fit = page.locator("#priorities").evaluate(
            "t => [t.scrollWidth, t.parentElement.clientWidth, t.getBoundingClientRect().right]")
        assert fit[0] <= fit[1] + 1 and fit[2] <= 1366, fit
        why = page.locator("#priorities thead th").last
        assert why.text_content().strip() == "Why this score"
        assert why.evaluate("th => th.getBoundingClientRect().right") <= 1366
        page.evaluate("document.querySelector('#priorities tbody tr').scrollIntoView()")
        shown = page.evaluate("""() => Array.from(document.querySelectorAll('#priorities tbody tr')).filter(r => {
            const b = r.getBoundingClientRect(); return b.top >= 0 && b.bottom <= innerHeight; }).length""")
        assert shown >= 10, f"{shown} rows on a 1366 x 768 screen"
        heights = sorted(page.eval_on_selector_all("#priorities tbody tr",
                                                   "rs => rs.map(r => r.getBoundingClientRect().height)"))
        assert heights[len(heights) // 2] <= 52, f"a typical row is {heights[len(heights) // 2]:.0f} px tall"
        page.locator("#priorities tbody tr").first.locator("td.lead a").focus()
        first = page.locator("#priorities tbody tr").first.locator("ul.why")
        assert first.evaluate("u => u.scrollHeight <= u.clientHeight + 1"), "a row with the focus shows all its points"
    finally:
        context.close()


def _pdf_pages(page, path: Path) -> list[str]:
    from pypdf import PdfReader

    page.emulate_media(media="print")
    # A4 with background graphics off, as a print dialog has them; it follows the page's
    # orientation (site.css turns the ranked list sideways), as a print dialog does.
    page.pdf(path=str(path), format="A4", prefer_css_page_size=True)
    return [p.extract_text() for p in PdfReader(str(path)).pages]


def test_priorities_print_rows_from_page_one_and_headers_on_every_page(browser, served, tmp_path):
    """A4: page 1 held only the title (a panel pages long may not break); repeated headers
    printed only the sort arrows."""
    context, page, watch = open_page(browser, served, "priorities.html")
    try:
        first = page.locator("#priorities tbody tr").first.locator("td.lead a").text_content()
        texts = _pdf_pages(page, tmp_path / "priorities.pdf")
        assert len(texts) >= 2
        assert first in texts[0], "page 1 has the first rows"
        assert "hot when lost" in texts[0], "with why they score as they do"
        with_rows = [n for n, text in enumerate(texts) if re.search(r"\$[\d,]{4,}", text)]
        assert len(with_rows) >= 2
        for n in with_rows:
            assert re.search(r"RANK\s+LEAD\s+OWNER", texts[n]), f"page {n + 1} repeats the header's words"
        assert "\u2195" not in "".join(texts), "no sort arrows on paper"
    finally:
        context.close()


def test_legend_swatches_print(browser, served, tmp_path):
    """With background graphics off (a print dialog's default) the legend's colour squares
    vanished: they are borders, which print, and marked to print exactly."""
    context, page, watch = open_page(browser, served, "index.html")
    try:
        page.emulate_media(media="print")
        keys = page.eval_on_selector_all(".legend .key", """ks => ks.map(k => { const s = getComputedStyle(k);
            return [s.borderTopColor, parseFloat(s.borderTopWidth), s.printColorAdjust, k.offsetWidth]; })""")
        assert len(keys) >= 4
        for colour, width, adjust, size in keys:
            assert colour not in ("rgba(0, 0, 0, 0)", "transparent") and width >= 4 and size >= 8, keys
            assert adjust == "exact"
        assert len({k[0] for k in keys}) >= 3, "the series differ"
        assert "reached the stage" in _pdf_pages(page, tmp_path / "overview.pdf")[0]
    finally:
        context.close()
