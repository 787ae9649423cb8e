"""`make sync`: what comes back is classified, matched and recorded, and sequences react by themselves.

Against real servers: the mailbox is Debian's Dovecot on 127.0.0.1 (tests/imap_server.py),
fed with the real-shaped messages of tests/data/inbound/; the texts come from the local
Twilio endpoint's message list; day 0 goes out over SMTP to aiosmtpd.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import os
import re
from collections import Counter

import pytest

from outreach.cli import main
from outreach.config import config_from_env
from outreach.sync.mail import UnsubscribeBox, parse_mail, read_mail, return_date
from outreach.sync.match import Touches
from outreach.sync.sms import keyword
from relead.check import check_repository
from relead.history import HEADER, Record
from tests.inbound_corpus import DEFAULT_VALUES, load_corpus, render, touch_id
from tests.outreach_helpers import (git, history_events, lead_yaml, outreach_repo, remote_and_clones,
                                    settings_text)
from tests.smtp_server import CA, SmtpServer
from tests.twilio_server import TwilioServer

SAMPLES = load_corpus()
DAY0 = "2026-12-07"                         # a Monday
# The business days after the first week's syncs, through 2026-12-22, when the end-to-end tests send.
BUSINESS_DAYS_AFTER = ("2026-12-09", "2026-12-10", "2026-12-11", "2026-12-14", "2026-12-15", "2026-12-16",
                       "2026-12-17", "2026-12-18", "2026-12-21", "2026-12-22")


# -- the corpus, message by message ---------------------------------------------------------------

def corpus_repo(make_repo):
    """The corpus' lead (Jane Doe at acme.example) with the two touches its messages answer."""
    touch, earlier = touch_id("jane-doe-acme", "hot-reactivation", "2026-11-24", 3), \
        touch_id("jane-doe-acme", "hot-reactivation", "2026-11-24", 0)
    relay = DEFAULT_VALUES["relay_message_id"].strip("<>").split("@")[0]
    rows = [Record("2026-11-24", "2026-11-24T16:00:00+00:00", "enrolled", "jane-doe-acme", "hot-reactivation",
                   "2026-11-24", variant="a")]
    for step, tid, day in ((0, earlier, "2026-11-24"), (3, touch, DAY0)):
        for event, ref, note in (("attempting", "", ""), ("sent", f"<{tid}.relead@northwind.example>",
                                                          f"relay {relay}" if step == 3 else "")):
            rows.append(Record(day, f"{day}T16:02:37+00:00", event, "jane-doe-acme", "hot-reactivation",
                               "2026-11-24", str(step), "email", "a", tid, ref, note))
    leads = "leads:\n" + lead_yaml(1, id="jane-doe-acme", name="Jane Doe", company="Acme Corp",
                                   email="jane.doe@acme.example")
    history = {}
    for day in ("2026-11-24", DAY0):
        history[f"{day[:4]}/{day[5:7]}/{day}.outreach.tsv"] = HEADER + "".join(r.line() for r in rows if r.day == day)
    root = make_repo(leads, history=history)
    checked = check_repository(root, today=dt.date(2026, 12, 9))
    assert not checked.errors, [p.format() for p in checked.errors]
    return checked.derived.model


OWN_BOX = UnsubscribeBox("unsubscribe@northwind.example")
# No unsubscribe_email of its own: the mailto goes to the From address, where replies go too.
SHARED_BOX = UnsubscribeBox(DEFAULT_VALUES["our_address"], own=False)
SHARED_VALUES = {**DEFAULT_VALUES, "unsubscribe_address": DEFAULT_VALUES["reply_address"].replace("+r-", "+")}


def classify(model, sample, box=OWN_BOX, values=DEFAULT_VALUES):
    """(reading, match) of one corpus message, as a sync makes them."""
    mail = parse_mail(render(sample, **values))
    reading = read_mail(mail, unsubscribe=box)
    bounce_like = reading.kind in ("bounce", "complaint")
    sender = reading.address if bounce_like and reading.address else mail.sender
    match = Touches(model).mail(ids=mail.thread_ids + reading.returned_ids, recipients=mail.recipients,
                                sender=sender, subject=mail.subject, domain_too=not bounce_like)
    return reading, match


@pytest.mark.parametrize("box, values", [(OWN_BOX, DEFAULT_VALUES), (SHARED_BOX, SHARED_VALUES)],
                         ids=["own-unsubscribe-box", "unsubscribe-box-is-the-from-address"])
@pytest.mark.parametrize("sample", SAMPLES, ids=[s.name for s in SAMPLES])
def test_each_message_is_classified_and_matched_as_the_manifest_says(make_repo, sample, box, values):
    model = corpus_repo(make_repo)
    reading, match = classify(model, sample, box, values)
    expect = sample.expect
    if expect["kind"] == "unmatched":
        assert match is None, (reading.kind, match)
        return
    assert reading.kind == expect["kind"]
    assert match is not None and match.how == expect["match"] and match.lead == "jane-doe-acme"
    if expect["kind"] == "bounce":
        assert (reading.bounce, reading.status) == (expect["bounce"], str(expect["status"]))
        assert reading.address == DEFAULT_VALUES["lead_email"]
    if expect["kind"] == "auto_reply":
        assert reading.back == expect.get("until")
    if expect["kind"] == "reply":
        assert reading.text.startswith(expect["snippet"])
        assert ">" not in reading.text.splitlines()[0] and "wrote:" not in reading.text
    if expect["match"] == "domain":
        assert match.colleague == DEFAULT_VALUES["colleague_email"]


@pytest.mark.parametrize("name", ["unsubscribe-gmail-mailto.eml", "reply-outlook-token.eml", "reply-gmail.eml",
                                  "ooo-en-gb-subject-only-until.eml"])
