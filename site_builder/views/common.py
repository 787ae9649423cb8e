"""What every page shares: labels and money as a person reads them, each page's ``href``, which
leads get a page, the navigation and the page chrome, owners' names."""

from __future__ import annotations

from urllib.parse import quote

from relead.derive.derived import Derived
from relead.derive.funnel import NO_OWNER
from relead.model import Lead, Model

from ..contexts import Chrome, NavItem

LIST_CAP = 200                 # rows per list on the today and hygiene pages
SOURCES_SHOWN = 25             # sources on the overview; the rest are folded into one row

_CURRENCY_SIGNS = {"USD": "$", "EUR": "€", "GBP": "£", "CAD": "CA$", "AUD": "A$", "JPY": "¥"}


def label(key: str) -> str:
    """``back_in_funnel`` -> ``Back in funnel``: a key as a person reads it."""
    text = str(key).replace("_", " ").replace("-", " ")
    return text[:1].upper() + text[1:]


def money(value: float, currency: str) -> str:
    sign = _CURRENCY_SIGNS.get(currency)
    amount = f"{value:,.0f}"
    return f"{sign}{amount}" if sign else f"{amount} {currency}"


def lead_href(lead_id: str) -> str:
    return f"leads/{quote(lead_id)}.html"


def campaign_href(cid: str) -> str:
    return f"campaigns/{quote(cid)}.html"


def page_href(slug: str) -> str:
    return f"pages/{quote(slug, safe='')}.html"


def priorities_href(page: int) -> str:
    return "priorities.html" if page == 1 else f"priorities-{page}.html"


def has_page(derived: Derived, lead: Lead) -> bool:
    """A lead gets its own page when it has something to show: a loss, or history."""
    return lead.lost is not None or lead.id in derived.model.history.by_lead


def lead_pages(derived: Derived, *, shown: int = LIST_CAP) -> dict[str, str]:
    """Lead id -> its page, for every lead that gets one: each that has something to show
    (:func:`has_page`) and each the hygiene page lists (a duplicate, a lead with no contact
    details...), so every lead named on the site can be opened. In leads.yaml's order."""
    hyg = derived.hygiene
    listed = set()
    for ids in (hyg.no_next_action, hyg.incomplete_overdue, hyg.uncontactable, hyg.given_up_early,
                hyg.review_due):
        listed.update(ids[:shown])
    for _, ids in hyg.duplicates[:shown]:
        listed.update(ids)
    history = derived.model.history.by_lead
    return {lead.id: lead_href(lead.id) for lead in derived.model.leads
            if lead.lost is not None or lead.id in history or lead.id in listed}


def _touches(n: int) -> str:
    return f"{n} touch" if n == 1 else f"{n} touches"


def navigation(model: Model) -> tuple[NavItem, ...]:
    items = [NavItem("overview", "Overview", "index.html"),
             NavItem("priorities", "Priorities", "priorities.html"),
             NavItem("today", "Today", "today.html"),
             NavItem("campaigns", "Campaigns", "campaigns.html"),
             NavItem("hygiene", "Hygiene", "hygiene.html")]
    items += [NavItem(f"page:{p.slug}", p.title, page_href(p.slug)) for p in model.pages]
    return tuple(items)


def chrome(derived: Derived, nav: tuple[NavItem, ...], title: str, *, active: str = "",
           depth: int = 0, script_hash: str = "") -> Chrome:
    return Chrome(title=title, root="../" * depth, active=active, nav=nav,
                  as_of=derived.today.isoformat(), team_name=derived.model.settings.sender.name,
                  script_hash=script_hash, as_of_note=_as_of_note(derived))


def _as_of_note(derived: Derived) -> str:
    # A dashboard built on the example's pinned date must not pass for today's (relead.clock).
    if derived.as_of is None:
        return ""
    return ("That is the example's own date (as_of in content/settings.yaml), not today: remove as_of "
            "once this repository holds your own leads.")


def _owner_name(model: Model, key: str) -> str:
    member = model.settings.team.get(key)
    return member.name if member is not None else (key or NO_OWNER)
