"""Property-based fuzzing of the loader: broken input gives located errors, never an exception.

A small valid sample of the example leads.yaml (tests/example) is mutated (keys dropped, values
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
import shutil
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relead.check import check_repository
from tests.paths import EXAMPLE

TODAY = dt.date(2026, 11, 22)
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "300"))
FUZZ_SETTINGS = settings(max_examples=EXAMPLES, deadline=None, database=None,
                         suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _sample() -> list[dict]:
    """Five varied leads of the example: lost with a note, back in the funnel, open, incomplete..."""
    leads = yaml.load((EXAMPLE / "leads.yaml").read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)["leads"]
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
    raw = yaml.load((EXAMPLE / which).read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
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


# ---------------------------------------------------------------------------
# Input that is almost right: dates out of order, emptied files, BOMs, symlinks, encoded schemes
# ---------------------------------------------------------------------------

HISTORY_HEADER = "#relead-history v1\tat\tevent\tlead\tcampaign\tenrolment\tstep\tchannel\tvariant\ttouch\tref\tnote\n"
EMPTIED = ["", "\n", "\ufeff", "# merged\n", "leads: []\n", "leads:\n", "\ufeffleads: []\n", "leads: []\r\n"]
ALMOST_SETTINGS = settings(max_examples=max(EXAMPLES // 5, 30), deadline=None, database=None,
                           suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@st.composite
def dates_out_of_order(draw):
    """The sample with stage and loss dates drawn anywhere: before, between and after each other."""
    leads = copy.deepcopy(SAMPLE)
    day = st.dates(dt.date(2000, 1, 1), dt.date(2099, 12, 31))
    for lead in leads:
        reached = lead.get("reached") or {}
        for stage in list(reached):
            if draw(st.integers(0, 3)) == 0:
                reached[stage] = draw(day)
        if "lost" in lead and draw(st.booleans()):
            first = min(reached.values()) if reached else TODAY
            lead["lost"]["date"] = draw(st.one_of(day, st.just(first.replace(year=first.year - 10)),
                                                  st.just(first - dt.timedelta(days=1)), st.just(first)))
    return _dump(leads, draw(st.sampled_from([False, None])))


@st.composite
def almost_right_repo(draw):
    """(leads text, {path: text or bytes}, [(symlink path, inside?)]) for one repository."""
    shape = draw(st.sampled_from(["dates", "emptied", "bom", "symlink"]))
    files: dict = {}
    links: list = []
    leads_text = _dump(SAMPLE, False)
    if draw(st.booleans()):
        ids = [lead["id"] for lead in SAMPLE] + ["gone-lead"]
        rows = "".join(f"2026-10-05T15:0{i}:00Z\tsent\t{lead}\tnurture\t2026-10-05\t0\temail\t\tt{i}\t\t\n"
                       for i, lead in enumerate(draw(st.lists(st.sampled_from(ids), min_size=1, max_size=4))))
        files["history/2026/10/2026-10-05.outreach.tsv"] = HISTORY_HEADER + rows
    if shape == "dates":
        leads_text = draw(dates_out_of_order())
    elif shape == "emptied":
        leads_text = draw(st.sampled_from(EMPTIED))
    elif shape == "bom":
        which = draw(st.sampled_from(["leads.yaml", "content/settings.yaml", "content/messages/hot/remind.md",
                                      "content/campaigns/nurture.yaml", "content/pages/playbook.md"]))
        text = leads_text if which == "leads.yaml" else (EXAMPLE / which).read_text(encoding="utf-8")
        text = "\ufeff" * draw(st.integers(1, 2)) + text
        if draw(st.booleans()):
            text = text.replace("\n", "\r\n")
        if which == "leads.yaml":
            leads_text = text
        else:
            files[which] = text
    else:
        for _ in range(draw(st.integers(1, 3))):
            links.append((draw(st.sampled_from(["content/messages/hot/remind.md", "content/pages/playbook.md",
                                                "content/settings.yaml", "leads.yaml", "leads/more.yaml",
                                                "content/campaigns/nurture.yaml", "templates/site/base.html", "templates/site",
                                                "history/2026/10/2026-10-06.outreach.tsv",
                                                "content/messages/stolen"])),
                          draw(st.booleans())))
    return leads_text, files, links


def _make_links(root: Path, outside: Path, links) -> None:
    for rel, inside in links:
        path = root / rel
        if inside and path.name != "stolen":
            # The file moves beside itself and is linked to: a symlink that stays inside.
            target = path.with_name(path.name + ".real")
            if (path.is_file() or path.is_dir()) and not path.is_symlink():
                path.rename(target)
            elif path.name == "site":
                target.mkdir(parents=True, exist_ok=True)       # a folder links to a folder
            elif not target.exists():
                target = root / "leads.yaml"
        else:
            target = outside if path.name in ("stolen", "site") else outside / "passwd"     # folders link to a folder
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)             # a folder of the repository, replaced by a link
        elif path.is_symlink() or path.exists():
            path.unlink()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.symlink_to(target)


def test_fuzz_almost_right_input(write_repo, record_property, capsys):
    count = 0

    @ALMOST_SETTINGS
    @given(repo=almost_right_repo())
    def run(repo):
        nonlocal count
        count += 1
        leads_text, files, links = repo
        with tempfile.TemporaryDirectory() as tmp:
            outside = Path(tmp) / "elsewhere"
            outside.mkdir()
            (outside / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\n", encoding="utf-8")
            (outside / "passwd.md").write_text("---\nsubject: root\n---\nroot:x:0:0\n", encoding="utf-8")
            root = write_repo(Path(tmp) / "repo", leads_text, files=files)
            _make_links(root, outside, links)
            result = check_repository(root, today=TODAY)       # must not raise
            assert_errors_are_located_or_model_is_whole(result)
            for p in result.problems:
                assert not (root / p.file).is_dir(), f"a problem is located in a file, not a folder: {p.format()}"
            final = dict(links)             # a path linked twice: the last link is the one there
            if any(not inside and not rel.endswith("stolen") for rel, inside in final.items()):
                assert not result.ok, "a file that leads out of the repository is never let through"
            if result.loaded.model is not None:
                text = "\n".join(m.body for m in result.loaded.model.messages.values())
                assert "root:x:0:0" not in text

    run()
    _report(record_property, capsys, "fuzz almost-right input", count)
    assert count >= min(EXAMPLES // 5, 30)


# Ways to write "javascript:" that a browser still reads as it.
_J = ["j", "&#106;", "&#x6A;", "&#X6a;", "&#0106;", "&#x0006a;", "&amp;#106;"]
_COLON = [":", "&colon;", "&#58;", "&#x3A;", "&#58"]   # "&#x3a" + "alert" would read as one hex number
_NOISE = ["", "\t", "&#9;", "&#x09;", "&NewLine;", "&#10;", " ", "\u200b"]


@st.composite
def encoded_scheme(draw):
    scheme = draw(st.sampled_from(["javascript", "vbscript", "data"]))
    letters = [draw(st.sampled_from(_J)) if c == "j" and scheme == "javascript" else c for c in scheme]
    at = draw(st.integers(0, len(letters)))
    letters.insert(at, draw(st.sampled_from(_NOISE)))
    word = "".join(c.upper() if draw(st.booleans()) and len(c) == 1 else c for c in letters)
    return draw(st.sampled_from(["", " ", "\x01"])) + word + draw(st.sampled_from(_COLON)) + "alert(1)"


def _runnable(html: str) -> list[str]:
    import html as html_lib
    found = []
    for value in re.findall(r"""(?:href|src)\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)""", html, re.IGNORECASE):
        url = re.sub(r"[\x00-\x20\u200b]", "", html_lib.unescape(html_lib.unescape(value.strip("\"'"))))
        if ":" in url.split("/")[0] and url.split(":")[0].lower() not in ("http", "https", "mailto", "tel"):
            found.append(value)
    return found


@FUZZ_SETTINGS
@given(url=encoded_scheme(), form=st.sampled_from(["[w]({})", "![w]({})", "[w](<{}>)", "[w]: {}\n\n[x][w]"]))
def test_fuzz_entity_encoded_schemes_are_never_links(url, form):
    from relead.links import safe_link
    from site_builder.render import render_markdown
    assert safe_link(url) is None, url
    html = render_markdown(form.format(url))
    assert not _runnable(html), html
