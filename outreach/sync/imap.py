"""Reading the reply mailbox over IMAP, read only, headers first.

Each folder is opened with EXAMINE (``select_folder(readonly=True)``) and read with
``BODY.PEEK``: no flag is set, nothing is moved or deleted, so the team's own view of
the mailbox (unread replies) is untouched. Only the messages since a day are read:
their headers first, then the whole message only where the headers say it may be
ours (a candidate); a mailbox of thousands of newsletters costs only their headers.
"Since a day" is either date: the day it arrived (INTERNALDATE) or the day it says it
was written (its Date header).
"""

from __future__ import annotations

import datetime as dt
import socket
import ssl
from dataclasses import dataclass
from email import policy
from email.message import Message
from email.parser import BytesHeaderParser
from typing import Callable, Iterator

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from ..config import ImapConfig
from ..errors import OutreachError

__all__ = ["SyncSourceError", "Fetched", "read_mailbox", "FETCH_BATCH"]

FETCH_BATCH = 200


class SyncSourceError(OutreachError, ConnectionError):
    """A source of replies (the mailbox, Twilio) could not be read."""


@dataclass(frozen=True)
class Fetched:
    """One message of the mailbox: its headers, and its bytes when it was a candidate."""

    folder: str
    headers: Message
    raw: bytes | None


def read_mailbox(config: ImapConfig, since: dt.date, *, skip: Callable[[Message], bool],
                 candidate: Callable[[Message], bool]) -> Iterator[Fetched]:
    """Every message received since ``since`` in the configured folders, except those ``skip``
    says were read before; the bytes only of ``candidate`` ones."""
    context = ssl.create_default_context()
    try:
        client = IMAPClient(config.host, port=config.port, ssl=config.security == "tls", ssl_context=context,
                            timeout=config.timeout)
    except (OSError, IMAPClientError, socket.timeout) as exc:
        raise SyncSourceError(f"cannot connect to {config.host}:{config.port} ({exc.__class__.__name__}: {exc})") \
            from None
    try:
        if config.security == "starttls":
            client.starttls(context)
        client.login(config.username, config.password)
        parse = BytesHeaderParser(policy=policy.default).parsebytes
        for folder in config.folders:
            client.select_folder(folder, readonly=True)
            # Arrived since the day, or dated since then: a reply held up in transit still counts.
            uids = client.search(["OR", "SINCE", since, "SENTSINCE", since])
            for start in range(0, len(uids), FETCH_BATCH):
                batch = uids[start:start + FETCH_BATCH]
                heads = client.fetch(batch, ["BODY.PEEK[HEADER]"])
                wanted, found = [], []
                for uid in batch:
                    data = heads.get(uid, {})
                    headers = parse(data.get(b"BODY[HEADER]", b""))
                    if skip(headers):
                        continue
                    found.append((uid, headers))
                    if candidate(headers):
                        wanted.append(uid)
                bodies = client.fetch(wanted, ["BODY.PEEK[]"]) if wanted else {}
                for uid, headers in found:
                    yield Fetched(folder, headers, bodies.get(uid, {}).get(b"BODY[]"))
    except LoginError:
        raise SyncSourceError(f"IMAP login refused by {config.host}: check IMAP_USERNAME and IMAP_PASSWORD") \
            from None
    except (OSError, IMAPClientError, socket.timeout) as exc:
        raise SyncSourceError(f"reading {config.host} failed ({exc.__class__.__name__}: {exc})") from None
    finally:
        try:
            client.logout()
        except (OSError, IMAPClientError, socket.timeout):
            client.shutdown()
