"""What worked: touches and answers per campaign, step, channel, variant and hook, from history/.

A pure function of the model and the derived lead states:
``campaign_stats(model, states)`` walks each lead's history once and counts,
for every touch that went out, whether the lead answered, whether the answer
was interest (or a meeting, a proposal, a deal), and whether the lead was won
back.

Attribution: a response belongs to the touch before it in the same enrolment
(the campaign run it names), or to the lead's last touch when it names none.
Later responses of the same enrolment (a meeting booked, the deal won) belong
to the touch that got the first answer, so a step is credited with the deal it
started. Each touch is counted once however many records it has.

Definitions (each counted once per touch):

* ``sent``: ``sent`` or ``settled_sent``, or a call outcome for a planned call
  task that has no ``sent`` record;
* ``replied``: the lead answered: a reply, interest or not, an opt-out, a call
  that reached them, a meeting, a proposal, a deal (:data:`_ANSWERS`); not a
  bounce, a wrong number, a call nobody answered, and none of what only
  ``make sync`` records: an automatic reply, a soft bounce, a block against us,
  a spam complaint, an SMS START or HELP;
* ``auto_replied``: an automatic reply (out of office) came back to the touch,
  counted apart from the answers;
* ``interested``: the answers included ``interested``, ``appointment``,
  ``proposal`` or ``won``;
* ``recovered``: a ``won`` followed, and the lead's status is ``recovered``
  (won after it was lost); ``value_recovered`` adds up those leads' values.

The touch number is the touch's place in its enrolment's sequence (1 for the
first touch that went out, 5 for the fifth and later ones): what the team's own
touches brought back at each (:class:`TouchCurve`).

Which channel, hook or variant worked best (:func:`ranking`): the one whose
interest rate we can be surest of, the lower end of its 95% Wilson score
interval, among those with at least :data:`MIN_SENT` touches sent. A channel
with few touches needs a higher rate to lead; the ones left out are named.

The owner's tasks (a call back after interest, answering a reply) are not
touches of the sequence: they are counted apart, per campaign.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Mapping

from ..history import RESPONSE_EVENTS, History
from ..model import Campaign, Model
from ..vocab import CHANNELS, SEND_CHANNELS, TASK_CHANNELS
from .enrolment import INTERESTED_STEP, REPLY_STEP
from .state import TOUCH_COUNTED, LeadState

__all__ = [
    "Tally", "StepStats", "VariantStats", "CampaignStats", "HookStats", "TouchCurve", "Stats",
    "campaign_stats", "best", "ranking", "Ranking", "wilson_lower", "MIN_SENT", "TOUCH_BUCKETS",
    "channel_counts",
]

TOUCH_BUCKETS = 5          # touch numbers 1, 2, 3, 4 and 5 or later
MIN_SENT = 5               # touches a channel, hook or variant needs before it is compared

_SENT = frozenset(("sent", "settled_sent"))
_CALL_OUTCOMES = frozenset(("called", "no_answer", "voicemail"))
# What never counts as an answer (anything outside _ANSWERS is not one; these are named to be sure).
_NOT_AN_ANSWER = frozenset(("bounced", "wrong_number", "no_answer", "voicemail", "auto_reply", "soft_bounce",
                            "policy_block", "complained", "opted_in", "sms_help"))
_POSITIVE = frozenset(("interested", "appointment", "proposal", "won"))
_ANSWERS = frozenset(("replied", "interested", "not_interested", "unsubscribed", "opted_out",
                      "do_not_contact", "out_of_scope", "appointment", "proposal", "won", "called"))
_INTERESTED_TASK, _REPLY_TASK = str(INTERESTED_STEP), str(REPLY_STEP)
# indexes into a tally's counters (the value recovered comes after them)
_S, _F, _K, _R, _I, _W, _A = range(7)
_V = 7


@dataclass(frozen=True, slots=True)
class Tally:
    """Counts for one group of touches (a step, a channel, a variant, a hook...)."""

    sent: int = 0
    failed: int = 0
    skipped: int = 0
    replied: int = 0
    interested: int = 0
    recovered: int = 0
    value_recovered: float = 0
    auto_replied: int = 0     # touches an automatic reply (out of office) came back to: not answers

    @property
    def reply_rate(self) -> float:
        return self.replied / self.sent if self.sent else 0.0

    @property
    def interest_rate(self) -> float:
        return self.interested / self.sent if self.sent else 0.0

    @classmethod
    def of(cls, counters: Iterable[list]) -> "Tally":
        c = [0] * _V
        value = 0.0
        for item in counters:
            for i in range(_V):
                c[i] += item[i]
            value += item[_V]
        return cls(c[_S], c[_F], c[_K], c[_R], c[_I], c[_W], value, c[_A])


@dataclass(frozen=True, slots=True)
class VariantStats:
    variant: str          # "" when the campaign has no variants
    hook: str
    tally: Tally


@dataclass(frozen=True, slots=True)
class StepStats:
    index: int            # 0-based
    day: int
    channel: str
    message: str
    tally: Tally
    by_variant: tuple[VariantStats, ...]


@dataclass(frozen=True, slots=True)
class TouchCurve:
    """Per touch number (1, 2, 3, 4, 5+): touches sent, answered, interested, and leads won back
    (a deal won after the loss, credited to the touch that got the first answer)."""

    sent: tuple[int, ...]
    replied: tuple[int, ...]
    interested: tuple[int, ...]
    recovered: tuple[int, ...] = (0,) * TOUCH_BUCKETS

    def shares(self, which: str = "replied") -> tuple[float, ...]:
        """Each touch number's share of all answers (or interest), 0..1."""
        counts = getattr(self, which)
        total = sum(counts)
        return tuple(c / total if total else 0.0 for c in counts)


