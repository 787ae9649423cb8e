"""Message copy for one lead: content/messages through a sandboxed Jinja2, Markdown to HTML.

Lead data only ever enters a template as a variable (never as template source),
in an immutable sandbox with strict undefined. Each message is compiled twice:

* for the plain-text part (and SMS, tasks), values go in as they are;
* for the HTML part, every value is escaped twice over before Markdown sees it:
  Markdown's punctuation gets a backslash (so a name cannot become a link or a
  heading) and HTML's ``& < > " '`` become entities (so it cannot become markup).

A message with ``format: text`` in its front matter has no HTML part: its email goes out as
plain text only.

Compiling and rendering (the sandbox, the variables, errors located at the file's line) and
counting an SMS's segments are :mod:`relead.messages`, shared with ``make check``, which
renders every message before the send day. Any failure rendering one message becomes a
:class:`RenderError` for the touches of that message only.
"""

from __future__ import annotations

import html as _html
import re
from dataclasses import dataclass
from typing import Any

import markdown

from relead.messages import (OPT_OUT_SMS, Copy, CopyError, CopySandbox, sms_segments, sms_text, template_context,
                             unsubscribe_url)
from relead.links import safe_html_links
from relead.model import Message, Model
from relead.derive.plan import INTERESTED_STEP, REPLY_STEP, Touch

from .errors import RenderError, UnsafeHeader

__all__ = ["RenderedEmail", "RenderedSms", "Renderer", "template_context", "unsubscribe_url",
           "check_header", "sms_segments", "OPT_OUT_SMS", "html_value"]

# Markdown's backslash-escapable punctuation (Python-Markdown turns "\x" back into "x").
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!])")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\u2028\u2029\x85]")


def html_value(value: Any) -> str:
    """A template value made inert for the Markdown-to-HTML pipeline."""
    text = "" if value is None else str(value)
    return _html.escape(_MD_SPECIAL.sub(r"\\\1", text), quote=True)


_JINJA = re.compile(r"({{.*?}}|{%.*?%}|{#.*?#})", re.S)
_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_LINK = re.compile(r"\[([^\]\n]+)\]\(((?:https?|mailto|tel):[^)\s]+)\)")
_HELD = "\ue000"                # a private-use character where a tag was
_HELD_RE = re.compile(_HELD)


def plain_markdown(source: str) -> str:
    """The copy's Markdown as a person reads it in a plain-text part: ``**22% more**`` without
    its stars, ``[the report](https://…)`` as ``the report (https://…)``. Only the copy's own
    text changes, never what its placeholders put in, and line breaks stay where they are."""
    if _HELD in source:                       # cannot stand in for the tags: the text between them
        parts = _JINJA.split(source)
        for i in range(0, len(parts), 2):
            parts[i] = _plain(parts[i])
        return "".join(parts)
    # Each tag is one mark while the copy's stars and links are read: ``**{{ campaign.hook }}**``
    # loses its stars too, and a tag's own ``**`` (a power) is never read.
    tags = iter(_JINJA.findall(source))
    return _HELD_RE.sub(lambda _m: next(tags), _plain(_JINJA.sub(_HELD, source)))


def _plain(text: str) -> str:
    return _LINK.sub(r"\1 (\2)", _STRONG.sub(r"\2", text))


def check_header(name: str, value: str) -> str:
    """``value`` if it is safe in a header; a line break (or other control character) is refused."""
    if _CONTROL.search(value):
        raise UnsafeHeader(f"the {name} header would hold a line break or control character: refused")
    return value


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    subject: str
    text: str           # the Markdown as rendered: the plain-text part's body
    html: str           # the HTML part's body (the layout wraps it when the mail is built); "" when
                        # the message is `format: text`: the email is plain text only


@dataclass(frozen=True, slots=True)
class RenderedSms:
    text: str
    segments: int
    encoding: str       # GSM-7 | UCS-2


