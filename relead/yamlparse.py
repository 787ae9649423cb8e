"""YAML parsing: fast on the happy path, PyYAML's values always, lines only when needed.

``parse`` gives exactly what ``yaml.load(text, Loader=CSafeLoader)`` gives for
the constructs our formats use. It runs the Rust parser yaml-rs when it is
installed and the text holds nothing on which the two could disagree (yaml-rs
follows YAML 1.2, PyYAML 1.1: `yes`, octal `012`, `1:30`, `1e5`, quoted dates,
tags, merge keys); otherwise it runs PyYAML. tests/test_yamlparse.py holds the
two to the same values, property-based.

Line numbers cost a second pass, so they are found only when there is
something to report: ``locate`` walks PyYAML's event stream once for a set of
paths. Duplicate keys (which PyYAML silently collapses) are found the same way.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any, Iterable

import yaml

try:  # pragma: no cover - depends on the machine
    from yaml import CSafeLoader as _SafeLoader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _SafeLoader

try:
    import yaml_rs as _yaml_rs
except ImportError:  # pragma: no cover - the fallback is PyYAML
    _yaml_rs = None

__all__ = ["YamlSyntaxError", "parse", "parse_checked", "locate", "duplicate_keys", "fast_parser_available"]

Path = tuple  # of str keys and int indexes


class YamlSyntaxError(ValueError):
    """The text is not YAML. ``line`` is 1-based."""

    def __init__(self, message: str, line: int):
        super().__init__(message)
        self.message = message
        self.line = line


# Plain scalars whose value YAML 1.1 (PyYAML) and YAML 1.2 (yaml-rs) read differently,
# and constructs yaml-rs handles otherwise. Only a whole scalar counts: it must stand
# after "key: ", "- ", "[", "{" or "," and end the line, a flow item or a key.
_RISKY_SCALAR = (
    r"(?:yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF"
    r"|[-+]?0[0-9_]+(?:\.[0-9_]*)?"                    # leading zero: octal in 1.1
    r"|[-+]?0o[0-7_]+"                                 # octal in 1.2 only
    r"|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?"  # sexagesimal 1:30
    r"|[-+]?[0-9_.]*[eE][-+]?[0-9]+"                   # exponent without '.' or sign
    r"|\.(?:nan|NaN|NAN)"
    r"|=|<<"
    r"""|(?P<q>["'])[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt ][^"'\n]*)?(?P=q)"""  # quoted date
    r")"
)
_RISKY = re.compile(
    r"(?:^|[\[{,]|[:?\-][ \t])[ \t]*" + _RISKY_SCALAR + r"[ \t]*(?:$|[,\]}#]|:(?:[ \t]|$))"
    r"|(?:^|[\s\[{,])[!&*%]"                             # tags, anchors, aliases, directives
    r"|\t",                                             # tabs: 1.1 and 1.2 differ in places
    re.MULTILINE,
)


def fast_parser_available() -> bool:
    return _yaml_rs is not None


def _is_risky(text: str) -> bool:
    return _RISKY.search(text) is not None


class _Loader(_SafeLoader):
    """PyYAML's safe loader, but an impossible date (2026-02-30) stays text.

    PyYAML raises a bare ValueError with no line for those; keeping the text lets
    validation say which date is impossible and where.
    """


def _timestamp_or_text(loader, node):
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_timestamp(loader, node)
    except ValueError:
        return loader.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_or_text)


def _pyyaml(text: str) -> Any:
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        what = exc.problem or exc.context or "not valid YAML"
        raise YamlSyntaxError(f"YAML syntax error: {what}", line) from None
    except yaml.YAMLError as exc:  # pragma: no cover - unmarked errors are rare
        raise YamlSyntaxError(f"YAML syntax error: {exc}", 1) from None


def parse(text: str) -> Any:
    """Parse ``text`` to PyYAML's values; raise :class:`YamlSyntaxError` if it is not YAML."""
    return parse_checked(text)[0]


