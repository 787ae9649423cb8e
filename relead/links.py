"""Which links a page or an email may carry: the one rule both the dashboard and outreach use.

A link is judged as a browser reads it: HTML entities decoded first (``&#106;avascript:``,
``javascript&colon;``), then the control characters and white space a browser drops from a
URL. Only http, https, mailto and tel links, and relative ones, are let through; anything else
(``javascript:``, ``data:``, ``vbscript:``, ``file:``...) is not a link.
"""

from __future__ import annotations

import html
import re

__all__ = ["SAFE_SCHEMES", "safe_link", "safe_html_links"]

SAFE_SCHEMES = ("http", "https", "mailto", "tel")

# What a browser ignores inside a URL's scheme: C0 controls, space, DEL, C1 controls, and the
# invisible characters that paste along (soft hyphen, zero-width, BOM, line separators).
_IGNORED = re.compile("[\x00-\x20\x7f-\x9f\u00ad\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]")
_EDGES = "\x00\x01\x02\x03\x04\x05\x06\x07\x08\t\n\x0b\x0c\r\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17" \
         "\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f "
_SCHEME = re.compile(r"([^/?#]*?):")


def safe_link(raw: str, *, schemes: tuple[str, ...] = SAFE_SCHEMES) -> str | None:
    """``raw`` (an href or src as written, entities and all) as the browser would follow it, when
    it is relative or its scheme is one of ``schemes``; None when it is not a link to keep."""
    text = raw
    for _ in range(4):              # `&amp;#106;` decodes twice; more than a few is not a URL
        decoded = html.unescape(text)
        if decoded == text:
            break
        text = decoded
    else:
        return None
    judged = _IGNORED.sub("", text)
    m = _SCHEME.match(judged)
    if m is not None and m.group(1).lower() not in schemes:
        return None                 # a scheme not allowed, or something that only looks like none
    # What the browser follows: tabs and line breaks removed, controls and spaces at the ends dropped.
    return re.sub("[\t\n\r]", "", text).strip(_EDGES)


_ATTRIBUTE = re.compile(
    r"""(?P<pre>\s)(?P<name>href|src|srcset|srcdoc|data|action|formaction|xlink:href|poster|background|"""
    r"""cite|longdesc|ping|codebase|archive|dynsrc|lowsrc|manifest|usemap)\s*=\s*"""
    r"""(?P<value>"[^"]*"|'[^']*'|[^\s"'=<>`]+)""", re.IGNORECASE)
_TAG = re.compile(r"""<[a-zA-Z](?:[^>"']|"[^"]*"|'[^']*')*>""")     # a quoted value may hold a ">"


def safe_html_links(text: str, *, schemes: tuple[str, ...] = SAFE_SCHEMES) -> str:
    """HTML with every link attribute (href, src...) that :func:`safe_link` refuses taken out, in
    Markdown's links and in any HTML the text holds; the rest of the text as it was."""

    def attribute(m: re.Match) -> str:
        if m.group("name").lower() == "srcdoc":
            return ""               # a whole document, not a link: never kept
        value = m.group("value")
        if value[:1] in "\"'":
            value = value[1:-1]
        return m.group(0) if safe_link(value, schemes=schemes) is not None else ""

    return _TAG.sub(lambda tag: _ATTRIBUTE.sub(attribute, tag.group(0)), text)
