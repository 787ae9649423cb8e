"""Email over SMTP: a pool of connections, each reused for many messages, pipelined when offered.

``concurrency`` connections (``SMTP_CONNECTIONS``) are opened as needed and kept;
a connection that saw an error is closed and the next message gets a fresh one.
aiosmtplib opens each connection, secures it (``SMTP_SECURITY``) and logs in; then
:class:`_Connection` takes the socket over for the transactions. When the server
offers PIPELINING (RFC 2920; every mainstream relay does) it writes MAIL, RCPT and
DATA at once and reads their replies in order: two round trips a message instead of
four, which is what a relay across a network makes a run wait for. aiosmtplib's own
protocol reads one reply per command written, so it cannot do that.

How each failure is classed (docs/outreach.md has the table):

* a refused login (any AUTH failure; 530, 534, 535, 538 at any stage) or a 5xx to MAIL FROM
  (our sender address): :class:`AccountRefused`. That is about us, not the recipient: the
  run stops sending email at once. Until one connection has logged in, connections open one
  at a time, so a wrong password is tried once, not once per connection;
* a 4xx reply, a refused or dropped connection before the message data went out, and
  any other failure to connect (nothing to do with the recipient):
  :class:`TemporaryDeliveryError` (the sender retries on a fresh connection);
* a 5xx reply to RCPT: :class:`RecipientRejected` (the address bounced); after the data:
  :class:`PermanentDeliveryError` (that message was refused);
* a drop or timeout once the message data went out: :class:`DeliveryUnknown`. The
  server may have taken the message, so it is never retried.

``SMTP_SECURITY=none`` passes ``start_tls=False``: aiosmtplib would otherwise
upgrade by itself whenever the server offers STARTTLS.

EHLO names us by ``SMTP_EHLO``, else by the domain of our sender address (the caller's, else
the envelope sender of the message the connection opens for), never aiosmtplib's default, the
machine's own name (``localhost`` on many a laptop and container), which relays and spam
filters hold against a sender.
"""

from __future__ import annotations

import asyncio
import re
from collections import deque

import aiosmtplib
from aiosmtplib import errors as E

from relead.read.values import valid_email

from ..config import SmtpConfig
from ..errors import (AccountRefused, DeliveryUnknown, PermanentDeliveryError, RecipientRejected,
                      TemporaryDeliveryError)
from ..transports import Delivered, OutgoingEmail
from .gate import AccountGate

__all__ = ["SmtpTransport"]

_MID = re.compile(rb"^Message-ID: (<[^>\r\n]+>)", re.MULTILINE)
_LINE_ENDS = re.compile(rb"\r\n|\r|\n")
_LEADING_DOT = re.compile(rb"^\.", re.MULTILINE)
_LONGEST_REPLY = 65536
_EXPECTED = {"MAIL": (250,), "RCPT": (250, 251), "DATA": (354,), "message": (250,)}
# Replies about our account, whatever the stage: authentication required (530), a mechanism too
# weak or a password that must change (534), credentials refused (535), encryption required (538).
_ACCOUNT_CODES = frozenset({"530", "534", "535", "538"})


class _Refused(Exception):
    def __init__(self, stage: str, code: int, text: str):
        super().__init__(f"{code} {text}".strip())
        self.stage, self.code = stage, code


class _Connection(asyncio.Protocol):
    """One connection's replies, kept in order until asked for, so commands can be pipelined."""

    def __init__(self, client: aiosmtplib.SMTP):
        self.pipelining = client.supports_extension("pipelining")
        self._buffer = b""
        self._lines: list[str] = []          # a multi-line reply read so far
        self._replies: deque[tuple[int, str]] = deque()
        self._waiter: asyncio.Future | None = None
        self._lost = ""
        self._gone = asyncio.get_running_loop().create_future()      # set once the socket is closed
        self.transport = client.transport
        self.transport.set_protocol(self)

    @property
    def is_open(self) -> bool:
        return not self._lost and not self.transport.is_closing()

    def data_received(self, data: bytes) -> None:
        *lines, self._buffer = (self._buffer + data).split(b"\n")
        if len(self._buffer) > _LONGEST_REPLY:
            lines.append(b"")       # garbled: no server writes a reply line this long
        for line in lines:
            code = line[:3]
            if not code.isdigit() or line[3:4] not in (b"-", b" ", b"\r", b""):
                self._lost = f"a garbled reply: {line[:40]!r}"
                self.transport.abort()
                break
            self._lines.append(line[4:].rstrip(b"\r").decode("utf-8", "replace"))
            if line[3:4] != b"-":
                self._replies.append((int(code), " ".join(self._lines)))
                self._lines = []
        self._wake()

    def eof_received(self) -> bool:
        self._lost = self._lost or "closed by the server"
        self._wake()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost = self._lost or "connection lost"
        self._wake()
        if not self._gone.done():
            self._gone.set_result(None)

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def write(self, data: bytes) -> None:
        if not self.is_open:
            raise ConnectionResetError(self._lost or "connection closed")
        self.transport.write(data)

    async def reply(self) -> tuple[int, str]:
        while not self._replies:
            if self._lost:
                raise ConnectionResetError(self._lost)
            self._waiter = asyncio.get_running_loop().create_future()
            await self._waiter
        return self._replies.popleft()

    async def quit(self) -> None:
        """Say goodbye, then wait until the socket is closed: closing TLS takes a round trip, and a
        run that ended first would leave the socket open."""
        self.write(b"QUIT\r\n")
        await self.reply()
        self.transport.close()
        await self._gone

    def abort(self) -> None:
        """Close at once: the connection saw an error, or would not say goodbye in time."""
        self.transport.abort()


