"""The Monday digest's words: last week in numbers, as plain text and as email-safe HTML.

What it holds comes from :func:`relead.derive.digest_numbers.digest_numbers` (a pure function of the
model and the day). This module renders it twice, as plain text that reads well on its own
and as email-safe HTML (tables and inline styles only: no stylesheet, no SVG, no script, no
image, 600 px wide at most, which Gmail and Outlook both show as written), for one
:class:`Recipient`. :mod:`outreach.digest` says who gets it and sends it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import quote, urljoin

import jinja2

from relead.derive.digest_numbers import DigestNumbers
from relead.model import Settings

__all__ = ["Recipient", "render_digest"]

SHOWN = 10                  # rows of a list in the mail; the rest are on the dashboard
_NOTE_CHARS = 160           # of a reply's text


@dataclass(frozen=True, slots=True)
class Recipient:
    name: str               # "" for an address given with --to that is not a team member's
    address: str


# ---------------------------------------------------------------------------------------- words

def _money(value: float, currency: str) -> str:
    return f"{value:,.0f} {currency}"


def _change(now: float, then: float, *, money: str = "") -> str:
    diff = now - then
    if not diff:
        return "same"
    text = f"{abs(diff):,.0f}" + (f" {money}" if money else "")
    return ("+" if diff > 0 else "-") + text


def _rate(won: int, open_: int) -> str:
    return "n/a" if not open_ else f"{won / open_ * 100:.1f}% ({won:,} of {open_:,})"


def _day(day: dt.date) -> str:
    return f"{day.day} {day:%b %Y}"


def _span(start: dt.date, end: dt.date) -> str:
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day}-{end.day} {end:%b %Y}"
    if start.year == end.year:
        return f"{start.day} {start:%b} - {end.day} {end:%b %Y}"
    return f"{_day(start)} - {_day(end)}"


def _one_line(text: str, limit: int = _NOTE_CHARS) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[:limit - 1].rstrip() + "…"


@dataclass(frozen=True, slots=True)
class _Row:
    label: str
    now: str
    then: str
    change: str
    tone: str = ""          # good | bad | "": colour only; the sign carries the meaning


def _rows(n: DigestNumbers, currency: str) -> list[_Row]:
    w, b = n.week.numbers, n.week.before
    rows = [
        _Row("New leads in", f"{w.new_leads:,}", f"{b.new_leads:,}", _change(w.new_leads, b.new_leads)),
        _Row("Leads a touch went out to", f"{n.leads_contacted:,}", f"{n.leads_contacted_before:,}",
             _change(n.leads_contacted, n.leads_contacted_before)),
        _Row("Touches (email, SMS, tasks)", f"{w.touches:,}", f"{b.touches:,}", _change(w.touches, b.touches)),
        _Row("Calls made", f"{w.calls:,}", f"{b.calls:,}", _change(w.calls, b.calls)),
        _Row("Answers from leads", f"{w.answers:,}", f"{b.answers:,}", _change(w.answers, b.answers)),
        _Row("Interested", f"{w.interested:,}", f"{b.interested:,}", _change(w.interested, b.interested)),
    ]
    last = n.stages[-1]
    for stage in n.stages[1:]:
        label = "Deals won" if stage == last else f"Reached the {stage.replace('_', ' ')} stage"
        now, then = n.reached.get(stage, 0), n.reached_before.get(stage, 0)
        rows.append(_Row(label, f"{now:,}", f"{then:,}", _change(now, then)))
    rows += [
        _Row("Won back (won after a loss)", f"{w.recovered:,}", f"{b.recovered:,}", _change(w.recovered, b.recovered)),
        _Row("Value won back", _money(w.value_recovered, currency), _money(b.value_recovered, currency),
             _change(w.value_recovered, b.value_recovered, money=currency)),
        _Row("Win-back rate", _rate(w.recovered, w.open_to_win_back),
             _rate(b.recovered, b.open_to_win_back), ""),
        _Row("Leads lost", f"{w.lost:,}", f"{b.lost:,}", _change(w.lost, b.lost)),
    ]
    good_up = {"Leads lost": False}
    out = []
    for r in rows:
        tone = ""
        if r.change.startswith(("+", "-")):
            up = r.change.startswith("+")
            tone = "good" if up == good_up.get(r.label, True) else "bad"
        out.append(_Row(r.label, r.now, r.then, r.change, tone))
    return out


def _links(settings: Settings) -> dict:
    base = settings.site_url
    if not base:
        return {"site": "", "lead": lambda _id: "", "page": lambda _p: ""}
    base = base if base.endswith("/") else base + "/"
    return {"site": base, "lead": lambda lead_id: urljoin(base, f"leads/{quote(lead_id)}.html"),
            "page": lambda page: urljoin(base, page)}


def _context(n: DigestNumbers, settings: Settings, recipient: Recipient) -> dict:
    currency = settings.currency
    prev = n.week.previous
    links = _links(settings)
    first = recipient.name.split()[0] if recipient.name.split() else ""
    return {
        "greeting": f"Hi {first}," if first else "Hello,",
        "team": settings.sender.name,
        "week": _span(n.start, n.end),
        "before": _span(prev.start, prev.end) if prev is not None and prev.start else "",
        "today": _day(n.today),
        "rows": _rows(n, currency),
        "sources": n.sources,
        "won_back": [(w, _money(w.value, currency), links["lead"](w.lead)) for w in n.won_back],
        "won_total": _money(sum(w.value for w in n.won_back), currency),
        "waiting": [(r, _one_line(r.said), links["lead"](r.lead)) for r in n.replies_waiting[:SHOWN]],
        "waiting_total": len(n.replies_waiting),
        "overdue": n.follow_ups_overdue[:SHOWN],
        "overdue_total": len(n.follow_ups_overdue),
        "tasks": n.open_tasks[:SHOWN],
        "tasks_total": len(n.open_tasks),
        "to_call": [(c, f"{c.score:g}", links["lead"](c.lead)) for c in n.to_call],
        "site": links["site"],
        "priorities": links["page"]("priorities.html"),
        "today_page": links["page"]("today.html"),
        "shown": SHOWN,
        "who": lambda key: settings.team[key].name if key in settings.team else key,
    }


_TEXT = """\
{{ greeting }}

