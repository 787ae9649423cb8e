"""Real-shaped inbound mail for the reply-reading tests: tests/data/inbound/.

Each ``*.eml`` there is one message as the sender's software writes it (header
order and spelling, MIME structure, charsets, quoted-printable and base64 where
real clients use them, quoting styles, signatures), with ``string.Template``
placeholders for the addresses and ids that depend on the test:

=======================  ====================================================
``lead_email``           the lead we wrote to (``lead_name``, ``lead_first_name``)
``colleague_email``      someone else at the lead's company (``colleague_name``)
``our_address``          who our email came From (``our_name``)
``reply_address``        our Reply-To: a plus address carrying our token
``unsubscribe_address``  the List-Unsubscribe mailto address (token inside)
``unsubscribe_subject``  the subject that mailto asks for
``our_message_id``       the Message-ID of our email, with angle brackets
``earlier_message_id``   an earlier email of ours in the same thread
``relay_message_id``     the Message-ID a relay (Amazon SES) gave our email instead
``our_subject``          the subject of our email
=======================  ====================================================

The files have LF line ends; :func:`render` fills the placeholders
(``Template.substitute``: a missing value is an error), turns LF into CRLF and
encodes the message as it travels: ASCII, except the files the manifest marks
``encoding: 8bit`` (a client that sends UTF-8 bodies unencoded), which are
UTF-8. Values must be ASCII (they land in headers and in quoted-printable text).

``manifest.yaml`` says what each message must come out as: ``kind``, ``match``
and, by kind, ``snippet``, ``bounce``/``status``, ``until``, ``language``.
"""

from __future__ import annotations

import hashlib
import string
from dataclasses import dataclass
from pathlib import Path

import yaml

__all__ = ["CORPUS_DIR", "DEFAULT_VALUES", "PLACEHOLDERS", "Sample", "load_corpus", "render"]

CORPUS_DIR = Path(__file__).resolve().parent / "data" / "inbound"

PLACEHOLDERS = ("lead_email", "lead_name", "lead_first_name", "colleague_email", "colleague_name",
                "our_address", "our_name", "reply_address", "unsubscribe_address", "unsubscribe_subject",
                "our_message_id", "earlier_message_id", "relay_message_id", "our_subject")



def touch_id(lead: str, campaign: str, enrolment: str, step: int) -> str:
    """relead.history.touch_id, restated so that loading the corpus imports nothing of the
    project (tests/test_inbound_corpus.py checks the two agree)."""
    raw = f"{lead}\x1f{campaign}\x1f{enrolment}\x1f{step}".encode()
    return hashlib.blake2b(raw, digest_size=10).hexdigest()


def message_id(touch: str, sender_email: str) -> str:
    """outreach.mime.message_id, restated likewise."""
    return f"<{touch}.relead@{sender_email.rpartition('@')[2]}>"


# The touch our email was (step 3 of the hot campaign, content/messages/hot/new-value.md)
# and the one before it in the thread (step 0, hot/remind.md): 20 hex characters each.
_TOUCH = touch_id("jane-doe-acme", "hot-reactivation", "2026-11-24", 3)
_EARLIER = touch_id("jane-doe-acme", "hot-reactivation", "2026-11-24", 0)

DEFAULT_VALUES: dict[str, str] = {
    "lead_email": "jane.doe@acme.example",
    "lead_name": "Jane Doe",
    "lead_first_name": "Jane",
    "colleague_email": "tom.becker@acme.example",
    "colleague_name": "Tom Becker",
    "our_address": "priya@northwind.example",
    "our_name": "Priya Natarajan",
    "reply_address": f"priya+r-{_TOUCH}@northwind.example",
    "unsubscribe_address": f"unsubscribe+{_TOUCH}@northwind.example",
    "unsubscribe_subject": f"unsubscribe {_TOUCH}",
    "our_message_id": message_id(_TOUCH, "priya@northwind.example"),
    "earlier_message_id": message_id(_EARLIER, "priya@northwind.example"),
    # Amazon SES's own id for the same email: <16 hex>-<uuid>-000000@email.amazonses.com
    "relay_message_id": "<010001939204a7c5-5b8e1d4c-7a2f-4e6b-9c3d-1f0a8e7b6c5d-000000@email.amazonses.com>",
    "our_subject": "38% fewer mis-picks in 10 weeks, and your audit offer",
}


@dataclass(frozen=True)
class Sample:
    """One inbound message: its file name, what it must come out as, and its template text."""

    name: str
    expect: dict
    template: str

    @property
    def eight_bit(self) -> bool:
        return self.expect.get("encoding") == "8bit"


def load_corpus(directory: Path = CORPUS_DIR) -> list[Sample]:
    """Every manifest entry with its file's text, in manifest order."""
    directory = Path(directory)
    entries = yaml.safe_load((directory / "manifest.yaml").read_text(encoding="utf-8"))
    samples = []
    for entry in entries:
        name = entry["file"]
        expect = {k: v for k, v in entry.items() if k != "file"}
        text = (directory / name).read_bytes().decode("utf-8")
        samples.append(Sample(name, expect, text))
    return samples


def render(sample: Sample, **values: str) -> bytes:
    """The message as it arrives: placeholders filled, CRLF line ends, wire encoding."""
    text = string.Template(sample.template).substitute(values)
    text = text.replace("\r\n", "\n").replace("\n", "\r\n")
    return text.encode("utf-8" if sample.eight_bit else "ascii")
