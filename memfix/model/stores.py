"""The store of many conversations' histories and the getter that reads it.

A store is a dict keyed by something (`store = {}`, `defaultdict(ChatMessageHistory)`,
`store.setdefault(key, ...)`, a class attribute, `self.sessions`), or a framework's
per-user session (`st.session_state[...]`, `cl.user_session`). The getter is what
`RunnableWithMessageHistory` is given: a function, a lambda or a method.
"""

from __future__ import annotations

import ast

from memfix.model.keys import key_of
from memfix.model.names import Tree, argument, dotted, source
from memfix.model.scopes import enclosing_class, enclosing_function
from memfix.model.state import Built
from memfix.model.types import Getter, Lifetime, Store

GetterNode = ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda


def getter_of(tree: Tree, runnable: ast.Call) -> tuple[Getter | None, GetterNode | None, str]:
    """The history getter given to a `RunnableWithMessageHistory`, its node, and any gap."""
    value = argument(runnable, 1, "get_session_history")
    if value is None:
        return None, None, "RunnableWithMessageHistory is given no history getter"
    if isinstance(value, ast.Lambda):
        return Getter("<lambda>", "lambda", tree.span(value), _first(value.args)), value, ""
    name = dotted(value) or ""
    method = name.startswith("self.")
    wanted = name.rpartition(".")[2]
    owner = enclosing_class(tree, runnable) if method else None
    scope: ast.AST = owner if owner is not None else tree.module
    for node in ast.walk(scope):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == wanted:
            kind = "method" if method else "function"
            args = node.args.args[1:] if method else node.args.args
            param = args[0].arg if args else ""
            return Getter(name, kind, tree.span(node), param), node, ""
    gap = f"the history getter {source(value)} is not defined in this module"
    return Getter(source(value), "unknown", tree.span(value), ""), None, gap


def _first(args: ast.arguments) -> str:
    every = [*args.posonlyargs, *args.args]
    return every[0].arg if every else ""


def store_read_by(tree: Tree, getter: GetterNode) -> Store | None:
    """The store a getter reads its history from, None when it reads none."""
    for node in ast.walk(getter):
        found = _store_access(tree, node)
        if found is not None:
            return found
    return None


def store_filled_by(tree: Tree, built: Built) -> Store | None:
    """The store a memory or history is put into (`store[key] = built`), else None."""
    parent = tree.parent(built.node)
    if isinstance(parent, ast.Assign) and isinstance(parent.targets[0], ast.Subscript):
        return _store_access(tree, parent.targets[0])
    if isinstance(parent, ast.Call) and isinstance(parent.func, ast.Attribute):
        return _store_access(tree, parent) if parent.func.attr == "setdefault" else None
    if not built.holder or built.function is None:
        return None
    for node in ast.walk(built.function):
        if not isinstance(node, ast.Assign):
            continue
        target = node.targets[0]
        if isinstance(target, ast.Subscript) and dotted(node.value) == built.holder:
            return _store_access(tree, target)
    return None


def _store_access(tree: Tree, node: ast.AST) -> Store | None:
    """The store `node` reads or writes by key: `X[k]` or `X.setdefault(k, ...)`."""
    if isinstance(node, ast.Subscript):
        base, key, kind = node.value, node.slice, ""
    elif (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "setdefault"
        and node.args
    ):
        base, key, kind = node.func.value, node.args[0], "setdefault"
    else:
        return None
    name = dotted(base) or ""
    if name.endswith("session_state") or name.endswith("user_session"):
        framework = "session-state" if name.endswith("session_state") else "user-session"
        found_key = key_of(tree, key, "store-subscript")
        return Store(framework, name, tree.span(base), Lifetime.SESSION, found_key)
    binding = _dict_binding(tree, name, node)
    if binding is None:
        return None
    value, where_kind, lifetime = binding
    shape = kind or ("defaultdict" if _is_defaultdict(value) else where_kind)
    return Store(shape, name, tree.span(value), lifetime, key_of(tree, key, "store-subscript"))


def _dict_binding(tree: Tree, name: str, site: ast.AST) -> tuple[ast.expr, str, Lifetime] | None:
    """(value, kind, lifetime) of the dict `name` is bound to, seen from `site`."""
    if not name:
        return None
    for node in ast.walk(tree.module):
        if not isinstance(node, ast.Assign | ast.AnnAssign) or node.value is None:
            continue
        if not _is_dict(node.value):
            continue
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for target in targets:
            found = _binding_kind(tree, node, dotted(target) or "", name, site)
            if found is not None:
                return node.value, found[0], found[1]
    return None


def _binding_kind(
    tree: Tree, node: ast.AST, text: str, name: str, site: ast.AST
) -> tuple[str, Lifetime] | None:
    """How the assignment `text = {...}` at `node` binds the store `name` read at `site`."""
    cls, function = enclosing_class(tree, node), enclosing_function(tree, node)
    owner = enclosing_class(tree, site)
    if function is None and cls is None:
        return ("dict", Lifetime.PROCESS) if text == name else None
    if function is None and cls is not None:
        # A class body: `sessions = {}` read as `self.sessions` or `Assistant.sessions`.
        readers = {f"{cls.name}.{text}"} | ({f"self.{text}"} if owner is cls else set())
        return ("class-attribute", Lifetime.PROCESS) if name in readers else None
    if text != name:
        return None
    if name.startswith("self.") and owner is cls:
        return "dict", Lifetime.INSTANCE
    if function is enclosing_function(tree, site):
        return "dict", Lifetime.CALL
    return None


def _is_dict(node: ast.expr) -> bool:
    if isinstance(node, ast.Dict | ast.DictComp):
        return True
    return isinstance(node, ast.Call) and (dotted(node.func) or "").rpartition(".")[2] in (
        "dict",
        "defaultdict",
        "OrderedDict",
    )


def _is_defaultdict(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) and (dotted(node.func) or "").endswith("defaultdict")


def defaultdict_factory(tree: Tree, store: Store) -> tuple[str, ast.expr] | None:
    """(qualname, node) of the history class a `defaultdict(History)` store makes."""
    if store.kind != "defaultdict" or store.where is None:
        return None
    for node in ast.walk(tree.module):
        if (
            isinstance(node, ast.Call)
            and _is_defaultdict(node)
            and node.args
            and tree.span(node) == store.where
        ):
            qualname = tree.qualname(node.args[0])
            return (qualname, node.args[0]) if qualname else None
    return None
