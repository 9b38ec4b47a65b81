"""A rule's declaration: what a run must know of a codemod before it loads one.

A `Rule` is plain data, read without libcst: its name, the words and classes a file
must hold for it (the prefilter's screen), where it runs among the others, whether it
reads the repository pass, how often its findings come with a fix, its documentation,
and where its codemod class lives, imported only once a file needs it. Built-in rules
are declared in `memfix.codemods.<name>`; other distributions declare theirs under the
entry-point group `memfix.codemods`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from memfix.results import Fix

if TYPE_CHECKING:
    from memfix.source.outline import Outline

__all__ = ["PLUGIN_PRIORITY", "Fix", "FixAvailability", "Rule"]

# Where a rule runs when its declaration says nothing: after every built-in rule.
PLUGIN_PRIORITY = 1000


class FixAvailability(enum.Enum):
    """How often a rule's findings come with an edit (as ruff says it)."""

    ALWAYS = "always"  # every finding is fixed
    SOMETIMES = "sometimes"  # some findings are only reported
    NEVER = "never"  # report only


@dataclass(frozen=True, slots=True)
class Rule:
    """The declaration of one rule; `load` names its codemod class, `module:Class`.

    `screen` holds the words a file must contain (any of them; empty: any file) and
    `triggers` the LangChain classes (last part of the name) a module must call (empty:
    no such gate). `text_test` is a finer test of the text, asked instead of the words;
    `outline_test` another way through the outline stage, besides the triggers. Neither
    may say no to a file where the codemod would report or change something. Rules run in
    `priority` order (then by name); `needs_project` asks for the repository pass.
    `safety` is the fix safety of a finding that does not state its own.
    """

    name: str
    load: str
    fix: FixAvailability
    priority: int = PLUGIN_PRIORITY
    screen: tuple[bytes, ...] = ()
    triggers: frozenset[str] = frozenset()
    needs_project: bool = False
    safety: Fix = Fix.SAFE
    text_test: Callable[[str], bool] | None = None
    outline_test: Callable[[Outline, str], bool] | None = None
    documentation: str | None = None

    def __post_init__(self) -> None:
        module, colon, attribute = self.load.partition(":")
        if not (module and colon and attribute):
            raise ValueError(f"rule {self.name!r}: load must be 'module:Class', not {self.load!r}")
        if self.safety is Fix.NONE:
            raise ValueError(f"rule {self.name!r}: safety is SAFE or UNSAFE; say fix=NEVER")

    @property
    def module(self) -> str:
        """The module that holds the codemod class (`load` up to the colon)."""
        return self.load.partition(":")[0]

    @property
    def attribute(self) -> str:
        """The name of the codemod class in its module (`load` after the colon)."""
        return self.load.partition(":")[2]

    @property
    def default_fix(self) -> Fix:
        """The fix safety of a finding that does not state its own."""
        return Fix.NONE if self.fix is FixAvailability.NEVER else self.safety

    @property
    def VOCABULARY(self) -> tuple[bytes, ...]:
        """The screen's words, under the name the prefilter asks codemods for."""
        return self.screen

    @property
    def summary(self) -> str:
        """The first line of the documentation."""
        text = (self.documentation or "").strip()
        return text.splitlines()[0] if text else ""

    def wants(self, text: str) -> bool:
        """Whether the rule may have anything to do in `text`: its finer test, else a word."""
        if self.text_test is not None:
            return self.text_test(text)
        return not self.screen or any(word.decode() in text for word in self.screen)

    def wants_outline(self, outline: Outline, text: str) -> bool:
        """Whether a module with this outline may hold something for the rule.

        True without a gate, when the module calls one of the triggers, or when the
        outline test says so.
        """
        if not self.triggers and self.outline_test is None:
            return True
        if not self.triggers.isdisjoint(outline.langchain_calls):
            return True
        return self.outline_test is not None and self.outline_test(outline, text)
