"""The dashboard built from the example repository: every page kind, links that stay inside
the site, escaping of hostile data, the page contexts, charts and campaign numbers, the
numbers a manager looks for first, and the drill-down from the overview to the leads."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import subprocess
import sys
from pathlib import Path

import jinja2
import jinja2.meta
import jinja2.nodes
import markupsafe
import pytest
import zoneinfo
from hypothesis import given, settings
from hypothesis import strategies as st

from relead.derive.campaign_stats import campaign_stats
from relead.check import check_repository
from site_builder import charts, contexts, views
from site_builder.build import build
from site_builder.cli import main as cli_main
from site_builder.render import TEMPLATES, environment, render_markdown, render_page

from site_fixtures import (EXAMPLE, HOSTILE_IMG, HOSTILE_JINJA, HOSTILE_NAME, ROOT, TODAY, copy_example,
                           hostile_repo, links)




@pytest.fixture(scope="module")
def derived():
    checked = check_repository(EXAMPLE, today=TODAY)
    assert checked.derived is not None
    return checked.derived


def html_pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


# --------------------------------------------------------------------------- every page

def test_every_page_kind_is_written(site, derived):
    model = derived.model
    for rel in ("index.html", "priorities.html", "today.html", "campaigns.html", "hygiene.html",
                "assets/site.css", "data/summary.json", "data/leads.csv", "data/priorities.csv"):
        assert (site / rel).is_file(), rel
    for cid in model.campaigns:
        assert (site / "campaigns" / f"{cid}.html").is_file(), cid
    for page in model.pages:
        assert (site / "pages" / f"{page.slug}.html").is_file(), page.slug
    hyg = derived.hygiene
    listed = {i for ids in (hyg.no_next_action, hyg.incomplete_overdue, hyg.uncontactable, hyg.given_up_early,
                            hyg.review_due) for i in ids} | {i for _, ids in hyg.duplicates for i in ids}
    wanted = {lead.id for lead in model.leads if lead.lost is not None or lead.id in model.history.by_lead} | listed
    written = {p.stem for p in (site / "leads").glob("*.html")}
    assert written == wanted, "a page for each lead that is lost, has history or is on the hygiene page"
    assert len(wanted) < len(model.leads)


def test_next_actions_are_worked_out_once_for_every_lead(derived):
    """The pages, the exports and the hygiene checks read one table: each lead's next_action."""
    from relead.derive.hygiene import next_action

    model = derived.model
    assert list(derived.next_actions) == [lead.id for lead in model.leads]
    actions = {lead_id: next_action(st, model.campaigns, derived.today) for lead_id, st in derived.states.items()}
    assert derived.next_actions == actions
    assert None in actions.values() and len(set(actions.values())) > 3
    assert set(derived.hygiene.no_next_action) == {i for i, a in actions.items() if a is None}
    # a text many leads share is one object
    by_text = {}
    for text in derived.next_actions.values():
        assert by_text.setdefault(text, text) is text


def test_build_reports_what_it_wrote(tmp_path, capsys):
    code = cli_main(["build", "--root", str(EXAMPLE), "--out", str(tmp_path / "s"), "--today", "2026-11-22"])
    out = capsys.readouterr().out
    assert code == 0
    m = re.search(r"built .*: (\d+) files, (\d+) pages of which (\d+) lead pages", out)
    assert m, out
    assert int(m.group(3)) == len(list((tmp_path / "s" / "leads").glob("*.html")))
    assert int(m.group(2)) == len(list((tmp_path / "s").rglob("*.html")))


def test_navigation_reaches_every_page_kind_and_the_content_pages(site, derived):
    html = (site / "index.html").read_text(encoding="utf-8")
    for href in ("index.html", "priorities.html", "today.html", "campaigns.html", "hygiene.html"):
        assert f'href="{href}"' in html
    for page in derived.model.pages:
        assert f'href="pages/{page.slug}.html">{page.title}</a>' in html
    assert 'aria-current="page">Overview' in html


def test_no_url_leaves_the_site_and_every_link_resolves(site):
    for page in html_pages(site):
        parsed = links(page.read_text(encoding="utf-8"))
        assert not parsed.handlers, (page, parsed.handlers)
        for tag, attr, url in parsed.urls:
            assert url, (page, tag, attr)
            assert not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", url) and not url.startswith(("//", "/", "\\")), \
                f"{page.relative_to(site)}: <{tag} {attr}={url!r}> leaves the site"
            target = url.split("#")[0].split("?")[0]
            if target:
                assert (page.parent / target).resolve().is_file(), f"{page.relative_to(site)}: broken link {url}"
    css = (site / "assets/site.css").read_text(encoding="utf-8")
    assert "url(" not in css and "@import" not in css and "@font-face" not in css


def test_only_the_priorities_pages_have_a_script_and_the_csp_allows_only_it(site):
    for page in html_pages(site):
        html = page.read_text(encoding="utf-8")
        scripts = links(html).scripts
        csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', html).group(1)
        assert "default-src 'none'" in csp
        if page.name.startswith("priorities") or page.parent.name == "priorities":
            assert scripts == 1
            assert re.search(r"script-src 'sha256-[A-Za-z0-9+/=]+'", csp)
        else:
            assert scripts == 0, page
            assert "script-src 'none'" in csp