@dataclass(frozen=True, slots=True)
class CampaignStats:
    campaign: Campaign
    enrolments: int       # `enrolled` records
    leads: int            # distinct leads ever enrolled
    tally: Tally          # every step
    steps: tuple[StepStats, ...]
    by_variant: tuple[VariantStats, ...]
    by_channel: Mapping[str, Tally]
    touches: TouchCurve
    follow_ups: int       # the owner's call back after an `interested` answer, handed out
    answer_tasks: int = 0     # the owner's task to answer a reply, handed out


@dataclass(frozen=True, slots=True)
class HookStats:
    hook: str
    campaign: str
    variant: str
    tally: Tally


@dataclass(frozen=True, slots=True)
class Stats:
    campaigns: Mapping[str, CampaignStats]     # in the campaigns' order
    tally: Tally                               # every campaign
    by_channel: Mapping[str, Tally]            # CHANNELS order
    by_hook: tuple[HookStats, ...]             # in :func:`ranking`'s order, best first
    touches: TouchCurve
    unattributed: int                          # answers with no touch before them


def _new() -> list:
    return [0, 0, 0, 0, 0, 0, 0, 0.0]


def campaign_stats(model: Model, states: Mapping[str, LeadState]) -> Stats:
    campaigns = model.campaigns
    won_back = {lid for lid, st in states.items() if st.status == "recovered"}
    by_id = model.by_id
    counters: dict[tuple[str, str, str, str], list] = {}    # (campaign, step, channel, variant)
    curve = {cid: [[0] * TOUCH_BUCKETS for _ in range(4)] for cid in campaigns}
    enrolments = dict.fromkeys(campaigns, 0)
    enrolled_leads: dict[str, set] = {cid: set() for cid in campaigns}
    follow_ups = dict.fromkeys(campaigns, 0)
    answer_tasks = dict.fromkeys(campaigns, 0)
    unattributed = 0

    for lead_id, records in model.history.by_lead.items():
        seq: dict[tuple[str, str], int] = {}          # enrolment -> touches so far
        last: dict[tuple[str, str], tuple] = {}       # enrolment -> (counters, bucket)
        answered: dict[tuple[str, str], list] = {}    # enrolment -> [counters, bucket, positive, won]
        auto: set[tuple[tuple[str, str], int]] = set()  # (enrolment, touch number) an automatic reply came to
        last_enr = None
        sent_ids: set[str] = set()
        for rec in records:
            ev = rec.event
            if ev == "enrolled":
                if rec.campaign in enrolments:
                    enrolments[rec.campaign] += 1
                    enrolled_leads[rec.campaign].add(lead_id)
                continue
            is_call_touch = ev in _CALL_OUTCOMES and rec.touch and rec.touch not in sent_ids
            if ev in _SENT or is_call_touch or ev == "failed" or ev == "skipped":
                if rec.step.startswith("-"):        # the owner's task after interest or a reply
                    if ev in _SENT and rec.campaign in follow_ups and rec.touch not in sent_ids:
                        if rec.step == _INTERESTED_TASK:
                            follow_ups[rec.campaign] += 1
                        elif rec.step == _REPLY_TASK:
                            answer_tasks[rec.campaign] += 1
                        sent_ids.add(rec.touch)
                    continue
                key = (rec.campaign, rec.step, rec.channel, rec.variant)
                c = counters.get(key)
                if c is None:
                    c = counters[key] = _new()
                if ev == "failed":
                    c[_F] += 1
                    continue
                if ev == "skipped":
                    c[_K] += 1
                    continue
                if rec.touch and rec.touch in sent_ids:
                    continue
                if rec.touch:
                    sent_ids.add(rec.touch)
                enr = (rec.campaign, rec.enrolment)
                n = seq.get(enr, 0) + 1
                seq[enr] = n
                bucket = min(n, TOUCH_BUCKETS) - 1
                c[_S] += 1
                cv = curve.get(rec.campaign)
                if cv is not None:
                    cv[0][bucket] += 1
                last[enr] = (c, bucket)
                last_enr = enr
                if not is_call_touch:
                    continue
            if ev not in _ANSWERS:
                if ev == "auto_reply":      # to the touch before it, once per touch; not an answer
                    enr = (rec.campaign, rec.enrolment) if rec.campaign else last_enr
                    touch = last.get(enr)
                    if touch is not None and (enr, seq[enr]) not in auto:
                        auto.add((enr, seq[enr]))
                        touch[0][_A] += 1
                continue
            enr = (rec.campaign, rec.enrolment) if rec.campaign else last_enr
            got = answered.get(enr)
            if got is None:
                touch = last.get(enr)
                if touch is None:
                    unattributed += 1
                    continue
                c, bucket = touch
                got = answered[enr] = [c, bucket, False, False]
                c[_R] += 1
                cv = curve.get(enr[0])
                if cv is not None:
                    cv[1][bucket] += 1
            c, bucket = got[0], got[1]
            if ev in _POSITIVE and not got[2]:
                got[2] = True
                c[_I] += 1
                cv = curve.get(enr[0])
                if cv is not None:
                    cv[2][bucket] += 1
            if ev == "won" and not got[3] and lead_id in won_back:
                got[3] = True
                c[_W] += 1
                lead = by_id.get(lead_id)
                c[_V] += lead.value if lead is not None else 0
                cv = curve.get(enr[0])
                if cv is not None:
                    cv[3][bucket] += 1

    per_campaign: dict[str, CampaignStats] = {}
    hooks: list[HookStats] = []
    for cid, camp in campaigns.items():
        mine = {k: v for k, v in counters.items() if k[0] == cid}
        variants = sorted(v.key for v in camp.variants) or [""]
        seen_variants = sorted({k[3] for k in mine} - set(variants))
        variants += seen_variants
        steps = []
        for i, step in enumerate(camp.steps):
            s = str(i)
            rows = [v for k, v in mine.items() if k[1] == s]
            steps.append(StepStats(
                i, step.day, step.channel, step.message, Tally.of(rows),
                tuple(VariantStats(var, camp.hook_for(var), Tally.of(v for k, v in mine.items()
                                                                    if k[1] == s and k[3] == var))
                      for var in variants)))
        by_variant = tuple(VariantStats(var, camp.hook_for(var),
                                        Tally.of(v for k, v in mine.items() if k[3] == var))
                           for var in variants)
        hooks.extend(HookStats(vs.hook, cid, vs.variant, vs.tally) for vs in by_variant)
        sent, replied, interested, recovered = curve[cid]
        per_campaign[cid] = CampaignStats(
            campaign=camp, enrolments=enrolments[cid], leads=len(enrolled_leads[cid]),
            tally=Tally.of(mine.values()), steps=tuple(steps), by_variant=by_variant,
            by_channel={ch: Tally.of(v for k, v in mine.items() if k[2] == ch) for ch in CHANNELS},
            touches=TouchCurve(tuple(sent), tuple(replied), tuple(interested), tuple(recovered)),
            follow_ups=follow_ups[cid], answer_tasks=answer_tasks[cid])
    # in the order :func:`ranking` judges them: the ones with too few touches to compare last
    hooks.sort(key=lambda h: (h.tally.sent < MIN_SENT, tuple(-x for x in _merit(h.tally)),
                              h.hook, h.campaign, h.variant))
    total_curve = [[sum(curve[cid][j][b] for cid in campaigns) for b in range(TOUCH_BUCKETS)]
                   for j in range(4)]
    return Stats(
        campaigns=per_campaign, tally=Tally.of(counters.values()),
        by_channel={ch: Tally.of(v for k, v in counters.items() if k[2] == ch) for ch in CHANNELS},
        by_hook=tuple(hooks),
        touches=TouchCurve(*(tuple(x) for x in total_curve)),
        unattributed=unattributed)


