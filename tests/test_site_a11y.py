"""The dashboard's accessibility, checked on the built pages without a browser: the W3C Nu HTML
checker (where Java is present; RELEAD_REQUIRE_NU=1, as .ci/run sets, makes its absence a
failure), heading levels, the scroll boxes' attributes, the chart colours' contrast and the
chart labels' layout. tests/test_site_browser.py runs axe-core and measures the layout."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from site_builder import charts
from site_builder.build import build

from browser_fixtures import contrast, layout_repo, nu_messages, require_nu
from site_fixtures import ROOT, TODAY

CSS = ROOT / "templates" / "site" / "site.css"


@pytest.fixture(scope="module")
def sites(tmp_path_factory) -> list[Path]:
    """The site of the example plus long and hostile leads (every page of the example's site is
    in it, with the same markup)."""
    base = tmp_path_factory.mktemp("a11y")
    repo = layout_repo(base / "repo")
    hostile = base / "hostile"
    assert build(repo, hostile, today=TODAY).files
    return [hostile]


def pages(sites: list[Path]) -> list[Path]:
    return [p for site in sites for p in sorted(site.rglob("*.html"))]


# --------------------------------------------------------------------------- the Nu checker

def test_the_nu_checker_finds_no_error_on_any_page(sites):
    require_nu()
    files = pages(sites)
    kinds = {p.relative_to(site).parts[0] for site in sites for p in site.rglob("*.html")}
    assert {"index.html", "priorities.html", "today.html", "campaigns.html", "campaigns", "hygiene.html",
            "leads", "pages"} <= kinds, "every page kind is checked"
    errors = [f"{m.get('url', '').rsplit('/', 2)[-2:]}:{m.get('lastLine')}: {m['message']}"
              for m in nu_messages(files) if m["type"] == "error" or m.get("subType") == "fatal"]
    assert errors == []


def test_the_nu_checker_reports_an_error_it_is_shown(tmp_path):
    """The check above can fail: a page with a known error gets a message."""
    require_nu()
    bad = tmp_path / "bad.html"
    bad.write_text("<!doctype html><html lang=en><head><title>x</title></head>"
                   "<body><div tabindex=0 role=region><table><tr><td></table></div><p><div></div></p></body></html>",
                   encoding="utf-8")
    assert any(m["type"] == "error" for m in nu_messages([bad]))


# --------------------------------------------------------------------------- structure

class _Outline(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.levels: list[int] = []
        self.scrolls: list[dict[str, str]] = []

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if re.fullmatch(r"h[1-6]", tag):
            self.levels.append(int(tag[1]))
        if "scroll" in a.get("class", "").split():
            self.scrolls.append(a)


def _outline(path: Path) -> _Outline:
    parser = _Outline()
    parser.feed(path.read_text(encoding="utf-8"))
    parser.close()
    return parser


def test_headings_start_at_h1_and_never_skip_a_level(sites):
    bad = []
    for page in pages(sites):
        levels = _outline(page).levels
        if not levels or levels[0] != 1:
            bad.append(f"{page.name}: starts with h{levels[0] if levels else '-'}")
            continue
        for before, after in zip(levels, levels[1:]):
            if after > before + 1:
                bad.append(f"{page.name}: h{before} then h{after}")
                break
    assert bad == []


def test_every_scroll_box_takes_the_keyboard_focus_and_has_a_name(sites):
    """A table's box that may scroll sideways: axe's scrollable-region-focusable, for every box
    on every page (the browser tests see only those that scroll at their widths)."""
    boxes = 0
    for page in pages(sites):
        names = []
        for a in _outline(page).scrolls:
            boxes += 1
            assert a.get("tabindex") == "0" and a.get("role") == "region" and a.get("aria-label"), (page.name, a)
            names.append(a["aria-label"])
        assert len(names) == len(set(names)), f"{page.name}: two scroll boxes named alike: {names}"
    assert boxes > 20


class _Regions(HTMLParser):
    """The names of a page's region landmarks: each labelled section (its heading's words) and
    each scroll box (its aria-label)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.labelled_by: list[str] = []
        self.labels: list[str] = []
        self.text: dict[str, list[str]] = {}
        self._open: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "section" and a.get("aria-labelledby"):
            self.labelled_by.append(a["aria-labelledby"])
        if a.get("role") == "region" and a.get("aria-label"):
            self.labels.append(a["aria-label"])
        if re.fullmatch(r"h[1-6]", tag):
            self._open.append((tag, a.get("id")))
            if a.get("id"):
                self.text[a["id"]] = []

    def handle_endtag(self, tag):
        if self._open and self._open[-1][0] == tag:
            self._open.pop()

    def handle_data(self, data):
        for _tag, ident in self._open:
            if ident:
                self.text[ident].append(data)

    def names(self) -> list[str]:
        named = [" ".join("".join(self.text.get(i, [])).split()) for i in self.labelled_by] + self.labels
        return [n.lower() for n in named]