def test_every_chart_has_a_title_a_label_and_a_table(site):
    for name in ("index.html", "campaigns.html", "campaigns/warm-lead-magnet.html"):
        html = (site / name).read_text(encoding="utf-8")
        svgs = re.findall(r"<svg\b[^>]*>.*?</svg>", html, re.S)
        assert svgs, name
        for svg in svgs:
            # a chart whose rows are links is a group (an image's contents are not reachable)
            assert ('role="img"' in svg) != ('role="group"' in svg) and 'aria-label="' in svg
            assert ('role="group"' in svg) == ("<a href=" in svg)
            assert re.search(r"<svg[^>]*>\s*<title>[^<]+</title>\s*<desc id=", svg)
        assert html.count("<table") >= len(svgs) - 3   # the reasons/kinds/temperature tables are behind "The numbers"


def test_the_overview_funnel_table_matches_summary_json(site):
    summary = json.loads((site / "data/summary.json").read_text(encoding="utf-8"))
    html = (site / "index.html").read_text(encoding="utf-8")
    for row in summary["funnel"]:
        label = views.label(row["stage"])
        assert re.search(rf'<tr data-stage="{label}"><th scope="row">{label}</th><td class="n" data-reached>'
                         rf'{row["reached"]:,}</td><td class="n" data-lost>(<a href="[^"]+">)?'
                         rf'{row["lost_here"]:,}(</a>)?</td>', html), label
    assert "summary.json" in html and "leads.csv" in html and "priorities.csv" in html


def test_the_overview_shows_losses_sources_weeks_and_owners(site, derived):
    html = (site / "index.html").read_text(encoding="utf-8")
    for reason in derived.model.settings.lost_reasons.values():
        assert reason.label in html
    for source in derived.by_source:
        assert re.search(rf'<th scope="row">(<a href="priorities/[^"]+">)?{re.escape(source)}(</a>)?</th>',
                         html), source
    for member in derived.model.settings.team.values():
        assert member.name in html
    assert "This week" in html and "week of 16 Nov 2026" in html


def test_priorities_list_every_ranked_lead_with_its_breakdown(site, derived):
    html = (site / "priorities.html").read_text(encoding="utf-8")
    rows = re.findall(r'<tr data-owner="[^"]*" data-temp="[^"]*" data-reason="[^"]*" data-source="[^"]*" '
                      r'data-stage="[^"]*" data-category="[^"]*">', html)
    assert len(rows) == len(derived.priorities)
    first = derived.priorities[0]
    assert f'href="leads/{first.lead.id}.html"' in html
    for p in first.breakdown:
        assert p.why in html
    assert html.index(derived.priorities[0].lead.id) < html.index(derived.priorities[-1].lead.id)


def test_long_priority_lists_are_paged(tmp_path, derived):
    env = environment(ROOT)
    nav = views.navigation(derived.model)
    pages = list(views.priorities_pages(derived, nav, "", "", page_size=10))
    assert len(pages) == -(-len(derived.priorities) // 10)
    assert [c.first for c in pages] == [1 + 10 * i for i in range(len(pages))]
    assert sum(len(c.rows) for c in pages) == len(derived.priorities)
    html = render_page(env, "priorities.html", pages[1])
    assert 'href="priorities-3.html"' in html and 'href="priorities.html"' in html
    assert "this page has ranks 11 to 20" in html


def test_today_says_it_is_not_a_sending_day_and_shows_the_next(site):
    html = (site / "today.html").read_text(encoding="utf-8")   # 2026-11-22 is a Sunday
    assert "is not a sending day" in html
    assert "Next sending day: Monday 23 November 2026" in html


def test_today_on_a_sending_day_lists_the_plan(tmp_path, derived):
    out = tmp_path / "s"
    build(EXAMPLE, out, today=dt.date(2026, 11, 23))
    html = (out / "today.html").read_text(encoding="utf-8")
    assert "Today, Monday 23 November 2026" in html and "not a sending day" not in html
    assert "To send" in html and "Tasks by owner" in html and "New enrolments" in html


def test_campaign_pages_show_steps_variants_channels_and_touches(site, derived):
    stats = campaign_stats(derived.model, derived.states)
    warm = stats.campaigns["warm-lead-magnet"]
    assert warm.tally.sent > 0
    html = (site / "campaigns/warm-lead-magnet.html").read_text(encoding="utf-8")
    for v in warm.by_variant:
        assert v.hook in html
    assert "Variant against variant" in html and "By channel" in html and "Answers by touch number" in html
    index = (site / "campaigns.html").read_text(encoding="utf-8")
    for cid, camp in derived.model.campaigns.items():
        assert f'href="campaigns/{cid}.html">{camp.name}</a>' in index


def test_hygiene_lists_every_hygiene_finding(site, derived):
    html = (site / "hygiene.html").read_text(encoding="utf-8")
    hyg = derived.hygiene
    for ids in (hyg.no_next_action, hyg.incomplete_overdue, hyg.uncontactable, hyg.given_up_early):
        for lead_id in ids:
            assert f'<span class="sub">{lead_id}</span>' in html
    for rec in hyg.unknown_touches:
        assert rec.touch in html
    assert hyg.unknown_touches, "the example history leaves one touch unknown"


def test_a_lead_page_has_details_path_loss_score_and_timeline(site, derived):
    lead_id = "dale-simmons-heartland-tractor"
    html = (site / f"leads/{lead_id}.html").read_text(encoding="utf-8")
    records = derived.model.history.for_lead(lead_id)
    assert records
    assert "Funnel path" in html and "The loss" in html and "Timeline" in html
    assert html.count("<li class=") >= len([r for r in records if r.event != "attempting"])
    ranked = next(p for p in derived.priorities if p.lead.lost.note)
    other = (site / f"leads/{ranked.lead.id}.html").read_text(encoding="utf-8")
    assert f"Rank <strong>{ranked.rank}</strong>" in other
    for p in ranked.breakdown:
        assert p.why in other


def test_content_pages_render_markdown(site):
    html = (site / "pages/playbook.html").read_text(encoding="utf-8")
    assert "<h1>Recovery playbook</h1>" in html and "<table>" in html and "<strong>" in html


def test_markdown_keeps_raw_html_as_text_and_links_inside_the_site():
    html = render_markdown("<script>alert(1)</script>\n\n[a](https://x.example/) [b](javascript:alert(1)) "
                           "[c](../index.html) ![d](http://x.example/i.png)")
    assert "<script" not in html and "&lt;script&gt;" in html
    assert 'href="../index.html"' in html
    assert "href=\"http" not in html and "javascript:alert(1)\"" not in html.replace('title="javascript:alert(1)"', "")
    assert "<img" not in html


def test_the_site_is_small_enough(site):
    assert (site / "index.html").stat().st_size < 300_000


# --------------------------------------------------------------------------- hostile data

@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory) -> Path:
    root = hostile_repo(tmp_path_factory.mktemp("hostile") / "repo")
    out = root.parent / "_site"
    result = build(root, out, today=TODAY)
    assert result.files, [p.format() for p in result.checked.errors]
    return out


