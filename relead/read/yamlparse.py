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

__all__ = ["YamlSyntaxError", "parse", "parse_written", "parse_checked", "locate", "duplicate_keys",
           "fast_parser_available"]

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
    r"|[-+]?0[0-9_]+"                                  # leading zero: octal in 1.1
    r"|[-+]?0[xXoObB][0-9a-zA-Z_]*"                    # 0x/0o/0b, any case: read differently
    r"|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?"  # sexagesimal 1:30
    r"|[-+]?[0-9_.]*[eE][-+]?[0-9_]+"                  # exponent without '.' or sign
    r"|[-+]?_[0-9_.]*|[-+]?\.[0-9_][0-9_.]*"           # leading '_' or '.': numbers in 1.2 only
    r"|\.(?:nan|NaN|NAN)"
    r"|=|<<"
    r"""|(?P<q>["'])(?:[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}|[0-9]{1,2}:[0-9]{2})[^"'\n]*(?P=q)"""  # quoted date, time
    r")"
)
_RISKY_END = r"[ \t\r]*(?:$|[,\]}#]|:(?:[ \t\r]|$))"
# Date and time: yaml-rs reads more forms than PyYAML (no seconds, `T1:02:03`, `+2:00`...);
# only this one is read alike by both.
_CANONICAL_TIME = (r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?"
                   r"(?:Z|[-+][0-9]{2}:[0-9]{2})?[ \t\r]*(?:$|[,\]}#])")
# What a node may start with where the two parsers differ.
_RISKY_NODE = (
    r"""(?=[yYnNoO0-9+\-._=<"'!&*%?:])(?:""" + _RISKY_SCALAR + _RISKY_END
    + r"|[!&*%]"                                        # tags, anchors, aliases, directives
    + r"|[?:]"                                          # `[:x]`, `- :`: 1.1 and 1.2 differ
    + r"|(?!" + _CANONICAL_TIME + r")[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \t]+)[0-9])"
)
# Several searches, each starting with one character or class: `re` skips ahead to those fast,
# where one alternation would try every branch at every position (measured: the three node
# searches as one are slower than the three apart; the last two as one, five times slower).
_RISKY = tuple(re.compile(pattern, re.MULTILINE) for pattern in (
    r"\n[ \t]*" + _RISKY_NODE,                          # a node at the start of a line
    r"[:?\-][ \t]+" + _RISKY_NODE,                      # after `key: `, `- `, `? `
    r"[\[{,][ \t]*" + _RISKY_NODE,                      # in a flow collection
    "[\t\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]",  # tabs, control
    # characters, Unicode line breaks, byte-order marks: 1.1 and 1.2 differ, or PyYAML refuses them
    r"\\u[dD][89a-fA-F]",                              # surrogate escapes (PyYAML refuses them)
    r":[,\]}]",                                         # `[a:]`: a key in 1.2 flow, an error in 1.1
))


def fast_parser_available() -> bool:
    return _yaml_rs is not None


def _is_risky(text: str) -> bool:
    end = text.find("\n")
    first_line = "\n" + (text if end < 0 else text[:end])
    return _RISKY[0].match(first_line) is not None or any(r.search(text) for r in _RISKY)


class _Loader(_SafeLoader):
    """PyYAML's safe loader, but an impossible date (2026-02-30) stays text.

    PyYAML raises a bare ValueError with no line for those; keeping the text lets
    validation say which date is impossible and where.
    """


class _LocatingLoader(_Loader):
    """Used only after _Loader failed with a bare error: PyYAML's constructors raise
    ValueError / KeyError / AttributeError, with no line, for `0x_`, `!!int nope`,
    `!!bool nope`, `!!timestamp nope`. This one names the node's line."""

    def construct_object(self, node, deep=False):
        try:
            return super().construct_object(node, deep=deep)
        except _BARE_ERRORS as exc:
            what = node.tag.rsplit(":", 1)[-1]
            value = f"`{node.value}`" if isinstance(node, yaml.ScalarNode) else "this value"
            raise yaml.constructor.ConstructorError(
                None, None, f"{value} is not a valid {what} ({exc})", node.start_mark) from None


_BARE_ERRORS = (ValueError, TypeError, KeyError, AttributeError, OverflowError)


def _timestamp_or_text(loader, node):
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_timestamp(loader, node)
    except ValueError:
        return loader.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_or_text)


def _pyyaml(text: str, loader=_Loader) -> Any:
    try:
        return yaml.load(text, Loader=loader)
    except _BARE_ERRORS:
        if loader is _Loader:
            return _pyyaml(text, _LocatingLoader)
        raise  # pragma: no cover - _LocatingLoader turns them into MarkedYAMLError
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        what = exc.problem or exc.context or "not valid YAML"
        raise YamlSyntaxError(f"YAML syntax error: {what}", line) from None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow: at a position, not a line
        char = exc.character if isinstance(exc.character, int) else ord(exc.character[:1] or "\0")
        raise YamlSyntaxError(f"YAML syntax error: the character U+{char:04X} is not allowed ({exc.reason})",
                              text.count("\n", 0, exc.position) + 1) from None
    except yaml.YAMLError as exc:  # pragma: no cover - unmarked errors are rare
        raise YamlSyntaxError(f"YAML syntax error: {exc}", 1) from None


def parse(text: str) -> Any:
    """Parse ``text`` to PyYAML's values; raise :class:`YamlSyntaxError` if it is not YAML."""
    return parse_checked(text)[0]


def parse_written(text: str) -> Any:
    """``text`` that relead wrote itself, read by yaml-rs without the look for constructs the
    two parsers read differently (which takes about as long as the parse). Only for a caller
    that compares what it gets with the values it wrote, and calls :func:`parse` when they
    differ: the writer puts a scalar bare only where PyYAML's own resolvers read it as that
    text (:mod:`relead.intake.leads_text`), so a reading that matches is PyYAML's too."""
    if _yaml_rs is not None:
        try:
            return _yaml_rs.loads(text)
        except Exception:
            pass
    return parse(text)


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
                # The repeated key's value starts afresh: its keys are not repeats of the first's.
                for old in [p for p in seen if len(p) > len(path) and p[:len(path)] == path]:
                    del seen[old]
            else:
                seen[path] = line
    except yaml.YAMLError:
        pass
    return dups
