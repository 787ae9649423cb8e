"""``python -m outreach plan|send|sync|record|digest``: a thin layer over the package's Python API.

Exit codes: 0 done; 1 invalid data (every problem listed) or an outreach error;
2 bad usage or configuration; 3 the run paused itself (too many failures);
4 REQUIRE_REVIEW and the queue is not committed; 5 git failed; 6 history/ or outbox/
could not be written; 7 another run holds this checkout's lock; 8 a provider refused
our account (login, token): that channel stopped, its touches deferred; 9 (sync) the
mailbox or Twilio could not be read.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from dataclasses import replace
from pathlib import Path
from zoneinfo import ZoneInfo

from relead.check import check_repository
from relead.clock import as_of_note
from relead.cli import date_arg
from relead.arguments import check_in_range
from relead.derive.plan import plan_day

from . import gitops
from .claim import Claimer
from .config import config_from_env
from .digest_cli import add_digest_command
from .errors import AccountRefused, GitError, OutreachError, QueueError, ReviewRequired
from .lock import run_lock
from .progress import Progress
from .queue import Queue, build_queue, queue_path, read_queue, write_queue
from .record import OUTCOMES, UsageError, record_response
from .run import send_queue
from .summary import format_plan, format_preview, format_summary, format_sync
from .sync import sync
from .transports import email_transport, sms_transport

__all__ = ["main"]

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2
EXIT_DISK = 6        # history/ or outbox/ could not be written
# Plans made again after another runner claimed first, before giving up. Each lost claim means the
# other runner moved on (it claimed what this run wanted): the day's touches run out long before.
CLAIM_ROUNDS = 50
EXIT_SOURCE = 9      # sync: the mailbox or Twilio could not be read


def _now_arg(text: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 date and time") from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no UTC offset: write e.g. 2026-11-23T10:00:00-06:00")
    check_in_range(value.date(), text)
    return value


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--root", type=Path, default=Path("."), help="the repository (default: .)")
    p.add_argument("--today", type=date_arg, metavar="YYYY-MM-DD",
                   help="the day to plan or send (default: the settings' as_of, else today in the team's "
                        "time zone)")
    p.add_argument("--now", type=_now_arg, metavar="DATETIME",
                   help="the clock for send windows and quiet hours, ISO 8601 with offset "
                        "(default: the settings' as_of, else the real clock)")


def _team_timezone(root: Path) -> str | None:
    try:
        from relead.read.yamlparse import parse
        data = parse((root / "content" / "settings.yaml").read_text(encoding="utf-8"))
        zone = data.get("timezone") if isinstance(data, dict) else None
        ZoneInfo(zone)
        return zone
    except Exception:   # invalid settings are reported by validation
        return None


def _load(args):
    """(checked, now, clock) or an exit code after printing the problems."""
    now = args.now
    today = args.today
    if now is not None and today is None:
        zone = _team_timezone(args.root)
        today = now.astimezone(ZoneInfo(zone)).date() if zone else now.date()
    checked = check_repository(args.root, today=today, lenient_copy=True)
    if checked.errors:
        for p in checked.problems:
            print(p.format())
        print(f"failed: {len(checked.errors)} error{'s' * (len(checked.errors) != 1)}; nothing sent")
        return None
    for p in checked.copy_faults:
        print(f"{p.format()} (touches with this message fail; the others go out)")
    if now is None and checked.loaded.as_of is not None:
        # Neither --today nor --now: the settings' as_of pins the clock too (relead.clock), said once.
        now = checked.loaded.as_of
        if not getattr(args, "as_of_said", False):
            print(as_of_note(now))
            args.as_of_said = True
    if now is None:
        clock = lambda: dt.datetime.now(dt.timezone.utc)
        now = clock()
    else:
        fixed = now
        clock = lambda: fixed
    return checked, now, clock


def _plan(args) -> int:
    with run_lock(args.root, wait=config_from_env(root=args.root).lock_wait, what="make plan"):
        loaded = _load(args)
        if loaded is None:
            return EXIT_INVALID
        checked, _now, _clock = loaded
        d = checked.derived
        queue = build_queue(plan_day(d.model, d.states, d.priorities, checked.today), d.model)
        path = queue_path(args.root, queue.day)
        if queue.sending_day:       # on a weekend or a holiday nothing is written (nor committed)
            write_queue(queue, path)
    print(format_plan(queue, path.relative_to(args.root) if not path.is_absolute() else path), end="")
    return EXIT_OK


def _queue(args, checked) -> tuple[Queue, Path]:
    """Today's queue: the one in outbox/ (reviewed, or planned by an earlier run), else planned now."""
    d = checked.derived
    day = checked.today.isoformat()
    path = queue_path(args.root, day)
    if path.exists():
        queue = read_queue(path, args.root)
        if queue.day != day:
            raise QueueError(f"{path} is the queue for {queue.day}, not {day}")
        return queue, path
    queue = build_queue(plan_day(d.model, d.states, d.priorities, checked.today), d.model)
    if not args.dry_run and queue.sending_day:
        write_queue(queue, path)
        print(format_plan(queue, path), end="")
    return queue, path


