"""The local Twilio endpoint's list of messages, through the real ``twilio`` client and our HTTP client.

What the product will rely on when it reads replies (STOP, START, HELP, ...):
``messages.stream_async(to=..., date_sent_after=...)`` pages through
``next_page_uri``, newest first, filtered on the UTC day; errors surface.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import itertools
import json
import re
from urllib.error import HTTPError
from urllib.request import Request, urlopen

import pytest
from twilio.base.exceptions import TwilioException, TwilioRestException

from outreach.transports.sms_twilio import http_client, _Retryable
from tests.twilio_server import DEFAULT_NOW, OUR_NUMBER, TwilioServer

UTC = dt.timezone.utc
CHICAGO = dt.timezone(dt.timedelta(hours=-6))
OTHER_NUMBER = "+13125550100"
RFC2822 = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d "
                     r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
                     r"\d{4} \d\d:\d\d:\d\d \+0000$")


async def _with_client(server: TwilioServer, use, *, token: str | None = None):
    """``use(client)`` with a twilio Client over the product's own HTTP client, closed afterwards."""
    from twilio.rest import Client
    http = http_client(server.base, 10.0, 4)
    try:
        return await use(Client(server.account_sid, token or server.auth_token, http_client=http))
    finally:
        await http.close()


def stream(server: TwilioServer, *, token: str | None = None, **kw) -> list:
    async def use(client):
        return [m async for m in await client.messages.stream_async(**kw)]
    return asyncio.run(_with_client(server, use, token=token))


def lead(i: int) -> str:
    return f"+1312555{i:04d}"


