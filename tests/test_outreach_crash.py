"""kill -9 at random points of a real send, again and again: nothing twice, nothing sent unrecorded.

One repository of 1,500 leads, each due an email today. ``python -m outreach send``
runs as a subprocess against an aiosmtpd server in this process and is killed with
SIGKILL at random points, mostly while it sends (after a random number of further
messages arrived), sometimes while it starts, plans or records enrolments. After
every kill: no Message-ID reached the server twice, and every message the server
has is recorded ``sent`` or left ``attempting`` with no result (``unknown``).
A last run, not killed, finishes the day.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from relead.history import read_history
from relead.problems import Problems
from tests.outreach_helpers import DAY, NOW, ROOT, leads_text, outreach_repo
from tests.smtp_server import SmtpServer

ROUNDS = 24
LEADS = 1500          # enough that 24 kills never run out of due touches


def _env(server: SmtpServer, batch: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SMTP_", "TWILIO_", "EMAIL_", "SMS_"))}
    env.update(SMTP_HOST="127.0.0.1", SMTP_PORT=str(server.port), SMTP_SECURITY="none", SMTP_CONNECTIONS="4",
               EMAIL_PER_SECOND="0", OUTREACH_BATCH=str(batch), PYTHONPATH=str(ROOT))
    return env


def _check(root: Path, server: SmtpServer) -> tuple[set[str], set[str]]:
    """The invariants; returns (sent, unknown) touch ids."""
    history = read_history(root / "history", Problems())
    attempted, results, sent = set(), set(), set()
    for rec in history.records:
        if rec.event == "attempting":
            attempted.add(rec.touch)
        elif rec.event in ("sent", "failed", "deferred"):
            assert rec.touch not in results, f"two results for {rec.touch}"
            results.add(rec.touch)
            if rec.event == "sent":
                sent.add(rec.touch)
    assert results <= attempted
    ids = server.message_ids()
    twice = [mid for mid, n in ids.items() if n > 1]
    assert not twice, f"delivered twice: {twice[:5]}"
    unknown = attempted - results
    for mid in ids:
        touch = mid.strip("<>").split(".")[0]
        assert touch in sent or touch in unknown, f"{mid} reached the server but is recorded as neither"
    return sent, unknown


def test_sigkill_again_and_again_never_sends_twice(make_repo):
    rng = random.Random(20261123)
    root = outreach_repo(make_repo, leads_text(LEADS))
    cmd = [sys.executable, "-m", "outreach", "send", "--root", str(root), "--today", DAY, "--now", NOW,
           "--no-commit"]
    killed = 0
    with SmtpServer() as server:
        for _ in range(ROUNDS):
            env = _env(server, rng.choice([4, 16, 32]))
            proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if rng.random() < 0.15:
                time.sleep(rng.uniform(0.0, 0.5))            # start-up, planning, enrolments
            else:
                target = server.count() + rng.randint(1, 12)
                deadline = time.monotonic() + 60
                while server.count() < target and proc.poll() is None and time.monotonic() < deadline:
                    time.sleep(0.001)
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                killed += 1
            proc.wait()
            _check(root, server)
        done = subprocess.run(cmd, env=_env(server, 16), capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        sent, unknown = _check(root, server)
        again = subprocess.run(cmd, env=_env(server, 16), capture_output=True, text=True, timeout=120)
        assert again.returncode == 0 and "already done by an earlier run" in again.stdout
        assert _check(root, server) == (sent, unknown)
    assert killed >= 20
    assert len(sent) + len(unknown) == LEADS          # every touch went out once, or is left for a person
    assert len(server.message_ids()) >= len(sent)
