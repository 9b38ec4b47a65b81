"""The codemod of `unstable-session-key`; its documentation is the package's docstring."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import libcst as cst
import libcst.matchers as m

from memfix.codemods._shared.identity import (
    Identity,
    find_identity_in_module,
    find_identity_in_request_data,
)
from memfix.codemods._shared.imports import top_level_imports, without_imports
from memfix.codemods._shared.langchain import class_of_call, imported_frameworks
from memfix.codemods._shared.names import bindings, names_read
from memfix.codemods._shared.new_parameter import (
    callers,
    default_removable,
    is_plain_or_route,
    passes,
    with_keyword,
    with_parameter,
    without_default,
)
from memfix.codemods._shared.wiring import Edit, PlannedEdits
from memfix.codemods.unstable_session_key import RULE as UNSTABLE_SESSION_KEY
from memfix.codemods.unstable_session_key.session_keys import (
    RANDOM_SOURCES,
    KeyUse,
    Origin,
    Scope,
    Tracer,
    Unstable,
    code,
    config_argument,
    contains,
    key_values,
)
from memfix.codemods.unstable_session_key.streamlit_keys import (
    StreamlitPlan,
    session_state_code,
    unguarded_session_state,
)
from memfix.rules.codemod import Fix, Invalid, Valid
from memfix.vocabulary import IDENTITY_NAMES

_CHAT = (
    "from langchain_core.runnables.history import RunnableWithMessageHistory\n\n"
    "chat = RunnableWithMessageHistory(runnable, get_history)\n\n\n"
)
_IMPORTS = "import uuid\n" + _CHAT


def _reply(params: str, key: str, extra: str = "", imports: str = _IMPORTS) -> str:
    return (
        f"{imports}def reply({params}):\n{extra}"
        f'    config = {{"configurable": {{"session_id": {key}}}}}\n'
        '    return chat.invoke({"input": message}, config=config)\n'
    )


def _chat_loop(key: str, before: str = "") -> str:
    return (
        f"{_IMPORTS}def main():\n{before}    for message in sys.stdin:\n"
        f'        config = {{"configurable": {{"session_id": {key}}}}}\n'
        '        print(chat.invoke({"input": message}, config=config).content)\n'
    )


class UnstableSessionKey(PlannedEdits):
    RULE = UNSTABLE_SESSION_KEY
    MESSAGE = "session key {key!r} {problem}"

    VALID = [
        Valid(_reply("user_id: str, message: str", "user_id")),
        # A uuid for the message, the key from the caller: correct.
        Valid(_reply("session_id: str, message: str", "session_id", "    msg_id = uuid.uuid4()\n")),
        Valid(_reply("req, message: str", "req.session_id or str(uuid.uuid4())")),
    ]
    INVALID = [
        Invalid(
            _reply("user_id: str, message: str", "str(uuid.uuid4())"),
            # The uuid import goes with its last use.
            expected=_reply("user_id: str, message: str", "user_id", imports=_CHAT),
        ),
        Invalid(
            _reply("message: str", '"abc123"'),
            expected=_reply("message: str, session_id: str", "session_id"),
            flags=("--unsafe-fixes",),
        ),
        # No identity in reach: the fix would change the signature.
        Invalid(_reply("message: str", "str(uuid.uuid4())"), expected=None),
        # A command-line chat: one key per run of the loop, made before it.
        Invalid(
            _chat_loop("str(uuid.uuid4())"),
            expected=_chat_loop("session_id", "    session_id = str(uuid.uuid4())\n"),
        ),
    ]

    def visit_Module(self, node: cst.Module) -> bool:
        self.module = node
        self.frameworks = imported_frameworks(self)
        self.keys = IDENTITY_NAMES | {self.context.settings.session_key or "session_id"}
        self.session_name = self.context.settings.session_key or "session_id"
        self.tracer = Tracer(node, self._qualified, reruns="streamlit" in self.frameworks)
        self.with_param: set[cst.FunctionDef] = set()
        self.factories: set[str] = set()
        self.dropped: set[str] = set()  # modules of the random sources no longer called
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
        # Decided here, on the original nodes; with nothing planned, no need to walk the tree.
        return bool(self.edits)

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        # Keep `import uuid` only where something still uses it.
        imported = top_level_imports(updated_node)
        return without_imports(updated_node, [i for i in imported if i[0] in self.dropped])

    def _qualified(self, node: cst.CSTNode) -> set[str]:
        return self.imported(node)

    def _allowed(self, use: KeyUse, found: Unstable) -> bool:
        """Keys that are fine where they are used."""
        if use.function is None:
            # Module-level code runs once per process (a script's one conversation, a web
            # app's warm-up), except in a Streamlit script, which runs again for every visitor.
            return "streamlit" not in self.frameworks and found.origin is not Origin.PER_CALL
        if found.origin is Origin.CONSTANT and self._one_user_chat(use):
            return True  # a terminal chat's one conversation: the intended demo
        if found.origin is Origin.DEFAULT and use.function.name.value in self.factories:
            return True  # RunnableWithMessageHistory always passes its factory the key
        if found.origin is Origin.PER_CALL and "chainlit.on_chat_start" in self._callbacks(
            use.function
        ):
            return True  # runs once per chat: the key is made once per conversation
        # `main()` runs once per process: one conversation per run, unless made per turn.
        return (
            found.origin is Origin.PER_CALL
            and use.function.name.value == "main"
            and not self._per_turn(use, found)
        )

    def _one_user_chat(self, use: KeyUse) -> bool:
        """A chat loop, or `main()`, of a script that no web, UI or bot framework serves."""
        function = use.function
        in_main = function is not None and function.name.value == "main"
        return not self.frameworks and (use.loop is not None or in_main)

    def _per_turn(self, use: KeyUse, found: Unstable) -> bool:
        """A fresh key made inside the chat loop that uses it."""
        return (
            found.origin is Origin.PER_CALL
            and use.loop is not None
            and contains(use.loop, found.maker)
        )

    def _per_rerun(self, use: KeyUse, found: Unstable) -> bool:
        """A fresh key made in a Streamlit script's body, which runs again on every rerun."""
        return (
            use.function is None
            and found.origin is Origin.PER_PROCESS
            and "streamlit" in self.frameworks
        )

    def _message(self, use: KeyUse, found: Unstable) -> str:
        where = f"{use.function.name.value}()" if use.function else "the module"
        if self._per_turn(use, found):
            where = f"the loop in {where}" if use.function else "the loop"
            where = f"every turn of {where}"
        elif self._per_rerun(use, found):
            found = replace(found, origin=Origin.PER_CALL)
            where = "every rerun of the Streamlit script"
        else:
            where = f"every run of {where}"
        problem = {
            Origin.PER_CALL: f"is a new {found.text} on {where}, "
            "so every turn starts an empty history",
            Origin.PER_PROCESS: f"is {found.text}, made once per process: every user "
            "shares one history, and it changes on restart",
            Origin.CONSTANT: f"is the constant {found.text}: every user shares one history",
            Origin.DEFAULT: f"comes from the default {found.text} of parameter "
            f"{found.param.name.value if found.param else ''!r} of "
            f"{use.function.name.value if use.function else ''}(): every caller "
            "that omits it shares one history",
        }[found.origin]
        return self.MESSAGE.format(key=use.key, problem=problem)

    def _edit(self, node: cst.CSTNode, edit: Edit) -> None:
        self.plan(node, edit)

    def _plan(self, use: KeyUse, found: Unstable, methods: set[cst.FunctionDef]) -> None:
        message = self._message(use, found)
        function = use.function
        if function is None:
            if self._per_rerun(use, found):
                self._plan_rerun(use, found, message)
            elif self._per_turn(use, found):
                self._plan_hoist(use, found, message, self.tracer.module_scope, set())
            else:
                self.report(use.value, message, fixed=False)
            return
        if found.origin is Origin.DEFAULT:
            self._plan_default(use, found, message, function, methods)
            return
        identity = self._identity_in_reach(function)
        if use.shared is not None:
            self._plan_shared(use, use.shared, message, function, identity)
            return
        if identity is not None:
            if self.report(use.value, f"{message}; use {identity.origin}", fixed=True):
                expression = self._local_holding(function, found, identity.expression)
                self._replace(found, function, expression or identity.expression)
            return
        if self._per_turn(use, found):
            params = _parameter_names(function)
            self._plan_hoist(use, found, message, self.scopes[function], params)
            return
        self._plan_parameter(use, found, message, function, methods)

    def _identity_in_reach(self, function: cst.FunctionDef) -> Identity | None:
        """A stable identity of the user the function answers: a parameter, a request field."""
        key = self.context.settings.session_key
        return (
            find_identity_in_module(function, self.module, session_key=key)
            or find_identity_in_request_data(function, session_key=key)
            or self._chainlit_identity(function)
        )

    def _plan_shared(
        self,
        use: KeyUse,
        shared: cst.BaseExpression,
        message: str,
        function: cst.FunctionDef,
        identity: Identity | None,
    ) -> None:
        """A config kept on the instance: the call gets its own config, keyed by the user."""
        message = message.replace(": every user", f" in {code(shared)}: every user", 1)
        if identity is None:
            missing = f"; no user identity is in reach in {function.name.value}() to key it by"
            self.report(use.value, message + missing, fixed=False)
            return
        if self.report(use.value, f"{message}; use {identity.origin}", fixed=True):
            config = f'{{"configurable": {{"{use.key}": {identity.expression}}}}}'
            new = cst.parse_expression(config)
            self._edit(shared, lambda _: new)

    def _callbacks(self, function: cst.FunctionDef) -> dict[str, cst.Attribute]:
        """The Chainlit callbacks a function is registered as (`@cl.on_message`)."""
        found: dict[str, cst.Attribute] = {}
        for decorator in function.decorators:
            callback = decorator.decorator
            if isinstance(callback, cst.Call):
                callback = callback.func
            if isinstance(callback, cst.Attribute):
                names = self._qualified(callback)
                found.update((name, callback) for name in names if name.startswith("chainlit."))
        return found

    def _chainlit_identity(self, function: cst.FunctionDef) -> Identity | None:
        """Chainlit's id of the chat session, in reach in every `@cl.on_...` callback."""
        for name, callback in self._callbacks(function).items():
            if name.startswith("chainlit.on_"):
                expression = f'{code(callback.value)}.user_session.get("id")'
                return Identity(expression, f"Chainlit's session id {expression}")
        return None

    def _plan_hoist(
        self, use: KeyUse, found: Unstable, message: str, scope: Scope, params: set[str]
    ) -> None:
        """Make the key once, before the chat loop: one conversation per run of the loop."""
        loop = use.loop
        assert loop is not None
        local = found.local
        entry = scope.value(local) if local else None
        name = local or self.session_name
        in_loop = bindings([loop])[0]
        movable = (
            not isinstance(found.target, cst.Name)
            and not names_read(found.target) & set(in_loop)
            and (
                (entry is not None and entry[1] is found.target and contains(loop, entry[0]))
                if local
                else not scope.counts.get(name) and name not in params
            )
        )
        if not self.report(use.value, message, fixed=movable) or not movable:
            return
        statement = cst.parse_statement(f"{name} = {code(found.target)}\n")
        if entry is not None:
            self._edit(entry[0], lambda _: cst.RemovalSentinel.REMOVE)
        else:
            self._edit(found.target, lambda _: cst.Name(name))
        self._edit(loop, lambda node: _before(statement, node))

    def _plan_rerun(self, use: KeyUse, found: Unstable, message: str) -> None:
        """Keep a Streamlit script's key in `st.session_state`, made once per browser session."""
        state = session_state_code(self.module)
        # Where the key is made: the statement of the call, or `key = uuid4()` above it.
        statement = next((s for s in self.module.body if contains(s, found.target)), None)
        if state is None or statement is None:
            self.report(use.value, message, fixed=False)
            return
        if not self.report(use.value, f"{message}; keep it in {state}", fixed=True):
            return
        name = self.session_name
        guard = cst.parse_statement(
            f'if "{name}" not in {state}:\n    {state}.{name} = {code(found.target)}\n'
        )
        self._edit(found.target, lambda _: cst.parse_expression(f"{state}.{name}"))
        self._edit(statement, lambda node: _before(guard, node))

    def _local_holding(
        self, function: cst.FunctionDef, found: Unstable, expression: str
    ) -> str | None:
        """A local bound once, above the key, to `expression`: `user = request.json["user"]`."""
        scope = self.scopes[function]
        for statement in cst.ensure_type(function.body, cst.IndentedBlock).body:
            if contains(statement, found.target):
                return None
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small in statement.body:
                if not isinstance(small, cst.Assign) or len(small.targets) != 1:
                    continue
                target = small.targets[0].target
                if (
                    isinstance(target, cst.Name)
                    and scope.value(target.value) is not None
                    and code(small.value) == expression
                ):
                    return target.value
        return None

    def _replace(self, found: Unstable, function: cst.FunctionDef, expression: str) -> None:
        """Make the key `expression`; drop `x = <origin>` when it would become `x = x`."""
        if isinstance(found.maker, cst.Call):
            made_by = self._qualified(found.maker.func) & RANDOM_SOURCES
            self.dropped.update(name.partition(".")[0] for name in made_by)
        if isinstance(found.maker, cst.Name):
            source = self.tracer.imported_constants.get(found.maker.value)
            self.dropped.update([source] if source else [])
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
            if self.report(use.value, message, fixed=fixed, fix=Fix.UNSAFE) and fixed:
                self._replace(replace(found, local=None), function, f'{request}["{name}"]')
            return
        scope = self.scopes[function]
        bound = scope.counts.get(name, 0) - (found.local == name)
        found_callers = callers(self.module, function, method=function in methods)
        updates: list[tuple[cst.Call, str]] = []
        framework_route = bool(function.decorators) and "flask" in self.frameworks
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
        if not self.report(use.value, message, fixed=fixed, fix=Fix.UNSAFE) or not fixed:
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
        if not self.report(use.value, message, fixed=fixed, fix=Fix.UNSAFE) or not fixed:
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