def _get(server: TwilioServer, query: str = "", *, token: str | None = None) -> tuple[int, dict]:
    auth = base64.b64encode(f"{server.account_sid}:{token or server.auth_token}".encode()).decode()
    url = f"{server.base}/2010-04-01/Accounts/{server.account_sid}/Messages.json"
    url += f"?{query}" if query else ""
    try:
        with urlopen(Request(url, headers={"Authorization": f"Basic {auth}"}), timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except HTTPError as exc:
        with exc:
            return exc.code, json.loads(exc.read())


def _populate(server: TwilioServer) -> list[tuple[dt.datetime, str]]:
    """40 replies on 19 Nov, 120 from 20 to 22 Nov (UTC), 10 to another number, 5 sent by us."""
    start = dt.datetime(2026, 11, 19, 0, 30, tzinfo=UTC)
    ours = []
    for i in range(160):
        when = start + dt.timedelta(minutes=36 * i)              # 40 a day: 19 Nov .. 22 Nov
        if i % 7 == 3:
            when = when.astimezone(CHICAGO)                     # the same instant, another zone
        body = ("STOP", "START", "HELP", "yes please", "who is this?")[i % 5]
        ours.append((when, server.inbound(lead(i), body, date_sent=when)))
    for i in range(10):
        server.inbound(lead(i), "wrong number", to=OTHER_NUMBER,
                       date_sent=dt.datetime(2026, 11, 21, 12, i, tzinfo=UTC))

    async def send(client):
        for i in range(5):
            await client.messages.create_async(to=lead(500 + i), from_=OUR_NUMBER, body=f"hello {i}")
    asyncio.run(_with_client(server, send))
    return ours


def test_stream_replies_from_a_utc_day_on_newest_first_in_three_pages():
    with TwilioServer() as server:
        ours = _populate(server)
        after = dt.datetime(2026, 11, 20, 15, 30, tzinfo=UTC)
        got = stream(server, to=OUR_NUMBER, date_sent_after=after, page_size=50)
    # Whole UTC days: everything from 20 Nov 00:00 UTC on, including the morning before 15:30.
    expected = sorted((w.astimezone(UTC), sid) for w, sid in ours if w.astimezone(UTC).date() >= after.date())
    expected_sids = [sid for _, sid in reversed(expected)]
    assert len(expected_sids) == 120
    assert [m.sid for m in got] == expected_sids
    assert any(w.astimezone(UTC) < after for w, _ in expected)
    # A reply written 19 Nov 21:30 in Chicago (20 Nov 03:30 UTC) is in; one of 19 Nov UTC is out.
    chicago = {sid: w for w, sid in ours if w.tzinfo is CHICAGO}
    assert any(w.date() == dt.date(2026, 11, 19) and sid in expected_sids for sid, w in chicago.items())
    assert any(w.astimezone(UTC).date() == dt.date(2026, 11, 19) and sid not in expected_sids
               for sid, w in chicago.items())
    by_sid = {sid: w.astimezone(UTC) for w, sid in ours}
    for m in got:
        assert m.direction == "inbound" and m.status == "received" and m.to == OUR_NUMBER
        assert m.date_sent == by_sid[m.sid] and m.date_sent.tzinfo is not None
        assert m.sid.startswith("SM") and len(m.sid) == 34
    assert {m.body for m in got} == {"STOP", "START", "HELP", "yes please", "who is this?"}
    # Three GETs: the first with twilio's serialisation of the datetime, then next_page_uri twice.
    assert server.list_requests == 3
    first, second, third = server.list_queries
    assert first == {"To": OUR_NUMBER, "DateSent>": "2026-11-20T15:30:00Z", "PageSize": "50"}
    assert (second["Page"], third["Page"]) == ("1", "2")
    assert second["PageToken"] == "PA" + expected_sids[49] and third["PageToken"] == "PA" + expected_sids[99]
    assert second["DateSent>"] == "2026-11-20" and second["To"] == OUR_NUMBER


def test_list_filters_and_default_page_size():
    with TwilioServer() as server:
        ours = _populate(server)
        outbound = stream(server, from_=OUR_NUMBER)
        assert [m.direction for m in outbound] == ["outbound-api"] * 5
        assert [m.body for m in outbound] == [f"hello {i}" for i in reversed(range(5))]    # newest first
        assert all(m.status == "sent" and m.date_sent == DEFAULT_NOW for m in outbound)
        assert server.list_requests == 1 and "PageSize" not in server.list_queries[0]

        on_19 = stream(server, to=OUR_NUMBER, date_sent=dt.date(2026, 11, 19))
        assert {m.sid for m in on_19} == {sid for w, sid in ours
                                          if w.astimezone(UTC).date() == dt.date(2026, 11, 19)}
        assert len(on_19) == 40
        until_20 = stream(server, to=OUR_NUMBER, date_sent_before=dt.datetime(2026, 11, 20, 0, 5, tzinfo=UTC))
        assert len(until_20) == 80                                # 19 and 20 Nov: the bound's day is included
        everything = stream(server)                               # default PageSize 50: 4 pages for 175
        assert len(everything) == 175 and server.list_requests == 1 + 1 + 2 + 4
        assert [m.sid for m in everything] == [r["sid"] for r in server.listed()]
        from_one = stream(server, from_=lead(7))                  # both directions, any To
        assert [m.body for m in from_one] == ["wrong number", "HELP"]

        # A reply arriving while a client pages does not shift the cursor (PageToken=PA<sid>).
        async def use(client):
            sids = []
            async for m in await client.messages.stream_async(to=OUR_NUMBER, page_size=50):
                if not sids:
                    server.inbound(lead(999), "STOP", date_sent=DEFAULT_NOW)
                sids.append(m.sid)
            return sids
        sids = asyncio.run(_with_client(server, use))
        assert sids == [sid for _, sid in sorted((w.astimezone(UTC), sid) for w, sid in ours)[::-1]]


def test_the_list_response_has_twilios_shape():
    with TwilioServer() as server:
        for i in range(5):
            server.inbound(lead(i), f"reply {i}", date_sent=dt.datetime(2026, 11, 22, 9, i, tzinfo=UTC))
        status, doc = _get(server, "To=%2B13125550199&DateSent%3E=2026-11-22&PageSize=2")
        assert status == 200
        assert set(doc) == {"messages", "first_page_uri", "next_page_uri", "previous_page_uri", "page",
                            "page_size", "start", "end", "uri"}
        base = f"/2010-04-01/Accounts/{server.account_sid}/Messages.json"
        query = "To=%2B13125550199&DateSent%3E=2026-11-22&PageSize=2"
        assert doc["uri"] == doc["first_page_uri"] == f"{base}?{query}&Page=0"
        assert (doc["page"], doc["page_size"], doc["start"], doc["end"]) == (0, 2, 0, 1)
        assert doc["previous_page_uri"] is None
        m = doc["messages"][0]
        assert set(m) == {"account_sid", "api_version", "body", "date_created", "date_sent", "date_updated",
                          "direction", "error_code", "error_message", "from", "messaging_service_sid",
                          "num_media", "num_segments", "price", "price_unit", "sid", "status",
                          "subresource_uris", "to", "uri"}
        assert m["body"] == "reply 4" and m["from"] == lead(4) and m["to"] == OUR_NUMBER
        assert m["date_sent"] == "Sun, 22 Nov 2026 09:04:00 +0000" and RFC2822.match(m["date_created"])
        assert m["uri"] == f"/2010-04-01/Accounts/{server.account_sid}/Messages/{m['sid']}.json"
        assert doc["next_page_uri"] == f"{base}?{query}&Page=1&PageToken=PA{doc['messages'][1]['sid']}"

        status, page1 = _get(server, doc["next_page_uri"].split("?", 1)[1])
        assert (page1["page"], page1["start"], page1["end"]) == (1, 2, 3)
        assert [x["body"] for x in page1["messages"]] == ["reply 2", "reply 1"]
        assert page1["previous_page_uri"].endswith(f"&Page=0&PageToken=PB{page1['messages'][0]['sid']}")
        _, back = _get(server, page1["previous_page_uri"].split("?", 1)[1])
        assert [x["body"] for x in back["messages"]] == ["reply 4", "reply 3"]
        _, last = _get(server, page1["next_page_uri"].split("?", 1)[1])
        assert [x["body"] for x in last["messages"]] == ["reply 0"] and last["next_page_uri"] is None

        assert _get(server, "DateSent%3E=yesterday")[0] == 400
        assert _get(server, "PageSize=1001")[0] == 400
        status, err = _get(server, token="wrong")
        assert status == 401 and err["code"] == 20003 and err["message"] == "Authenticate"


def test_a_wrong_token_fails_the_listing_with_the_401_response():
    """twilio-python's Page raises a plain TwilioException("Unable to fetch page", response)
    for any non-200 answer to a list, not a TwilioRestException: the code is in the response."""
    with TwilioServer() as server:
        server.inbound(lead(1), "STOP")
        with pytest.raises(TwilioException) as info:
            stream(server, token="wrong-token", to=OUR_NUMBER)
    assert type(info.value) is TwilioException and info.value.args[0] == "Unable to fetch page"
    response = info.value.args[1]
    assert response.status_code == 401 and json.loads(response.text)["code"] == 20003
    assert server.list_requests == 1


def test_a_wrong_token_on_create_is_a_rest_exception_20003():
    async def send(client):
        return await client.messages.create_async(to=lead(1), from_=OUR_NUMBER, body="hi")

    with TwilioServer() as server:
        with pytest.raises(TwilioRestException) as info:
            asyncio.run(_with_client(server, send, token="wrong-token"))
    assert info.value.status == 401 and info.value.code == 20003
    assert not server.messages and server.requests == 0


@pytest.mark.parametrize("fault", [500, 429])
def test_a_list_fault_surfaces_as_an_error(fault):
    with TwilioServer(list_faults=lambda q: fault, retry_after=3) as server:
        server.inbound(lead(1), "STOP")
        with pytest.raises(_Retryable) as info:             # the product's client raises it for 429 / 5xx
            stream(server, to=OUR_NUMBER)
    assert info.value.status == fault and info.value.code == {500: "20500", 429: "20429"}[fault]
    assert info.value.retry_after == (3.0 if fault == 429 else None)


def test_a_list_fault_401_and_a_fault_on_a_later_page():
    with TwilioServer(list_faults=lambda q: 401) as server:
        with pytest.raises(TwilioException) as info:
            stream(server, to=OUR_NUMBER)
        assert info.value.args[1].status_code == 401

        for i in range(60):
            server.inbound(lead(i), "HELP", date_sent=DEFAULT_NOW - dt.timedelta(minutes=i))
        server.list_faults = lambda q: 500 if "PageToken" in q else None
        seen = []

        async def use(client):
            async for m in await client.messages.stream_async(to=OUR_NUMBER, page_size=50):
                seen.append(m.sid)
        with pytest.raises(_Retryable):
            asyncio.run(_with_client(server, use))
    assert len(seen) == 50                     # the first page came through before the second failed


@pytest.mark.parametrize("fault, code", [(401, 20003), (403, 20403)])
def test_post_auth_faults_then_success(fault, code):
    calls = itertools.count()

    async def send(client):
        outcomes = []
        for i in range(3):
            try:
                created = await client.messages.create_async(to=lead(i), from_=OUR_NUMBER, body="hi")
                outcomes.append(created.sid)
            except TwilioRestException as exc:
                outcomes.append((exc.status, exc.code))
        return outcomes

    with TwilioServer(faults=lambda form: fault if next(calls) < 2 else None) as server:
        outcomes = asyncio.run(_with_client(server, send))
    assert outcomes[:2] == [(fault, code)] * 2
    assert outcomes[2] == server.messages[0]["sid"] and len(server.messages) == 1
    assert server.requests == 3 and server.messages[0]["To"] == lead(2)


def test_inbound_defaults_are_fixed_not_the_wall_clock():
    with TwilioServer() as server:
        sid = server.inbound(lead(1), "START")
        naive = server.inbound(lead(2), "HELP", date_sent=dt.datetime(2026, 11, 22, 8, 0))    # taken as UTC
        (first, second) = server.listed()
    assert (first["sid"], second["sid"]) == (sid, naive)
    assert first["date_sent"] == first["date_created"] == "Mon, 23 Nov 2026 16:00:00 +0000"
    assert second["date_sent"] == "Sun, 22 Nov 2026 08:00:00 +0000"
    assert first["direction"] == "inbound" and first["status"] == "received" and first["to"] == OUR_NUMBER
    assert re.fullmatch(r"SM[0-9a-f]{32}", sid)


def test_a_message_taken_then_not_delivered_is_listed_with_its_new_status_and_code():
    with TwilioServer() as server:
        async def send(client):
            return [(await client.messages.create_async(to=lead(i), from_=OUR_NUMBER, body=f"hi {i}")).sid
                    for i in range(3)]
        sids = asyncio.run(_with_client(server, send))
        server.inbound(lead(0), "who is this?")
        later = DEFAULT_NOW + dt.timedelta(minutes=3)
        server.set_status(sids[0], "delivered", at=later)
        server.set_status(sids[1], "undelivered", error_code=30005, at=later)
        theirs = server.outbound(lead(9), "sent from the console", status="failed", error_code=30008)
        with pytest.raises(KeyError):
            server.set_status("SM" + "0" * 32, "delivered")
        got = {m.sid: m for m in stream(server, from_=OUR_NUMBER, page_size=2)}     # two pages
    assert server.list_requests == 2 and set(got) == {*sids, theirs}
    assert (got[sids[0]].status, got[sids[0]].error_code) == ("delivered", None)
    assert (got[sids[1]].status, got[sids[1]].error_code) == ("undelivered", 30005)
    assert got[sids[1]].error_message == "Unknown destination handset"
    assert got[sids[1]].date_updated == later and got[sids[1]].date_sent == DEFAULT_NOW
    assert (got[sids[2]].status, got[sids[2]].error_code) == ("sent", None)
    assert (got[theirs].status, got[theirs].error_code, got[theirs].direction) == ("failed", 30008, "outbound-api")
    assert {m.to for m in got.values()} == {lead(0), lead(1), lead(2), lead(9)}
