"""The pages written in ``content/pages/``, in the dashboard's chrome."""

from __future__ import annotations

from relead.derive.derived import Derived

from ..contexts import ContentPageContext, NavItem
from .common import chrome


def content_page(derived: Derived, page, html: str, nav: tuple[NavItem, ...]) -> ContentPageContext:
    return ContentPageContext(chrome=chrome(derived, nav, page.title, active=f"page:{page.slug}", depth=1),
                              html=html, source=page.file)
