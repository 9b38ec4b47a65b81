"""What the repository pass learned about one file from the others, as frozen data.

The core stays pure: a codemod never reads another file. `memfix.project.repository` reads the
modules a run touches, and hands each file the facts about it that only another file
shows: which of its module-level objects a route in another module uses, which names it
imports from a module that holds shared state, which of its functions a route calls per
request. The values are hashable, so a file's facts are part of its cache key.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass


class Plan(enum.Enum):
    """How far the edits of one cross-module finding may go; both modules get the same."""

    FIX = "fix"  # both sides are fixable and safe
    UNSAFE = "unsafe"  # fixable, but a handler needs a new identity: only with --unsafe-fixes
    REPORT = "report"  # report in each module, edit neither


@dataclass(frozen=True, slots=True)
class Route:
    """A handler in another module: how it is reached, and where it is."""

    label: str  # `POST /chat`, or `chat()` when no route path is written beside it
    path: str  # the shown path of its module
    line: int

    def describe(self) -> str:
        return f"{self.label} in {self.path}:{self.line}"


@dataclass(frozen=True, slots=True)
class SharedDefinition:
    """A module-level object of this module that handlers in other modules use."""

    name: str
    users: tuple[Route, ...]
    plan: Plan
    # The shown paths of the modules that would be edited with this one.
    partners: tuple[str, ...] = ()
    kind: str = ""  # the LangChain class whose object keeps the turns


@dataclass(frozen=True, slots=True)
class SharedImport:
    """A name this module imports from a module where it is one object for every user.

    `access` is how this module's code reads it: the bound name (`memory`, `mem` for
    `import ... as mem`) or a dotted read through a module (`m.memory`, `app.memory.memory`).
    """

    access: str
    imported: str  # the name in the defining module
    source: str  # the shown path of the defining module
    factory: str  # the per-session factory that replaces it there
    plan: Plan
    line: int  # the line of the import statement


@dataclass(frozen=True, slots=True)
class PerCallBuilder:
    """A function of this module that builds new state each call, called from routes elsewhere."""

    function: str
    users: tuple[Route, ...]


@dataclass(frozen=True, slots=True)
class FileFacts:
    """Everything the repository pass tells one file; empty for most files."""

    definitions: tuple[SharedDefinition, ...] = ()
    imports: tuple[SharedImport, ...] = ()
    builders: tuple[PerCallBuilder, ...] = ()
    # The `langgraph.json` that serves this module as a LangGraph platform graph, if any.
    platform: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.definitions or self.imports or self.builders or self.platform)

    def key(self) -> str:
        """A short stable digest of the facts, for the result cache ("" when empty)."""
        if not self:
            return ""
        return hashlib.sha256(repr(self).encode()).hexdigest()[:16]


NO_FACTS = FileFacts()
