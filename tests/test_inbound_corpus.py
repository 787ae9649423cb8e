"""The inbound corpus (tests/data/inbound/) is whole, well-formed and says what it claims.

Every .eml has a manifest entry and the other way round; every entry uses the
manifest's vocabulary; every message renders with DEFAULT_VALUES and parses
without a defect; bounces and complaints are structured as their kind says; and
what each message carries (our ids, our tokens, the lead's address) leads to the
``match`` the manifest gives it, by the order the matcher will use.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import string
from email.message import EmailMessage
from email.utils import getaddresses

import pytest

from inbound_corpus import CORPUS_DIR, DEFAULT_VALUES, PLACEHOLDERS, Sample, load_corpus, render

SAMPLES = load_corpus()
IDS = [s.name for s in SAMPLES]

KINDS = {"reply", "auto_reply", "bounce", "complaint", "unsubscribe", "unmatched"}
MATCHES = ("message_id", "token", "provider_id", "sender", "domain", "none")   # in matching order
BOUNCES = {"hard", "soft", "block"}
LANGUAGES = {"en", "de", "fr", "es"}
KEYS = {"description", "kind", "match", "snippet", "bounce", "status", "until", "language", "encoding"}
FIRST_DAY, LAST_DAY = dt.date(2026, 12, 7), dt.date(2026, 12, 9)


def parse(data: bytes) -> EmailMessage:
    return email.message_from_bytes(data, policy=email.policy.default)


def rendered(sample: Sample, **overrides) -> EmailMessage:
    return parse(render(sample, **{**DEFAULT_VALUES, **overrides}))


def all_parts(msg: EmailMessage):
    """Every part, including the blocks of a message/delivery-status part."""
    return list(msg.walk())


def dsn_blocks(msg: EmailMessage) -> list:
    """The header blocks of the message/delivery-status parts (per-message and per-recipient)."""
    blocks = []
    for part in msg.walk():
        if part.get_content_type() == "message/delivery-status":
            blocks.extend(part.get_payload())
    return blocks


def returned_headers(msg: EmailMessage) -> list:
    """The headers of our message as a bounce or complaint returns it (full copy or headers only)."""
    found = []
    for part in msg.walk():
        if part is msg:
            continue
        ctype = part.get_content_type()
        if ctype == "message/rfc822":
            found.append(part.get_payload()[0])
        elif ctype == "text/rfc822-headers":
            found.append(parse(part.get_content().encode("utf-8")))
    return found


def text_of(msg: EmailMessage) -> str:
    """All text/plain content, decoded (for bounces without a DSN part)."""
    return "\n".join(p.get_content() for p in msg.walk() if p.get_content_type() == "text/plain"
                     and not p.is_multipart())


def addresses(msg, *names) -> set[str]:
    values = [str(v) for name in names for v in (msg.get_all(name) or [])]
    return {addr.lower() for _, addr in getaddresses(values) if addr}


def derived_match(sample: Sample, msg: EmailMessage, v: dict = DEFAULT_VALUES) -> str:
    """The match the manifest's rules give, from what the message rendered with ``v`` carries."""
    ours = {v["our_message_id"], v["earlier_message_id"]}
    thread = " ".join(str(h) for name in ("In-Reply-To", "References") for h in (msg.get_all(name) or []))
    returned = returned_headers(msg)
    returned_ids = {str(h.get("Message-ID", "")).strip() for h in returned}
    if any(i in thread for i in ours) or ours & returned_ids:
        return "message_id"
    recipients = addresses(msg, "To", "Cc", "Delivered-To")
    if {v["reply_address"], v["unsubscribe_address"]} & recipients:
        return "token"
    if v["relay_message_id"] in thread or v["relay_message_id"] in returned_ids:
        return "provider_id"
    sender = addresses(msg, "From")
    failed = addresses(msg, "X-Failed-Recipients") if sample.expect["kind"] == "bounce" else set()
    if v["lead_email"] in sender | failed:
        return "sender"
    lead_domain = v["lead_email"].rpartition("@")[2]
    if any(a.rpartition("@")[2] == lead_domain for a in sender):
        return "domain"
    return "none"


# --- the manifest ----------------------------------------------------------------


def test_every_file_has_an_entry_and_every_entry_a_file():
    files = sorted(p.name for p in CORPUS_DIR.glob("*.eml"))
    listed = [s.name for s in SAMPLES]
    assert len(listed) == len(set(listed)), "a file is listed twice"
    assert sorted(listed) == files


def test_the_corpus_covers_every_kind_and_every_match():
    assert {s.expect["kind"] for s in SAMPLES} == KINDS
    assert {s.expect["match"] for s in SAMPLES} == set(MATCHES)


