"""The base class of every codemod, and the values its examples are written in.

A codemod is a libcst transformer with a name, a message, a fix safety and
before/after examples. It reports findings with `report()` before it edits, so a
`# memfix: ignore[name]` comment on the line can silence the finding and the edit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import libcst as cst
from libcst.metadata import PositionProvider, ProviderT

from memfix.config import Settings
from memfix.results import Finding, Fix
from memfix.suppression import suppressed_names

__all__ = ["Codemod", "Context", "Fix", "Invalid", "SkipFile", "Valid", "suppressed_names"]


@dataclass(frozen=True, slots=True)
class Valid:
    """Code the codemod must leave alone, with no finding."""

    source: str
    flags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Invalid:
    """Code with a finding; `expected` is the fixed text, or None when it is report-only."""

    source: str
    expected: str | None
    flags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Context:
    """What a codemod knows about the file it transforms."""

    path: str
    lines: Sequence[str]
    settings: Settings = field(default_factory=Settings)


class SkipFile(Exception):
    """Raised by a codemod to leave the whole file alone."""


class Codemod(cst.CSTTransformer):
    """A transform for one bug family; subclasses set the class attributes below."""

    NAME: ClassVar[str] = ""
    MESSAGE: ClassVar[str] = ""
    FIX: ClassVar[Fix] = Fix.NONE
    # Bytes a file must contain for this codemod to have anything to do (any of them).
    VOCABULARY: ClassVar[tuple[bytes, ...]] = ()
    VALID: ClassVar[list[Valid]] = []
    INVALID: ClassVar[list[Invalid]] = []
    METADATA_DEPENDENCIES: ClassVar[tuple[ProviderT, ...]] = (PositionProvider,)

    @classmethod
    def wants(cls, text: str) -> bool:
        """Whether this codemod may have anything to do in `text` (any VOCABULARY word).

        A codemod may override it with a finer test; it must never say no to text where
        the codemod would report or change something.
        """
        return not cls.VOCABULARY or any(word.decode() in text for word in cls.VOCABULARY)

    def __init__(self, context: Context) -> None:
        super().__init__()
        self.context = context
        self.findings: list[Finding] = []
        # (line, NAME) of each finding a suppression comment silenced
        self.used_suppressions: set[tuple[int, str]] = set()

    @classmethod
    def summary(cls) -> str:
        """The first line of the codemod's documentation."""
        doc = (cls.__module__ and __import__(cls.__module__, fromlist=["_"]).__doc__) or ""
        return doc.strip().splitlines()[0] if doc.strip() else ""

    @classmethod
    def documentation(cls) -> str:
        """The module docstring: what it does, why, an example, fix safety."""
        module = __import__(cls.__module__, fromlist=["_"])
        return (module.__doc__ or "").strip()

    def is_suppressed(self, line: int) -> bool:
        if not 1 <= line <= len(self.context.lines):
            return False
        names = suppressed_names(self.context.lines[line - 1])
        if names is None or (names and self.NAME not in names):
            return False
        self.used_suppressions.add((line, self.NAME))
        return True

    def report(self, node: cst.CSTNode, message: str, *, fixed: bool) -> bool:
        """Record a finding at `node` (from the original tree).

        Returns False when a suppression comment silences it: the caller must not edit.
        """
        position = self.get_metadata(PositionProvider, node).start
        if self.is_suppressed(position.line):
            return False
        self.findings.append(
            Finding(
                codemod=self.NAME,
                message=message,
                line=position.line,
                column=position.column + 1,
                fix=self.FIX,
                fixed=fixed and self.FIX is not Fix.NONE,
                applied=False,
            )
        )
        return True
