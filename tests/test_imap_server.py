"""The IMAP test server (tests/imap_server.py) is a real Dovecot: read it with imapclient."""

from __future__ import annotations

import datetime as dt
import ssl

import pytest
from imapclient import IMAPClient
from imapclient.exceptions import LoginError

from tests.imap_server import CA

REPLY = (b"From: Dana Reyes <dana@contoso.example>\n"
         b"To: sales@northwind.example\n"
         b"Subject: Re: scanners\n"
         b"Message-ID: <reply-1@contoso.example>\n"
         b"\n"
         b"Yes, call me on Tuesday.\n")
BOUNCE = (b"From: MAILER-DAEMON@mx.contoso.example\r\n"
          b"To: sales@northwind.example\r\n"
          b"Subject: Undelivered Mail Returned to Sender\r\n"
          b"\r\n"
          b"550 5.1.1 no such user\r\n")


def crlf(message: bytes) -> bytes:
    return message.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def connect(env: dict[str, str]) -> IMAPClient:
    """Log in the way the product will: IMAP_* settings, certificates checked against the test CA."""
    context = ssl.create_default_context(cafile=str(CA))
    security = env["IMAP_SECURITY"]
    client = IMAPClient(env["IMAP_HOST"], int(env["IMAP_PORT"]), ssl=security == "tls",
                        ssl_context=context, timeout=10)
    try:
        if security == "starttls":
            assert b"STARTTLS" in client.capabilities()
            client.starttls(context)
        client.login(env["IMAP_USERNAME"], env["IMAP_PASSWORD"])
    except BaseException:
        client.shutdown()
        raise
    return client


def test_env_names_the_server(imap):
    assert imap.env("none") == {
        "IMAP_HOST": "127.0.0.1", "IMAP_PORT": str(imap.port),
        "IMAP_USERNAME": "sales@northwind.example", "IMAP_PASSWORD": "imap-secret",
        "IMAP_SECURITY": "none"}
    assert imap.env("starttls")["IMAP_PORT"] == str(imap.port)
    assert imap.env("tls")["IMAP_PORT"] == str(imap.tls_port) != str(imap.port)
    with pytest.raises(ValueError):
        imap.env("ssl")


@pytest.mark.parametrize("security", ["none", "starttls", "tls"])
@pytest.mark.parametrize("readonly", [False, True], ids=["select", "examine"])
def test_peek_fetches_the_bytes_and_sets_no_flag(imap, security, readonly):
    first = imap.append(REPLY)
    second = imap.append(BOUNCE)
    assert second > first
    before = imap.snapshot()
    assert before == {"INBOX": [(first, ()), (second, ())]}

    with connect(imap.env(security)) as client:
        assert isinstance(client.socket(), ssl.SSLSocket) == (security != "none")
        info = client.select_folder("INBOX", readonly=readonly)
        assert info[b"EXISTS"] == 2
        fetched = client.fetch([first, second], ["BODY.PEEK[HEADER]", "BODY.PEEK[]"])

    assert fetched[first][b"BODY[]"] == crlf(REPLY)
    assert fetched[second][b"BODY[]"] == BOUNCE
    assert fetched[first][b"BODY[HEADER]"] == crlf(REPLY).split(b"\r\n\r\n")[0] + b"\r\n\r\n"
    assert fetched[second][b"BODY[HEADER]"].startswith(b"From: MAILER-DAEMON@")
    assert imap.snapshot() == before                 # no \Seen, nothing moved or deleted


def test_snapshot_sees_a_fetch_that_marks_seen(imap):
    uid = imap.append(REPLY)
    with connect(imap.env("none")) as client:
        client.select_folder("INBOX")
        client.fetch([uid], ["BODY[]"])              # not PEEK: sets \Seen
    assert imap.snapshot() == {"INBOX": [(uid, ("\\Seen",))]}


def test_append_keeps_folders_flags_and_date(imap):
    when = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.timezone.utc)
    uid = imap.append(BOUNCE, "Bounces", flags=["\\Seen", "\\Flagged"], date=when)
    assert imap.snapshot() == {"Bounces": [(uid, ("\\Flagged", "\\Seen"))], "INBOX": []}
    with connect(imap.env("none")) as client:
        client.select_folder("Bounces", readonly=True)
        assert client.fetch([uid], ["INTERNALDATE"])[uid][b"INTERNALDATE"].astimezone(dt.timezone.utc) \
            == when


def test_wrong_password_is_refused(imap):
    env = imap.env("none")
    for user, password in [(env["IMAP_USERNAME"], "wrong"), ("nobody@northwind.example", "imap-secret")]:
        with pytest.raises(LoginError):
            connect({**env, "IMAP_USERNAME": user, "IMAP_PASSWORD": password})


def test_tls_is_checked_against_the_certificate(imap):
    """A client that trusts no test authority refuses the server's certificate."""
    bare = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)          # verifies, but trusts nothing
    with pytest.raises(ssl.SSLCertVerificationError):
        IMAPClient(imap.host, imap.tls_port, ssl=True, ssl_context=bare, timeout=10)


def test_clear_empties_every_folder(imap):
    imap.append(REPLY)
    imap.append(REPLY, "Replies", flags=["\\Seen"])
    imap.append(BOUNCE, "Archive.2026")
    assert set(imap.snapshot()) == {"INBOX", "Replies", "Archive.2026"}
    imap.clear()
    assert imap.snapshot() == {"INBOX": []}
    with connect(imap.env("none")) as client:
        assert [name for _flags, _delim, name in client.list_folders()] == ["INBOX"]
        assert client.select_folder("INBOX")[b"EXISTS"] == 0


def test_another_user_has_its_own_mailbox(imap):
    imap.add_user("ops@northwind.example", "ops-secret")
    uid = imap.append(BOUNCE, user="ops@northwind.example")
    env = {**imap.env("tls"), "IMAP_USERNAME": "ops@northwind.example", "IMAP_PASSWORD": "ops-secret"}
    with connect(env) as client:
        client.select_folder("INBOX", readonly=True)
        assert client.search("ALL") == [uid]
    assert imap.snapshot() == {"INBOX": []}
    assert imap.snapshot("ops@northwind.example") == {"INBOX": [(uid, ())]}


@pytest.mark.parametrize("required, outcome", [("1", pytest.fail.Exception), ("", pytest.skip.Exception)])
def test_without_dovecot_ci_fails_and_a_laptop_skips(monkeypatch, required, outcome):
    import tests.imap_server as server
    monkeypatch.setattr(server, "dovecot_binary", lambda: None)     # as on a machine without the package
    monkeypatch.setenv("RELEAD_REQUIRE_SERVERS", required)
    with pytest.raises(outcome, match="dovecot"):
        server.require_dovecot()
