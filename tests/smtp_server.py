"""A real SMTP server for the tests: aiosmtpd on 127.0.0.1, in a thread, with scripted faults.

``SmtpServer(faults=...)`` starts on a free port (aiosmtpd's ``Controller(port=0)``
cannot: its start-up check connects to port 0) and keeps every message it
accepted. ``faults(stage)`` is asked at MAIL, RCPT and after the message data
arrived ("DATA"); it returns None (carry on), an SMTP reply such as
``"451 4.3.0 try again"`` or ``"550 5.1.1 no such user"``, ``"drop"`` (close the
connection without answering) or, at DATA only, ``"accept-drop"``: keep the
message, then drop the connection before the 250, the nastiest case, where the
client cannot know the message went through; or "hang": keep it and never answer.
``ehlo=False`` makes it an old server that refuses EHLO and speaks only HELO;
``pipelining=False`` one that does not offer PIPELINING (RFC 2920), which every
mainstream relay offers and this server does by default. ``tls="starttls"`` offers
STARTTLS (and then takes a login only over TLS), ``tls="tls"`` speaks TLS from the
first byte; both with the certificate in ``tests/data/tls/localhost.pem``, signed by
a test authority (``CA``, whose key was thrown away) that a client trusts through
``SSL_CERT_FILE``. ``secured`` says, per message kept,
whether it came over TLS; ``greetings`` keeps the name each EHLO or HELO gave.
"""

from __future__ import annotations

import asyncio
import random
import socket
import ssl
import threading
from collections import Counter
from email import message_from_bytes, policy
from pathlib import Path
from typing import Callable

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

__all__ = ["SmtpServer", "free_port", "random_faults", "CA"]

_TLS = Path(__file__).parent / "data" / "tls"
CA = _TLS / "ca.pem"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def random_faults(seed: int, *, drop: float = 0.03, temp: float = 0.08, perm: float = 0.03,
                  accept_drop: float = 0.01) -> Callable[[str], str | None]:
    """Faults at random: dropped connections, 421 / 451, 550 to RCPT and 554 after the data;
    reproducible from ``seed``. No 5xx to MAIL FROM: that refuses our sender address, every
    message's, and stops a run's email (tested on its own)."""
    rng = random.Random(seed)
    lock = threading.Lock()

    def decide(stage: str) -> str | None:
        with lock:
            x = rng.random()
        if x < drop:
            return "drop"
        x -= drop
        if x < temp:
            return rng.choice(["421 4.3.2 service shutting down", "451 4.3.0 local error, try again"])
        x -= temp
        if x < perm and stage != "MAIL":
            return "550 5.1.1 mailbox unavailable" if stage == "RCPT" else "554 5.7.1 rejected"
        x -= perm
        if stage == "DATA" and x < accept_drop:
            return "accept-drop"
        return None

    return decide


class _Handler:
    def __init__(self, server: "SmtpServer"):
        self.owner = server

    def _fault(self, smtp, stage: str) -> str | None:
        what = self.owner.faults(stage) if self.owner.faults else None
        if what == "drop" or (what == "accept-drop" and stage != "DATA"):
            self.owner.drops += 1
            smtp.transport.abort()
            return "421 4.4.2 dropped"            # never reaches the client
        return what

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        if not self.owner.ehlo:            # an old server: HELO only
            return ["502 5.5.1 EHLO not implemented"]
        self.owner.greetings.append(hostname)
        session.host_name = hostname
        if self.owner.pipelining:
            return [*responses[:-1], "250-PIPELINING", responses[-1]]
        return responses

    async def handle_HELO(self, server, session, envelope, hostname):
        self.owner.greetings.append(hostname)
        session.host_name = hostname
        return f"250 {server.hostname}"

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        reply = self._fault(server, "MAIL")
        if reply:
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self._fault(server, "RCPT")
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        what = self.owner.faults("DATA") if self.owner.faults else None
        if what == "accept-drop":
            self.owner._accept(server, envelope)
            self.owner.drops += 1
            server.transport.abort()
            return "250 OK"
        if what == "drop":
            self.owner.drops += 1
            server.transport.abort()
            return "421 4.4.2 dropped"
        if what == "hang":                     # keep the message, never answer in time
            self.owner._accept(server, envelope)
            await asyncio.sleep(30)
            return "250 OK"
        if what:
            return what
        self.owner._accept(server, envelope)
        return "250 2.0.0 OK queued"


class SmtpServer:
    def __init__(self, *, faults: Callable[[str], str | None] | None = None,
                 login: tuple[str, str] | None = None, ehlo: bool = True, pipelining: bool = True,
                 tls: str | None = None):
        self.faults = faults
        self.ehlo = ehlo
        self.pipelining = pipelining
        self.login = login
        self.messages: list[tuple[str, tuple[str, ...], bytes]] = []
        self.secured: list[bool] = []
        self.greetings: list[str] = []          # the name in each EHLO / HELO, in order
        self.drops = 0
        self.logins: list[str] = []
        self.auth_attempts = 0                  # AUTH commands answered, refused ones included
        self._lock = threading.Lock()
        self.port = free_port()
        kwargs: dict = {}
        if login is not None:
            kwargs = dict(authenticator=self._authenticate, auth_require_tls=tls == "starttls")
        if tls:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(_TLS / "localhost.pem")     # for 127.0.0.1; key included
            kwargs["tls_context" if tls == "starttls" else "ssl_context"] = context
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port,
                                      decode_data=False, **kwargs)

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        self.auth_attempts += 1
        ok = isinstance(auth_data, LoginPassword) and (
            auth_data.login.decode(), auth_data.password.decode()) == self.login
        if ok:
            self.logins.append(auth_data.login.decode())
        return AuthResult(success=ok, handled=False)

    def _accept(self, server, envelope) -> None:
        with self._lock:
            self.messages.append((envelope.mail_from, tuple(envelope.rcpt_tos), bytes(envelope.content)))
            self.secured.append(server.transport.get_extra_info("ssl_object") is not None)

    def start(self) -> "SmtpServer":
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> "SmtpServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def count(self) -> int:
        with self._lock:
            return len(self.messages)

    def parsed(self):
        with self._lock:
            items = list(self.messages)
        return [message_from_bytes(data, policy=policy.default) for _f, _r, data in items]

    def message_ids(self) -> Counter:
        return Counter(m["Message-ID"] for m in self.parsed())
