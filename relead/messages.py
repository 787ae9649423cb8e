"""Message copy rendered for one lead: the sandbox it runs in, the variables it gets, and errors
located in its file.

Copy in ``content/messages/`` is written by the team and rendered with lead data, so it is
run in Jinja2's immutable sandbox with strict undefined, and lead values only ever enter it
as variables. On top of the sandbox:

* ``include``, ``import`` and ``extends`` are refused (copy has no loader: one file is one
  message), found when the file is loaded, with their line;
* ``*``, ``**`` and ``%`` refuse results big enough to stall a run (``'x' * 10**9``), as
  Jinja's sandbox already does for ``range()``;
* any exception a template raises (an undefined variable, the sandbox, ``1/0``) becomes a
  :class:`CopyError` that names the file and line, so one broken message never stops the
  others, and ``make check`` finds it first: :func:`check_messages` renders every
  campaign's messages for a few made-up leads (every field, the fewest, no owner,
  non-ASCII names) before anything is sent.
"""

from __future__ import annotations

import datetime as dt
import re
import traceback
from dataclasses import dataclass
from typing import Any, Iterator

import jinja2
from jinja2 import nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from .model import Campaign, Lead, Loss, Model, Sender
from .problems import Problems

__all__ = ["TEMPLATE_VARIABLES", "CopyError", "CopySandbox", "Copy", "forbidden_tags", "unsubscribe_url",
           "reply_address", "unsubscribe_address", "REPLY_TAG", "template_context", "check_messages",
           "LARGEST_RESULT"]

# What message copy may use; outreach provides exactly these.
TEMPLATE_VARIABLES = ("lead", "owner", "campaign", "sender", "unsubscribe_url")
LARGEST_RESULT = 100_000      # items of a repeated string or list, bits of a power
_FORBIDDEN = ((nodes.Include, "include"), (nodes.Import, "import"), (nodes.FromImport, "import"),
              (nodes.Extends, "extends"))
_WIDE_FORMAT = re.compile(r"%[-+ #0]*(\d+)?(?:\.(\d+))?")


class CopyError(ValueError):
    """A message could not be rendered: ``file:line: what``."""

    def __init__(self, file: str, line: int, message: str):
        super().__init__(f"{file}:{line}: {message}")
        self.file, self.line, self.message = file, line, message


class CopySandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, with strict undefined, and arithmetic that cannot stall a run."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def __init__(self, **options):
        super().__init__(undefined=jinja2.StrictUndefined, keep_trailing_newline=True, **options)

    def call_binop(self, context, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(left, int) and isinstance(right, int) \
                and max(abs(left), 2).bit_length() * abs(right) > LARGEST_RESULT:
            raise SecurityError(f"{left} ** {right} is too big a number for message copy")
        if operator == "*":
            for seq, n in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(n, int) and len(seq) * n > LARGEST_RESULT:
                    raise SecurityError("repeating text that many times is not something copy needs")
        if operator == "%" and isinstance(left, str):
            for m in _WIDE_FORMAT.finditer(left):
                if any(w and int(w) > 1000 for w in m.groups()):
                    raise SecurityError(f"a format width of {m.group(0)!r} is not something copy needs")
        return super().call_binop(context, operator, left, right)


def forbidden_tags(ast: nodes.Template) -> Iterator[tuple[str, int]]:
    """``(tag, line)`` for each include, import and extends in a parsed template."""
    for kind, tag in _FORBIDDEN:
        for node in ast.find_all(kind):
            yield tag, node.lineno


@dataclass(frozen=True)
class Copy:
    """One compiled piece of copy (a subject, a body) and where it is in its file."""

    template: jinja2.Template
    file: str
    first_line: int          # the file's line of the source's first line

    @classmethod
    def compile(cls, env: jinja2.Environment, source: str, *, file: str, first_line: int) -> "Copy":
        try:
            ast = env.parse(source)
        except jinja2.TemplateSyntaxError as exc:
            raise CopyError(file, first_line + (exc.lineno or 1) - 1, f"template error: {exc.message}") from None
        for tag, line in forbidden_tags(ast):
            raise CopyError(file, first_line + line - 1,
                            f"`{{% {tag} %}}` is not allowed in message copy (one file is one message)")
        code = env.compile(source, name=file, filename=file)
        return cls(env.template_class.from_code(env, code, env.make_globals(None), None), file, first_line)

    def render(self, ctx: dict[str, Any]) -> str:
        """The rendered text; any failure is a :class:`CopyError` at the template's line."""
        try:
            return self.template.render(ctx)
        except Exception as exc:        # copy is the team's code: nothing it does may stop a run
            raise CopyError(self.file, self._line(exc), _describe(exc)) from None

    def _line(self, exc: BaseException) -> int:
        lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if f.filename == self.file]
        return self.first_line + (lines[-1] - 1 if lines and lines[-1] else 0)


