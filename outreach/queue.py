"""The day's queue: ``outbox/<date>/queue.yaml``, what a team reviews before it is sent.

:func:`build_queue` renders a :class:`relead.derive.plan.DayPlan` (every touch's copy,
email as subject + plain text + HTML body (none for a ``format: text`` message), SMS with
its segment count and encoding (GSM-7 or UCS-2), tasks as
the owner's text); :func:`write_queue` writes it deterministically (same plan,
same bytes) and atomically; :func:`read_queue` reads it back and checks it.
What is in the queue is what is sent: ``make outreach`` sends the rendered text
it finds there (addresses and opt-outs come from the data as it is at send time).
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import MISSING, asdict, dataclass
from pathlib import Path

import yaml

from relead.history import touch_id
from relead.model import Model
from relead.derive.plan import DayPlan, Enrolment, Skip, Stop, Touch
from relead.read.safepath import OUTSIDE_FIX, outside

from .errors import QueueError, RenderError
from .mime import message_id
from .render import Renderer

__all__ = ["QueuedTouch", "Queue", "build_queue", "write_queue", "read_queue", "queue_path",
           "QUEUE_VERSION"]

QUEUE_VERSION = 1

try:  # pragma: no cover - depends on the machine
    from yaml import CSafeDumper as _Dumper, CSafeLoader as _Loader
except ImportError:  # pragma: no cover
    from yaml import SafeDumper as _Dumper, SafeLoader as _Loader


@dataclass(frozen=True, slots=True)
class QueuedTouch:
    touch: str
    lead: str
    channel: str              # email | sms | call | mail
    campaign: str
    enrolment: str
    step: int
    variant: str
    owner: str
    why: str
    message: str
    to: str = ""              # for people; the address used is the lead's at send time
    subject: str = ""
    segments: int = 0
    encoding: str = ""        # SMS: GSM-7 | UCS-2 (one character outside GSM-7 makes it UCS-2: 70 a segment)
    text: str = ""
    html: str = ""
    error: str = ""           # "<code>: why" when it could not be rendered: recorded failed, never sent
    author: str = ""          # email: the team member it comes from ("" = the sender identity)
    references: str = ""      # email: the Message-IDs of the sequence's earlier emails, oldest first

    @property
    def is_task(self) -> bool:
        return self.channel in ("call", "mail")


@dataclass(frozen=True)
class Queue:
    day: str
    sending_day: bool
    touches: tuple[QueuedTouch, ...] = ()
    enrolments: tuple[Enrolment, ...] = ()
    skipped: tuple[Skip, ...] = ()
    deferred: tuple[Skip, ...] = ()
    stopped: tuple[Stop, ...] = ()

    def counts(self) -> dict[str, int]:
        out = {c: 0 for c in ("email", "sms", "call", "mail")}
        for t in self.touches:
            out[t.channel] = out.get(t.channel, 0) + 1
        return out


def queue_path(root: Path | str, day: str) -> Path:
    return Path(root) / "outbox" / day / "queue.yaml"


def _recipient(model: Model, touch: Touch) -> str:
    lead = model.by_id[touch.lead]
    if touch.channel == "email":
        return f"{lead.display_name} <{lead.email}>" if lead.display_name else lead.email
    if touch.channel == "sms":
        return lead.phone
    member = model.settings.team.get(touch.owner)
    return f"{member.name} <{member.email}>" if member else model.settings.sender.email


_WENT = frozenset(("attempting", "sent", "settled_sent"))


def _author(model: Model, touch: Touch) -> str:
    """Who an email comes from: the lead's owner (else the default owner), unless the campaign
    says `from: team` or there is nobody; "" stands for the sender identity."""
    camp = model.campaigns.get(touch.campaign)
    sends_as_owner = camp is None or camp.sends_as == "owner"
    return touch.owner if sends_as_owner and touch.owner in model.settings.team else ""


def _thread(model: Model, touch: Touch) -> str:
    """The Message-IDs of the emails this enrolment sent before ``touch``, oldest first: a
    follow-up answers in their thread (In-Reply-To, References)."""
    camp = model.campaigns.get(touch.campaign)
    if camp is None or touch.step <= 0:
        return ""
    went = {r.touch for r in model.history.for_lead(touch.lead) if r.event in _WENT}
    ids = []
    for j, step in enumerate(camp.steps[:touch.step]):
        tid = touch_id(touch.lead, touch.campaign, touch.enrolment, j)
        if step.channel == "email" and tid in went:
            ids.append(message_id(tid, model.settings.sender.email))
    return " ".join(ids)


def build_queue(plan: DayPlan, model: Model, *, renderer: Renderer | None = None) -> Queue:
    """Render every touch of ``plan``; a touch that cannot be rendered carries its error."""
    renderer = renderer or Renderer(model)
    items = []
    for t in plan.touches:
        base = dict(touch=t.id, lead=t.lead, channel=t.channel, campaign=t.campaign,
                    enrolment=t.enrolment, step=t.step, variant=t.variant, owner=t.owner, why=t.why,
                    message=t.message, to=_recipient(model, t))
        try:
            if t.channel == "email":
                r = renderer.email(t)
                items.append(QueuedTouch(**base, subject=r.subject, text=r.text, html=r.html,
                                         author=_author(model, t), references=_thread(model, t)))
            elif t.channel == "sms":
                r = renderer.sms(t)
                items.append(QueuedTouch(**base, segments=r.segments, encoding=r.encoding, text=r.text))
            else:
                items.append(QueuedTouch(**base, text=renderer.task(t)))
        except RenderError as exc:
            items.append(QueuedTouch(**base, error=f"{exc.code}: {exc}"))
        except Exception as exc:    # Markdown, an address: one touch's fault never stops the queue
            items.append(QueuedTouch(**base, error=f"render: {exc} ({exc.__class__.__name__})"))
    return Queue(plan.day.isoformat(), plan.sending_day, tuple(items), plan.enrolments, plan.skipped,
                 plan.deferred, plan.stopped)


class _QueueDumper(_Dumper):
    pass


def _str(dumper, value: str):
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


class _Flow(dict):
    """A short mapping written on one line."""


_QueueDumper.add_representer(str, _str)
_QueueDumper.add_representer(_Flow, lambda d, v: d.represent_mapping("tag:yaml.org,2002:map", v,
                                                                      flow_style=True))

_HEAD = """\
# outreach queue for {day}: what `make outreach` sends that day.
# Written by `make plan`; review it in a pull request (REQUIRE_REVIEW=1 sends only a
# committed queue). Each touch's `text` (and `html` for email) is exactly what goes out;
# the address is the lead's as it is at send time, and opt-outs are checked again then.
"""

_TOUCH_KEYS = ("touch", "lead", "to", "channel", "campaign", "enrolment", "step", "variant", "owner",
               "author", "why", "message", "subject", "references", "segments", "encoding", "error", "text",
               "html")


def _touch_map(t: QueuedTouch) -> dict:
    d = asdict(t)
    out = {}
    for k in _TOUCH_KEYS:
        v = d[k]
        if k in ("subject", "html", "error", "encoding", "author", "references") and not v:
            continue
        if k == "segments" and t.channel != "sms":
            continue
        out[k] = v
    return out


def write_queue(queue: Queue, path: Path | str) -> Path:
    """Write ``queue`` to ``path`` atomically (a crash leaves the old file or the new one)."""
    path = Path(path)
    counts = queue.counts()
    doc = {
        "version": QUEUE_VERSION,
        "day": queue.day,
        "sending_day": queue.sending_day,
        "counts": _Flow(counts),
        "enrolments": [_Flow(asdict(e)) for e in queue.enrolments],
        "skipped": [_Flow(asdict(s)) for s in queue.skipped],
        "deferred": [_Flow({k: v for k, v in asdict(s).items() if k not in ("touch", "enrolment", "variant")})
                     for s in queue.deferred],
        "stopped": [_Flow(asdict(s)) for s in queue.stopped],
        "touches": [_touch_map(t) for t in queue.touches],
    }
    text = _HEAD.format(day=queue.day) + yaml.dump(doc, Dumper=_QueueDumper, sort_keys=False,
                                                  allow_unicode=True, width=100)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return path


def _fields(cls, raw, where: str):
    required = [k for k, f in cls.__dataclass_fields__.items() if f.default is MISSING]
    if not isinstance(raw, dict):
        raise QueueError(f"{where}: expected a mapping")
    names = {f for f in cls.__dataclass_fields__}
    unknown = set(raw) - names
    if unknown:
        raise QueueError(f"{where}: unknown key `{sorted(unknown)[0]}`")
    missing = [k for k in required if k not in raw]
    if missing:
        raise QueueError(f"{where}: `{missing[0]}` is missing")
    out = {}
    for k, v in raw.items():
        kind = cls.__dataclass_fields__[k].type
        if kind in ("int", int):
            if not isinstance(v, int) or isinstance(v, bool):
                raise QueueError(f"{where}: `{k}` must be a whole number")
        elif kind in ("bool", bool):
            if not isinstance(v, bool):
                raise QueueError(f"{where}: `{k}` must be true or false")
        else:
            v = "" if v is None else (v.isoformat() if isinstance(v, dt.date) else str(v))
        out[k] = v
    return cls(**out)


def read_queue(path: Path | str, root: Path | str | None = None) -> Queue:
    """Read and check a queue file; any problem is a :class:`QueueError` naming the file. With
    ``root``, a queue that a symlink takes outside that repository is refused."""
    path = Path(path)
    target = outside(path, root) if root is not None else None
    if target is not None:
        raise QueueError(f"{path}: this file is a symlink to {target}, outside the repository; {OUTSIDE_FIX}")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise QueueError(f"{path}: there is no queue (run `make plan`)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise QueueError(f"{path}: cannot read it ({exc.__class__.__name__})") from None
    try:
        doc = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise QueueError(f"{path}{line}: not valid YAML") from None
    if not isinstance(doc, dict) or doc.get("version") != QUEUE_VERSION:
        raise QueueError(f"{path}: not a version {QUEUE_VERSION} outreach queue")
    day = doc.get("day")
    day = day.isoformat() if isinstance(day, dt.date) else str(day)
    try:
        dt.date.fromisoformat(day)
    except ValueError:
        raise QueueError(f"{path}: `day` must be YYYY-MM-DD") from None
    lists = {}
    for key in ("touches", "enrolments", "skipped", "deferred", "stopped"):
        value = doc.get(key) or []
        if not isinstance(value, list):
            raise QueueError(f"{path}: `{key}` must be a list")
        lists[key] = value
    touches = tuple(_fields(QueuedTouch, t, f"{path}: touch {i + 1}")
                    for i, t in enumerate(lists["touches"]))
    seen: set[str] = set()
    for t in touches:
        if t.channel not in ("email", "sms", "call", "mail"):
            raise QueueError(f"{path}: touch {t.touch}: unknown channel `{t.channel}`")
        if t.touch in seen:
            raise QueueError(f"{path}: touch {t.touch} is listed twice")
        seen.add(t.touch)
        if t.channel == "email" and not t.error and not (t.subject and t.text):
            raise QueueError(f"{path}: touch {t.touch}: an email needs `subject` and `text`")
    return Queue(
        day=day, sending_day=bool(doc.get("sending_day", True)), touches=touches,
        enrolments=tuple(_fields(Enrolment, e, f"{path}: enrolment {i + 1}") for i, e in enumerate(lists["enrolments"])),
        skipped=tuple(_fields(Skip, s, f"{path}: skipped {i + 1}")
                      for i, s in enumerate(lists["skipped"])),
        deferred=tuple(_fields(Skip, s, f"{path}: deferred {i + 1}")
                       for i, s in enumerate(lists["deferred"])),
        stopped=tuple(_fields(Stop, s, f"{path}: stopped {i + 1}")
                      for i, s in enumerate(lists["stopped"])),
    )

