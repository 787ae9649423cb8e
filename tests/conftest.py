"""Shared fixtures: the example repository (the tests' own copy, tests/example), and throwaway
repositories built from it."""

from __future__ import annotations

import datetime as dt
import itertools
import shutil
from pathlib import Path

import pytest

from paths import EXAMPLE


def _write_repo(root: Path, leads: str | None = "leads: []\n", *,
                files: dict[str, str | bytes] | None = None,
                history: dict[str, str] | None = None) -> Path:
    """Copy the example content/ (tests/example) into ``root``, then write leads.yaml and any extra files.

    ``files`` maps paths relative to ``root`` to text (or bytes) and may replace
    example files (content/settings.yaml, ...); ``history`` maps paths relative to
    ``root/history`` to text. ``leads=None`` writes no leads.yaml.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(EXAMPLE / "content", root / "content", dirs_exist_ok=True)
    if leads is not None:
        (root / "leads.yaml").write_text(leads, encoding="utf-8", newline="")
    extra = dict(files or {})
    extra.update({f"history/{rel}": text for rel, text in (history or {}).items()})
    for rel, data in extra.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data, encoding="utf-8", newline="")
    return root


@pytest.fixture(scope="session")
def example_root() -> Path:
    """The tests' copy of the example repository (tests/example: leads.yaml, content/, history/)."""
    return EXAMPLE


@pytest.fixture(scope="session")
def write_repo():
    """The repository writer itself, for tests that manage their own directories
    (hypothesis tests, which cannot use function-scoped fixtures such as tmp_path)."""
    return _write_repo


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    """The example repository built as of 2026-11-22, once per run: tests only read it."""
    from site_builder.build import build

    out = tmp_path_factory.mktemp("site") / "_site"
    result = build(EXAMPLE, out, today=dt.date(2026, 11, 22))
    assert result.files, [p.format() for p in result.checked.errors]
    return out


@pytest.fixture
def make_repo(tmp_path):
    """Factory: ``make_repo(leads_text, files={...}, history={...})`` -> a new repository root."""
    counter = itertools.count()

    def make(leads: str | None = "leads: []\n", *, files=None, history=None) -> Path:
        return _write_repo(tmp_path / f"repo{next(counter)}", leads, files=files, history=history)

    return make


@pytest.fixture(scope="session")
def imap_server(tmp_path_factory):
    """Debian's Dovecot on 127.0.0.1 (tests/imap_server.py), one for the whole run.

    Skipped when Dovecot is missing; with RELEAD_REQUIRE_SERVERS=1 (as in CI) that fails.
    Tests use ``imap`` below, which empties it first.
    """
    from tests.imap_server import ImapServer, require_dovecot

    require_dovecot()
    with ImapServer(tmp_path_factory.mktemp("imap")) as server:
        yield server


@pytest.fixture
def imap(imap_server):
    """The session's IMAP server, emptied: no messages, no folder but INBOX."""
    imap_server.clear()
    yield imap_server