def _send(args) -> int:
    config = config_from_env(root=args.root)
    if args.push and args.no_commit:
        raise UsageError("PUSH=1 pushes the run's commits: it cannot go with COMMIT=0")
    if args.dry_run:
        loaded = _load(args)
        if loaded is None:
            return EXIT_INVALID
        print(format_preview(_queue(args, loaded[0])[0]), end="")
        return EXIT_OK
    with run_lock(args.root, wait=config.lock_wait, what="make outreach"):
        return _send_locked(args, config)


def _send_locked(args, config) -> int:
    root = args.root
    if args.push:
        if not gitops.is_repository(root):
            raise GitError("PUSH=1 needs a git repository with a remote")
        print(f"up to date with {gitops.pull(root)}")
    if config.imap or config.twilio is not None:
        # What came back overnight first: a reply stops this morning's touch.
        if _sync_once(args, config, before_send=True) == EXIT_INVALID:
            return EXIT_INVALID
    started = time.monotonic()
    result = None
    for _round in range(CLAIM_ROUNDS):
        loaded = _load(args)
        if loaded is None:
            if result is None:
                return EXIT_INVALID
            break       # the remote's data turned invalid mid-run: record what was sent, stop
        checked, now, clock = loaded
        queue, path = _queue(args, checked)
        if args.require_review and not (gitops.is_repository(root) and gitops.is_committed(root, path)):
            raise ReviewRequired(f"REQUIRE_REVIEW: {path} is not committed as it is; review it (a pull "
                                 "request), commit it, then run again")
        if not queue.sending_day and result is None:
            print(f"{queue.day} is not a sending day (weekend or holiday): nothing to send")
        outbox = root / "outbox" / queue.day
        part = send_queue(
            queue, checked.derived.model, root=root, states=checked.derived.states,
            email=email_transport(config, outbox=outbox), sms=sms_transport(config, outbox=outbox),
            now=now, clock=clock, attempts=config.attempts, backoff=config.backoff, batch=config.batch,
            email_per_second=config.email_per_second, sms_per_second=config.sms_per_second,
            progress=Progress(sys.stderr), claim=Claimer(root, path, queue.day) if args.push else None,
            claim_size=config.claim_size)
        result = part if result is None else result.then(part)
        if not part.restart:
            break
        print("another run claimed touches first: planning again on what the remote holds")
        time.sleep(random.uniform(0.05, 0.5))     # let the other runner finish its group first
    else:
        print(f"error: other runs claimed first {CLAIM_ROUNDS} times in a row; what this run sent is "
              "recorded below. Run again.", file=sys.stderr)
        result = replace(result, paused=result.paused or "other runs kept claiming first")
    print(format_summary(result, transports=config.describe()), end="")
    print(f"  took {time.monotonic() - started:.1f} s; {result.records} history records written")
    if not args.no_commit:
        if not gitops.is_repository(root):
            print("  not a git repository: nothing committed")
        else:
            committed = gitops.commit_paths(root, [root / "history", queue_path(root, result.day)],
                                            result.commit_message())
            if committed is None:
                print("  nothing new to commit")
            else:
                print(f"  committed {committed.sha[:10]}: {committed.message.splitlines()[0]}")
            if args.push:
                print(f"  pushed to {gitops.push(root)}")
    for channel, note in sorted(result.refused.items()):
        print(f"error: {channel} stopped: {note}. The touches not sent are deferred to the next run.",
              file=sys.stderr)
    if result.refused:
        return AccountRefused.exit_code
    if result.paused:
        print(f"paused: {result.paused}", file=sys.stderr)
        return 3
    return EXIT_OK


def _sync(args) -> int:
    config = config_from_env(root=args.root)
    if not config.imap and config.twilio is None:
        print("sync: nothing to read. Set IMAP_HOST, IMAP_USERNAME and IMAP_PASSWORD to read replies, bounces "
              "and unsubscribes from the reply mailbox, and TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM "
              "to read texts (docs/outreach.md, \"Replies come back by themselves\").")
        return EXIT_OK
    if args.push and args.no_commit:
        raise UsageError("PUSH=1 pushes the sync's commit: it cannot go with COMMIT=0")
    with run_lock(args.root, wait=config.lock_wait, what="make sync"):
        if args.push and not args.dry_run:
            print(f"up to date with {gitops.pull(args.root)}")
        code = _sync_once(args, config, before_send=False)
        if args.push and code != EXIT_INVALID and not args.dry_run:
            print(f"  pushed to {gitops.push(args.root)}")
        return code


