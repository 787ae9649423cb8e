"""Problems as GitHub Actions workflow commands, so each one shows on the changed line.

``python -m relead check --format github`` prints one line per problem::

    ::error file=leads.yaml,line=42,title=relead check%3A jane-doe-acme::unknown owner `bob`; use one of sam, priya

GitHub reads these lines from a step's output and attaches them to the file
and line of a pull request's diff. Escaping follows the runner's rules
(``actions/toolkit``, ``command.ts``): in the message ``%``, CR and LF become
``%25``, ``%0D`` and ``%0A``; property values (file, line, title) also escape
``:`` and ``,`` as ``%3A`` and ``%2C``. Pure: text in, text out.
"""

from __future__ import annotations

from .problems import WARNING, Problem

__all__ = ["annotation", "escape_data", "escape_property", "TITLE"]

TITLE = "relead check"


def escape_data(text: str) -> str:
    """A workflow command's message: ``%``, CR and LF escaped."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value: as :func:`escape_data`, and ``:`` and ``,`` too."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(problem: Problem) -> str:
    """One problem as ``::error ...::message`` (``::warning`` for a warning).

    The message is the problem's message and its fix, as the text format has them;
    the lead id, when there is one, goes in the title.
    """
    command = "warning" if problem.severity == WARNING else "error"
    props = [f"file={escape_property(problem.file)}"]
    if problem.line:
        props.append(f"line={problem.line}")
    title = f"{TITLE}: {problem.lead}" if problem.lead else TITLE
    props.append(f"title={escape_property(title)}")
    return f"::{command} {','.join(props)}::{escape_data(f'{problem.message}; {problem.fix}')}"
