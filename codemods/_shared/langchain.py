"""LangChain's names in a tree, resolved through the module's import table, never by text.

Every era spells the same class differently (`langchain.memory`,
`langchain.chains.conversation.memory`, `langchain_classic.memory`,
`langchain_community.chat_message_histories`, `from langchain import ...`, aliases,
`import langchain.memory as m`). A name counts when the import it comes from has a
top-level package of LangChain's or LangGraph's and ends in a known class.
"""

from __future__ import annotations

import libcst as cst

from memfix.rules.codemod import Codemod
from memfix.vocabulary import (
    CHAINS_WITH_OWN_MEMORY,
    IN_PROCESS_HISTORY_CLASSES,
    MEMORY_CLASSES,
    WEB_FRAMEWORKS,
    langchain_class,
)


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
