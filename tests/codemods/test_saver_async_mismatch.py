"""Edge cases of saver-async-mismatch: which saver opening can be rewritten, and which not."""

from __future__ import annotations

import pytest

from memfix.codemods.saver_async_mismatch.transform import SaverAsyncMismatch
from memfix.results import FileResult, Status
from memfix.testing import run

SQLITE = (
    "from langgraph.checkpoint.sqlite import SqliteSaver\n"
    "from langgraph.graph import START, MessagesState, StateGraph\n"
    "builder = StateGraph(MessagesState)\n"
)
POSTGRES = SQLITE.replace("sqlite import SqliteSaver", "postgres import PostgresSaver")


def answer(opening: str, body: str, *, header: str = "async def answer(tid, text):\n") -> str:
    compiled = "        graph = builder.compile(checkpointer=saver)\n"
    return f"{header}    {opening} as saver:\n{compiled}{body}"


AWAIT = (
    '        return await graph.ainvoke({"messages": []}, {"configurable": {"thread_id": tid}})\n'
)
INVOKE = '        return graph.invoke({"messages": []}, {"configurable": {"thread_id": tid}})\n'


def check(source: str) -> FileResult:
    result = run(SaverAsyncMismatch, source)
    assert result.status is not Status.FAILED, result.error
    return result


def test_a_postgres_saver_opened_in_an_async_function_becomes_the_async_one() -> None:
    source = POSTGRES + answer("with PostgresSaver.from_conn_string(DB)", AWAIT)
    result = check(source)
    assert "from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver\n" in result.after
    assert "async with AsyncPostgresSaver.from_conn_string(DB) as saver:" in result.after
    assert "import PostgresSaver\n" not in result.after
    assert check(result.after).findings == ()


def test_an_import_still_read_elsewhere_stays_and_the_partner_is_added() -> None:
    source = (
        SQLITE
        + answer('with SqliteSaver.from_conn_string("a.db")', AWAIT)
        + "def offline():\n    return SqliteSaver\n"
    )
    result = check(source)
    assert "from langgraph.checkpoint.sqlite import SqliteSaver\n" in result.after
    assert "from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver\n" in result.after


@pytest.mark.parametrize(
    "source",
    [
        # The same saver is also run sync: the rewrite would break that call.
        SQLITE
        + answer(
            'with SqliteSaver.from_conn_string("a.db")',
            AWAIT.replace("return await", "graph.invoke({}, {})\n        return await"),
        ),
        # Other methods of the saver would have to be awaited too.
        SQLITE
        + answer('with SqliteSaver.from_conn_string("a.db")', "        saver.list(None)\n" + AWAIT),
        # A with that opens two things cannot become `async with` for one of them.
        SQLITE + answer('with open("log") as log, SqliteSaver.from_conn_string("a.db")', AWAIT),
        # Not in an async def: an `async with` would not parse.
        SQLITE
        + answer(
            'with SqliteSaver.from_conn_string("a.db")',
            "        return asyncio.run(graph.ainvoke({}, {}))\n",
            header="def answer(tid, text):\n",
        ),
    ],
    ids=["also-sync", "saver-methods", "two-items", "sync-function"],
)
def test_openings_without_a_faithful_rewrite_are_reported_byte_identical(source: str) -> None:
    result = check(source)
    assert result.findings
    assert not any(f.fixed for f in result.findings)
    assert result.after == source


def test_a_sync_stream_over_an_async_saver_is_reported_not_rewritten() -> None:
    source = SQLITE.replace(
        "sqlite import SqliteSaver", "sqlite.aio import AsyncSqliteSaver"
    ) + answer(
        'async with AsyncSqliteSaver.from_conn_string("a.db")',
        "        for chunk in graph.stream({}, {}):\n            print(chunk)\n",
    )
    result = check(source)
    (finding,) = result.findings
    assert "AsyncSqliteSaver is async" in finding.message
    assert result.after == source


def test_a_sync_invoke_inside_a_lambda_is_not_awaited() -> None:
    source = SQLITE.replace(
        "sqlite import SqliteSaver", "sqlite.aio import AsyncSqliteSaver"
    ) + answer(
        'async with AsyncSqliteSaver.from_conn_string("a.db")',
        "        run = lambda: graph.invoke({}, {})\n        return run\n",
    )
    result = check(source)
    assert result.findings and result.after == source


def test_the_message_names_the_error_of_the_first_turn() -> None:
    source = SQLITE + answer('with SqliteSaver.from_conn_string("a.db")', AWAIT)
    (finding,) = check(source).findings
    assert "graph.ainvoke()" in finding.message
    assert "NotImplementedError" in finding.message


def test_a_saver_read_through_its_module_loses_that_import_once_unread() -> None:
    source = SQLITE.replace(
        "from langgraph.checkpoint.sqlite import SqliteSaver\n",
        "from langgraph.checkpoint import sqlite as lg_sqlite\n",
    ) + answer('with lg_sqlite.SqliteSaver.from_conn_string("a.db")', AWAIT)
    result = check(source)
    assert "lg_sqlite" not in result.after
    assert "async with AsyncSqliteSaver.from_conn_string" in result.after
