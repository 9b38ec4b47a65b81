"""LangGraph's checkpointers in a tree: which calls build one, and what holds one.

A saver is any LangGraph class whose name ends in `Saver` (`InMemorySaver`,
`SqliteSaver`, `AsyncPostgresSaver`, ...), built by calling the class or its
`from_conn_string`. What holds one is the saver itself, a graph compiled with it
(`builder.compile(checkpointer=cp)`) or an agent built over it (`create_react_agent`).
"""

from __future__ import annotations

from collections.abc import Set

import libcst as cst

from memfix.codemods._shared.langchain import class_of_call
from memfix.codemods._shared.names import names_read
from memfix.rules.codemod import Codemod
from memfix.vocabulary import langchain_class

# Functions that build an agent (a compiled graph) over the checkpointer they are given.
AGENT_BUILDERS = frozenset({"create_agent", "create_react_agent"})

# Methods that run a graph or an agent for one turn.
RUN_METHODS = frozenset(
    {"invoke", "ainvoke", "stream", "astream", "batch", "abatch", "astream_events"}
)


def is_saver_class(name: str | None) -> bool:
    """Whether a LangGraph class name is a checkpointer's."""
    return name is not None and name.endswith("Saver") and name != "BaseCheckpointSaver"


def saver_of_call(codemod: Codemod, call: cst.Call) -> str | None:
    """The saver class `call` builds, directly (`MemorySaver()`); None otherwise."""
    name = class_of_call(codemod, call)
    return name if is_saver_class(name) else None


def opened_saver(codemod: Codemod, call: cst.Call) -> str | None:
    """The saver class of `SqliteSaver.from_conn_string(...)` (a context manager), else None."""
    func = call.func
    if not (isinstance(func, cst.Attribute) and func.attr.value == "from_conn_string"):
        return None
    for qualified in codemod.imported(func.value):
        name = langchain_class(qualified)
        if is_saver_class(name):
            return name
    return None


def builds_holder(codemod: Codemod, call: cst.Call) -> bool:
    """Whether a call builds something that keeps the checkpointer it is given."""
    func = call.func
    if isinstance(func, cst.Attribute) and func.attr.value == "compile":
        return True
    if saver_of_call(codemod, call) is not None:
        return True
    return bool(AGENT_BUILDERS & {q.rpartition(".")[2] for q in codemod.imported(func)})


def holds(codemod: Codemod, expression: cst.BaseExpression, held: Set[str]) -> bool:
    """Whether an expression's value keeps one of the `held` names' objects alive.

    `cp`, `builder.compile(checkpointer=cp)`, `AsyncPostgresSaver(pool)`, a tuple of
    those; never a method's result such as `graph.invoke(...)`.
    """
    if isinstance(expression, cst.Name):
        return expression.value in held
    if isinstance(expression, cst.Tuple | cst.List):
        return any(holds(codemod, element.value, held) for element in expression.elements)
    if isinstance(expression, cst.Call) and builds_holder(codemod, expression):
        return any(bool(names_read(arg.value) & held) for arg in expression.args)
    return False


def runs_a_turn(codemod: Codemod, node: cst.CSTNode) -> bool:
    """Whether code calls `.invoke`, `.stream` & co. (it answers a turn when it runs)."""
    found = False

    class _Runs(cst.CSTVisitor):
        def visit_Call(self, call: cst.Call) -> None:
            nonlocal found
            func = call.func
            if isinstance(func, cst.Attribute) and func.attr.value in RUN_METHODS:
                found = True

    node.visit(_Runs())
    return found
