"""The base class of every codemod, and the values its examples are written in.

A codemod is a libcst transformer with a message and before/after examples; its name,
screen and fix safety come from its rule's declaration (`RULE`, a `memfix.rules.Rule`).
It reports findings with `report()` before it edits, so a `# memfix: ignore[name]`
comment on the line can silence the finding and the edit.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import ClassVar

import libcst as cst
from libcst.metadata import (
    CodePosition,
    MetadataWrapper,
    ParentNodeProvider,
    PositionProvider,
    ProviderT,
)

from memfix.config import Settings
from memfix.facts import NO_FACTS, FileFacts
from memfix.results import Finding, Fix
from memfix.rules.rule import Rule
from memfix.rules.suppression import suppressed_names
from memfix.source.outline import Outline, outline

__all__ = ["Codemod", "Context", "Fix", "Invalid", "Rule", "SkipFile", "Valid", "suppressed_names"]


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
    # What the repository pass learned about this file from other modules.
    facts: FileFacts = NO_FACTS
    # What each imported name stands for (the outline's table); None: read from the tree.
    imports: Mapping[str, frozenset[str]] | None = None


class SkipFile(Exception):
    """Raised by a codemod to leave the whole file alone."""


class Codemod(cst.CSTTransformer):
    """A transform for one bug family; subclasses set the class attributes below.

    A subclass that sets `RULE` takes its NAME, FIX (the safety of a finding that does
    not state its own), VOCABULARY, TRIGGERS and prefilter tests from that declaration.
    """

    RULE: ClassVar[Rule | None] = None
    NAME: ClassVar[str] = ""
    MESSAGE: ClassVar[str] = ""
    FIX: ClassVar[Fix] = Fix.NONE
    # Bytes a file must contain for this codemod to have anything to do (any of them).
    VOCABULARY: ClassVar[tuple[bytes, ...]] = ()
    VALID: ClassVar[list[Valid]] = []
    INVALID: ClassVar[list[Invalid]] = []
    # Metadata resolved before the visit; positions come on demand (`position`).
    METADATA_DEPENDENCIES: ClassVar[tuple[ProviderT, ...]] = ()

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        rule = cls.__dict__.get("RULE")
        if isinstance(rule, Rule):
            cls.NAME, cls.FIX = rule.name, rule.default_fix
            cls.VOCABULARY, cls.TRIGGERS = rule.screen, rule.triggers

    @classmethod
    def wants(cls, text: str) -> bool:
        """Whether this codemod may have anything to do in `text` (any VOCABULARY word).

        With a RULE, the rule's own test. A codemod may override it with a finer test; it
        must never say no to text where the codemod would report or change something.
        """
        if cls.RULE is not None:
            return cls.RULE.wants(text)
        return not cls.VOCABULARY or any(word.decode() in text for word in cls.VOCABULARY)

    # The LangChain classes (last part of the name) at least one of which the module must
    # call for this codemod to report anything; empty when it reacts to other code too.
    TRIGGERS: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def wants_outline(cls, outline: Outline, text: str) -> bool:
        """Whether a module with this outline may hold something for this codemod.

        The prefilter's last stage, asked before libcst parses the file; like `wants`, it
        must never say no where the codemod would report or change something.
        """
        if cls.RULE is not None:
            return cls.RULE.wants_outline(outline, text)
        return not cls.TRIGGERS or not cls.TRIGGERS.isdisjoint(outline.langchain_calls)

    def __init__(self, context: Context) -> None:
        super().__init__()
        self.context = context
        self.findings: list[Finding] = []
        # (line, NAME) of each finding a suppression comment silenced
        self.used_suppressions: set[tuple[int, str]] = set()
        # Distributions the code this run added imports (`sqlalchemy`): set when editing.
        self.packages: list[str] = []
        self._wrapper: MetadataWrapper | None = None
        self._imports: Mapping[str, frozenset[str]] | None = context.imports

    @contextmanager
    def resolve(self, wrapper: MetadataWrapper) -> Iterator[None]:
        # Kept so that positions and the import table can be read on demand.
        self._wrapper = wrapper
        with super().resolve(wrapper):
            yield

    def position(self, node: cst.CSTNode) -> CodePosition:
        """Where `node` (from the original tree) starts; computed for the file on first use."""
        if self._wrapper is None:
            return self.get_metadata(PositionProvider, node).start
        return self._wrapper.resolve(PositionProvider)[node].start

    def parent(self, node: cst.CSTNode) -> cst.CSTNode | None:
        """The node that holds `node` in the original tree; computed on first use."""
        if self._wrapper is None:
            return self.get_metadata(ParentNodeProvider, node, None)
        return self._wrapper.resolve(ParentNodeProvider).get(node)

    def imported_packages(self) -> set[str]:
        """The top-level packages of the module's absolute imports, wherever they are."""
        return {dotted.partition(".")[0] for names in self._table().values() for dotted in names}

    def _table(self) -> Mapping[str, frozenset[str]]:
        if self._imports is None:
            found = None if self._wrapper is None else outline(self._wrapper.module.code)
            self._imports = {} if found is None else found.imports
        return self._imports

    def imported(self, node: cst.CSTNode) -> set[str]:
        """The dotted names a name or attribute chain stands for, by the module's imports.

        Scopes are not followed: a local that shadows an import still reads as the import.
        """
        attributes: list[str] = []
        while isinstance(node, cst.Attribute):
            attributes.append(node.attr.value)
            node = node.value
        if not isinstance(node, cst.Name):
            return set()
        tail = "".join(f".{attribute}" for attribute in reversed(attributes))
        return {f"{base}{tail}" for base in self._table().get(node.value, ())}

    @classmethod
    def summary(cls) -> str:
        """The first line of the codemod's documentation."""
        doc = cls.documentation()
        return doc.splitlines()[0] if doc else ""

    @classmethod
    def documentation(cls) -> str:
        """What it does, why, an example, fix safety: the rule's documentation, or else
        the docstring of the codemod's module."""
        if cls.RULE is not None:
            return (cls.RULE.documentation or "").strip()
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

    def report(
        self, node: cst.CSTNode, message: str, *, fixed: bool, fix: Fix | None = None
    ) -> bool:
        """Record a finding at `node` (from the original tree).

        `fixed` says whether an edit comes with it, `fix` how safe that edit is (default:
        the rule's, FIX). Returns False when a suppression comment silences it: the caller
        must not edit.
        """
        position = self.position(node)
        if self.is_suppressed(position.line):
            return False
        safety = self.FIX if fix is None else fix
        self.findings.append(
            Finding(
                codemod=self.NAME,
                message=message,
                line=position.line,
                column=position.column + 1,
                fix=safety,
                fixed=fixed and safety is not Fix.NONE,
                applied=False,
            )
        )
        return True
