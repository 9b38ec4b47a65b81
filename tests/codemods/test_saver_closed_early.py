"""saver-closed-early: which blocks close a saver too early, what is fixed, what is reported."""

from __future__ import annotations

import pytest

from memfix.codemods.saver_closed_early.transform import SaverClosedEarly
from memfix.config import Settings
from memfix.facts import FileFacts
from memfix.pipeline.engine import fix_source
from memfix.results import FileResult, Status

IMPORTS = "from langgraph.checkpoint.sqlite import SqliteSaver\nfrom graph import builder\n"
RETURNED = (
    IMPORTS + "\n\ndef build_graph():\n"
    '    with SqliteSaver.from_conn_string("c.db") as cp:\n'
    "        return builder.compile(checkpointer=cp)\n"
)


def fix(source: str, facts: FileFacts | None = None) -> FileResult:
    result = fix_source(
        source,
        path="app.py",
        codemods=[SaverClosedEarly],
        settings=Settings(),
        facts=facts or FileFacts(),
    )
    assert result.status is not Status.FAILED, result.error
    return result


def test_returned_graph_gets_a_saver_opened_once_at_module_scope() -> None:
    result = fix(RETURNED)
    assert 'cp = SqliteSaver(sqlite3.connect("c.db", check_same_thread=False))' in result.after
    assert "from_conn_string" not in result.after
    assert result.after.startswith("import sqlite3\n\nfrom langgraph")
    assert [f.fixed for f in result.findings] == [True]


def test_existing_sqlite3_import_is_not_added_twice() -> None:
    result = fix("import sqlite3\n" + RETURNED)
    assert result.after.count("import sqlite3") == 1


def test_aliased_saver_class_is_resolved_and_kept_in_the_fix() -> None:
    source = RETURNED.replace("import SqliteSaver", "import SqliteSaver as Saver").replace(
        "SqliteSaver.from", "Saver.from"
    )
    assert "cp = Saver(sqlite3.connect(" in fix(source).after


def test_saver_stored_on_self_is_reported_with_what_keeps_it() -> None:
    source = (
        IMPORTS + "\n\nclass Bot:\n    def __init__(self):\n"
        '        with SqliteSaver.from_conn_string("c.db") as cp:\n'
        "            self.graph = builder.compile(checkpointer=cp)\n"
    )
    result = fix(source)
    assert result.after == source
    assert "'self.graph' outlives it" in result.findings[0].message


def test_saver_kept_in_a_global_is_reported() -> None:
    source = (
        IMPORTS + "graph = None\n\n\ndef setup():\n    global graph\n"
        '    with SqliteSaver.from_conn_string("c.db") as cp:\n'
        "        graph = builder.compile(checkpointer=cp)\n"
    )
    result = fix(source)
    assert "'graph' outlives it" in result.findings[0].message


def test_name_taken_at_module_scope_blocks_the_fix() -> None:
    source = RETURNED.replace("\n\ndef build_graph", "cp = None\n\n\ndef build_graph")
    result = fix(source)
    assert result.after == source
    assert "the name 'cp' is taken at module scope" in result.findings[0].message


def test_fastapi_lifespan_app_is_reported_with_the_lifespan_recipe() -> None:
    source = RETURNED + "\n\napp = FastAPI(lifespan=lifespan)\n"
    result = fix("from fastapi import FastAPI\n" + source)
    assert result.after == "from fastapi import FastAPI\n" + source
    assert "open the saver there and keep it on app.state" in result.findings[0].message


def test_async_saver_is_reported_never_rewritten() -> None:
    source = (
        "from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver\nfrom graph import builder\n"
        "\n\nasync def build():\n"
        '    async with AsyncSqliteSaver.from_conn_string("c.db") as cp:\n'
        "        return builder.compile(checkpointer=cp)\n"
    )
    result = fix(source)
    assert result.after == source
    assert "opened inside the event loop" in result.findings[0].message


@pytest.mark.parametrize(
    "body",
    [
        # Used inside the block, then a plain value leaves it.
        "        graph = builder.compile(checkpointer=cp)\n"
        '        return graph.invoke({"messages": []})\n',
        # A generator keeps the block open while its caller runs.
        "        yield builder.compile(checkpointer=cp)\n",
    ],
)
def test_saver_that_stays_open_for_its_use_is_left_alone(body: str) -> None:
    source = (
        IMPORTS + "\n\ndef build_graph():\n"
        '    with SqliteSaver.from_conn_string("c.db") as cp:\n' + body
    )
    result = fix(source)
    assert result.findings == ()
    assert result.after == source


def test_module_block_whose_graph_is_never_used_after_it_is_left_alone() -> None:
    source = (
        IMPORTS + 'with SqliteSaver.from_conn_string("c.db") as cp:\n'
        "    graph = builder.compile(checkpointer=cp)\n"
        '    graph.invoke({"messages": []})\n'
    )
    assert fix(source).findings == ()


def test_suppression_comment_silences_the_finding_and_the_edit() -> None:
    source = RETURNED.replace("as cp:\n", "as cp:  # memfix: ignore[saver-closed-early]\n")
    result = fix(source)
    assert result.findings == ()
    assert result.after == source


def test_platform_graph_module_is_left_to_the_platform() -> None:
    result = fix(RETURNED, FileFacts(platform=("langgraph.json",)))
    assert result.findings == ()
    assert result.after == RETURNED


def test_fix_is_idempotent() -> None:
    once = fix(RETURNED).after
    assert fix(once).after == once
    assert fix(once).findings == ()
