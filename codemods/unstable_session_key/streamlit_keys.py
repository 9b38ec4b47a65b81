"""Streamlit reruns the whole script on every interaction.

An `st.session_state.session_id = str(uuid4())` at the top level of the script makes a
new key on every rerun, so every turn is a new conversation; guarded by
`if "session_id" not in st.session_state:` it is made once per browser session.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import libcst as cst

from memfix.codemods._shared.sessions import streamlit_name
from memfix.codemods.unstable_session_key.session_keys import Origin, Tracer, code, string_value


@dataclass(frozen=True, slots=True)
class StreamlitPlan:
    """An unguarded top-level assignment of a fresh value to a session-state key."""

    statement: cst.SimpleStatementLine
    key: str
    text: str  # the code that makes the value
    state: str  # the code of the session state: `st.session_state`

    def guarded(self, statement: cst.SimpleStatementLine) -> cst.If:
        """`statement` inside `if "<key>" not in <state>:`, its comments kept above."""
        test = cst.parse_expression(f'"{self.key}" not in {self.state}')
        body = cst.IndentedBlock([statement.with_changes(leading_lines=[])])
        return cst.If(test=test, body=body, leading_lines=statement.leading_lines)


def unguarded_session_state(
    module: cst.Module,
    qualified: Callable[[cst.CSTNode], set[str]],
    tracer: Tracer,
    keys: frozenset[str],
) -> Iterator[StreamlitPlan]:
    """Each top-level `st.session_state.<key> = <fresh value>` not under an `if`.

    `with st.sidebar:` blocks count as top level; an assignment under any `if`, loop or
    function runs only when asked (a "New chat" button) and is left alone.
    """
    for statement in _top_level(module.body):
        if len(statement.body) != 1 or not isinstance(statement.body[0], cst.Assign):
            continue
        assign = statement.body[0]
        if len(assign.targets) != 1:
            continue
        found = _state_key(assign.targets[0].target, qualified)
        if found is None or found[1] not in keys:
            continue
        origin = tracer.origin_at_module(assign.value)
        if origin is not None and origin.origin is Origin.PER_PROCESS:
            yield StreamlitPlan(statement, found[1], origin.text, code(found[0]))


def _top_level(body: Sequence[cst.BaseStatement]) -> Iterator[cst.SimpleStatementLine]:
    for statement in body:
        if isinstance(statement, cst.SimpleStatementLine):
            yield statement
        elif isinstance(statement, cst.With) and isinstance(statement.body, cst.IndentedBlock):
            yield from _top_level(statement.body.body)


def _state_key(
    target: cst.BaseExpression, qualified: Callable[[cst.CSTNode], set[str]]
) -> tuple[cst.BaseExpression, str] | None:
    """(`st.session_state`, key) for `st.session_state.key` or `st.session_state["key"]`."""
    if isinstance(target, cst.Attribute):
        state, key = target.value, target.attr.value
    elif isinstance(target, cst.Subscript) and len(target.slice) == 1:
        index = target.slice[0].slice
        name = string_value(index.value) if isinstance(index, cst.Index) else None
        if name is None:
            return None
        state, key = target.value, name
    else:
        return None
    return (state, key) if "streamlit.session_state" in qualified(state) else None


def session_state_code(module: cst.Module) -> str | None:
    """`st.session_state`, spelled as the script imports Streamlit; None if it does not."""
    name = streamlit_name(module)
    return None if name is None else f"{name}.session_state"
