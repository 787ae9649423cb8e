"""SMS to files: each message as ``<id>.txt`` in a directory (the default with no Twilio)."""

from __future__ import annotations

from pathlib import Path

from ._files import write_atomic
from ..transports import OutgoingSms

__all__ = ["SmsFileTransport"]


class SmsFileTransport:
    concurrency = 1

    def __init__(self, directory: Path):
        self.directory = Path(directory)

    async def __aenter__(self) -> "SmsFileTransport":
        return self

    async def __aexit__(self, *exc) -> None:
        return None

    async def send(self, message: OutgoingSms) -> str:
        write_atomic(self.directory / f"{message.id}.txt",
                     f"To: {message.to}\n\n{message.body}\n".encode("utf-8"))
        return f"file:{message.id}"