def test_without_plus_addresses_the_mailto_subject_alone_says_unsubscribe(make_repo, name):
    # plus_addressing: false and no unsubscribe_email: the mailto, the Reply-To and the From are one
    # address; the subject the mailto asks for ("unsubscribe <touch>") tells an unsubscribe apart.
    model = corpus_repo(make_repo)
    ours = DEFAULT_VALUES["our_address"]
    values = {**DEFAULT_VALUES, "unsubscribe_address": ours, "reply_address": ours}
    reading, match = classify(model, _sample(name), UnsubscribeBox(ours, own=False), values)
    kind = _sample(name).expect["kind"]
    assert reading.kind == kind
    if kind == "unsubscribe":
        assert match.how == "token" and match.touch.touch in DEFAULT_VALUES["unsubscribe_subject"]
    else:
        assert match is not None and match.lead == "jane-doe-acme"


def test_the_corpus_covers_every_kind_and_rule():
    kinds = Counter(s.expect["kind"] for s in SAMPLES)
    rules = Counter(s.expect["match"] for s in SAMPLES)
    assert set(kinds) == {"reply", "auto_reply", "bounce", "complaint", "unsubscribe", "unmatched"}
    assert set(rules) == {"message_id", "token", "provider_id", "sender", "domain", "none"}
    languages = {s.expect.get("language") for s in SAMPLES if s.expect["kind"] == "auto_reply"}
    assert {"en", "de", "fr", "es"} <= languages


@pytest.mark.parametrize("text, day, expected", [
    ("I am out of the office until Friday, December 11 and back on Monday, December 14.", "2026-12-07",
     "2026-12-14"),
    ("Ich bin bis einschließlich 11.12. nicht im Büro, ab dem 14.12.2026 wieder erreichbar.", "2026-12-07",
     "2026-12-14"),
    ("Je serai de retour le lundi 14 décembre 2026.", "2026-12-07", "2026-12-14"),
    ("Estaré fuera hasta el 14 de diciembre de 2026.", "2026-12-07", "2026-12-14"),
    ("Back on the 5th of January", "2026-12-21", None),          # no month after the day: not a date
    ("Back January 5", "2026-12-21", "2027-01-05"),               # no year: the next January 5
    ("Back 12/14/2026 (US style)", "2026-12-07", "2026-12-14"),
    ("I am away and will answer when I am back.", "2026-12-07", None),
    ("Last seen 03.11.2026, back 2027-09-01", "2026-12-07", None),  # one in the past, one too far ahead
])
def test_return_dates_in_four_languages(text, day, expected):
    got = return_date(text, dt.date.fromisoformat(day))
    assert got == (dt.date.fromisoformat(expected) if expected else None)


@pytest.mark.parametrize("body, kind", [
    ("STOP", "stop"), ("  stop ", "stop"), ("Stop please", "stop"), ("stopall", "stop"), ("UNSUBSCRIBE", "stop"),
    ("Cancel.", "stop"), ("end", "stop"), ("QUIT", "stop"), ("revoke", "stop"), ("OptOut", "stop"),
    ("START", "start"), ("unstop", "start"), ("Yes", "start"), ("yes!", "start"),
    ("Yes, call me tomorrow", "reply"), ("HELP", "help"), ("help me choose a scanner", "reply"),
    ("Sounds good, Thursday works", "reply"), ("", "reply"),
])
def test_sms_keywords(body, kind):
    assert keyword(body) == kind


# -- end to end: send, answer, sync, plan on ------------------------------------------------------

CAMPAIGN = """\
name: Win back
hook: A free scanner audit
audience: {status: [lost]}
priority: 100
max_new_per_day: 1000
steps:
  - {day: 0, channel: email, message: hot/remind}
  - {day: 2, channel: sms, message: hot/sms-nudge}
  - {day: 4, channel: email, message: hot/new-value}
  - {day: 6, channel: call, message: hot/call-script}
"""
LEADS = {
    "reply": "jane", "ooo": "olaf", "hard": "hana", "soft": "sam", "unsub": "uma", "complaint": "carl",
    "colleague": "cora", "stop": "stella", "start": "stan", "sms-reply": "sean", "quiet": "quinn",
}


def e2e_repo(make_repo):
    leads = "leads:\n" + "".join(
        lead_yaml(i, id=f"{who}-lead", name=f"{who.capitalize()} Lead", company=f"{who.capitalize()} Co",
                  email=f"{who}@{who}co.example", phone=f'"+1 312 555 {1000 + i:04d}"',
                  consent="{email: true, sms: true}")
        for i, who in enumerate(LEADS.values(), 1))
    return outreach_repo(make_repo, leads, campaign=CAMPAIGN, git=True)


def _env(monkeypatch, *sources: dict[str, str]) -> None:
    for key in list(os.environ):
        if key.startswith(("SMTP_", "TWILIO_", "IMAP_", "EMAIL_", "SMS_")):
            monkeypatch.delenv(key, raising=False)
    for source in sources:
        for key, value in source.items():
            monkeypatch.setenv(key, value)
    monkeypatch.setenv("EMAIL_PER_SECOND", "0")
    monkeypatch.setenv("SMS_PER_SECOND", "0")


def _sent_by_lead(server: SmtpServer) -> dict[str, email.message.EmailMessage]:
    out = {}
    for msg in server.parsed():
        out[msg["To"].addresses[0].addr_spec.split("@")[0]] = msg
    return out


def _values(msg, who: str) -> dict[str, str]:
    """The corpus placeholders for the email we sent to ``who``."""
    unsub = re.search(r"<mailto:([^?>]+)\?subject=([^>]+)>", msg["List-Unsubscribe"])
    return {**DEFAULT_VALUES, "lead_email": f"{who}@{who}co.example", "lead_name": f"{who.capitalize()} Lead",
            "lead_first_name": who.capitalize(), "colleague_email": f"boss@{who}co.example",
            "colleague_name": "The Boss", "our_address": msg["From"].addresses[0].addr_spec,
            "reply_address": msg["Reply-To"].addresses[0].addr_spec, "unsubscribe_address": unsub.group(1),
            "unsubscribe_subject": unsub.group(2).replace("%20", " "), "our_message_id": msg["Message-ID"],
            "earlier_message_id": msg["Message-ID"], "our_subject": str(msg["Subject"])}


