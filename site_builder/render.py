"""Rendering pages: derived data in, HTML text out. Nothing here touches the disk but the templates."""

from __future__ import annotations

from pathlib import Path

import jinja2

from relead.derive import Derived

__all__ = ["environment", "render_site", "TEMPLATES"]

# The project's own templates, used when the repository being built has none.
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def environment(root: Path) -> jinja2.Environment:
    own = Path(root) / "templates" / "site"
    loader = jinja2.FileSystemLoader([str(own), str(TEMPLATES / "site")])
    env = jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["money"] = lambda v: f"{v:,.0f}"
    return env


def render_site(derived: Derived, root: Path) -> dict[str, str]:
    """Every page, by its path under the site."""
    env = environment(root)
    rec = derived.recovery
    context = {
        "as_of": derived.today.isoformat(),
        "currency": derived.model.settings.currency,
        "statuses": derived.statuses,
        "recovery": rec,
        "funnel": derived.funnel,
        "priorities": derived.priorities[:10],
    }
    return {"index.html": env.get_template("index.html").render(context)}
