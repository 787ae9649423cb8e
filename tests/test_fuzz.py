"""Property-based fuzzing of the loader: broken input gives located errors, never an exception.

A small valid sample of the example leads.yaml is mutated (keys dropped, values
retyped, keys duplicated, the text truncated, control characters and random
Unicode injected) and checked. The result must be either a model with no errors,
or errors that each name a file and a line.

``FUZZ_EXAMPLES`` sets the number of examples (default 300); the number that ran
is printed and recorded as the test's ``examples`` property (see ``--junitxml``).
"""

from __future__ import annotations

import copy
import datetime as dt
import os
import re
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relead.check import check_repository

TODAY = dt.date(2026, 11, 22)
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "300"))
ROOT = Path(__file__).resolve().parent.parent
FUZZ_SETTINGS = settings(max_examples=EXAMPLES, deadline=None, database=None,
                         suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _sample() -> list[dict]:
    """Five varied leads of the example: lost with a note, back in the funnel, open, incomplete..."""
    leads = yaml.load((ROOT / "leads.yaml").read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)["leads"]
    picks = []

    def take(pred):
        for lead in leads:
            if pred(lead) and lead not in picks:
                picks.append(lead)
                return

    take(lambda d: "lost" in d and "note" in d["lost"] and "consent" in d)
    take(lambda d: "lost" in d and len(d.get("reached", {})) >= 4)
    take(lambda d: "lost" not in d and "phone" in d)
    take(lambda d: "incomplete" in d.get("tags", ()))
    take(lambda d: "notes" in d or "recycle_on" in d)
    for lead in leads:           # fill up to five, whatever the example holds
        if len(picks) >= 5:
            break
        if lead not in picks:
            picks.append(lead)
    return copy.deepcopy(picks)


SAMPLE = _sample()


def _dump(leads: list, flow: bool | None) -> str:
    return yaml.safe_dump({"leads": leads}, allow_unicode=True, sort_keys=False, default_flow_style=flow,
                          width=1000)


def test_sample_is_valid(write_repo):
    with tempfile.TemporaryDirectory() as tmp:
        root = write_repo(Path(tmp) / "repo", _dump(SAMPLE, False))
        result = check_repository(root, today=TODAY)
        assert result.errors == (), [p.format() for p in result.errors]
        assert len(result.loaded.model.leads) == len(SAMPLE) == 5


# ---------------------------------------------------------------------------
# Mutations of the data
# ---------------------------------------------------------------------------

CONTROL = ["\r", "\n", "\x00", "\r\n", "\t", "\x1b", "\x7f", "\u2028", "\x85", "\ufeff"]
unicode_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
any_scalar = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(-10, 10**6),
    st.floats(allow_nan=True, allow_infinity=True), unicode_text,
    st.dates(), st.datetimes(timezones=st.sampled_from([None, dt.timezone.utc])),
    st.sampled_from(["2026-02-30", "2026-13-01", "yes", "", "~", "012", "1:30", "lots", "won",
                     "incomplete", "+1 415 555 0134", "not-an-email", "sam", "hot", "Jane_Doe"]),
)


def _slots(node, out):
    """Every (container, key) in the tree: the places a mutation can act."""
    if isinstance(node, dict):
        for k in list(node):
            out.append((node, k))
            _slots(node[k], out)
    elif isinstance(node, list):
        for i in range(len(node)):
            out.append((node, i))
            _slots(node[i], out)
    return out


def _retyped(draw, value):
    """The same value as another type: str->int, date->str, list->scalar, mapping->list..."""
    options = [st.just(None)]
    if isinstance(value, str):
        options += [st.integers(), st.just([value]), st.just({value: value}), st.booleans(),
                    st.just(value + value[:1] * 3)]
    if isinstance(value, dt.date):
        options += [st.just(value.isoformat()), st.just(value.isoformat().replace("-", "/")),
                    st.just(int(value.strftime("%Y%m%d"))), st.just(f"{value.year}-02-30"),
                    st.just(dt.datetime.combine(value, dt.time(10, 30)))]
    if isinstance(value, list):
        options += [st.just(value[0] if value else ""), st.just(", ".join(map(str, value))),
                    st.just({str(v): v for v in value}), st.just([value])]
    if isinstance(value, dict):
        options += [st.just(list(value)), st.just(list(value.values())), st.just(str(value)),
                    st.just([value])]
    if isinstance(value, bool):
        options += [st.just("yes" if value else "no"), st.just(int(value)), st.just(str(value))]
    elif isinstance(value, (int, float)):
        options += [st.just(str(value)), st.just(float("nan")), st.just(float("inf")), st.just(-value),
                    st.just(10**30), st.just(f"${value:,}" if isinstance(value, int) else "x")]
    return draw(st.one_of(options + [any_scalar]))


