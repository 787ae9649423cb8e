"""A local Twilio-compatible endpoint for the 2010-04-01 Messages resource.

A threaded ``http.server`` on 127.0.0.1 that answers like Twilio does, with HTTP
basic auth checked on every request (401 and Twilio's error JSON, code 20003,
otherwise). Errors carry Twilio's error JSON (``{"code", "message", "more_info",
"status"}``); 429 comes with ``Retry-After``.

``POST /2010-04-01/Accounts/{sid}/Messages.json`` (form encoded) creates an
outbound message: 201 with the message resource (``status`` queued,
``direction`` outbound-api). ``server.messages`` keeps each created message as
``{"sid": ..., **form}``; ``server.requests`` counts the authenticated POSTs.
Scripted faults per request: ``faults(form) -> None | 429 | 500 | 21610 | 21211
| 21614 | 401 | 403 | "drop"``. 401 answers like bad credentials (code 20003
"Authenticate"); 403 answers like a suspended or closed account (code 20403,
"403 Forbidden", which Twilio documents as "the account lacks permission to
access the Twilio API, typically suspended or closed").

``GET /2010-04-01/Accounts/{sid}/Messages.json`` lists messages like Twilio:
``{"messages": [...], "first_page_uri", "next_page_uri", "previous_page_uri",
"page", "page_size", "start", "end", "uri"}``, newest ``date_sent`` first. It
lists the messages created by POST (direction outbound-api, shown as sent,
``date_sent`` = ``server.now``), the outbound ones a test adds with
``server.outbound(to, body, ...)`` (sent from our number by something else than
relead) and the inbound ones a test adds with ``server.inbound(from_, body, to=...,
date_sent=...)`` (direction inbound, status received). As Twilio learns what became
of a message after it took it, a test says so with ``server.set_status(sid,
"delivered")`` or ``server.set_status(sid, "undelivered", error_code=30003)``. Filters: ``To``,
``From``, ``DateSent``, ``DateSent<``, ``DateSent>`` at whole-day granularity in
UTC, both bounds inclusive (a value is ``YYYY-MM-DD`` or an ISO 8601 date-time;
twilio-python sends ``date_sent_after=datetime`` as ``DateSent>=YYYY-MM-DDTHH:MM:SSZ``,
formatted without converting to UTC). ``PageSize`` (default 50, at most 1000);
paging with ``Page`` and ``PageToken`` (``PA<sid>``: after that message,
``PB<sid>``: before it) as in Twilio's ``next_page_uri`` / ``previous_page_uri``;
``next_page_uri`` is null on the last page. ``server.list_requests`` counts the
GETs and ``server.list_queries`` keeps each one's query. Scripted faults:
``list_faults(query) -> None | 429 | 500 | 401 | 403 | "drop"``.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import random
import re
import sys
import threading
import uuid
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import parse_qs, quote, urlencode, urlsplit

__all__ = ["TwilioServer", "random_twilio_faults", "OUR_NUMBER", "DEFAULT_NOW", "DELIVERY_ERRORS"]

_PATH = re.compile(r"^/2010-04-01/Accounts/(AC[0-9a-zA-Z]+)/Messages\.json$")
# Twilio's error_message for the delivery codes a message's status can end with.
DELIVERY_ERRORS = {
    30003: "Unreachable destination handset", 30004: "Message blocked", 30005: "Unknown destination handset",
    30006: "Landline or unreachable carrier", 30007: "Message filtered", 30008: "Unknown error",
}
_ERRORS = {
    21610: (400, "Attempt to send to unsubscribed recipient"),
    21211: (400, "The 'To' number is not a valid phone number."),
    21614: (400, "'To' number is not a valid mobile number"),
    20003: (401, "Authenticate"),
    20403: (403, "403 Forbidden"),
    20429: (429, "Too Many Requests"),
    20500: (500, "Internal Server Error"),
}
_DETAILS = {20003: "Your AccountSid or AuthToken was incorrect."}
_FAULT_CODES = {429: 20429, 500: 20500, 401: 20003, 403: 20403, 21610: 21610, 21211: 21211, 21614: 21614}
OUR_NUMBER = "+13125550199"                 # TWILIO_FROM in TwilioServer.env()
DEFAULT_NOW = dt.datetime(2026, 11, 23, 16, 0, tzinfo=dt.timezone.utc)
_UTC = dt.timezone.utc
_FILTERS = ("To", "From", "DateSent", "DateSent<", "DateSent>")
_MAX_PAGE_SIZE = 1000


def random_twilio_faults(seed: int, *, rate_limited: float = 0.1, server_error: float = 0.08,
                         opted_out: float = 0.03) -> Callable[[dict], object]:
    rng = random.Random(seed)
    lock = threading.Lock()

    def decide(form: dict):
        with lock:
            x = rng.random()
        if x < rate_limited:
            return 429
        if x < rate_limited + server_error:
            return 500
        if x < rate_limited + server_error + opted_out:
            return 21610
        return None

    return decide


def _utc(when: dt.datetime) -> dt.datetime:
    """Aware datetimes are converted; a naive one is taken to be UTC already."""
    return when.replace(tzinfo=_UTC) if when.tzinfo is None else when.astimezone(_UTC)


def _rfc2822(when: dt.datetime | None) -> str | None:
    """As Twilio writes dates: ``Mon, 23 Nov 2026 16:00:00 +0000``."""
    return None if when is None else format_datetime(_utc(when).replace(microsecond=0))


def _utc_day(value: str) -> dt.date:
    """``YYYY-MM-DD`` or an ISO 8601 date-time (``Z``, an offset, or none = UTC): its UTC day."""
    value = value.strip()
    if len(value) == 10:
        return dt.date.fromisoformat(value)
    return _utc(dt.datetime.fromisoformat(value)).date()


class _BadRequest(Exception):
    pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True      # else every request stalls ~40 ms (delayed ACK)

    def log_message(self, *args) -> None:   # quiet
        return None

    def _send(self, status: int, doc: dict, headers: dict | None = None) -> None:
        body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _error(self, code: int, headers: dict | None = None) -> None:
        status, message = _ERRORS[code]
        doc = {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
               "status": status}
        if code in _DETAILS:
            doc["detail"] = _DETAILS[code]
        self._send(status, doc, headers)

    def _drop(self) -> None:
        self.close_connection = True
        self.connection.shutdown(2)

    def _authorised(self, server: "TwilioServer", sid: str) -> bool:
        expected = "Basic " + base64.b64encode(f"{server.account_sid}:{server.auth_token}".encode()).decode()
        if sid != server.account_sid or self.headers.get("Authorization") != expected:
            self._error(20003)
            return False
        return True

    def _fault(self, server: "TwilioServer", fault) -> bool:
        """Answer a scripted fault; False when there is none."""
        if fault is None:
            return False
        if fault == "drop":
            self._drop()
        elif fault == 429:
            self._error(20429, {"Retry-After": str(server.retry_after)})
        elif fault in _FAULT_CODES:
            self._error(_FAULT_CODES[fault])
        else:
            raise ValueError(f"unknown scripted fault {fault!r}")
        return True

    def do_GET(self) -> None:
        server: TwilioServer = self.server.owner
        parts = urlsplit(self.path)
        m = _PATH.match(parts.path)
        if not m:
            self._send(404, {"code": 20404, "message": "The requested resource was not found", "status": 404})
            return
        query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        with server.lock:
            server.list_requests += 1
            server.list_queries.append(query)
        if not self._authorised(server, m.group(1)):
            return
        if self._fault(server, server.list_faults(query) if server.list_faults else None):
            return
        try:
            doc = server._page(parts.path, query)
        except _BadRequest as exc:
            self._send(400, {"code": 20001, "message": str(exc),
                             "more_info": "https://www.twilio.com/docs/errors/20001", "status": 400})
            return
        self._send(200, doc)

    def do_POST(self) -> None:
        server: TwilioServer = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode()
        m = _PATH.match(self.path)
        if not m:
            self._send(404, {"code": 20404, "message": "The requested resource was not found", "status": 404})
            return
        sid = m.group(1)
        if not self._authorised(server, sid):
            return
        if self.headers.get("Content-Type", "").split(";")[0] != "application/x-www-form-urlencoded":
            self._send(415, {"code": 20415, "message": "Unsupported Media Type", "status": 415})
            return
        form = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
        fault = server.faults(form) if server.faults else None
        server.requests += 1
        if self._fault(server, fault):
            return
        if "To" not in form or "Body" not in form or not ("From" in form or "MessagingServiceSid" in form):
            self._send(400, {"code": 21604, "message": "A 'To', 'Body' and 'From' are required", "status": 400})
            return
        msid = "SM" + uuid.uuid4().hex
        with server.lock:
            server.messages.append({"sid": msid, **form})
            when = server.now
            resource = server._resource(msid, to=form["To"], from_=form.get("From"), body=form["Body"],
                                        direction="outbound-api", status="sent", created=when, sent=when,
                                        messaging_service_sid=form.get("MessagingServiceSid"))
            server._store(resource, when)
        # As Twilio answers a create: still queued, not sent yet.
        self._send(201, {**resource, "status": "queued", "date_sent": None})


class _Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):     # a client that hung up is no news
            super().handle_error(request, client_address)


class TwilioServer:
    def __init__(self, *, account_sid: str = "AC" + "0" * 32, auth_token: str = "test-token",
                 faults: Callable[[dict], object] | None = None, retry_after: int = 0,
                 list_faults: Callable[[dict], object] | None = None, now: dt.datetime = DEFAULT_NOW):
        self.account_sid, self.auth_token = account_sid, auth_token
        self.faults = faults
        self.list_faults = list_faults
        self.retry_after = retry_after
        self.now = now                      # date of the messages POST creates; inbound()'s default
        self.messages: list[dict] = []      # POSTed forms, {"sid", **form}
        self.requests = 0                   # authenticated POSTs
        self.list_requests = 0              # GETs of the list, authenticated or not
        self.list_queries: list[dict] = []  # their query parameters
        self.lock = threading.Lock()
        self._listed: list[tuple[dt.datetime, int, dict]] = []     # (date_sent UTC, sequence, resource)
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.owner = self
        self.port = self._httpd.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    def start(self) -> "TwilioServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def __enter__(self) -> "TwilioServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def env(self) -> dict[str, str]:
        """The run's Twilio settings for this endpoint (plain http on loopback, hence allowed)."""
        return {"TWILIO_ACCOUNT_SID": self.account_sid, "TWILIO_AUTH_TOKEN": self.auth_token,
                "TWILIO_FROM": OUR_NUMBER, "TWILIO_API_BASE": self.base, "ALLOW_PLAINTEXT_AUTH": "1"}

    # --- inbound messages and the list ---------------------------------------------------------

    def inbound(self, from_: str, body: str, *, to: str = OUR_NUMBER,
                date_sent: dt.datetime | None = None) -> str:
        """A message someone sent to ``to``, as Twilio lists it; returns its sid.

        ``date_sent`` defaults to ``self.now`` (fixed, not the wall clock); an aware
        datetime in any zone is converted to UTC, a naive one is taken as UTC.
        """
        when = _utc(date_sent if date_sent is not None else self.now)
        sid = "SM" + uuid.uuid4().hex
        with self.lock:
            self._store(self._resource(sid, to=to, from_=from_, body=body, direction="inbound",
                                       status="received", created=when, sent=when), when)
        return sid

    def outbound(self, to: str, body: str, *, from_: str = OUR_NUMBER, status: str = "sent",
                 error_code: int | None = None, date_sent: dt.datetime | None = None) -> str:
        """A message sent from ``from_`` by something else than relead (the console, another tool),
        as Twilio lists it; returns its sid."""
        when = _utc(date_sent if date_sent is not None else self.now)
        sid = "SM" + uuid.uuid4().hex
        with self.lock:
            self._store(self._resource(sid, to=to, from_=from_, body=body, direction="outbound-api",
                                       status="sent", created=when, sent=when), when)
        if status != "sent" or error_code is not None:
            self.set_status(sid, status, error_code=error_code, at=when)
        return sid

    def set_status(self, sid: str, status: str, *, error_code: int | None = None,
                   at: dt.datetime | None = None) -> None:
        """What became of a message after Twilio took it (``delivered``, ``undelivered``, ``failed``
        with ``error_code``...), updated ``at`` (default ``self.now``), as the list shows it from then on."""
        when = _utc(at if at is not None else self.now)
        with self.lock:
            i = next((i for i, (_, _, r) in enumerate(self._listed) if r["sid"] == sid), None)
            if i is None:
                raise KeyError(f"no message {sid} on this endpoint")
            sent, seq, resource = self._listed[i]
            # A new dict: a page being written from the old one is not changed under it.
            self._listed[i] = (sent, seq, {
                **resource, "status": status, "error_code": error_code, "date_updated": _rfc2822(when),
                "error_message": DELIVERY_ERRORS.get(error_code) if error_code is not None else None})

    def listed(self) -> list[dict]:
        """Every message resource the list can show, newest first (as with no filter)."""
        with self.lock:
            return [r for _, _, r in sorted(self._listed, key=lambda e: (e[0], e[1]), reverse=True)]

    def _store(self, resource: dict, when: dt.datetime) -> None:
        self._listed.append((_utc(when), len(self._listed), resource))

    def _resource(self, sid: str, *, to: str, from_: str | None, body: str, direction: str, status: str,
                  created: dt.datetime, sent: dt.datetime | None,
                  messaging_service_sid: str | None = None) -> dict:
        base = f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}"
        return {
            "account_sid": self.account_sid, "api_version": "2010-04-01", "body": body,
            "date_created": _rfc2822(created), "date_sent": _rfc2822(sent),
            "date_updated": _rfc2822(sent or created),
            "direction": direction, "error_code": None, "error_message": None, "from": from_,
            "messaging_service_sid": messaging_service_sid, "num_media": "0", "num_segments": "1",
            "price": None, "price_unit": "USD", "sid": sid, "status": status,
            "subresource_uris": {"media": f"{base}/Media.json", "feedback": f"{base}/Feedback.json"},
            "to": to, "uri": f"{base}.json",
        }

    def _page(self, path: str, query: dict) -> dict:
        filters: dict[str, str] = {}
        days: dict[str, dt.date] = {}
        for key in _FILTERS:
            value = query.get(key)
            if value is None or value == "":
                continue
            if key.startswith("DateSent"):
                try:
                    days[key] = _utc_day(value)
                except ValueError:
                    raise _BadRequest(f"Invalid {key} value: {value}") from None
                filters[key] = days[key].isoformat()
            else:
                filters[key] = value
        try:
            page_size = int(query.get("PageSize") or 50)
            page = int(query.get("Page") or 0)
        except ValueError:
            raise _BadRequest("PageSize and Page must be integers") from None
        if not 1 <= page_size <= _MAX_PAGE_SIZE or page < 0:
            raise _BadRequest(f"PageSize must be between 1 and {_MAX_PAGE_SIZE}, Page at least 0")

        def keep(when: dt.datetime, r: dict) -> bool:
            day = when.date()
            return (("To" not in filters or r["to"] == filters["To"])
                    and ("From" not in filters or r["from"] == filters["From"])
                    and ("DateSent" not in days or day == days["DateSent"])
                    and ("DateSent<" not in days or day <= days["DateSent<"])
                    and ("DateSent>" not in days or day >= days["DateSent>"]))

        with self.lock:
            rows = [r for when, _, r in sorted(self._listed, key=lambda e: (e[0], e[1]), reverse=True)
                    if keep(when, r)]
        sids = [r["sid"] for r in rows]
        token = query.get("PageToken") or ""
        if token[:2] == "PA" and token[2:] in sids:            # the page after that message
            start = sids.index(token[2:]) + 1
            end = start + page_size
        elif token[:2] == "PB" and token[2:] in sids:          # the page before it
            end = sids.index(token[2:])
            start = max(0, end - page_size)
        else:
            start = page * page_size
            end = start + page_size
        items = rows[start:end]

        def uri(page_no: int, page_token: str | None = None) -> str:
            q = {**filters, "PageSize": page_size, "Page": page_no}
            if page_token:
                q["PageToken"] = page_token
            return f"{path}?{urlencode(q, quote_via=quote)}"

        return {
            "end": page * page_size + max(len(items) - 1, 0),
            "first_page_uri": uri(0),
            "next_page_uri": uri(page + 1, "PA" + items[-1]["sid"]) if items and end < len(rows) else None,
            "page": page,
            "page_size": page_size,
            "previous_page_uri": (uri(page - 1, "PB" + items[0]["sid"]) if items and page > 0 and start > 0
                                  else None),
            "messages": items,
            "start": page * page_size,
            "uri": uri(page, token or None),
        }
