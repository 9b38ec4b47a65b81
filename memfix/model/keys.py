"""Where the value that selects a history comes from: an identity, a uuid, a constant...

The key of a call is `configurable.session_id` / `thread_id` of its config (a dict
literal, or a name bound to one here); the key of a history is its `session_id=`; the
key of a store is its subscript. A name is followed through its assignments in the
function, then the class, then the module, a few steps deep; what cannot be followed is
`unknown` with the reason.
"""

from __future__ import annotations

import ast

from memfix.model.identities import Reach, parameter_default
from memfix.model.names import Tree, dotted, keyword, source, string
from memfix.model.scopes import Function, enclosing_class, enclosing_function, is_streamlit
from memfix.model.types import Identity, Key, Origin

KEY_FIELDS = ("session_id", "thread_id", "conversation_id", "user_id")
_UUIDS = frozenset({"uuid4", "uuid1", "token_hex", "token_urlsafe", "getrandbits", "time"})
_DEPTH = 4


def key_of(tree: Tree, node: ast.expr, field: str) -> Key:
    """The origin of the key value `node` (read where it stands) for `field`."""
    origin, identity, reason = _origin(tree, node, enclosing_function(tree, node), 0)
    return Key(field, origin, source(node), identity, reason, tree.span(node))


def missing_key(tree: Tree, call: ast.Call, field: str) -> Key:
    """The key of a call that passes no config at all."""
    reason = f"the call passes no config: no {field} selects a conversation"
    return Key(field, Origin.MISSING, "", None, reason, tree.span(call))


Found = tuple[Origin, Identity | None, str]


def _origin(tree: Tree, node: ast.expr, function: Function | None, depth: int) -> Found:
    """(origin, the identity it reads, why) for a key expression."""
    text = source(node)
    identity = Reach(tree, function).identity(node)
    if identity is not None:
        return Origin.IDENTITY, identity, f"{identity.expr} is a {identity.source} identity"
    if isinstance(node, ast.Constant):
        return Origin.CONSTANT, None, f"the literal {text} is the same for every caller"
    if isinstance(node, ast.JoinedStr):
        return _fstring_origin(tree, node, function, depth)
    if _is_uuid(node):
        return _uuid_origin(tree, function, text)
    if isinstance(node, ast.Call) and _is_text_input(node):
        return Origin.CONSTANT, None, f"{text} starts as the same default for every user"
    if isinstance(node, ast.Name | ast.Attribute) and depth < _DEPTH:
        return _name_origin(tree, node, function, depth)
    return Origin.UNKNOWN, None, f"cannot tell where {text} comes from"


def _name_origin(
    tree: Tree, node: ast.Name | ast.Attribute, function: Function | None, depth: int
) -> Found:
    text = dotted(node) or source(node)
    bound = _bound_locally(tree, node) if isinstance(node, ast.Name) else None
    if bound:
        return Origin.UNKNOWN, None, f"{text} is {bound}: its callers decide"
    if isinstance(node, ast.Name) and function is not None:
        default = parameter_default(function, node.id)
        params = {arg.arg for arg in ast.walk(function.args) if isinstance(arg, ast.arg)}
        if default is not None:
            shown = source(default)
            return Origin.PARAMETER_DEFAULT, None, f"{text} defaults to {shown} for every caller"
        if node.id in params and not _assigned_in(function, node.id):
            reason = f"{text} is a parameter of {function.name}(): its callers decide"
            return Origin.UNKNOWN, None, reason
    found = assigned_value(tree, text, function)
    imported = tree.imports.get(text)
    if found is None and imported:
        return Origin.UNKNOWN, None, f"{text} is imported from {imported.rpartition('.')[0]}"
    if found is None:
        return Origin.UNKNOWN, None, f"{text} is not assigned in this module"
    value, scope = found
    origin, inner, reason = _origin(tree, value, scope, depth + 1)
    assignment = f"{text} = {source(value)}"
    if origin is Origin.IDENTITY and inner is not None:
        via = inner.via or inner.expr
        return origin, Identity(text, inner.source, inner.proven, via), f"{assignment}: {reason}"
    return origin, None, f"{assignment}: {reason}"


def _bound_locally(tree: Tree, node: ast.Name) -> str:
    """What binds a name inside its function other than an assignment: a lambda, a loop."""
    for ancestor in tree.ancestors(node):
        if isinstance(ancestor, ast.Lambda) and any(
            arg.arg == node.id for arg in ast.walk(ancestor.args) if isinstance(arg, ast.arg)
        ):
            return "a parameter of a lambda"
        if isinstance(ancestor, ast.For | ast.AsyncFor | ast.comprehension) and any(
            isinstance(t, ast.Name) and t.id == node.id for t in ast.walk(ancestor.target)
        ):
            return "bound by a for loop"
        if isinstance(ancestor, ast.FunctionDef | ast.AsyncFunctionDef):
            return ""
    return ""


