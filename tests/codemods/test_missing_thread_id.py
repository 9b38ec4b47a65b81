"""Edge cases of missing-thread-id: which identity keys the thread, and what is left alone."""

from __future__ import annotations

import pytest

from memfix.codemods.missing_thread_id.transform import MissingThreadId
from memfix.results import FileResult, Fix, Status
from memfix.testing import run

GRAPH = (
    "from langgraph.checkpoint.memory import MemorySaver\n"
    "from langgraph.graph import START, MessagesState, StateGraph\n"
    "graph = StateGraph(MessagesState).compile(checkpointer=MemorySaver())\n"
)
ROUTE = (
    "from fastapi import FastAPI\n" + GRAPH + "app = FastAPI()\n"
    '@app.post("/chat")\n'
    "def chat(user_id: str, text: str):\n"
)
FLASK_HEADER = (
    "from flask import Flask, request\n" + GRAPH + "app = Flask(__name__)\n"
    '@app.post("/chat")\n'
    "def chat():\n"
    '    sid = request.headers["X-Session-Id"]\n'
    '    return graph.invoke({"messages": [("user", request.json["text"])]})\n'
)


def check(source: str, *flags: str) -> FileResult:
    result = run(MissingThreadId, source, flags)
    assert result.status is not Status.FAILED, result.error
    return result


def test_a_bot_handler_keys_the_thread_by_the_chat_id_it_reads() -> None:
    source = GRAPH + (
        "async def on_message(update, context):\n"
        "    chat_id = update.effective_chat.id\n"
        '    await graph.ainvoke({"messages": [("user", update.message.text)]})\n'
    )
    result = check(source)
    assert [f.fix for f in result.findings] == [Fix.SAFE]
    assert 'config={"configurable": {"thread_id": chat_id}})' in result.after


def test_a_header_identity_is_an_unsafe_fix_applied_only_with_the_flag() -> None:
    plain = check(FLASK_HEADER)
    assert [f.fix for f in plain.findings] == [Fix.UNSAFE]
    assert plain.after == FLASK_HEADER
    unsafe = check(FLASK_HEADER, "--unsafe-fixes")
    assert '{"configurable": {"thread_id": sid}}' in unsafe.after


def test_a_config_variable_built_in_the_function_gets_the_thread_id_where_it_is_written() -> None:
    source = ROUTE + (
        '    config = {"configurable": {}}\n    return graph.invoke({"messages": []}, config)\n'
    )
    result = check(source)
    assert '    config = {"configurable": {"thread_id": user_id}}\n' in result.after


def test_a_config_handed_in_by_the_caller_is_left_to_the_caller() -> None:
    source = GRAPH + (
        'def chat(user_id: str, config: dict):\n    return graph.invoke({"messages": []}, config)\n'
    )
    result = check(source)
    assert result.findings == ()
    assert result.after == source


def test_a_config_written_before_its_identity_is_read_is_reported_only() -> None:
    source = GRAPH + (
        "async def on_message(update, context):\n"
        '    config = {"recursion_limit": 5}\n'
        "    chat_id = update.effective_chat.id\n"
        '    await graph.ainvoke({"messages": []}, config)\n'
    )
    result = check(source)
    assert result.findings and not any(f.fixed for f in result.findings)
    assert result.after == source


@pytest.mark.parametrize(
    "body",
    [
        # A constant thread id is unstable-session-key's finding, not this rule's.
        '    return graph.invoke({"messages": []}, {"configurable": {"thread_id": "1"}})\n',
        # `**kwargs` may carry the config: nothing can be told.
        '    return graph.invoke({"messages": []}, **options)\n',
        '    return graph.invoke({"messages": []}, config={**base, "tags": ["x"]})\n',
        # Another method of the graph takes no config of a turn.
        "    return graph.get_graph()\n",
    ],
    ids=["constant-thread", "kwargs", "spread-config", "other-method"],
)
def test_calls_that_may_carry_a_thread_id_have_no_finding(body: str) -> None:
    source = ROUTE + body
    result = check(source)
    assert result.findings == ()
    assert result.after == source


def test_a_graph_without_checkpointer_needs_no_thread() -> None:
    source = ROUTE.replace("compile(checkpointer=MemorySaver())", "compile()") + (
        '    return graph.invoke({"messages": []})\n'
    )
    assert check(source).findings == ()


def test_a_suppression_comment_silences_the_finding_and_the_edit() -> None:
    source = ROUTE + (
        '    return graph.invoke({"messages": []})  # memfix: ignore[missing-thread-id]\n'
    )
    result = check(source)
    assert result.findings == ()
    assert result.after == source


def test_an_agent_over_a_checkpointer_spelled_through_an_alias_is_fixed() -> None:
    source = (
        "from fastapi import FastAPI\n"
        "from langgraph.checkpoint.memory import InMemorySaver as Saver\n"
        "from langgraph.prebuilt import create_react_agent\n"
        "agent = create_react_agent(model, tools=[], checkpointer=Saver())\n"
        "app = FastAPI()\n"
        '@app.post("/chat")\n'
        "def chat(session_id: str, text: str):\n"
        '    return agent.invoke({"messages": [("user", text)]})\n'
    )
    result = check(source)
    assert 'config={"configurable": {"thread_id": session_id}})' in result.after
    assert check(result.after).findings == ()


def test_the_message_says_what_is_missing_when_no_identity_is_in_reach() -> None:
    source = GRAPH + 'print(graph.invoke({"messages": []}, {"configurable": {"user": 1}}))\n'
    (finding,) = check(source).findings
    assert "a configurable with no thread_id" in finding.message
    assert "no user or session id is in reach" in finding.message
