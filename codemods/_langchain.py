"""What memfix knows about LangChain's names, resolved by qualified name, never by text.

Every era spells the same class differently (`langchain.memory`,
`langchain.chains.conversation.memory`, `langchain_classic.memory`,
`langchain_community.chat_message_histories`, `from langchain import ...`, aliases,
`import langchain.memory as m`). A name counts when its qualified name comes from an
import whose top-level package is LangChain's or LangGraph's and ends in a known class.
"""

from __future__ import annotations

import libcst as cst

from codemods._vocabulary import (
    CHAINS_WITH_OWN_MEMORY,
    IN_PROCESS_HISTORY_CLASSES,
    MEMORY_CLASSES,
    WEB_FRAMEWORKS,
)
from memfix.codemod import Codemod

_ROOTS = ("langchain", "langgraph")


def langchain_class(qualified: str) -> str | None:
    """The class name of a LangChain qualified name (`langchain.memory.X` -> `X`), else None."""
    module, _, name = qualified.rpartition(".")
    root = module.partition(".")[0]
    return name if root.startswith(_ROOTS) else None


def imported_names(codemod: Codemod, node: cst.CSTNode) -> set[str]:
    """The dotted names a name or attribute chain stands for, by the module's imports."""
    return codemod.imported(node)


def class_of_call(codemod: Codemod, call: cst.Call) -> str | None:
    """The LangChain class a call constructs (or calls), by qualified name; None otherwise."""
    for name in imported_names(codemod, call.func):
        found = langchain_class(name)
        if found is not None:
            return found
    return None


def is_in_process_state(codemod: Codemod, call: cst.Call) -> str | None:
    """The class name when `call` builds conversation state that lives in this object only.

    A memory, an in-process history, or a chain that makes its own memory because
    none was passed.
    """
    name = class_of_call(codemod, call)
    if name in MEMORY_CLASSES or name in IN_PROCESS_HISTORY_CLASSES:
        return name
    if name in CHAINS_WITH_OWN_MEMORY and not any(
        arg.keyword is not None and arg.keyword.value == "memory" for arg in call.args
    ):
        return name
    return None


def imported_frameworks(codemod: Codemod) -> set[str]:
    """The web or UI frameworks the codemod's module imports, from its import table."""
    return codemod.imported_packages() & WEB_FRAMEWORKS


def web_frameworks(module: cst.Module) -> set[str]:
    """Top-level packages of web or UI frameworks the module imports, anywhere in it."""
    collector = _ImportedPackages()
    module.visit(collector)
    return collector.packages & WEB_FRAMEWORKS


class _ImportedPackages(cst.CSTVisitor):
    def __init__(self) -> None:
        self.packages: set[str] = set()

    def visit_Import(self, node: cst.Import) -> None:
        self.packages.update(_dotted(alias.name).partition(".")[0] for alias in node.names)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if node.module is not None and not node.relative:
            self.packages.add(_dotted(node.module).partition(".")[0])


def _dotted(node: cst.BaseExpression) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{_dotted(node.value)}.{node.attr.value}"
    return ""
