"""What one entry point is sent: the user's message, the user's identity and fillers.

Read from the function's signature (parameters, FastAPI markers such as `Header(...)`,
pydantic request bodies defined in the module) and from what it reads off the request
(`request.json["message"]`, `data = request.get_json()` then `data.get("user_id")`).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Sequence

from memfix.model.identities import identities_in, is_identity_name
from memfix.model.names import Tree, dotted, source, string
from memfix.model.scopes import Function
from memfix.model.types import Identity
from memfix.verify.types import Argument, Where

MESSAGE_NAMES = (
    *("message", "question", "input", "query", "prompt", "text", "content", "msg"),
    *("user_input", "user_message", "q", "human_input", "user_query", "chat_input"),
)
_MARKERS = {
    "Header": Where.HEADER,
    "Query": Where.QUERY,
    "Cookie": Where.COOKIE,
    "Body": Where.BODY,
    "Form": Where.FORM,
    "Path": Where.PATH,
}
_NOT_SENT = frozenset(
    {"Request", "WebSocket", "BackgroundTasks", "Response", "HTTPConnection", "Session"}
)
_REQUEST_FIELDS = {
    "json": Where.BODY,
    "form": Where.FORM,
    "args": Where.QUERY,
    "query_params": Where.QUERY,
    "values": Where.QUERY,
    "headers": Where.HEADER,
    "cookies": Where.COOKIE,
}
_REQUEST_PARSERS = {"get_json": Where.BODY, "json": Where.BODY, "form": Where.FORM}
_SOURCES = {
    "body": Where.BODY,
    "form": Where.FORM,
    "query": Where.QUERY,
    "header": Where.HEADER,
    "cookie": Where.COOKIE,
    "path": Where.PATH,
}
_FILLERS = {"int": "0", "float": "0.0", "bool": "False", "list": "[]", "dict": "{}"}


def web_arguments(tree: Tree, function: Function, path_names: Sequence[str]) -> list[Argument]:
    """Every value a web route is sent, in the order it reads them, with fillers' values."""
    found: list[Argument] = []
    models = _body_models(tree)
    for arg, default in _parameters(function):
        annotation = _annotation(arg)
        marker = _marker(default)
        if annotation in _NOT_SENT or _is_dependency(default):
            continue
        if arg.arg in path_names:
            found.append(_argument(arg.arg, Where.PATH, annotation))
        elif marker is not None:
            if _required(default):
                found.append(_argument(_alias(default, arg.arg, marker), marker, annotation))
        elif annotation in models:
            found += [_argument(name, Where.BODY, kind) for name, kind in models[annotation]]
        elif default is None:
            found.append(_argument(arg.arg, Where.QUERY, annotation))
    found += [_argument(key, where, "") for where, key in request_reads(function)]
    return _unique(found)


def call_arguments(function: Function) -> list[Argument]:
    """Every value a directly called function is given: its parameters without defaults,
    a Gradio `history` and `request` wherever they are."""
    found: list[Argument] = []
    positional = [*function.args.posonlyargs, *function.args.args]
    for arg, default in _parameters(function):
        if arg.arg in ("self", "cls"):
            continue
        annotation = _annotation(arg)
        if arg.arg in ("history", "chat_history") and arg in positional:
            found.append(Argument(arg.arg, Where.HISTORY))
        elif annotation == "Request" or arg.arg == "request":
            found.append(Argument(arg.arg, Where.REQUEST))
        elif default is None or is_identity_name(arg.arg):
            where = Where.POSITIONAL if arg in positional else Where.KEYWORD
            found.append(_argument(arg.arg, where, annotation))
    return found


def message_of(arguments: Sequence[Argument], identity: Argument | None) -> Argument | None:
    """The argument that carries the user's text: a message-like name, else the first text."""
    free = [
        item
        for item in arguments
        if item != identity and item.where not in (Where.HISTORY, Where.REQUEST)
    ]
    for name in MESSAGE_NAMES:
        for item in free:
            if item.name.lower().replace("-", "_") == name:
                return item
    texts = [item for item in free if item.value in ("", '"test"') and not item.integer]
    return texts[0] if texts else None


def identity_of(
    tree: Tree, function: Function, arguments: Sequence[Argument], key: str = ""
) -> tuple[Argument | None, bool]:
    """The argument that tells users apart, and whether the framework's own session does.

    `key` is the expression the conversation is keyed by, when the model found one.
    """
    identities = list(identities_in(tree, function))
    if key:
        identities.insert(0, Identity(key, "config", False))
    by_client = False
    for identity in identities:
        if identity.source == "framework-session":
            by_client = True
            request = _request_argument(arguments, identity)
            if request is not None:
                return request, True
            continue
        found = _matching(identity, arguments)
        if found is not None:
            return found, by_client
    return None, by_client


def request_reads(function: Function) -> Iterator[tuple[Where, str]]:
    """(where, key) for every `request.json["k"]`, `request.form.get("k")`, `data["k"]`
    read in `function`, where `data` was bound to the request's parsed body."""
    holders = _holders(function)
    for node in ast.walk(function):
        base: ast.AST | None = None
        key: str | None = None
        if isinstance(node, ast.Subscript):
            base, key = node.value, string(node.slice)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and node.args
        ):
            base, key = node.func.value, string(node.args[0])
        if base is None or key is None:
            continue
        where = _where(base, holders)
        if where is not None:
            yield where, key


