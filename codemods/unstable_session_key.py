"""A conversation is keyed by a value that changes every call, or that every user shares.

## What it does
Follows the value that reaches `config={"configurable": {"session_id": ...}}` (or
`thread_id` for LangGraph, or a chat history's `session_id=`) in `invoke`, `ainvoke`,
`stream`, `astream`, `batch` and `with_config`, through local variables and one level of
dict construction, to where it is made. It reports a fresh `uuid4()` (or `uuid1()`,
`secrets.token_hex()`, `time.time()`) made on every call, a uuid made once per process,
a constant, a parameter's default, and a Streamlit `st.session_state.session_id` that
is re-assigned on every rerun. It replaces the key by a stable identity already in
reach (a `user_id` or `session_id` parameter, a request field, `gr.Request.session_hash`)
and guards the Streamlit assignment with `if "session_id" not in st.session_state:`.

## Why is this bad?
The history is found by its key. A new key on every call starts a new, empty history
for every turn: the chatbot forgets. A key shared by every user (a constant, a default,
a uuid made at import) puts every user into one conversation, and a per-process uuid
loses it on every restart.

## Example
```python
def reply(user_id: str, message: str) -> str:
    config = {"configurable": {"session_id": str(uuid.uuid4())}}
    return chat.invoke({"input": message}, config=config).content
```
Use instead:
```python
def reply(user_id: str, message: str) -> str:
    config = {"configurable": {"session_id": user_id}}
    return chat.invoke({"input": message}, config=config).content
```

## Fix safety
Safe when an identity is already in reach, and for the Streamlit guard: no signature
changes. When no identity is in reach, the fix adds a `session_id: str` parameter to
the enclosing function (a query parameter of a FastAPI route; for a Flask route, the
`session_id` field of the request) and passes it from the callers in the same module;
for a parameter default, it removes the default and passes an identity from the
callers that relied on it. These change a signature: they are unsafe, reported as such,
and applied only with `--unsafe-fixes`. The codemod stays silent for a uuid used as a
message or record id, for `req.session_id or str(uuid4())`, for a Streamlit assignment
already guarded, and for a key made once before a loop (a command-line chat). It
reports without rewriting a key used at module level, or when a caller has no
identity to pass.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import libcst as cst
import libcst.matchers as m
from libcst.metadata import QualifiedNameProvider, QualifiedNameSource

from codemods._identity import IDENTITY_NAMES, Identity, find_identity_in_module
from codemods._langchain import class_of_call, web_frameworks
from codemods._new_parameter import (
    callers,
    default_removable,
    is_plain_or_route,
    passes,
    with_keyword,
    with_parameter,
    without_default,
)
from codemods._session_keys import (
    KeyUse,
    Origin,
    Scope,
    Tracer,
    Unstable,
    config_argument,
    key_values,
)
from codemods._streamlit_keys import StreamlitPlan, unguarded_session_state
from memfix.codemod import Codemod, Fix, Invalid, Valid
from memfix.results import Fix as FixKind

Edit = Callable[[cst.CSTNode], cst.CSTNode | cst.RemovalSentinel]

_IMPORTS = (
    "import uuid\n"
    "from langchain_core.runnables.history import RunnableWithMessageHistory\n\n"
    "chat = RunnableWithMessageHistory(runnable, get_history)\n\n\n"
)


def _reply(params: str, key: str, extra: str = "") -> str:
    return (
        f"{_IMPORTS}def reply({params}):\n{extra}"
        f'    config = {{"configurable": {{"session_id": {key}}}}}\n'
        '    return chat.invoke({"input": message}, config=config)\n'
    )


class UnstableSessionKey(Codemod):
    NAME = "unstable-session-key"
    MESSAGE = "session key {key!r} {problem}"
    FIX = Fix.SAFE
    VOCABULARY = (b"configurable", b"ChatMessageHistory", b"session_state")
    METADATA_DEPENDENCIES = (QualifiedNameProvider,)

    VALID = [
        Valid(_reply("user_id: str, message: str", "user_id")),
        # A uuid for the message, the key from the caller: correct.
        Valid(_reply("session_id: str, message: str", "session_id", "    msg_id = uuid.uuid4()\n")),
        Valid(_reply("req, message: str", "req.session_id or str(uuid.uuid4())")),
    ]
    INVALID = [
        Invalid(
            _reply("user_id: str, message: str", "str(uuid.uuid4())"),
            expected=_reply("user_id: str, message: str", "user_id"),
        ),
        Invalid(
            _reply("message: str", '"abc123"'),
            expected=_reply("message: str, session_id: str", "session_id"),
            flags=("--unsafe-fixes",),
        ),
        # No identity in reach: the fix would change the signature.
        Invalid(_reply("message: str", "str(uuid.uuid4())"), expected=None),
    ]

    def visit_Module(self, node: cst.Module) -> bool:
        self.edits: dict[cst.CSTNode, list[Edit]] = {}
        self.module = node
        self.web = bool(web_frameworks(node))
        self.keys = IDENTITY_NAMES | {self.context.settings.session_key or "session_id"}
        self.session_name = self.context.settings.session_key or "session_id"
        self.tracer = Tracer(node, self._qualified)
        self.with_param: set[cst.FunctionDef] = set()
        finder = _KeyUses(self)
        node.visit(finder)
        self.scopes = finder.scopes
        seen: set[int] = set()
        for use in finder.uses:
            if id(use.value) in seen:
                continue
            seen.add(id(use.value))
            scope = finder.scopes[use.function] if use.function else self.tracer.module_scope
            found = self.tracer.trace(use, scope)
            if found is None or self._allowed(use, found):
                continue
            self._plan(use, found, finder.methods)
        for plan in unguarded_session_state(node, self._qualified, self.tracer, self.keys):
            self._plan_streamlit(plan)
        return True  # decided here, on the original nodes; edited in on_leave

    def on_leave(  # type: ignore[override]
        self, original_node: cst.CSTNode, updated_node: cst.CSTNode
    ) -> cst.CSTNode | cst.RemovalSentinel:
        result = super().on_leave(original_node, updated_node)
        for edit in self.edits.get(original_node, ()):
            if not isinstance(result, cst.CSTNode):
                break
            result = edit(result)
        return result  # type: ignore[return-value]

    def report_kind(
        self, node: cst.CSTNode, message: str, *, fixed: bool, kind: FixKind = Fix.SAFE
    ) -> bool:
        """`report`, with the fix safety of this one finding."""
        if not self.report(node, message, fixed=fixed):
            return False
        self.findings[-1] = replace(self.findings[-1], fix=kind)
        return True

    def _qualified(self, node: cst.CSTNode) -> set[str]:
        names = self.get_metadata(QualifiedNameProvider, node, set())
        return {n.name for n in names if n.source is QualifiedNameSource.IMPORT}

    def _allowed(self, use: KeyUse, found: Unstable) -> bool:
        """Keys that are fine where they are used."""
        if use.function is None:
            # A script's module-level run: one conversation per run, unless a web page.
            return not self.web and found.origin is not Origin.PER_CALL
        return found.origin is Origin.PER_CALL and use.function.name.value == "main"

    def _message(self, use: KeyUse, found: Unstable) -> str:
        where = f"{use.function.name.value}()" if use.function else "the module"
        problem = {
            Origin.PER_CALL: f"is a new {found.text} on every run of {where}, "
            "so every turn starts an empty history",
            Origin.PER_PROCESS: f"is {found.text}, made once per process: every user "
            "shares one history, and it changes on restart",
            Origin.CONSTANT: f"is the constant {found.text}: every user shares one history",
            Origin.DEFAULT: f"comes from the default {found.text} of parameter "
            f"{found.param.name.value if found.param else ''!r} of {where}: every caller "
            "that omits it shares one history",
        }[found.origin]
        return self.MESSAGE.format(key=use.key, problem=problem)

    def _edit(self, node: cst.CSTNode, edit: Edit) -> None:
        self.edits.setdefault(node, []).append(edit)

    def _plan(self, use: KeyUse, found: Unstable, methods: set[cst.FunctionDef]) -> None:
        message = self._message(use, found)
        function = use.function
        if function is None:
            self.report(use.value, message, fixed=False)
            return
        if found.origin is Origin.DEFAULT:
            self._plan_default(use, found, message, function, methods)
            return
        identity = find_identity_in_module(
            function, self.module, session_key=self.context.settings.session_key
        )
        if identity is not None:
            if self.report(use.value, f"{message}; use {identity.origin}", fixed=True):
                self._replace(found, function, identity.expression)
            return
        self._plan_parameter(use, found, message, function, methods)

    def _replace(self, found: Unstable, function: cst.FunctionDef, expression: str) -> None:
        """Make the key `expression`; drop `x = <origin>` when it would become `x = x`."""
        entry = self.scopes[function].value(found.local) if found.local else None
        if found.local == expression and entry is not None and entry[1] is found.target:
            self._edit(entry[0], lambda _: cst.RemovalSentinel.REMOVE)
            return
        new = cst.parse_expression(expression)
        self._edit(found.target, lambda _: new)

    def _plan_parameter(
        self,
        use: KeyUse,
        found: Unstable,
        message: str,
        function: cst.FunctionDef,
        methods: set[cst.FunctionDef],
    ) -> None:
        name = self.session_name
        unsafe = self.context.settings.unsafe_fixes
        if self._is_flask_route(function):
            request = self._flask_request(function)
            fixed = unsafe and request is not None
            if self.report_kind(use.value, message, fixed=fixed, kind=Fix.UNSAFE) and fixed:
                self._replace(replace(found, local=None), function, f'{request}["{name}"]')
            return
        scope = self.scopes[function]
        bound = scope.counts.get(name, 0) - (found.local == name)
        found_callers = callers(self.module, function, method=function in methods)
        updates: list[tuple[cst.Call, str]] = []
        framework_route = bool(function.decorators) and "flask" in web_frameworks(self.module)
        possible = (
            is_plain_or_route(function)
            and not framework_route
            and not bound
            and name not in _parameter_names(function)
            and found_callers is not None
        )
        for caller in found_callers or ():
            if passes(caller.call, function, name, method=function in methods):
                continue
            identity = self._identity_of(caller.function, function, name)
            if identity is None:
                possible = False
                break
            updates.append((caller.call, identity.expression))
        fixed = unsafe and possible
        if not self.report_kind(use.value, message, fixed=fixed, kind=Fix.UNSAFE) or not fixed:
            return
        self._replace(found, function, name)
        if function not in self.with_param:
            self.with_param.add(function)
            self._edit(
                function, lambda f: with_parameter(cst.ensure_type(f, cst.FunctionDef), name)
            )
            for call, expression in updates:
                self._add_keyword(call, name, expression)

    def _plan_default(
        self,
        use: KeyUse,
        found: Unstable,
        message: str,
        function: cst.FunctionDef,
        methods: set[cst.FunctionDef],
    ) -> None:
        param = found.param
        assert param is not None
        name = param.name.value
        found_callers = callers(self.module, function, method=function in methods)
        possible = default_removable(function, param) and found_callers is not None
        updates: list[tuple[cst.Call, str]] = []
        for caller in found_callers or ():
            if passes(caller.call, function, name, method=function in methods):
                continue
            identity = self._identity_of(caller.function, function, name)
            if identity is None:
                possible = False
                break
            updates.append((caller.call, identity.expression))
        fixed = self.context.settings.unsafe_fixes and possible
        if not self.report_kind(use.value, message, fixed=fixed, kind=Fix.UNSAFE) or not fixed:
            return
        if function not in self.with_param:
            self.with_param.add(function)
            self._edit(
                function, lambda f: without_default(cst.ensure_type(f, cst.FunctionDef), name)
            )
            for call, expression in updates:
                self._add_keyword(call, name, expression)

    def _add_keyword(self, call: cst.Call, name: str, expression: str) -> None:
        value = cst.parse_expression(expression)
        self._edit(call, lambda c: with_keyword(cst.ensure_type(c, cst.Call), name, value))

    def _identity_of(
        self, caller: cst.FunctionDef | None, callee: cst.FunctionDef, name: str
    ) -> Identity | None:
        if caller is None:
            return None
        if caller is callee:
            return Identity(name, f"parameter {name!r}")
        return find_identity_in_module(
            caller, self.module, session_key=self.context.settings.session_key
        )

    def _is_flask_route(self, function: cst.FunctionDef) -> bool:
        """A function decorated by a route of an app or blueprint that Flask made."""
        for decorator in function.decorators:
            route = decorator.decorator
            if not m.matches(route, m.Call(func=m.Attribute(value=m.Name()))):
                continue
            app = cst.ensure_type(cst.ensure_type(route, cst.Call).func, cst.Attribute).value
            made = self.tracer.module_scope.value(cst.ensure_type(app, cst.Name).value)
            if (
                made is not None
                and isinstance(made[1], cst.Call)
                and self._qualified(made[1].func) & {"flask.Flask", "flask.Blueprint"}
            ):
                return True
        return False

    def _flask_request(self, function: cst.FunctionDef) -> str | None:
        """`request.json` (or the field the route already reads), if it reads Flask's request."""
        reads = [
            node
            for node in m.findall(function.body, m.Attribute(value=m.Name("request")))
            if isinstance(node, cst.Attribute) and "flask.request" in self._qualified(node.value)
        ]
        fields = [node.attr.value for node in reads]
        for field in ("json", "form", "args", "values"):
            if field in fields:
                return f"request.{field}"
        return "request.json" if reads else None

    def _plan_streamlit(self, plan: StreamlitPlan) -> None:
        message = (
            f"st.session_state {plan.key!r} is re-assigned {plan.text} on every rerun, "
            "so every turn starts an empty history"
        )
        if self.report(plan.statement, message, fixed=True):
            self._edit(
                plan.statement, lambda s: plan.guarded(cst.ensure_type(s, cst.SimpleStatementLine))
            )