def test_no_two_regions_of_a_page_share_a_name(sites):
    """axe's landmark-unique: the campaign page's 'Variant against variant' section held a scroll
    box of the same name, two regions a screen reader could not tell apart."""
    same = []
    for page in pages(sites):
        parser = _Regions()
        parser.feed(page.read_text(encoding="utf-8"))
        parser.close()
        names = parser.names()
        same += [f"{page.name}: {n}" for n in sorted(set(names)) if names.count(n) > 1]
    assert same == []


# --------------------------------------------------------------------------- colour

def _css_colours() -> dict[str, str]:
    root = re.search(r":root\s*\{(.*?)\}", CSS.read_text(encoding="utf-8"), re.S).group(1)
    return dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{3,6})\b", root))


def test_the_contrast_formula():
    assert contrast("#000000", "#ffffff") == pytest.approx(21)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    assert contrast("#E69F00", "#ffffff") < 3, "Okabe-Ito's orange, as the weekly chart had it"


def test_every_chart_colour_stands_out_from_the_panel():
    """WCAG 1.4.11: a line or a bar needs 3:1 against what is behind it (the panels' white)."""
    colours = _css_colours()
    series = {k: v for k, v in colours.items() if re.fullmatch(r"c\d", k)}
    assert len(series) >= len(charts.SERIES)
    assert {c.lstrip("s") for c in charts.SERIES} <= {k.lstrip("c") for k in series}
    low = {k: round(contrast(v, colours["bg"]), 2) for k, v in series.items() if contrast(v, colours["bg"]) < 3}
    assert low == {}


def test_every_chart_class_has_a_colour_in_the_stylesheet():
    css = CSS.read_text(encoding="utf-8")
    for cls in charts.SERIES:
        assert re.search(rf"svg \.{cls} \{{ fill: var\(--c\d\); \}}", css), cls
        assert re.search(rf"\.key\.{cls} \{{ border-color: var\(--c\d\); \}}", css), cls


# --------------------------------------------------------------------------- chart labels

def _boxes(chart: charts.Chart) -> list[tuple[float, float, float, float, str]]:
    out = []
    for t in chart.texts:
        if "value" not in t.cls:
            continue
        w = charts._ink_width(t.text, charts.LABEL_SIZE)
        out.append((t.x - w / 2, t.x + w / 2, t.y - charts.LABEL_SIZE, t.y, t.text))
    return out


def _overlaps(boxes):
    return [(a[4], b[4]) for i, a in enumerate(boxes) for b in boxes[i + 1:]
            if a[0] < b[1] and b[0] < a[1] and a[2] < b[3] and b[2] < a[3]]


def test_equal_shares_side_by_side_do_not_collide():
    """The campaign page's steps chart drew '38%38%': two equal bars, their labels on one line."""
    c = charts.grouped_bar_chart(["1 email", "2 sms", "3 call", "4 email", "5 email"],
                                 [("answered", [0, 0, 0.375, 0, 0]), ("interested", [0, 0, 0.375, 0, 0])],
                                 id="steps", title="t", percent=True)
    labels = _boxes(c)
    assert [b[4] for b in labels] == ["38%", "38%"]
    assert _overlaps(labels) == []
    assert all(b[2] >= 0 for b in labels), "inside the chart"


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 12), st.integers(1, 4), st.data())
def test_bar_labels_never_overlap(n, m, data):
    values = [[data.draw(st.sampled_from([0, 0.01, 0.33, 0.375, 0.38, 0.5, 0.99, 1.0])) for _ in range(n)]
              for _ in range(m)]
    c = charts.grouped_bar_chart([f"{i + 1}" for i in range(n)], [(f"s{k}", v) for k, v in enumerate(values)],
                                 id="x", title="t", percent=True)
    boxes = _boxes(c)
    assert _overlaps(boxes) == []
    assert all(b[2] >= 0 for b in boxes), "the chart grew to hold them"
    for b in boxes:
        bars = [r for r in c.rects if r.h > 0 and r.x < b[1] and r.x + r.w > b[0]]
        assert all(b[3] <= r.y for r in bars), f"{b[4]} sits on a bar"