def _uuid_origin(tree: Tree, function: Function | None, text: str) -> Found:
    if function is not None:
        return Origin.UUID_PER_CALL, None, f"{text} is new on every call of {function.name}()"
    if is_streamlit(tree):
        return Origin.RERUN, None, f"{text} is new on every Streamlit rerun"
    return Origin.UUID_PER_PROCESS, None, f"{text} is made once per process and shared"


def _fstring_origin(
    tree: Tree, node: ast.JoinedStr, function: Function | None, depth: int
) -> Found:
    parts = [part.value for part in node.values if isinstance(part, ast.FormattedValue)]
    origins = [_origin(tree, part, function, depth + 1) for part in parts]
    # An identity anywhere makes the key per user; else a fresh uuid anywhere makes it new.
    ranked = (Origin.IDENTITY, Origin.UUID_PER_CALL, Origin.RERUN, Origin.UUID_PER_PROCESS)
    for wanted in ranked:
        for origin, identity, reason in origins:
            if origin is wanted:
                return origin, identity, reason
    for origin, _, reason in origins:
        if origin is not Origin.CONSTANT:
            return origin, None, reason
    return Origin.CONSTANT, None, f"{source(node)} is the same for every caller"


def _is_uuid(node: ast.expr) -> bool:
    for inner in ast.walk(node):
        if isinstance(inner, ast.Call):
            name = (dotted(inner.func) or "").rpartition(".")[2]
            if name in _UUIDS:
                return True
    return False


def _is_text_input(call: ast.Call) -> bool:
    name = dotted(call.func) or ""
    return name.endswith("text_input") and (
        len(call.args) > 1 or keyword(call, "value") is not None
    )


def _assigned_in(function: Function, name: str) -> bool:
    return any(
        isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
        for node in ast.walk(function)
    )


def assigned_value(
    tree: Tree, text: str, function: Function | None
) -> tuple[ast.expr, Function | None] | None:
    """The value last assigned to `text` (a name or `self.x`) and the function it is in.

    Looks in `function`, then (for `self.x`) its class, then the module's top level.
    """
    scopes: list[ast.AST] = [function] if function is not None else []
    if text.startswith("self.") and function is not None:
        owner = enclosing_class(tree, function)
        scopes += [owner] if owner is not None else []
    scopes.append(tree.module)
    for scope in scopes:
        found = _last_assignment(tree, scope, text)
        if found is not None:
            return found, enclosing_function(tree, found)
    return None


def _last_assignment(tree: Tree, scope: ast.AST, text: str) -> ast.expr | None:
    found: ast.expr | None = None
    module_level = isinstance(scope, ast.Module)
    for node in ast.walk(scope):
        if not isinstance(node, ast.Assign | ast.AnnAssign) or node.value is None:
            continue
        if module_level and enclosing_function(tree, node) is not None:
            continue
        if module_level and enclosing_class(tree, node) is not None:
            continue  # a class attribute is not a module name
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        if any(dotted(target) == text for target in targets):
            found = node.value
    return found


def configurable(tree: Tree, config: ast.expr, depth: int = 0) -> ast.Dict | None:
    """The `configurable` dict of a config: a literal, `dict(...)`, or a name bound to one."""
    if isinstance(config, ast.Dict):
        for name, value in zip(config.keys, config.values, strict=True):
            if string(name) == "configurable":
                return _as_dict(tree, value, depth)
        return None
    if isinstance(config, ast.Call) and keyword(config, "configurable") is not None:
        return _as_dict(tree, keyword(config, "configurable"), depth)
    if isinstance(config, ast.Name | ast.Attribute) and depth < _DEPTH:
        found = assigned_value(tree, dotted(config) or "", enclosing_function(tree, config))
        return configurable(tree, found[0], depth + 1) if found else None
    return None


def _as_dict(tree: Tree, node: ast.expr | None, depth: int) -> ast.Dict | None:
    if isinstance(node, ast.Dict):
        return node
    if isinstance(node, ast.Name | ast.Attribute) and depth < _DEPTH:
        found = assigned_value(tree, dotted(node) or "", enclosing_function(tree, node))
        return _as_dict(tree, found[0], depth + 1) if found else None
    return None


def config_key(tree: Tree, call: ast.Call, config: ast.expr | None, fields: tuple[str, ...]) -> Key:
    """The key a turn's config selects its conversation with, or why there is none."""
    if config is None:
        return missing_key(tree, call, fields[0])
    found = configurable(tree, config)
    if found is None:
        reason = f"cannot read the configurable of {source(config)}"
        return Key(fields[0], Origin.UNKNOWN, source(config), None, reason, tree.span(config))
    for name, value in zip(found.keys, found.values, strict=True):
        if string(name) in fields:
            return key_of(tree, value, string(name) or fields[0])
    reason = f"configurable has no {' or '.join(fields)}"
    return Key(fields[0], Origin.MISSING, "", None, reason, tree.span(found))