def sync_rows(root) -> list[list[str]]:
    """Every record sync wrote (its own files), as columns."""
    return [line.split("\t") for path in sorted((root / "history").rglob("*.sync.tsv"))
            for line in path.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")]


def _sample(name: str):
    return next(s for s in SAMPLES if s.name == name)


def _run(root, day: str, now: str, *extra: str) -> int:
    return main(["send", "--root", str(root), "--today", day, "--now", now, *extra])


def test_replies_bounces_opt_outs_come_back_and_the_sequences_react(make_repo, imap, monkeypatch, capsys):
    root = e2e_repo(make_repo)
    with SmtpServer() as smtp, TwilioServer() as twilio:
        _env(monkeypatch, {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp.port), "SMTP_SECURITY": "none"})
        assert _run(root, DAY0, "2026-12-07T10:00:00-06:00") == 0
        sent = _sent_by_lead(smtp)
        assert len(sent) == len(LEADS)

        # What comes back overnight: mail into the mailbox, texts into Twilio's list.
        dropped = {"reply": "reply-gmail.eml", "ooo": "ooo-en-exchange-until.eml", "hard": "bounce-postfix-511.eml",
                   "soft": "bounce-mailbox-full-522.eml", "unsub": "unsubscribe-gmail-mailto.eml",
                   "complaint": "complaint-arf-yahoo.eml", "colleague": "reply-colleague-domain.eml"}
        for role, name in dropped.items():
            who = LEADS[role]
            imap.append(render(_sample(name), **_values(sent[who], who)))
        for name in ("unmatched-newsletter.eml", "unmatched-stranger-gmail.eml"):
            imap.append(render(_sample(name), **DEFAULT_VALUES))
        at = dt.datetime(2026, 12, 8, 14, 0, tzinfo=dt.timezone.utc)
        number = {who: f"+1312555{1000 + i:04d}" for i, who in enumerate(LEADS.values(), 1)}
        twilio.inbound(number["stella"], "Stop please", date_sent=at)
        twilio.inbound(number["stan"], "STOP", date_sent=at)
        twilio.inbound(number["stan"], "start", date_sent=at + dt.timedelta(minutes=5))
        twilio.inbound(number["sean"], "Yes, call me tomorrow after 10", date_sent=at)
        twilio.inbound("+13125559999", "who is this?", date_sent=at)
        before = imap.snapshot()

        _env(monkeypatch, imap.env("tls"), twilio.env(), {"SSL_CERT_FILE": str(CA)})
        assert main(["sync", "--root", str(root), "--today", "2026-12-08",
                     "--now", "2026-12-08T08:00:00-06:00"]) == 0
        out = capsys.readouterr().out
        assert ("sync 2026-12-08: 3 replies, 1 out of office, 2 bounces (1 hard), 1 complaint, 1 unsubscribe, "
                "2 STOPs, 1 START, 3 unmatched") in out
        assert imap.snapshot() == before                       # read only: no flag set, nothing moved
        synced = sync_rows(root)
        events = Counter((r[2].split("-")[0], r[1]) for r in synced)
        assert events == Counter({("jane", "replied"): 1, ("olaf", "auto_reply"): 1, ("hana", "bounced"): 1,
                                  ("sam", "soft_bounce"): 1, ("uma", "opted_out"): 1, ("carl", "complained"): 1,
                                  ("cora", "replied"): 1, ("stella", "opted_out"): 1, ("stan", "opted_out"): 1,
                                  ("stan", "opted_in"): 1, ("sean", "replied"): 1})
        notes = {r[2].split("-")[0] + ":" + r[1]: r[10] for r in synced}
        assert notes["jane:replied"].startswith("Yes, call me on Thursday after 2pm")
        assert notes["olaf:auto_reply"] == "until 2026-12-15, back 2026-12-14"
        assert notes["hana:bounced"].startswith("hana@hanaco.example: 5.1.1")
        assert notes["cora:replied"].startswith("colleague boss@coraco.example: ")
        assert git(root, "log", "-1", "--format=%s").startswith("sync 2026-12-08: 3 replies")

        # Again: nothing is recorded twice.
        assert main(["sync", "--root", str(root), "--today", "2026-12-08",
                     "--now", "2026-12-08T09:00:00-06:00"]) == 0
        assert "sync 2026-12-08: 0 replies, 3 unmatched" in capsys.readouterr().out
        assert sync_rows(root) == synced

        # The days after: send every business day through 12-22 with the file transports.
        _env(monkeypatch)
        for day in BUSINESS_DAYS_AFTER:
            assert _run(root, day, f"{day}T10:00:00-06:00") == 0
    got = Counter()
    for r in history_events(root):
        if r[1] == "sent" and r[0][:10] > DAY0:
            got[(r[2].split("-")[0], r[6])] += 1
    # Replied (by mail, by a colleague, by SMS) or complained: nothing more, but a task to answer.
    for who in ("jane", "cora", "sean", "carl"):
        assert {ch for (w, ch) in got if w == who} <= {"call"}, who
    tasks = {r[2].split("-")[0] for r in history_events(root) if r[1] == "sent" and r[5] == "-2"}
    assert tasks == {"jane", "cora", "sean"}
    # Out of office until the 14th: nothing before the 15th, then the sequence goes on.
    olaf = sorted(r[0] for r in history_events(root) if r[1] == "sent" and r[2] == "olaf-lead" and r[0][:10] > DAY0)
    assert olaf and olaf[0] >= "2026-12-15" and len(olaf) >= 2
    # A hard bounce closes email (SMS and the call go on); a soft one does not.
    assert got[("hana", "email")] == 0 and got[("hana", "sms")] == 1 and got[("hana", "call")] == 1
    assert got[("sam", "email")] == 1
    # Unsubscribed from email: no more email; STOP: no more SMS; START lifted it.
    assert got[("uma", "email")] == 0 and got[("uma", "sms")] == 1
    assert got[("stella", "sms")] == 0 and got[("stella", "email")] == 1
    assert got[("stan", "sms")] == 1
    assert got[("quinn", "email")] == 1 and got[("quinn", "sms")] == 1


