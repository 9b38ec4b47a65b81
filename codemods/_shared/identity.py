"""Session identity discovery: a stable per-user key already in reach inside a function.

A key is "in reach" when the function receives it (a parameter named like one), reads
it from something it receives (`req.user_id`, `request.json["user_id"]`), or reads it
from per-session framework state (`st.session_state["session_id"]`,
`cl.user_session.get("id")`, a Gradio request's `session_hash`). Nothing is guessed:
a request model's fields count only when the function reads them, or when the model's
class body is visible in the module (`find_identity_in_module`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import libcst as cst
import libcst.matchers as m

from memfix.codemods._shared.find import findall
from memfix.codemods._shared.names import bindings

# Most specific first: a conversation key beats a user key.
IDENTITY_PRIORITY = (
    "session_id",
    "conversation_id",
    "thread_id",
    "chat_id",
    "user_id",
    "client_id",
    "username",
)
_REQUEST_FIELDS = frozenset({"json", "form", "args", "values"})
_GRADIO_REQUEST = frozenset({"gr.Request", "gradio.Request"})
_CODE = cst.Module([])


@dataclass(frozen=True, slots=True)
class Identity:
    """A stable per-user key: Python source usable inside the function, and where it is from."""

    expression: str
    origin: str


def find_identity(function: cst.FunctionDef, *, session_key: str | None = None) -> Identity | None:
    """A stable per-user identity already in reach inside `function`, else None.

    Pure: looks at the function's own node only.
    """
    names = _ranked(session_key)
    params = _parameters(function)
    for name in names:
        param = params.get(name)
        if param is not None and param.default is None:
            return Identity(name, f"parameter {name!r}")
    for param in params.values():
        if param.annotation is not None and _code(param.annotation.annotation) in _GRADIO_REQUEST:
            expression = f"{param.name.value}.session_hash"
            return Identity(expression, f"{expression} of the Gradio request")
    reads = list(_identity_reads(function, set(params), set(names)))
    for name in names:
        for expression, key in reads:
            if key == name:
                return Identity(expression, f"{expression}, read in {function.name.value}()")
    return None


def find_identity_in_module(
    function: cst.FunctionDef, module: cst.Module, *, session_key: str | None = None
) -> Identity | None:
    """`find_identity`, or a field of a parameter's request model defined in `module`.

    `async def chat(req: ChatRequest)` with `class ChatRequest(BaseModel): user_id: str`
    in the same module gives `req.user_id`.
    """
    found = find_identity(function, session_key=session_key)
    if found is not None:
        return found
    models = {
        statement.name.value: _fields(statement)
        for statement in module.body
        if isinstance(statement, cst.ClassDef)
    }
    for name in _ranked(session_key):
        for param in _parameters(function).values():
            annotation = param.annotation.annotation if param.annotation else None
            if isinstance(annotation, cst.Name) and name in models.get(annotation.value, ()):
                expression = f"{param.name.value}.{name}"
                return Identity(expression, f"field {name!r} of {param.name.value}")
    return None


def find_identity_in_request_data(
    function: cst.FunctionDef, *, session_key: str | None = None
) -> Identity | None:
    """A per-user key read from a local that holds the request's data, else None.

    `data = request.get_json()` (Flask) or `body = await request.json()` (Starlette),
    bound once, then `data["user_id"]` or `data.get("user_id")` gives that read.
    """
    holders = _request_data_locals(function)
    reads: list[tuple[str, str]] = []
    for node in findall(function.body, m.Subscript(value=m.Name()) | m.Call()):
        if isinstance(node, cst.Subscript):
            base, key = node.value, _string_index(node)
        elif isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
            base, key = node.func.value, _get_key(node)
        else:
            continue
        if key is not None and isinstance(base, cst.Name) and base.value in holders:
            reads.append((_code(node), key))
    for name in _ranked(session_key):
        for expression, key in reads:
            if key == name:
                return Identity(expression, f"{expression}, read in {function.name.value}()")
    return None


def _request_data_locals(function: cst.FunctionDef) -> set[str]:
    """Locals bound exactly once to the parsed body of the request."""
    params = set(_parameters(function))
    counts, declares_global = bindings([function.body])
    holders: set[str] = set()
    for assign in findall(function.body, m.Assign(targets=[m.AssignTarget(m.Name())])):
        assert isinstance(assign, cst.Assign)
        target = cst.ensure_type(assign.targets[0].target, cst.Name).value
        value = assign.value
        awaited = value.expression if isinstance(value, cst.Await) else None
        func = awaited.func if isinstance(awaited, cst.Call) else None
        parsed = _is_request_data(value) or (
            isinstance(func, cst.Attribute)
            and func.attr.value == "json"
            and _is_param(func.value, params)
        )
        if parsed and counts.get(target) == 1 and not declares_global:
            holders.add(target)
    return holders


def _ranked(session_key: str | None) -> tuple[str, ...]:
    return (session_key, *IDENTITY_PRIORITY) if session_key else IDENTITY_PRIORITY


def _parameters(function: cst.FunctionDef) -> dict[str, cst.Param]:
    params = function.params
    every = [*params.posonly_params, *params.params, *params.kwonly_params]
    return {param.name.value: param for param in every}


def _fields(cls: cst.ClassDef) -> set[str]:
    fields: set[str] = set()
    for statement in cls.body.body:
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                    fields.add(small.target.value)
    return fields


def _identity_reads(
    function: cst.FunctionDef, params: set[str], names: set[str]
) -> Iterator[tuple[str, str]]:
    """(expression, key) for each read of a per-user key in the body, in source order."""
    for node in findall(function.body, m.Attribute() | m.Subscript() | m.Call()):
        key: str | None
        if isinstance(node, cst.Attribute):
            key = node.attr.value
            base = node.value
            if key in names and (_is_param(base, params) or _is_session_state(base)):
                yield _code(node), key
        elif isinstance(node, cst.Subscript):
            key = _string_index(node)
            if key in names and (
                _is_param(node.value, params)
                or _is_request_data(node.value)
                or _is_session_state(node.value)
            ):
                yield _code(node), key
        elif isinstance(node, cst.Call):
            key = _get_key(node)
            func = node.func
            if key == "id" and isinstance(func, cst.Attribute) and _is_user_session(func.value):
                key = "session_id"  # Chainlit's own id of the chat session
            if (
                key in names
                and isinstance(func, cst.Attribute)
                and (_is_request_data(func.value) or _is_user_session(func.value))
            ):
                yield _code(node), key


def _is_param(node: cst.BaseExpression, params: set[str]) -> bool:
    return isinstance(node, cst.Name) and node.value in params


def _is_request_data(node: cst.BaseExpression) -> bool:
    """`request.json`, `request.form`, `request.args`, `request.values`, `request.get_json()`."""
    if isinstance(node, cst.Call):
        return m.matches(node.func, m.Attribute(value=m.Name("request"), attr=m.Name("get_json")))
    return (
        isinstance(node, cst.Attribute)
        and m.matches(node.value, m.Name("request"))
        and node.attr.value in _REQUEST_FIELDS
    )


def _is_session_state(node: cst.BaseExpression) -> bool:
    return m.matches(node, m.Attribute(attr=m.Name("session_state")))


def _is_user_session(node: cst.BaseExpression) -> bool:
    return m.matches(node, m.Attribute(attr=m.Name("user_session")))


def _string_index(node: cst.Subscript) -> str | None:
    if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
        return None
    value = node.slice[0].slice.value
    return _string(value)


def _get_key(call: cst.Call) -> str | None:
    if not m.matches(call.func, m.Attribute(attr=m.Name("get"))) or not call.args:
        return None
    return _string(call.args[0].value)


def _string(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def _code(node: cst.CSTNode) -> str:
    return _CODE.code_for_node(node)
