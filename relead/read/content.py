"""content/: campaigns, message copy and pages into the model."""

from __future__ import annotations

import re
from typing import Any

import jinja2
from jinja2 import meta

from .. import schema as S
from ..messages import TEMPLATE_VARIABLES, CopySandbox, forbidden_tags
from ..model import Audience, Campaign, Message, OutcomeRule, Page, Settings, Step, Variant, frozen_map
from ..problems import Problems
from ..vocab import OUTCOME_RULES
from .values import ID_RE, KEY_RE, Invalid, check_mapping, did_you_mean

__all__ = ["split_front_matter", "message_from", "page_from", "campaign_from", "TEMPLATE_VARIABLES",
           "STALE_PHRASES"]

STALE_PHRASES = ("just checking in", "just following up", "just touching base")

_FRONT = re.compile(r"\A---[ \t]*\n(.*?\n)?---[ \t]*(?:\n|\Z)", re.DOTALL)
_ENV = CopySandbox(autoescape=False)
_SUBJECT = re.compile(r"^subject[ \t]*:", re.MULTILINE)


def split_front_matter(text: str) -> tuple[str, str, int]:
    """(front matter YAML, body, line number of the body's first line)."""
    # An editor that saves UTF-8 with a byte-order mark would otherwise hide the front matter
    # (and with it the subject) in the body.
    if text.startswith("\ufeff"):
        text = text[1:]
    m = _FRONT.match(text)
    if not m:
        return "", text, 1
    front = m.group(1) or ""
    return front, text[m.end():], front.count("\n") + 3


def check_copy(body: str, file: str, body_line: int, problems: Problems) -> None:
    """Template syntax, variables, and the two copy rules (a hook; no stale phrases)."""
    try:
        ast = _ENV.parse(body)
    except jinja2.TemplateSyntaxError as exc:
        problems.error(file, (), f"template error: {exc.message}",
                       "fix the {{ }} / {% %} syntax", line=body_line + (exc.lineno or 1) - 1)
        return
    for tag, line in forbidden_tags(ast):
        problems.error(file, (), f"`{{% {tag} %}}` is not allowed in message copy",
                       "one file is one message: write the text out here", line=body_line + line - 1)
    try:
        undeclared = meta.find_undeclared_variables(ast)     # compiles: finds an unknown filter or test
    except jinja2.TemplateSyntaxError as exc:
        problems.error(file, (), f"template error: {exc.message}",
                       "copy has Jinja's filters and tests, and `sentence_end`", line=body_line + (exc.lineno or 1) - 1)
        return
    for name in sorted(undeclared):
        if name not in TEMPLATE_VARIABLES:
            hint = did_you_mean(name, TEMPLATE_VARIABLES)
            problems.error(file, (), f"unknown template variable `{name}`",
                           hint or f"use one of {', '.join(TEMPLATE_VARIABLES)}",
                           line=body_line + _line_of(ast, name))
    if "campaign.hook" not in body:
        problems.warning(file, (), "this copy brings no new value: it never uses {{ campaign.hook }}",
                         "remind them what they wanted and offer the campaign's hook", line=body_line)
    lowered = body.lower().replace("\u2019", "'")
    for phrase in STALE_PHRASES:
        at = lowered.find(phrase)
        if at >= 0:
            problems.warning(file, (), f"the copy says \"{phrase}\"",
                             "say what is new for them and ask for a decision instead",
                             line=body_line + body.count("\n", 0, at))


def _line_of(ast, name: str) -> int:
    """Lines after the body's first to the first use of the variable ``name``."""
    for node in ast.find_all(jinja2.nodes.Name):
        if node.name == name and node.ctx == "load":
            return node.lineno - 1
    return 0


def message_from(key: str, file: str, text: str, problems: Problems,
                 front_data: Any) -> Message | None:
    front, body, body_line = split_front_matter(text)
    data = {}
    if front_data is not None:
        data = check_mapping(front_data, S.MESSAGE, file=file, path=(), problems=problems,
                             what="the front matter")
        if data is None:
            return None
    check_copy(body, file, body_line, problems)
    blank = len(body) - len(body.lstrip())
    subject = _SUBJECT.search(front)
    return Message(key=key, file=file, subject=data.get("subject", ""), body=body.strip() + "\n",
                   body_line=body_line + body.count("\n", 0, blank),
                   subject_line=2 + front.count("\n", 0, subject.start()) if subject else 2,
                   format=data.get("format", "html"))