def _parameter_names(function: cst.FunctionDef) -> set[str]:
    params = function.params
    every = [*params.posonly_params, *params.params, *params.kwonly_params]
    return {param.name.value for param in every}


class _KeyUses(cst.CSTVisitor):
    """Every value given as a conversation key, with its function and innermost loop."""

    def __init__(self, codemod: UnstableSessionKey) -> None:
        self.codemod = codemod
        self.uses: list[KeyUse] = []
        self.scopes: dict[cst.FunctionDef, Scope] = {}
        self.methods: set[cst.FunctionDef] = set()
        self.functions: list[cst.FunctionDef] = []
        self.loops: list[list[cst.For | cst.While]] = [[]]

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.methods.update(s for s in node.body.body if isinstance(s, cst.FunctionDef))

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.functions.append(node)
        self.scopes[node] = Scope(node)
        self.loops.append([])

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.functions.pop()
        self.loops.pop()

    def visit_For_body(self, node: cst.For) -> None:
        self.loops[-1].append(node)

    def leave_For_body(self, node: cst.For) -> None:
        self.loops[-1].pop()

    def visit_While_body(self, node: cst.While) -> None:
        self.loops[-1].append(node)

    def leave_While_body(self, node: cst.While) -> None:
        self.loops[-1].pop()

    def visit_Call(self, node: cst.Call) -> None:
        function = self.functions[-1] if self.functions else None
        scope = self.scopes[function] if function else self.codemod.tracer.module_scope
        loop = self.loops[-1][-1] if self.loops[-1] else None
        config = config_argument(node)
        if config is not None:
            for key, value in key_values(config, scope, self.codemod.keys):
                self.uses.append(KeyUse(key, value, node, function, loop))
            return
        name = class_of_call(self.codemod, node)
        if name is None or not name.endswith("ChatMessageHistory"):
            return
        for position, arg in enumerate(node.args):
            keyword = arg.keyword.value if arg.keyword else None
            if keyword == "session_id" or (keyword is None and position == 0 and not arg.star):
                self.uses.append(KeyUse("session_id", arg.value, node, function, loop))