def _inject(draw, text: str) -> str:
    at = draw(st.integers(0, len(text)))
    bit = draw(st.one_of(st.sampled_from(CONTROL), unicode_text))
    return text[:at] + bit + text[at:]


@st.composite
def mutated_data(draw, leads):
    leads = copy.deepcopy(leads)
    for _ in range(draw(st.integers(1, 4))):
        slots = _slots(leads, [])
        kind = draw(st.sampled_from(["drop", "retype", "replace", "unicode", "control", "add_key",
                                     "rename_key", "duplicate_lead", "swap"]))
        if not slots:
            break
        container, key = draw(st.sampled_from(slots))
        value = container[key]
        if kind == "drop":
            del container[key]
        elif kind == "retype":
            container[key] = _retyped(draw, value)
        elif kind == "replace":
            container[key] = draw(any_scalar)
        elif kind == "unicode":
            container[key] = draw(unicode_text) if not isinstance(value, str) else _inject(draw, value)
        elif kind == "control":
            container[key] = _inject(draw, value if isinstance(value, str) else str(value))
        elif kind == "add_key" and isinstance(container, dict):
            new_key = draw(st.sampled_from(["emial", "nmae", "stage", "lost", "x", "on", "", "id"]))
            container[new_key + draw(st.sampled_from(["", "_2"]))] = draw(any_scalar)
        elif kind == "rename_key" and isinstance(container, dict):
            container[draw(unicode_text) or "k"] = container.pop(key)
        elif kind == "duplicate_lead":
            leads.append(copy.deepcopy(draw(st.sampled_from(leads))) if leads else {})
        elif kind == "swap":
            other_container, other_key = draw(st.sampled_from(slots))
            container[key], other_container[other_key] = other_container[other_key], value
    return leads


# ---------------------------------------------------------------------------
# Mutations of the text
# ---------------------------------------------------------------------------

# Raw YAML put in place of a value: tags, anchors, unclosed brackets, what PyYAML cannot build.
RAW_VALUES = ["0x_", "0b_", "!!int lots", "!!bool maybe", "!!float x", "!!timestamp x", "!!binary '%'",
              "!!python/name:os.system", "!!set [1]", "&a x", "*a", "*nothing", "yes", "012", "1:30",
              "2026-02-30", "2026-01-05T10:00", "2026-01-05 25:00:00", "[1, 2", "{a: 1", "{a: 1}", "[]",
              "|", ">-", "- x", "'unclosed", '"\\ud800"', '"\\x00"', "<<: {a: 1}", ":", "? x", "~",
              ".nan", "-.inf", "1e5", "=", "%YAML 1.1", "---", "...", "@x", "`x"]


@st.composite
def mutated_text(draw, text):
    for _ in range(draw(st.integers(1, 3))):
        lines = text.split("\n")
        kind = draw(st.sampled_from(["truncate", "inject", "dup_line", "drop_line", "indent", "dedent",
                                     "colon", "tab", "raw_value", "raw_value", "raw_value"]))
        i = draw(st.integers(0, max(len(lines) - 1, 0)))
        if kind == "truncate":
            text = text[:draw(st.integers(0, len(text)))]
        elif kind == "inject":
            text = _inject(draw, text)
        elif kind == "dup_line":             # duplicate keys
            lines.insert(i, lines[i])
            text = "\n".join(lines)
        elif kind == "drop_line":
            del lines[i]
            text = "\n".join(lines)
        elif kind == "indent":
            lines[i] = "  " + lines[i]
            text = "\n".join(lines)
        elif kind == "dedent":
            lines[i] = lines[i][2:]
            text = "\n".join(lines)
        elif kind == "colon":
            lines[i] = lines[i].replace(": ", ":", 1) if draw(st.booleans()) else lines[i].replace(" ", ": ", 1)
            text = "\n".join(lines)
        elif kind == "raw_value":
            lines[i] = re.sub(r"^([^:]*: ?).*$", lambda m: m.group(1) + draw(st.sampled_from(RAW_VALUES)),
                              lines[i])
            text = "\n".join(lines)
        elif kind == "tab":
            lines[i] = re.sub(r"^( *)  ", "\\1\t", lines[i])
            text = "\n".join(lines)
    return text


