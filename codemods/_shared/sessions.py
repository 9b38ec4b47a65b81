"""A per-session home for conversation state: factories keyed by an identity, Streamlit guards.

Shared by `per-call-state` (state rebuilt on every request) and `shared-global-state`
(state every user shares). Both end with the state in one of two places: a module-level
dict of sessions behind `get_session_<name>(session_id)`, called with an identity the
handler already has, or Streamlit's `st.session_state`, filled once per browser session.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from functools import partial

import libcst as cst
import libcst.matchers as m

from memfix.codemods._shared.edits import is_docstring, leading_lines, without_blank_lines
from memfix.codemods._shared.find import findall
from memfix.codemods._shared.identity import IDENTITY_PRIORITY, Identity, find_identity_in_module
from memfix.codemods._shared.names import bindings, names_read, parameter_names
from memfix.codemods._shared.new_parameter import callers, is_plain_or_route, with_parameter

QualifiedNames = Callable[[cst.CSTNode], set[str]]

# Methods that run one turn and give back an answer, not the chain.
TURN_METHODS = frozenset(
    {
        "invoke",
        "ainvoke",
        "run",
        "arun",
        "predict",
        "apredict",
        "call",
        "acall",
        "stream",
        "astream",
        "batch",
        "abatch",
        "predict_messages",
        "__call__",
    }
)

_CODE = cst.Module([])
_ROUTED = frozenset({"fastapi", "starlette", "litestar", "langserve"})
_GRADIO_EVENTS = frozenset({"submit", "click", "change", "then", "input", "upload"})
_FLASK_FIELDS = ("json", "form", "args", "values")
# Where Django, DRF and Starlette-like request objects keep the fields a client sent.
_REQUEST_DATA = ("data", "POST", "GET", "query_params", "json", "form", "args", "values")


@dataclass(frozen=True, slots=True)
class NewIdentity:
    """An identity a handler could be given: its clients must then send it (an unsafe fix)."""

    expression: str
    signature: Callable[[cst.FunctionDef], cst.FunctionDef] | None  # a new parameter
    origin: str


def hands_on(expression: cst.BaseExpression, state: set[str]) -> bool:
    """Whether evaluating `expression` gives out the state itself or something holding it.

    `chain.invoke(x)["response"]` gives out an answer; `chain`, `(chain, memory)`,
    `Wrapper(memory)`, `chain | parser` and `chain.with_config()` give out the state.
    """
    if isinstance(expression, cst.Name):
        return expression.value in state
    if isinstance(expression, cst.Await):
        return hands_on(expression.expression, state)
    if isinstance(expression, cst.Attribute | cst.Subscript):
        return hands_on(expression.value, state)
    if isinstance(expression, cst.BinaryOperation):
        return hands_on(expression.left, state) or hands_on(expression.right, state)
    if isinstance(expression, cst.Tuple | cst.List | cst.Set):
        return any(hands_on(element.value, state) for element in expression.elements)
    if isinstance(expression, cst.Dict):
        return any(
            isinstance(element, cst.DictElement) and hands_on(element.value, state)
            for element in expression.elements
        )
    if isinstance(expression, cst.Call):
        func = expression.func
        if isinstance(func, cst.Name) and func.value in state:
            return False  # `chain(x)`: one turn
        if (
            isinstance(func, cst.Attribute)
            and isinstance(func.value, cst.Name)
            and func.value.value in state
        ):
            return func.attr.value not in TURN_METHODS
        return any(hands_on(arg.value, state) for arg in expression.args)
    return False


def hands_on_or_closes_over(expression: cst.BaseExpression, state: set[str]) -> bool:
    """`hands_on`, or the value is built with a lambda that reads the state."""
    if hands_on(expression, state):
        return True
    return any(
        names_read(cst.ensure_type(lam, cst.Lambda).body) & state
        for lam in findall(expression, m.Lambda())
    )


def dependents(
    name: str, index: int, assigned: dict[int, tuple[str, cst.BaseExpression]]
) -> set[str]:
    """`name` and the names assigned after it from values that hold it (its chain)."""
    state = {name}
    for later, (other, value) in sorted(assigned.items()):
        if later > index and hands_on_or_closes_over(value, state):
            state.add(other)
    return state


def session_factory(
    function: str, store: str, setup: Sequence[cst.BaseStatement], value: cst.BaseExpression
) -> list[cst.BaseStatement]:
    """`store = {}` and `def function(session_id: str)` that builds `value` once per session.

    `setup` runs before `value` is built, inside the same `if`: the statements a chain
    needs to make its own memory for the session.
    """
    template = cst.parse_module(
        f"{store} = {{}}\n\n\n"
        f"def {function}(session_id: str):\n"
        f"    if session_id not in {store}:\n"
        f"        {store}[session_id] = None\n"
        f"    return {store}[session_id]\n"
    )
    dict_line, definition = template.body
    definition = cst.ensure_type(definition, cst.FunctionDef)
    block = cst.ensure_type(definition.body, cst.IndentedBlock)
    guard = cst.ensure_type(block.body[0], cst.If)
    line = cst.ensure_type(
        cst.ensure_type(guard.body, cst.IndentedBlock).body[0], cst.SimpleStatementLine
    )
    assign = cst.ensure_type(line.body[0], cst.Assign)
    store_it = line.with_changes(body=[assign.with_changes(value=value)])
    setup_lines = [without_blank_lines(s) for s in setup]
    guard = guard.with_changes(body=guard.body.with_changes(body=[*setup_lines, store_it]))
    definition = definition.with_changes(body=block.with_changes(body=[guard, *block.body[1:]]))
    return [dict_line, definition]


def factory_value(function: cst.FunctionDef) -> str | None:
    """The code a `session_factory`-shaped function builds per session, else None."""
    block = function.body
    if not isinstance(block, cst.IndentedBlock) or not block.body:
        return None
    guard = block.body[0]
    if not isinstance(guard, cst.If) or not isinstance(guard.body, cst.IndentedBlock):
        return None
    last = guard.body.body[-1]
    if not m.matches(last, m.SimpleStatementLine([m.Assign([m.AssignTarget(m.Subscript())])])):
        return None
    assign = cst.ensure_type(cst.ensure_type(last, cst.SimpleStatementLine).body[0], cst.Assign)
    setup = "".join(_CODE.code_for_node(s) for s in guard.body.body[:-1])
    return setup + _CODE.code_for_node(assign.value)


def keyed(statement: cst.BaseStatement, call: str) -> cst.BaseStatement:
    """`name = <anything>` made `name = <call>`, its comments and annotation kept."""
    line = cst.ensure_type(statement, cst.SimpleStatementLine)
    small = line.body[0]
    assert isinstance(small, cst.Assign | cst.AnnAssign)
    return line.with_changes(body=[small.with_changes(value=cst.parse_expression(call))])


def insert_first(function: cst.FunctionDef, statement: cst.BaseStatement) -> cst.FunctionDef:
    """`function` with `statement` as its first statement after the docstring."""
    block = cst.ensure_type(function.body, cst.IndentedBlock)
    body = list(block.body)
    at = 1 if body and is_docstring(body[0]) else 0
    if at < len(body):
        first = body[at]
        statement = statement.with_changes(leading_lines=leading_lines(first))
        body[at] = first.with_changes(leading_lines=[])
    body.insert(at, statement)
    return function.with_changes(body=block.with_changes(body=body))


def streamlit_guard(
    streamlit: str, key: str, statement: cst.BaseStatement
) -> list[cst.BaseStatement]:
    """`name = value` made once per browser session, in `st.session_state`.

    `if "key" not in st.session_state: st.session_state.key = value`, then
    `name = st.session_state.key`, so the rest of the script is unchanged.
    """
    line = cst.ensure_type(statement, cst.SimpleStatementLine)
    small = line.body[0]
    assert isinstance(small, cst.Assign | cst.AnnAssign)
    assert small.value is not None
    name = _CODE.code_for_node(
        small.targets[0].target if isinstance(small, cst.Assign) else small.target
    )
    state = f"{streamlit}.session_state"
    template = cst.parse_module(
        f'if "{key}" not in {state}:\n    {state}.{key} = None\n{name} = {state}.{key}\n'
    )
    guard, alias = template.body
    guard = cst.ensure_type(guard, cst.If)
    inner = cst.ensure_type(
        cst.ensure_type(guard.body, cst.IndentedBlock).body[0], cst.SimpleStatementLine
    )
    store = cst.ensure_type(inner.body[0], cst.Assign).with_changes(value=small.value)
    guard = guard.with_changes(
        body=guard.body.with_changes(body=[inner.with_changes(body=[store])]),
        leading_lines=line.leading_lines,
    )
    return [guard, alias]


def streamlit_name(module: cst.Module) -> str | None:
    """The name the module imports Streamlit as (`import streamlit as st` -> `st`)."""
    return _import_alias(module, "streamlit")


def session_state_keys(module: cst.Module) -> set[str]:
    """Keys the module already reads or writes in `<x>.session_state` (attribute or string)."""
    keys: set[str] = set()
    state = m.Attribute(attr=m.Name("session_state"))
    for node in findall(module, m.Attribute(value=state) | m.Subscript(value=state)):
        if isinstance(node, cst.Attribute):
            keys.add(node.attr.value)
        elif isinstance(node, cst.Subscript):
            index = node.slice[0].slice
            if isinstance(index, cst.Index) and isinstance(index.value, cst.SimpleString):
                value = index.value.evaluated_value
                keys.add(value if isinstance(value, str) else "")
    for node in findall(module, m.Comparison()):
        for target in cst.ensure_type(node, cst.Comparison).comparisons:
            if isinstance(target.operator, cst.In | cst.NotIn):
                left = cst.ensure_type(node, cst.Comparison).left
                if isinstance(left, cst.SimpleString) and isinstance(left.evaluated_value, str):
                    keys.add(left.evaluated_value)
    return keys


def session_identity(
    function: cst.FunctionDef,
    module: cst.Module,
    qualified: QualifiedNames,
    *,
    session_key: str | None,
) -> Identity | None:
    """An identity in reach in a handler: `identity`'s, or Chainlit's own chat session id.

    Every Chainlit callback runs inside one chat session, so `cl.user_session.get("id")`
    is in reach there even when the callback does not read it yet.
    """
    found = find_identity_in_module(function, module, session_key=session_key)
    if found is not None:
        return found
    found = _request_field(function, session_key)
    if found is not None:
        return found
    for decorator in function.decorators:
        node = decorator.decorator
        func = node.func if isinstance(node, cst.Call) else node
        if isinstance(func, cst.Attribute) and any(
            name.startswith("chainlit.") for name in qualified(func)
        ):
            expression = f'{_CODE.code_for_node(func.value)}.user_session.get("id")'
            return Identity(expression, "Chainlit's chat session id")
    return None


def new_identity(
    function: cst.FunctionDef,
    module: cst.Module,
    qualified: QualifiedNames,
    name: str,
    frameworks: Collection[str],
) -> NewIdentity | None:
    """The identity a handler with none in reach could read, and how its signature changes.

    A FastAPI route gets a `name: str` (query) parameter, a Flask route reads the field
    from the request body it already reads, a Gradio callback gets `request: gr.Request`.
    `frameworks` are the web frameworks the module imports. None for anything else, and
    when a caller in the module would need updating.
    """
    taken = parameter_names(function.params) | set(bindings([function.body])[0])
    if "flask" in frameworks and function.decorators:
        reads = [
            node.attr.value
            for node in findall(function.body, m.Attribute(value=m.Name("request")))
            if isinstance(node, cst.Attribute) and "flask.request" in qualified(node.value)
        ]
        field = next((f for f in _FLASK_FIELDS if f in reads), "json" if reads else None)
        if field is None:
            return None
        expression = f'request.{field}["{name}"]'
        return NewIdentity(expression, None, f"a new {name!r} field of the request")
    if not _ROUTED.isdisjoint(frameworks) and function.decorators and is_plain_or_route(function):
        if name in taken or callers(module, function, method=False) != []:
            return None
        return NewIdentity(name, partial(with_parameter, name=name), f"a new parameter {name!r}")
    gradio = _import_alias(module, "gradio")
    if gradio and _is_gradio_callback(module, function, qualified) and "request" not in taken:
        params = function.params
        if params.star_arg is not cst.MaybeSentinel.DEFAULT or params.kwonly_params:
            return None
        if any(p.default is not None for p in params.params) or params.star_kwarg:
            return None
        return NewIdentity(
            "request.session_hash",
            partial(_with_request, annotation=f"{gradio}.Request"),
            "a new Gradio request parameter",
        )
    return None


def _with_request(function: cst.FunctionDef, annotation: str) -> cst.FunctionDef:
    new = cst.Param(cst.Name("request"), cst.Annotation(cst.parse_expression(annotation)))
    params = function.params
    return function.with_changes(params=params.with_changes(params=[*params.params, new]))


def _is_gradio_callback(
    module: cst.Module, function: cst.FunctionDef, qualified: QualifiedNames
) -> bool:
    """The function is handed to Gradio: `gr.ChatInterface(fn)`, `.submit(fn, ...)`."""
    name = function.name.value
    for node in findall(module, m.Call()):
        call = cst.ensure_type(node, cst.Call)
        handed = any(
            m.matches(arg.value, m.Name(name))
            and (arg.keyword is None or arg.keyword.value == "fn")
            for arg in call.args
        )
        if not handed:
            continue
        func = call.func
        if any(q.startswith("gradio.") for q in qualified(func)):
            return True
        if isinstance(func, cst.Attribute) and func.attr.value in _GRADIO_EVENTS:
            return True
    return False


def _import_alias(module: cst.Module, package: str) -> str | None:
    for statement in module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if not isinstance(small, cst.Import):
                continue
            for alias in small.names:
                if m.matches(alias.name, m.Name(package)):
                    if alias.asname is None:
                        return package
                    return _CODE.code_for_node(alias.asname.name)
    return None


def _request_field(function: cst.FunctionDef, session_key: str | None) -> Identity | None:
    """`request.data["user_id"]`, `request.POST["session_id"]`: a field of the request a
    Django view or a DRF `APIView` method receives as a parameter.

    Only the subscript counts: `.get("user_id")` gives None to every client that omits
    it, and None would be one session shared by all of them.
    """
    params = parameter_names(function.params)
    keys = (session_key, *IDENTITY_PRIORITY) if session_key else IDENTITY_PRIORITY
    holder = m.Attribute(
        value=m.OneOf(*map(m.Name, sorted(params))), attr=m.OneOf(*map(m.Name, _REQUEST_DATA))
    )
    reads: dict[str, str] = {}
    for node in findall(function.body, m.Subscript(value=holder)):
        subscript = cst.ensure_type(node, cst.Subscript)
        index = subscript.slice[0].slice if len(subscript.slice) == 1 else None
        key = index.value if isinstance(index, cst.Index) else None
        value = key.evaluated_value if isinstance(key, cst.SimpleString) else None
        if isinstance(value, str):
            reads.setdefault(value, _CODE.code_for_node(subscript))
    for name in keys:
        if name in reads:
            return Identity(reads[name], f"{reads[name]}, read in {function.name.value}()")
    return None


def is_streamlit_cache(decorator: cst.Decorator, qualified: QualifiedNames) -> bool:
    """`@st.cache_resource` or `@st.cache_resource(...)` (or the old `experimental_singleton`)."""
    node = decorator.decorator
    func = node.func if isinstance(node, cst.Call) else node
    return bool(qualified(func) & {"streamlit.cache_resource", "streamlit.experimental_singleton"})
