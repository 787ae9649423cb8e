"""Email to files: each message as ``<id>.eml`` in a directory (the default with no SMTP)."""

from __future__ import annotations

import re
from pathlib import Path

from ._files import write_atomic
from ..transports import OutgoingEmail

__all__ = ["EmailFileTransport"]

_MID = re.compile(rb"^Message-ID: (<[^>\r\n]+>)", re.MULTILINE)


class EmailFileTransport:
    """Writes ``<directory>/<id>.eml``; the Message-ID is the provider id. Writing the same
    message again replaces the file, so a file transport can never deliver twice."""

    concurrency = 1

    def __init__(self, directory: Path):
        self.directory = Path(directory)

    async def __aenter__(self) -> "EmailFileTransport":
        return self

    async def __aexit__(self, *exc) -> None:
        return None

    async def send(self, message: OutgoingEmail) -> str:
        write_atomic(self.directory / f"{message.id}.eml", message.data)
        m = _MID.search(message.data)
        return m.group(1).decode("ascii") if m else message.id