def test_sync_with_nothing_configured_says_what_it_needs(make_repo, monkeypatch, capsys):
    _env(monkeypatch)
    root = e2e_repo(make_repo)
    assert main(["sync", "--root", str(root), "--today", DAY0]) == 0
    out = capsys.readouterr().out
    assert "nothing to read" in out and "IMAP_HOST" in out and "TWILIO_ACCOUNT_SID" in out


def test_a_mailbox_that_cannot_be_read_is_reported_and_outreach_sends_anyway(make_repo, monkeypatch, capsys):
    root = e2e_repo(make_repo)
    _env(monkeypatch, {"IMAP_HOST": "127.0.0.1", "IMAP_PORT": "1", "IMAP_SECURITY": "tls", "IMAP_USERNAME": "u",
                       "IMAP_PASSWORD": "p"})
    assert main(["sync", "--root", str(root), "--today", DAY0, "--now", "2026-12-07T10:00:00-06:00"]) == 9
    assert "could not read mail (u): cannot connect to 127.0.0.1:1" in capsys.readouterr().out
    assert _run(root, DAY0, "2026-12-07T10:00:00-06:00") == 0
    captured = capsys.readouterr()
    assert "could not read mail" in captured.out and "sending on what is known" in captured.err
    assert len(list((root / "outbox" / DAY0 / "email").glob("*.eml"))) == len(LEADS)


def test_the_imap_password_is_never_printed_or_recorded(make_repo, imap, monkeypatch, capsys):
    root = e2e_repo(make_repo)
    _env(monkeypatch, {**imap.env("none"), "IMAP_PASSWORD": "wrong-Secret-123", "ALLOW_PLAINTEXT_AUTH": "1"})
    assert main(["sync", "--root", str(root), "--today", DAY0, "--now", "2026-12-07T10:00:00-06:00"]) == 9
    captured = capsys.readouterr()
    assert "IMAP login refused" in captured.out and "wrong-Secret-123" not in captured.out + captured.err
    assert "wrong-Secret-123" not in repr(config_from_env(root=root))


def test_duplicates_from_two_runners_count_once_and_soft_bounces_add_up(make_repo):
    root = e2e_repo(make_repo)

    def rec(day, event, ref, note):
        return Record(day, f"{day}T09:00:00+00:00", event, "sam-lead", "blast", day, "", "email", "", "", ref, note)

    soft = [rec(d, "soft_bounce", f"<b{i}@mx.example>", "sam@samco.example: 4.2.2 mailbox full")
            for i, d in enumerate(("2026-12-01", "2026-12-03", "2026-12-03"))]
    # The same bounce recorded twice (two runners synced it): two soft bounces, not three.
    lines = HEADER + "".join(r.line() for r in soft[:2]) + soft[1].line()
    (root / "history" / "2026" / "12").mkdir(parents=True)
    (root / "history" / "2026" / "12" / "2026-12-03.sync.tsv").write_text(lines, encoding="utf-8")
    st = check_repository(root, today=dt.date(2026, 12, 4)).derived.states["sam-lead"]
    assert st.email_usable
    third = rec("2026-12-10", "soft_bounce", "<b9@mx.example>", "sam@samco.example: 4.4.1 delayed")
    (root / "history" / "2026" / "12" / "2026-12-10.sync.tsv").write_text(HEADER + third.line(), encoding="utf-8")
    st = check_repository(root, today=dt.date(2026, 12, 11)).derived.states["sam-lead"]
    assert not st.email_usable and st.closed["email"].event == "soft_bounce"


def test_outreach_syncs_first_so_an_overnight_reply_stops_the_morning_touch(make_repo, imap, monkeypatch, capsys):
    two_emails = CAMPAIGN.replace("{day: 2, channel: sms, message: hot/sms-nudge}",
                                  "{day: 1, channel: email, message: hot/new-value}")
    leads = "leads:\n" + lead_yaml(1, id="jane-lead", email="jane@janeco.example") \
        + lead_yaml(2, id="omar-lead", email="omar@omarco.example")
    root = outreach_repo(make_repo, leads, campaign=two_emails, git=True)
    _env(monkeypatch)
    assert _run(root, DAY0, "2026-12-07T10:00:00-06:00") == 0
    jane = next(email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
                for p in (root / "outbox" / DAY0 / "email").glob("*.eml") if b"jane@janeco.example" in p.read_bytes())
    imap.append(render(_sample("reply-outlook.eml"), **_values(jane, "jane")))
    _env(monkeypatch, imap.env("none"), {"ALLOW_PLAINTEXT_AUTH": "1"})
    assert _run(root, "2026-12-08", "2026-12-08T10:00:00-06:00") == 0
    out = capsys.readouterr().out
    assert "sync 2026-12-08: 1 reply, 0 unmatched" in out
    sent = [(r[2], r[6], r[5]) for r in history_events(root) if r[1] == "sent" and r[0][:10] == "2026-12-08"]
    assert sorted(sent) == [("jane-lead", "call", "-2"), ("omar-lead", "email", "1")]   # answer Jane; Omar goes on
    assert git(root, "log", "--format=%s").splitlines()[:3] == [
        "outreach 2026-12-08: 1 email, 0 sms, 1 tasks, 0 failed, 0 unknown",
        "sync 2026-12-08: 1 reply, 0 unmatched",
        "outreach 2026-12-07: 2 email, 0 sms, 0 tasks, 0 failed, 0 unknown"]


