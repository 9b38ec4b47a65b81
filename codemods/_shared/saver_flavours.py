"""LangGraph checkpointer flavours: which saver a call builds, whether it is async, its
partner of the other flavour, where it is bound, and the graphs compiled with it.

A saver is known by the qualified name of the class it builds, in every import spelling
the module uses (`SqliteSaver(...)`, `SqliteSaver.from_conn_string(...)`); names are
resolved through the module's imports, never by text. Graph names are read module-wide:
`graph = builder.compile(checkpointer=saver)` binds `graph` to that saver.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import libcst as cst


class _Resolves(Protocol):
    def imported(self, node: cst.CSTNode) -> set[str]: ...


@dataclass(frozen=True, slots=True)
class Saver:
    """A checkpointer class: its name, whether its methods are async, and its partner."""

    name: str
    module: str
    is_async: bool
    partner: str  # the class of the other flavour, in `partner_module`
    partner_module: str
    needs_setup: bool  # a fresh database has no tables until setup() runs


_SAVERS = (
    Saver(
        "SqliteSaver",
        "langgraph.checkpoint.sqlite",
        False,
        "AsyncSqliteSaver",
        "langgraph.checkpoint.sqlite.aio",
        False,
    ),
    Saver(
        "AsyncSqliteSaver",
        "langgraph.checkpoint.sqlite.aio",
        True,
        "SqliteSaver",
        "langgraph.checkpoint.sqlite",
        False,
    ),
    Saver(
        "PostgresSaver",
        "langgraph.checkpoint.postgres",
        False,
        "AsyncPostgresSaver",
        "langgraph.checkpoint.postgres.aio",
        True,
    ),
    Saver(
        "AsyncPostgresSaver",
        "langgraph.checkpoint.postgres.aio",
        True,
        "PostgresSaver",
        "langgraph.checkpoint.postgres",
        True,
    ),
    Saver(
        "RedisSaver",
        "langgraph.checkpoint.redis",
        False,
        "AsyncRedisSaver",
        "langgraph.checkpoint.redis.aio",
        True,
    ),
    Saver(
        "AsyncRedisSaver",
        "langgraph.checkpoint.redis.aio",
        True,
        "RedisSaver",
        "langgraph.checkpoint.redis",
        True,
    ),
)
# The Redis package re-exports its async class at the top too: `from
# langgraph.checkpoint.redis import AsyncRedisSaver` is as common as the `.aio` spelling.
_BY_NAME = {f"{s.module}.{s.name}": s for s in _SAVERS} | {
    f"{s.partner_module}.{s.name}": s for s in _SAVERS if s.is_async
}


@dataclass(frozen=True, slots=True)
class Construction:
    """A call that builds a saver; `factory` is true for `Class.from_conn_string(...)`."""

    saver: Saver
    factory: bool


def construction(codemod: _Resolves, call: cst.Call) -> Construction | None:
    """The saver `call` builds, by the module's imports; None for any other call."""
    func = call.func
    factory = isinstance(func, cst.Attribute) and func.attr.value == "from_conn_string"
    target = func.value if factory and isinstance(func, cst.Attribute) else func
    for dotted in codemod.imported(target):
        saver = _BY_NAME.get(dotted)
        if saver is not None:
            return Construction(saver, factory)
    return None


def calls_method(tree: cst.CSTNode, receiver: str, methods: frozenset[str]) -> bool:
    """Whether `tree` holds a call `receiver.<method>(...)` for one of `methods`."""
    for call in _walk(tree, (cst.Call,)):
        assert isinstance(call, cst.Call)
        func = call.func
        if (
            isinstance(func, cst.Attribute)
            and isinstance(func.value, cst.Name)
            and func.value.value == receiver
            and func.attr.value in methods
        ):
            return True
    return False


@dataclass(frozen=True, slots=True)
class Bound:
    """A saver built in the module: the call, the name it is bound to ('' when inline),
    and the statement that binds it (an assignment, a `with`, or the call's own line)."""

    construction: Construction
    call: cst.Call
    name: str
    statement: cst.CSTNode | None  # cst.Assign or cst.With; None when built inline


@dataclass(frozen=True, slots=True)
class GraphUse:
    """A call of a method on a graph compiled with a saver: `graph.ainvoke(...)`."""

    call: cst.Call
    graph: str
    method: str
    saver: Bound


_COMPILERS = frozenset({"compile", "create_react_agent", "create_agent"})


