"""The overview's drill-down in a real browser: a row's link opens the ranked leads behind it,
and the priorities page applies filters given in its address (Debian's Chromium through
Playwright, the site served on 127.0.0.1; skips without Chromium, fails with
RELEAD_REQUIRE_BROWSER=1)."""

from __future__ import annotations

from pathlib import Path

import pytest

from site_builder.build import build

from site_fixtures import EXAMPLE, TODAY, PageWatch, chromium, require_chromium, serve

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    require_chromium()
    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    out: Path = tmp_path_factory.mktemp("drill") / "_site"
    result = build(EXAMPLE, out, today=TODAY)
    assert result.files
    with serve(out) as base:
        yield base, result.checked.derived


def _open(browser, url: str, *, javascript: bool = True):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, java_script_enabled=javascript)
    page = context.new_page()
    watch = PageWatch(page, url.split("priorities")[0].split("index")[0])
    page.goto(url, wait_until="load")
    return context, page, watch


def _shown_ids(page) -> list[str]:
    hrefs = page.locator("#priorities tbody tr:not([hidden]) td.lead a").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))")
    return [h.rsplit("/", 1)[1].removesuffix(".html") for h in hrefs]


def test_the_address_filters_the_ranked_list(browser, served):
    base, derived = served
    want = [p.lead.id for p in derived.priorities
            if (p.lead.lost.reason, p.lead.lost.stage) == ("price", "proposal")]
    context, page, watch = _open(browser, base + "priorities.html?reason=price&stage=proposal")
    try:
        assert page.locator("select[name=reason]").input_value() == "price"
        assert page.locator("select[name=stage]").input_value() == "proposal"
        assert _shown_ids(page) == want
        n = len(want)
        assert page.locator("#shown").inner_text() == f"{n} lead" + ("" if n == 1 else "s")
        assert not watch.errors and not watch.outside()
    finally:
        context.close()


def test_an_unknown_value_in_the_address_filters_nothing(browser, served):
    base, derived = served
    context, page, watch = _open(browser, base + "priorities.html?owner=nobody-at-all&temperature=hot")
    try:
        assert page.locator("select[name=owner]").input_value() == ""
        assert page.locator("select[name=temp]").input_value() == "hot"
        assert _shown_ids(page) == [p.lead.id for p in derived.priorities if p.lead.lost.temperature == "hot"]
        assert not watch.errors
    finally:
        context.close()


def test_a_reason_row_opens_its_leads_without_javascript(browser, served):
    base, derived = served
    context, page, watch = _open(browser, base + "index.html", javascript=False)
    try:
        page.locator("#reason-stage a[href='priorities/reason-price.html']").click()
        page.wait_for_load_state("load")
        assert page.url.endswith("/priorities/reason-price.html")
        assert _shown_ids(page) == [p.lead.id for p in derived.priorities if p.lead.lost.reason == "price"]
        assert not watch.errors
    finally:
        context.close()
