"""From derived data to page contexts: one pure function per page kind.

In: the core's :class:`relead.derive.derived.Derived` (and what else the page needs: the campaign
statistics, the day's plan). Out: the page's context object from :mod:`site_builder.contexts`.
Nothing here renders HTML or touches the disk. Every ``href`` in a context is relative to the site
root; templates put ``chrome.root`` in front of it.

- ``common``: labels, money, each page's ``href``, which leads get a page, navigation and chrome.
- ``words``: what the pages call owner's tasks, steps and events; what a reply said, why a channel closed.
- ``overview_page``: the overview (``index.html``).
- ``priorities``: the priorities pages, and the drill-down pages behind the overview's rows.
- ``today_page``: the today page.
- ``campaign_pages``: the campaigns page and each campaign's page.
- ``hygiene_page``: the hygiene page.
- ``lead_page``: each lead's page (:class:`LeadPages`).
- ``content_pages``: the pages of ``content/pages/``.

Here are only the names used outside this package (``views.overview(...)``); the rest stay in
their modules.
"""

from __future__ import annotations

from .campaign_pages import campaign, campaigns
from .common import SOURCES_SHOWN, campaign_href, label, lead_pages, money, navigation, page_href, priorities_href
from .content_pages import content_page
from .hygiene_page import hygiene
from .lead_page import LeadPages
from .overview_page import overview
from .priorities import browser_href, drill_filters, drill_href, drill_pages, last_touch, priorities_pages
from .today_page import next_sending_day, today
from .words import TASK_LABELS

__all__ = [
    "label", "money", "campaign_href", "page_href", "priorities_href", "navigation", "lead_pages",
    "overview", "priorities_pages", "drill_filters", "drill_href", "browser_href", "drill_pages", "last_touch",
    "SOURCES_SHOWN", "today", "next_sending_day", "TASK_LABELS", "campaigns", "campaign", "hygiene",
    "LeadPages", "content_page",
]