@st.composite
def broken_leads_files(draw):
    data = draw(mutated_data(SAMPLE)) if draw(st.integers(0, 9)) else copy.deepcopy(SAMPLE)
    text = _dump(data, draw(st.sampled_from([False, None, True])))
    return draw(mutated_text(text)) if draw(st.integers(0, 2)) else text


# ---------------------------------------------------------------------------
# The property
# ---------------------------------------------------------------------------

def assert_errors_are_located_or_model_is_whole(result):
    errors = result.errors
    if not errors:
        model = result.loaded.model
        assert model is not None and result.derived is not None
        assert set(model.by_id) == {lead.id for lead in model.leads}
    for p in result.problems:
        assert isinstance(p.file, str) and p.file, p
        assert isinstance(p.line, int) and not isinstance(p.line, bool) and p.line >= 1, p
        text = p.format()
        assert text.startswith(f"{p.file}:{p.line}:"), text
        assert "Traceback" not in text
    if errors:
        assert result.loaded.model is None and result.derived is None and not result.ok


def _report(record_property, capsys, name, count):
    record_property("examples", count)
    with capsys.disabled():
        print(f"\n[{name}] {count} hypothesis examples ran (FUZZ_EXAMPLES={EXAMPLES})")


def test_fuzz_leads_file(write_repo, record_property, capsys):
    count = 0
    outcomes = {"clean": 0, "errors": 0}

    @FUZZ_SETTINGS
    @given(text=broken_leads_files())
    def run(text):
        nonlocal count
        count += 1
        with tempfile.TemporaryDirectory() as tmp:
            root = write_repo(Path(tmp) / "repo", text)
            result = check_repository(root, today=TODAY)   # must not raise
            assert_errors_are_located_or_model_is_whole(result)
            outcomes["errors" if result.errors else "clean"] += 1

    run()
    _report(record_property, capsys, "fuzz leads.yaml", count)
    with capsys.disabled():
        print(f"[fuzz leads.yaml] outcomes: {outcomes}")
    assert count >= min(EXAMPLES, 50)
    assert outcomes["errors"] > 0


@st.composite
def broken_content(draw):
    """settings.yaml or a campaign file, mutated the same ways."""
    which = draw(st.sampled_from(["content/settings.yaml", "content/campaigns/hot-reactivation.yaml",
                                  "content/campaigns/warm-lead-magnet.yaml"]))
    raw = yaml.load((ROOT / which).read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    data = raw
    if draw(st.integers(0, 4)):
        mutated = draw(mutated_data([raw]))
        data = mutated[0] if mutated else None
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, default_flow_style=draw(st.booleans()))
    return which, (draw(mutated_text(text)) if draw(st.booleans()) else text)


def test_fuzz_content_files(write_repo, record_property, capsys):
    count = 0
    leads_text = _dump(SAMPLE, False)

    @FUZZ_SETTINGS
    @given(change=broken_content())
    def run(change):
        nonlocal count
        count += 1
        which, text = change
        with tempfile.TemporaryDirectory() as tmp:
            root = write_repo(Path(tmp) / "repo", leads_text, files={which: text})
            assert_errors_are_located_or_model_is_whole(check_repository(root, today=TODAY))

    run()
    _report(record_property, capsys, "fuzz content/", count)
    assert count >= min(EXAMPLES, 50)


@pytest.mark.parametrize("cut", [0, 1, 7, 30, 100, 250, 600, 1000])
def test_truncated_example_at_fixed_points(write_repo, cut):
    text = _dump(SAMPLE, False)
    with tempfile.TemporaryDirectory() as tmp:
        root = write_repo(Path(tmp) / "repo", text[:cut])
        assert_errors_are_located_or_model_is_whole(check_repository(root, today=TODAY))
