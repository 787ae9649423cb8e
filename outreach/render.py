"""Message copy for one lead: content/messages through a sandboxed Jinja2, Markdown to HTML.

Lead data only ever enters a template as a variable (never as template source),
in an immutable sandbox with strict undefined. Each message is compiled twice:

* for the plain-text part (and SMS, tasks), values go in as they are;
* for the HTML part, every value is escaped twice over before Markdown sees it:
  Markdown's punctuation gets a backslash (so a name cannot become a link or a
  heading) and HTML's ``& < > " '`` become entities (so it cannot become markup).

The variables are exactly :data:`relead.check_content.TEMPLATE_VARIABLES`:
``lead`` (every field, text fields present even when empty, plus
``first_name`` and ``display_name``), ``owner`` (the lead's owner, or the
sender when it has none), ``campaign`` (``id``, ``name``, ``variant`` and the
variant's ``hook``), ``sender`` and ``unsubscribe_url``.
"""

from __future__ import annotations

import html as _html
import math
import re
from dataclasses import dataclass
from typing import Any, Mapping

import jinja2
import markdown
from jinja2.sandbox import ImmutableSandboxedEnvironment

from relead.check_content import TEMPLATE_VARIABLES
from relead.model import Campaign, Lead, Model, Sender
from relead.plan import INTERESTED_STEP, Touch

from .errors import RenderError, UnsafeHeader

__all__ = ["RenderedEmail", "RenderedSms", "Renderer", "template_context", "unsubscribe_url",
           "check_header", "sms_segments", "OPT_OUT_SMS", "html_value"]

OPT_OUT_SMS = "Reply STOP to opt out"

# Markdown's backslash-escapable punctuation (Python-Markdown turns "\x" back into "x").
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!])")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\u2028\u2029\x85]")


def html_value(value: Any) -> str:
    """A template value made inert for the Markdown-to-HTML pipeline."""
    text = "" if value is None else str(value)
    return _html.escape(_MD_SPECIAL.sub(r"\\\1", text), quote=True)


def check_header(name: str, value: str) -> str:
    """``value`` if it is safe in a header; a line break (or other control character) is refused."""
    if _CONTROL.search(value):
        raise UnsafeHeader(f"the {name} header would hold a line break or control character: refused")
    return value


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    subject: str
    text: str           # the Markdown as rendered: the plain-text part's body
    html: str           # the HTML part's body (the layout wraps it when the mail is built)


@dataclass(frozen=True, slots=True)
class RenderedSms:
    text: str
    segments: int
    encoding: str       # GSM-7 | UCS-2


def unsubscribe_url(sender: Sender, touch_id: str) -> str:
    """The lead's own opt-out link: the settings' URL with the touch id, else a mailto."""
    if sender.unsubscribe_url:
        sep = "&" if "?" in sender.unsubscribe_url else "?"
        return f"{sender.unsubscribe_url}{sep}t={touch_id}"
    return f"mailto:{sender.unsubscribe_email or sender.email}?subject=unsubscribe%20{touch_id}"


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


_GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
_GSM7_EXT = set("^{}\\[~]|€\f")


def sms_segments(text: str) -> tuple[int, str]:
    """(segments, encoding) by the GSM 03.38 rules: 160/153 septets, else UCS-2 70/67 units."""
    if all(c in _GSM7 or c in _GSM7_EXT for c in text):
        septets = sum(2 if c in _GSM7_EXT else 1 for c in text)
        return (1 if septets <= 160 else math.ceil(septets / 153)), "GSM-7"
    units = len(text.encode("utf-16-le")) // 2
    return (1 if units <= 70 else math.ceil(units / 67)), "UCS-2"


class Renderer:
    """Renders a model's messages; templates are compiled once per message and kept."""

    def __init__(self, model: Model):
        self.model = model
        self._text_env = ImmutableSandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False,
                                                       keep_trailing_newline=True)
        self._html_env = ImmutableSandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False,
                                                       keep_trailing_newline=True, finalize=html_value)
        self._compiled: dict[tuple[str, str], jinja2.Template] = {}
        self._md = markdown.Markdown(extensions=["sane_lists"], output_format="html")

    def _template(self, env_name: str, source: str) -> jinja2.Template:
        key = (env_name, source)
        tpl = self._compiled.get(key)
        if tpl is None:
            env = self._html_env if env_name == "html" else self._text_env
            try:
                tpl = env.from_string(source)
            except jinja2.TemplateSyntaxError as exc:
                raise RenderError(f"template error: {exc.message}") from None
            self._compiled[key] = tpl
        return tpl

    def _render(self, env_name: str, source: str, ctx: Mapping[str, Any]) -> str:
        try:
            return self._template(env_name, source).render(ctx)
        except jinja2.UndefinedError as exc:
            raise RenderError(f"template uses something this lead does not have: {exc.message}") from None
        except jinja2.exceptions.SecurityError as exc:
            raise RenderError(f"template refused by the sandbox: {exc}") from None
        except jinja2.TemplateError as exc:
            raise RenderError(f"template error: {exc}") from None

    def context(self, touch: Touch) -> dict[str, Any]:
        lead = self.model.by_id[touch.lead]
        return template_context(self.model, lead, self.model.campaigns.get(touch.campaign),
                                touch.variant, touch.id)

    def _message(self, touch: Touch):
        msg = self.model.messages.get(touch.message)
        if msg is None:
            raise RenderError(f"unknown message {touch.message!r}")
        return msg

    def email(self, touch: Touch) -> RenderedEmail:
        msg = self._message(touch)
        ctx = self.context(touch)
        subject = check_header("Subject", self._render("text", msg.subject, ctx).strip())
        if not subject:
            raise RenderError(f"message {touch.message!r} renders an empty subject")
        text = self._render("text", msg.body, ctx)
        escaped = self._render("html", msg.body, ctx)
        self._md.reset()
        html = self._md.convert(escaped)
        return RenderedEmail(subject, text.rstrip() + "\n", html + "\n")

    def sms(self, touch: Touch) -> RenderedSms:
        text = self._render("text", self._message(touch).body, self.context(touch)).strip()
        if touch.first_sms and not text.rstrip(". ").endswith(OPT_OUT_SMS):
            text = f"{text}\n{OPT_OUT_SMS}"
        segments, encoding = sms_segments(text)
        return RenderedSms(text, segments, encoding)

    def task(self, touch: Touch) -> str:
        """A call or mail task for the owner: the step's copy, or the call-back note."""
        lead = self.model.by_id[touch.lead]
        contact = ", ".join(x for x in (lead.phone_written or lead.phone, lead.email) if x)
        head = f"{lead.display_name or lead.id}" + (f" ({contact})" if contact else "")
        if touch.step == INTERESTED_STEP or not touch.message:
            return f"Call {head}: {touch.why}.\n"
        body = self._render("text", self._message(touch).body, self.context(touch)).strip()
        return f"{touch.channel.capitalize()} {head}.\n\n{body}\n"
