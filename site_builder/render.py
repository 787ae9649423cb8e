"""Rendering pages: derived data in, HTML text out. Nothing here touches the disk but the templates.

:func:`render_site` yields ``(path, text)`` for every page, in a fixed order,
one at a time (so a 100,000-lead site never sits in memory whole);
:mod:`site_builder.writer` writes them. Templates come from the repository's own
``templates/site/`` first, then the project's.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit

import jinja2
import markdown
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor
from markupsafe import Markup

from relead.campaign_stats import Stats, campaign_stats
from relead.derive import Derived
from relead.plan import DayPlan, plan_day

from . import views
from .contexts import PAGES

__all__ = ["environment", "render_page", "render_markdown", "render_site", "SiteCounts", "TEMPLATES"]

# The project's own templates, used when the repository being built has none.
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def _num(value) -> str:
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{int(value):,}"


def _pct(value: float, digits: int = 0) -> str:
    return f"{value:.{digits}%}"


def _signed(value: float) -> str:
    if value > 0:
        return f"+{_num(value)}"
    if value < 0:
        return f"−{_num(-value)}"
    return "±0"


def environment(root: Path) -> jinja2.Environment:
    own = Path(root) / "templates" / "site"
    loader = jinja2.FileSystemLoader([str(own), str(TEMPLATES / "site")])
    env = jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                             auto_reload=False, cache_size=-1)
    env.filters["num"] = _num
    env.filters["pct"] = _pct
    env.filters["signed"] = _signed
    env.filters["money"] = views.money
    env.filters["label"] = views.label
    return env


_FIELDS: dict[type, tuple[str, ...]] = {}


def render_page(env: jinja2.Environment, name: str, context) -> str:
    """Render the page template ``name`` with exactly its context object's fields."""
    cls = PAGES[name]
    if type(context) is not cls:
        raise TypeError(f"{name} takes a {cls.__name__}, not a {type(context).__name__}")
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return env.get_template(name).render({n: getattr(context, n) for n in names})


class _LocalLinks(Treeprocessor):
    """Links and images may only point inside the site: the dashboard works offline and
    loads nothing from elsewhere. Any other link keeps its text and shows its address."""

    def run(self, root):
        for el in root.iter():
            attr = "href" if el.tag == "a" else "src" if el.tag == "img" else None
            if attr is None:
                continue
            url = (el.get(attr) or "").strip()
            if url and not _local(url):
                del el.attrib[attr]
                el.set("title", url)
                el.set("class", "external")
                if el.tag == "img":
                    el.tag = "span"
                    el.text = el.attrib.pop("alt", "") or url
        return None


def _local(url: str) -> bool:
    """A relative path or an anchor: no scheme (http:, javascript:, data:...), no //host."""
    parts = urlsplit(url)
    return not parts.scheme and not parts.netloc and not url.startswith(("/", "\\"))


class _SafeMarkdown(Extension):
    def extendMarkdown(self, md):
        # Content pages are Markdown, not HTML: raw HTML in them is shown as text.
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")
        md.treeprocessors.register(_LocalLinks(md), "local_links", 0)


def _markdown_engine() -> markdown.Markdown:
    return markdown.Markdown(extensions=["tables", "sane_lists", _SafeMarkdown()], output_format="html")


def render_markdown(text: str) -> str:
    """Markdown to HTML, with any raw HTML escaped (safe to insert into a page)."""
    return _markdown_engine().convert(text)


def _csp_hash(script: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")


@dataclass
class SiteCounts:
    """Filled in while :func:`render_site` runs: what it rendered."""

    pages: int = 0
    lead_pages: int = 0
    by_kind: dict = field(default_factory=dict)


def render_site(derived: Derived, root: Path, counts: SiteCounts | None = None) -> Iterator[tuple[str, str]]:
    """Every page and the stylesheet, as (path under the site, text), in a fixed order."""
    counts = counts if counts is not None else SiteCounts()
    env = environment(root)
    model = derived.model
    nav = views.navigation(model)
    stats: Stats = campaign_stats(model, derived.states)

    def emit(kind: str, path: str, text: str):
        counts.pages += 1
        counts.by_kind[kind] = counts.by_kind.get(kind, 0) + 1
        return path, text

    yield "assets/site.css", env.get_template("site.css").render()
    yield "assets/favicon.svg", env.get_template("favicon.svg").render()

    lead_pages = {lead.id: views.lead_href(lead.id) for lead in model.leads if views.has_page(derived, lead)}

    yield emit("overview", "index.html", render_page(env, "overview.html", views.overview(derived, stats, nav)))

    script = env.get_template("_priorities.js").render()
    digest = _csp_hash(script)
    for ctx in views.priorities_pages(derived, nav, Markup(script), digest):
        yield emit("priorities", views.priorities_href(ctx.page), render_page(env, "priorities.html", ctx))

    sending_day = model.settings.sending.is_business_day(derived.today)
    day = derived.today if sending_day else views.next_sending_day(derived)
    plan = plan_day(model, derived.states, derived.priorities, day) if day is not None \
        else DayPlan(derived.today, False)
    yield emit("today", "today.html", render_page(
        env, "today.html", views.today(derived, plan, nav, sending_day=sending_day, lead_pages=lead_pages)))

    yield emit("campaigns", "campaigns.html", render_page(env, "campaigns.html", views.campaigns(derived, stats, nav)))
    for cid in sorted(model.campaigns):
        yield emit("campaign", views.campaign_href(cid),
                   render_page(env, "campaign.html", views.campaign(derived, stats.campaigns[cid], nav)))

    yield emit("hygiene", "hygiene.html", render_page(env, "hygiene.html", views.hygiene(derived, nav, lead_pages)))

    md = _markdown_engine()
    for page in model.pages:
        html = Markup(md.reset().convert(page.body))
        yield emit("page", views.page_href(page.slug),
                   render_page(env, "page.html", views.content_page(derived, page, html, nav)))

    leads = views.LeadPages(derived, nav)
    template = env.get_template("lead.html")
    names = tuple(f.name for f in dataclasses.fields(PAGES["lead.html"]))
    render = template.render
    for lead in model.leads:
        href = lead_pages.get(lead.id)
        if href is None:
            continue
        ctx = leads.context(lead)
        counts.lead_pages += 1
        yield emit("lead", href, render({n: getattr(ctx, n) for n in names}))
