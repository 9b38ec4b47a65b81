"""What one module holds and what one web module reads, from Python's own parser.

The repository pass needs, per module, only a few facts: the module-level names bound
to LangChain conversation state (a memory, an in-process history, a chain that holds
one), the functions that build such state afresh on each call, and, in a web module,
which functions read an imported name and how they are routed. Python's parser is
written in C and many times faster than libcst, and these facts need no layout.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass

from memfix.source.outline import import_table
from memfix.vocabulary import (
    CHAINS_WITH_OWN_MEMORY,
    IDENTITY_NAMES,
    IN_PROCESS_HISTORY_CLASSES,
    MEMORY_CLASSES,
    WEB_FRAMEWORKS,
    langchain_class,
)

_HTTP_METHODS = frozenset({"get", "post", "put", "patch", "delete", "websocket"})
_REFILLS = frozenset({"save_context", "add_user_message", "add_ai_message", "add_messages"})


@dataclass(frozen=True, slots=True)
class StateName:
    """A module-level name bound once to conversation state (or to what holds it)."""

    name: str
    kind: str  # the LangChain class whose object keeps the turns
    line: int  # the line of its value, where the finding goes
    imported: bool = False  # built from state another module defines


@dataclass(frozen=True, slots=True)
class Handler:
    """A function of a web module, and how clients reach it."""

    label: str
    line: int
    node: ast.FunctionDef | ast.AsyncFunctionDef


def imports_table(tree: ast.Module) -> dict[str, str]:
    """Each name the module's imports bind, and the dotted name it stands for (one of them,
    when a name is imported twice)."""
    return {name: max(dotted) for name, dotted in import_table(tree).items()}


def is_web_module(tree: ast.Module) -> bool:
    """Whether the module imports a web or UI framework whose handlers run per request.

    Streamlit is left out: its script re-runs per interaction and is handled in-module.
    """
    packages = {dotted.partition(".")[0] for dotted in imports_table(tree).values()}
    return bool(packages & (WEB_FRAMEWORKS - {"streamlit"}))


def state_names(tree: ast.Module, imported: dict[str, str] | None = None) -> list[StateName]:
    """Module-level names bound once to conversation state, and the names built from them.

    `imported` names the state the module imports (bound name -> kind): a chain built
    here from an imported memory holds that memory.
    """
    table = imports_table(tree)
    counts = _top_level_counts(tree)
    found: list[StateName] = []
    held: dict[str, str] = dict(imported or {})
    for statement in tree.body:
        assigned = _simple_assignment(statement)
        if assigned is None or counts.get(assigned[0]) != 1:
            continue
        name, value = assigned
        kind = _state_in(value, table)
        through = None
        if kind is None:
            through = next((n for n in _names_read(value) if n in held), None)
            kind = None if through is None else held[through]
        if kind is not None:
            held[name] = kind
            via = through is not None and (through in (imported or {}) or _imported(found, through))
            found.append(StateName(name, kind, value.lineno, via))
    return found


def _imported(found: list[StateName], name: str) -> bool:
    return any(state.name == name and state.imported for state in found)


def builders(tree: ast.Module) -> dict[str, str]:
    """Module-level functions that build new state on each call and give it out: name -> kind.

    A function that takes an identity (`user_id`), is cached, or re-fills the state from a
    store may be per session already, and does not count.
    """
    table = imports_table(tree)
    found: dict[str, str] = {}
    for statement in tree.body:
        if not isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        if {a.arg for a in _arguments(statement)} & IDENTITY_NAMES or statement.decorator_list:
            continue
        if any(_method(call) in _REFILLS for call in _calls(statement)):
            continue
        built: dict[str, str] = {}
        for node in ast.walk(statement):
            assigned = _simple_assignment(node) if isinstance(node, ast.stmt) else None
            if assigned is not None and (kind := _state_in(assigned[1], table)):
                built[assigned[0]] = kind
            if isinstance(node, ast.Return) and node.value is not None:
                kind = _state_in(node.value, table) or next(
                    (built[n] for n in _names_read(node.value) if n in built), None
                )
                if kind is not None:
                    found[statement.name] = kind
    return found


def handlers(tree: ast.Module) -> Iterator[Handler]:
    """Module-level functions and the methods of module-level classes, with their routes."""
    for statement in tree.body:
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
            yield Handler(_route_label(statement), statement.lineno, statement)
        elif isinstance(statement, ast.ClassDef):
            for inner in statement.body:
                if isinstance(inner, ast.FunctionDef | ast.AsyncFunctionDef):
                    label = f"{statement.name}.{inner.name}()"
                    yield Handler(label, inner.lineno, inner)


def reads(function: ast.FunctionDef | ast.AsyncFunctionDef, access: str) -> bool:
    """Whether the function reads `access` (`memory`, `m.memory`) that it does not bind."""
    local = {a.arg for a in _arguments(function)} | {
        node.id
        for node in ast.walk(function)
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load)
    }
    base = access.partition(".")[0]
    if base in local:
        return False
    return any(
        isinstance(node, ast.expr) and _dotted(node) == access for node in ast.walk(function)
    )


def calls(function: ast.FunctionDef | ast.AsyncFunctionDef, access: str) -> bool:
    """Whether the function calls `access` (`build_chain`, `m.build_chain`)."""
    if access.partition(".")[0] in {a.arg for a in _arguments(function)}:
        return False
    return any(_dotted(call.func) == access for call in _calls(function))


def _route_label(function: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    """`POST /chat` for `@app.post("/chat")` or `@app.route("/chat", methods=["POST"])`."""
    for decorator in function.decorator_list:
        if not isinstance(decorator, ast.Call) or not isinstance(decorator.func, ast.Attribute):
            continue
        verb = decorator.func.attr
        path = decorator.args[0] if decorator.args else None
        if not isinstance(path, ast.Constant) or not isinstance(path.value, str):
            continue
        if verb in _HTTP_METHODS:
            return f"{verb.upper()} {path.value}"
        if verb in ("route", "api_route"):
            return f"{_first_method(decorator)} {path.value}"
    return f"{function.name}()"


def _first_method(decorator: ast.Call) -> str:
    for keyword in decorator.keywords:
        if keyword.arg == "methods" and isinstance(keyword.value, ast.List | ast.Tuple):
            first = keyword.value.elts[0] if keyword.value.elts else None
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                return first.value.upper()
    return "GET"


def _state_in(value: ast.expr, table: dict[str, str]) -> str | None:
    """The class of the conversation state `value` builds (outside any lambda), else None."""
    lambdas = {
        id(n) for lam in ast.walk(value) if isinstance(lam, ast.Lambda) for n in ast.walk(lam)
    }
    for node in ast.walk(value):
        if not isinstance(node, ast.Call) or id(node) in lambdas:
            continue
        name = _langchain_class(node.func, table)
        if name in MEMORY_CLASSES or name in IN_PROCESS_HISTORY_CLASSES:
            return name
        if name in CHAINS_WITH_OWN_MEMORY and not any(k.arg == "memory" for k in node.keywords):
            return name
    return None


def _langchain_class(func: ast.expr, table: dict[str, str]) -> str | None:
    dotted = _dotted(func)
    if dotted is None:
        return None
    base, _, rest = dotted.partition(".")
    qualified = table.get(base)
    if qualified is None:
        return None
    return langchain_class(f"{qualified}.{rest}" if rest else qualified)


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return None if inner is None else f"{inner}.{node.attr}"
    return None


def _simple_assignment(statement: ast.stmt) -> tuple[str, ast.expr] | None:
    if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
        target = statement.targets[0]
        if isinstance(target, ast.Name):
            return target.id, statement.value
    if (
        isinstance(statement, ast.AnnAssign)
        and statement.value is not None
        and isinstance(statement.target, ast.Name)
    ):
        return statement.target.id, statement.value
    return None


def _top_level_counts(tree: ast.Module) -> dict[str, int]:
    """How often each name is bound in module scope (a `global` in a function counts)."""
    counts: dict[str, int] = {}

    def bind(name: str) -> None:
        counts[name] = counts.get(name, 0) + 1

    for statement in tree.body:
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bind(statement.name)
            for node in ast.walk(statement):
                if isinstance(node, ast.Global):
                    for name in node.names:
                        bind(name)
            continue
        for node in ast.walk(statement):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                bind(node.id)
            elif isinstance(node, ast.alias):
                bind(node.asname or node.name.partition(".")[0])
    return counts


def _names_read(value: ast.expr) -> set[str]:
    return {n.id for n in ast.walk(value) if isinstance(n, ast.Name)}


def _arguments(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.arg]:
    args = function.args
    every = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    every.extend(star for star in (args.vararg, args.kwarg) if star is not None)
    return every


def _calls(node: ast.AST) -> list[ast.Call]:
    return [n for n in ast.walk(node) if isinstance(n, ast.Call)]


def _method(call: ast.Call) -> str:
    return call.func.attr if isinstance(call.func, ast.Attribute) else ""
