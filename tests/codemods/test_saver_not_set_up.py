"""Edge cases of saver-not-set-up: where the setup call goes, and when it is only reported."""

from __future__ import annotations

import pytest

from memfix.codemods.saver_not_set_up.transform import SaverNotSetUp
from memfix.results import FileResult, Status
from memfix.testing import run

POSTGRES = (
    "from langgraph.checkpoint.postgres import PostgresSaver\n"
    "from langgraph.graph import START, MessagesState, StateGraph\n"
    "builder = StateGraph(MessagesState)\n"
)
REDIS = POSTGRES.replace("postgres import PostgresSaver", "redis import RedisSaver")


def check(source: str) -> FileResult:
    result = run(SaverNotSetUp, source)
    assert result.status is not Status.FAILED, result.error
    return result


def test_a_saver_assigned_in_a_function_is_set_up_on_the_next_line() -> None:
    source = POSTGRES + (
        "def make(conn):\n"
        "    saver = PostgresSaver(conn)\n"
        "    return builder.compile(checkpointer=saver)\n"
    )
    result = check(source)
    assert "    saver = PostgresSaver(conn)\n    saver.setup()\n    return" in result.after
    assert check(result.after).findings == ()


def test_a_redis_saver_is_set_up_with_its_sync_setup() -> None:
    source = REDIS + (
        "with RedisSaver.from_conn_string(URL) as cp:\n"
        "    graph = builder.compile(checkpointer=cp)\n"
    )
    assert "as cp:\n    cp.setup()\n    graph" in check(source).after


@pytest.mark.parametrize(
    "tail",
    [
        # Set up somewhere else in the module: in a startup hook.
        "saver = PostgresSaver(pool)\ngraph = builder.compile(checkpointer=saver)\n"
        "def on_startup():\n    saver.setup()\n",
        # Made but never given to a graph.
        "saver = PostgresSaver(pool)\n",
    ],
    ids=["startup-hook", "never-given"],
)
def test_savers_set_up_elsewhere_or_never_used_have_no_finding(tail: str) -> None:
    source = POSTGRES + tail
    result = check(source)
    assert result.findings == ()
    assert result.after == source


@pytest.mark.parametrize(
    "tail",
    [
        # Built inline: there is no name to call setup() on.
        "graph = builder.compile(checkpointer=PostgresSaver(pool))\n",
        # Two statements on the line: the setup call has no line of its own to follow.
        "saver = PostgresSaver(pool); graph = builder.compile(checkpointer=saver)\n",
    ],
    ids=["inline", "shared-line"],
)
def test_savers_without_a_place_for_setup_are_reported_byte_identical(tail: str) -> None:
    source = POSTGRES + tail
    result = check(source)
    (finding,) = result.findings
    assert not finding.fixed
    assert result.after == source


def test_the_sqlite_saver_sets_itself_up_and_has_no_finding() -> None:
    source = (
        "from langgraph.checkpoint.sqlite import SqliteSaver\n"
        "from langgraph.graph import MessagesState, StateGraph\n"
        'with SqliteSaver.from_conn_string("a.db") as cp:\n'
        "    graph = StateGraph(MessagesState).compile(checkpointer=cp)\n"
    )
    assert check(source).findings == ()


def test_the_message_names_the_saver_and_the_call_to_add() -> None:
    source = POSTGRES + "saver = PostgresSaver(pool)\ngraph = builder.compile(checkpointer=saver)\n"
    (finding,) = check(source).findings
    assert "PostgresSaver 'saver' is never set up" in finding.message
    assert "saver.setup()" in finding.message
