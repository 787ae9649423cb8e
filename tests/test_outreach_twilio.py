"""SMS through the real ``twilio`` client against a local Twilio-compatible endpoint."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from collections import Counter

import pytest

from outreach.cli import main
from outreach.config import TwilioConfig
from outreach.queue import build_queue
from outreach.render import OPT_OUT_SMS
from outreach.run import send_queue_async
from outreach.transports.sms_twilio import TwilioTransport
from tests.outreach_helpers import (DAY, NOW, SMS_FIRST, derived, history_events, leads_text, outreach_repo,
                                    plan, settings_text, touch_states)
from tests.test_outreach_smtp import TOUCH_EVENTS
from tests.twilio_server import TwilioServer, random_twilio_faults

SEND = ["send", "--today", DAY, "--now", NOW, "--no-commit"]


@pytest.fixture
def twilio_env(monkeypatch):
    for key in ("SMTP_HOST", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM", "TWILIO_API_BASE",
                "TWILIO_MESSAGING_SERVICE_SID", "EMAIL_TRANSPORT", "SMS_TRANSPORT"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("SMS_PER_SECOND", "0")
    monkeypatch.setenv("OUTREACH_BACKOFF", "0.001")

    def point(server: TwilioServer, **extra: str) -> None:
        for k, v in {**server.env(), **extra}.items():
            monkeypatch.setenv(k, v)
    return point


def sms_repo(make_repo, n: int, **kw):
    settings = settings_text().replace("max_failure_share: 0.2", "max_failure_share: 0.9")
    return outreach_repo(make_repo, leads_text(n, **kw), campaign=SMS_FIRST, settings=settings)


def test_sms_goes_out_through_create_async(make_repo, twilio_env, capsys):
    root = sms_repo(make_repo, 3)
    with TwilioServer() as server:
        twilio_env(server)
        assert main(SEND + ["--root", str(root)]) == 0
    assert len(server.messages) == 3
    for m in server.messages:
        assert m["From"] == "+13125550199" and m["To"].startswith("+1312555")
        assert m["Body"].endswith(OPT_OUT_SMS)
    sent = {r[9] for r in history_events(root) if r[1] == "sent"}
    assert sent == {m["sid"] for m in server.messages}
    out = capsys.readouterr().out
    assert "Twilio from +13125550199 via http://127.0.0.1" in out
    assert "test-token" not in out


def test_messaging_service_instead_of_a_number(make_repo, twilio_env):
    root = sms_repo(make_repo, 1)
    with TwilioServer() as server:
        twilio_env(server, TWILIO_FROM="", TWILIO_MESSAGING_SERVICE_SID="MG" + "1" * 32)
        assert main(SEND + ["--root", str(root)]) == 0
    assert server.messages[0]["MessagingServiceSid"] == "MG" + "1" * 32 and "From" not in server.messages[0]


def test_random_faults_one_state_each_nothing_twice_opt_outs_marked(make_repo, twilio_env):
    root = sms_repo(make_repo, 150)
    drops = itertools.count()
    base = random_twilio_faults(3)

    def faults(form):
        return "drop" if next(drops) % 50 == 7 else base(form)

    with TwilioServer(faults=faults) as server:
        twilio_env(server, OUTREACH_ATTEMPTS="6", TWILIO_CONNECTIONS="4")
        assert main(SEND + ["--root", str(root)]) == 0
    per_number = Counter(m["To"] for m in server.messages)
    assert max(per_number.values()) == 1                       # nothing delivered twice
    states = {t: [e for e in evs if e in TOUCH_EVENTS] for t, evs in touch_states(root).items()}
    assert len(states) == 150
    final = Counter(evs[1] if len(evs) == 2 else "unknown" for evs in states.values())
    assert all(evs[0] == "attempting" and len(evs) <= 2 for evs in states.values())
    assert final["sent"] > 100 and final["failed"] and final["unknown"], final
    assert final["sent"] == len(server.messages)     # a dropped request created nothing here
    rows = history_events(root)
    opted = [r for r in rows if r[1] == "opted_out"]
    failed_21610 = [r for r in rows if r[1] == "failed" and r[9] == "21610"]
    assert opted and len(opted) == len(failed_21610) and all(r[6] == "sms" for r in opted)
    d = derived(root)
    assert all(not d.states[r[2]].sms_usable for r in opted)
    assert all(d.states[r[2]].email_usable for r in opted)      # STOP stops SMS only


def test_no_library_retries_one_post_per_try(make_repo, twilio_env):
    root = sms_repo(make_repo, 3)
    with TwilioServer(faults=lambda form: 500) as server:
        twilio_env(server, OUTREACH_ATTEMPTS="2")
        assert main(SEND + ["--root", str(root)]) == 0
    assert server.requests == 6 and not server.messages
    assert sorted(r[9] for r in history_events(root) if r[1] == "deferred") == ["20500"] * 3


@pytest.mark.parametrize("code, mark", [(21211, "wrong_number"), (21614, "wrong_number"), (21610, "opted_out")])
def test_error_codes_mark_the_lead(make_repo, twilio_env, code, mark):
    root = sms_repo(make_repo, 1)
    with TwilioServer(faults=lambda form: code) as server:
        twilio_env(server)
        assert main(SEND + ["--root", str(root)]) == 0
    events = [r[1] for r in history_events(root) if r[2] == "lead-0001"]
    assert events[-3:] == ["attempting", "failed", mark]
    st = derived(root).states["lead-0001"]
    assert not st.sms_usable
    assert st.phone_usable == (mark != "wrong_number")


def test_retry_after_is_respected(make_repo):
    root = sms_repo(make_repo, 1)
    d, p = plan(root)
    calls = itertools.count()
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    with TwilioServer(faults=lambda form: 429 if next(calls) < 2 else None, retry_after=7) as server:
        cfg = TwilioConfig(server.account_sid, server.auth_token, from_number="+13125550199",
                           api_base=server.base)
        result = asyncio.run(send_queue_async(
            build_queue(p, d.model), d.model, root=root, email=None, sms=TwilioTransport(cfg),
            now=dt.datetime.fromisoformat(NOW), sms_per_second=0, sleep=sleep))
    assert waits == [7.0, 7.0]
    assert result.count("sent", "sms") == 1 and len(server.messages) == 1
    assert result.outcomes[0].tries == 3


def test_the_form_carries_any_text_unchanged():
    """The transport encodes the form itself: what arrives is exactly what was sent."""
    from outreach.transports import OutgoingSms
    body = "Tom & Jerry = 100% + café ☕\nline two; a=b&c=d #fragment ? {{ lead.name }}"

    async def send(cfg: TwilioConfig) -> str:
        async with TwilioTransport(cfg) as transport:
            return await transport.send(OutgoingSms("t1", "+13125550123", body))

    with TwilioServer() as server:
        sid = asyncio.run(send(TwilioConfig(server.account_sid, server.auth_token,
                                            messaging_service_sid="MG" + "1" * 32, api_base=server.base)))
    [m] = server.messages
    assert m["Body"] == body and m["To"] == "+13125550123" and m["sid"] == sid
    assert m["MessagingServiceSid"] == "MG" + "1" * 32 and "From" not in m


@pytest.mark.parametrize("per_second, groups", [(0, [24]), (100, [10, 10, 4]), (5, [1] * 24)])
def test_attempting_groups_follow_the_rate_limit(make_repo, monkeypatch, per_second, groups):
    """Unlimited, `attempting` is written in groups of `batch` (one append and fsync each); under a
    rate limit a group holds a tenth of a second of sending, so a crash leaves few touches unknown."""
    from relead.history import HistoryWriter
    root = sms_repo(make_repo, 24)
    d, p = plan(root)
    written: list[int] = []     # `attempting` records in each append that has any
    append = HistoryWriter.append

    def counting_append(self, records):
        records = list(records)
        if any(r.event == "attempting" for r in records):
            written.append(sum(r.event == "attempting" for r in records))
        append(self, records)

    async def sleep(seconds: float) -> None:    # the limiter's waits are not the subject here
        pass

    monkeypatch.setattr(HistoryWriter, "append", counting_append)
    with TwilioServer() as server:
        cfg = TwilioConfig(server.account_sid, server.auth_token, from_number="+13125550199",
                           api_base=server.base)
        result = asyncio.run(send_queue_async(
            build_queue(p, d.model), d.model, root=root, email=None, sms=TwilioTransport(cfg),
            now=dt.datetime.fromisoformat(NOW), sms_per_second=per_second, sleep=sleep, batch=64))
    assert result.count("sent", "sms") == 24 == len(server.messages)
    assert written == groups
    assert touch_states(root) == {t: ["attempting", "sent"] for t in touch_states(root)}


def test_a_history_write_that_fails_stops_sending_and_says_why(make_repo, twilio_env, monkeypatch, capsys):
    """The disk fills after the first group: only that group's touches reach the provider, each
    one recorded `attempting` first; the run ends with a clear message, not a traceback."""
    import errno

    from relead.history import HistoryWriter
    root = sms_repo(make_repo, 30)
    append, groups = HistoryWriter.append, []

    def filling_append(self, records):
        records = list(records)
        if any(r.event == "attempting" for r in records):
            groups.append(records)
            if len(groups) > 1:
                raise OSError(errno.ENOSPC, "No space left on device", str(self.path))
        append(self, records)

    monkeypatch.setattr(HistoryWriter, "append", filling_append)
    monkeypatch.setenv("OUTREACH_BATCH", "10")
    with TwilioServer() as server:
        twilio_env(server)
        assert main(SEND + ["--root", str(root)]) == 6
    err = capsys.readouterr().err
    assert "cannot write" in err and "No space left on device" in err and "Traceback" not in err
    first = {r.touch for r in groups[0] if r.event == "attempting"}
    assert len(first) == 10
    attempted = {r[8] for r in history_events(root) if r[1] == "attempting"}
    assert attempted == first
    assert 0 < len(server.messages) <= 10      # nothing beyond the group that reached the disk
