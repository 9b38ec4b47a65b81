"""The turns run against a runnable, and what each caller does with the answer.

A call site is `holder.invoke(...)` (or `ainvoke`, `predict`, `run`, `stream`, ...) or
`holder(...)` where `holder` is what the runnable is bound to and is visible there: the
same function for a local, the same class for `self.x`, anywhere the name is not bound
again for a module-level one. A result is followed through one local variable.
"""

from __future__ import annotations

import ast

from memfix.model.names import Tree, dotted, source
from memfix.model.scopes import Function, enclosing_class, enclosing_function
from memfix.model.types import Use, UseKind

TURN_METHODS = frozenset(
    {"invoke", "ainvoke", "predict", "apredict", "run", "arun", "stream", "astream"}
    | {"batch", "abatch", "call", "acall", "predict_messages", "astream_events"}
)
_STREAMING = frozenset({"stream", "astream", "astream_events"})
# What code that reads and writes a memory or history by hand calls on it.
MEMORY_METHODS = frozenset(
    {"load_memory_variables", "aload_memory_variables", "save_context", "asave_context", "clear"}
)
CHECKPOINTER_METHODS = frozenset(
    {"setup", "get", "aget", "get_tuple", "aget_tuple", "put", "aput", "list", "alist"}
)
HISTORY_METHODS = frozenset(
    {"add_message", "add_messages", "aadd_messages", "add_user_message", "add_ai_message"}
    | {"get_messages", "aget_messages", "clear"}
)
_PRINTERS = frozenset({"print", "st.write", "st.markdown", "typer.echo", "console.print"})


Turn = tuple[ast.Call, str, str]


def turn_calls(
    tree: Tree, holder: str, home: ast.AST | None, methods: frozenset[str] = TURN_METHODS
) -> list[Turn]:
    """(call, callee, target) for every turn run through `holder` (or a local alias of it).

    `holder(...)` counts as a turn only for runnables (`methods` is TURN_METHODS).
    """
    found: list[Turn] = []
    if not holder:
        return found
    names = {holder: home, **_aliases(tree, holder, home)}
    for node in ast.walk(tree.module):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        turn = isinstance(func, ast.Attribute) and func.attr in methods
        if not turn and methods is not TURN_METHODS:
            continue
        target = dotted(func.value) if isinstance(func, ast.Attribute) and turn else dotted(func)
        if target in names and _visible(tree, target, names[target], node):
            callee = func.attr if isinstance(func, ast.Attribute) and turn else "__call__"
            found.append((node, callee, target))
    return sorted(found, key=lambda item: (item[0].lineno, item[0].col_offset))


def _aliases(tree: Tree, holder: str, home: ast.AST | None) -> dict[str, ast.AST | None]:
    """Locals bound to the holder inside a function: `chain = cl.user_session.get("chain")`."""
    found: dict[str, ast.AST | None] = {}
    for node in ast.walk(tree.module):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            function = enclosing_function(tree, node)
            if (
                isinstance(target, ast.Name)
                and target.id != holder
                and dotted(node.value) == holder
                and function is not None
                and _visible(tree, holder, home, node)
            ):
                found[target.id] = function
    return found


def _visible(tree: Tree, holder: str, home: ast.AST | None, call: ast.AST) -> bool:
    if "session_state" in holder or "user_session" in holder:
        return True
    if holder.startswith("self."):
        owner = home if isinstance(home, ast.ClassDef) else None
        return owner is not None and enclosing_class(tree, call) is owner
    if home is not None:
        return any(ancestor is home for ancestor in tree.ancestors(call))
    function = enclosing_function(tree, call)
    return function is None or not _binds_locally(function, holder)


def _binds_locally(function: Function, name: str) -> bool:
    for node in ast.walk(function):
        if isinstance(node, ast.Global | ast.Nonlocal) and name in node.names:
            return False
    for arg in ast.walk(function.args):
        if isinstance(arg, ast.arg) and arg.arg == name:
            return True
    return any(
        isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Store)
        for node in ast.walk(function)
    )