@pytest.mark.parametrize("sample", SAMPLES, ids=IDS)
def test_entry_uses_the_vocabulary(sample):
    e = sample.expect
    assert set(e) <= KEYS, f"unknown keys {set(e) - KEYS}"
    assert isinstance(e.get("description"), str) and e["description"].strip()
    assert e["kind"] in KINDS
    assert e["match"] in MATCHES
    assert (e["kind"] == "unmatched") == (e["match"] == "none")
    if e["kind"] == "reply":
        assert isinstance(e.get("snippet"), str) and len(e["snippet"].split()) >= 2
    else:
        assert "snippet" not in e
    if e["kind"] == "bounce":
        assert e.get("bounce") in BOUNCES
        parts = str(e.get("status", "")).split(".")
        assert isinstance(e.get("status"), str) and len(parts) == 3 and all(p.isdigit() for p in parts)
        assert parts[0] in ("4", "5")
        assert (parts[0] == "4") <= (e["bounce"] == "soft"), "a 4.x.x status is a soft bounce"
    else:
        assert "bounce" not in e and "status" not in e
    if "until" in e:
        assert e["kind"] == "auto_reply"
        assert isinstance(e["until"], dt.date) and e["until"] > LAST_DAY
    if "language" in e:
        assert e["language"] in LANGUAGES
    if "encoding" in e:
        assert e["encoding"] == "8bit"


# --- the templates -----------------------------------------------------------------


def test_default_ids_have_the_project_shapes():
    from outreach.mime import message_id
    from relead.history import touch_id

    import inbound_corpus

    touch = inbound_corpus.touch_id("jane-doe-acme", "hot-reactivation", "2026-11-24", 3)
    assert touch == touch_id("jane-doe-acme", "hot-reactivation", "2026-11-24", 3)
    assert len(touch) == 20 and int(touch, 16) >= 0
    assert DEFAULT_VALUES["our_message_id"] == message_id(touch, DEFAULT_VALUES["our_address"])
    assert touch in DEFAULT_VALUES["reply_address"] and touch in DEFAULT_VALUES["unsubscribe_address"]
    assert DEFAULT_VALUES["unsubscribe_subject"] == f"unsubscribe {touch}"


def test_default_values_cover_every_placeholder():
    assert set(DEFAULT_VALUES) == set(PLACEHOLDERS)
    assert all(v.isascii() and v for v in DEFAULT_VALUES.values())
    used = set()
    for sample in SAMPLES:
        used |= set(string.Template(sample.template).get_identifiers())
    assert used == set(PLACEHOLDERS), "placeholders unused or unknown"


@pytest.mark.parametrize("sample", SAMPLES, ids=IDS)
def test_template_uses_only_known_placeholders_and_its_encoding(sample):
    assert string.Template(sample.template).is_valid()
    assert set(string.Template(sample.template).get_identifiers()) <= set(PLACEHOLDERS)
    assert "\r" not in sample.template, "the files have LF line ends"
    if sample.eight_bit:
        assert not sample.template.isascii()
        assert "Content-Transfer-Encoding: 8bit" in sample.template
    else:
        assert sample.template.isascii(), "7bit files encode their non-ASCII text (QP, base64, RFC 2047)"


@pytest.mark.parametrize("sample", SAMPLES, ids=IDS)
def test_a_missing_value_is_an_error(sample):
    used = sorted(string.Template(sample.template).get_identifiers())
    assert used
    values = dict(DEFAULT_VALUES)
    del values[used[0]]
    with pytest.raises(KeyError):
        render(sample, **values)


@pytest.mark.parametrize("sample", SAMPLES, ids=IDS)
def test_renders_with_crlf_and_every_value_in_place(sample):
    data = render(sample, **DEFAULT_VALUES)
    assert b"${" not in data
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert data.endswith(b"\r\n")
    assert b"\r\n\r\n" in data, "headers, a blank line, a body"
    assert data.split(b"\r\n\r\n", 1)[0].isascii(), "header fields are ASCII"


# --- the messages ------------------------------------------------------------------


@pytest.mark.parametrize("sample", SAMPLES, ids=IDS)
def test_parses_without_defects(sample):
    msg = rendered(sample)
    problems = []
    for part in all_parts(msg):
        problems += [f"{part.get_content_type()}: {d!r}" for d in part.defects]
        for name, value in part.items():
            problems += [f"{name}: {d!r}" for d in getattr(value, "defects", ())]
    assert not problems


@pytest.mark.parametrize("sample", SAMPLES, ids=IDS)
def test_has_from_date_and_message_id(sample):
    msg = rendered(sample)
    assert addresses(msg, "From"), "no From address"
    date = msg["Date"].datetime
    assert date.tzinfo is not None
    assert FIRST_DAY <= date.astimezone(dt.timezone.utc).date() <= LAST_DAY
    mid = str(msg["Message-ID"]).strip()
    assert mid.startswith("<") and mid.endswith(">") and "@" in mid