def parse_checked(text: str) -> tuple[Any, list[tuple[Path, int, int]]]:
    """Parse ``text`` and list its duplicate keys (see :func:`duplicate_keys`).

    yaml-rs refuses duplicate keys, so the walk for them is paid only when
    PyYAML had to parse.
    """
    if _yaml_rs is not None and not _is_risky(text):
        try:
            return _yaml_rs.loads(text), []
        except Exception:
            # A syntax error, a duplicate key, or something yaml-rs declines:
            # PyYAML decides, and names the line.
            pass
    value = _pyyaml(text)
    return value, duplicate_keys(text)


def _walk(text: str) -> Iterable[tuple[Path, int, bool]]:
    """Yield (path, line, is_key) for every mapping key and every value node, in order.

    Lines are 1-based. Mapping keys are yielded as text, sequence indexes as ints.
    """
    # Each frame: [path, is_map, next_index, pending_key, is_complex_key]
    stack: list[list] = []
    for event in yaml.parse(text, Loader=_SafeLoader):
        kind = type(event)
        if kind in _IGNORED_EVENTS:
            continue
        if kind in (yaml.MappingEndEvent, yaml.SequenceEndEvent):
            frame = stack.pop()
            if not frame[4]:
                _advance(stack)
            continue
        line = event.start_mark.line + 1
        opens = kind in (yaml.MappingStartEvent, yaml.SequenceStartEvent)
        top = stack[-1] if stack else None
        if top is not None and top[1] and top[3] is _EXPECT_KEY:
            key = event.value if kind is yaml.ScalarEvent else "?"
            top[3] = key
            yield top[0] + (key,), line, True
            if opens:  # a complex key: not used by our formats, walked past
                stack.append([(), kind is yaml.MappingStartEvent, 0, _EXPECT_KEY, True])
            continue
        if top is None:
            path: Path = ()
        else:
            path = top[0] + ((top[3],) if top[1] else (top[2],))
        yield path, line, False
        if opens:
            stack.append([path, kind is yaml.MappingStartEvent, 0, _EXPECT_KEY, False])
        else:
            _advance(stack)


_EXPECT_KEY = object()
_IGNORED_EVENTS = (yaml.StreamStartEvent, yaml.StreamEndEvent, yaml.DocumentStartEvent,
                   yaml.DocumentEndEvent)


def _advance(stack: list[list]) -> None:
    """The value at the top of ``stack`` is complete: expect the next key or item."""
    if stack:
        top = stack[-1]
        if top[1]:
            top[3] = _EXPECT_KEY
        else:
            top[2] += 1


def locate(text: str, paths: Iterable[Path]) -> dict[Path, int]:
    """Map each path to its 1-based line: a key's own line, an item's first line.

    A path that does not exist is mapped to the line of its nearest existing ancestor.
    Integer keys in mappings are matched by their text.
    """
    wanted = {tuple(p) for p in paths}
    prefixes: set[Path] = set()
    for p in wanted:
        for i in range(len(p) + 1):
            prefixes.add(tuple(str(x) if not isinstance(x, int) else x for x in p[:i]))
    found: dict[Path, int] = {}
    try:
        for path, line, _ in _walk(text):
            norm = tuple(path)
            if norm in prefixes and norm not in found:
                found[norm] = line
                if len(found) == len(prefixes):
                    break
    except yaml.YAMLError:
        pass
    result = {}
    for p in wanted:
        norm = tuple(str(x) if not isinstance(x, int) else x for x in p)
        for i in range(len(norm), -1, -1):
            if norm[:i] in found:
                result[p] = found[norm[:i]]
                break
        else:
            result[p] = 1
    return result


def duplicate_keys(text: str) -> list[tuple[Path, int, int]]:
    """Keys that appear twice in one mapping: (path of the key, first line, repeated line)."""
    seen: dict[Path, int] = {}
    dups = []
    try:
        for path, line, is_key in _walk(text):
            if not is_key:
                continue
            if path in seen:
                dups.append((path, seen[path], line))
            else:
                seen[path] = line
    except yaml.YAMLError:
        pass
    return dups


def is_date(value: Any) -> bool:
    return isinstance(value, _dt.date) and not isinstance(value, _dt.datetime)