@pytest.mark.parametrize("answer, relay", [
    ("2.0.0 Ok: queued as 4RB1vH5c2Qz9sWf", "4RB1vH5c2Qz9sWf"),                       # Postfix
    ("Ok 010001939204a7c5-5b8e1d4c-7a2f-4e6b-9c3d-1f0a8e7b6c5d-000000",               # Amazon SES
     "010001939204a7c5-5b8e1d4c-7a2f-4e6b-9c3d-1f0a8e7b6c5d-000000"),
    ("2.0.0 OK queued", ""),                                                          # no id given
])
def test_the_relays_own_id_is_read_from_its_answer(answer, relay):
    from outreach.transports.email_smtp import _relay_id
    assert _relay_id(answer) == relay


def test_snippets_off_keeps_no_words_of_a_reply(make_repo, imap, monkeypatch, capsys):
    root = e2e_repo(make_repo)
    settings = (root / "content" / "settings.yaml")
    settings.write_text(settings.read_text(encoding="utf-8") + "sync: {snippets: false}\n", encoding="utf-8")
    _env(monkeypatch)
    assert _run(root, DAY0, "2026-12-07T10:00:00-06:00", "--no-commit") == 0
    jane = next(email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
                for p in (root / "outbox" / DAY0 / "email").glob("*.eml") if b"jane@janeco.example" in p.read_bytes())
    imap.append(render(_sample("reply-gmail.eml"), **_values(jane, "jane")))
    _env(monkeypatch, imap.env("starttls"), {"SSL_CERT_FILE": str(CA)})
    assert main(["sync", "--root", str(root), "--today", "2026-12-08", "--now", "2026-12-08T08:00:00-06:00",
                 "--no-commit"]) == 0
    rows = sync_rows(root)
    assert [(r[1], r[2], r[10]) for r in rows] == [("replied", "jane-lead", "")]
    assert "Thursday" not in (root / "history").joinpath("2026", "12", "2026-12-08.sync.tsv").read_text()


# -- the unsubscribe mailbox, ids, paging, the mailbox read headers first -------------------------

def _send_day0(make_repo, monkeypatch, leads: str, *, settings: str | None = None, smtp: SmtpServer | None = None):
    """A repository with ``leads``, day 0 sent (over ``smtp``, else to files): (root, sent by lead)."""
    root = outreach_repo(make_repo, leads, campaign=CAMPAIGN, settings=settings, git=True)
    _env(monkeypatch, {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp.port), "SMTP_SECURITY": "none"} if smtp
         else {})
    assert _run(root, DAY0, "2026-12-07T10:00:00-06:00") == 0
    sent = {}
    for path in sorted((root / "outbox" / DAY0 / "email").glob("*.eml")):
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        sent[msg["To"].addresses[0].addr_spec.split("@")[0]] = msg
    return root, sent


def _sync(root, monkeypatch, *sources, day="2026-12-08") -> int:
    _env(monkeypatch, *sources)
    return main(["sync", "--root", str(root), "--today", day, "--now", f"{day}T08:00:00-06:00"])


def test_replies_to_an_unsubscribe_mailbox_that_is_also_the_owners_are_replies(make_repo, imap, monkeypatch,
                                                                               capsys):
    # No unsubscribe_email and the From is an owner's address: the mailto (sam+<touch>@), the
    # Reply-To (sam+r-<touch>@) and a plain mail to sam@ land in one mailbox. Only the mailto's
    # own address unsubscribes; the reply and the out-of-office are what they are.
    settings = settings_text().replace("  unsubscribe_email: unsubscribe@northwind.example\n", "") \
        .replace("  email: hello@northwind.example\n", "  email: sam@northwind.example\n")
    assert "unsubscribe_email" not in settings.split("sender:")[1].split("\n\n")[0]
    leads = "leads:\n" + "".join(lead_yaml(i, id=f"{who}-lead", email=f"{who}@{who}co.example")
                                 for i, who in enumerate(("jane", "olaf", "uma"), 1))
    root, sent = _send_day0(make_repo, monkeypatch, leads, settings=settings)
    assert sent["uma"]["Reply-To"].addresses[0].addr_spec.startswith("sam+r-")
    assert "mailto:sam+" in sent["uma"]["List-Unsubscribe"]
    for who, name in (("jane", "reply-gmail.eml"), ("olaf", "ooo-en-gb-subject-only-until.eml"),
                      ("uma", "unsubscribe-gmail-mailto.eml")):
        imap.append(render(_sample(name), **_values(sent[who], who)))
    assert _sync(root, monkeypatch, imap.env("none"), {"ALLOW_PLAINTEXT_AUTH": "1"}) == 0
    assert "sync 2026-12-08: 1 reply, 1 out of office, 1 unsubscribe, 0 unmatched" in capsys.readouterr().out
    assert sorted((r[2], r[1], r[6]) for r in sync_rows(root)) == [
        ("jane-lead", "replied", "email"), ("olaf-lead", "auto_reply", "email"), ("uma-lead", "opted_out", "email")]


