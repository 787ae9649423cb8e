"""Email over SMTP with aiosmtplib: a pool of connections, each reused for many messages.

``concurrency`` connections (``SMTP_CONNECTIONS``) are opened as needed and kept;
a connection that saw an error is closed and the next message gets a fresh one.
How each failure is classed (SPEC 6):

* a 4xx reply, a refused or dropped connection before the message data went out, and
  any failure to connect or log in (nothing to do with the recipient):
  :class:`TemporaryDeliveryError` (the sender retries on a fresh connection);
* a 5xx reply: :class:`PermanentDeliveryError`; on RCPT, :class:`RecipientRejected`
  (the address bounced);
* a drop or timeout once DATA has started: :class:`DeliveryUnknown`. The server
  may have taken the message, so it is never retried.

``SMTP_SECURITY=none`` passes ``start_tls=False``: aiosmtplib would otherwise
upgrade by itself whenever the server offers STARTTLS.
"""

from __future__ import annotations

import asyncio
import re

import aiosmtplib
from aiosmtplib import errors as E

from relead.convert import valid_email

from ..config import SmtpConfig
from ..errors import DeliveryUnknown, PermanentDeliveryError, RecipientRejected, TemporaryDeliveryError
from ..transports import OutgoingEmail

__all__ = ["SmtpTransport"]

_MID = re.compile(rb"^Message-ID: (<[^>\r\n]+>)", re.MULTILINE)


def _reply(exc: E.SMTPResponseException) -> str:
    return f"{exc.code} {exc.message}".strip()


class SmtpTransport:
    def __init__(self, config: SmtpConfig):
        self.config = config
        self.concurrency = config.connections
        self._idle: asyncio.LifoQueue | None = None
        self._open: set[aiosmtplib.SMTP] = set()

    async def __aenter__(self) -> "SmtpTransport":
        self._idle = asyncio.LifoQueue()
        for _ in range(self.concurrency):
            self._idle.put_nowait(None)      # a slot without a connection yet
        return self

    async def __aexit__(self, *exc) -> None:
        clients, self._open = list(self._open), set()
        for client in clients:
            try:
                await asyncio.wait_for(client.quit(), timeout=2)
            except (E.SMTPException, OSError, asyncio.TimeoutError):
                client.close()

    async def _connect(self) -> aiosmtplib.SMTP:
        cfg = self.config
        client = aiosmtplib.SMTP(
            hostname=cfg.host, port=cfg.port, timeout=cfg.timeout,
            use_tls=cfg.security == "tls", start_tls=True if cfg.security == "starttls" else False,
            username=cfg.username or None, password=cfg.password or None)
        try:
            await client.connect()
            if client.is_ehlo_or_helo_needed:     # the transaction below goes to the protocol directly
                try:
                    await client.ehlo()
                except E.SMTPHeloError:
                    await client.helo()
        except (E.SMTPException, OSError, asyncio.TimeoutError) as exc:
            # Nothing to do with the recipient: a wrong password, a busy or refusing server.
            # Temporary, so the touches are deferred (not failed) and go out once it is fixed.
            client.close()
            code = str(getattr(exc, "code", "") or "connect")
            what = (f"SMTP login refused ({code})" if isinstance(exc, E.SMTPAuthenticationError)
                    else f"cannot connect to {cfg.host}:{cfg.port} ({exc.__class__.__name__} {code})")
            raise TemporaryDeliveryError(what, code=code) from None
        self._open.add(client)
        return client

    def _drop(self, client: aiosmtplib.SMTP | None) -> None:
        if client is not None:
            self._open.discard(client)
            client.close()

    async def send(self, message: OutgoingEmail) -> str:
        assert self._idle is not None, "use the transport as `async with`"
        client = await self._idle.get()
        try:
            if client is None or not client.is_connected:
                self._drop(client)
                client = None
                client = await self._connect()
            ref = await self._transaction(client, message)
            return ref
        except BaseException:
            self._drop(client)
            client = None
            raise
        finally:
            self._idle.put_nowait(client)

    async def _transaction(self, client: aiosmtplib.SMTP, message: OutgoingEmail) -> str:
        # The commands go straight to aiosmtplib's protocol with one deadline for the whole
        # transaction: its SMTP.mail()/rcpt() re-parse each address (checked when the data was
        # loaded) and arm a timer per reply, which together cost as much as our own
        # bookkeeping per message.
        proto = client.protocol
        stage = "MAIL"
        try:
            if proto is None:
                raise E.SMTPServerDisconnected("not connected")
            async with asyncio.timeout(self.config.timeout):
                reply = await proto.execute_command(b"MAIL", b"FROM:" + _path(message.sender))
                if reply.code != 250:
                    raise E.SMTPSenderRefused(reply.code, reply.message, message.sender)
                stage = "RCPT"
                for rcpt in message.recipients:
                    reply = await proto.execute_command(b"RCPT", b"TO:" + _path(rcpt))
                    if reply.code not in (250, 251):
                        raise E.SMTPRecipientRefused(reply.code, reply.message, rcpt)
                stage = "DATA"
                await proto.execute_data_command(message.data)
        except E.SMTPRecipientRefused as exc:
            if 500 <= exc.code < 600:
                raise RecipientRejected(f"recipient refused: {_reply(exc)}", code=str(exc.code)) from None
            raise TemporaryDeliveryError(f"recipient deferred: {_reply(exc)}", code=str(exc.code)) from None
        except E.SMTPResponseException as exc:
            what = f"{stage} refused: {_reply(exc)}"
            if 500 <= exc.code < 600:
                raise PermanentDeliveryError(what, code=str(exc.code)) from None
            raise TemporaryDeliveryError(what, code=str(exc.code)) from None
        except (E.SMTPServerDisconnected, E.SMTPTimeoutError, OSError, asyncio.TimeoutError) as exc:
            if stage == "DATA":
                raise DeliveryUnknown(f"connection lost during DATA ({exc.__class__.__name__}): "
                                      "the server may have the message", code="data") from None
            raise TemporaryDeliveryError(f"connection lost at {stage} ({exc.__class__.__name__})",
                                         code="disconnect") from None
        m = _MID.search(message.data)
        return m.group(1).decode("ascii") if m else message.id


def _path(address: str) -> bytes:
    """``<address>`` for MAIL FROM and RCPT TO."""
    if not valid_email(address):      # loading checked every address; this is the last guard
        raise PermanentDeliveryError(f"not a usable address: {address!r}", code="address")
    return b"<" + address.encode("ascii") + b">"