def wilson_lower(k: int, n: int, z: float = 1.96) -> float:
    """The lower end of the Wilson score interval for ``k`` successes in ``n`` trials (95% with
    the default ``z``): a rate we can be fairly sure of, 0 when ``n`` is 0."""
    if n <= 0 or k <= 0:
        return 0.0      # exactly: the formula leaves rounding dust
    p = k / n
    z2 = z * z
    centre = p + z2 / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, (centre - spread) / (1 + z2 / n))


def _merit(t: Tally) -> tuple[float, float, int]:
    return (wilson_lower(t.interested, t.sent), wilson_lower(t.replied, t.sent), t.sent)


@dataclass(frozen=True, slots=True)
class Ranking:
    """Which of several groups of touches (channels, hooks, variants) worked best, and how that
    was judged, so a page can say it in words."""

    best: str | None                        # None: none has enough touches, or nothing came back
    lower: Mapping[str, float]              # key -> its interest rate's 95% lower bound (compared keys)
    left_out: tuple[tuple[str, int], ...]   # (key, touches sent) with fewer than `min_sent`, in order
    min_sent: int


def ranking(tallies: Mapping[str, Tally], *, min_sent: int = MIN_SENT) -> Ranking:
    """Compare the keys with at least ``min_sent`` touches sent by the lower end of their interest
    rate's 95% Wilson interval (then of their answer rate, then by touches sent): a small sample
    has to show a higher rate to lead. The best needs at least one answer."""
    fair = [(k, t) for k, t in tallies.items() if t.sent >= min_sent]
    left_out = tuple((k, t.sent) for k, t in tallies.items() if t.sent < min_sent)
    lower = {k: wilson_lower(t.interested, t.sent) for k, t in fair}
    winner = None
    if fair:
        key, tally = max(fair, key=lambda kt: _merit(kt[1]))
        winner = key if tally.replied or tally.interested else None
    return Ranking(winner, lower, left_out, min_sent)


