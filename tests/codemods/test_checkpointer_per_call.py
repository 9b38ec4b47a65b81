"""checkpointer-per-call: checkpointers built per turn, what moves, what is only reported.

Also the LangGraph platform guard of in-process-history, and the split with per-call-state:
per-call-state never reports a checkpointer, so every per-call saver is this rule's.
"""

from __future__ import annotations

import pytest

from memfix.codemods.checkpointer_per_call.transform import CheckpointerPerCall
from memfix.codemods.in_process_history.transform import InProcessHistory
from memfix.codemods.per_call_state.transform import PerCallState
from memfix.config import Settings
from memfix.facts import FileFacts
from memfix.pipeline.engine import fix_source
from memfix.results import FileResult, Status
from memfix.rules.codemod import Codemod

IMPORTS = (
    "from langgraph.checkpoint.memory import InMemorySaver\n"
    "from langgraph.prebuilt import create_react_agent\n"
    "from app.model import model\n"
)
ASK = (
    "\n\ndef ask(question: str, thread_id: str):\n"
    "    agent = create_react_agent(model, [], checkpointer={saver})\n"
    '    return agent.invoke({{"messages": [("user", question)]}}, '
    '{{"configurable": {{"thread_id": thread_id}}}})\n'
)
PER_CALL = IMPORTS + ASK.format(saver="InMemorySaver()")
PLATFORM = FileFacts(platform=("langgraph.json",))


def fix(
    source: str,
    codemods: tuple[type[Codemod], ...] = (CheckpointerPerCall,),
    facts: FileFacts | None = None,
) -> FileResult:
    result = fix_source(
        source, path="app.py", codemods=codemods, settings=Settings(), facts=facts or FileFacts()
    )
    assert result.status is not Status.FAILED, result.error
    return result


def test_inline_checkpointer_moves_to_module_scope_and_thread_id_stays() -> None:
    result = fix(PER_CALL)
    assert result.after == IMPORTS + "\n\ncheckpointer = InMemorySaver()\n" + ASK.format(
        saver="checkpointer"
    )


@pytest.mark.parametrize(
    "spelling",
    [
        "from langgraph.checkpoint.memory import MemorySaver as InMemorySaver\n",
        "from langgraph.checkpoint.memory import InMemorySaver\n",
    ],
)
def test_each_import_spelling_of_the_saver_is_found(spelling: str) -> None:
    source = PER_CALL.replace(IMPORTS.splitlines()[0] + "\n", spelling)
    assert fix(source).findings


def test_module_attribute_spelling_is_found() -> None:
    source = ("import langgraph.checkpoint.memory as lgm\n" + PER_CALL).replace(
        "checkpointer=InMemorySaver()", "checkpointer=lgm.MemorySaver()"
    )
    result = fix(source)
    assert "checkpointer = lgm.MemorySaver()\n" in result.after


def test_local_saver_statement_moves_unchanged() -> None:
    source = PER_CALL.replace(
        "    agent = create_react_agent(model, [], checkpointer=InMemorySaver())\n",
        "    saver = InMemorySaver()  # one per app\n"
        "    agent = create_react_agent(model, [], checkpointer=saver)\n",
    )
    result = fix(source)
    assert "\n\nsaver = InMemorySaver()  # one per app\n\n\ndef ask" in result.after


def test_saver_built_in_a_nested_block_is_reported_only() -> None:
    source = PER_CALL.replace(
        "    agent = create_react_agent(model, [], checkpointer=InMemorySaver())\n",
        "    if thread_id:\n        saver = InMemorySaver()\n"
        "    agent = create_react_agent(model, [], checkpointer=saver)\n",
    )
    result = fix(source)
    assert result.after == source
    assert "built inside a nested block" in result.findings[0].message


def test_name_already_taken_at_module_scope_blocks_the_move() -> None:
    source = PER_CALL.replace("\n\ndef ask", "checkpointer = None\n\n\ndef ask")
    result = fix(source)
    assert result.after == source
    assert "the name 'checkpointer' is taken at module scope" in result.findings[0].message


def test_saver_reading_a_parameter_names_it_and_is_not_moved() -> None:
    source = PER_CALL.replace("InMemorySaver()", "InMemorySaver(serde=thread_id)")
    result = fix(source)
    assert result.after == source
    assert "it reads thread_id, a per-call value" in result.findings[0].message


def test_cached_function_runs_once_and_is_left_alone() -> None:
    source = ("import streamlit as st\n" + PER_CALL).replace(
        "\n\ndef ask", "\n\n@st.cache_resource\ndef ask"
    )
    assert fix(source).findings == ()


def test_per_call_state_never_reports_a_checkpointer() -> None:
    assert fix(PER_CALL, (PerCallState,)).findings == ()


def test_with_in_process_history_the_moved_checkpointer_becomes_persistent() -> None:
    result = fix(PER_CALL, (CheckpointerPerCall, InProcessHistory))
    assert {f.codemod for f in result.findings} == {"checkpointer-per-call", "in-process-history"}
    assert "InMemorySaver()" not in result.after
    assert "checkpointer=checkpointer" in result.after


def test_platform_graph_module_gets_no_finding_from_this_rule() -> None:
    result = fix(PER_CALL, facts=PLATFORM)
    assert result.findings == ()
    assert result.after == PER_CALL


def test_in_process_history_on_a_platform_graph_adds_nothing_and_reports_the_saver() -> None:
    result = fix(PER_CALL, (CheckpointerPerCall, InProcessHistory), facts=PLATFORM)
    assert result.after == PER_CALL
    [finding] = result.findings
    assert finding.codemod == "in-process-history"
    assert not finding.fixed
    assert "the LangGraph platform provides persistence and rejects a graph compiled" in (
        finding.message
    )


def test_in_process_history_reports_a_persistent_saver_on_a_platform_graph() -> None:
    source = (
        "from langgraph.checkpoint.sqlite import SqliteSaver\nfrom graph import builder\n"
        'with SqliteSaver.from_conn_string("c.db") as cp:\n'
        "    graph = builder.compile(checkpointer=cp)\n"
    )
    result = fix(source, (InProcessHistory,), facts=PLATFORM)
    assert result.after == source
    assert ["SqliteSaver" in f.message for f in result.findings] == [True]


def test_fix_is_idempotent() -> None:
    once = fix(PER_CALL).after
    assert fix(once).after == once
    assert fix(once).findings == ()
