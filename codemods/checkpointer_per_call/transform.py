"""The codemod of `checkpointer-per-call`; its documentation is the package's docstring."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import libcst as cst
import libcst.matchers as m

from memfix.codemods._shared.edits import simple_assignment, two_blank_lines_before
from memfix.codemods._shared.find import findall
from memfix.codemods._shared.names import BUILTINS, bindings, names_read, parameter_names
from memfix.codemods._shared.savers import runs_a_turn, saver_of_call
from memfix.codemods._shared.sessions import session_state_keys, streamlit_guard, streamlit_name
from memfix.codemods.checkpointer_per_call import RULE as CHECKPOINTER_PER_CALL
from memfix.rules.codemod import Codemod, Invalid, Valid
from memfix.vocabulary import SAVER_CLASSES

# The name a checkpointer passed inline gets at module scope.
INLINE_NAME = "checkpointer"
# Decorators that make a function run once, not once per call.
_CACHES = frozenset({"cache_resource", "lru_cache", "cache"})
_CODE = cst.Module([])

_IMPORTS = (
    "from langchain_openai import ChatOpenAI\n"
    "from langgraph.checkpoint.memory import InMemorySaver\n"
    "from langgraph.prebuilt import create_react_agent\n\n"
    "model = ChatOpenAI()\n"
)
_ASK = (
    "\n\ndef ask(question: str, thread_id: str):\n"
    "    agent = create_react_agent(model, [], checkpointer={saver})\n"
    '    config = {{"configurable": {{"thread_id": thread_id}}}}\n'
    '    return agent.invoke({{"messages": [("user", question)]}}, config)\n'
)


@dataclass(frozen=True, slots=True)
class _Hoist:
    """A checkpointer built in a function, and how it reaches module scope."""

    call: cst.Call
    name: str
    statement: cst.BaseStatement | None  # `name = Saver()` in the body; None: inline


class CheckpointerPerCall(Codemod):
    RULE = CHECKPOINTER_PER_CALL
    MESSAGE = (
        "{kind} {name!r} is built on every {when}, so each one starts with an empty "
        "checkpointer and its thread forgets"
    )

    PERSISTENT_MESSAGE = (
        "{kind} {name!r} is built on every {when}: each call opens its store again, and "
        "a temporary one (`:memory:`) starts empty"
    )

    VALID = [
        # One checkpointer for the module: every call reads the same threads.
        Valid(_IMPORTS + "checkpointer = InMemorySaver()\n" + _ASK.format(saver="checkpointer")),
        # A factory called once: it answers no turn.
        Valid(
            _IMPORTS + "\n\ndef build():\n"
            "    return create_react_agent(model, [], checkpointer=InMemorySaver())\n"
        ),
    ]
    INVALID = [
        Invalid(
            _IMPORTS + _ASK.format(saver="InMemorySaver()"),
            expected=_IMPORTS
            + "\n\ncheckpointer = InMemorySaver()\n"
            + _ASK.format(saver="checkpointer"),
        ),
        # The saver reads a parameter: it cannot move; report only.
        Invalid(
            _IMPORTS.replace("memory import InMemorySaver", "sqlite import SqliteSaver")
            + _ASK.format(saver="SqliteSaver(thread_id)"),
            expected=None,
        ),
        # A Streamlit script re-runs on every interaction: one checkpointer per session.
        Invalid(
            "import streamlit as st\n" + _IMPORTS + "checkpointer = InMemorySaver()\n"
            "agent = create_react_agent(model, [], checkpointer=checkpointer)\n",
            expected="import streamlit as st\n" + _IMPORTS + 'if "checkpointer" not in '
            "st.session_state:\n    st.session_state.checkpointer = InMemorySaver()\n"
            "checkpointer = st.session_state.checkpointer\n"
            "agent = create_react_agent(model, [], checkpointer=checkpointer)\n",
        ),
    ]

    def visit_Module(self, node: cst.Module) -> bool:
        self.hoists: dict[cst.FunctionDef, list[_Hoist]] = {}
        self.inline: dict[cst.Call, str] = {}
        self.guarded: dict[cst.BaseStatement, str] = {}
        if self.context.facts.platform:
            return False  # the platform keeps the threads; in-process-history reports
        self.module_names = bindings(node.body)[0]
        streamlit = streamlit_name(node)
        for index, statement in enumerate(node.body):
            if isinstance(statement, cst.FunctionDef) and _per_turn(self, statement):
                self._function(statement, node.body[:index])
            elif streamlit is not None:
                self._script_statement(node, statement, streamlit)
        return bool(self.hoists or self.guarded)

    def _script_statement(self, module: cst.Module, statement: cst.BaseStatement, st: str) -> None:
        if not isinstance(statement, cst.SimpleStatementLine):
            return  # a guarded block (`if "x" not in st.session_state:`) runs once
        assigned = simple_assignment(statement)
        for found in findall(statement, m.Call()):
            call = cst.ensure_type(found, cst.Call)
            kind = saver_of_call(self, call)
            if kind not in SAVER_CLASSES:
                continue  # a persistent saver opened per rerun still reads its threads back
            simple = assigned is not None and assigned[1] is call
            name = assigned[0] if assigned is not None and simple else INLINE_NAME
            message = self.MESSAGE.format(
                kind=kind, name=name, when="rerun of the Streamlit script"
            )
            fixable = simple and name not in session_state_keys(module)
            if not fixable:
                message += (
                    " (keep it in st.session_state or build it in an st.cache_resource function)"
                )
            if self.report(call, message, fixed=fixable) and fixable:
                self.guarded[statement] = name

    def _function(self, function: cst.FunctionDef, above: Sequence[cst.BaseStatement]) -> None:
        local, declares = bindings([function.body])
        defined = set(bindings(above)[0]) | BUILTINS
        plans: list[_Hoist] = []
        for found in findall(function.body, m.Call()):
            call = cst.ensure_type(found, cst.Call)
            kind = saver_of_call(self, call)
            if kind is None:
                continue
            hoist = self._placement(function, call)
            name = hoist.name if hoist is not None else INLINE_NAME
            template = self.MESSAGE if kind in SAVER_CLASSES else self.PERSISTENT_MESSAGE
            message = template.format(kind=kind, name=name, when=f"call of {function.name.value}()")
            blocker = self._blocker(function, call, hoist, local, defined, declares=declares)
            if blocker is not None:
                message = f"{message} ({blocker})"
            if self.report(call, message, fixed=blocker is None) and blocker is None:
                assert hoist is not None
                plans.append(hoist)
                if hoist.statement is None:
                    self.inline[call] = hoist.name
        if plans:
            self.hoists[function] = plans

    def _placement(self, function: cst.FunctionDef, call: cst.Call) -> _Hoist | None:
        for statement in _statements(function):
            assigned = simple_assignment(statement)
            if assigned is not None and assigned[1] is call:
                return _Hoist(call, assigned[0], statement)
        arguments = findall(function.body, m.Arg(keyword=m.Name("checkpointer")))
        if any(cst.ensure_type(a, cst.Arg).value is call for a in arguments):
            return _Hoist(call, INLINE_NAME, None)
        return None

    def _blocker(
        self,
        function: cst.FunctionDef,
        call: cst.Call,
        hoist: _Hoist | None,
        local: dict[str, int],
        defined: set[str],
        *,
        declares: bool,
    ) -> str | None:
        """Why the checkpointer cannot move to module scope; None when it can."""
        reads = sorted(names_read(call) - defined - {_CODE.code_for_node(call.func)})
        reads = [name for name in reads if name not in defined]
        if reads:
            return f"it reads {', '.join(reads)}, a per-call value"
        if hoist is None:
            return "it is built inside a nested block"
        if declares:
            return f"{function.name.value}() declares global or nonlocal names"
        if hoist.name in self.module_names:
            return f"the name {hoist.name!r} is taken at module scope"
        taken = local.get(hoist.name, 0) > (0 if hoist.statement is None else 1)
        if taken or hoist.name in parameter_names(function.params):
            return f"the name {hoist.name!r} is bound again in {function.name.value}()"
        return None

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        name = self.inline.get(original_node)
        return updated_node if name is None else cst.Name(name)

    def leave_FunctionDef(
        self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef
    ) -> cst.FunctionDef:
        moved = {id(h.statement) for h in self.hoists.get(original_node, ()) if h.statement}
        if not moved:
            return updated_node
        kept = [
            new
            for old, new in zip(original_node.body.body, updated_node.body.body, strict=True)
            if id(old) not in moved
        ]
        return updated_node.with_changes(body=updated_node.body.with_changes(body=kept))

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        if not (self.hoists or self.guarded):
            return updated_node
        st = streamlit_name(original_node) or "st"
        body: list[cst.BaseStatement] = []
        for before, after in zip(original_node.body, updated_node.body, strict=True):
            if before in self.guarded:
                body += streamlit_guard(st, self.guarded[before], after)
            elif isinstance(before, cst.FunctionDef) and before in self.hoists:
                body += _module_statements(
                    self.hoists[before], cst.ensure_type(after, cst.FunctionDef)
                )
            else:
                body.append(after)
        return updated_node.with_changes(body=body)


def _statements(function: cst.FunctionDef) -> Sequence[cst.BaseStatement]:
    return cst.ensure_type(function.body, cst.IndentedBlock).body


def _per_turn(codemod: Codemod, function: cst.FunctionDef) -> bool:
    """Whether a module-level function answers a turn each time it runs (and is not cached)."""
    for decorator in function.decorators:
        names = names_read(decorator.decorator) | {
            _CODE.code_for_node(decorator.decorator).rpartition(".")[2].partition("(")[0]
        }
        if names & _CACHES:
            return False
    return runs_a_turn(codemod, function.body)


def _module_statements(
    hoists: Sequence[_Hoist], function: cst.FunctionDef
) -> list[cst.BaseStatement]:
    """The checkpointers, in order, above the function they leave; then the function."""
    statements: list[cst.BaseStatement] = []
    for hoist in hoists:
        if hoist.statement is not None:
            statements.append(hoist.statement.with_changes(leading_lines=[]))
        else:
            code = f"{hoist.name} = {_CODE.code_for_node(hoist.call)}\n"
            statements.append(cst.parse_statement(code))
    statements[0] = statements[0].with_changes(leading_lines=function.leading_lines)
    return [*statements, two_blank_lines_before(function)]