def best(tallies: Mapping[str, Tally], *, min_sent: int = MIN_SENT) -> str | None:
    """The key :func:`ranking` puts first; None when none has enough touches or answers to judge."""
    return ranking(tallies, min_sent=min_sent).best


# A call nobody answered, a voicemail, a bounce, a wrong number is not the lead answering (and the
# events only `make sync` writes are not in RESPONSE_EVENTS at all).
_CHANNEL_RESPONSES = frozenset(RESPONSE_EVENTS) - {"bounced", "opted_out", "no_answer", "voicemail", "wrong_number"}


def channel_counts(history: History) -> dict[str, dict[str, int]]:
    """Per channel: touches sent and responses that followed them (summary.json's ``channels``).

    A response recorded without a channel counts for the channel of the lead's
    last touch before it. Only a lead's answers are responses: not what only
    `make sync` records (an automatic reply, a soft bounce, a block, a spam
    complaint, an SMS START or HELP), and one inbound message recorded twice (two
    runners synced it: the same ``ref``) counts once.
    """
    stats = {c: {"sent": 0, "responses": 0} for c in SEND_CHANNELS + TASK_CHANNELS}
    responses = _CHANNEL_RESPONSES
    for records in history.by_lead.values():
        last_channel = ""
        seen: set[tuple[str, str]] | None = None
        for rec in records:
            if rec.event in TOUCH_COUNTED and rec.channel in stats:
                stats[rec.channel]["sent"] += 1
                last_channel = rec.channel
            elif rec.event in responses:
                if rec.ref:
                    key = (rec.event, rec.ref)
                    if seen is None:
                        seen = set()
                    elif key in seen:
                        continue
                    seen.add(key)
                channel = rec.channel or last_channel
                if channel in stats:
                    stats[channel]["responses"] += 1
    return stats
