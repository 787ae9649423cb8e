"""The dashboard in a real browser: Debian's Chromium driven by Playwright, the site served
on 127.0.0.1. Skips (with how to install) when Chromium is missing; with
RELEAD_REQUIRE_BROWSER=1 (as .ci/run sets) it fails instead."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from site_builder.build import build

from site_fixtures import (HOSTILE_IMG, HOSTILE_NAME, ROOT, TODAY, PageWatch, chromium, hostile_repo,
                           require_chromium, serve)

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
    assert build(ROOT, out, today=TODAY).files
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
        assert page.locator("svg[role=img]").count() >= 5
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


@pytest.mark.parametrize("rel", ["index.html", "priorities.html", "today.html", "campaigns.html",
                                 "campaigns/hot-reactivation.html", "hygiene.html",
                                 "leads/dale-simmons-heartland-tractor.html", "pages/playbook.html"])
def test_every_page_kind_is_clean_on_a_laptop_and_a_phone(browser, served, rel, tmp_path):
    for name, viewport in (("laptop", LAPTOP), ("phone", PHONE)):
        context, page, watch = open_page(browser, served, rel, viewport)
        try:
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= viewport["width"], f"{rel} is {width}px wide on a {viewport['width']}px {name}"
            assert page.evaluate("getComputedStyle(document.body).fontFamily").startswith("system-ui"), \
                "the stylesheet loaded"
            page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)
            assert watch.errors == [] and watch.dialogs == [] and watch.outside() == [], (rel, name)
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
