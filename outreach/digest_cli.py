"""``python -m outreach digest``: the Monday digest on the command line (``make digest``).

Exit codes: 0 done (or nothing to send: already sent this week, or not yet Monday morning with
``--monday-from``); 1 invalid data, or a recipient's digest could not be sent; 2 bad usage or
configuration; 5 git failed; 7 another run holds this checkout's lock; 8 the mail server
refused our account.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

from relead.derive.digest_numbers import digest_numbers

from . import gitops
from .config import config_from_env
from .digest import already_sent, ledger_path, recipients, send_digests
from .digest_render import render_digest
from .errors import GitError
from .lock import run_lock
from .transports import email_transport

__all__ = ["add_digest_command"]

EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_ACCOUNT = 0, 1, 2, 8


def _hhmm(text: str) -> dt.time:
    try:
        hour, minute = text.split(":")
        return dt.time(int(hour), int(minute))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a time of day: write HH:MM, e.g. 08:00") from None


def _addresses(text: str) -> list[str]:
    return [a for a in (part.strip() for part in text.replace(";", ",").split(",")) if a]


def add_digest_command(sub, *, common, load) -> None:
    """Register ``digest``; ``common`` adds --root/--today/--now, ``load`` is the commands' loader
    (validation, the settings' as_of, the clock)."""
    p = sub.add_parser(
        "digest", help="mail the team last week in numbers (the Monday digest)",
        description="Mail each team member (or the addresses given) last week in numbers against the week "
                    "before: leads in, contacted, answers, appointments, proposals, deals, sources, what was won "
                    "back and by which campaign, replies waiting, overdue follow-ups and tasks, and the ten to "
                    "call first. Plain text and email-safe HTML; through SMTP when SMTP_HOST is set, else an "
                    ".eml file under outbox/<date>/email/. Each recipient gets one digest a week: those sent are "
                    "listed in outbox/digests/<monday>.tsv, which is committed. Exit 0; 1 invalid data or a "
                    "digest not sent; 2 bad usage or configuration; 5 git failed; 7 another run holds the lock; "
                    "8 the mail server refused our account.")
    common(p)
    p.add_argument("--to", type=_addresses, metavar="ADDRESSES",
                   help="send to these addresses (comma-separated) instead of every team member")
    p.add_argument("--dry-run", action="store_true", help="print the digest and who would get it; send nothing")
    p.add_argument("--no-commit", action="store_true", help="do not commit outbox/digests/")
    p.add_argument("--push", action="store_true",
                   help="bring this checkout up to date first, push the commit (the scheduled workflow)")
    p.add_argument("--monday-from", type=_hhmm, metavar="HH:MM",
                   help="send only on a Monday from this time on, in the team's time zone (the scheduled "
                        "workflow runs hourly on Sundays and Mondays in UTC; the first run from then on sends)")
    p.set_defaults(func=lambda args: _digest(args, load))


def _digest(args, load) -> int:
    root: Path = args.root
    config = config_from_env(root=root)
    if args.push and args.no_commit:
        print("error: PUSH=1 pushes the digest's commit: it cannot go with COMMIT=0", file=sys.stderr)
        return EXIT_USAGE
    with run_lock(root, wait=config.lock_wait, what="make digest"):
        if args.push and not args.dry_run:
            if not gitops.is_repository(root):
                raise GitError("PUSH=1 needs a git repository with a remote")
            print(f"up to date with {gitops.pull(root)}")
        loaded = load(args)
        if loaded is None:
            return EXIT_INVALID
        checked, now, _clock = loaded
        model = checked.derived.model
        settings = model.settings
        if args.monday_from is not None:
            local = now.astimezone(ZoneInfo(settings.timezone))
            if local.weekday() != 0 or local.time() < args.monday_from:
                print(f"not yet: it is {local:%A %H:%M} in {settings.timezone}; the scheduled digest goes on "
                      f"Mondays from {args.monday_from:%H:%M}")
                return EXIT_OK
        people = recipients(settings, args.to)
        if not people:
            print("error: nobody to send to: no team member has an email; give TO=a@example.com",
                  file=sys.stderr)
            return EXIT_USAGE
        d = checked.derived
        numbers = digest_numbers(model, checked.today, states=d.states, priorities=d.priorities)
        ledger = ledger_path(root, numbers.start)
        done = already_sent(ledger)
        week = f"{numbers.start} to {numbers.end}"
        if args.dry_run:
            print(f"dry run: the digest for the week of {week}; nothing is sent, nothing is recorded")
            for person in people:
                state = "already sent this week" if person.address.lower() in done else "would send"
                print(f"  {person.address}: {state}")
            subject, text, _html = render_digest(numbers, settings, people[0])
            print(f"\nSubject: {subject}\n\n{text}", end="")
            return EXIT_OK
        outbox = root / "outbox" / checked.today.isoformat()
        transport = email_transport(config, outbox=outbox, sender_email=settings.sender.email)
        deliveries = asyncio.run(send_digests(numbers, settings, people, root=root, transport=transport,
                                              now=now, attempts=config.attempts, backoff=config.backoff))
        where = config.describe()["email"]
        print(f"digest for the week of {week} ({where})")
        for item in deliveries:
            extra = f": {item.note}" if item.note else ""
            print(f"  {item.recipient.address}: {item.state}{extra}")
        sent = [x for x in deliveries if x.state in ("sent", "unknown")]
        if sent and not args.no_commit:
            if not gitops.is_repository(root):
                print("  not a git repository: nothing committed")
            else:
                message = f"digest for the week of {numbers.start}: {len(sent)} sent"
                committed = gitops.commit_paths(root, [ledger], message)
                if committed is not None:
                    print(f"  committed {committed.sha[:10]}: {committed.message.splitlines()[0]}")
        if args.push and not args.no_commit:
            print(f"  pushed to {gitops.push(root)}")
    if any(x.note.startswith("account: ") for x in deliveries if x.state == "failed"):
        return EXIT_ACCOUNT
    return EXIT_INVALID if any(x.state == "failed" for x in deliveries) else EXIT_OK