def test_a_message_without_message_id_or_in_two_copies_is_recorded_once(make_repo, imap, monkeypatch, capsys):
    leads = "leads:\n" + "".join(lead_yaml(i, id=f"{who}-lead", email=f"{who}@{who}co.example")
                                 for i, who in enumerate(("jane", "olaf"), 1))
    root, sent = _send_day0(make_repo, monkeypatch, leads)
    reply = render(_sample("reply-gmail.eml"), **_values(sent["jane"], "jane"))
    imap.append(reply)
    imap.append(reply)                      # the same message twice (a filter copied it)
    away = render(_sample("ooo-en-gb-subject-only-until.eml"), **_values(sent["olaf"], "olaf"))
    away = re.sub(rb"(?im)^Message-ID:[^\r\n]*\r\n(?:[ \t][^\r\n]*\r\n)*", b"", away, count=1)
    assert b"message-id" not in away.lower()
    imap.append(away)
    for _ in range(2):
        assert _sync(root, monkeypatch, imap.env("none"), {"ALLOW_PLAINTEXT_AUTH": "1"}) == 0
    out = capsys.readouterr().out
    assert "sync 2026-12-08: 1 reply, 1 out of office, 0 unmatched" in out
    assert "sync 2026-12-08: 0 replies, 0 unmatched" in out
    rows = sync_rows(root)
    assert sorted((r[2], r[1]) for r in rows) == [("jane-lead", "replied"), ("olaf-lead", "auto_reply")]
    assert next(r[9] for r in rows if r[1] == "auto_reply").endswith("@no-message-id.invalid>")


SES_ANSWER = "Ok 010001939204a7c5-5b8e1d4c-7a2f-4e6b-9c3d-1f0a8e7b6c5d-000000"


def test_a_reply_to_the_id_the_relay_gave_our_email_finds_the_lead(make_repo, imap, monkeypatch, capsys):
    # The relay (Amazon SES) answers DATA with its own id and rewrites our Message-ID; the lead
    # answers from another address (no sender match), to our plain address (no token).
    leads = "leads:\n" + lead_yaml(1, id="jane-lead", email="jane@janeco.example")
    with SmtpServer(faults=lambda stage: f"250 {SES_ANSWER}" if stage == "DATA" else None) as smtp:
        root, _ = _send_day0(make_repo, monkeypatch, leads, smtp=smtp)
    sent = [r for r in history_events(root) if r[1] == "sent" and r[6] == "email"]
    assert [r[10] for r in sent] == [f"relay {SES_ANSWER.split()[1]}"]
    values = {**DEFAULT_VALUES, "lead_email": "jane.private@gmail.com",
              "relay_message_id": f"<{SES_ANSWER.split()[1]}@email.amazonses.com>"}
    imap.append(render(_sample("reply-relay-id.eml"), **values))
    assert _sync(root, monkeypatch, imap.env("none"), {"ALLOW_PLAINTEXT_AUTH": "1"}) == 0
    assert "sync 2026-12-08: 1 reply, 0 unmatched" in capsys.readouterr().out
    [row] = sync_rows(root)
    assert (row[1], row[2], row[8]) == ("replied", "jane-lead", sent[0][8]) and row[10].startswith("Sounds good")


def test_texts_are_read_through_every_page_from_the_day_before_the_last_sync(make_repo, monkeypatch):
    from outreach.sync.sms import read_texts
    with TwilioServer() as twilio:
        at = dt.datetime(2026, 12, 8, 14, 0, tzinfo=dt.timezone.utc)
        sids = {twilio.inbound(f"+1312555{2000 + i:04d}", f"text {i}", date_sent=at + dt.timedelta(seconds=i))
                for i in range(450)}
        twilio.inbound("+13125552999", "too early", date_sent=dt.datetime(2026, 12, 6, 23, 59, tzinfo=dt.timezone.utc))
        _env(monkeypatch, twilio.env())
        config = config_from_env(root=make_repo("leads: []\n")).twilio
        got = read_texts(config, dt.datetime(2026, 12, 7, tzinfo=dt.timezone.utc))
        assert {t.sid for t in got} == sids and len(got) == 450
        assert [t.body for t in got[:2]] == ["text 0", "text 1"]            # oldest first
        assert twilio.list_requests == 3                                     # 200 + 200 + 50, by next_page_uri
        assert twilio.list_queries[0]["DateSent>"] == "2026-12-07T00:00:00Z"


def test_the_mailbox_is_read_headers_first_and_only_since_the_day(imap):
    from outreach.config import ImapConfig
    from outreach.sync.imap import read_mailbox
    base = render(_sample("unmatched-newsletter.eml"), **DEFAULT_VALUES)

    def message(subject: str, date: str) -> bytes:
        out = re.sub(rb"(?im)^Subject:[^\r\n]*", b"Subject: " + subject.encode(), base, count=1)
        out = re.sub(rb"(?im)^Date:[^\r\n]*", b"Date: " + date.encode(), out, count=1)
        return re.sub(rb"(?im)^Message-ID:[^\r\n]*", f"Message-ID: <{subject}@news.example>".encode(), out, count=1)

    old = dt.datetime(2026, 10, 1, 12, 0, tzinfo=dt.timezone.utc)
    imap.append(message("wanted", "Mon, 7 Dec 2026 10:00:00 +0000"))
    imap.append(message("headers-only", "Mon, 7 Dec 2026 10:05:00 +0000"))
    imap.append(message("written-today-arrived-late", "Mon, 7 Dec 2026 10:10:00 +0000"), date=old)
    imap.append(message("too-old", "Thu, 1 Oct 2026 12:00:00 +0000"), date=old)
    imap.append(message("read-before", "Mon, 7 Dec 2026 10:15:00 +0000"))
    config = ImapConfig(imap.host, imap.port, imap.user, imap.password, security="none")
    got = {str(f.headers["Subject"]): f.raw for f in read_mailbox(
        config, dt.date(2026, 12, 6), skip=lambda h: str(h["Subject"]) == "read-before",
        candidate=lambda h: str(h["Subject"]).startswith(("wanted", "written")))}
    assert set(got) == {"wanted", "headers-only", "written-today-arrived-late"}
    assert got["headers-only"] is None
    assert got["wanted"].startswith(b"Return-Path") or b"Subject: wanted" in got["wanted"]
    assert b"</html>" in got["wanted"].lower() and b"</html>" in got["written-today-arrived-late"].lower()


