"""Memory, history or a chain is rebuilt on every call, so every turn starts empty.

## What it does
Finds a function that builds a LangChain memory, an in-process chat history, or a
`ConversationChain` (which makes a memory of its own) each time it runs, and uses it
there for one turn. In a plain module (a script, a library, a command-line tool) it
moves that state to module scope, with the LLM, prompt and chain it needs, so every
call continues one conversation.

## Why is this bad?
The memory is new and empty on each call: the first turn is saved into an object
that is thrown away when the function returns, and the second turn sees no history.
This is the most common reason a LangChain chatbot "forgets".

## Example
```python
def ask(question: str):
    llm = ChatOpenAI(model="gpt-4o-mini")
    memory = ConversationBufferMemory()
    chain = ConversationChain(llm=llm, memory=memory)
    return chain.invoke({"input": question})
```
Use instead:
```python
llm = ChatOpenAI(model="gpt-4o-mini")
memory = ConversationBufferMemory()
chain = ConversationChain(llm=llm, memory=memory)


def ask(question: str):
    return chain.invoke({"input": question})
```

## Fix safety
Safe: no signature changes; the statements move unchanged to just above the function.
Nothing that reads a parameter, or a local that does, is ever moved. The codemod
stays silent when the state is correct as it is: re-filled from a store
(`save_context`, `add_messages`), passed in by the caller, returned or stored
(a factory), or used in a loop inside the function (one session per call). It reports
without rewriting when moving would reorder side effects, clash with a module-level
name, or need a name defined later in the module; and in a web app, UI callback or
Streamlit script, where module scope would share one conversation between all users.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import libcst as cst
import libcst.matchers as m
from libcst.metadata import QualifiedNameProvider

from codemods._edits import (
    blank_lines_first,
    is_docstring,
    leading_lines,
    simple_assignment,
    two_blank_lines_before,
    without_blank_lines,
)
from codemods._langchain import class_of_call, is_in_process_state, web_frameworks
from codemods._names import BUILTINS, bindings, names_read, parameter_names
from memfix.codemod import Codemod, Fix, Invalid, Valid

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

# Methods that run one turn and give back an answer, not the chain.
_TURN_METHODS = frozenset(
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


@dataclass(frozen=True, slots=True)
class _Plan:
    moved: frozenset[int]  # positions in the function body
    names: frozenset[str]


class PerCallState(Codemod):
    NAME = "per-call-state"
    MESSAGE = "{kind} {name!r} is rebuilt on every call of {function}(), so each turn starts empty"
    FIX = Fix.SAFE
    VOCABULARY = (b"Memory", b"MessageHistory", b"ConversationChain")
    METADATA_DEPENDENCIES = (QualifiedNameProvider,)

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
        # In a web app module scope is shared by every user: report, never hoist.
        Invalid(_program(_CANONICAL, before="from fastapi import FastAPI\n"), expected=None),
    ]

    def visit_Module(self, node: cst.Module) -> bool:
        self.plans: dict[int, _Plan] = {}
        web = sorted(web_frameworks(node))
        taken = set(bindings(node.body)[0])
        for index, statement in enumerate(node.body):
            if isinstance(statement, cst.FunctionDef):
                known = set(bindings(node.body[:index])[0]) | BUILTINS
                plan = self._plan(statement, known, taken, web)
                if plan is not None:
                    self.plans[index] = plan
                    taken |= plan.names
        return False  # everything is decided here, on the original nodes

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        if not self.plans:
            return updated_node
        body: list[cst.BaseStatement] = []
        for index, statement in enumerate(updated_node.body):
            plan = self.plans.get(index)
            if plan is None or not isinstance(statement, cst.FunctionDef):
                body.append(statement)
                continue
            moved, function = _split_function(statement, plan.moved, first=not body)
            body.extend(moved)
            body.append(function)
        return updated_node.with_changes(body=body)

    def _plan(
        self, function: cst.FunctionDef, known: set[str], taken: set[str], web: Sequence[str]
    ) -> _Plan | None:
        if function.name.value == "main" or _is_cached(function):
            return None  # runs once per process, or its result is kept
        if not isinstance(function.body, cst.IndentedBlock):
            return None
        body = list(function.body.body)
        counts, declares_global = bindings(body)
        if declares_global:
            return None
        params = parameter_names(function.params)
        assigned = {i: found for i, s in enumerate(body) if (found := simple_assignment(s))}
        position = {name: i for i, (name, _) in assigned.items() if counts.get(name) == 1}

        def closure(index: int) -> set[int] | None:
            """This statement and those it reads, if all of it can move; else None."""
            name, value = assigned[index]
            if counts.get(name) != 1:
                return None
            needed = {index}
            for read in names_read(value):
                if read in params:
                    return None
                if read in counts:
                    source = position.get(read)
                    deeper = closure(source) if source is not None and source < index else None
                    if deeper is None:
                        return None
                    needed |= deeper
                elif read not in known:
                    return None
            return needed

        moved: set[int] = set()
        reports: list[tuple[cst.Call, str, str]] = []
        blocked = False
        for index, (name, value) in sorted(assigned.items()):
            if not isinstance(value, cst.Call):
                continue
            kind = is_in_process_state(self, value)
            if kind is None or _reads_call_input(index, assigned, position, params, counts):
                continue
            state = _dependents(name, index, assigned)
            if not _used_for_one_turn(body, index, state, self):
                continue
            reports.append((value, kind, name))
            needed = closure(index)
            if needed is None:
                blocked = True
                continue
            moved |= needed
            for later, (other, _) in assigned.items():
                if later > index and other in state and (extra := closure(later)) is not None:
                    moved |= extra
        if not reports:
            return None
        names = {assigned[i][0] for i in moved}
        can_fix = not web and not blocked and not names & taken and _order_kept(body, moved)
        silenced = False
        for call, kind, name in reports:
            message = self.MESSAGE.format(kind=kind, name=name, function=function.name.value)
            silenced |= not self.report(call, message, fixed=can_fix)
        if not can_fix or silenced:
            return None
        return _Plan(frozenset(moved), frozenset(names))


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


def _dependents(
    name: str, index: int, assigned: dict[int, tuple[str, cst.BaseExpression]]
) -> set[str]:
    """`name` and the names assigned after it from values that hold it (its chain)."""
    state = {name}
    for later, (other, value) in sorted(assigned.items()):
        if later > index and _hands_on_or_closes_over(value, state):
            state.add(other)
    return state


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
        if m.findall(statement, m.Name(value=m.MatchIfTrue(lambda v: v in state))):
            used = True
        loops = m.findall(statement, m.For() | m.While() | m.ListComp() | m.GeneratorExp())
        if any(m.findall(loop, names) for loop in loops):
            return False
        if _escapes(statement, state):
            return False
        for call in m.findall(
            statement, m.Call(args=[m.ZeroOrMore(), m.Arg(value=names), m.ZeroOrMore()])
        ):
            if class_of_call(codemod, cst.ensure_type(call, cst.Call)) is None:
                return False
    return used


def _hands_on(expression: cst.BaseExpression, state: set[str]) -> bool:
    """Whether evaluating `expression` gives out the state itself or something holding it.

    `chain.invoke(x)["response"]` gives out an answer; `chain`, `(chain, memory)`,
    `Wrapper(memory)`, `chain | parser` and `chain.with_config()` give out the state.
    """
    if isinstance(expression, cst.Name):
        return expression.value in state
    if isinstance(expression, cst.Await):
        return _hands_on(expression.expression, state)
    if isinstance(expression, cst.Attribute | cst.Subscript):
        return _hands_on(expression.value, state)
    if isinstance(expression, cst.BinaryOperation):
        return _hands_on(expression.left, state) or _hands_on(expression.right, state)
    if isinstance(expression, cst.Tuple | cst.List | cst.Set):
        return any(_hands_on(element.value, state) for element in expression.elements)
    if isinstance(expression, cst.Dict):
        return any(
            isinstance(element, cst.DictElement) and _hands_on(element.value, state)
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
            return func.attr.value not in _TURN_METHODS
        return any(_hands_on(arg.value, state) for arg in expression.args)
    return False


def _hands_on_or_closes_over(expression: cst.BaseExpression, state: set[str]) -> bool:
    """`_hands_on`, or the value is built with a lambda that reads the state."""
    if _hands_on(expression, state):
        return True
    return any(
        names_read(cst.ensure_type(lam, cst.Lambda).body) & state
        for lam in m.findall(expression, m.Lambda())
    )


def _escapes(statement: cst.BaseStatement, state: set[str]) -> bool:
    """Whether the statement returns, yields, stores or refills the state."""
    for node in m.findall(statement, m.Return() | m.Yield()):
        value = node.value if isinstance(node, cst.Return | cst.Yield) else None
        if isinstance(value, cst.BaseExpression) and _hands_on(value, state):
            return True
    for node in m.findall(statement, m.Assign() | m.AnnAssign() | m.AugAssign()):
        if isinstance(node, cst.Assign):
            targets, value = [t.target for t in node.targets], node.value
        elif isinstance(node, cst.AnnAssign | cst.AugAssign):
            targets, value = [node.target], node.value
        else:
            continue
        into_state = all(isinstance(t, cst.Name) and t.value in state for t in targets)
        if value is not None and not into_state and _hands_on(value, state):
            return True
        if any(_hands_on(t, state) and not isinstance(t, cst.Name) for t in targets):
            return True  # `memory.chat_memory.messages = loaded`: refilled
    refill = m.OneOf(*(m.Name(method) for method in sorted(_REFILL_METHODS)))
    for node in m.findall(statement, m.Call(func=m.Attribute(attr=refill))):
        if _hands_on(cst.ensure_type(node, cst.Call).func, state):
            return True
    return False


def _order_kept(body: Sequence[cst.BaseStatement], moved: set[int]) -> bool:
    """Moving is safe only past statements with no side effects: docstrings and assignments."""
    last = max(moved)
    return all(
        i in moved
        or is_docstring(s)
        or simple_assignment(s) is not None
        or m.matches(s, m.SimpleStatementLine(body=[m.Pass()]))
        for i, s in enumerate(body[:last])
    )


def _split_function(
    function: cst.FunctionDef, moved: frozenset[int], *, first: bool
) -> tuple[list[cst.BaseStatement], cst.FunctionDef]:
    """The statements to put above `function`, and `function` without them."""
    block = cst.ensure_type(function.body, cst.IndentedBlock)
    body = list(block.body)
    lifted = [without_blank_lines(body[i]) for i in sorted(moved)]
    kept: list[cst.BaseStatement] = []
    for index, statement in enumerate(body):
        if index in moved:
            continue
        if index - 1 in moved and all(is_docstring(k) for k in kept):
            statement = without_blank_lines(statement)  # it now opens the body
        kept.append(statement)
    if not kept:
        kept = [cst.SimpleStatementLine([cst.Pass()])]
    blanks, _ = blank_lines_first(function.leading_lines)
    if not blanks and not first:
        blanks = [cst.EmptyLine()]
    lifted[0] = lifted[0].with_changes(leading_lines=[*blanks, *leading_lines(lifted[0])])
    new_function = two_blank_lines_before(function.with_changes(body=block.with_changes(body=kept)))
    return lifted, cst.ensure_type(new_function, cst.FunctionDef)
