"""SMS through Twilio's async client (``messages.create_async``) over a small HTTP client of ours.

Why our own :class:`twilio.http.AsyncHttpClient`:

* ``TWILIO_API_BASE`` points requests at another base URL (a regional edge, or a
  local test endpoint) by rewriting ``https://api.twilio.com``;
* it sets the ``Authorization`` header itself (twilio's own client passes an
  ``auth`` object that aiohttp 3.14 deprecates);
* it never retries: ``AsyncTwilioHttpClient(max_retries=...)`` re-posts on 5xx and
  can send a message twice. Retrying is the sender's job, and only where safe;
* it sees the HTTP status and ``Retry-After`` before twilio turns them into an
  exception, so 429 / 5xx become :class:`TemporaryDeliveryError` with the wait.

Error codes (docs/outreach.md has the table): HTTP 401 / 403, 20003 (authentication), 20005
(account not active) and the codes about our sending number or a trial account are
:class:`AccountRefused`: no SMS can go out, so the run stops sending SMS at once (and until one
request has been taken, requests go one at a time: a wrong token is sent once). About the
recipient: 21610 (they replied STOP) marks the lead opted out of SMS; 21211, 21612 and 21614
mark the number unusable. 21408 (the recipient's country is not enabled for this account)
is deferred, not failed. Other 4xx are permanent for that message. A timeout or a dropped
connection after the request went out is :class:`DeliveryUnknown`.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from functools import lru_cache
from urllib.parse import urlencode

import aiohttp
from twilio.base.exceptions import TwilioException, TwilioRestException
from yarl import URL

from ..config import TwilioConfig
from ..errors import AccountRefused, DeliveryUnknown, PermanentDeliveryError, TemporaryDeliveryError
from ..transports import OutgoingSms
from .gate import AccountGate

__all__ = ["TwilioTransport", "http_client", "TWILIO_BASE", "OPTED_OUT_CODES", "BAD_NUMBER_CODES", "ACCOUNT_CODES",
           "NOT_ENABLED_CODES"]

TWILIO_BASE = "https://api.twilio.com"
FORM = "application/x-www-form-urlencoded"
OPTED_OUT_CODES = frozenset({21610})
BAD_NUMBER_CODES = frozenset({21211, 21612, 21614})
# About us: authentication (20003), account not active (20005), test credentials (20008), a From
# number that is not ours or cannot send (21212, 21606, 21659), a trial account's unverified
# recipients (21608), a suspended account (30002).
ACCOUNT_CODES = frozenset({20003, 20005, 20008, 21212, 21606, 21608, 21659, 30002})
NOT_ENABLED_CODES = frozenset({21408})
_log = logging.getLogger("outreach.twilio")


class _Retryable(Exception):
    def __init__(self, status: int, code: str, message: str, retry_after: float | None):
        super().__init__(message)
        self.status, self.code, self.retry_after = status, code, retry_after


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None     # an HTTP date: fall back to our own backoff


def _error(text: str) -> tuple[str, str]:
    try:
        doc = json.loads(text)
        return str(doc.get("code", "")), str(doc.get("message", ""))
    except (ValueError, AttributeError):
        return "", ""


@lru_cache(maxsize=4)
def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


@lru_cache(maxsize=256)
def _url(url: str, base: str) -> URL:
    """Parsed once: every message of a run posts to the same address."""
    if base and url.startswith(TWILIO_BASE):
        url = base + url[len(TWILIO_BASE):]
    return URL(url)


def http_client(base: str, timeout: float, connections: int):
    from twilio.http import AsyncHttpClient
    from twilio.http.response import Response

    class RebasedHttpClient(AsyncHttpClient):
        """No retries; our Authorization header; requests to ``base`` instead of api.twilio.com."""

        def __init__(self):
            super().__init__(_log, True, timeout)
            # Twilio's API sets no cookies: a jar would be consulted on every request for nothing.
            self.session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=connections),
                timeout=aiohttp.ClientTimeout(total=timeout), cookie_jar=aiohttp.DummyCookieJar())

        async def request(self, method, url, params=None, data=None, headers=None, auth=None,
                          timeout=None, allow_redirects=False):
            url = _url(url, base)
            headers = dict(headers or {})
            if auth is not None:
                headers["Authorization"] = _basic(*auth)
            if isinstance(data, dict) and headers.get("Content-Type") == FORM:
                data = urlencode(data, doseq=True)  # aiohttp's FormData does much more for the same bytes
            async with self.session.request(method, url, params=params, data=data, headers=headers,
                                            allow_redirects=allow_redirects) as resp:
                text = await resp.text()
                if resp.status == 429 or resp.status >= 500:
                    code, message = _error(text)
                    raise _Retryable(resp.status, code or str(resp.status), message,
                                     _retry_after(resp.headers.get("Retry-After")))
                return Response(resp.status, text, resp.headers)

        async def close(self):
            await self.session.close()

    return RebasedHttpClient()


class TwilioTransport:
    def __init__(self, config: TwilioConfig):
        self.config = config
        self.concurrency = config.connections
        self._http = None
        self._messages = None
        self._sender = ({"messaging_service_sid": config.messaging_service_sid} if config.messaging_service_sid
                        else {"from_": config.from_number})
        self._gate = AccountGate()

    async def __aenter__(self) -> "TwilioTransport":
        from twilio.rest import Client       # imported here: it is slow to import
        cfg = self.config
        self._http = http_client(cfg.api_base, cfg.timeout, cfg.connections)
        client = Client(cfg.account_sid, cfg.auth_token, http_client=self._http)
        self._messages = client.messages
        return self

    async def __aexit__(self, *exc) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def send(self, message: OutgoingSms) -> str:
        """Until Twilio has taken one request, requests go one at a time (:class:`AccountGate`):
        a wrong or rotated token is sent once, not once per connection. A refusal about the
        recipient shows our credentials were taken."""
        return await self._gate.through(lambda: self._create(message), taken_by=(PermanentDeliveryError,))

    async def _create(self, message: OutgoingSms) -> str:
        try:
            created = await self._messages.create_async(to=message.to, body=message.body, **self._sender)
        except _Retryable as exc:
            raise TemporaryDeliveryError(f"Twilio answered {exc.status}: {exc}".rstrip(": "),
                                         code=exc.code, retry_after=exc.retry_after) from None
        except TwilioRestException as exc:
            code = int(exc.code) if str(exc.code).isdigit() else 0
            text = f"Twilio refused the message ({exc.code}): {exc.msg}"
            if exc.status in (401, 403) or code in ACCOUNT_CODES:
                raise AccountRefused(f"Twilio refused this account ({exc.code or exc.status}): {exc.msg}; "
                                     "check TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM",
                                     code=str(exc.code or exc.status)) from None
            if code in NOT_ENABLED_CODES:
                raise TemporaryDeliveryError(f"{text}; enable the country in Twilio's SMS geographic "
                                             "permissions", code=str(code), retry_after=None,
                                             final=True) from None
            if code in OPTED_OUT_CODES:
                raise PermanentDeliveryError(text, code=str(code), mark="opted_out") from None
            if code in BAD_NUMBER_CODES:
                raise PermanentDeliveryError(text, code=str(code), mark="wrong_number") from None
            raise PermanentDeliveryError(text, code=str(exc.code)) from None
        except aiohttp.ClientConnectorError as exc:
            raise TemporaryDeliveryError(f"cannot connect to Twilio ({exc.__class__.__name__})",
                                         code="connect") from None
        except (aiohttp.ClientError, asyncio.TimeoutError, TwilioException) as exc:
            raise DeliveryUnknown(f"no answer from Twilio ({exc.__class__.__name__}): "
                                  "the message may have been sent", code="timeout") from None
        return str(created.sid)
