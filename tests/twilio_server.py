"""A local Twilio-compatible endpoint: ``POST /2010-04-01/Accounts/{sid}/Messages.json``.

A threaded ``http.server`` on 127.0.0.1 that answers like Twilio does: 201 with
the message resource, or an error status with Twilio's error JSON
(``{"code", "message", "more_info", "status"}``), 429 with ``Retry-After``. It
checks HTTP basic auth, keeps every message it created, and lets a test script
faults per request: ``faults(form) -> None | 429 | 500 | 21610 | 21211 | 21614 | "drop"``.
"""

from __future__ import annotations

import base64
import json
import random
import re
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import parse_qs

__all__ = ["TwilioServer", "random_twilio_faults"]

_PATH = re.compile(r"^/2010-04-01/Accounts/(AC[0-9a-zA-Z]+)/Messages\.json$")
_ERRORS = {
    21610: (400, "Attempt to send to unsubscribed recipient"),
    21211: (400, "The 'To' number is not a valid phone number."),
    21614: (400, "'To' number is not a valid mobile number"),
    20429: (429, "Too Many Requests"),
    20500: (500, "Internal Server Error"),
}


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
        self._send(status, {"code": code, "message": message,
                            "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status},
                   headers)

    def do_POST(self) -> None:
        server: TwilioServer = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode()
        m = _PATH.match(self.path)
        if not m:
            self._send(404, {"code": 20404, "message": "not found", "status": 404})
            return
        sid = m.group(1)
        expected = "Basic " + base64.b64encode(f"{server.account_sid}:{server.auth_token}".encode()).decode()
        if sid != server.account_sid or self.headers.get("Authorization") != expected:
            self._send(401, {"code": 20003, "message": "Authenticate", "status": 401})
            return
        if self.headers.get("Content-Type", "").split(";")[0] != "application/x-www-form-urlencoded":
            self._send(415, {"code": 20415, "message": "Unsupported Media Type", "status": 415})
            return
        form = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
        fault = server.faults(form) if server.faults else None
        server.requests += 1
        if fault == "drop":
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if fault == 429:
            self._error(20429, {"Retry-After": str(server.retry_after)})
            return
        if fault == 500:
            self._error(20500)
            return
        if fault in (21610, 21211, 21614):
            self._error(fault)
            return
        if "To" not in form or "Body" not in form or not ("From" in form or "MessagingServiceSid" in form):
            self._send(400, {"code": 21604, "message": "A 'To', 'Body' and 'From' are required", "status": 400})
            return
        msid = "SM" + uuid.uuid4().hex
        with server.lock:
            server.messages.append({"sid": msid, **form})
        self._send(201, {
            "sid": msid, "account_sid": sid, "to": form["To"], "from": form.get("From"),
            "messaging_service_sid": form.get("MessagingServiceSid"), "body": form["Body"],
            "status": "queued", "num_segments": "1", "direction": "outbound-api", "api_version": "2010-04-01",
            "date_created": "Mon, 23 Nov 2026 16:00:00 +0000", "price": None, "error_code": None,
            "uri": f"/2010-04-01/Accounts/{sid}/Messages/{msid}.json",
        })


class _Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):     # a client that hung up is no news
            super().handle_error(request, client_address)


class TwilioServer:
    def __init__(self, *, account_sid: str = "AC" + "0" * 32, auth_token: str = "test-token",
                 faults: Callable[[dict], object] | None = None, retry_after: int = 0):
        self.account_sid, self.auth_token = account_sid, auth_token
        self.faults = faults
        self.retry_after = retry_after
        self.messages: list[dict] = []
        self.requests = 0
        self.lock = threading.Lock()
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
        return {"TWILIO_ACCOUNT_SID": self.account_sid, "TWILIO_AUTH_TOKEN": self.auth_token,
                "TWILIO_FROM": "+13125550199", "TWILIO_API_BASE": self.base}
