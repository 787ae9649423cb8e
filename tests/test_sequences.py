"""Sequences as one person writes them: the owner sends, follow-ups answer in the first email's thread."""

from __future__ import annotations

import datetime as dt
import re

from outreach.cli import main
from relead.check import check_repository
from tests.outreach_helpers import lead_yaml, outreach_repo, settings_text
from tests.smtp_server import SmtpServer

THREE_EMAILS = """\
name: Three emails
hook: A free scanner audit
audience: {status: [lost]}
priority: 100
max_new_per_day: 1000
steps:
  - {day: 0, channel: email, message: hot/remind}
  - {day: 1, channel: email, message: follow-up}
  - {day: 2, channel: email, message: breakup}
"""
FOLLOW_UP = "---\n---\nHi {{ lead.first_name or 'there' }}, one more thought on {{ campaign.hook | lower }}.\n\n" \
            "{{ owner.name }}\n"


def _send(root, smtp, day, monkeypatch):
    for key, value in dict(SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp.port), SMTP_SECURITY="none",
                           EMAIL_PER_SECOND="0").items():
        monkeypatch.setenv(key, value)
    assert main(["send", "--root", str(root), "--today", day, "--now", f"{day}T10:00:00-06:00", "--no-commit"]) == 0


def test_the_owner_sends_and_follow_ups_answer_in_the_first_emails_thread(make_repo, monkeypatch):
    for key in ("TWILIO_ACCOUNT_SID", "IMAP_HOST", "SMTP_USERNAME"):
        monkeypatch.delenv(key, raising=False)
    leads = "leads:\n" + lead_yaml(1, name="Jane Doe", owner="sam") + lead_yaml(2, name="Omar Ali", owner=None)
    root = outreach_repo(make_repo, leads, campaign=THREE_EMAILS,
                         files={"content/messages/follow-up.md": FOLLOW_UP})
    with SmtpServer() as smtp:
        for day in ("2026-11-23", "2026-11-24", "2026-11-25"):
            _send(root, smtp, day, monkeypatch)
        received = [(env_from, msg) for (env_from, _r, _d), msg in zip(smtp.messages, smtp.parsed())]
    jane = [(env, m) for env, m in received if m["To"].addresses[0].display_name == "Jane Doe"]
    omar = [m for _env, m in received if m["To"].addresses[0].display_name == "Omar Ali"]
    assert len(jane) == 3 and len(omar) == 3
    first, second, third = (m for _env, m in jane)
    # Sam writes (From, Reply-To carrying the touch, signature); the envelope stays the team's, for bounces.
    assert all(env == "hello@northwind.example" for env, _m in jane)
    assert str(first["From"]) == "Sam Carter <sam@northwind.example>"
    assert re.fullmatch(r"sam\+r-[0-9a-f]{20}@northwind\.example", first["Reply-To"].addresses[0].addr_spec)
    # The follow-up without a subject of its own answers in the thread; the break-up has its own subject.
    assert second["Subject"] == f"Re: {first['Subject']}"
    assert second["In-Reply-To"] == first["Message-ID"] and second["References"] == first["Message-ID"]
    assert third["Subject"] != second["Subject"] and not third["Subject"].startswith("Re:")
    assert third["In-Reply-To"] == second["Message-ID"]
    assert third["References"].split() == [first["Message-ID"], second["Message-ID"]]
    assert first["In-Reply-To"] is None and first["References"] is None
    # Omar has no owner: the default owner (the example's settings: Priya) writes to him.
    assert all(str(m["From"]) == "Priya Natarajan <priya@northwind.example>" for m in omar)
    assert "Priya Natarajan" in omar[1].get_body(("plain",)).get_content()


def test_a_campaign_from_the_team_and_a_lead_nobody_owns(make_repo, monkeypatch):
    for key in ("TWILIO_ACCOUNT_SID", "IMAP_HOST", "SMTP_USERNAME"):
        monkeypatch.delenv(key, raising=False)
    settings = settings_text().replace("default_owner: priya\n", "")
    leads = "leads:\n" + lead_yaml(1, owner="sam") + lead_yaml(2, owner=None)
    root = outreach_repo(make_repo, leads, campaign=THREE_EMAILS.replace("priority: 100", "priority: 100\nfrom: team"),
                         settings=settings, files={"content/messages/follow-up.md": FOLLOW_UP})
    warnings = [p.format() for p in check_repository(root, today=dt.date(2026, 11, 23)).warnings]
    assert any("lead-0002: has no owner: its email would come from Northwind Scanning" in w for w in warnings)
    assert not any("lead-0001: has no owner" in w for w in warnings)
    with SmtpServer() as smtp:
        _send(root, smtp, "2026-11-23", monkeypatch)
        froms = {str(m["From"]) for m in smtp.parsed()}
        replies = {m["Reply-To"].addresses[0].addr_spec.split("+")[0] for m in smtp.parsed()}
    assert froms == {"Northwind Scanning <hello@northwind.example>"} and replies == {"sales"}


def test_replies_to_the_owners_are_read_from_their_mailboxes(make_repo, imap, monkeypatch, capsys):
    """Email goes out as Sam, so Jane's answer lands in Sam's mailbox: IMAP_ACCOUNTS reads it too."""
    from outreach.config import config_from_env
    from tests.inbound_corpus import DEFAULT_VALUES, load_corpus, render
    for key in ("TWILIO_ACCOUNT_SID", "IMAP_HOST", "SMTP_HOST", "EMAIL_TRANSPORT"):
        monkeypatch.delenv(key, raising=False)
    root = outreach_repo(make_repo, "leads:\n" + lead_yaml(1, name="Jane Doe", email="jane@acme.example",
                                                           owner="sam"), campaign=THREE_EMAILS,
                         files={"content/messages/follow-up.md": FOLLOW_UP})
    assert main(["send", "--root", str(root), "--today", "2026-11-23", "--now", "2026-11-23T10:00:00-06:00",
                 "--no-commit"]) == 0
    sent = next((root / "outbox" / "2026-11-23" / "email").glob("*.eml")).read_bytes().decode("ascii")
    mid = re.search(r"^Message-ID: (\S+)", sent, re.M).group(1)
    reply_to = re.search(r"^Reply-To: .*<(\S+)>", sent, re.M).group(1)
    assert reply_to.startswith("sam+r-")
    imap.add_user("sam@northwind.example", "sams-app-password")
    gmail = next(s for s in load_corpus() if s.name == "reply-gmail.eml")
    imap.append(render(gmail, **{**DEFAULT_VALUES, "lead_email": "jane@acme.example", "our_message_id": mid,
                                 "reply_address": reply_to, "our_address": "sam@northwind.example"}),
                user="sam@northwind.example")
    env = {**imap.env("none"), "ALLOW_PLAINTEXT_AUTH": "1", "IMAP_ACCOUNTS": "sam",
           "IMAP_USERNAME_SAM": "sam@northwind.example", "IMAP_PASSWORD_SAM": "sams-app-password"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert [a.username for a in config_from_env(root=root).imap] == [imap.user, "sam@northwind.example"]
    assert main(["sync", "--root", str(root), "--today", "2026-11-24", "--now", "2026-11-24T08:00:00-06:00",
                 "--no-commit"]) == 0
    out = capsys.readouterr().out
    assert "sync 2026-11-24: 1 reply, 0 unmatched" in out and "IMAP sam@northwind.example at" in out