def savers_of(codemod: _Resolves, module: cst.Module) -> list[Bound]:
    """Every saver the module builds, bound or inline, in source order."""
    found: list[Bound] = []
    claimed: set[cst.Call] = set()
    for statement in _walk(module, (cst.Assign, cst.With)):
        for call, name in _bindings(statement):
            made = construction(codemod, call)
            if made is not None:
                found.append(Bound(made, call, name, statement))
                claimed.add(call)
    for node in _walk(module, (cst.Call,)):
        call = cst.ensure_type(node, cst.Call)
        made = construction(codemod, call)
        if made is not None and call not in claimed:
            found.append(Bound(made, call, "", None))
    return found


def graphs_of(module: cst.Module, savers: list[Bound]) -> dict[str, Bound]:
    """The names bound to a graph or agent compiled with one of `savers`, and its saver."""
    by_name = {saver.name: saver for saver in savers if saver.name}
    by_call = {saver.call: saver for saver in savers}
    graphs: dict[str, Bound] = {}
    for node in _walk(module, (cst.Assign,)):
        statement = cst.ensure_type(node, cst.Assign)
        target = statement.targets[0].target
        value = statement.value
        if isinstance(target, cst.Name) and isinstance(value, cst.Call):
            saver = _checkpointer(value, by_name, by_call)
            if saver is not None:
                graphs[target.value] = saver
    return graphs


def given_savers(module: cst.Module, savers: list[Bound]) -> list[Bound]:
    """The savers the module gives to a graph or an agent, as its checkpointer."""
    by_name = {saver.name: saver for saver in savers if saver.name}
    by_call = {saver.call: saver for saver in savers}
    given = []
    for node in _walk(module, (cst.Call,)):
        saver = _checkpointer(cst.ensure_type(node, cst.Call), by_name, by_call)
        if saver is not None and saver not in given:
            given.append(saver)
    return given


def graph_uses(module: cst.Module, savers: list[Bound]) -> list[GraphUse]:
    """Each call of a method on a graph or agent compiled with one of `savers`."""
    graphs = graphs_of(module, savers)
    uses: list[GraphUse] = []
    for node in _walk(module, (cst.Call,)):
        call = cst.ensure_type(node, cst.Call)
        func = call.func
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name):
            saver = graphs.get(func.value.value)
            if saver is not None:
                uses.append(GraphUse(call, func.value.value, func.attr.value, saver))
    return uses


def _checkpointer(
    call: cst.Call, by_name: dict[str, Bound], by_call: dict[cst.Call, Bound]
) -> Bound | None:
    """The saver a compile or agent call is given, as `checkpointer=` or compile's first."""
    func = call.func
    called = func.attr.value if isinstance(func, cst.Attribute) else getattr(func, "value", "")
    if called not in _COMPILERS:
        return None
    given = [arg.value for arg in call.args if arg.keyword and arg.keyword.value == "checkpointer"]
    if called == "compile" and call.args and call.args[0].keyword is None:
        given.append(call.args[0].value)
    for value in given:
        if isinstance(value, cst.Name) and value.value in by_name:
            return by_name[value.value]
        if isinstance(value, cst.Call) and value in by_call:
            return by_call[value]
    return None


def _bindings(statement: cst.CSTNode) -> list[tuple[cst.Call, str]]:
    """(call, name) of each `name = call(...)` or `with call(...) as name` of a statement."""
    if isinstance(statement, cst.Assign):
        target = statement.targets[0].target
        single = len(statement.targets) == 1 and isinstance(target, cst.Name)
        if single and isinstance(target, cst.Name) and isinstance(statement.value, cst.Call):
            return [(statement.value, target.value)]
        return []
    assert isinstance(statement, cst.With)
    pairs = []
    for item in statement.items:
        name = item.asname.name if item.asname is not None else None
        if isinstance(item.item, cst.Call) and isinstance(name, cst.Name):
            pairs.append((item.item, name.value))
    return pairs


def _walk(module: cst.CSTNode, kinds: tuple[type[cst.CSTNode], ...]) -> list[cst.CSTNode]:
    """Every node of the given kinds in the module, in source order."""
    nodes: list[cst.CSTNode] = []

    class _Collect(cst.CSTVisitor):
        def on_visit(self, node: cst.CSTNode) -> bool:
            if isinstance(node, kinds):
                nodes.append(node)
            return True

    module.visit(_Collect())
    return nodes


def in_async_function(
    node: cst.CSTNode, parent: Callable[[cst.CSTNode], cst.CSTNode | None]
) -> bool:
    """Whether the innermost function around `node` is an `async def` (no lambda, no class)."""
    above = parent(node)
    while above is not None:
        if isinstance(above, cst.Lambda | cst.ClassDef):
            return False
        if isinstance(above, cst.FunctionDef):
            return above.asynchronous is not None
        above = parent(above)
    return False