def _before(statement: cst.BaseStatement, node: cst.CSTNode) -> cst.FlattenSentinel[cst.CSTNode]:
    """`statement`, then `node`; the blank lines and comments above `node` go above both."""
    assert isinstance(node, cst.SimpleStatementLine | cst.BaseCompoundStatement)
    first = statement.with_changes(leading_lines=node.leading_lines)
    return cst.FlattenSentinel([first, node.with_changes(leading_lines=())])


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
        self.classes: list[cst.ClassDef] = []

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.methods.update(s for s in node.body.body if isinstance(s, cst.FunctionDef))
        self.classes.append(node)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.classes.pop()

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
            for key, value in self._instance_keys(config):
                self.uses.append(KeyUse(key, value, node, function, loop, shared=config))
            return
        name = class_of_call(self.codemod, node)
        if name == "RunnableWithMessageHistory":
            self.codemod.factories.update(_factory_names(node))
        if name is None or not name.endswith("ChatMessageHistory"):
            return
        key_position = _SESSION_ID_POSITION.get(name, 0)
        for position, arg in enumerate(node.args):
            keyword = arg.keyword.value if arg.keyword else None
            positional = keyword is None and position == key_position and not arg.star
            if keyword == "session_id" or positional:
                self.uses.append(KeyUse("session_id", arg.value, node, function, loop))

    def _instance_keys(
        self, config: cst.BaseExpression
    ) -> Iterator[tuple[str, cst.BaseExpression]]:
        """Constant keys of `self.<name>`, a config set once in the class: `self.config = {...}`."""
        if not self.classes or not self.functions:
            return
        if not m.matches(config, m.Attribute(value=m.Name("self"), attr=m.Name())):
            return
        name = cst.ensure_type(config, cst.Attribute).attr.value
        values = _instance_values(self.classes[-1], name)
        if len(values) != 1 or not isinstance(values[0], cst.Dict):
            return
        scope = Scope(cst.Module([]))
        for key, value in key_values(values[0], scope, self.codemod.keys):
            if isinstance(value, cst.SimpleString | cst.Integer):
                yield key, value


