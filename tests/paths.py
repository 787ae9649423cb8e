"""Where the tests find things.

``ROOT`` is the repository: its product files (Makefile, README.md, docs/, templates/,
.github/, the packages). ``EXAMPLE`` is the tests' own copy of the bundled example
(leads.yaml, content/, history/ of Northwind Scanning, as of 2026-11-20): every test that
needs example data reads it from here, never from the root, so a team can replace or
delete the root example without touching a test. The golden files are built from it.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = Path(__file__).resolve().parent / "example"