class Renderer:
    """Renders a model's messages; each message is compiled once per part and kept."""

    def __init__(self, model: Model):
        self.model = model
        self._text_env = CopySandbox(autoescape=False)
        self._html_env = CopySandbox(autoescape=False, finalize=html_value)
        self._compiled: dict[tuple[str, str, str], Copy] = {}
        self._md = markdown.Markdown(extensions=["sane_lists"], output_format="html")

    def _render(self, env_name: str, msg: Message, part: str, ctx: dict[str, Any]) -> str:
        key = (env_name, msg.key, part)
        try:
            copy = self._compiled.get(key)
            if copy is None:
                env = self._html_env if env_name == "html" else self._text_env
                source, line = (msg.subject, msg.subject_line) if part == "subject" else (msg.body, msg.body_line)
                if env_name == "text" and part == "body" and msg.format != "text":
                    source = plain_markdown(source)
                copy = self._compiled[key] = Copy.compile(env, source, file=msg.file, first_line=line)
            return copy.render(ctx)
        except CopyError as exc:
            raise RenderError(str(exc)) from None

    def context(self, touch: Touch) -> dict[str, Any]:
        lead = self.model.by_id[touch.lead]
        return template_context(self.model, lead, self.model.campaigns.get(touch.campaign),
                                touch.variant, touch.id)

    def _message(self, touch: Touch) -> Message:
        msg = self.model.messages.get(touch.message)
        if msg is None:
            raise RenderError(f"unknown message {touch.message!r}")
        return msg

    def email(self, touch: Touch) -> RenderedEmail:
        msg = self._message(touch)
        ctx = self.context(touch)
        subject = self._render("text", msg, "subject", ctx).strip() if msg.subject else self._re(touch, ctx)
        subject = check_header("Subject", subject)
        if not subject:
            raise RenderError(f"{msg.file}:{msg.subject_line}: the subject renders empty for this lead")
        text = self._render("text", msg, "body", ctx)
        if msg.format == "text":
            return RenderedEmail(subject, text.rstrip() + "\n", "")
        escaped = self._render("html", msg, "body", ctx)
        self._md.reset()
        # The copy's links, as a mail client reads them: only http(s), mailto, tel and relative ones.
        html = safe_html_links(self._md.convert(escaped))
        return RenderedEmail(subject, text.rstrip() + "\n", html + "\n")

    def _re(self, touch: Touch, ctx: dict[str, Any]) -> str:
        """A follow-up without a subject of its own answers in the thread: "Re: " and the subject
        of the sequence's first email."""
        camp = self.model.campaigns.get(touch.campaign)
        first = next((s for s in camp.steps if s.channel == "email"), None) if camp else None
        msg = self.model.messages.get(camp.message_for(first, touch.variant)) if first else None
        if msg is None or not msg.subject:
            raise RenderError(f"message {touch.message!r} has no subject, and no first email to answer")
        subject = self._render("text", msg, "subject", ctx).strip()
        return subject if subject.lower().startswith("re:") else f"Re: {subject}"

    def sms(self, touch: Touch) -> RenderedSms:
        text = sms_text(self._render("text", self._message(touch), "body", self.context(touch)),
                        first=touch.first_sms)
        segments, encoding = sms_segments(text)
        return RenderedSms(text, segments, encoding)

    def task(self, touch: Touch) -> str:
        """A call or mail task for the owner: the step's copy, or the call-back note."""
        lead = self.model.by_id[touch.lead]
        contact = ", ".join(x for x in (lead.phone_written or lead.phone, lead.email) if x)
        head = f"{lead.display_name or lead.id}" + (f" ({contact})" if contact else "")
        if touch.step == REPLY_STEP:
            return f"Answer {head}: {touch.why}.\n"
        if touch.step == INTERESTED_STEP or not touch.message:
            return f"Call {head}: {touch.why}.\n"
        body = self._render("text", self._message(touch), "body", self.context(touch)).strip()
        return f"{touch.channel.capitalize()} {head}.\n\n{body}\n"
