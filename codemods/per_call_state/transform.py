"""The codemod of `per-call-state`; its documentation is the package's docstring."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial

import libcst as cst
import libcst.matchers as m

from memfix.codemods._shared.edits import (
    blank_lines_first,
    is_docstring,
    leading_lines,
    simple_assignment,
    two_blank_lines_before,
    without_blank_lines,
)
from memfix.codemods._shared.find import findall
from memfix.codemods._shared.langchain import (
    class_of_call,
    imported_frameworks,
    imported_names,
    is_in_process_state,
)
from memfix.codemods._shared.names import BUILTINS, bindings, names_read, parameter_names
from memfix.codemods._shared.sessions import (
    dependents,
    factory_value,
    hands_on,
    keyed,
    new_identity,
    session_factory,
    session_identity,
    session_state_keys,
    streamlit_guard,
    streamlit_name,
)
from memfix.codemods.per_call_state import RULE as PER_CALL_STATE
from memfix.rules.codemod import Codemod, Fix, Invalid, Valid
from memfix.vocabulary import (
    IDENTITY_NAMES,
    factory_names,
)

# Calls that load saved turns into a fresh memory: the state is rebuilt, not lost.
_REFILL_METHODS = frozenset(
    {
        "save_context",
        "add_user_message",
        "add_ai_message",
        "add_message",
        "add_messages",
    }
)

# LangChain objects that belong to one request even though they read no local.
_PER_REQUEST_WORDS = ("Callback", "Handler", "Queue", "Memory", "History")

_IMPORTS = (
    "from langchain_openai import ChatOpenAI\n"
    "from langchain.memory import ConversationBufferMemory\n"
    "from langchain.chains import ConversationChain\n"
)


def _program(body: str, before: str = "") -> str:
    return f"{_IMPORTS}{before}\n\ndef ask(question: str):\n{body}"


_CANONICAL = (
    '    llm = ChatOpenAI(model="gpt-4o-mini")\n'
    "    memory = ConversationBufferMemory()\n"
    "    chain = ConversationChain(llm=llm, memory=memory)\n"
    '    return chain.invoke({"input": question})\n'
)


def _route(body: str) -> str:
    return f"{_IMPORTS}from fastapi import FastAPI\n\napp = FastAPI()\n\n\n{body}"


_ROUTE_BODY = (
    '@app.post("/chat")\n'
    "def chat(user_id: str, question: str):\n"
    '    llm = ChatOpenAI(model="gpt-4o-mini")\n'
    "    memory = {memory}\n"
    "    chain = ConversationChain(llm=llm, memory=memory)\n"
    '    return chain.invoke({{"input": question}})\n'
)
_FACTORY = (
    "_memory_by_session = {}\n\n\n"
    "def get_session_memory(session_id: str):\n"
    "    if session_id not in _memory_by_session:\n"
    "        _memory_by_session[session_id] = ConversationBufferMemory()\n"
    "    return _memory_by_session[session_id]\n"
)


@dataclass(frozen=True, slots=True)
class _Plan:
    moved: frozenset[int]  # positions in the function body
    names: frozenset[str]
    # Body positions whose statement is rewritten in place (keyed or guarded), and how.
    rewritten: Mapping[int, Rewrite] = field(default_factory=dict)
    # New module-level statements, placed above the function after the moved ones.
    added: tuple[cst.BaseStatement, ...] = ()
    # A new parameter that brings the identity in (an unsafe fix).
    signature: Callable[[cst.FunctionDef], cst.FunctionDef] | None = None


Rewrite = Callable[[cst.BaseStatement], Sequence[cst.BaseStatement]]


@dataclass(frozen=True, slots=True)
class _Found:
    """One state built in a function body and used there for one turn."""

    index: int
    call: cst.Call
    kind: str
    name: str


class PerCallState(Codemod):
    RULE = PER_CALL_STATE
    MESSAGE = "{kind} {name!r} is rebuilt on every call of {function}(), so each turn starts empty"

    VALID = [
        Valid(_program("    memory = ConversationBufferMemory()\n    return memory\n")),
        Valid(
            _program(
                "    memory = ConversationBufferMemory()\n"
                "    chain = ConversationChain(llm=ChatOpenAI(), memory=memory)\n"
                "    while True:\n"
                '        print(chain.invoke({"input": input()}))\n'
            )
        ),
        # The caller owns the memory: it lives as long as the caller wants.
        Valid(
            _route(
                "def chat(user_id: str, question: str, memory):\n"
                "    chain = ConversationChain(llm=ChatOpenAI(), memory=memory)\n"
                '    return chain.invoke({"input": question})\n'
            )
        ),
    ]
    INVALID = [
        Invalid(
            _program(_CANONICAL),
            expected=(
                f"{_IMPORTS}\n\n"
                'llm = ChatOpenAI(model="gpt-4o-mini")\n'
                "memory = ConversationBufferMemory()\n"
                "chain = ConversationChain(llm=llm, memory=memory)\n"
                '\n\ndef ask(question: str):\n    return chain.invoke({"input": question})\n'
            ),
        ),
        # A web handler with an identity: one memory per session, never one for all users.
        Invalid(
            _route(_ROUTE_BODY.format(memory="ConversationBufferMemory()")),
            expected=_route(
                'llm = ChatOpenAI(model="gpt-4o-mini")\n\n'
                + _FACTORY
                + "\n\n"
                + _ROUTE_BODY.format(memory="get_session_memory(user_id)").replace(
                    '    llm = ChatOpenAI(model="gpt-4o-mini")\n', ""
                )
            ),
        ),
        # No identity in reach: module scope would share one conversation; report only.
        Invalid(_program(_CANONICAL, before="from fastapi import FastAPI\n"), expected=None),
        # The fix that adds an identity changes what clients send: unsafe.
        Invalid(
            _route(_ROUTE_BODY.format(memory="ConversationBufferMemory()")).replace(
                "user_id: str, ", ""
            ),
            expected=_route(
                'llm = ChatOpenAI(model="gpt-4o-mini")\n\n'
                + _FACTORY
                + "\n\n"
                + _ROUTE_BODY.format(memory="get_session_memory(session_id)")
                .replace('    llm = ChatOpenAI(model="gpt-4o-mini")\n', "")
                .replace("user_id: str, question: str", "question: str, session_id: str")
            ),
            flags=("--unsafe-fixes",),
        ),
        # A Streamlit script re-runs on every interaction: keep the state per session.
        Invalid(
            "import streamlit as st\n" + _IMPORTS + "memory = ConversationBufferMemory()\n"
            "st.write(ConversationChain(llm=ChatOpenAI(), memory=memory).run(st.chat_input()))\n",
            expected="import streamlit as st\n"
            + _IMPORTS
            + 'if "memory" not in st.session_state:\n'
            "    st.session_state.memory = ConversationBufferMemory()\n"
            "memory = st.session_state.memory\n"
            "st.write(ConversationChain(llm=ChatOpenAI(), memory=memory).run(st.chat_input()))\n",
        ),
    ]

    def visit_Module(self, node: cst.Module) -> bool:
        self.plans: dict[int, _Plan] = {}
        self.top_level: dict[int, Rewrite] = {}
        self.module = node
        self.streamlit = streamlit_name(node)
        self.state_keys = session_state_keys(node)
        self.factories: dict[str, str] = {}  # factory added here -> the code it builds
        web = sorted(imported_frameworks(self))
        taken = set(bindings(node.body)[0])
        self.defined = {s.name.value: s for s in node.body if isinstance(s, cst.FunctionDef)}
        self.services = {
            s.name.value: methods
            for s in node.body
            if isinstance(s, cst.ClassDef) and (methods := self._service_methods(s))
        }
        if self.streamlit and "streamlit" in web:
            self._plan_streamlit_script(node)
        self._report_dependencies(node)
        self._report_builders()
        for index, statement in enumerate(node.body):
            if isinstance(statement, cst.FunctionDef):
                known = set(bindings(node.body[:index])[0]) | BUILTINS
                plan = self._plan(statement, known, taken, web)
                if plan is not None:
                    self.plans[index] = plan
                    taken |= plan.names
        return False  # everything is decided here, on the original nodes

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        if not self.plans and not self.top_level:
            return updated_node
        body: list[cst.BaseStatement] = []
        for index, statement in enumerate(updated_node.body):
            plan = self.plans.get(index)
            if index in self.top_level:
                body.extend(self.top_level[index](statement))
            elif plan is None or not isinstance(statement, cst.FunctionDef):
                body.append(statement)
            else:
                moved, function = _split_function(statement, plan, first=not body)
                body.extend(moved)
                body.append(function)
        return updated_node.with_changes(body=body)

    def _plan(
        self, function: cst.FunctionDef, known: set[str], taken: set[str], web: Sequence[str]
    ) -> _Plan | None:
        once = function.name.value == "main" and not (web and function.decorators)
        if once or _is_cached(function):
            return None  # runs once per process (not `@cl.on_message main`), or is kept
        if not isinstance(function.body, cst.IndentedBlock):
            return None
        body = list(function.body.body)
        counts, declares_global = bindings(body)
        if declares_global:
            return None
        params = parameter_names(function.params)
        assigned = {i: found for i, s in enumerate(body) if (found := simple_assignment(s))}
        closure = _Closure(assigned, counts, params, known)
        reports, moved, blocked = self._per_call_states(body, assigned, closure, params, counts)
        if not reports:
            return None
        key = _selected_key(body, params, counts, closure.position, reports)
        if web or key is not None:
            return self._plan_session(
                function, body, assigned, reports, closure, taken, web, key=key
            )
        names = {assigned[i][0] for i in moved}
        can_fix = not blocked and not names & taken and _order_kept(body, moved)
        if not self._report_all(function, reports, fixed=can_fix) or not can_fix:
            return None
        return _Plan(frozenset(moved), frozenset(names))

    def _per_call_states(
        self,
        body: Sequence[cst.BaseStatement],
        assigned: dict[int, tuple[str, cst.BaseExpression]],
        closure: _Closure,
        params: set[str],
        counts: dict[str, int],
    ) -> tuple[list[_Found], set[int], bool]:
        """The states built per call, the statements that move with them, and whether one
        of them reads something that cannot leave the function."""
        moved: set[int] = set()
        reports: list[_Found] = []
        blocked = False
        for index, (name, _) in sorted(assigned.items()):
            found = self._per_call_state(body, assigned, closure.position, params, counts, index)
            if found is None:
                continue
            reports.append(found)
            needed = closure(index)
            if needed is None:
                blocked = True
                continue
            moved |= needed
            state = dependents(name, index, assigned)
            for later, (other, _) in assigned.items():
                if later > index and other in state and (extra := closure(later)) is not None:
                    moved |= extra
        return reports, moved, blocked

    def _per_call_state(
        self,
        body: Sequence[cst.BaseStatement],
        assigned: dict[int, tuple[str, cst.BaseExpression]],
        position: dict[str, int],
        params: set[str],
        counts: dict[str, int],
        index: int,
    ) -> _Found | None:
        """Statement `index` as a conversation state built afresh for one turn, else None."""
        name, value = assigned[index]
        if not isinstance(value, cst.Call):
            return None
        service = _called_class(value, self.services)
        kind = is_in_process_state(self, value) or service
        if kind is None or _reads_call_input(index, assigned, position, params, counts):
            return None
        state = dependents(name, index, assigned)
        if service is not None:
            if not _only_methods_called(body[index + 1 :], name, self.services[service]):
                return None
        elif not _used_for_one_turn(body, index, state, self):
            return None
        return _Found(index, value, kind, name)

    def _report_all(
        self,
        function: cst.FunctionDef,
        reports: Sequence[_Found],
        *,
        fixed: bool,
        kind: Fix = Fix.SAFE,
        reason: str = "",
    ) -> bool:
        """Report each state, with the fix safety of its fix and why it is not fixed, if
        `reason`; False when a comment silences one."""
        silenced = False
        for found in reports:
            message = self.MESSAGE.format(
                kind=found.kind, name=found.name, function=function.name.value
            )
            if reason:
                message = f"{message}; not fixed: {reason}"
            if not self.report(found.call, message, fixed=fixed, fix=kind):
                silenced = True
        return not silenced

    def _plan_session(
        self,
        function: cst.FunctionDef,
        body: Sequence[cst.BaseStatement],
        assigned: dict[int, tuple[str, cst.BaseExpression]],
        reports: Sequence[_Found],
        closure: Callable[[int], set[int] | None],
        taken: set[str],
        web: Sequence[str],
        *,
        key: _Key | None = None,
    ) -> _Plan | None:
        """A per-session home in a handler: `st.session_state`, else a factory keyed by identity.

        Module scope is never an option here: it would share one conversation between
        every user of the handler. Nor is it when the handler already selects the
        conversation per call (`key`): the state then lives per value of that key, or
        is only reported.
        """
        if key is not None:
            return self._plan_selected(function, body, assigned, reports, closure, taken, key)
        if self.streamlit and "streamlit" in web:
            keys = [found.name for found in reports]
            ok = not set(keys) & self.state_keys and len(set(keys)) == len(keys)
            if not self._report_all(function, reports, fixed=ok) or not ok:
                return None
            self.state_keys |= set(keys)
            rewritten = {
                found.index: partial(streamlit_guard, self.streamlit, found.name)
                for found in reports
            }
            return _Plan(frozenset(), frozenset(), rewritten)
        settings = self.context.settings
        identity = session_identity(
            function, self.module, self._qualified, session_key=settings.session_key
        )
        expression = identity.expression if identity else None
        signature, kind = None, Fix.SAFE
        if identity is None:
            name = settings.session_key or "session_id"
            new = new_identity(function, self.module, self._qualified, name, web)
            if new is not None:
                expression, signature, kind = new.expression, new.signature, Fix.UNSAFE
        plan = (
            None
            if expression is None
            else self._factories(body, assigned, reports, closure, taken, expression)
        )
        applies = plan is not None and (kind is Fix.SAFE or settings.unsafe_fixes)
        if not self._report_all(function, reports, fixed=applies, kind=kind) or not applies:
            return None
        assert plan is not None
        self.factories.update(plan[1])
        return replace(plan[0], signature=signature)

    def _plan_selected(
        self,
        function: cst.FunctionDef,
        body: Sequence[cst.BaseStatement],
        assigned: dict[int, tuple[str, cst.BaseExpression]],
        reports: Sequence[_Found],
        closure: Callable[[int], set[int] | None],
        taken: set[str],
        key: _Key,
    ) -> _Plan | None:
        """State whose conversation the call selects by `key`: one state per key value.

        The factory is called with the very value the call passes as its session key,
        so users stay as far apart as they were; a key that cannot be read where the
        state is built (a call, a global, a local set later) is reported, never guessed.
        """
        if key.expression is None:
            reason = (
                f"the conversation is selected per call by {key.text}, which cannot be "
                "proven to be read before the state is built; a fix must not share it"
            )
            self._report_all(function, reports, fixed=False, kind=Fix.NONE, reason=reason)
            return None
        plan = self._factories(body, assigned, reports, closure, taken, key.expression)
        if not self._report_all(function, reports, fixed=plan is not None) or plan is None:
            return None
        self.factories.update(plan[1])
        return plan[0]

    def _factories(
        self,
        body: Sequence[cst.BaseStatement],
        assigned: dict[int, tuple[str, cst.BaseExpression]],
        reports: Sequence[_Found],
        closure: Callable[[int], set[int] | None],
        taken: set[str],
        identity: str,
    ) -> tuple[_Plan, dict[str, str]] | None:
        """The plan that keys each state by `identity`, with the factories it adds; else None."""
        states = {found.index for found in reports}
        needed = self._read_by_states(assigned, reports, closure, states)
        if needed is None:
            return None  # built from a local that cannot leave the handler
        moved = needed | self._shared_builds(assigned, closure, states)
        if not _order_kept(body, moved) or {assigned[i][0] for i in moved} & taken:
            moved = needed
        names = {assigned[i][0] for i in moved}
        if not _order_kept(body, moved) or names & taken:
            return None
        keyed = self._keyed_factories(reports, taken, identity)
        if keyed is None:
            return None
        rewritten, added, new = keyed
        return _Plan(frozenset(moved), frozenset(names), rewritten, tuple(added)), new

    def _read_by_states(
        self,
        assigned: dict[int, tuple[str, cst.BaseExpression]],
        reports: Sequence[_Found],
        closure: Callable[[int], set[int] | None],
        states: set[int],
    ) -> set[int] | None:
        """The statements the states read, all of which must move with them; else None."""
        needed: set[int] = set()
        for found in reports:
            for read in names_read(found.call):
                source = next((i for i, (n, _) in assigned.items() if n == read), None)
                if source is None:
                    continue
                deeper = closure(source)
                if deeper is None or deeper & states or not self._shareable(deeper, assigned):
                    return None
                needed |= deeper
        return needed

    def _shared_builds(
        self,
        assigned: dict[int, tuple[str, cst.BaseExpression]],
        closure: Callable[[int], set[int] | None],
        states: set[int],
    ) -> set[int]:
        """An LLM or a prompt built in the handler: the same for every user, so it may move."""
        extra: set[int] = set()
        for index, (_, value) in assigned.items():
            if index in states or not isinstance(value, cst.Call):
                continue
            if class_of_call(self, value) is None or is_in_process_state(self, value):
                continue
            deeper = closure(index)
            if deeper is not None and not deeper & states and self._shareable(deeper, assigned):
                extra |= deeper
        return extra

    def _keyed_factories(
        self, reports: Sequence[_Found], taken: set[str], identity: str
    ) -> tuple[dict[int, Rewrite], list[cst.BaseStatement], dict[str, str]] | None:
        """Each state fetched from its factory by `identity`: the rewrites, the factories
        to add and their code by name; None when a name is taken by something else."""
        added: list[cst.BaseStatement] = []
        new: dict[str, str] = {}
        rewritten: dict[int, Rewrite] = {}
        for found in reports:
            function, store = factory_names(found.name)
            built = cst.Module([]).code_for_node(found.call)
            made = self.factories.get(function, new.get(function))
            if function in self.defined:
                made = factory_value(self.defined[function])
                if made is None and function == "get_session_history":
                    made = built  # the module's own LangChain history factory: use it
            if made == built:
                pass  # made for another handler from the same code, or the module's own
            elif {function, store} & (taken | set(self.factories) | set(new)):
                return None
            else:
                new[function] = built
                added.extend(session_factory(function, store, (), found.call))
            rewritten[found.index] = partial(_keyed_by, f"{function}({identity})")
        return rewritten, added, new

    def _shareable(
        self, statements: set[int], assigned: dict[int, tuple[str, cst.BaseExpression]]
    ) -> bool:
        """Statements that may serve every user: no per-request callback handler or queue.

        A streaming `AsyncIteratorCallbackHandler` made per request, and the LLM that
        holds it, must stay in the handler, or one user's tokens stream to another.
        """
        for index in statements:
            for call in findall(assigned[index][1], m.Call()):
                name = class_of_call(self, cst.ensure_type(call, cst.Call)) or ""
                if any(word in name for word in _PER_REQUEST_WORDS):
                    return False
            if set(names_read(assigned[index][1])) & {"queue", "asyncio"}:
                return False
        return True

    def _plan_streamlit_script(self, module: cst.Module) -> None:
        """State built at the top of a Streamlit script, which re-runs on every interaction."""
        assert self.streamlit is not None
        counts = bindings(module.body)[0]
        assigned = {i: f for i, s in enumerate(module.body) if (f := simple_assignment(s))}
        for index, (name, value) in sorted(assigned.items()):
            if not isinstance(value, cst.Call) or counts.get(name) != 1:
                continue
            kind = is_in_process_state(self, value)
            if kind is None:
                continue
            state = dependents(name, index, assigned)
            rest = module.body[index + 1 :]
            if not any(names_read(s) & state for s in rest) or any(
                _escapes(s, state) for s in rest
            ):
                continue  # unused, or re-filled or kept by the script itself
            message = (
                f"{kind} {name!r} is rebuilt on every rerun of the Streamlit script, "
                "so each turn starts empty"
            )
            fixable = name not in self.state_keys
            if self.report(value, message, fixed=fixable) and fixable:
                self.state_keys.add(name)
                self.top_level[index] = partial(streamlit_guard, self.streamlit, name)

    def _report_builders(self) -> None:
        """A function that builds new state per call, called by routes of other modules.

        The repository pass found the routes; report only: a fix would need the function
        to take an identity and every caller in every module to pass it.
        """
        for builder in self.context.facts.builders:
            function = self.defined.get(builder.function)
            if function is None:
                continue
            for node in findall(function.body, m.Call()):
                call = cst.ensure_type(node, cst.Call)
                kind = is_in_process_state(self, call)
                if kind is None:
                    continue
                routes = ", ".join(route.describe() for route in builder.users)
                message = (
                    f"{kind} built by {builder.function}() is new on every call, and it is "
                    f"called per request by {routes}, so each turn starts empty"
                )
                self.report(call, message, fixed=False, fix=Fix.NONE)
                break

    def _report_dependencies(self, module: cst.Module) -> None:
        """A FastAPI `Depends(factory)` that returns new state: FastAPI calls it per request.

        Report only: the factory would need an identity of its own (a new parameter).
        """
        depends = m.Call(func=m.Name("Depends") | m.Attribute(attr=m.Name("Depends")))
        names = {
            arg.value.value
            for call in findall(module, depends)
            for arg in cst.ensure_type(call, cst.Call).args[:1]
            if isinstance(arg.value, cst.Name)
        }
        for name in sorted(names & set(self.defined)):
            function = self.defined[name]
            if parameter_names(function.params) & IDENTITY_NAMES:
                continue  # maybe built per user; per-call-state cannot tell
            for node in findall(function.body, m.Return(value=m.Call())):
                value = cst.ensure_type(cst.ensure_type(node, cst.Return).value, cst.Call)
                kind = is_in_process_state(self, value)
                if kind is not None:
                    message = (
                        f"{kind} returned by {name}(), a FastAPI dependency, is new on every "
                        "request, so each turn starts empty"
                    )
                    self.report(value, message, fixed=False)

    def _service_methods(self, cls: cst.ClassDef) -> frozenset[str]:
        """The methods of a class whose `__init__` builds conversation state, else none."""
        methods = {s.name.value: s for s in cls.body.body if isinstance(s, cst.FunctionDef)}
        init = methods.get("__init__")
        if init is None or not isinstance(init.body, cst.IndentedBlock):
            return frozenset()
        builds = any(
            isinstance(small, cst.Assign)
            and m.matches(small.targets[0].target, m.Attribute(value=m.Name("self")))
            and isinstance(small.value, cst.Call)
            and is_in_process_state(self, small.value)
            for line in init.body.body
            if isinstance(line, cst.SimpleStatementLine)
            for small in line.body
        )
        refill = m.Call(func=m.Attribute(attr=m.OneOf(*map(m.Name, sorted(_REFILL_METHODS)))))
        if not builds or findall(init, refill):
            return frozenset()  # no state, or state re-filled from a store
        return frozenset(n for n in methods if not n.startswith("_"))

    def _qualified(self, node: cst.CSTNode) -> set[str]:
        return imported_names(self, node)


@dataclass(frozen=True, slots=True)
class _Key:
    """The session key a function passes in `config={"configurable": {...}}`, per call."""

    text: str  # the key as written, for messages
    expression: str | None  # the same, when it can be read where the state is built


def _selected_key(
    body: Sequence[cst.BaseStatement],
    params: set[str],
    counts: Mapping[str, int],
    position: Mapping[str, int],
    reports: Sequence[_Found],
) -> _Key | None:
    """The per-call key of the conversation the function selects, else None.

    A configurable value that is not a literal (a parameter, a request field) means
    each call picks its own conversation: state built here belongs to that value.
    """
    first = min(found.index for found in reports)
    for statement in body:
        for value in _configurable_values(statement):
            if isinstance(value, cst.SimpleString | cst.Integer | cst.ConcatenatedString):
                continue
            text = cst.Module([]).code_for_node(value)
            proven = _read_before(value, params, counts, position, first)
            return _Key(text, text if proven else None)
    return None


def _configurable_values(statement: cst.BaseStatement) -> list[cst.BaseExpression]:
    """The values of every `configurable` mapping the statement writes."""
    inner: list[cst.BaseExpression] = []
    configurable = m.SimpleString(value=m.MatchIfTrue(lambda v: v[1:-1] == "configurable"))
    for node in findall(statement, m.DictElement(key=configurable)):
        inner.append(cst.ensure_type(node, cst.DictElement).value)
    for node in findall(statement, m.Arg(keyword=m.Name("configurable"))):
        inner.append(cst.ensure_type(node, cst.Arg).value)
    values: list[cst.BaseExpression] = []
    for mapping in inner:
        if isinstance(mapping, cst.Dict):
            values.extend(e.value for e in mapping.elements if isinstance(e, cst.DictElement))
    return values


def _read_before(
    value: cst.BaseExpression,
    params: set[str],
    counts: Mapping[str, int],
    position: Mapping[str, int],
    index: int,
) -> bool:
    """Whether `value` reads only parameters, their fields, and locals set from them before
    statement `index`, and calls nothing: it has the same value where the state is built."""
    if findall(value, m.Call() | m.Await() | m.Lambda() | m.NamedExpr()):
        return False
    for read in names_read(value):
        if read in params and read not in counts:
            continue
        source = position.get(read)
        if source is None or source >= index:
            return False
    return True


def _called_class(value: cst.Call, services: Mapping[str, frozenset[str]]) -> str | None:
    """The service class `value` instantiates (`ChatService()`), else None."""
    func = value.func
    return func.value if isinstance(func, cst.Name) and func.value in services else None


def _only_methods_called(
    rest: Sequence[cst.BaseStatement], name: str, methods: frozenset[str]
) -> bool:
    """A service object is only asked questions (`bot.ask(q)`), outside any loop."""
    if not methods:
        return False
    turn = m.Call(func=m.Attribute(value=m.Name(name), attr=m.OneOf(*map(m.Name, sorted(methods)))))
    asked = 0
    for statement in rest:
        reads = len(findall(statement, m.Name(name)))
        calls = len(findall(statement, turn))
        loops = findall(statement, m.For() | m.While() | m.ListComp() | m.GeneratorExp())
        if reads != calls or any(findall(loop, m.Name(name)) for loop in loops):
            return False
        asked += calls
    return asked > 0


def _keyed_by(call: str, statement: cst.BaseStatement) -> list[cst.BaseStatement]:
    return [keyed(statement, call)]


def _is_cached(function: cst.FunctionDef) -> bool:
    return any("cache" in cst.Module([]).code_for_node(d.decorator) for d in function.decorators)


def _reads_call_input(
    index: int,
    assigned: dict[int, tuple[str, cst.BaseExpression]],
    position: dict[str, int],
    params: set[str],
    counts: dict[str, int],
) -> bool:
    """Whether the value built at `index` depends on a parameter or a non-simple local."""
    for read in names_read(assigned[index][1]):
        if read in params:
            return True
        if read in counts:
            source = position.get(read)
            if source is None or _reads_call_input(source, assigned, position, params, counts):
                return True
    return False


def _used_for_one_turn(
    body: Sequence[cst.BaseStatement], index: int, state: set[str], codemod: Codemod
) -> bool:
    """The state is used after it is built, and only here, for this call.

    False when it is refilled, stored, returned, handed to non-LangChain code, used in a
    loop (a session, not a turn), or never used at all.
    """
    names = m.OneOf(*(m.Name(n) for n in sorted(state)))
    rest = body[index + 1 :]
    used = False
    for statement in rest:
        if findall(statement, m.Name(value=m.MatchIfTrue(lambda v: v in state))):
            used = True
        loops = findall(statement, m.For() | m.While() | m.ListComp() | m.GeneratorExp())
        if any(findall(loop, names) for loop in loops):
            return False
        if _escapes(statement, state):
            return False
        for call in findall(
            statement, m.Call(args=[m.ZeroOrMore(), m.Arg(value=names), m.ZeroOrMore()])
        ):
            if class_of_call(codemod, cst.ensure_type(call, cst.Call)) is None:
                return False
    return used


def _escapes(statement: cst.BaseStatement, state: set[str]) -> bool:
    """Whether the statement returns, yields, stores or refills the state."""
    for node in findall(statement, m.Return() | m.Yield()):
        value = node.value if isinstance(node, cst.Return | cst.Yield) else None
        if isinstance(value, cst.BaseExpression) and hands_on(value, state):
            return True
    for node in findall(statement, m.Assign() | m.AnnAssign() | m.AugAssign()):
        if isinstance(node, cst.Assign):
            targets, value = [t.target for t in node.targets], node.value
        elif isinstance(node, cst.AnnAssign | cst.AugAssign):
            targets, value = [node.target], node.value
        else:
            continue
        into_state = all(isinstance(t, cst.Name) and t.value in state for t in targets)
        if value is not None and not into_state and hands_on(value, state):
            return True
        if any(hands_on(t, state) and not isinstance(t, cst.Name) for t in targets):
            return True  # `memory.chat_memory.messages = loaded`: refilled
    refill = m.OneOf(*(m.Name(method) for method in sorted(_REFILL_METHODS)))
    for node in findall(statement, m.Call(func=m.Attribute(attr=refill))):
        if hands_on(cst.ensure_type(node, cst.Call).func, state):
            return True
    return False


def _order_kept(body: Sequence[cst.BaseStatement], moved: set[int]) -> bool:
    """Moving is safe only past statements with no side effects: docstrings and assignments."""
    if not moved:
        return True
    last = max(moved)
    return all(
        i in moved
        or is_docstring(s)
        or simple_assignment(s) is not None
        or m.matches(s, m.SimpleStatementLine(body=[m.Pass()]))
        for i, s in enumerate(body[:last])
    )


def _split_function(
    function: cst.FunctionDef, plan: _Plan, *, first: bool
) -> tuple[list[cst.BaseStatement], cst.FunctionDef]:
    """The statements to put above `function`, and `function` without them."""
    block = cst.ensure_type(function.body, cst.IndentedBlock)
    body = list(block.body)
    lifted = [without_blank_lines(body[i]) for i in sorted(plan.moved)]
    kept: list[cst.BaseStatement] = []
    for index, statement in enumerate(body):
        if index in plan.moved:
            continue
        if index - 1 in plan.moved and all(is_docstring(k) for k in kept):
            statement = without_blank_lines(statement)  # it now opens the body
        rewrite = plan.rewritten.get(index)
        kept.extend(rewrite(statement) if rewrite else [statement])
    if not kept:
        kept = [cst.SimpleStatementLine([cst.Pass()])]
    new_body = block.with_changes(body=kept)
    added = list(plan.added)
    if added and lifted:
        added[0] = added[0].with_changes(leading_lines=[cst.EmptyLine()])
    lifted.extend(added)
    if not lifted:  # Streamlit: nothing moves, the state goes to session_state
        return [], function.with_changes(body=new_body)
    blanks, _ = blank_lines_first(function.leading_lines)
    if not blanks and not first:
        blanks = [cst.EmptyLine()]
    lifted[0] = lifted[0].with_changes(leading_lines=[*blanks, *leading_lines(lifted[0])])
    if plan.signature is not None:
        function = plan.signature(function)
    new_function = two_blank_lines_before(function.with_changes(body=new_body))
    return lifted, cst.ensure_type(new_function, cst.FunctionDef)


class _Closure:
    """A statement of a function and those it reads, if all of it can move out; else None."""

    def __init__(
        self,
        assigned: dict[int, tuple[str, cst.BaseExpression]],
        counts: Mapping[str, int],
        params: set[str],
        known: set[str],
    ) -> None:
        self.assigned, self.counts, self.params, self.known = assigned, counts, params, known
        self.position = {name: i for i, (name, _) in assigned.items() if counts.get(name) == 1}

    def __call__(self, index: int) -> set[int] | None:
        name, value = self.assigned[index]
        if self.counts.get(name) != 1:
            return None
        needed = {index}
        for read in names_read(value):
            if read in self.params:
                return None
            if read in self.counts:
                source = self.position.get(read)
                deeper = self(source) if source is not None and source < index else None
                if deeper is None:
                    return None
                needed |= deeper
            elif read not in self.known:
                return None
        return needed
