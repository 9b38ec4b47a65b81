"""Problems with a whole run: the CLI prints `error: <message>` and exits 2.

Problems in one file are not exceptions; they come back as FAILED results.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class MemfixError(Exception):
    """A problem the user can fix; the CLI prints `error: <message>` and exits 2."""


class ConfigError(MemfixError):
    """A bad value or key in `[tool.memfix]` or on the command line.

    `key` is spelled as in pyproject.toml; `option` is the command-line flag that gave
    the value, when one did (the message then names the flag).
    """

    def __init__(self, key: str, problem: str, *, option: str | None = None) -> None:
        super().__init__(f"{option}: {problem}" if option else f"[tool.memfix] {key}: {problem}")
        self.key = key
        self.problem = problem
        self.option = option


class UnknownCodemodError(MemfixError):
    """A codemod name in --select, --ignore or `explain` that no codemod has."""

    def __init__(self, name: str, known: Iterable[str]) -> None:
        known = sorted(known)
        hint = did_you_mean(name, known)
        super().__init__(f"unknown codemod {name!r}{hint}; `memfix rules` lists them")
        self.name = name


class MissingPathError(MemfixError):
    """A path given on the command line that does not exist."""

    def __init__(self, path: str) -> None:
        super().__init__(f"{path}: no such file or folder")
        self.path = path


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """Return `` (did you mean 'x'?)`` for the closest choice, or an empty string."""
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