def test_hostile_lead_data_is_text_everywhere(hostile_site):
    seen = 0
    for page in html_pages(hostile_site):
        html = page.read_text(encoding="utf-8")
        parsed = links(html)
        assert not parsed.handlers, (page, parsed.handlers)
        assert parsed.scripts <= 1
        for raw in (HOSTILE_NAME, HOSTILE_IMG, "<svg onload", "<b onmouseover", "alert(2)</script>"):
            assert raw not in html, (page, raw)
        if "&lt;script&gt;alert(1)&lt;/script&gt;" in html:
            seen += 1
    assert seen >= 3     # the priorities page, the lead's page, the hygiene or today page...
    lead = (hostile_site / "leads/hostile-script.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in lead
    assert "&lt;img src=x onerror=alert(1)&gt;" in lead
    assert HOSTILE_JINJA in lead and "49 Industries" not in lead, "Jinja syntax in data is never evaluated"
    assert "{% raw %}{{ 7*7 }}{% endraw %} scanners" in lead
    img = (hostile_site / "leads/hostile-img.html").read_text(encoding="utf-8")
    assert "&lt;b onmouseover=alert(1)&gt;Bold &amp; Co&lt;/b&gt;" in img
    page = (hostile_site / "pages/hostile.html").read_text(encoding="utf-8")
    assert "<script>alert(" not in page and "javascript:" not in page.replace('title="javascript:alert(6)"', "")
    assert "&lt;script&gt;alert(3)&lt;/script&gt; Notes" in page


@pytest.mark.parametrize("value", [
    HOSTILE_NAME, HOSTILE_IMG, HOSTILE_JINJA, "Hale & Sons", "O'Brien \"Bo\"", "", "plain", 7, 2.5, None,
    dt.date(2026, 11, 22), markupsafe.Markup("<b>kept</b>"), ("a<", "b&")])
def test_the_sites_printing_escapes_exactly_as_jinjas_own(value):
    """The site's environment prints values through a quicker function (site_builder.render): the
    same text as Jinja's autoescape, in every place a template prints, sets or calls."""
    source = ("{{ v }}|{{ v ~ '<' }}|{{ v | e }}|{% set s %}<{{ v }}>{% endset %}{{ s }}|"
              "{% macro m(x) %}[{{ x }}]{% endmacro %}{{ m(v) }}|{% for x in [v, v] %}{{ x }}{% endfor %}|"
              "{% autoescape false %}{{ v }}{% endautoescape %}|<i>{{ v }}</i>%s{{ 1 }}{{ v }}%%")
    templates = {"page.html": source, "base.html": "<p>{% block main %}{% endblock %}</p>{{ v }}",
                 "child.html": "{% extends 'base.html' %}{% block main %}<i>{{ v }}</i>{{ v }}{% endblock %}"}
    ours = environment(ROOT)
    ours.loader = jinja2.DictLoader(templates)
    jinjas = jinja2.Environment(autoescape=True, loader=jinja2.DictLoader(templates))
    for name in templates:
        assert ours.get_template(name).render(v=value) == jinjas.get_template(name).render(v=value), name
    assert "<script>" not in ours.get_template("page.html").render(v=value).split("|")[0]


def test_hostile_data_in_csv_is_not_a_formula(tmp_path):
    root = copy_example(tmp_path / "repo")
    with open(root / "leads.yaml", "a", encoding="utf-8") as fh:
        fh.write('  - id: formula\n    name: "=HYPERLINK(\\"http://x\\")"\n    email: f@x.example\n'
                 '    reached: {new: 2026-01-05}\n')
    build(root, tmp_path / "s", today=TODAY)
    text = (tmp_path / "s/data/leads.csv").read_text(encoding="utf-8")
    assert "'=HYPERLINK" in text


# --------------------------------------------------------------------------- contexts

def _variables(env: jinja2.Environment, name: str) -> set[str]:
    """The variables a template reads from its context (imported macro modules aside)."""
    source = env.loader.get_source(env, name)[0]
    ast = env.parse(source)
    imported = {node.target for node in ast.find_all(jinja2.nodes.Import)}
    macros = {node.name for node in ast.find_all(jinja2.nodes.Macro)}
    return jinja2.meta.find_undeclared_variables(ast) - imported - macros - set(env.globals)


@pytest.mark.parametrize("name", sorted(contexts.PAGES))
def test_each_template_reads_exactly_its_context(name):
    """A page template reads the fields of its context class, all of them, and nothing else."""
    env = environment(ROOT)
    cls = contexts.PAGES[name]
    fields = {f.name for f in dataclasses.fields(cls)}
    used = _variables(env, name) | _variables(env, "base.html")
    assert used <= fields, f"{name} reads {sorted(used - fields)}, which {cls.__name__} does not have"
    assert fields <= used, f"{cls.__name__} has {sorted(fields - used)}, which {name} never reads"
    assert cls.__doc__ and name in cls.__doc__.replace("(index.html)", ""), "each context says which page it is for"


def test_partials_read_only_their_arguments():
    env = environment(ROOT)
    assert _variables(env, "_partials.html") == set()


def test_render_page_refuses_the_wrong_context(derived):
    env = environment(ROOT)
    nav = views.navigation(derived.model)
    ctx = views.hygiene(derived, nav, {})
    with pytest.raises(TypeError, match="overview.html takes a OverviewContext"):
        render_page(env, "overview.html", ctx)
    assert "<h1>Hygiene</h1>" in render_page(env, "hygiene.html", ctx)


def test_every_template_is_the_projects_or_a_partial():
    names = {p.name for p in (TEMPLATES / "site").iterdir()}
    assert names == set(contexts.PAGES) | {"base.html", "_partials.html", "_priorities.js", "site.css",
                                           "favicon.svg"}


# --------------------------------------------------------------------------- charts

def test_funnel_chart_bars_are_proportional_and_show_the_drop_off():
    c = charts.funnel_chart([("New", 100, 20), ("Won", 25, 0)], width=400)
    kept = [r for r in c.rects if r.cls == "s1"]
    lost = [r for r in c.rects if r.cls == "loss"]
    assert [r.w for r in kept] == [320, 100], "the first colour is what was not lost there"
    assert lost[0].w == 80 and lost[0].x == 320
    assert dict((cls, text) for cls, text in c.legend) == {"s1": "reached the stage, not lost there",
                                                            "loss": "lost at the stage"}
    assert any(t.text == "100 reached · 20 lost (20%)" for t in c.texts)
    assert "New: 100 reached, 20 lost there" in c.desc


def test_bar_chart_handles_zeros_and_empty():
    c = charts.bar_chart([("a", 0), ("b", 0)], id="x", title="t")
    assert all(r.w == 0 for r in c.rects)
    assert charts.bar_chart([], id="x", title="t").desc == "nothing to show."


def test_nice_ticks():
    assert charts.nice_ticks(0) == (1, 1)
    assert charts.nice_ticks(4) == (4, 4)
    assert charts.nice_ticks(29) == (30, 3)
    assert charts.nice_ticks(91) == (100, 5)
    top, n = charts.nice_ticks(0.37 * 100)
    assert top == 40 and n == 4


def test_charts_are_deterministic():
    args = (["1", "2", "3"], [("a", [1, 2, 3]), ("b", [0, 5, 1])])
    assert charts.line_chart(*args, id="w", title="t") == charts.line_chart(*args, id="w", title="t")
    g = charts.grouped_bar_chart(*args, id="g", title="t")
    assert len(g.rects) == 6 and {r.cls for r in g.rects} == {"s1", "s2"}


# --------------------------------------------------------------------------- serve

def test_make_serve_prints_the_address(tmp_path, site):
    proc = subprocess.Popen([sys.executable, "-m", "site_builder", "serve", "--dir", str(site), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        line = proc.stdout.readline()
        m = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert m, line
        import urllib.request
        with urllib.request.urlopen(f"http://127.0.0.1:{m.group(1)}/index.html", timeout=10) as resp:
            assert b"Lost-lead recovery" in resp.read()
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


def test_serve_without_a_site_says_so(tmp_path, capsys):
    assert cli_main(["serve", "--dir", str(tmp_path)]) == 2
    assert "run `make build` first" in capsys.readouterr().err


def test_many_sources_fold_into_one_row_on_the_overview(tmp_path):
    root = copy_example(tmp_path / "repo")
    extra = "".join(f"  - id: source-{i:02d}\n    company: Company {i}\n    email: c{i}@s.example\n"
                    f"    source: fair-{i:02d}\n    reached: {{new: 2026-01-05}}\n" for i in range(40))
    with open(root / "leads.yaml", "a", encoding="utf-8") as fh:
        fh.write(extra)
    build(root, tmp_path / "s", today=TODAY)
    html = (tmp_path / "s/index.html").read_text(encoding="utf-8")
    rows = re.findall(r'<tr><th scope="row">(?:<a href="[^"]*">)?([^<]*)(?:</a>)?</th><td class="n">',
                      html.split('id="source-h"')[1].split("</table>")[0])
    assert len(rows) == views.SOURCES_SHOWN
    assert rows[-1].endswith("other sources")


# --------------------------------------------------------------------------- honest numbers and labels

# The internal design document's name and its section sign, spelled so this file does not carry them.
_INTERNAL = ("S" + "PEC", "\u00a7")


def test_no_page_cites_an_internal_document_or_outside_figures(site):
    for page in html_pages(site):
        html = page.read_text(encoding="utf-8")
        for word in _INTERNAL:
            assert word not in html, (page, word)
        assert "industry" not in html.lower(), page


def test_the_campaigns_page_crowns_call_and_says_the_rule(site):
    html = (site / "campaigns.html").read_text(encoding="utf-8")
    channels = html.split('id="channels-h"')[1].split("</section>")[0]
    assert "best so far: call" in channels
    assert re.search(r'<tr class="best"><th scope="row">call <span class="tag good">best so far</span>', channels)
    assert "Wilson" in channels and "at least 5 touches sent" in channels
    assert "13.7%" in channels, "the interest rate call can be 95% sure of: 3 of 8"


def test_the_note_names_each_channel_left_out():
    env = environment(ROOT)
    from relead.derive.campaign_stats import Tally, ranking

    tallies = {"email": Tally(sent=40, replied=4, interested=2), "call": Tally(sent=3, replied=2, interested=2)}
    judged = ranking(tallies)
    rows = tuple(contexts.ChannelRow(ch, t, ch == judged.best, judged.lower.get(ch)) for ch, t in tallies.items())
    html = str(env.get_template("_partials.html").module.channel_table(rows, "USD", judged))
    assert "Not compared, fewer than 5 touches sent: call (3 sent)." in html
    assert "too few" in html and "Best so far: <strong>email</strong>" in html


def test_answers_by_touch_number_are_the_teams_own(site, derived):
    stats = campaign_stats(derived.model, derived.states)
    html = (site / "campaigns.html").read_text(encoding="utf-8")
    panel = html.split('id="touch-h"')[1].split("</section>")[0]
    legend = re.findall(r'<i class="key [^"]+"></i>([^<]+)</span>', panel)
    assert legend == ["answered", "interested", "won back"]
    rows = re.findall(r'<tr><th scope="row">([0-9+]+)</th><td class="n">([\d,]+)</td><td class="n">([\d,]+)', panel)
    assert [(int(s), int(r)) for _, s, r in rows] == list(zip(stats.touches.sent, stats.touches.replied))
    assert "Won back" in panel and sum(stats.touches.recovered) == stats.tally.recovered


def test_recovered_and_won_back_by_a_campaign_say_what_they_count(site, derived):
    html = (site / "index.html").read_text(encoding="utf-8")
    rec = derived.recovery
    assert "every lead won after its loss, by any means" in html
    assert f"of the {rec.recovered} recovered to date; the others were won back without one" in html
    assert "recovered ÷ lost" in html


def test_a_lead_timeline_is_in_the_teams_time_zone_and_names_tasks(site):
    html = (site / "leads/dale-simmons-heartland-tractor.html").read_text(encoding="utf-8")
    assert '<time datetime="2026-09-01T14:15:01+00:00">2026-09-01 09:15 CDT</time>' in html   # America/Chicago
    assert " UTC</time>" not in html
    assert "Call task handed to Sam Carter" in html and ">Sent<" not in html
    assert ">Email sent<" in html and ">SMS sent<" in html


ZONES = ["America/Chicago", "Europe/London", "Asia/Kolkata", "Asia/Kathmandu", "America/St_Johns",
         "Australia/Lord_Howe", "Australia/Adelaide", "Pacific/Chatham", "UTC", "Not/AZone"]


@settings(max_examples=400, deadline=None)
@given(zone=st.sampled_from(ZONES),
       when=st.datetimes(min_value=dt.datetime(2024, 1, 1), max_value=dt.datetime(2027, 12, 31)),
       offset=st.sampled_from(["Z", "+00:00", "+05:30", "-03:30", "+02:00", "", "+05:45"]),
       fraction=st.sampled_from(["", ".5", ".123456"]))
def test_a_records_time_reads_in_the_teams_zone_as_a_conversion_of_it_would(zone, when, offset, fraction):
    """The lead pages read most times from their hour's reading (site_builder.views.lead_page):
    the same text as converting each time, on both sides of every change of offset, in zones
    whose offset has half and quarter hours, and whatever offset the record was written with."""
    pages = views.LeadPages.__new__(views.LeadPages)
    pages._local, pages._hours = {}, {}
    try:
        pages.zone = zoneinfo.ZoneInfo(zone)
    except zoneinfo.ZoneInfoNotFoundError:
        pages.zone = dt.timezone.utc
    # minutes either side of the hour, where the offset changes
    for at in (when, when.replace(minute=0, second=0), when.replace(minute=59, second=59)):
        text = at.isoformat(timespec="seconds") + fraction + offset
        moment = dt.datetime.fromisoformat(text)
        moment = moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)
        local = moment.astimezone(pages.zone)
        assert pages.local_time(text) == f"{local:%Y-%m-%d %H:%M} {local.tzname()}", text
    assert pages.local_time("not a time") == "not a time"


class _HalfPast(dt.tzinfo):
    """+01:00, then +02:00 from 2026-03-29 01:30 UTC: an offset that changes in the middle of an hour."""

    CHANGE = dt.datetime(2026, 3, 29, 1, 30)

    def utcoffset(self, d):
        return dt.timedelta(hours=1 if d.replace(tzinfo=None) < self.CHANGE + dt.timedelta(hours=1) else 2)

    def tzname(self, d):
        return "A" if self.utcoffset(d) == dt.timedelta(hours=1) else "B"

    def dst(self, d):
        return dt.timedelta(0)

    def fromutc(self, d):
        naive = d.replace(tzinfo=None)
        return (naive + dt.timedelta(hours=1 if naive < self.CHANGE else 2)).replace(tzinfo=self)


@pytest.mark.parametrize("zone", ZONES[:-2] + ["half past"])
def test_every_minute_around_each_change_of_offset_reads_as_its_conversion(zone):
    pages = views.LeadPages.__new__(views.LeadPages)
    pages._local, pages._hours = {}, {}
    pages.zone = _HalfPast() if zone == "half past" else zoneinfo.ZoneInfo(zone)
    hour, changes = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc), 0
    while hour.year == 2026:
        after = hour + dt.timedelta(hours=1)
        if hour.astimezone(pages.zone).utcoffset() != after.astimezone(pages.zone).utcoffset():
            changes += 1
            for minute in range(-90, 150):
                at = hour + dt.timedelta(minutes=minute, seconds=59)
                local = at.astimezone(pages.zone)
                text = at.isoformat().replace("+00:00", "Z")
                assert pages.local_time(text) == f"{local:%Y-%m-%d %H:%M} {local.tzname()}", text
        hour = after
    assert changes == {"Asia/Kolkata": 0, "Asia/Kathmandu": 0, "half past": 1}.get(zone, 2)


def test_every_lead_the_hygiene_page_lists_can_be_opened(site, derived):
    html = (site / "hygiene.html").read_text(encoding="utf-8")
    hyg = derived.hygiene
    ids = {i for ids in (hyg.no_next_action, hyg.incomplete_overdue, hyg.uncontactable, hyg.given_up_early,
                         hyg.review_due) for i in ids} | {i for _, ids in hyg.duplicates for i in ids}
    assert "tom-reed-reed-freight-2026" in ids
    for lead_id in ids:
        assert f'href="leads/{lead_id}.html"' in html, lead_id
        assert (site / f"leads/{lead_id}.html").is_file()


# --------------------------------------------------------------------------- what a manager looks for first

def test_the_overview_has_periods_that_work_without_a_script(site, derived):
    from relead.derive import periods

    html = (site / "index.html").read_text(encoding="utf-8")
    assert "<script" not in html
    details = re.findall(r'<details class="period" name="period" id="period-(\w+)"( open)?>', html)
    assert [k for k, _ in details] == ["week", "month", "quarter", "all"]
    assert [bool(o) for _, o in details] == [True, False, False, False]
    week = html.split('id="period-week"')[1].split("</details>")[0]
    assert "16–22 Nov 2026" in week and "the same days of last week (9–15 Nov 2026)" in week
    ps = periods.period_summary(derived.model, derived.today, "week", states=derived.states)
    assert f'<div class="k">Touches sent</div><div class="v">{ps.numbers.touches}</div>' in week
    assert f"against {ps.before.touches}" in week


def test_period_windows():
    from relead.derive.periods import Window, period_windows

    sunday = dt.date(2026, 11, 22)
    assert period_windows(sunday, "week") == (Window(dt.date(2026, 11, 16), sunday),
                                              Window(dt.date(2026, 11, 9), dt.date(2026, 11, 15)))
    assert period_windows(dt.date(2026, 3, 31), "month") == (
        Window(dt.date(2026, 3, 1), dt.date(2026, 3, 31)), Window(dt.date(2026, 2, 1), dt.date(2026, 2, 28)))
    assert period_windows(dt.date(2026, 1, 10), "quarter") == (
        Window(dt.date(2026, 1, 1), dt.date(2026, 1, 10)), Window(dt.date(2025, 10, 1), dt.date(2025, 10, 10)))
    assert period_windows(sunday, "all") == (Window(None, sunday), None)
    with pytest.raises(ValueError):
        period_windows(sunday, "year")


def test_period_numbers_add_up_to_the_whole(derived):
    from relead.derive import periods

    summaries = periods.period_summaries(derived.model, derived.today, derived.states)
    everything = summaries[-1].numbers
    rec = derived.recovery
    assert (everything.lost, everything.recovered, everything.value_recovered) == \
        (rec.lost, rec.recovered, rec.value_recovered)
    assert everything.win_back_rate == rec.recovered / rec.lost
    assert everything.new_leads == len(derived.model.leads)
    week, month, quarter = (s.numbers for s in summaries[:3])
    for name in ("touches", "answers", "recovered", "lost", "new_leads"):
        assert getattr(week, name) <= getattr(month, name) <= getattr(quarter, name) <= getattr(everything, name)
    assert sum(o.touches for o in summaries[-1].owners) == everything.touches
    again = periods.period_summary(derived.model, derived.today, "month")
    assert again == summaries[1], "one period alone is the same as all at once"


def test_the_overview_shows_value_won_back_by_month_reasons_by_value_and_reason_by_stage(site, derived):
    from relead.derive import periods

    html = (site / "index.html").read_text(encoding="utf-8")
    months = periods.recovered_by_month(derived.states.values(), derived.model.settings, derived.today)
    assert len(months) == 12 and months[-1].month == dt.date(2026, 11, 1)
    table = html.split('id="months-table"')[1].split("</table>")[0]
    assert len(re.findall(r'<tr><th scope="row">', table.split("<tfoot>")[0])) == 12
    assert 'id="months-desc"' in html and 'id="reasons-value-desc"' in html
    values = periods.lost_value_by_reason(derived.states.values(), derived.model.settings)
    assert sum(values.values()) == sum(st.lead.value for st in derived.states.values() if st.lead.lost)
    cross = periods.reason_by_stage(derived.states.values(), derived.model.settings)
    assert {r: sum(row.values()) for r, row in cross.items()} == dict(derived.losses["reason"])
    price = html.split('id="reason-stage"')[1].split("</table>")[0]
    assert 'href="priorities/reason-price--stage-proposal.html"' in price


def test_the_months_and_the_wins_before_them_add_up_to_the_total_won_back(site):
    """'Recovered to date 8, $199,000' sat beside twelve months that add up to 4 and $80,000:
    the wins before those months are the table's last row, so the two read as one figure."""
    import json
    summary = json.loads((site / "data" / "summary.json").read_text(encoding="utf-8"))
    table = (site / "index.html").read_text(encoding="utf-8").split('id="months-table"')[1].split("</table>")[0]
    rows = re.findall(r'<tr><th scope="row">([^<]+)(?:<span[^>]*>[^<]*</span>)?</th><td class="n">([\d,]+)</td>'
                      r'<td class="n">\$([\d,]+)</td></tr>', table)
    assert len(rows) == 13 and rows[-1][0].startswith("Before ") and "<tfoot>" in table
    assert sum(int(v.replace(",", "")) for _, _, v in rows) == summary["recovery"]["value_recovered"]
    assert sum(int(n) for _, n, _ in rows) == summary["recovery"]["recovered"]


def test_each_months_value_sits_on_its_own_bar(site):
    """Full amounts ('15,000') are wider than a month's slot: the October label was lifted over
    September's, 130 px above its own bar, and read as September's. Short labels sit on theirs."""
    html = (site / "index.html").read_text(encoding="utf-8")
    svg = html.split('aria-describedby="months-desc"')[1].split("</svg>")[0]
    bars = [(float(x), float(y), float(w), v) for x, y, w, v in re.findall(
        r'<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="[\d.]+" rx="2" class="s1">'
        r'<title>[^<]*: ([\d,]+)</title>', svg)]
    labels = re.findall(r'<text x="([\d.]+)" y="([\d.]+)" text-anchor="middle" class="value small">([^<]+)</text>',
                        svg)
    assert len(bars) == 12 and len(labels) == sum(1 for b in bars if b[3] != "0") >= 3
    own = [(text, next(b for b in bars if b[0] <= float(x) <= b[0] + b[2]), float(y)) for x, y, text in labels]
    assert [f"{text}: {bar[1] - y:.0f} px above its bar" for text, bar, y in own if not 3.5 <= bar[1] - y <= 4.5] == []
    assert [text for text, _, _ in own] == [charts.short_number(float(bar[3].replace(",", ""))) for _, bar, _ in own]


def test_short_numbers():
    assert [charts.short_number(v) for v in (0, 950, 1000, 1500, 9_960, 18_300, 54_000, 215_500, 1_200_000)] == \
        ["0", "950", "1k", "1.5k", "10k", "18k", "54k", "216k", "1.2M"]


def test_owner_activity_and_backlog(site, derived):
    html = (site / "index.html").read_text(encoding="utf-8")
    assert "Follow-ups overdue" in html and "Replies waiting" in html and "Calls made" in html
    from relead.derive.periods import owner_backlog

    backlog = owner_backlog(derived.states.values(), derived.model.settings, derived.today)
    assert sum(r["replies_waiting"] for r in backlog.values()) == len(derived.hygiene.replies_waiting)


def test_summary_json_holds_the_new_numbers(site, derived):
    s = json.loads((site / "data/summary.json").read_text(encoding="utf-8"))
    assert s["recovery"]["win_back_rate"] == round(s["recovery"]["recovered"] / s["recovery"]["lost"], 4)
    assert list(s["periods"]) == ["week", "month", "quarter", "all"]
    assert s["periods"]["all"]["previous"] is None and s["periods"]["week"]["previous"]["from"] == "2026-11-09"
    assert s["periods"]["all"]["recovered"] == s["recovery"]["recovered"]
    assert len(s["recovered_by_month"]) == 12 and s["recovered_by_month"][-1]["month"] == "2026-11"
    assert set(s["lost_value_by_reason"]) == set(s["lost_by_reason"])
    assert {r: sum(v.values()) for r, v in s["lost_by_reason_and_stage"].items()} == s["lost_by_reason"]
    assert s["campaigns"]["best_channel"] == "call" and s["campaigns"]["compared_with_at_least"] == 5
    assert [t["touch"] for t in s["campaigns"]["touch_numbers"]] == ["1", "2", "3", "4", "5+"]
    assert set(s["owner_backlog"]) <= set(s["by_owner"])


# --------------------------------------------------------------------------- drill-down

def _ranked_ids(html: str) -> list[str]:
    return re.findall(r'<td class="lead"><a href="\.\./leads/([^"]+)\.html">', html)


def test_each_overview_row_links_to_the_ranked_leads_behind_it(site, derived):
    html = (site / "index.html").read_text(encoding="utf-8")
    hrefs = set(re.findall(r'href="(priorities/[^"]+)"', html))
    for key in ("reason", "stage", "category", "temp", "owner", "source"):
        assert any(h.startswith(f"priorities/{key}-") for h in hrefs), key
    assert any("--stage-" in h for h in hrefs)
    assert re.search(r'<a href="priorities/reason-price.html"><text ', html), "the chart's rows link too"
    for href in hrefs:
        assert (site / href).is_file(), href
    page = (site / "priorities/reason-price.html").read_text(encoding="utf-8")
    want = [p.lead.id for p in derived.priorities if p.lead.lost.reason == "price"]
    assert _ranked_ids(page) == want
    price = derived.model.settings.lost_reasons["price"].label
    lost = sum(1 for st in derived.states.values() if st.lead.lost and st.lead.lost.reason == "price")
    assert f"{lost} leads with a loss on record lost because: {price}; {len(want)} of them" in page
    assert "all listed here" in page
    cell = (site / "priorities/reason-went_dark--stage-new.html").read_text(encoding="utf-8")
    assert _ranked_ids(cell) == [p.lead.id for p in derived.priorities
                                 if (p.lead.lost.reason, p.lead.lost.stage) == ("went_dark", "new")]


def test_drill_down_pages_are_capped_and_point_to_the_whole_list(derived):
    env = environment(ROOT)
    nav = views.navigation(derived.model)
    pages = dict(views.drill_pages(derived, nav, "", "", cap=2))
    assert set(pages) == set(views.drill_filters(derived).values())
    ctx = pages["priorities/reason-went_dark.html"]
    assert len(ctx.rows) == 2 and ctx.drill.total > 2
    html = render_page(env, "priorities.html", ctx)
    assert 'href="../priorities.html?reason=went_dark"' in html and "the best-ranked 2 are listed" in html


def test_drill_down_file_names_are_safe_and_distinct():
    a = views.drill_href((("source", "Trade show"),))
    b = views.drill_href((("source", "trade-show"),))
    c = views.drill_href((("source", HOSTILE_IMG),))
    assert a != b and re.fullmatch(r"priorities/source-[a-z0-9_-]+\.html", c)
    assert views.drill_href((("owner", ""),)) != views.drill_href((("owner", "none"),))
    assert views.browser_href((("reason", "price"), ("stage", "proposal"))) == \
        "priorities.html?reason=price&stage=proposal"


def test_the_priorities_script_reads_the_filters_from_the_address(site):
    html = (site / "priorities.html").read_text(encoding="utf-8")
    assert "URLSearchParams(window.location.search)" in html
    for name in ("owner", "temp", "reason", "source", "stage", "category"):
        assert f'<select name="{name}">' in html
        assert f'"{name}"' in html.split("URLSearchParams")[1].split("function apply")[0], name


def test_priorities_rows_show_the_last_touch_and_next_step(site, derived):
    html = (site / "priorities.html").read_text(encoding="utf-8")
    assert "<button type=\"button\">Last touch</button>" in html and "Next step</th>" in html
    first = derived.priorities[0]
    row = html.split(f'href="leads/{first.lead.id}.html"')[1].split("</tr>")[0]
    records = derived.model.history.by_lead.get(first.lead.id, ())
    assert f'<td data-label="Last touch">{views.last_touch(derived.states[first.lead.id], records)}</td>' in row
    assert '<td data-label="Next step">' in row


def test_today_names_each_sends_owner(tmp_path, derived):
    out = tmp_path / "s"
    build(EXAMPLE, out, today=dt.date(2026, 11, 23))
    html = (out / "today.html").read_text(encoding="utf-8")
    sends = html.split('id="sends-h"')[1].split("</table>")[0]
    assert '<th scope="col">Owner</th>' in sends
    names = {m.name for m in derived.model.settings.team.values()}
    owners = re.findall(r'<td data-label="Owner">([^<]+)</td>', sends)
    assert owners and set(owners) <= names


def test_every_summary_json_key_is_documented(site):
    s = json.loads((site / "data/summary.json").read_text(encoding="utf-8"))
    doc = (ROOT / "docs/formats.md").read_text(encoding="utf-8")
    section = doc.split("## summary.json: the dashboard's numbers")[1].split("\n## ")[0]
    for key in s:
        assert f"`{key}`" in section, key
    for key in s["periods"]["week"]:
        if key not in ("period", "previous", "by_owner", "from", "to"):
            assert f"`{key}`" in section, key


def test_a_week_under_way_says_so_beside_the_whole_week_before():
    """On a Friday, 'this week' holds Monday to Friday; the week before, all seven days."""
    import datetime as dt
    from site_builder.views.overview_page import _week_label
    monday = dt.date(2026, 11, 16)
    assert _week_label(monday, dt.date(2026, 11, 20)) == "week of 16 Nov 2026, Monday to Friday so far"
    assert _week_label(monday, dt.date(2026, 11, 22)) == "week of 16 Nov 2026"