def result_uses(tree: Tree, call: ast.Call, callee: str) -> tuple[Use, ...]:
    """What the caller does with the value of `call`, through one variable at most."""
    node: ast.AST = call
    parent = tree.parent(node)
    if isinstance(parent, ast.Await):
        node, parent = parent, tree.parent(parent)
    variable = _assigned_name(parent)
    if variable is None:
        return (_use(tree, node, parent, callee, ""),)
    reads = _reads_after(tree, call, variable)
    if not reads:
        return (Use(UseKind.IGNORED, "assigned, never read", variable, tree.span(call)),)
    return tuple(_use(tree, read, tree.parent(read), callee, variable) for read in reads)


def _assigned_name(parent: ast.AST | None) -> str | None:
    if isinstance(parent, ast.Assign) and len(parent.targets) == 1:
        target = parent.targets[0]
        return target.id if isinstance(target, ast.Name) else None
    if isinstance(parent, ast.AnnAssign) and isinstance(parent.target, ast.Name):
        return parent.target.id
    return None


def _reads_after(tree: Tree, call: ast.Call, variable: str) -> list[ast.Name]:
    """Loads of `variable` after `call` and before it is assigned again, in the same scope."""
    function = enclosing_function(tree, call)
    scope: ast.AST = function if function is not None else tree.module
    names = [
        node
        for node in ast.walk(scope)
        if isinstance(node, ast.Name)
        and node.id == variable
        and enclosing_function(tree, node) is function
        and (node.lineno, node.col_offset) > (call.lineno, call.col_offset)
    ]
    names.sort(key=lambda node: (node.lineno, node.col_offset))
    reads: list[ast.Name] = []
    for node in names:
        if isinstance(node.ctx, ast.Store):
            break  # a later assignment: what follows reads another value
        reads.append(node)
    return reads


def _use(tree: Tree, node: ast.AST, parent: ast.AST | None, callee: str, through: str) -> Use:
    """How `parent` uses the value `node` (a call, or a read of the variable holding it)."""
    where = tree.span(node)
    if isinstance(parent, ast.Return | ast.Yield):
        detail = "yield" if isinstance(parent, ast.Yield) else ""
        return Use(UseKind.RETURNED, detail, through, where)
    if isinstance(parent, ast.Subscript) and parent.value is node:
        return Use(UseKind.SUBSCRIPTED, source(parent.slice), through, where)
    if isinstance(parent, ast.Attribute):
        if parent.attr == "content":
            return Use(UseKind.CONTENT, "", through, where)
        return Use(UseKind.ATTRIBUTE, parent.attr, through, where)
    if isinstance(parent, ast.For | ast.AsyncFor | ast.comprehension) and parent.iter is node:
        kind = UseKind.STREAMED if callee in _STREAMING else UseKind.ITERATED
        return Use(kind, "", through, where)
    if isinstance(parent, ast.Expr):
        return Use(UseKind.IGNORED, "", through, where)
    return _passed(tree, node, parent, through)


def _passed(tree: Tree, node: ast.AST, parent: ast.AST | None, through: str) -> Use:
    where = tree.span(node)
    if isinstance(parent, ast.keyword):
        parent = tree.parent(parent)
    if isinstance(parent, ast.Call) and parent.func is not node:
        name = dotted(parent.func) or source(parent.func)
        kind = UseKind.PRINTED if name in _PRINTERS else UseKind.PASSED
        return Use(kind, name, through, where)
    if isinstance(parent, ast.FormattedValue):
        return Use(UseKind.PASSED, "f-string", through, where)
    if isinstance(parent, ast.Dict | ast.List | ast.Tuple):
        return Use(UseKind.PASSED, type(parent).__name__.lower(), through, where)
    shape = type(parent).__name__ if parent is not None else "module"
    return Use(UseKind.UNKNOWN, f"used in a {shape}", through, where)