{{ team }}'s week of {{ week }} in numbers{% if before %}, against the week before ({{ before }}){% endif %}.

{{ table }}

Win-back rate: leads won back that week, of the leads lost and not yet won back.
{% if sources %}
Where last week's new leads came from (last week / the week before):
{% for s, now, then in sources %}  - {{ s }}: {{ now }} / {{ then }}
{% endfor %}{% else %}
Where new leads came from: no new lead came in either week.
{% endif %}
{% if won_back %}Won back last week ({{ won_back | length }}, {{ won_total }}):
{% for w, value, link in won_back %}  - {{ w.name }}, {{ value }}, {% if w.campaign %}by the campaign {{ w.campaign_name }}{% else %}with no campaign{% endif %} [{{ who(w.owner) }}]
{% endfor %}{% else %}Won back last week: none.
{% endif %}
Replies waiting for an answer: {{ waiting_total }}{% if waiting_total %} (newest first){% endif %}
{% for r, said, link in waiting %}  - {{ r.name }} [{{ who(r.owner) }}]: answered by {{ r.channel or "an unknown channel" }} on {{ r.day }}{% if said %}: "{{ said }}"{% endif %}
{% endfor %}{% if waiting_total > shown %}  ... and {{ waiting_total - shown }} more on the dashboard's Today page
{% endif %}
Follow-ups past their date: {{ overdue_total }}
{% for o in overdue %}  - {{ o.name }} [{{ who(o.owner) }}]: follow up was due {{ o.day }}, {{ o.days }} days ago
{% endfor %}{% if overdue_total > shown %}  ... and {{ overdue_total - shown }} more
{% endif %}
Call and mail tasks with nothing recorded since: {{ tasks_total }}
{% for t in tasks %}  - {{ t.name }} [{{ who(t.owner) }}]: {{ t.channel }} handed out {{ t.day }}, {{ t.days }} days ago
{% endfor %}{% if tasks_total > shown %}  ... and {{ tasks_total - shown }} more
{% endif %}
The {{ to_call | length }} to call first this week (the priorities, best first):
{% for c, score, link in to_call %}{{ "%2d" | format(c.rank) }}. {{ c.name }} [{{ who(c.owner) }}]{% if c.phone %}, {{ c.phone }}{% elif c.email %}, no phone: {{ c.email }}{% endif %}, score {{ score }}
    why: {{ c.why }}
{% else %}  nobody: no lost lead is waiting to be won back
{% endfor %}
{% if site %}The dashboard: {{ site }}
Priorities: {{ priorities }}
{% else %}The dashboard is not published (no `site_url` in content/settings.yaml): `make build` writes it
into _site/; open _site/index.html, or `make serve`.
{% endif %}
Counted from leads.yaml and history/ as of {{ today }}. relead sends this digest once a week to each
member of the team (`make digest`).
"""

_CELL = "padding:6px 6px;border-bottom:1px solid #e4e7eb;"
_NUM = _CELL + "text-align:right;"
_TONES = {"good": "color:#1a6b36;", "bad": "color:#a3261b;", "": "color:#52606d;"}

_HTML = """\
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ subject }}</title>
</head>
<body style="margin:0;padding:0;background-color:#f4f5f7;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background-color:#f4f5f7;">
<tr><td align="center" style="padding:16px 4px;">
<table role="presentation" width="600" cellpadding="0" cellspacing="0" border="0" style="width:100%;max-width:600px;background-color:#ffffff;border:1px solid #d9dde3;font-family:Arial,Helvetica,sans-serif;font-size:14px;line-height:1.5;color:#1f2933;">
<tr><td style="padding:20px 16px 8px 16px;">
<p style="margin:0 0 12px 0;">{{ greeting }}</p>
<h1 style="margin:0 0 4px 0;font-size:20px;line-height:1.3;color:#1f2933;">{{ team }}: the week of {{ week }}</h1>
<p style="margin:0 0 16px 0;color:#52606d;">In numbers{% if before %}, against the week before ({{ before }}){% endif %}.</p>
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="border-collapse:collapse;font-size:14px;">
<tr><th align="left" style="{{ cell }}font-weight:bold;">&nbsp;</th><th align="right" style="{{ num }}font-weight:bold;">Last week</th><th align="right" style="{{ num }}font-weight:bold;">Week before</th><th align="right" style="{{ num }}font-weight:bold;">Change</th></tr>
{% for r in rows %}<tr><td style="{{ cell }}">{{ r.label }}</td><td align="right" style="{{ num }}font-weight:bold;">{{ r.now }}</td><td align="right" style="{{ num }}color:#52606d;">{{ r.then }}</td><td align="right" style="{{ num }}{{ tones[r.tone] }}">{{ r.change }}</td></tr>
{% endfor %}</table>
</td></tr>
{% if sources %}<tr><td style="padding:8px 16px;">
<h2 style="margin:8px 0;font-size:16px;color:#1f2933;">Where the new leads came from</h2>
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="border-collapse:collapse;font-size:14px;">
<tr><th align="left" style="{{ cell }}">Source</th><th align="right" style="{{ num }}">Last week</th><th align="right" style="{{ num }}">Week before</th></tr>
{% for s, now, then in sources %}<tr><td style="{{ cell }}">{{ s }}</td><td align="right" style="{{ num }}">{{ now }}</td><td align="right" style="{{ num }}color:#52606d;">{{ then }}</td></tr>
{% endfor %}</table>
</td></tr>{% else %}<tr><td style="padding:8px 16px;"><p style="margin:0;color:#52606d;">Where new leads came from: no new lead came in either week.</p></td></tr>{% endif %}
<tr><td style="padding:8px 16px;">
<h2 style="margin:8px 0;font-size:16px;color:#1f2933;">Won back last week{% if won_back %}: {{ won_back | length }}, {{ won_total }}{% endif %}</h2>
{% if won_back %}<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="border-collapse:collapse;font-size:14px;">
{% for w, value, link in won_back %}<tr><td style="{{ cell }}">{% if link %}<a href="{{ link }}" style="color:#1d4ed8;">{{ w.name }}</a>{% else %}{{ w.name }}{% endif %}<br><span style="color:#52606d;">{% if w.campaign %}by the campaign {{ w.campaign_name }}{% else %}with no campaign{% endif %} &middot; {{ who(w.owner) }}</span></td><td align="right" style="{{ num }}">{{ value }}</td></tr>
{% endfor %}</table>{% else %}<p style="margin:0;color:#52606d;">None.</p>{% endif %}
</td></tr>
<tr><td style="padding:8px 16px;">
<h2 style="margin:8px 0;font-size:16px;color:#1f2933;">Replies waiting for an answer: {{ waiting_total }}</h2>
{% if waiting %}<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="border-collapse:collapse;font-size:14px;">
{% for r, said, link in waiting %}<tr><td style="{{ cell }}">{% if link %}<a href="{{ link }}" style="color:#1d4ed8;">{{ r.name }}</a>{% else %}{{ r.name }}{% endif %} <span style="color:#52606d;">&middot; {{ who(r.owner) }}, by {{ r.channel or "an unknown channel" }} on {{ r.day }}</span>{% if said %}<br>&ldquo;{{ said }}&rdquo;{% endif %}</td></tr>
{% endfor %}</table>{% if waiting_total > shown %}<p style="margin:4px 0 0 0;color:#52606d;">&hellip; and {{ waiting_total - shown }} more on the dashboard's Today page.</p>{% endif %}{% endif %}
</td></tr>
<tr><td style="padding:8px 16px;">
<h2 style="margin:8px 0;font-size:16px;color:#1f2933;">Overdue: {{ overdue_total }} follow-ups, {{ tasks_total }} tasks</h2>
{% if overdue or tasks %}<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="border-collapse:collapse;font-size:14px;">
{% for o in overdue %}<tr><td style="{{ cell }}">{{ o.name }} <span style="color:#52606d;">&middot; {{ who(o.owner) }}</span></td><td style="{{ cell }}">follow-up due {{ o.day }}</td><td align="right" style="{{ num }}">{{ o.days }} days late</td></tr>
{% endfor %}{% for t in tasks %}<tr><td style="{{ cell }}">{{ t.name }} <span style="color:#52606d;">&middot; {{ who(t.owner) }}</span></td><td style="{{ cell }}">{{ t.channel }} task handed out {{ t.day }}, nothing recorded since</td><td align="right" style="{{ num }}">{{ t.days }} days</td></tr>
{% endfor %}</table>{% if overdue_total > shown or tasks_total > shown %}<p style="margin:4px 0 0 0;color:#52606d;">The first {{ shown }} of each are shown.</p>{% endif %}{% endif %}
</td></tr>
<tr><td style="padding:8px 16px;">
<h2 style="margin:8px 0;font-size:16px;color:#1f2933;">The {{ to_call | length }} to call first this week</h2>
{% if to_call %}<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="border-collapse:collapse;font-size:14px;">
{% for c, score, link in to_call %}<tr><td valign="top" style="{{ cell }}width:16px;color:#52606d;">{{ c.rank }}.</td><td style="{{ cell }}">{% if link %}<a href="{{ link }}" style="color:#1d4ed8;font-weight:bold;">{{ c.name }}</a>{% else %}<strong>{{ c.name }}</strong>{% endif %} <span style="color:#52606d;">&middot; {{ who(c.owner) }}</span><br>{% if c.phone %}{{ c.phone }}{% elif c.email %}no phone: {{ c.email }}{% endif %}<br><span style="color:#52606d;">why: {{ c.why }}</span></td><td valign="top" align="right" style="{{ num }}">score {{ score }}</td></tr>
{% endfor %}</table>{% else %}<p style="margin:0;color:#52606d;">Nobody: no lost lead is waiting to be won back.</p>{% endif %}
</td></tr>
<tr><td style="padding:16px 16px 20px 16px;">
{% if site %}<p style="margin:0 0 12px 0;"><a href="{{ site }}" style="display:inline-block;padding:8px 14px;background-color:#1d4ed8;color:#ffffff;text-decoration:none;border-radius:4px;font-weight:bold;">Open the dashboard</a> &nbsp; <a href="{{ priorities }}" style="color:#1d4ed8;">Priorities</a></p>
{% else %}<p style="margin:0 0 12px 0;">The dashboard is not published (no <code>site_url</code> in content/settings.yaml): <code>make build</code> writes it into <code>_site/</code>; open <code>_site/index.html</code>, or run <code>make serve</code>.</p>
{% endif %}<p style="margin:0;font-size:12px;color:#52606d;">Counted from leads.yaml and history/ as of {{ today }}. relead sends this digest once a week to each member of the team (<code>make digest</code>).</p>
</td></tr>
</table>
</td></tr>
</table>
</body>
</html>
"""

_ENV_HTML = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
_ENV_TEXT = jinja2.Environment(autoescape=False, undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
_HTML_T = _ENV_HTML.from_string(_HTML)
_TEXT_T = _ENV_TEXT.from_string(_TEXT)


def _table(rows: list[_Row]) -> str:
    head = _Row("", "last week", "week before", "change")
    width = [max(len(getattr(r, f)) for r in [head, *rows]) for f in ("label", "now", "then", "change")]
    lines = []
    for r in [head, *rows]:
        lines.append(f"{r.label:<{width[0]}}  {r.now:>{width[1]}}  {r.then:>{width[2]}}  {r.change:>{width[3]}}"
                     .rstrip())
    return "\n".join(lines)


def render_digest(n: DigestNumbers, settings: Settings, recipient: Recipient) -> tuple[str, str, str]:
    """(subject, plain text, HTML) of one recipient's digest."""
    ctx = _context(n, settings, recipient)
    w = n.week.numbers
    subject = (f"{settings.sender.name}: week of {ctx['week']}: {w.new_leads} new, "
               f"{n.leads_contacted} contacted, {w.recovered} won back, {len(n.replies_waiting)} replies waiting")
    text = _TEXT_T.render(ctx, table=_table(ctx["rows"]))
    html = _HTML_T.render(ctx, subject=subject, cell=_CELL, num=_NUM, tones=_TONES)
    return subject, text, html
