"""`python -m outreach send` against a real aiosmtpd server on 127.0.0.1: content, faults, secrets."""

from __future__ import annotations

import asyncio
import itertools
import re
from collections import Counter

import pytest

from outreach.cli import main
from outreach.config import SmtpConfig, config_from_env
from outreach.errors import (ConfigError, DeliveryError, PermanentDeliveryError, RecipientRejected,
                             TemporaryDeliveryError)
from outreach.transports import OutgoingEmail
from outreach.transports.email_smtp import SmtpTransport
from outreach.queue import queue_path, read_queue
from tests.outreach_helpers import (BLAST, DAY, NOW, history_events, lead_yaml, leads_text,
                                    outreach_repo, settings_text, touch_states)
from tests.smtp_server import CA, SmtpServer, random_faults

SEND = ["send", "--today", DAY, "--now", NOW, "--no-commit"]
TOUCH_EVENTS = {"attempting", "sent", "failed", "deferred", "skipped", "settled_sent", "settled_not_sent"}


@pytest.fixture
def smtp_env(monkeypatch):
    """Point the run at a server; nothing from the machine's environment leaks in."""
    for key in ("SMTP_HOST", "SMTP_PORT", "SMTP_USERNAME", "SMTP_PASSWORD", "SMTP_SECURITY", "TWILIO_ACCOUNT_SID",
                "EMAIL_TRANSPORT", "SMS_TRANSPORT", "SMTP_CONNECTIONS", "SMTP_TIMEOUT", "SMTP_EHLO"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("EMAIL_PER_SECOND", "0")
    monkeypatch.setenv("OUTREACH_BACKOFF", "0.001")
    monkeypatch.setenv("ALLOW_PLAINTEXT_AUTH", "1")      # the test server is on loopback

    def point(server: SmtpServer, **extra: str) -> None:
        monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("SMTP_PORT", str(server.port))
        monkeypatch.setenv("SMTP_SECURITY", "none")
        for k, v in extra.items():
            monkeypatch.setenv(k, v)
    return point


def touch_only(states: dict[str, list[str]]) -> dict[str, list[str]]:
    return {t: [e for e in evs if e in TOUCH_EVENTS] for t, evs in states.items()}


def test_email_arrives_with_both_parts_headers_and_one_recipient(make_repo, smtp_env, capsys):
    leads = "leads:\n" + lead_yaml(1) + lead_yaml(2, name=None, company='"Acme, Inc."') + lead_yaml(3)
    # hot/new-value has an HTML part (hot/remind, BLAST's first email, is `format: text`)
    root = outreach_repo(make_repo, leads, campaign=BLAST.replace("hot/remind", "hot/new-value"))
    with SmtpServer() as server:
        smtp_env(server)
        assert main(SEND + ["--root", str(root)]) == 0
    out = capsys.readouterr().out
    assert "SMTP 127.0.0.1" in out and re.search(r"email\s+3\s+0\s+0\s+0\s+0", out)
    queue = read_queue(queue_path(root, DAY))
    by_id = {f"<{t.touch}.relead@northwind.example>": t for t in queue.touches}
    msgs = server.parsed()
    assert len(msgs) == 3
    for (env_from, rcpts, _), msg in zip(server.messages, msgs):
        t = by_id[msg["Message-ID"]]
        assert env_from == "hello@northwind.example" and len(rcpts) == 1
        assert len(msg["To"].addresses) == 1
        assert msg["Subject"] == t.subject
        assert msg["List-Unsubscribe"].startswith(f"<mailto:unsubscribe+{t.touch}@northwind.example?subject=unsubscribe%20")
        assert f"https://northwind.example/unsubscribe?t={t.touch}" in msg["List-Unsubscribe"]
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        plain = msg.get_body(("plain",)).get_content()
        html = msg.get_body(("html",)).get_content()
        assert "400 N Lake Shore Dr" in plain and "Unsubscribe" in plain
        assert "400 N Lake Shore Dr" in html and ">Unsubscribe</a>" in html
        assert t.text.splitlines()[0] in plain
    acme = next(m for m in msgs if "Acme" in str(m["To"]))
    assert acme["To"].addresses[0].display_name == "Acme, Inc."
    states = touch_only(touch_states(root))
    assert sorted(states.values()) == [["attempting", "sent"]] * 3
    refs = {row[8]: row[9] for row in history_events(root) if row[1] == "sent"}
    assert set(refs.values()) == set(by_id)
    assert not (root / "outbox" / DAY / "email").exists()     # SMTP, not files


def test_login_works_and_the_password_never_lands_anywhere(make_repo, smtp_env, capsys):
    secret = "s3cr3t-Pa55word-never-print"
    root = outreach_repo(make_repo, leads_text(2))
    with SmtpServer(login=("relead", secret)) as server:
        smtp_env(server, SMTP_USERNAME="relead", SMTP_PASSWORD=secret)
        assert main(SEND + ["--root", str(root)]) == 0
        assert server.count() == 2 and server.logins
        smtp_env(server, SMTP_PASSWORD="wrong-" + secret)
        assert main(SEND + ["--root", str(outreach_repo(make_repo, leads_text(2)))]) == 8
    captured = capsys.readouterr()
    assert secret not in captured.out + captured.err
    for path in root.rglob("*"):
        if path.is_file() and ".git" not in path.parts:
            assert secret.encode() not in path.read_bytes(), path


@pytest.mark.parametrize("pipelining", [True, False])
def test_random_faults_each_touch_ends_in_one_state_and_nothing_twice(make_repo, smtp_env, pipelining):
    settings = settings_text().replace("max_failure_share: 0.2", "max_failure_share: 0.9")
    root = outreach_repo(make_repo, leads_text(150), settings=settings)
    with SmtpServer(faults=random_faults(7), pipelining=pipelining) as server:
        smtp_env(server, OUTREACH_ATTEMPTS="5", SMTP_CONNECTIONS="4", OUTREACH_BATCH="16")
        assert main(SEND + ["--root", str(root)]) == 0
        first = Counter(server.message_ids())
        states = touch_only(touch_states(root))
        assert len(states) == 150
        final = Counter()
        for touch, evs in states.items():
            assert evs[0] == "attempting" and len(evs) <= 2, (touch, evs)
            final[evs[1] if len(evs) == 2 else "unknown"] += 1
        assert final["sent"] > 100 and final["failed"] and final["unknown"], final
        assert server.drops > 0
        # nothing delivered twice; everything delivered is recorded sent or left unknown
        assert max(first.values()) == 1
        recorded = {f"<{t}.relead@northwind.example>": evs for t, evs in states.items()}
        for mid in first:
            assert recorded[mid][-1] in ("sent", "attempting"), (mid, recorded[mid])
        bounced = [r for r in history_events(root) if r[1] == "bounced"]
        assert bounced and all(r[6] == "email" for r in bounced)
        # a second run the same day retries only what was deferred, and still nothing twice
        server.faults = None
        assert main(SEND + ["--root", str(root)]) == 0
        assert max(Counter(server.message_ids()).values()) == 1
        resent = Counter(server.message_ids()) - first
        deferred = {f"<{t}.relead@northwind.example>" for t, evs in states.items() if evs[-1] == "deferred"}
        assert set(resent) == deferred


def test_too_many_failures_pause_the_run(make_repo, smtp_env, capsys):
    root = outreach_repo(make_repo, leads_text(80))
    with SmtpServer(faults=lambda stage: "550 5.1.1 no such user" if stage == "RCPT" else None) as server:
        smtp_env(server, SMTP_CONNECTIONS="2", OUTREACH_BATCH="10")
        assert main(SEND + ["--root", str(root)]) == 3
    captured = capsys.readouterr()
    assert "PAUSED" in captured.out and "stopped sending" in captured.err
    rows = history_events(root)
    failed = [r for r in rows if r[1] == "failed"]
    paused = [r for r in rows if r[1] == "deferred" and r[9] == "paused"]
    assert 20 <= len(failed) < 40
    assert len(failed) + len(paused) == 80
    assert "more than the 20% allowed" in paused[0][10]


def test_a_timeout_after_data_is_unknown_then_settled_and_never_resent(make_repo, smtp_env, capsys):
    root = outreach_repo(make_repo, leads_text(3))
    calls = itertools.count()
    with SmtpServer(faults=lambda stage: "hang" if stage == "DATA" and next(calls) == 0 else None) as server:
        smtp_env(server, SMTP_TIMEOUT="0.5", SMTP_CONNECTIONS="1")
        assert main(SEND + ["--root", str(root)]) == 0
        out = capsys.readouterr().out
        assert "unknown:  1 touch may or may not have gone out" in out
        states = touch_only(touch_states(root))
        unknown = [t for t, evs in states.items() if evs == ["attempting"]]
        assert len(unknown) == 1 and server.count() == 3       # it did arrive: unknown was right
        assert main(SEND + ["--root", str(root)]) == 0          # a re-run sends nothing
        assert server.count() == 3
        assert "still unknown from earlier runs: 1" in capsys.readouterr().out
        lead = next(r[2] for r in history_events(root) if r[8] == unknown[0])
        assert main(["record", "--root", str(root), "--today", DAY, "--now", NOW, "--lead", lead,
                     "--outcome", "sent"]) == 0
        assert "recorded settled_sent" in capsys.readouterr().out
        assert main(SEND + ["--root", str(root)]) == 0
        assert "still unknown" not in capsys.readouterr().out and server.count() == 3


# -- the transport on its own: one connection, messages sent in turn ---------------------------------

def _email(touch: str) -> OutgoingEmail:
    return OutgoingEmail(touch, "sam@northwind.example", ("pat@acme.example",),
                         b"Message-ID: <" + touch.encode() + b".relead@northwind.example>\r\nSubject: hi\r\n\r\n"
                         b"Hello\r\n.hidden dot\r\n.\r\n")


async def _sending(port: int, touches: list[str], security: str = "none", **cfg) -> list:
    """Send one message per touch through one connection: each Message-ID, or the error raised."""
    out = []
    async with SmtpTransport(SmtpConfig("127.0.0.1", port, security, connections=1, **cfg)) as transport:
        for touch in touches:
            try:
                out.append(await transport.send(_email(touch)))
            except DeliveryError as exc:
                out.append(exc)
    return out


def _send_each(port: int, touches: list[str], security: str = "none", **cfg) -> list:
    return asyncio.run(_sending(port, touches, security, **cfg))


def test_a_server_that_refuses_ehlo_gets_helo_and_the_message():
    with SmtpServer(ehlo=False) as server:
        assert _send_each(server.port, ["t1"]) == ["<t1.relead@northwind.example>"]
        assert [(f, r) for f, r, _ in server.messages] == [("sam@northwind.example", ("pat@acme.example",))]


@pytest.mark.parametrize("pipelining", [True, False])
def test_the_data_arrives_dot_stuffed_and_whole(pipelining):
    with SmtpServer(pipelining=pipelining) as server:
        assert _send_each(server.port, ["t1", "t2"]) == [f"<t{i}.relead@northwind.example>" for i in (1, 2)]
        assert [data for _f, _r, data in server.messages] == [_email(t).data for t in ("t1", "t2")]


async def _batching_smtp(replies: dict[str, str], seen: dict[str, list]):
    """A bare SMTP server that answers MAIL, RCPT and DATA only once DATA has arrived. RFC 2920
    lets a server hold its replies to a group like this, so a client that waited for each reply
    before writing the next command would wait here until it timed out."""
    async def session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen["connections"].append(asyncio.current_task())
        try:
            await converse(reader, writer)
        finally:
            writer.close()

    async def converse(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 batching ESMTP\r\n")
        group: list[str] = []
        while line := await reader.readline():
            verb = line[:4].decode().upper()
            if verb in ("EHLO", "HELO"):
                writer.write(b"250-batching\r\n250 PIPELINING\r\n")
            elif verb == "QUIT":
                writer.write(b"221 bye\r\n")
                break
            elif (group := group + [verb])[-1] == "DATA":
                seen["groups"].append(group)
                group = []
                writer.write("".join(replies[v] + "\r\n" for v in ("MAIL", "RCPT", "DATA")).encode())
                if replies["DATA"].startswith("354"):
                    body = b""
                    while (line := await reader.readline()) not in (b".\r\n", b""):
                        body += line
                    if line:
                        seen["messages"].append(body)
                        writer.write(b"250 queued\r\n")
    return await asyncio.start_server(session, "127.0.0.1", 0)


@pytest.mark.parametrize("mail, rcpt, data, error, code", [
    ("250 OK", "250 OK", "354 go ahead", None, None),
    ("250 OK", "550 5.1.1 no such user", "554 5.5.1 no valid recipients", RecipientRejected, "550"),
    # a lax server that takes DATA with no recipient left: the message must not follow
    ("250 OK", "550 5.1.1 no such user", "354 go ahead", RecipientRejected, "550"),
    ("451 4.3.0 try again later", "503 5.5.1 MAIL first", "503 5.5.1 RCPT first", TemporaryDeliveryError, "451"),
    ("250 OK", "450 4.2.1 mailbox busy", "554 5.5.1 no valid recipients", TemporaryDeliveryError, "450"),
    ("250 OK", "250 OK", "554 5.7.1 rejected", PermanentDeliveryError, "554"),
])
def test_pipelining_writes_mail_rcpt_and_data_at_once_and_reads_every_reply(mail, rcpt, data, error, code):
    seen: dict[str, list] = {"connections": [], "groups": [], "messages": []}
    replies = {"MAIL": mail, "RCPT": rcpt, "DATA": data}

    async def main() -> list:
        server = await _batching_smtp(replies, seen)
        try:
            port = server.sockets[0].getsockname()[1]
            return await _sending(port, ["t1", "t2"], timeout=5)
        finally:
            server.close()
            await asyncio.gather(*seen["connections"])     # each ends when the client hangs up

    results = asyncio.run(main())
    assert seen["groups"] == [["MAIL", "RCPT", "DATA"]] * 2
    if error is None:
        assert results == ["<t1.relead@northwind.example>", "<t2.relead@northwind.example>"]
        assert len(seen["messages"]) == 2 and len(seen["connections"]) == 1      # one connection, reused
        assert seen["messages"][0].endswith(b"Hello\r\n..hidden dot\r\n..\r\n")
    else:
        assert [(type(r), r.code) for r in results] == [(error, code)] * 2
        assert seen["messages"] == [] and len(seen["connections"]) == 2      # dropped after a refusal


# -- TLS, with a real certificate --------------------------------------------------------------------

@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_starttls_and_tls_check_the_certificate_and_secure_the_login(security, monkeypatch):
    login = ("relead", "s3cret")
    with SmtpServer(tls=security, login=login) as server:
        monkeypatch.delenv("SSL_CERT_FILE", raising=False)
        refused = _send_each(server.port, ["t0"], security, username=login[0], password=login[1])
        assert isinstance(refused[0], TemporaryDeliveryError) and "cannot connect" in str(refused[0])
        monkeypatch.setenv("SSL_CERT_FILE", str(CA))      # now the certificate is trusted
        sent = _send_each(server.port, ["t1", "t2"], security, username=login[0], password=login[1])
        assert sent == ["<t1.relead@northwind.example>", "<t2.relead@northwind.example>"]
        assert server.secured == [True, True] and server.logins == ["relead"]


def test_security_none_stays_plain_even_when_the_server_offers_starttls(monkeypatch):
    """aiosmtplib upgrades by itself whenever STARTTLS is offered; SMTP_SECURITY=none must not."""
    monkeypatch.setenv("SSL_CERT_FILE", str(CA))
    with SmtpServer(tls="starttls") as server:
        assert _send_each(server.port, ["t1"], "none") == ["<t1.relead@northwind.example>"]
        assert server.secured == [False]


# -- what the server and the owners see -----------------------------------------------------------

def test_ehlo_names_the_sender_domain_not_the_machine(make_repo, smtp_env):
    root = outreach_repo(make_repo, leads_text(3))
    with SmtpServer() as server:
        smtp_env(server)
        assert main(SEND + ["--root", str(root)]) == 0
    assert server.count() == 3
    assert server.greetings and set(server.greetings) == {"northwind.example"}   # hello@northwind.example


def test_smtp_ehlo_gives_the_name(make_repo, smtp_env):
    root = outreach_repo(make_repo, leads_text(2))
    with SmtpServer() as server:
        smtp_env(server, SMTP_EHLO="mta1.northwind.example")
        assert main(SEND + ["--root", str(root)]) == 0
    assert server.greetings and set(server.greetings) == {"mta1.northwind.example"}


def test_the_transport_names_us_by_its_caller_else_by_the_envelope_sender():
    with SmtpServer() as server:
        assert _send_each(server.port, ["t1"]) == ["<t1.relead@northwind.example>"]
        assert _send_each(server.port, ["t2"], ehlo="relay-client.example") == ["<t2.relead@northwind.example>"]
    assert server.greetings == ["northwind.example", "relay-client.example"]
    with SmtpServer(ehlo=False) as server:           # HELO carries it too
        assert _send_each(server.port, ["t3"]) == ["<t3.relead@northwind.example>"]
    assert server.greetings == ["northwind.example"]


async def _sending_as(port: int, ehlo: str) -> str:
    async with SmtpTransport(SmtpConfig("127.0.0.1", port, "none", connections=1), ehlo=ehlo) as transport:
        return await transport.send(_email("t4"))


def test_smtp_ehlo_wins_over_the_callers_name():
    with SmtpServer() as server:
        asyncio.run(_sending_as(server.port, "northwind.example"))
        cfg = SmtpConfig("127.0.0.1", server.port, "none", connections=1, ehlo="[127.0.0.1]")
        asyncio.run(_with(SmtpTransport(cfg, ehlo="northwind.example")))
    assert server.greetings == ["northwind.example", "[127.0.0.1]"]


async def _with(transport: SmtpTransport) -> None:
    async with transport:
        await transport.send(_email("t5"))


@pytest.mark.parametrize("value", ["mail server", "-bad.example", "a..b", "x" * 300, "north_wind.example"])
def test_smtp_ehlo_must_be_a_host_name(value, tmp_path):
    with pytest.raises(ConfigError, match="SMTP_EHLO"):
        config_from_env({"SMTP_HOST": "127.0.0.1", "SMTP_EHLO": value}, root=tmp_path)
    ok = config_from_env({"SMTP_HOST": "127.0.0.1", "SMTP_EHLO": "mta1.northwind.example"}, root=tmp_path)
    assert ok.smtp.ehlo == "mta1.northwind.example"
    assert config_from_env({"SMTP_HOST": "127.0.0.1"}, root=tmp_path).smtp.ehlo == ""


def test_task_digests_are_auto_submitted_and_lead_mail_is_not(make_repo, smtp_env):
    campaign = BLAST.replace("{day: 2, channel: sms, message: hot/sms-nudge}",
                             "{day: 1, channel: call, message: hot/call-script}")
    root = outreach_repo(make_repo, leads_text(2), campaign=campaign)
    with SmtpServer() as server:
        smtp_env(server)
        assert main(SEND + ["--root", str(root)]) == 0          # the email to each lead
        assert main(["send", "--today", "2026-11-24", "--now", "2026-11-24T10:00:00-06:00", "--no-commit",
                     "--root", str(root)]) == 0                  # the calls: a digest to Sam
    msgs = server.parsed()
    digests = [m for m in msgs if str(m["Subject"]).startswith("Your relead tasks")]
    to_leads = [m for m in msgs if m not in digests]
    assert digests and to_leads
    assert all(m["Auto-Submitted"] == "auto-generated" and m["List-Unsubscribe"] is None for m in digests)
    assert all(m["Auto-Submitted"] is None and m["List-Unsubscribe"] for m in to_leads)