def test_dry_run_records_nothing_and_no_commit_commits_nothing(make_repo, imap, monkeypatch, capsys):
    leads = "leads:\n" + lead_yaml(1, id="jane-lead", email="jane@janeco.example")
    root, sent = _send_day0(make_repo, monkeypatch, leads)
    imap.append(render(_sample("reply-gmail.eml"), **_values(sent["jane"], "jane")))
    head = git(root, "rev-parse", "HEAD")
    _env(monkeypatch, imap.env("none"), {"ALLOW_PLAINTEXT_AUTH": "1"})
    argv = ["sync", "--root", str(root), "--today", "2026-12-08", "--now", "2026-12-08T08:00:00-06:00"]
    assert main([*argv, "--dry-run"]) == 0
    assert "sync 2026-12-08: 1 reply, 0 unmatched" in capsys.readouterr().out
    assert sync_rows(root) == [] and git(root, "rev-parse", "HEAD") == head
    assert main([*argv, "--no-commit"]) == 0
    assert [r[1] for r in sync_rows(root)] == ["replied"]
    assert git(root, "rev-parse", "HEAD") == head and "history/" in git(root, "status", "--porcelain", "-uall")


def test_push_brings_the_checkout_up_to_date_and_pushes_the_sync(make_repo, imap, monkeypatch, capsys, tmp_path):
    leads = "leads:\n" + lead_yaml(1, id="jane-lead", email="jane@janeco.example")
    origin, sent = _send_day0(make_repo, monkeypatch, leads)
    bare, (runner, person) = remote_and_clones(origin, tmp_path, ["runner", "person"])
    (person / "notes.txt").write_text("a person's commit the runner has not seen\n", encoding="utf-8")
    git(person, "add", "notes.txt")
    git(person, "commit", "-q", "-m", "a person's edit")
    git(person, "push", "-q", "origin", "main")
    imap.append(render(_sample("reply-gmail.eml"), **_values(sent["jane"], "jane")))
    _env(monkeypatch, imap.env("none"), {"ALLOW_PLAINTEXT_AUTH": "1"})
    assert main(["sync", "--root", str(runner), "--today", "2026-12-08", "--now", "2026-12-08T08:00:00-06:00",
                 "--push"]) == 0
    assert "pushed to" in capsys.readouterr().out
    log = git(runner, "--git-dir", str(bare), "log", "--format=%s", "main").splitlines()
    assert log[:2] == ["sync 2026-12-08: 1 reply, 0 unmatched", "a person's edit"]


def test_a_stop_from_a_number_two_leads_share_opts_the_number_out_for_both(make_repo, monkeypatch, capsys):
    shared = '"+1 312 555 0777"'
    leads = "leads:\n" + "".join(lead_yaml(i, id=f"{who}-lead", email=f"{who}@{who}co.example", phone=shared)
                                 for i, who in enumerate(("ann", "bob"), 1)) \
        + lead_yaml(3, id="cy-lead", email="cy@cyco.example", phone='"+1 312 555 0778"')
    root = outreach_repo(make_repo, leads, campaign=CAMPAIGN, git=True)
    at = dt.datetime(2026, 12, 8, 14, 0, tzinfo=dt.timezone.utc)
    with TwilioServer() as twilio:
        twilio.inbound("+13125550777", "Sounds good, call us", date_sent=at)     # whose? not ours to guess
        twilio.inbound("+13125550777", "Stop please", date_sent=at + dt.timedelta(minutes=1))
        twilio.inbound("+13125550778", "Cancel", date_sent=at)
        assert _sync(root, monkeypatch, twilio.env()) == 0
    out = capsys.readouterr().out
    assert "SMS from +13125550777: Sounds good, call us" in out
    assert sorted((r[2], r[1], r[6]) for r in sync_rows(root)) == [
        ("ann-lead", "opted_out", "sms"), ("bob-lead", "opted_out", "sms"), ("cy-lead", "opted_out", "sms")]
    states = check_repository(root, today=dt.date(2026, 12, 9)).derived.states
    assert all(states[f"{who}-lead"].closed["sms"].event == "opted_out" for who in ("ann", "bob", "cy"))


# -- texts Twilio took, then could not deliver -----------------------------------------------------

TEXTS_FIRST = """\
name: Texts first
hook: A free scanner audit
audience: {status: [lost]}
priority: 100
max_new_per_day: 1000
steps:
  - {day: 0, channel: sms, message: hot/sms-nudge}
  - {day: 2, channel: email, message: hot/remind}
  - {day: 4, channel: sms, message: hot/sms-nudge}
  - {day: 6, channel: call, message: hot/call-script}
"""
# who -> what Twilio says of their day-0 text after taking it
DELIVERY = {"dee": ("delivered", None), "dan": ("delivered", None), "nemo": ("undelivered", 30005),
            "lana": ("failed", 30006), "otto": ("undelivered", 30003), "bea": ("undelivered", 30004)}


