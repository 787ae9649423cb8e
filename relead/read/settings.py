"""content/settings.yaml into :class:`~relead.model.Settings`."""

from __future__ import annotations

import math
import re
from typing import Any

from .. import schema as S
from ..clock import as_of_from
from ..intake.crm_formats import import_rules_from, value_map
from ..model import LostReason, Scoring, Sender, Sending, Settings, SyncRules, TeamMember, Window, frozen_map
from ..problems import Problems
from ..vocab import WEEKDAYS
from .values import KEY_RE, Invalid, check_mapping, did_you_mean, yaml_special_float

__all__ = ["settings_from"]


_REGION = re.compile(r"[a-z]{2}(-[a-z0-9]{1,3})?")


def settings_from(raw: Any, file: str, problems: Problems) -> Settings | None:
    """Check and convert; None when the settings are too broken to check leads against."""
    before = len(problems.errors)
    # scoring.stage is checked against the funnel, wherever in the file the funnel is.
    funnel_box: list[tuple[str, ...]] = []
    if isinstance(raw, dict):
        try:
            funnel_box.append(_stage_list(raw.get("funnel"), None))
        except Invalid:
            pass

    def structured(key, value, path):
        if key.kind == "named_maps":
            return _named_maps(value, key, path, file, problems)
        if key.kind == "stage_list":
            return _stage_list(value, key)
        if key.kind == "map":
            sub = check_mapping(value, key.schema, file=file, path=path, problems=problems,
                                what=f"`{key.name}`", structured=lambda k, v, p: _section(k, v, p))
            return sub
        if key.kind == "instant":
            return as_of_from(value)
        raise AssertionError(key.kind)  # pragma: no cover

    def _section(key, value, path):
        # Keys inside scoring: / sending: that are themselves mappings.
        if key.kind == "points_by":
            return _numbers_by(value, key, path, file, problems, funnel_box)
        if key.kind == "counts_by":
            return _numbers_by(value, key, path, file, problems, funnel_box, whole=True)
        if key.kind == "map":
            return check_mapping(value, key.schema, file=file, path=path, problems=problems,
                                 what=f"`{key.name}`")
        if key.kind == "value_map":
            return value_map(value, key, path, file, problems)
        if key.kind == "named_maps":
            return _named_maps(value, key, path, file, problems)
        raise AssertionError(key.kind)  # pragma: no cover

    data = check_mapping(raw, S.SETTINGS, file=file, path=(), problems=problems,
                         what="settings.yaml", structured=structured)
    if data is None or len(problems.errors) > before:
        return None
    team = frozen_map({k: TeamMember(k, **v) for k, v in data["team"].items()})
    reasons = frozen_map({k: LostReason(k, **v) for k, v in data["lost_reasons"].items()})
    defaults = Scoring()
    scoring = Scoring(**{k: frozen_map({**getattr(defaults, k), **v}) if isinstance(v, dict) else v
                         for k, v in (data.get("scoring") or {}).items()})
    sending_raw = dict(data.get("sending") or {})
    if "send_window" in sending_raw:
        sending_raw["send_window"] = Window(**sending_raw["send_window"])
    if "business_days" in sending_raw:
        sending_raw["business_days"] = tuple(sorted(WEEKDAYS.index(d) for d in set(sending_raw["business_days"])))
    if "holidays" in sending_raw:
        sending_raw["holidays"] = frozenset(sending_raw["holidays"])
    if "daily_caps" in sending_raw:
        sending_raw["daily_caps"] = frozen_map({**Sending().daily_caps, **sending_raw["daily_caps"]})
    if "sms_hours" in sending_raw:
        sending_raw["sms_hours"] = Window(**sending_raw["sms_hours"])
    if "sms_hours_by_region" in sending_raw:
        regions = {}
        for region, hours in sending_raw["sms_hours_by_region"].items():
            if not _REGION.fullmatch(region):
                problems.error(file, ("sending", "sms_hours_by_region", region),
                               f"`{region}` is not a country or a state",
                               "write a country code (de, gb) or a country and state (us-fl, ca-qc), lowercase")
                return None
            regions[region] = Window(**hours)
        sending_raw["sms_hours_by_region"] = frozen_map(regions)
    sending = Sending(**sending_raw)
    sender = data["sender"]
    if not sender.get("unsubscribe_email") and not sender.get("unsubscribe_url"):
        problems.error(file, ("sender",), "the sender has no `unsubscribe_email` or `unsubscribe_url`",
                       "add one: every email must say how to opt out")
        return None
    if sending.max_failure_share > 1:
        problems.error(file, ("sending", "max_failure_share"), "`max_failure_share` is a share, at most 1",
                       "write e.g. 0.2 for 20%")
        return None
    if not sending.business_days:
        problems.error(file, ("sending", "business_days"), "`business_days` is empty",
                       "list at least one day, e.g. [mon, tue, wed, thu, fri]")
        return None
    windows = [(("sending", "send_window"), sending.send_window), (("sending", "sms_hours"), sending.sms_hours)]
    windows += [(("sending", "sms_hours_by_region", r), w) for r, w in sending.sms_hours_by_region.items()]
    for path, window in windows:
        if window.start >= window.end:
            problems.error(file, path, "the window ends before it starts", "make `start` earlier than `end`")
            return None
    default_owner = data.get("default_owner", "")
    if default_owner and default_owner not in team:
        problems.error(file, ("default_owner",), f"unknown owner `{default_owner}`",
                       did_you_mean(default_owner, team) or f"use one of {', '.join(team)}")
        return None
    importing = import_rules_from(data.get("import"), funnel=data["funnel"], reasons=reasons, team=team,
                                  file=file, path=("import",), problems=problems)
    if importing is None:
        return None
    return Settings(team=team, timezone=data["timezone"], funnel=data["funnel"],
                    lost_reasons=reasons, sender=Sender(**data["sender"]),
                    currency=data.get("currency", "USD"), phone_region=data.get("phone_region", "US"),
                    scoring=scoring, sending=sending, importing=importing,
                    sync=SyncRules(**(data.get("sync") or {})), default_owner=default_owner,
                    as_of=data.get("as_of"), site_url=data.get("site_url", ""))