def _describe(exc: Exception) -> str:
    if isinstance(exc, jinja2.UndefinedError):
        return (f"{exc.message}: this lead does not have it; "
                "guard it with {% if ... %} or use a field every lead has")
    if isinstance(exc, SecurityError):
        return f"refused by the sandbox: {exc}"
    if isinstance(exc, jinja2.TemplateError):
        return f"template error: {exc}"
    return f"{exc} ({exc.__class__.__name__})"


REPLY_TAG = "r-"


def _plus(address: str, tag: str) -> str:
    local, _, domain = address.rpartition("@")
    return f"{local}+{tag}@{domain}"


def reply_address(sender: Sender, touch_id: str) -> str:
    """Where a lead's reply goes: ``sender.reply_to`` (else the From address), carrying the touch as
    a plus address (``sales+r-<touch>@``) unless ``plus_addressing`` is off. The token survives
    relays that rewrite Message-IDs and mail clients that drop the thread headers."""
    base = sender.reply_to or sender.email
    return _plus(base, REPLY_TAG + touch_id) if sender.plus_addressing else base


def unsubscribe_address(sender: Sender, touch_id: str) -> str:
    """The List-Unsubscribe mailbox, carrying the touch (``unsubscribe+<touch>@``) likewise."""
    base = sender.unsubscribe_email or sender.email
    return _plus(base, touch_id) if sender.plus_addressing else base


def unsubscribe_url(sender: Sender, touch_id: str) -> str:
    """The lead's own opt-out link: the settings' URL with the touch id, else a mailto."""
    if sender.unsubscribe_url:
        sep = "&" if "?" in sender.unsubscribe_url else "?"
        return f"{sender.unsubscribe_url}{sep}t={touch_id}"
    return f"mailto:{unsubscribe_address(sender, touch_id)}?subject=unsubscribe%20{touch_id}"


def _lead_vars(lead: Lead) -> dict[str, Any]:
    lost = lead.lost
    return {
        "id": lead.id, "name": lead.name, "first_name": lead.first_name,
        "display_name": lead.display_name, "company": lead.company, "title": lead.title,
        "email": lead.email, "phone": lead.phone, "phone_written": lead.phone_written,
        "timezone": lead.timezone, "source": lead.source, "owner": lead.owner,
        "value": lead.value, "interest": lead.interest,
        "decision_maker": lead.decision_maker, "tags": list(lead.tags),
        "follow_up": lead.follow_up.isoformat() if lead.follow_up else "",
        "recycle_on": lead.recycle_on.isoformat() if lead.recycle_on else "",
        "campaign": lead.campaign, "notes": lead.notes, "touches": lead.touches,
        "reached": {k: v.isoformat() for k, v in lead.reached.items()},
        "lost": {"date": lost.date.isoformat() if lost else "", "stage": lost.stage if lost else "",
                 "reason": lost.reason if lost else "", "temperature": (lost.temperature or "") if lost else "",
                 "note": lost.note if lost else ""},
    }


