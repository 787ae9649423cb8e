"""Rendering pages: derived data in, HTML text out. Nothing here touches the disk but the templates.

:func:`render_site` yields ``(path, text)`` for every page, in a fixed order,
one at a time (so a 100,000-lead site never sits in memory whole);
:mod:`site_builder.writer` writes them. Templates come from the repository's own
``templates/site/`` first, then the project's.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import hashlib
import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit

import jinja2
import markdown
import markupsafe
from jinja2 import nodes
from jinja2.compiler import CodeGenerator
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor
from markdown.util import AMP_SUBSTITUTE
from markupsafe import Markup

from relead.derive.campaign_stats import Stats
from relead.derive.derived import Derived
from relead.links import safe_link
from relead.derive.plan import DayPlan, plan_day

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


# markupsafe's own (C) escaping of a str, where it has one: the same text as the replacements below.
_escape_str = getattr(markupsafe, "_escape_inner", None) or (
    lambda s: s.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")
    .replace("'", "&#39;").replace('"', "&#34;"))


class _OutputCodeGenerator(CodeGenerator):
    """Compiles ``{{ value }}`` to markupsafe's C escaping of a str, not to ``escape(value)``.

    Every value a page prints is escaped: a large site prints millions (150 on a lead page), and
    markupsafe's ``escape`` wraps each result in a ``Markup`` object. What a template prints is
    only ever joined into the page's text, so a plain str with the same characters does; a lead
    page renders in a third less time. Values that are not a str (``Markup``, numbers,
    undefined) still go through markupsafe. (Jinja's own NativeCodeGenerator overrides the same
    methods.)"""

    def visit_Output(self, node, frame) -> None:
        """One ``yield`` for a run of text and values, not one for each.

        Jinja yields every piece of an output run on its own, and a page's pieces pass up
        through the template it extends: a lead page made 280 of them, each resuming three
        generators. Joined, each run yields once; the text is the same."""
        if frame.buffer is not None or frame.require_output_check:
            return super().visit_Output(node, frame)
        finalize = self._make_finalize()
        body: list = []
        for child in node.nodes:     # constants folded as Jinja folds them
            try:
                if not (finalize.const or isinstance(child, nodes.TemplateData)):
                    raise nodes.Impossible()
                const = self._output_child_to_const(child, frame, finalize)
            except (nodes.Impossible, Exception):
                body.append(child)
                continue
            if body and isinstance(body[-1], list):
                body[-1].append(const)
            else:
                body.append([const])
        if len(body) < 2:
            return super().visit_Output(node, frame)
        # str.join, not +: a Markup operand would escape the text beside it.
        self.writeline('yield "".join((')
        self.indent()
        for item in body:
            if isinstance(item, list):
                self.writeline(self._output_const_repr(item) + ",")
                continue
            self.newline(item)
            self._output_child_pre(item, frame, finalize)
            self.visit(item, frame)
            self._output_child_post(item, frame, finalize)
            self.write(",")
        self.outdent()
        self.writeline("))")

    def _output_child_pre(self, node, frame, finalize) -> None:
        if frame.eval_ctx.autoescape and not frame.eval_ctx.volatile:
            # inline: a function of our own would cost a call for every value
            self.write("(environment.escape_str(_out) if type(_out := ")
            if finalize.src is not None:
                self.write(finalize.src)
        else:
            super()._output_child_pre(node, frame, finalize)

    def _output_child_post(self, node, frame, finalize) -> None:
        if frame.eval_ctx.autoescape and not frame.eval_ctx.volatile:
            if finalize.src is not None:
                self.write(")")
            self.write(") is str else escape(_out))")
        else:
            super()._output_child_post(node, frame, finalize)


class _Environment(jinja2.Environment):
    code_generator_class = _OutputCodeGenerator
    escape_str = staticmethod(_escape_str)

    def make_globals(self, d):
        """A plain dict, not Jinja's ChainMap: each render of a page that imports the partials
        compares the two templates' globals, and with ChainMaps that comparison runs in Python
        (a twentieth of a lead page's time). The site's globals are all set before a template
        is loaded, so a copy sees them all."""
        return {**self.globals, **(d or {})}


def environment(root: Path) -> jinja2.Environment:
    own = Path(root) / "templates" / "site"
    loader = jinja2.FileSystemLoader([str(own), str(TEMPLATES / "site")])
    env = _Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined,
                       trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                       auto_reload=False, cache_size=-1)
    env.filters["num"] = _num
    env.filters["pct"] = _pct
    env.filters["signed"] = _signed
    env.filters["money"] = views.money
    env.filters["label"] = views.label
    env.globals["nav_links"] = _NavLinks(env)
    return env


class _NavLinks:
    """base.html's navigation links: the same for every page as deep in the site with the same
    page active (58,000 lead pages share one), so rendered once for each."""

    def __init__(self, env: jinja2.Environment):
        self._env = env
        self._made: dict[tuple[int, str, str], tuple[tuple, Markup]] = {}

    def __call__(self, chrome) -> Markup:
        # The pages share one tuple of items: known by its id (hashing its items each time would
        # cost what is saved), and kept, so that the id is not another's later.
        nav = chrome.nav
        key = (id(nav), chrome.root, chrome.active)
        made = self._made.get(key)
        if made is None or made[0] is not nav:
            made = self._made[key] = nav, self._env.get_template("_partials.html").module.nav_items(
                nav, chrome.root, chrome.active)
        return made[1]


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


_render_page = render_page      # what render_site's own `render_page` defers


class _LocalLinks(Treeprocessor):
    """Links and images may only point inside the site: the dashboard works offline and
    loads nothing from elsewhere (a link may also write an email or call: mailto:, tel:).
    Any other link keeps its text and shows its address. Addresses are judged as a browser
    reads them, entities decoded (relead.links): `&#106;avascript:` is javascript:."""

    def run(self, root):
        for el in root.iter():
            attr = "href" if el.tag == "a" else "src" if el.tag == "img" else None
            if attr is None:
                continue
            # Python-Markdown writes an autolinked email address as entities behind a placeholder.
            raw = (el.get(attr) or "").replace(AMP_SUBSTITUTE, "&")
            url = safe_link(raw, schemes=_PAGE_SCHEMES[el.tag])
            if url is not None and _local(url):
                if url:
                    el.set(attr, url)
            elif raw.strip():
                del el.attrib[attr]
                el.set("title", url if url is not None else html.unescape(raw))
                el.set("class", "external")
                if el.tag == "img":
                    el.tag = "span"
                    el.text = el.attrib.pop("alt", "") or el.get("title")
        return None


_PAGE_SCHEMES = {"a": ("mailto", "tel"), "img": ()}


def _local(url: str) -> bool:
    """A relative path or an anchor, or a mailto: or tel: link: no http:, no //host."""
    parts = urlsplit(url)
    if parts.scheme:
        return parts.scheme.lower() in ("mailto", "tel")
    return not parts.netloc and not url.startswith(("/", "\\"))


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
    """Every page and the stylesheet, as (path under the site, text), in a fixed order.

    Pages come as functions that render them (each page's context is made here, in
    order; the template is rendered when the function is called):
    :func:`site_builder.writer.write_site` calls those, in several processes when there
    are many.
    """
    # Within this function, `render_page(env, name, context)` gives a page still to be rendered:
    # every page added here goes to the writer's worker processes without a word more.
    render_page = functools.partial(functools.partial, _render_page)
    counts = counts if counts is not None else SiteCounts()
    env = environment(root)
    model = derived.model
    nav = views.navigation(model)

    def emit(kind: str, path: str, text):
        counts.pages += 1
        counts.by_kind[kind] = counts.by_kind.get(kind, 0) + 1
        return path, text

    lead_pages = views.lead_pages(derived)

    # The lead pages first: most of the site's work (site_builder.writer).
    leads = views.LeadPages(derived, nav)
    template = env.get_template("lead.html")
    names = tuple(f.name for f in dataclasses.fields(PAGES["lead.html"]))
    render = template.render

    def lead_page(lead) -> str:
        ctx = leads.context(lead)
        return render({n: getattr(ctx, n) for n in names})

    for lead in model.leads:
        href = lead_pages.get(lead.id)
        if href is None:
            continue
        counts.lead_pages += 1
        yield emit("lead", href, functools.partial(lead_page, lead))

    # The first texts after the lead pages: the writer hands those to its workers here, and
    # the contexts of the pages below are made while they render.
    yield "assets/site.css", env.get_template("site.css").render()
    yield "assets/favicon.svg", env.get_template("favicon.svg").render()

    # The pages that need no campaign statistics first: at 100,000 leads a worker is still making
    # them (and the periods) when the lead pages start (Derived.stats).
    script = env.get_template("_priorities.js").render()
    digest = _csp_hash(script)
    for ctx in views.priorities_pages(derived, nav, Markup(script), digest):
        yield emit("priorities", views.priorities_href(ctx.page), render_page(env, "priorities.html", ctx))
    for path, ctx in views.drill_pages(derived, nav, Markup(script), digest):
        yield emit("drill", path, render_page(env, "priorities.html", ctx))

    sending_day = model.settings.sending.is_business_day(derived.today)
    day = derived.today if sending_day else views.next_sending_day(derived)
    plan = plan_day(model, derived.states, derived.priorities, day) if day is not None \
        else DayPlan(derived.today, False)
    yield emit("today", "today.html", render_page(
        env, "today.html", views.today(derived, plan, nav, sending_day=sending_day, lead_pages=lead_pages)))

    yield emit("hygiene", "hygiene.html", render_page(env, "hygiene.html", views.hygiene(derived, nav, lead_pages)))

    stats: Stats = derived.stats
    yield emit("overview", "index.html", render_page(env, "overview.html", views.overview(derived, stats, nav)))
    yield emit("campaigns", "campaigns.html", render_page(env, "campaigns.html", views.campaigns(derived, stats, nav)))
    for cid in sorted(model.campaigns):
        yield emit("campaign", views.campaign_href(cid),
                   render_page(env, "campaign.html", views.campaign(derived, stats.campaigns[cid], nav)))

    md = _markdown_engine()
    for page in model.pages:
        html = Markup(md.reset().convert(page.body))
        yield emit("page", views.page_href(page.slug),
                   render_page(env, "page.html", views.content_page(derived, page, html, nav)))