class SmtpTransport:
    def __init__(self, config: SmtpConfig, *, ehlo: str = ""):
        """``ehlo``: the name to give in EHLO when ``config.ehlo`` (``SMTP_EHLO``) is empty, the
        domain of the sender address; "" takes the domain of the envelope sender of the message
        each connection is opened for."""
        self.config = config
        self.ehlo = config.ehlo or ehlo
        self.concurrency = config.connections
        self._idle: asyncio.LifoQueue | None = None
        self._open: set[_Connection] = set()
        self._gate = AccountGate()

    async def __aenter__(self) -> "SmtpTransport":
        self._idle = asyncio.LifoQueue()
        for _ in range(self.concurrency):
            self._idle.put_nowait(None)      # a slot without a connection yet
        return self

    async def __aexit__(self, *exc) -> None:
        connections, self._open = list(self._open), set()
        for conn in connections:
            try:
                await asyncio.wait_for(conn.quit(), timeout=2)
            except (OSError, asyncio.TimeoutError):
                conn.abort()

    async def _connect(self, sender: str) -> _Connection:
        """A new connection; until one has logged in, one at a time (:class:`AccountGate`)."""
        return await self._gate.through(lambda: self._open_connection(sender))

    async def _open_connection(self, sender: str) -> _Connection:
        cfg = self.config
        client = aiosmtplib.SMTP(
            hostname=cfg.host, port=cfg.port, timeout=cfg.timeout,
            local_hostname=self.ehlo or sender.rpartition("@")[2] or None,
            use_tls=cfg.security == "tls", start_tls=True if cfg.security == "starttls" else False)
        try:
            await client.connect()
            if client.is_ehlo_or_helo_needed:     # the transactions below do not go through aiosmtplib
                try:
                    await client.ehlo()
                except E.SMTPHeloError:
                    await client.helo()
            if cfg.username:
                await self._login(client)
        except AccountRefused:
            client.close()
            raise
        except (E.SMTPException, OSError, asyncio.TimeoutError) as exc:
            # Nothing to do with the recipient: a busy or refusing server. Temporary, so the
            # touches are deferred (not failed) and go out once it is back.
            client.close()
            code = str(getattr(exc, "code", "") or "connect")
            if code in _ACCOUNT_CODES:
                raise AccountRefused(f"{cfg.host} refused this account ({code} {exc})", code=code) from None
            raise TemporaryDeliveryError(f"cannot connect to {cfg.host}:{cfg.port} ({exc.__class__.__name__} "
                                         f"{code})", code=code) from None
        conn = _Connection(client)
        self._open.add(conn)
        return conn

    async def _login(self, client: aiosmtplib.SMTP) -> None:
        """One AUTH attempt with the best method both sides know (aiosmtplib's own ``login``
        tries every method in turn: two or three refused logins per connection)."""
        cfg = self.config
        methods = client.supported_auth_methods
        if not methods:
            raise AccountRefused(f"{cfg.host} offers no login this client can use (no AUTH PLAIN, LOGIN or "
                                 "CRAM-MD5): check SMTP_SECURITY and SMTP_PORT", code="auth")
        try:
            await getattr(client, f"auth_{methods[0].replace('-', '')}")(cfg.username, cfg.password)
        except E.SMTPAuthenticationError as exc:
            raise AccountRefused(f"SMTP login refused by {cfg.host} ({exc.code} {exc.message}): check "
                                 "SMTP_USERNAME and SMTP_PASSWORD", code=str(exc.code)) from None

    def _drop(self, conn: _Connection | None) -> None:
        if conn is not None:
            self._open.discard(conn)
            conn.abort()

    async def send(self, message: OutgoingEmail) -> str | Delivered:
        assert self._idle is not None, "use the transport as `async with`"
        conn = await self._idle.get()
        try:
            if conn is None or not conn.is_open:
                self._drop(conn)
                conn = None
                conn = await self._connect(message.sender)
            answer = await self._transaction(conn, message)
        except BaseException:
            self._drop(conn)
            conn = None
            raise
        finally:
            self._idle.put_nowait(conn)
        m = _MID.search(message.data)
        ref = m.group(1).decode("ascii") if m else message.id
        relay = _relay_id(answer)
        return Delivered(ref, f"relay {relay}") if relay else ref

    async def _transaction(self, conn: _Connection, message: OutgoingEmail) -> str:
        """The transaction; returns the server's answer to the message data."""
        commands = [("MAIL", b"MAIL FROM:" + _path(message.sender) + b"\r\n"),
                    *(("RCPT", b"RCPT TO:" + _path(rcpt) + b"\r\n") for rcpt in message.recipients),
                    ("DATA", b"DATA\r\n")]
        stage = "MAIL"
        try:
            async with asyncio.timeout(self.config.timeout):
                if conn.pipelining:
                    conn.write(b"".join(command for _stage, command in commands))
                # Every reply is read in order, so the first refusal is the one reported; the
                # connection is then dropped, which ends the transaction before any data went out.
                for stage, command in commands:
                    if not conn.pipelining:
                        conn.write(command)
                    code, text = await conn.reply()
                    if code not in _EXPECTED[stage]:
                        raise _Refused(stage, code, text)
                stage = "message"
                conn.write(_dot_stuffed(message.data))
                code, text = await conn.reply()
                if code not in _EXPECTED[stage]:
                    raise _Refused("DATA", code, text)
                return text
        except _Refused as exc:
            permanent = 500 <= exc.code < 600
            if str(exc.code) in _ACCOUNT_CODES:
                raise AccountRefused(f"{self.config.host} wants a login for this account ({exc})",
                                     code=str(exc.code)) from None
            if exc.stage == "MAIL" and permanent:
                # Every message of the run has this sender: refused once, refused for all.
                raise AccountRefused(f"{self.config.host} refused the sender address {message.sender} "
                                     f"({exc})", code=str(exc.code)) from None
            if exc.stage == "RCPT":
                if permanent:
                    raise RecipientRejected(f"recipient refused: {exc}", code=str(exc.code)) from None
                raise TemporaryDeliveryError(f"recipient deferred: {exc}", code=str(exc.code)) from None
            error = PermanentDeliveryError if permanent else TemporaryDeliveryError
            raise error(f"{exc.stage} refused: {exc}", code=str(exc.code)) from None
        except (OSError, TimeoutError) as exc:
            if stage == "message":
                raise DeliveryUnknown(f"connection lost during DATA ({exc.__class__.__name__}): "
                                      "the server may have the message", code="data") from None
            raise TemporaryDeliveryError(f"connection lost at {stage} ({exc.__class__.__name__})",
                                         code="disconnect") from None


_QUEUED = re.compile(r"queued as ([\w.-]+)|^(?:2\.\d\.\d\s+)?ok\s+([\w.-]{8,})\b", re.I)


def _relay_id(answer: str) -> str:
    """The relay's own id for a message, from its 250 answer: Postfix's ``queued as 4RB1vH5c``,
    Amazon SES's ``Ok 0100018c...-000000``, which is also the Message-ID SES gives the mail
    (replies then name that one: sync matches on it)."""
    m = _QUEUED.search(answer)
    return (m.group(1) or m.group(2)) if m else ""


def _path(address: str) -> bytes:
    """``<address>`` for MAIL FROM and RCPT TO."""
    if not valid_email(address):      # loading checked every address; this is the last guard
        raise PermanentDeliveryError(f"not a usable address: {address!r}", code="address")
    return b"<" + address.encode("ascii") + b">"


def _dot_stuffed(data: bytes) -> bytes:
    """The message as DATA sends it (RFC 5321 4.5.2): CRLF line ends, a leading dot doubled, the
    final lone dot."""
    data = _LEADING_DOT.sub(b"..", _LINE_ENDS.sub(b"\r\n", data))
    return data + (b".\r\n" if data.endswith(b"\r\n") else b"\r\n.\r\n")
