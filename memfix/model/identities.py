"""The per-user values in reach inside one function, and where each comes from.

A value counts when the function receives it (a parameter named like an identity, a
field of its request model), reads it from the request (`request.json["user_id"]`, a
local bound to `request.get_json()`), from a framework's per-user session (Flask
`session`, Django `request.session`/`request.user`, `st.session_state`,
`cl.user_session`, a Gradio request's `session_hash`) or from a bot's update
(`update.effective_chat.id`, Slack `event["channel"]`). `proven` marks the values a
framework guarantees per user or chat; the rest are guesses from a name.
"""

from __future__ import annotations

import ast

from memfix.model.names import Tree, dotted, source, string
from memfix.model.scopes import Function, enclosing_function
from memfix.model.types import Identity
from memfix.vocabulary import IDENTITY_NAMES

_PREFIXES = frozenset(
    {"user", "session", "thread", "conversation", "chat", "client", "customer", "employee"}
    | {"guest", "member", "account", "sender", "channel", "author", "room", "device"}
)
_REQUEST_FIELDS = {
    "json": "body",
    "data": "body",
    "form": "form",
    "POST": "form",
    "args": "query",
    "GET": "query",
    "query_params": "query",
    "values": "query",
    "headers": "header",
    "cookies": "cookie",
    "COOKIES": "cookie",
    "path_params": "path",
}
_REQUEST_PARSERS = {"get_json": "body", "json": "body", "form": "form"}
_BOT_TAILS = (
    *(".effective_chat.id", ".effective_user.id", ".chat.id", ".chat_id", ".from_user.id"),
    *(".author.id", ".channel.id", ".user.id", ".guild.id"),
)
_SLACK_FIELDS = frozenset({"channel", "user", "thread_ts", "channel_id", "user_id", "team"})
_SLACK_HOLDERS = frozenset({"event", "message", "body", "command", "payload", "say_event"})
_FASTAPI_MARKERS = {"Header": "header", "Query": "query", "Cookie": "cookie", "Path": "path"}
_DJANGO_USER = frozenset({"id", "pk", "username", "email"})


def is_identity_name(name: str) -> bool:
    """Whether a name reads like a per-user or per-conversation id."""
    if name in IDENTITY_NAMES or name in ("thread_ts", "uid", "session_key", "session_hash"):
        return True
    head, _, tail = name.partition("_")
    return tail in ("id", "ts", "key", "hash") and head in _PREFIXES


class Reach:
    """Reads identities inside one function (or a module's top level for None)."""

    def __init__(self, tree: Tree, function: Function | None) -> None:
        self.tree = tree
        self.function = function
        self.params: dict[str, ast.arg] = _parameters(function) if function else {}
        self.models = _request_models(tree)
        self.holders = _data_holders(tree, function, set(self.params))

    def identity(self, node: ast.AST) -> Identity | None:
        """The identity `node` reads, or None when it reads none."""
        if isinstance(node, ast.Await):
            return self.identity(node.value)
        if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):
            return self.identity(node.values[0])  # `x or str(uuid4())`: x when given
        if isinstance(node, ast.Call) and source(node.func) == "str" and node.args:
            return self.identity(node.args[0])
        if isinstance(node, ast.Name):
            return self._parameter(node.id)
        if isinstance(node, ast.Attribute):
            return self._attribute(node)
        if isinstance(node, ast.Subscript):
            return self._keyed(node.value, string(node.slice), node)
        func = node.func if isinstance(node, ast.Call) else None
        if isinstance(node, ast.Call) and isinstance(func, ast.Attribute) and node.args:
            return (
                self._keyed(func.value, string(node.args[0]), node) if func.attr == "get" else None
            )
        return None

    def _parameter(self, name: str) -> Identity | None:
        param = self.params.get(name)
        if param is None or not is_identity_name(name):
            return None
        marker = _marker(self.function, name) if self.function else None
        if marker is not None:
            return Identity(name, marker, False)
        if self.function is not None and _has_default(self.function, name):
            return None
        in_path = self.function is not None and _in_route_path(self.function, name)
        return Identity(name, "path" if in_path else "parameter", False)

    def _attribute(self, node: ast.Attribute) -> Identity | None:
        text = dotted(node) or ""
        root = text.partition(".")[0]
        if node.attr == "session_hash":
            return Identity(text, "framework-session", True)
        if text.endswith(("request.session.session_key", "context.session.id")):
            return Identity(text, "framework-session", True)
        if text.startswith("request.user.") and node.attr in _DJANGO_USER:
            return Identity(text, "framework-session", True)
        if root in self.params and text.endswith(_BOT_TAILS):
            return Identity(text, "bot-chat", True)
        if text.rpartition(".")[0].endswith("session_state") and is_identity_name(node.attr):
            return Identity(text, "framework-session", True)
        if isinstance(node.value, ast.Name) and root in self.params and is_identity_name(node.attr):
            annotated = self.params[root].annotation is not None
            return Identity(text, "body" if annotated else "parameter", False)
        return None

    def _keyed(self, base: ast.AST, raw: str | None, node: ast.AST) -> Identity | None:
        if raw is None:
            return None
        # Headers and form fields spell names their own way: `X-Session-Id` is session_id.
        key = raw.lower().replace("-", "_").removeprefix("x_")
        text = source(node)
        where = self._where(base)
        if where == "framework-session" and (is_identity_name(key) or key == "id"):
            return Identity(text, where, True)
        if where in ("bot-chat",) and key in _SLACK_FIELDS:
            return Identity(text, where, True)
        if where and where not in ("framework-session", "bot-chat") and is_identity_name(key):
            return Identity(text, where, False)
        return None

    def _where(self, base: ast.AST) -> str:
        """What a subscripted or `.get`-read object is: session, request data, bot event."""
        text = dotted(base) or ""
        if text.endswith(("session_state", "user_session", "request.session")):
            return "framework-session"
        if isinstance(base, ast.Name) and self.tree.imports.get(base.id) == "flask.session":
            return "framework-session"
        if isinstance(base, ast.Name) and base.id in self.holders:
            return self.holders[base.id]
        if isinstance(base, ast.Attribute) and base.attr in _REQUEST_FIELDS:
            owner = (dotted(base.value) or "").rpartition(".")[2]
            return _REQUEST_FIELDS[base.attr] if owner in ("request", "req", *self.params) else ""
        if isinstance(base, ast.Call) and isinstance(base.func, ast.Attribute):
            return _REQUEST_PARSERS.get(base.func.attr, "")
        if isinstance(base, ast.Name) and base.id in _SLACK_HOLDERS and base.id in self.params:
            return "bot-chat"
        if isinstance(base, ast.Subscript) and string(base.slice) == "event":
            return "bot-chat"
        return ""


