"""What a run did, for people: the summary table printed at the end, and the dry-run preview."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Mapping

from relead.messages import in_gsm7

from .outcome import RunResult
from .queue import Queue
from .sync import SyncResult

__all__ = ["format_summary", "format_preview", "format_plan", "format_sync"]

_CHANNELS = ("email", "sms", "call", "mail")
_SHOWN = 5                  # touches named in a line of the plan's summary
_STATES = ("sent", "failed", "deferred", "skipped", "unknown")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' * (n != 1)}"


def format_summary(result: RunResult, *, transports: Mapping[str, str] | None = None) -> str:
    lines = [f"outreach {result.day}"]
    if transports:
        lines.append("  " + "   ".join(f"{k}: {v}" for k, v in transports.items()))
    if result.enrolled:
        lines.append(f"  enrolled {_plural(result.enrolled, 'lead')} in campaigns")
    if result.already_done:
        lines.append(f"  {result.already_done} queued touch{'es' * (result.already_done != 1)} "
                     "already done by an earlier run: not sent again")
    table = Counter((o.touch.channel, o.state) for o in result.outcomes)
    lines.append("")
    lines.append(f"  {'channel':<8}" + "".join(f"{s:>10}" for s in _STATES))
    for ch in _CHANNELS:
        if any(table[(ch, s)] for s in _STATES):
            lines.append(f"  {ch:<8}" + "".join(f"{table[(ch, s)]:>10}" for s in _STATES))
    if not result.outcomes:
        lines.append("  (nothing to send)")
    lines.append("")
    for state in ("failed", "skipped", "deferred"):
        reasons: dict[tuple[str, str], list] = defaultdict(list)
        for o in result.outcomes:
            if o.state == state:
                reasons[(o.touch.channel, o.ref or "?")].append(o)
        if reasons:
            parts = []
            for (ch, ref), items in sorted(reasons.items()):
                note = items[0].note.splitlines()[0] if items[0].note else ""
                parts.append(f"{ch} {ref} x{len(items)}" + (f" ({note})" if note else ""))
            lines.append(f"  {state + ':':<10}" + ("\n" + " " * 12).join(parts))
    unknown = result.unknown
    if unknown:
        lines.append(f"  unknown:  {len(unknown)} touch{'es' * (len(unknown) != 1)} may or may not have "
                     "gone out; they are never sent again. Settle each with")
        lines.append("            make record LEAD=<lead> OUTCOME=sent|not_sent TOUCH=<touch>")
        for o in unknown:
            lines.append(f"            {o.touch.touch}  {o.touch.lead}  {o.touch.channel}  {o.note}")
    if result.unknown_before:
        lines.append(f"  still unknown from earlier runs: {len(result.unknown_before)} (settle with make record "
                     "LEAD=<lead> OUTCOME=sent|not_sent TOUCH=<touch>)")
        for r in result.unknown_before[:20]:
            lines.append(f"            {r.touch}  {r.lead}  {r.channel}  attempted {r.day}")
        if len(result.unknown_before) > 20:
            lines.append(f"            ... and {len(result.unknown_before) - 20} more")
    tasks = result.tasks
    if tasks:
        per_owner: dict[str, Counter] = defaultdict(Counter)
        for o in tasks:
            per_owner[o.touch.owner or "(no owner: the team)"][o.touch.channel] += 1
        parts = [f"{owner} {sum(c.values())} (" + ", ".join(f"{n} {k}" for k, n in sorted(c.items())) + ")"
                 for owner, c in sorted(per_owner.items())]
        lines.append(f"  {'tasks:':<10}" + ", ".join(parts))
        if result.digests:
            lines.append(f"            digest mailed to {', '.join(result.digests)}")
        for err in result.digest_errors:
            lines.append(f"            digest not mailed: {err}")
    if result.paused:
        lines.append(f"  PAUSED:   {result.paused}")
    return "\n".join(lines).rstrip() + "\n"


def _encoding(touch) -> str:
    """The SMS's encoding and, for UCS-2, the first character that forces it (one letter, a
    curly quote or a dash often does: rewriting it saves segments)."""
    if touch.encoding != "UCS-2":
        return touch.encoding or "?"
    char = next((c for c in touch.text if not in_gsm7(c)), "")
    return f"UCS-2 because of {char!r}" if char else "UCS-2"


def format_plan(queue: Queue, path) -> str:
    if not queue.sending_day:
        return f"{queue.day} is not a sending day (weekend or holiday): nothing planned, nothing written\n"
    counts = queue.counts()
    what = ", ".join(f"{n} {ch}" for ch, n in counts.items() if n) or "no touches"
    lines = [f"planned {queue.day}: {what}; {_plural(len(queue.enrolments), 'new enrolment')}, "
             f"{len(queue.skipped)} skipped, {len(queue.deferred)} deferred -> {path}"]
    long = [t for t in queue.touches if t.channel == "sms" and t.segments > 1]
    if long:
        shown = ", ".join(f"{t.lead} ({t.segments}, {_encoding(t)})" for t in long[:_SHOWN])
        more = f" and {len(long) - _SHOWN} more" if len(long) > _SHOWN else ""
        n = counts["sms"]
        lines.append(f"  {len(long)} of {n} SMS touch{'es' * (n != 1)} {'is' if len(long) == 1 else 'are'} "
                     f"more than one segment (each segment is billed as one SMS): {shown}{more}")
    errors = [t for t in queue.touches if t.error]
    for t in errors:
        lines.append(f"  cannot render {t.channel} for {t.lead} ({t.message}): {t.error}")
    return "\n".join(lines) + "\n"


def format_preview(queue: Queue) -> str:
    """DRY_RUN: every touch as it would go out."""
    out = [f"dry run for {queue.day}: nothing is sent, nothing is recorded", ""]
    for t in queue.touches:
        out.append(f"== {t.channel} to {t.to}  [{t.lead}, {t.why}; touch {t.touch}]")
        if t.error:
            out.append(f"   NOT SENDABLE: {t.error}")
        else:
            if t.subject:
                out.append(f"Subject: {t.subject}")
            if t.channel == "sms":
                out.append(f"({_plural(t.segments, 'segment')}" + (f", {t.encoding})" if t.encoding else ")"))
            out.append("")
            out.append(t.text.rstrip())
        out.append("")
    if not queue.touches:
        out.append("(nothing to send)")
    return "\n".join(out).rstrip() + "\n"


def format_sync(result: SyncResult, *, shown: int = 30) -> str:
    """What a sync read and recorded, what matched nobody, and what could not be read."""
    lines = [f"{result.commit_message()}" + (f"  (read {'; '.join(result.sources)})" if result.sources else "")]
    for rec in result.records:
        what = rec.event.replace("_", " ")
        note = f": {rec.note}" if rec.note else ""
        lines.append(f"  {what:<13} {rec.lead}  {rec.channel}{note}")
    if result.unmatched:
        lines.append(f"  unmatched ({len(result.unmatched)}, not recorded; answer or file them by hand):")
        lines.extend(f"    {line}" for line in result.unmatched[:shown])
        if len(result.unmatched) > shown:
            lines.append(f"    ... and {len(result.unmatched) - shown} more")
    for error in result.errors:
        lines.append(f"  could not read {error}")
    return "\n".join(lines) + "\n"