def template_context(model: Model, lead: Lead, campaign: Campaign | None, variant: str,
                     touch_id: str) -> dict[str, Any]:
    """The variables a message gets: exactly TEMPLATE_VARIABLES."""
    settings = model.settings
    sender = settings.sender
    member = settings.team.get(lead.owner)
    if member is not None:
        owner = {"key": member.key, "name": member.name, "email": member.email, "phone": member.phone or ""}
    else:
        owner = {"key": "", "name": sender.name, "email": sender.email, "phone": ""}
    camp = {"id": "", "name": "", "hook": "", "variant": variant}
    if campaign is not None:
        camp = {"id": campaign.id, "name": campaign.name, "hook": campaign.hook_for(variant),
                "variant": variant}
    ctx = {
        "lead": _lead_vars(lead),
        "owner": owner,
        "campaign": camp,
        "sender": {"name": sender.name, "email": sender.email, "postal_address": sender.postal_address,
                   "reply_to": sender.reply_to or "", "unsubscribe_email": sender.unsubscribe_email or "",
                   "unsubscribe_url": sender.unsubscribe_url or ""},
        "unsubscribe_url": unsubscribe_url(sender, touch_id),
    }
    assert tuple(ctx) == TEMPLATE_VARIABLES
    return ctx


def _sample_leads(model: Model) -> tuple[Lead, ...]:
    """Made-up leads that cover what copy meets: every field, the fewest, no owner, non-ASCII."""
    settings = model.settings
    team = sorted(settings.team)
    funnel = settings.funnel
    reason = next(iter(sorted(settings.lost_reasons)), "")
    day = dt.date(2026, 3, 2)
    full = Lead("sample-full", "(sample)", 0, name="Jane Doe", company="Acme, Inc.", title="Head of Operations",
                email="jane@acme.example", phone="+14155550134", phone_written="+1 415 555 0134",
                timezone="America/Los_Angeles", source="expo", owner=team[0] if team else "", value=12000,
                interest="warehouse scanners", decision_maker=True, tags=("vip",), follow_up=day,
                reached={stage: day for stage in funnel[:-1]},
                lost=Loss(day, funnel[-2] if len(funnel) > 1 else funnel[0], reason, "hot", "Budget freeze"),
                recycle_on=day, notes="Met at the expo")
    fewest = Lead("sample-fewest", "(sample)", 1, company="Société Générale d'Équipement",
                  email="info@sge.example")
    foreign = Lead("sample-foreign", "(sample)", 2, name="Zoë Łukasiewicz-Ångström", phone="+33142685300",
                   owner=team[-1] if team else "", lost=Loss(day, funnel[0], reason, None))
    return full, fewest, foreign


def _campaign_messages(campaign: Campaign) -> Iterator[tuple[str, str, str]]:
    """(message key, channel, variant) for every message a campaign can send."""
    variants = [v.key for v in campaign.variants] or [""]
    for step in campaign.steps:
        for variant in variants:
            yield campaign.message_for(step, variant), step.channel, variant


def check_messages(model: Model, problems: Problems) -> None:
    """Render every message each campaign sends, for each sample lead: any error is an error of
    the message's file, at its line, so a broken template fails the pull request, not the send."""
    env = CopySandbox(autoescape=False)
    compiled: dict[tuple[str, str], Copy | None] = {}
    reported: set[tuple[str, int, str]] = set()
    leads = _sample_leads(model)

    def report(exc: CopyError, lead: Lead) -> None:
        if (exc.file, exc.line, exc.message) not in reported:
            reported.add((exc.file, exc.line, exc.message))
            who = lead.name or lead.company
            problems.error(exc.file, (), f"{exc.message} (rendering it for a made-up lead, {who})",
                           "fix the copy; `make check` renders every message before anything is sent",
                           line=exc.line)

    for cid in sorted(model.campaigns):
        campaign = model.campaigns[cid]
        for key, channel, variant in _campaign_messages(campaign):
            msg = model.messages.get(key)
            if msg is None:
                continue
            parts = [("body", msg.body, msg.body_line)]
            if channel == "email":
                parts.append(("subject", msg.subject, msg.subject_line))
            for part, source, line in parts:
                if (key, part) not in compiled:
                    try:
                        compiled[(key, part)] = Copy.compile(env, source, file=msg.file, first_line=line)
                    except CopyError:       # reported when the file was loaded
                        compiled[(key, part)] = None
                copy = compiled[(key, part)]
                if copy is None:
                    continue
                for lead in leads:
                    try:
                        copy.render(template_context(model, lead, campaign, variant, "0" * 20))
                    except CopyError as exc:
                        report(exc, lead)
