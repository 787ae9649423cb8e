"""Two runners, one day: does anything reach a mail server twice?

    .venv/bin/python tools/two_runners.py [--day 2026-12-02] [--code .]

A bare repository stands for the team's remote and two clones of it for the scheduled
job and a laptop, all holding the example data of the checkout that runs. Both run ``python -m
outreach send --push`` for ``--day`` against one local SMTP server (aiosmtpd on
127.0.0.1), first one after the other with the second never pulling, then at the same
moment. For each case it prints how many messages the server received, how many
distinct Message-IDs, and how many arrived twice. ``--code`` runs another checkout's
``outreach`` on that checkout's example (an older commit, to compare). tests/test_outreach_runners.py holds the
same promise in the test suite.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.smtp_server import SmtpServer  # noqa: E402  (the test suite's server: aiosmtpd on loopback)


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


def _team(tmp: Path, data: Path) -> tuple[Path, Path]:
    origin = tmp / "origin"
    origin.mkdir()
    for name in ("leads.yaml", "content", "templates", "history", ".gitattributes"):
        src = data / name
        if src.exists():
            (shutil.copytree if src.is_dir() else shutil.copy)(src, origin / name)
    _git(origin, "init", "-q", "-b", "main")
    _git(origin, "add", "-A")
    _git(origin, "-c", "user.name=example", "-c", "user.email=example@example.invalid", "commit", "-q", "-m", "x")
    bare = tmp / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    _git(origin, "remote", "add", "origin", str(bare))
    _git(origin, "push", "-q", "-u", "origin", "main")
    clones = []
    for name in ("job", "laptop"):
        subprocess.run(["git", "clone", "-q", str(bare), str(tmp / name)], check=True)
        _git(tmp / name, "config", "user.name", name)
        _git(tmp / name, "config", "user.email", f"{name}@example.invalid")
        clones.append(tmp / name)
    return clones[0], clones[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--day", default="2026-12-02", help="the day both run (default: 2026-12-02)")
    parser.add_argument("--code", type=Path, default=ROOT,
                        help="the checkout whose outreach runs, on that checkout's example data")
    args = parser.parse_args()
    now = f"{args.day}T10:00:00-06:00"
    for case in ("one after the other, the second never pulled", "both at the same moment"):
        with tempfile.TemporaryDirectory() as tmp, SmtpServer() as server:
            job, laptop = _team(Path(tmp), args.code.resolve())
            env = {k: v for k, v in os.environ.items() if not k.startswith(("SMTP_", "TWILIO_", "IMAP_", "OUTREACH_"))}
            env.update(SMTP_HOST="127.0.0.1", SMTP_PORT=str(server.port), SMTP_SECURITY="none",
                       PYTHONPATH=str(args.code.resolve()))
            cmds = [[sys.executable, "-m", "outreach", "send", "--root", str(r), "--today", args.day, "--now", now,
                     "--push"] for r in (laptop, job)]
            # Run from the code's own directory: `python -m` looks there first.
            if case.startswith("one"):
                for cmd in cmds:
                    subprocess.run(cmd, env=env, cwd=args.code, capture_output=True, timeout=600)
            else:
                procs = [subprocess.Popen(cmd, env=env, cwd=args.code, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL) for cmd in cmds]
                for proc in procs:
                    proc.wait(timeout=600)
            ids = server.message_ids()
            twice = sum(1 for n in ids.values() if n > 1)
            print(f"{case:<48} received {server.count():>3}  distinct {len(ids):>3}  twice {twice:>3}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