def identities_in(tree: Tree, function: Function | None) -> tuple[Identity, ...]:
    """Every identity in reach inside `function` (the module's top level for None)."""
    reach = Reach(tree, function)
    found: dict[str, Identity] = {}
    for name in reach.params:
        identity = reach._parameter(name)
        if identity is not None:
            found.setdefault(identity.expr, identity)
    for name, model_fields in _model_params(reach):
        for field in model_fields:
            found.setdefault(f"{name}.{field}", Identity(f"{name}.{field}", "body", False))
    for node in _own_nodes(tree, function):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            local = _local_identity(reach, node)
            if local is not None:
                found.setdefault(local.expr, local)
        elif isinstance(node, ast.Attribute | ast.Subscript | ast.Call):
            identity = reach.identity(node)
            if identity is not None:
                found.setdefault(identity.expr, identity)
    return tuple(found.values())


def _local_identity(reach: Reach, node: ast.Assign) -> Identity | None:
    target = node.targets[0]
    if not isinstance(target, ast.Name):
        return None
    read = reach.identity(node.value)
    if read is None:
        return None
    return Identity(target.id, read.source, read.proven, via=read.expr)


def _own_nodes(tree: Tree, function: Function | None) -> list[ast.AST]:
    """The nodes of a function's body, or of the module outside every function."""
    root: ast.AST = function if function is not None else tree.module
    return [
        node
        for node in ast.walk(root)
        if node is not root and enclosing_function(tree, node) is function
    ]


def _parameters(function: Function) -> dict[str, ast.arg]:
    args = function.args
    return {arg.arg: arg for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs]}


def _defaults(function: Function) -> dict[str, ast.expr]:
    args = function.args
    positional = [*args.posonlyargs, *args.args]
    paired = zip(positional[len(positional) - len(args.defaults) :], args.defaults, strict=True)
    found = {arg.arg: value for arg, value in paired}
    for arg, value in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        if value is not None:
            found[arg.arg] = value
    return found


def parameter_default(function: Function, name: str) -> ast.expr | None:
    """The default value of parameter `name`, None when it has none."""
    return _defaults(function).get(name)


def _has_default(function: Function, name: str) -> bool:
    return name in _defaults(function)


def _marker(function: Function, name: str) -> str | None:
    """`header` for `user_id: str = Header(...)` and the like (FastAPI's parameter markers)."""
    default = _defaults(function).get(name)
    if isinstance(default, ast.Call):
        return _FASTAPI_MARKERS.get((dotted(default.func) or "").rpartition(".")[2])
    return None


def _in_route_path(function: Function, name: str) -> bool:
    for decorator in function.decorator_list:
        if isinstance(decorator, ast.Call) and decorator.args:
            path = string(decorator.args[0]) or ""
            if "{" + name + "}" in path or "<" + name + ">" in path or f":{name}>" in path:
                return True
    return False


def _request_models(tree: Tree) -> dict[str, tuple[str, ...]]:
    """Classes of the module with annotated identity-like fields (pydantic request bodies)."""
    found: dict[str, tuple[str, ...]] = {}
    for node in tree.module.body:
        if isinstance(node, ast.ClassDef):
            fields = tuple(
                item.target.id
                for item in node.body
                if isinstance(item, ast.AnnAssign)
                and isinstance(item.target, ast.Name)
                and is_identity_name(item.target.id)
            )
            if fields:
                found[node.name] = fields
    return found


def _model_params(reach: Reach) -> list[tuple[str, tuple[str, ...]]]:
    found: list[tuple[str, tuple[str, ...]]] = []
    for name, param in reach.params.items():
        annotation = param.annotation
        if isinstance(annotation, ast.Name) and annotation.id in reach.models:
            found.append((name, reach.models[annotation.id]))
    return found


def _data_holders(tree: Tree, function: Function | None, params: set[str]) -> dict[str, str]:
    """Locals bound to the request's parsed data: `data = request.get_json()`."""
    holders: dict[str, str] = {}
    if function is None:
        return holders
    for node in ast.walk(function):
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1):
            continue
        target, value = node.targets[0], node.value
        if isinstance(value, ast.Await):
            value = value.value
        kind = ""
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute):
            base = dotted(value.func.value) or ""
            if base in params or base.endswith("request"):
                kind = _REQUEST_PARSERS.get(value.func.attr, "")
        elif (
            isinstance(value, ast.Attribute)
            and value.attr in _REQUEST_FIELDS
            and (dotted(value.value) or "") in params | {"request"}
        ):
            kind = _REQUEST_FIELDS[value.attr]
        if kind and isinstance(target, ast.Name):
            holders[target.id] = kind
    return holders
