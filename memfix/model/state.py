"""Every piece of conversation state a module builds, what holds it and how long it lives.

A construction is a call that resolves (through the imports) to a LangChain memory,
history, chain, `RunnableWithMessageHistory`, LangGraph checkpointer, graph builder or
agent factory. Its holder is what it is assigned to (`memory`, `self.chain`,
`st.session_state.chain`, a `with ... as saver`); its lifetime follows from where that
happens and, for a factory function, from where the factory is called.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from memfix.model.names import Tree, dotted, is_in_process, is_session_history, source, string
from memfix.model.scopes import (
    Contexts,
    Function,
    enclosing_class,
    enclosing_function,
    is_cached,
    is_streamlit,
)
from memfix.model.types import Context, Lifetime, Option

# Keywords whose value is a secret or a connection: recorded as present, never shown.
_SECRETS = frozenset({"conn", "connection", "url", "uri", "password", "secret", "dsn", "string"})
_SECRET_NAMES = frozenset({"client", "api_key", "host", "token", "engine", "pool", "auth"})
_LINKS = frozenset({"memory", "chat_memory", "checkpointer", "get_session_history"})
_PER_REQUEST = frozenset({Context.ROUTE, Context.CALLBACK, Context.BOT_HANDLER})
_MAX_OPTION = 80


@dataclass(frozen=True, slots=True)
class Built:
    """One construction of conversation state in the tree (an internal value)."""

    node: ast.Call
    kind: str
    qualname: str
    holder: str
    function: Function | None


def constructions(tree: Tree) -> list[Built]:
    """Every call building conversation state, graphs' `.compile()` calls included."""
    found: list[Built] = []
    for node in ast.walk(tree.module):
        if not isinstance(node, ast.Call):
            continue
        state = tree.state_call(node)
        if state is None:
            state = _compiled_graph(tree, node)
        if state is not None:
            kind, qualname = state
            found.append(
                Built(node, kind, qualname, holder_of(tree, node), enclosing_function(tree, node))
            )
    return sorted(found, key=lambda built: (built.node.lineno, built.node.col_offset))


def _compiled_graph(tree: Tree, call: ast.Call) -> tuple[str, str] | None:
    """("graph", "....StateGraph.compile") for `builder.compile(...)` of a graph builder."""
    func = call.func
    if not (isinstance(func, ast.Attribute) and func.attr == "compile"):
        return None
    receiver = func.value
    if isinstance(receiver, ast.Name | ast.Attribute):
        from memfix.model.keys import assigned_value

        found = assigned_value(tree, dotted(receiver) or "", enclosing_function(tree, call))
        receiver = found[0] if found else receiver
    state = tree.state_call(receiver)
    if state is not None and state[0] == "graph-builder":
        return "graph", f"{state[1]}.compile"
    return None


def holder_of(tree: Tree, call: ast.Call) -> str:
    """What the construction is bound to: `memory`, `self.chain`, `st.session_state.x`."""
    parent = tree.parent(call)
    if isinstance(parent, ast.Await):
        parent = tree.parent(parent)
    if isinstance(parent, ast.Assign) and len(parent.targets) == 1:
        return dotted(parent.targets[0]) or ""
    if isinstance(parent, ast.AnnAssign):
        return dotted(parent.target) or ""
    if isinstance(parent, ast.withitem) and parent.optional_vars is not None:
        return dotted(parent.optional_vars) or ""
    if isinstance(parent, ast.Call) and call in parent.args:
        name = dotted(parent.func) or ""
        if name.endswith("user_session.set") and parent.args:
            return f"{name.rpartition('.')[0]}.{string(parent.args[0])}"
    return ""


def options_of(call: ast.Call) -> tuple[Option, ...]:
    """The constructor's keywords; connections and secrets as "present", never their value."""
    found: list[Option] = []
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr.startswith("from_") and call.args:
        found.append(Option("conn_string", "present"))
    for item in call.keywords:
        if item.arg is None or item.arg in _LINKS:
            continue
        found.append(Option(item.arg, _shown(item.arg, item.value)))
    return tuple(found)


def _shown(name: str, value: ast.expr) -> str:
    lowered = name.lower()
    if lowered in _SECRET_NAMES or _SECRETS & set(lowered.split("_")):
        return "present"
    text = source(value)
    return text if len(text) <= _MAX_OPTION else text[: _MAX_OPTION - 3] + "..."


