"""``make digest``: the Monday digest, last week in numbers, mailed to the team.

:mod:`outreach.digest_render` writes it (plain text and email-safe HTML) from
:func:`relead.derive.digest_numbers.digest_numbers`. This module says who gets it and sends it
through the outreach transports: ``.eml`` files under ``outbox/<day>/email/`` by default,
SMTP when ``SMTP_HOST`` is set (:mod:`outreach.config`). Like the owners' task digests it is
mail to the team, not to a lead: from the settings' sender, marked
``Auto-Submitted: auto-generated`` so no out-of-office answers it, without an unsubscribe link.

Never twice: a digest's id is its week and its recipient (:func:`digest_id`), its Message-ID
follows from it, and each one sent is appended to ``outbox/digests/<monday>.tsv`` (committed,
like the outreach queue, so the scheduled workflow's next run sees it): a recipient listed
there for the week is skipped. The line is written (and fsynced) once the server has taken
the message, or when the connection dropped after the data went out (the server may have it:
recorded, never sent again). Only a run killed between the server's answer and that write
could send one message again, a window of a few milliseconds per recipient.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import os
import random
from dataclasses import dataclass
from pathlib import Path

from relead.read.values import valid_email
from relead.derive.digest_numbers import DigestNumbers
from relead.model import Settings

from .digest_render import Recipient, render_digest
from .errors import (AccountRefused, DeliveryUnknown, OutreachError, PermanentDeliveryError, RenderError,
                     TemporaryDeliveryError)
from .mime import EmailParts, build_email, message_id
from .transports import OutgoingEmail

__all__ = ["recipients", "digest_id", "ledger_path", "already_sent", "Delivery", "send_digests",
           "LEDGER_HEADER"]

LEDGER_HEADER = "#relead-digest v1\tat\tto\tmessage_id\n"


def recipients(settings: Settings, to: list[str] | None = None) -> tuple[Recipient, ...]:
    """Each team member with an email (once per address), or the addresses given; a bad address
    is an :class:`OutreachError` naming it (exit 2)."""
    names = {m.email.lower(): m.name for m in settings.team.values() if m.email}
    if to:
        wanted = []
        for raw in to:
            addr = raw.strip()
            if not valid_email(addr):
                err = OutreachError(f"TO: {addr!r} is not an email address (write TO=a@example.com,b@example.com)")
                err.exit_code = 2
                raise err
            wanted.append(addr)
    else:
        wanted = [m.email for _key, m in sorted(settings.team.items()) if m.email]
    out, seen = [], set()
    for addr in wanted:
        if addr.lower() in seen:
            continue
        seen.add(addr.lower())
        out.append(Recipient(names.get(addr.lower(), ""), addr))
    return tuple(out)


def digest_id(monday: dt.date, address: str) -> str:
    """One id per week and recipient: the Message-ID and the ledger follow from it."""
    tag = hashlib.blake2b(address.strip().lower().encode(), digest_size=5).hexdigest()
    return f"week-{monday.isoformat()}-{tag}"


def ledger_path(root: Path, monday: dt.date) -> Path:
    return Path(root) / "outbox" / "digests" / f"{monday.isoformat()}.tsv"


def already_sent(path: Path) -> set[str]:
    """The addresses (lower-cased) a week's digest went to."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return set()
    sent = set()
    for line in text.splitlines():
        if line and not line.startswith("#"):
            fields = line.split("\t")
            if len(fields) >= 2:
                sent.add(fields[1].strip().lower())
    return sent


def _record(path: Path, at: dt.datetime, address: str, mid: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.exists()
    with open(path, "a", encoding="utf-8", newline="") as fh:
        if new:
            fh.write(LEDGER_HEADER)
        fh.write(f"{at.astimezone(dt.timezone.utc).isoformat(timespec='seconds')}\t{address}\t{mid}\n")
        fh.flush()
        os.fsync(fh.fileno())


# ------------------------------------------------------------------------------------- sending

@dataclass(frozen=True, slots=True)
class Delivery:
    recipient: Recipient
    state: str              # sent | unknown (may have arrived: recorded) | skipped (already this week) | failed
    note: str = ""
    message_id: str = ""


async def send_digests(n: DigestNumbers, settings: Settings, people: tuple[Recipient, ...], *, root: Path,
                       transport, now: dt.datetime, attempts: int = 4, backoff: float = 1.0,
                       sleep=asyncio.sleep) -> tuple[Delivery, ...]:
    """Send each recipient its digest unless the week's ledger lists them; record each one sent."""
    ledger = ledger_path(root, n.start)
    done = already_sent(ledger)
    out: list[Delivery] = []
    sender = settings.sender
    async with transport:
        for person in people:
            if person.address.lower() in done:
                out.append(Delivery(person, "skipped", f"already sent for the week of {n.start}"))
                continue
            did = digest_id(n.start, person.address)
            mid = message_id(did, sender.email)
            try:
                subject, text, html = render_digest(n, settings, person)
                data = build_email(EmailParts(did, person.name, person.address, subject, text, html,
                                              unsubscribe=False), sender=sender, now=now)
            except RenderError as exc:
                out.append(Delivery(person, "failed", str(exc)))
                continue
            message = OutgoingEmail(did, sender.email, (person.address,), data)
            state, note = await _deliver(transport, message, attempts=attempts, backoff=backoff, sleep=sleep)
            if state == "failed":
                out.append(Delivery(person, "failed", note))
                if note.startswith("account: "):
                    break       # our login or sender was refused: the next recipient would be too
                continue
            _record(ledger, now, person.address, mid)
            done.add(person.address.lower())
            out.append(Delivery(person, state, note, message_id=mid))
    return tuple(out)


async def _deliver(transport, message: OutgoingEmail, *, attempts: int, backoff: float, sleep) -> tuple[str, str]:
    """("sent", ""); ("unknown", why): the server may have it, so it counts as sent (never twice);
    or ("failed", why)."""
    for tries in range(1, max(1, attempts) + 1):
        try:
            await transport.send(message)
            return "sent", ""
        except AccountRefused as exc:
            return "failed", f"account: {exc}"
        except DeliveryUnknown as exc:
            return "unknown", f"the server may or may not have taken it ({exc}): recorded, not sent again"
        except PermanentDeliveryError as exc:
            return "failed", str(exc)
        except TemporaryDeliveryError as exc:
            if tries >= attempts or exc.final:
                return "failed", f"{exc} (tried {tries} times)"
            wait = exc.retry_after if exc.retry_after is not None else backoff * (2 ** (tries - 1))
            await sleep(min(wait * random.uniform(0.5, 1.0), 60.0))
    return "failed", "not sent"   # pragma: no cover - the loop returns