def page_from(slug: str, file: str, text: str, problems: Problems, front_data: Any) -> Page | None:
    _front, body, _ = split_front_matter(text)
    data = {}
    if front_data is not None:
        data = check_mapping(front_data, S.PAGE, file=file, path=(), problems=problems,
                             what="the front matter")
        if data is None:
            return None
    title = data.get("title") or slug.replace("-", " ").capitalize()
    return Page(slug=slug, file=file, title=title, order=data.get("order", 100), body=body)


def campaign_from(cid: str, file: str, raw: Any, problems: Problems, *, settings: Settings | None,
                  campaign_ids: set[str], messages: dict[str, Message]) -> Campaign | None:
    before = len(problems.errors)
    if not ID_RE.fullmatch(cid):
        problems.error(file, (), f"campaign file name `{cid}` is not a valid id",
                       "rename the file using lowercase letters, digits and hyphens", line=1)

    def structured(key, value, path):
        if key.kind == "map":
            return check_mapping(value, key.schema, file=file, path=path, problems=problems,
                                 what=f"`{key.name}`")
        if key.kind == "steps":
            if not isinstance(value, list) or not value:
                raise Invalid("`steps` must be a list of at least one step",
                              "e.g. steps: [{day: 0, channel: email, message: hot/remind}]")
            return [check_mapping(v, key.schema, file=file, path=path + (i,), problems=problems,
                                  what=f"step {i + 1}") for i, v in enumerate(value)]
        if key.kind == "named_maps":
            if not isinstance(value, dict) or not value:
                raise Invalid("`variants` must map variant names to their hook",
                              "e.g. variants: {a: {hook: ...}, b: {hook: ...}}")
            out = {}
            for name, v in value.items():
                if not isinstance(name, str) or not KEY_RE.fullmatch(name):
                    problems.error(file, path + (str(name),), f"variant name `{name}` is not valid",
                                   "use lowercase letters and digits, e.g. a, b")
                    continue
                out[name] = check_mapping(v, key.schema, file=file, path=path + (name,),
                                          problems=problems, what=f"variant `{name}`",
                                          structured=lambda k, vv, p: _message_map(vv))
            return out
        if key.kind == "outcomes":
            if not isinstance(value, dict):
                raise Invalid("`outcomes` must be a mapping", f"use keys {', '.join(OUTCOME_RULES)}")
            out = {}
            for name, v in value.items():
                if name not in OUTCOME_RULES:
                    hint = did_you_mean(name, OUTCOME_RULES)
                    problems.error(file, path + (str(name),), f"unknown outcome `{name}`",
                                   hint or f"use one of {', '.join(OUTCOME_RULES)}")
                    continue
                rule = out[name] = check_mapping(v, key.schema, file=file, path=path + (name,),
                                                 problems=problems, what=f"outcome `{name}`")
                for k, only in (("after_days", ("not_interested", "no_response")),
                                ("review_after_days", ("out_of_scope",))):
                    if rule and k in rule and name not in only:
                        # read by nothing for this outcome: a key written under the wrong one
                        del rule[k]
                        problems.error(file, path + (name, k), f"`{k}` does nothing under `{name}`",
                                       f"it belongs under {' or '.join(f'`{o}`' for o in only)}")
            return out
        raise AssertionError(key.kind)  # pragma: no cover

    data = check_mapping(raw, S.CAMPAIGN, file=file, path=(), problems=problems,
                         what="a campaign", structured=structured)
    if data is None:
        return None
    steps = tuple(Step(**s) for s in data.get("steps") or () if s is not None and len(s) == 3)
    variants = tuple(Variant(key=k, hook=v.get("hook", ""), messages=frozen_map(v.get("messages")))
                     for k, v in (data.get("variants") or {}).items() if v is not None)
    outcomes = {k: OutcomeRule(**v) for k, v in (data.get("outcomes") or {}).items() if v is not None}
    audience = Audience(**data["audience"]) if data.get("audience") is not None else None
    hook = data.get("hook", "")
    _check_campaign_refs(file, data, steps, variants, outcomes, audience, hook, problems,
                         settings=settings, campaign_ids=campaign_ids, messages=messages, cid=cid)
    if len(problems.errors) > before:
        return None
    return Campaign(id=cid, file=file, name=data["name"], hook=hook, steps=steps,
                    description=data.get("description", ""), audience=audience,
                    priority=data.get("priority", 0), max_new_per_day=data.get("max_new_per_day", 25),
                    paused=data.get("paused", False), variants=variants, outcomes=frozen_map(outcomes),
                    sends_as=data.get("from", "owner"))