def test_texts_twilio_could_not_deliver_fail_their_touch_and_close_sms_for_the_number(make_repo, monkeypatch,
                                                                                     capsys):
    number = {who: f"+1312555{3000 + i:04d}" for i, who in enumerate(DELIVERY, 1)}
    leads = "leads:\n" + "".join(
        lead_yaml(i, id=f"{who}-lead", email=f"{who}@{who}co.example", phone=f'"+1 312 555 {3000 + i:04d}"')
        for i, who in enumerate(DELIVERY, 1))
    root = outreach_repo(make_repo, leads, campaign=TEXTS_FIRST, git=True)
    with TwilioServer(now=dt.datetime(2026, 12, 7, 16, 0, tzinfo=dt.timezone.utc)) as twilio:
        _env(monkeypatch, twilio.env())
        assert _run(root, DAY0, "2026-12-07T10:00:00-06:00") == 0
        sid = {m["To"]: m["sid"] for m in twilio.messages}
        assert set(sid) == set(number.values())
        later = dt.datetime(2026, 12, 7, 16, 2, tzinfo=dt.timezone.utc)
        for who, (status, code) in DELIVERY.items():
            twilio.set_status(sid[number[who]], status, error_code=code, at=later)
        # Sent from our number by someone else (the console): not ours to guess.
        theirs = twilio.outbound("+13125559999", "see you Tuesday", status="undelivered", error_code=30003,
                                 date_sent=later)
        assert _sync(root, monkeypatch, twilio.env()) == 0
        out = capsys.readouterr().out
        assert "sync 2026-12-08: 0 replies, 4 SMS undelivered, 1 unmatched" in out
        assert f"SMS {theirs} to +13125559999 undelivered (30003): no touch of ours sent it" in out
        assert git(root, "log", "-1", "--format=%s").strip() == \
            "sync 2026-12-08: 0 replies, 4 SMS undelivered, 1 unmatched"
        synced = sync_rows(root)
        sent = {r[8]: r for r in history_events(root) if r[1] == "sent"}
        touch_of = {r[9]: t for t, r in sent.items()}       # the sid each `sent` record keeps
        assert sorted((r[2].split("-")[0], r[1], r[6], r[9]) for r in synced) == [
            ("bea", "failed", "sms", "30004"), ("bea", "opted_out", "sms", "30004"),
            ("lana", "failed", "sms", "30006"), ("lana", "wrong_number", "sms", "30006"),
            ("nemo", "failed", "sms", "30005"), ("nemo", "wrong_number", "sms", "30005"),
            ("otto", "failed", "sms", "30003")]
        for r in synced:        # the touch that sent it, by its sid; when Twilio said so
            who = r[2].split("-")[0]
            assert r[8] == touch_of[sid[number[who]]] and r[5] == "0" and r[0] == "2026-12-07T16:02:00+00:00"
            assert sid[number[who]] in r[10]
        assert {r[10] for r in synced if r[2] == "nemo-lead"} >= {
            f"undelivered: unknown destination handset (Twilio 30005, {sid[number['nemo']]})"}

        # Again, the next day (its look-back reaches back to day 0): nothing is recorded twice.
        assert _sync(root, monkeypatch, twilio.env(), day="2026-12-09") == 0
        assert "sync 2026-12-09: 0 replies, 1 unmatched" in capsys.readouterr().out
        assert sync_rows(root) == synced

    # The days after, with the file transports.
    _env(monkeypatch)
    for day in BUSINESS_DAYS_AFTER:
        assert _run(root, day, f"{day}T10:00:00-06:00") == 0
    rows = history_events(root)
    # the next step's wait counts from the day the text went, not from the sync that found it failed
    assert {r[0][:10] for r in rows if r[1] == "sent" and r[5] == "1"} == {"2026-12-09"}
    got = Counter((r[2].split("-")[0], r[5], r[6]) for r in rows if r[1] == "sent")
    for who in DELIVERY:    # day 0 went once to each; the failed step is never sent again
        assert got[(who, "0", "sms")] == 1, who
        assert got[(who, "1", "email")] == 1, who
    for who in ("dee", "dan", "otto"):      # delivered, or a handset off that day: the sequence goes on
        assert got[(who, "2", "sms")] == 1 and got[(who, "3", "call")] == 1, who
    for who in ("nemo", "lana", "bea"):     # the number takes no SMS, or they blocked ours
        assert got[(who, "2", "sms")] == 0, who
    assert got[("lana", "3", "call")] == 1 and got[("bea", "3", "call")] == 1    # a landline; a block of texts
    assert got[("nemo", "3", "call")] == 0                                      # no such number
    skipped = {(r[2].split("-")[0], r[5]) for r in rows if r[1] == "skipped"}
    assert {("nemo", "2"), ("lana", "2"), ("bea", "2"), ("nemo", "3")} <= skipped
    states = check_repository(root, today=dt.date(2026, 12, 23)).derived.states
    assert states["lana-lead"].phone_usable and not states["nemo-lead"].phone_usable
    assert states["bea-lead"].closed["sms"].event == "opted_out"


def test_with_a_messaging_service_its_own_undelivered_texts_are_read(make_repo, monkeypatch, capsys):
    leads = "leads:\n" + "".join(lead_yaml(i, id=f"{who}-lead", email=f"{who}@{who}co.example",
                                           phone=f'"+1 312 555 {3100 + i:04d}"')
                                 for i, who in enumerate(("ann", "bob"), 1))
    root = outreach_repo(make_repo, leads, campaign=TEXTS_FIRST, git=True)
    service = {"TWILIO_FROM": "", "TWILIO_MESSAGING_SERVICE_SID": "MG" + "1" * 32}
    with TwilioServer(now=dt.datetime(2026, 12, 7, 16, 0, tzinfo=dt.timezone.utc)) as twilio:
        _env(monkeypatch, twilio.env(), service)
        assert _run(root, DAY0, "2026-12-07T10:00:00-06:00") == 0
        sid = {m["To"]: m["sid"] for m in twilio.messages}
        twilio.set_status(sid["+13125553101"], "undelivered", error_code=30005)
        twilio.set_status(sid["+13125553102"], "delivered")
        # Another sender of the same account (no messaging service): none of this sync's business.
        twilio.outbound("+13125559999", "see you Tuesday", status="undelivered", error_code=30005)
        assert _sync(root, monkeypatch, twilio.env(), service) == 0
    assert "sync 2026-12-08: 0 replies, 1 SMS undelivered, 0 unmatched" in capsys.readouterr().out
    assert [(r[2], r[1], r[9]) for r in sync_rows(root)] == [("ann-lead", "failed", "30005"),
                                                            ("ann-lead", "wrong_number", "30005")]
    assert all("From" not in q for q in twilio.list_queries)
