"""One login at a time until the provider has taken our credentials: shared by the SMTP and
Twilio transports, so a wrong password or token is tried once, not once per connection
(providers lock accounts that fail to log in over and over)."""

from __future__ import annotations

import asyncio
from typing import Awaitable, Callable, TypeVar

from ..errors import AccountRefused

__all__ = ["AccountGate"]

T = TypeVar("T")


class AccountGate:
    """Lets attempts through one at a time until one was not refused as :class:`AccountRefused`,
    then all at once; after a refusal, none (each gets the same refusal)."""

    def __init__(self) -> None:
        self._first = asyncio.Lock()
        self._working = False
        self._refused: AccountRefused | None = None

    def _raise_if_refused(self) -> None:
        if self._refused is not None:
            raise AccountRefused(str(self._refused), code=self._refused.code)

    async def through(self, attempt: Callable[[], Awaitable[T]],
                      taken_by: tuple[type[BaseException], ...] = ()) -> T:
        """``attempt()``, gated. An exception in ``taken_by`` (a refusal about the recipient, say)
        still shows our credentials were taken."""
        self._raise_if_refused()
        if self._working:
            return await attempt()
        async with self._first:
            self._raise_if_refused()
            try:
                result = await attempt()
            except AccountRefused as exc:
                self._refused = exc
                raise
            except taken_by:
                self._working = True
                raise
            self._working = True
            return result
