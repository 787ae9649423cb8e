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
  non-ASCII names) before anything is sent, and warns about an SMS that takes more than
  one segment (:func:`sms_segments`).

Copy gets one filter of its own besides Jinja's: ``sentence_end`` ends a sentence after a
value that may end with a full stop already (``{{ lead.company | sentence_end }}``: "Acme
Corp." but "Acme, Inc.", never "Inc..").
"""

from __future__ import annotations

import datetime as dt
import math
import re
import traceback
from dataclasses import dataclass
from typing import Any, Iterator

import jinja2
from jinja2 import nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from .model import Campaign, Lead, Loss, Message, Model, Sender
from .problems import Problems

__all__ = ["TEMPLATE_VARIABLES", "CopyError", "CopySandbox", "Copy", "forbidden_tags", "unsubscribe_url",
           "reply_address", "unsubscribe_address", "REPLY_TAG", "template_context", "check_messages",
           "LARGEST_RESULT", "sentence_end", "sms_segments", "sms_text", "OPT_OUT_SMS", "in_gsm7"]

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


def sentence_end(value: Any) -> str:
    """``value`` ending a sentence: a full stop added unless it ends with one (or ``?``, ``!``, ``…``)
    already: "Acme Corp" is "Acme Corp.", "Acme, Inc." stays as it is. "" stays ""."""
    text = "" if value is None else str(value).rstrip()
    return text if not text or text[-1] in ".?!\u2026" else text + "."


class CopySandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, with strict undefined, arithmetic that cannot stall a run, and
    copy's own filter, ``sentence_end``."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def __init__(self, **options):
        super().__init__(undefined=jinja2.StrictUndefined, keep_trailing_newline=True, **options)
        self.filters["sentence_end"] = sentence_end

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
        try:
            code = env.compile(source, name=file, filename=file)
        except jinja2.TemplateSyntaxError as exc:     # an unknown filter or test
            raise CopyError(file, first_line + (exc.lineno or 1) - 1, f"template error: {exc.message}") from None
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


def reply_address(sender: Sender, touch_id: str, base: str = "") -> str:
    """Where a lead's reply goes: ``base`` (the owner who writes), else ``sender.reply_to``, else
    the From address, carrying the touch as a plus address (``sales+r-<touch>@``) unless
    ``plus_addressing`` is off. The token survives relays that rewrite Message-IDs and mail
    clients that drop the thread headers."""
    base = base or sender.reply_to or sender.email
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


OPT_OUT_SMS = "Reply STOP to opt out"

_GSM7 = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
_GSM7_EXT = frozenset("^{}\\[~]|€\f")       # two septets each (an escape, then the character)


def in_gsm7(char: str) -> bool:
    """Whether an SMS can carry ``char`` in the GSM-7 alphabet (its basic set or extension)."""
    return char in _GSM7 or char in _GSM7_EXT


def sms_segments(text: str) -> tuple[int, str]:
    """(segments, encoding) by the GSM 03.38 rules: 160/153 septets, else UCS-2 70/67 units.
    One character outside GSM-7 (a curly quote, an emoji, "ë") sends the whole text as UCS-2."""
    if all(c in _GSM7 or c in _GSM7_EXT for c in text):
        septets = sum(2 if c in _GSM7_EXT else 1 for c in text)
        return (1 if septets <= 160 else math.ceil(septets / 153)), "GSM-7"
    units = len(text.encode("utf-16-le")) // 2
    return (1 if units <= 70 else math.ceil(units / 67)), "UCS-2"


def sms_text(body: str, *, first: bool) -> str:
    """An SMS as it goes out: the rendered copy without surrounding space; a campaign's first
    SMS to a lead ends with :data:`OPT_OUT_SMS` (added unless the copy says it already)."""
    text = body.strip()
    if first and not text.rstrip(". ").endswith(OPT_OUT_SMS):
        text = f"{text}\n{OPT_OUT_SMS}"
    return text


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
    member = settings.team.get(settings.owner_of(lead.owner))
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


def _campaign_messages(campaign: Campaign) -> Iterator[tuple[str, str, str, bool]]:
    """(message key, channel, variant, first SMS) for every message a campaign can send; the
    campaign's first SMS step carries the opt-out line."""
    variants = [v.key for v in campaign.variants] or [""]
    first_sms = next((i for i, step in enumerate(campaign.steps) if step.channel == "sms"), -1)
    for i, step in enumerate(campaign.steps):
        for variant in variants:
            yield campaign.message_for(step, variant), step.channel, variant, i == first_sms


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _strings(v)
    else:
        yield str(value)


def _word_at(text: str, at: int) -> str:
    start = max(text.rfind(" ", 0, at), text.rfind("\n", 0, at)) + 1
    ends = [i for i in (text.find(" ", at), text.find("\n", at)) if i >= 0]
    return text[start:min(ends, default=len(text))]


@dataclass(frozen=True, slots=True)
class _LongSms:
    segments: int
    plain_segments: int           # with every character outside GSM-7 taken as one that is in it
    length: int                   # septets, so taken
    char: str = ""                # the copy's first character outside GSM-7
    word: str = ""                # the word it is in


def _long_sms(text: str, lead: Lead) -> _LongSms | None:
    """What makes ``text`` more than one segment, if it is: its length, or a character of the copy
    outside GSM-7. A lead's own letters ("Zoë") are counted as GSM-7: they are the lead's, not
    the copy's, and would otherwise make every message warn."""
    segments, _encoding = sms_segments(text)
    if segments == 1:
        return None
    own = set("".join(_strings(_lead_vars(lead))))
    foreign = [c for c in dict.fromkeys(text) if not in_gsm7(c)]
    from_copy = [c for c in foreign if c not in own]
    plain = "".join(c if in_gsm7(c) else "x" for c in text)
    plain_segments, _ = sms_segments(plain)
    length = sum(2 if c in _GSM7_EXT else 1 for c in plain)
    if from_copy:
        char = from_copy[0]
        return _LongSms(segments, plain_segments, length, char, _word_at(text, text.index(char)))
    if plain_segments == 1:
        return None
    return _LongSms(plain_segments, plain_segments, length)


def _warn_long_sms(problems: Problems, msg: Message, long: _LongSms, lead: Lead, campaign: Campaign) -> None:
    who = lead.name or lead.company
    if long.char:
        at = msg.body.find(long.char)
        where = ("use a GSM-7 character instead (a straight ' or \" for a curly one, - for a dash)" if at >= 0
                 else "it comes from a value the copy shows (the campaign's hook, a name in settings): "
                      "write that with GSM-7 characters")
        problems.warning(msg.file, (), f"'{long.char}' in {long.word} is not in the GSM-7 alphabet: the text goes "
                         f"as UCS-2, {long.segments} segments instead of {long.plain_segments} (rendered "
                         f"for a made-up lead, {who}, in campaign {campaign.id})",
                         f"{where}; each segment is billed as one SMS",
                         line=msg.body_line + (msg.body.count("\n", 0, at) if at >= 0 else 0))
        return
    problems.warning(msg.file, (), f"this SMS takes {long.segments} segments: {long.length} characters rendered "
                     f"for a made-up lead ({who}, in campaign {campaign.id}), and one segment holds 160",
                     "shorten it: each segment is billed as one SMS, and a campaign's first SMS also "
                     f"ends with \"{OPT_OUT_SMS}\"", line=msg.body_line)


def check_messages(model: Model, problems: Problems) -> None:
    """Render every message each campaign sends, for each sample lead: any error is an error of
    the message's file, at its line, so a broken template fails the pull request, not the send.
    An SMS that takes more than one segment (too long, or a character that makes it UCS-2) is a
    warning of its file."""
    env = CopySandbox(autoescape=False)
    compiled: dict[tuple[str, str], Copy | None] = {}
    reported: set[tuple[str, int, str]] = set()
    long_sms: set[str] = set()
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
        for key, channel, variant, first_sms in _campaign_messages(campaign):
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
                        text = copy.render(template_context(model, lead, campaign, variant, "0" * 20))
                    except CopyError as exc:
                        report(exc, lead)
                        continue
                    if channel == "sms" and key not in long_sms:
                        long = _long_sms(sms_text(text, first=first_sms), lead)
                        if long is not None:
                            long_sms.add(key)          # once per message: the first lead it is long for
                            _warn_long_sms(problems, msg, long, lead, campaign)