def _sync_once(args, config, *, before_send: bool) -> int:
    """Sync and commit it (its own commit); the lock is held. A source that cannot be read is
    reported; before a send, the send goes on with what is known."""
    loaded = _load(args)
    if loaded is None:
        return EXIT_INVALID
    checked, now, _clock = loaded
    result = sync(checked.derived.model, root=args.root, config=config, today=checked.today, now=now,
                  dry_run=getattr(args, "dry_run", False))
    print(format_sync(result), end="")
    if result.records and not args.no_commit and not getattr(args, "dry_run", False) \
            and gitops.is_repository(args.root):
        committed = gitops.commit_paths(args.root, [args.root / "history"], result.commit_message())
        if committed is not None:
            print(f"  committed {committed.sha[:10]}: {committed.message}")
    if result.errors:
        if before_send:
            print("  sending on what is known: the replies that could not be read are recorded next time",
                  file=sys.stderr)
            return EXIT_OK
        return EXIT_SOURCE
    return EXIT_OK


def _record(args) -> int:
    loaded = _load(args)
    if loaded is None:
        return EXIT_INVALID
    checked, now, _clock = loaded
    done = record_response(checked.derived.model, root=args.root, lead=args.lead, outcome=args.outcome,
                           today=checked.today, now=now, note=args.note or "", touch=args.touch or "",
                           channel=args.channel or "")
    rel = done.path.relative_to(args.root) if done.path.is_relative_to(args.root) else done.path
    print(f"recorded {done.record.event} for {args.lead} in {rel}"
          + (f" (touch {done.record.touch})" if done.record.touch else ""))
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m outreach",
                                     description="Plan the day's touches, send them, record responses.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("plan", help="write the day's queue to outbox/<date>/queue.yaml",
                       description="Plan the day (enrolments, due steps, caps) and write the rendered queue "
                                   "for review. Exit 0, or 1 on invalid data.")
    _common(p)
    p.set_defaults(func=_plan)

    p = sub.add_parser("send", help="send the day's queue (planning it first if there is none)",
                       description="Send today's queue: email, SMS, tasks for owners; record every outcome "
                                   "in history/ and commit. Transports come from the environment or .env "
                                   "(docs/outreach.md). Exit 0; 1 invalid data; 2 bad configuration; "
                                   "3 paused after too many failures; 4 queue not reviewed; 5 git failed; "
                                   "6 could not write history/ or outbox/; 7 another run holds the lock; "
                                   "8 a provider refused our account.")
    _common(p)
    p.add_argument("--dry-run", action="store_true", help="render and print; send and record nothing")
    p.add_argument("--require-review", action="store_true",
                   help="refuse to send a queue that is not committed as it is")
    p.add_argument("--no-commit", action="store_true", help="do not commit history/ and the queue")
    p.add_argument("--push", action="store_true",
                   help="coordinate with other runners through the remote: bring this checkout up to date, "
                        "claim each group of touches by pushing its `attempting` records before sending it, "
                        "push the outcome commit")
    p.set_defaults(func=_send)

    p = sub.add_parser("sync", help="record what came back: replies, bounces, out of office, opt-outs",
                       description="Read the reply mailbox (IMAP, read only) and the texts Twilio received, "
                                   "classify each (bounce, complaint, unsubscribe, automatic reply, reply, SMS "
                                   "STOP/START/HELP), record what matches a lead in history/ and commit it. "
                                   "Configured in the environment or .env (docs/outreach.md). Exit 0; 1 invalid "
                                   "data; 2 bad configuration; 5 git failed; 7 another run holds the lock; "
                                   "9 a source could not be read.")
    _common(p)
    p.add_argument("--dry-run", action="store_true", help="read and print; record nothing")
    p.add_argument("--no-commit", action="store_true", help="do not commit history/")
    p.add_argument("--push", action="store_true", help="bring this checkout up to date first, push the commit")
    p.set_defaults(func=_sync)

    p = sub.add_parser("record", help="record a response, or settle an unknown touch",
                       description="Append a response to history under your own writer name. OUTCOME is one "
                                   f"of: {', '.join(OUTCOMES)}. sent / not_sent settle an unknown touch "
                                   "(name it with --touch when the lead has several).")
    _common(p)
    p.add_argument("--lead", required=True, help="the lead's id")
    p.add_argument("--outcome", required=True, help="what happened")
    p.add_argument("--note", help="free text (what they said, when to call back)")
    p.add_argument("--touch", help="the touch id it answers or settles")
    p.add_argument("--channel", help="email, sms, call or mail (needed for opted_out)")
    p.set_defaults(func=_record)

    add_digest_command(sub, common=_common, load=_load)     # the Monday digest (outreach/digest_cli.py)

    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    if not args.root.is_dir():
        print(f"error: {args.root} is not a directory", file=sys.stderr)
        return EXIT_USAGE
    try:
        return args.func(args)
    except OutreachError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except OSError as exc:      # a disk that is full or read-only: stop, and say what it means
        where = f" {exc.filename}" if exc.filename else ""
        print(f"error: cannot write{where}: {exc.strerror or exc}. Nothing more was sent. A touch recorded "
              "`attempting` without a result is unknown: the next run's summary and the dashboard list it, "
              "and `make record ... OUTCOME=sent|not_sent TOUCH=...` settles it once you know.", file=sys.stderr)
        return EXIT_DISK
    except KeyboardInterrupt:
        return 130