def _instance_values(cls: cst.ClassDef, name: str) -> list[cst.BaseExpression]:
    """Every value the class's methods assign to `self.<name>`."""
    target = m.AssignTarget(target=m.Attribute(value=m.Name("self"), attr=m.Name(name)))
    values: list[cst.BaseExpression] = []
    for assign in m.findall(cls, m.Assign(targets=[target])):
        values.append(cst.ensure_type(assign, cst.Assign).value)
    augmented = m.AugAssign(target=m.Attribute(value=m.Name("self"), attr=m.Name(name)))
    annotated = m.AnnAssign(target=m.Attribute(value=m.Name("self"), attr=m.Name(name)))
    values.extend(cst.Name("self") for _ in m.findall(cls, augmented | annotated))
    return values


# Where a history class takes its session id when it is passed by position: first,
# except for the Postgres history, whose first parameter is the table name.
_SESSION_ID_POSITION = {"PostgresChatMessageHistory": 1}


def _factory_names(call: cst.Call) -> set[str]:
    """The name of the history factory a `RunnableWithMessageHistory(...)` is given."""
    positional = [arg for arg in call.args if arg.keyword is None and not arg.star]
    given = [
        arg.value
        for arg in call.args
        if arg.keyword is not None and arg.keyword.value == "get_session_history"
    ]
    given += [positional[1].value] if len(positional) > 1 else []
    names = {value.value for value in given if isinstance(value, cst.Name)}
    return names | {value.attr.value for value in given if isinstance(value, cst.Attribute)}
