"""Never twice, whoever runs it: several runners, real git, one real SMTP server.

A bare repository stands for the team's remote; clones of it stand for the scheduled
job and a laptop. ``python -m outreach send`` runs as real subprocesses against one
aiosmtpd server in this process. In every case no Message-ID reaches the server twice,
every touch due reaches it once, and every message the server received is recorded in
the remote's history.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from outreach.cli import main
from outreach.lock import run_lock
from tests.outreach_helpers import DAY, NOW, ROOT, git, git_init, leads_text, outreach_repo, remote_and_clones
from tests.smtp_server import SmtpServer

LEADS = 24


def _env(port: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SMTP_", "TWILIO_", "EMAIL_", "SMS_",
                                                                     "OUTREACH_", "IMAP_"))}
    env.update(SMTP_HOST="127.0.0.1", SMTP_PORT=str(port), SMTP_SECURITY="none", EMAIL_PER_SECOND="0",
               OUTREACH_BACKOFF="0.01", PYTHONPATH=str(ROOT), **extra)
    return env


def _send(root: Path, *, push: bool = True) -> list[str]:
    cmd = [sys.executable, "-m", "outreach", "send", "--root", str(root), "--today", DAY, "--now", NOW]
    return cmd + (["--push"] if push else [])


def _team(tmp_path: Path, make_repo, n: int = LEADS) -> tuple[Path, Path, Path]:
    """(remote, scheduled job's clone, laptop's clone), all at the same commit."""
    origin = outreach_repo(make_repo, leads_text(n), git=True)
    bare, clones = remote_and_clones(origin, tmp_path, ("job", "laptop"))
    return bare, clones[0], clones[1]


def _remote_history(bare: Path, tmp_path: Path) -> dict[str, list[str]]:
    """touch id -> its events, as a fresh clone of the remote reads them."""
    check = tmp_path / "check"
    if check.exists():
        subprocess.run(["git", "-C", str(check), "pull", "-q"], check=True)
    else:
        subprocess.run(["git", "clone", "-q", str(bare), str(check)], check=True)
    events: dict[str, list[str]] = {}
    for path in sorted((check / "history").rglob("*.tsv")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = line.split("\t")
            if line and not line.startswith("#") and row[8]:
                events.setdefault(row[8], []).append(row[1])
    return events


def _assert_once(server: SmtpServer, bare: Path, tmp_path: Path, due: int) -> dict[str, list[str]]:
    ids = server.message_ids()
    assert [mid for mid, n in ids.items() if n > 1] == [], "a message reached the server twice"
    assert len(ids) == due, f"{len(ids)} of {due} due touches reached the server"
    remote = _remote_history(bare, tmp_path)
    for mid in ids:
        touch = mid.strip("<>").split(".")[0]
        assert "sent" in remote.get(touch, []), f"{mid} reached the server but the remote has {remote.get(touch)}"
    return remote


def test_a_stale_clone_sends_nothing_the_other_already_sent(tmp_path, make_repo):
    bare, job, laptop = _team(tmp_path, make_repo)
    with SmtpServer() as server:
        env = _env(server.port)
        first = subprocess.run(_send(laptop), env=env, capture_output=True, text=True, timeout=120)
        assert first.returncode == 0, first.stdout + first.stderr
        assert server.count() == LEADS
        second = subprocess.run(_send(job), env=env, capture_output=True, text=True, timeout=120)   # never pulled
        assert second.returncode == 0, second.stdout + second.stderr
        assert f"{LEADS} queued touches already done by an earlier run" in second.stdout
    remote = _assert_once(server, bare, tmp_path, LEADS)
    assert sorted(Counter(tuple(e) for e in remote.values()).items()) == [(("attempting", "sent"), LEADS)]
    log = git(bare, "log", "--format=%s", "main").splitlines()
    assert log[:2] == [f"outreach {DAY}: {LEADS} email, 0 sms, 0 tasks, 0 failed, 0 unknown",
                       f"outreach {DAY}: claim {LEADS} email"]


@pytest.mark.parametrize("claim", ["100", "5", "3", "1"])
def test_two_clones_started_together_send_each_touch_once(tmp_path, make_repo, claim):
    bare, job, laptop = _team(tmp_path, make_repo)
    with SmtpServer() as server:
        env = _env(server.port, OUTREACH_CLAIM=claim)
        procs = [subprocess.Popen(_send(root), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  text=True) for root in (job, laptop)]
        outs = [p.communicate(timeout=180)[0] for p in procs]
        assert [p.returncode for p in procs] == [0, 0], outs
    _assert_once(server, bare, tmp_path, LEADS)
    # Both ran to the end on one history: the remote is each clone's, plus nothing unpushed.
    for root in (job, laptop):
        assert git(root, "status", "--porcelain", "history") == ""
    assert git(bare, "rev-parse", "main") in {git(job, "rev-parse", "HEAD"), git(laptop, "rev-parse", "HEAD")}


def test_two_runs_in_one_checkout_wait_for_each_other(make_repo):
    root = outreach_repo(make_repo, leads_text(LEADS), git=True)
    with SmtpServer() as server:
        env = _env(server.port, OUTREACH_LOCK_WAIT="120")
        procs = [subprocess.Popen(_send(root, push=False), env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True) for _ in range(2)]
        outs = [p.communicate(timeout=180)[0] for p in procs]
        assert [p.returncode for p in procs] == [0, 0], outs
        ids = server.message_ids()
    assert len(ids) == LEADS and max(ids.values()) == 1
    assert sum(f"{LEADS} queued touches already done" in out for out in outs) == 1
    assert git(root, "status", "--porcelain") == ""


def test_a_second_run_stops_when_the_lock_is_held(make_repo, capsys, monkeypatch):
    root = outreach_repo(make_repo, leads_text(2), git=True)
    monkeypatch.setenv("OUTREACH_LOCK_WAIT", "0.2")
    for key in ("SMTP_HOST", "TWILIO_ACCOUNT_SID", "EMAIL_TRANSPORT", "SMS_TRANSPORT"):
        monkeypatch.delenv(key, raising=False)
    with run_lock(root, wait=0, what="make outreach (a cron run)"):
        assert main(["send", "--root", str(root), "--today", DAY, "--now", NOW]) == 7
        assert main(["plan", "--root", str(root), "--today", DAY]) == 7
    err = capsys.readouterr().err
    assert "make outreach (a cron run) (pid" in err and "holds this checkout's outreach lock" in err
    assert "waited 0.2 s. Nothing was sent" in err
    assert not (root / "history").exists() and not (root / "outbox").exists()
    assert git(root, "status", "--porcelain") == ""          # the lock file lives under .git/
    # A run that died holding it (the kernel lets go of a killed process's lock) blocks nobody.
    with subprocess.Popen([sys.executable, "-c", "import time; from outreach.lock import run_lock\n"
                           f"with run_lock({str(root)!r}, wait=0, what='doomed'):\n"
                           "    print('held', flush=True); time.sleep(60)"],
                          cwd=ROOT, stdout=subprocess.PIPE, text=True) as holder:
        assert holder.stdout.readline().strip() == "held"
        assert main(["send", "--root", str(root), "--today", DAY, "--now", NOW, "--no-commit"]) == 7
        holder.send_signal(signal.SIGKILL)
    assert main(["send", "--root", str(root), "--today", DAY, "--now", NOW, "--no-commit"]) == 0


def test_a_clone_that_dropped_its_outreach_commits_sends_nothing_again(tmp_path, make_repo):
    bare, job, _laptop = _team(tmp_path, make_repo)
    with SmtpServer() as server:
        env = _env(server.port)
        assert subprocess.run(_send(job), env=env, capture_output=True, timeout=120).returncode == 0
        git(job, "reset", "-q", "--hard", "HEAD~2")          # the claim and the outcome commit, gone here
        again = subprocess.run(_send(job), env=env, capture_output=True, text=True, timeout=120)
        assert again.returncode == 0, again.stdout + again.stderr
    _assert_once(server, bare, tmp_path, LEADS)


def test_killed_between_claim_and_send_the_other_clone_sends_nothing_claimed(tmp_path, make_repo):
    bare, job, laptop = _team(tmp_path, make_repo)
    # A server that accepts connections and never greets: the first run has claimed, then waits.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    with silent, SmtpServer() as server:
        claimer = subprocess.Popen(_send(job), env=_env(silent.getsockname()[1], SMTP_TIMEOUT="120"),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while "claim" not in git(bare, "log", "-1", "--format=%s", "main") and time.monotonic() < deadline:
            assert claimer.poll() is None
            time.sleep(0.02)
        claimer.send_signal(signal.SIGKILL)
        claimer.wait()
        other = subprocess.run(_send(laptop), env=_env(server.port), capture_output=True, text=True, timeout=120)
        assert other.returncode == 0, other.stdout + other.stderr
        assert server.count() == 0
    assert f"still unknown from earlier runs: {LEADS}" in other.stdout
    remote = _remote_history(bare, tmp_path)
    assert sorted(remote.values()) == [["attempting"]] * LEADS         # unknown: for a person to settle


def test_a_run_that_keeps_losing_its_claims_gives_up_sending_nothing(tmp_path, make_repo, monkeypatch, capsys):
    """Claims are bounded: a remote that refuses every claim as if another runner had pushed first
    (a hook that answers like a lost race) sees CLAIM_ROUNDS plans, then a clear line; no message
    leaves and nothing is recorded as sent."""
    import outreach.cli
    bare, job, _laptop = _team(tmp_path, make_repo, n=3)
    hook = bare / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'failed to update ref: another runner pushed first' >&2\nexit 1\n",
                    encoding="utf-8")
    hook.chmod(0o755)
    monkeypatch.setattr(outreach.cli, "CLAIM_ROUNDS", 2)
    with SmtpServer() as server:
        for key, value in _env(server.port).items():
            monkeypatch.setenv(key, value)
        code = main(["send", "--root", str(job), "--today", DAY, "--now", NOW, "--push"])
        assert server.message_ids() == {}
    out, err = capsys.readouterr()
    assert code == 3, (out, err)        # the run paused itself
    assert out.count("another run claimed touches first: planning again") == 2, out
    assert "other runs claimed first 2 times in a row" in err, err
    assert not any(r[1] == "sent" for r in _history_rows(job)), "a touch was recorded sent"


def _history_rows(root: Path) -> list[list[str]]:
    rows = []
    for path in sorted((root / "history").rglob("*.tsv")):
        rows += [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()
                 if line and not line.startswith("#")]
    return rows