def _where(base: ast.AST, holders: dict[str, Where]) -> Where | None:
    if isinstance(base, ast.Name):
        return holders.get(base.id)
    if isinstance(base, ast.Await):
        base = base.value
    if isinstance(base, ast.Attribute) and (dotted(base.value) or "").endswith(("request", "req")):
        return _REQUEST_FIELDS.get(base.attr)
    if (
        isinstance(base, ast.Call)
        and isinstance(base.func, ast.Attribute)
        and (dotted(base.func.value) or "").endswith(("request", "req"))
    ):
        return _REQUEST_PARSERS.get(base.func.attr)
    return None


def _holders(function: Function) -> dict[str, Where]:
    holders: dict[str, Where] = {}
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            where = _where(node.value, {})
            if isinstance(target, ast.Name) and where is not None:
                holders[target.id] = where
    return holders


def _matching(identity: Identity, arguments: Sequence[Argument]) -> Argument | None:
    names = [_key_name(identity.expr), _key_name(identity.via) if identity.via else None]
    wanted = _SOURCES.get(identity.source)
    for name in names:
        for item in arguments:
            if name is None or item.name.lower().replace("-", "_") != name.lower():
                continue
            if wanted is None or item.where is wanted or item.where is Where.QUERY:
                return item
            if item.where in (Where.POSITIONAL, Where.KEYWORD):
                return item
    return None


def _request_argument(arguments: Sequence[Argument], identity: Identity) -> Argument | None:
    if not identity.expr.endswith(".session_hash"):
        return None
    for item in arguments:
        if item.where is Where.REQUEST and identity.expr.startswith(item.name + "."):
            return item
    return None


def _key_name(expr: str) -> str | None:
    """`user_id` of `user_id`, `req.user_id`, `request.json['user_id']`, `data.get('user_id')`."""
    try:
        node = ast.parse(expr, mode="eval").body
    except SyntaxError:
        return None
    if isinstance(node, ast.Call) and source(node.func) == "str" and node.args:
        node = node.args[0]
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Subscript):
        return string(node.slice)
    if isinstance(node, ast.Call) and node.args:
        return string(node.args[0])
    return None


def _parameters(function: Function) -> list[tuple[ast.arg, ast.expr | None]]:
    args = function.args
    positional = [*args.posonlyargs, *args.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults))
    paired = list(zip(positional, [*defaults, *args.defaults], strict=True))
    return paired + list(zip(args.kwonlyargs, args.kw_defaults, strict=True))


def _annotation(arg: ast.arg) -> str:
    if arg.annotation is None:
        return ""
    text = dotted(arg.annotation) or source(arg.annotation)
    return text.rpartition(".")[2]


def _marker(default: ast.expr | None) -> Where | None:
    if isinstance(default, ast.Call):
        return _MARKERS.get((dotted(default.func) or "").rpartition(".")[2])
    return None


def _is_dependency(default: ast.expr | None) -> bool:
    if not isinstance(default, ast.Call):
        return False
    return (dotted(default.func) or "").rpartition(".")[2] in ("Depends", "Security")


def _required(default: ast.expr | None) -> bool:
    """`Header(...)` or `Header()` with no default value: the request must carry it."""
    if not isinstance(default, ast.Call):
        return True
    first = default.args[0] if default.args else None
    given = first is not None and not (isinstance(first, ast.Constant) and first.value is ...)
    return not given and not any(
        item.arg in ("default", "default_factory") for item in default.keywords
    )


def _alias(default: ast.expr | None, name: str, where: Where) -> str:
    if isinstance(default, ast.Call):
        for item in default.keywords:
            alias = string(item.value) if item.arg == "alias" else None
            if alias:
                return alias
    # FastAPI reads `user_id: str = Header()` from the `user-id` header.
    return name.replace("_", "-") if where is Where.HEADER else name


def _argument(name: str, where: Where, annotation: str) -> Argument:
    base = annotation.partition("[")[0]
    return Argument(name, where, _FILLERS.get(base, '"test"'), integer=base == "int")


def _body_models(tree: Tree) -> dict[str, list[tuple[str, str]]]:
    """Classes of the module and their required annotated fields: the request bodies."""
    found: dict[str, list[tuple[str, str]]] = {}
    for node in tree.module.body:
        if isinstance(node, ast.ClassDef):
            fields = [
                (item.target.id, dotted(item.annotation) or source(item.annotation))
                for item in node.body
                if isinstance(item, ast.AnnAssign)
                and isinstance(item.target, ast.Name)
                and item.value is None
            ]
            if fields:
                found[node.name] = fields
    return found


def _unique(found: list[Argument]) -> list[Argument]:
    seen: dict[tuple[str, Where], Argument] = {}
    for item in found:
        seen.setdefault((item.name, item.where), item)
    return list(seen.values())