def _message_map(value) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                              for k, v in value.items()):
        raise Invalid("`messages` must map a step's message to this variant's message",
                      "e.g. messages: {hot/remind: hot/remind-b}")
    return value


def _check_campaign_refs(file, data, steps, variants, outcomes, audience, hook, problems, *,
                         settings, campaign_ids, messages, cid) -> None:
    if not hook and (not variants or any(not v.hook for v in variants)):
        problems.error(file, (), "the campaign has no `hook` (the new value it brings)",
                       "add `hook:` (or a hook in every variant)")
    last_day = -1
    # Email after the first may leave out its subject: it answers in the first one's thread ("Re: ...").
    first_email = next((i for i, s in enumerate(steps) if s.channel == "email"), None)
    for i, step in enumerate(steps):
        path = ("steps", i)
        if step.day < last_day:
            problems.error(file, path + ("day",), f"step {i + 1} (day {step.day}) comes before the step above it",
                           "list steps in order of their day")
        last_day = step.day
        _check_message_ref(file, path + ("message",), step.message, step.channel, messages, problems,
                           needs_subject=i == first_email)
    for v in variants:
        for original, replacement in v.messages.items():
            channel = next((s.channel for s in steps if s.message == original), None)
            if channel is None:
                problems.error(file, ("variants", v.key, "messages", original),
                               f"variant `{v.key}` replaces `{original}`, which no step sends",
                               "use the message name of one of the steps")
                continue
            first = first_email is not None and steps[first_email].message == original
            _check_message_ref(file, ("variants", v.key, "messages", original), replacement,
                               channel, messages, problems, needs_subject=first)
    funnel = settings.funnel if settings else None
    for name, rule in outcomes.items():
        path = ("outcomes", name)
        if rule.stage is not None and funnel and rule.stage not in funnel:
            problems.error(file, path + ("stage",), f"unknown stage `{rule.stage}`",
                           did_you_mean(rule.stage, funnel) or f"use one of {', '.join(funnel)}")
        if rule.then is not None and rule.then not in campaign_ids:
            problems.error(file, path + ("then",), f"unknown campaign `{rule.then}`",
                           did_you_mean(rule.then, campaign_ids)
                           or "name a file in content/campaigns/ (without .yaml)")
        if rule.then == cid and name != "no_response":
            problems.error(file, path + ("then",), "only `no_response` may hand a lead back to the same campaign",
                           "name another campaign, such as a nurture campaign")
    if audience is not None and settings is not None:
        refs = (("lost_stage", audience.lost_stage, settings.funnel),
                ("reasons", audience.reasons, tuple(settings.lost_reasons)),
                ("owners", audience.owners, tuple(settings.team)))
        for key, values, allowed in refs:
            for j, value in enumerate(values):
                if value not in allowed:
                    problems.error(file, ("audience", key, j), f"unknown {key.rstrip('s').replace('_', ' ')} `{value}`",
                                   did_you_mean(value, allowed) or f"use one of {', '.join(allowed)}")


def _check_message_ref(file, path, key, channel, messages, problems, *, needs_subject: bool = True) -> None:
    msg = messages.get(key)
    if msg is None:
        problems.error(file, path, f"unknown message `{key}`",
                       did_you_mean(key, messages)
                       or f"create content/messages/{key}.md or name an existing message")
    elif channel == "email" and not msg.subject and needs_subject:
        problems.error(file, path, f"message `{key}` is the campaign's first email but has no subject",
                       f"add `subject:` to the front matter of {msg.file} (later emails may leave it out: "
                       "they answer in the first one's thread)")