def _named_maps(value, key, path, file, problems) -> dict | None:
    if not isinstance(value, dict) or not value:
        problems.error(file, path, f"`{key.name}` must be a mapping of named entries",
                       "see docs/formats.md for an example")
        return None
    out = {}
    for name, entry in value.items():
        if not isinstance(name, str) or not KEY_RE.fullmatch(name):
            problems.error(file, path + (str(name),), f"`{name}` is not a valid key",
                           "use lowercase letters, digits, `_` and `-`")
            continue
        sub = check_mapping(entry, key.schema, file=file, path=path + (name,), problems=problems,
                            what=f"`{key.name}.{name}`")
        if sub is not None:
            out[name] = sub
    return out


def _stage_list(value, key) -> tuple[str, ...]:
    if not isinstance(value, list) or len(value) < 2:
        raise Invalid("`funnel` must list at least two stages, first the entry stage, last `won`",
                      "e.g. funnel: [new, contacted, appointment, proposal, won]")
    stages = []
    for item in value:
        if not isinstance(item, str) or not KEY_RE.fullmatch(item):
            raise Invalid(f"funnel stage `{item}` is not a valid key", "use lowercase letters, digits, `_` and `-`")
        if item in stages:
            raise Invalid(f"funnel stage `{item}` is listed twice", "list each stage once")
        stages.append(item)
    if stages[-1] != "won":
        raise Invalid("the last funnel stage must be `won`", "end the list with won")
    return tuple(stages)


def _numbers_by(value, key, path, file, problems, funnel_box, whole=False) -> dict | None:
    if not isinstance(value, dict):
        problems.error(file, path, f"`{key.name}` must be a mapping", "see docs/formats.md")
        return None
    allowed = key.choices or (funnel_box[0][:-1] if funnel_box else ())
    out = {}
    for name, num in value.items():
        if allowed and name not in allowed:
            hint = did_you_mean(name, allowed)
            problems.error(file, path + (str(name),), f"unknown key `{name}` in `{key.name}`",
                           hint or f"use one of {', '.join(allowed)}")
            continue
        ok = isinstance(num, int) if whole else isinstance(num, (int, float))
        if isinstance(num, float) and not math.isfinite(num):
            problems.error(file, path + (name,), f"`{key.name}.{name}` must be a finite number, "
                           f"not {yaml_special_float(num)}", "write digits only, e.g. 10")
            continue
        if isinstance(num, bool) or not ok or (whole and num < 0):
            kind = "a whole number, 0 or more" if whole else "a number"
            problems.error(file, path + (name,), f"`{key.name}.{name}` must be {kind}",
                           "write digits only, e.g. 10")
            continue
        out[name] = num
    return out