def test_message_ids_are_unique():
    ids = [str(rendered(s)["Message-ID"]).strip() for s in SAMPLES]
    ours = {DEFAULT_VALUES[k] for k in ("our_message_id", "earlier_message_id", "relay_message_id")}
    assert len(ids) == len(set(ids))
    assert not ours & set(ids)


@pytest.mark.parametrize("sample", SAMPLES, ids=IDS)
def test_what_it_carries_gives_the_manifest_match(sample):
    msg = rendered(sample)
    assert derived_match(sample, msg) == sample.expect["match"]


@pytest.mark.parametrize("sample", SAMPLES, ids=IDS)
def test_other_values_land_where_the_placeholders_are(sample):
    other = {**DEFAULT_VALUES, "lead_email": "r.ng@globex.example", "colleague_email": "a.ito@globex.example",
             "our_message_id": "<0123456789abcdef0123.relead@northwind.example>"}
    msg = parse(render(sample, **other))
    if derived_match(sample, msg, other) != sample.expect["match"]:
        pytest.fail("the match depends on the default values, not on the placeholders")


@pytest.mark.parametrize("sample", [s for s in SAMPLES if s.expect["kind"] == "reply"],
                         ids=[s.name for s in SAMPLES if s.expect["kind"] == "reply"])
def test_reply_text_starts_with_the_snippet(sample):
    body = rendered(sample).get_body(("plain",))
    assert body is not None
    assert body.get_content().lstrip().startswith(sample.expect["snippet"])


@pytest.mark.parametrize("sample", [s for s in SAMPLES if "until" in s.expect],
                         ids=[s.name for s in SAMPLES if "until" in s.expect])
def test_auto_reply_text_gives_the_return_day(sample):
    text = rendered(sample).get_body(("plain",)).get_content()
    assert str(sample.expect["until"].day) in text


# --- bounces and complaints ---------------------------------------------------------

BOUNCE_SAMPLES = [s for s in SAMPLES if s.expect["kind"] == "bounce"]


@pytest.mark.parametrize("sample", BOUNCE_SAMPLES, ids=[s.name for s in BOUNCE_SAMPLES])
def test_bounce_is_structured_as_its_kind_says(sample):
    msg = rendered(sample)
    status = sample.expect["status"]
    if msg.get_content_type() == "multipart/report":
        assert msg.get_param("report-type") == "delivery-status"
        recipients = [b for b in dsn_blocks(msg) if b.get("Final-Recipient")]
        assert recipients, "no per-recipient block"
        assert [str(b["Status"]).strip() for b in recipients] == [status]
        action = str(recipients[0]["Action"]).strip()
        assert action == ("delayed" if status.startswith("4.") else "failed")
        assert DEFAULT_VALUES["lead_email"] in str(recipients[0]["Final-Recipient"])
    else:
        # A bounce without a DSN part names the failed recipient the Exim way.
        assert addresses(msg, "X-Failed-Recipients") == {DEFAULT_VALUES["lead_email"]}
        assert status in text_of(msg)
    if "mailer-daemon@googlemail.com" in addresses(msg, "From") and status.startswith("5."):
        # Gmail names a failed recipient (a delay has none yet) and says why in words.
        assert addresses(msg, "X-Failed-Recipients") == {DEFAULT_VALUES["lead_email"]}
        assert "Address not found" in text_of(msg)


def test_the_corpus_has_a_dsn_for_each_required_status():
    statuses = {s.expect["status"] for s in BOUNCE_SAMPLES}
    assert {"5.1.1", "5.2.2", "4.4.1", "5.7.1"} <= statuses
    gmail = [s for s in BOUNCE_SAMPLES
             if "mailer-daemon@googlemail.com" in addresses(rendered(s), "From")
             and s.expect["status"] == "5.1.1"]
    assert gmail, "a Gmail 'Address not found' bounce"


@pytest.mark.parametrize("sample", [s for s in SAMPLES if s.expect["kind"] == "complaint"],
                         ids=[s.name for s in SAMPLES if s.expect["kind"] == "complaint"])
def test_complaint_is_an_arf_report(sample):
    msg = rendered(sample)
    assert msg.get_content_type() == "multipart/report"
    assert msg.get_param("report-type") == "feedback-report"
    reports = [p for p in msg.walk() if p.get_content_type() == "message/feedback-report"]
    assert len(reports) == 1
    fields = reports[0].get_payload()[0]
    assert str(fields["Feedback-Type"]).strip() == "abuse"
    assert returned_headers(msg), "the original (message/rfc822 or text/rfc822-headers)"


@pytest.mark.parametrize("sample", [s for s in SAMPLES if s.expect["kind"] == "auto_reply"],
                         ids=[s.name for s in SAMPLES if s.expect["kind"] == "auto_reply"])
def test_auto_reply_is_not_a_dsn_or_a_list_mail(sample):
    msg = rendered(sample)
    assert msg.get_content_type() != "multipart/report"
    assert msg["List-Id"] is None and msg["List-Unsubscribe"] is None