class Lifetimes:
    """Decides how long each construction lives, from where it is built and bound."""

    def __init__(self, tree: Tree, contexts: Contexts) -> None:
        self.tree = tree
        self.contexts = contexts

    def of(self, built: Built, holder: str, site: ast.AST) -> tuple[Lifetime, str]:
        """(lifetime, why) of `built` when bound to `holder` at `site`."""
        short = built.qualname.rpartition(".")[2]
        if built.kind in ("history", "checkpointer"):
            if is_session_history(built.qualname):
                return Lifetime.SESSION, f"{short} keeps its messages in the browser session"
            if not is_in_process(built.qualname):
                return Lifetime.PERSISTENT, f"{short} keeps its messages outside the process"
        if "session_state" in holder or "user_session" in holder:
            return Lifetime.SESSION, f"kept per user session in {holder}"
        function = enclosing_function(self.tree, site)
        if function is None:
            return self._module_level(built, site, short)
        if is_cached(function):
            return Lifetime.MODULE, f"{function.name}() is cached: one for the whole process"
        if function.name == "__init__" and holder.startswith("self."):
            return self._instance(function)
        return Lifetime.CALL, f"built on every call of {function.name}()"

    def _module_level(self, built: Built, site: ast.AST, short: str) -> tuple[Lifetime, str]:
        if is_streamlit(self.tree) and _under_session_guard(self.tree, site):
            return Lifetime.SESSION, "built once per browser session, under a session_state guard"
        if is_streamlit(self.tree):
            return Lifetime.CALL, "built at the top of a Streamlit script: again on every rerun"
        if built.kind == "checkpointer":
            return Lifetime.PROCESS, f"{short} keeps every thread in this process"
        return Lifetime.MODULE, "bound at module level: one for every caller in the process"

    def _instance(self, init: Function) -> tuple[Lifetime, str]:
        owner = enclosing_class(self.tree, init)
        if owner is None:
            return Lifetime.INSTANCE, "an attribute set in __init__"
        for node in ast.walk(self.tree.module):
            if isinstance(node, ast.Call) and dotted(node.func) == owner.name:
                caller = enclosing_function(self.tree, node)
                if caller is not None and enclosing_class(self.tree, caller) is not owner:
                    context, _ = self.contexts.of_function(caller)
                    per = "request" if context in _PER_REQUEST else "call"
                    reason = f"{owner.name}() is created on every {per} in {caller.name}()"
                    return Lifetime.REQUEST_OBJECT, reason
        return Lifetime.INSTANCE, f"an attribute of each {owner.name} instance"


def _under_session_guard(tree: Tree, node: ast.AST) -> bool:
    """Whether `node` runs under `if "x" not in st.session_state:` (once per session)."""
    for ancestor in tree.ancestors(node):
        if isinstance(ancestor, ast.If) and "session_state" in source(ancestor.test):
            return True
    return False


def returned_by(tree: Tree, built: Built) -> Function | None:
    """The function that returns the construction (a factory), else None."""
    function = built.function
    if function is None:
        return None
    filled = _filled_store(tree, built)
    for node in ast.walk(function):
        if isinstance(node, ast.Return) and node.value is not None:
            value = node.value
            if value is built.node or (built.holder and dotted(value) == built.holder):
                return function
            if filled and isinstance(value, ast.Subscript) and dotted(value.value) == filled:
                return function  # `return store[key]` after `store[key] = built`
    return None


def _filled_store(tree: Tree, built: Built) -> str:
    parent = tree.parent(built.node)
    if isinstance(parent, ast.Assign) and isinstance(parent.targets[0], ast.Subscript):
        return dotted(parent.targets[0].value) or ""
    return ""


def factory_calls(tree: Tree, factory: Function) -> list[tuple[ast.Call, str]]:
    """Every call of `factory` in the module, with what its result is bound to."""
    found: list[tuple[ast.Call, str]] = []
    for node in ast.walk(tree.module):
        if (
            isinstance(node, ast.Call)
            and (dotted(node.func) or "").rpartition(".")[2] == factory.name
            and enclosing_function(tree, node) is not factory
        ):
            found.append((node, holder_of(tree, node)))
    return found
