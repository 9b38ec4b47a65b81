"""LangGraph checkpointer programs run before and after missing-thread-id,
saver-async-mismatch and saver-not-set-up, with a fake chat model.

Before the fix the first turn raises; after it, two turns of one user are remembered
and another user starts empty. Each program also comes in mechanical variants (renamed
identifiers, other import spellings, a config written inline or in a variable, the
result used at once or later): each must work after the fix, or come back
byte-identical with a finding.
"""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from memfix.results import FileResult, Status
from memfix.rules.registry import by_name
from memfix.testing import run
from tests.support.fakes import PROMPTS, fake_chat_openai, last_prompt, run_program
from tests.support.fixtures import parse_fixture

FIXTURES = Path(__file__).parents[1] / "fixtures"
FIRST = "My name is Sam"


@dataclass(frozen=True, slots=True)
class Program:
    """A program's text and the function that answers one turn: `entry(user, text)`."""

    label: str
    source: str
    entry: str
    fixed: bool = True  # False: no faithful rewrite exists, the finding is report-only


@pytest.fixture(autouse=True)
def fake_model(monkeypatch: pytest.MonkeyPatch) -> None:
    import langchain_openai

    PROMPTS.clear()
    monkeypatch.setattr(langchain_openai, "ChatOpenAI", fake_chat_openai)


def fixture_source(rule: str, name: str) -> str:
    return parse_fixture(FIXTURES / rule / f"{name}.py")[0]


def fixed(rule: str, source: str) -> FileResult:
    result = run(by_name(rule), source)
    assert result.status is not Status.FAILED, result.error
    return result


def rename(text: str, old: str, new: str) -> str:
    """The text with the identifier `old` renamed: never an attribute, a module part or
    a keyword argument (`checkpointer=saver` keeps its keyword)."""
    return re.sub(rf"(?<![.\w]){old}\b(?!=)", new, text)


def turn(namespace: dict[str, Any], entry: str, user: str, text: str) -> object:
    """Answer one turn, awaiting the entry point when it is a coroutine function."""
    answer = namespace[entry](user, text)
    return asyncio.run(answer) if asyncio.iscoroutine(answer) else answer


def assert_remembers_and_isolates(make: Callable[[], dict[str, Any]], entry: str) -> None:
    namespace = make()
    turn(namespace, entry, "alice", FIRST)
    turn(namespace, entry, "alice", "What is my name?")
    assert FIRST in last_prompt(), "the second turn did not see the first"
    turn(namespace, entry, "bob", "Who am I?")
    assert FIRST not in last_prompt(), "another user saw alice's conversation"


def check_variant(
    rule: str,
    program: Program,
    make: Callable[[str], dict[str, Any]],
    error: type[BaseException],
) -> None:
    """Before the fix the first turn raises `error`; after it the program remembers, or
    it came back unchanged with a finding."""
    with pytest.raises(error):
        turn(make(program.source), program.entry, "alice", FIRST)
    result = fixed(rule, program.source)
    assert result.findings, f"{program.label}: no finding"
    if not program.fixed:
        assert result.after == program.source, result.diff
        return
    assert result.after != program.source, f"{program.label}: not fixed"
    PROMPTS.clear()
    assert_remembers_and_isolates(lambda: make(result.after), program.entry)


# --- missing-thread-id -------------------------------------------------------------

ROUTE = fixture_source("missing-thread-id", "fastapi_route")
ROUTE_CALL = '    result = graph.invoke({"messages": [("user", text)]})\n'
ROUTE_RETURN = '    return result["messages"][-1].content\n'
MEMORY_IMPORT = "from langgraph.checkpoint.memory import MemorySaver\n"


def route_variants() -> Iterator[Program]:
    yield Program("as-written", ROUTE, "chat")
    renamed = rename(rename(rename(ROUTE, "graph", "assistant"), "chat", "respond"), "text", "said")
    yield Program("renamed", renamed, "respond")
    yield Program(
        "aliased-import",
        ROUTE.replace(
            MEMORY_IMPORT, MEMORY_IMPORT.replace("MemorySaver", "InMemorySaver as MemorySaver")
        ),
        "chat",
    )
    yield Program(
        "module-import",
        ROUTE.replace(
            MEMORY_IMPORT, "from langgraph.checkpoint import memory as lg_memory\n"
        ).replace("MemorySaver()", "lg_memory.MemorySaver()"),
        "chat",
    )
    yield Program(
        "config-variable",
        ROUTE.replace(
            ROUTE_CALL,
            '    config = {"recursion_limit": 25}\n' + ROUTE_CALL.replace("]})", "]}, config)"),
        ),
        "chat",
    )
    yield Program(
        "result-used-at-once",
        ROUTE.replace(
            ROUTE_CALL + ROUTE_RETURN,
            '    return graph.invoke({"messages": [("user", text)]})["messages"][-1].content\n',
        ),
        "chat",
    )
    yield Program(
        "no-identity",
        ROUTE.replace("def chat(user_id: str, text: str)", "def chat(text: str, user: str)"),
        "chat",
        fixed=False,
    )
    yield Program(
        "streamed",
        fixture_source("missing-thread-id", "stream_config_without_thread"),
        "reply",
    )


@pytest.mark.parametrize("program", list(route_variants()), ids=lambda p: p.label)
def test_missing_thread_id_fix_makes_a_raising_graph_remember_each_user(program: Program) -> None:
    assert program.source != ROUTE or program.label == "as-written"
    check_variant("missing-thread-id", program, run_program, ValueError)


def test_missing_thread_id_without_fix_raises_the_checkpointer_error() -> None:
    namespace = run_program(ROUTE)
    with pytest.raises(ValueError, match="thread_id"):
        namespace["chat"]("alice", FIRST)


# --- saver-async-mismatch ----------------------------------------------------------

ASYNC_ROUTE = fixture_source("saver-async-mismatch", "async_route_sqlite")
SQLITE_IMPORT = "from langgraph.checkpoint.sqlite import SqliteSaver\n"


def async_route_variants() -> Iterator[Program]:
    yield Program("as-written", ASYNC_ROUTE, "chat")
    renamed = rename(rename(ASYNC_ROUTE, "memory", "cp"), "graph", "workflow")
    yield Program("renamed", renamed, "chat")
    yield Program(
        "config-inline",
        ASYNC_ROUTE.replace(
            '        config = {"configurable": {"thread_id": user_id}}\n', ""
        ).replace("]}, config)", ']}, {"configurable": {"thread_id": user_id}})'),
        "chat",
    )
    yield Program(
        "result-used-at-once",
        ASYNC_ROUTE.replace("        result = await", "        return (await")
        .replace("]}, config)\n", ']}, config))["messages"][-1].content\n')
        .replace('    return result["messages"][-1].content\n', ""),
        "chat",
    )
    yield Program(
        "module-import",
        ASYNC_ROUTE.replace(
            SQLITE_IMPORT, "from langgraph.checkpoint import sqlite as lg_sqlite\n"
        ).replace("SqliteSaver.from_conn_string", "lg_sqlite.SqliteSaver.from_conn_string"),
        "chat",
    )
    yield Program(
        "module-scope-connection",
        fixture_source("saver-async-mismatch", "module_sqlite_connection"),
        "answer",
        fixed=False,
    )


@pytest.mark.parametrize("program", list(async_route_variants()), ids=lambda p: p.label)
def test_saver_async_mismatch_fix_lets_an_async_route_remember_on_sqlite(
    program: Program, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHECKPOINTS_DB", str(tmp_path / "checkpoints.db"))
    monkeypatch.chdir(tmp_path)  # a program that names its file relatively writes it here
    check_variant("saver-async-mismatch", program, run_program, NotImplementedError)


def test_saver_async_mismatch_without_fix_raises_not_implemented(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHECKPOINTS_DB", str(tmp_path / "checkpoints.db"))
    namespace = run_program(ASYNC_ROUTE)
    with pytest.raises(NotImplementedError, match="does not support async"):
        asyncio.run(namespace["chat"]("alice", FIRST))


def test_the_async_sqlite_fix_keeps_the_conversation_in_the_file_across_restarts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHECKPOINTS_DB", str(tmp_path / "checkpoints.db"))
    after = fixed("saver-async-mismatch", ASYNC_ROUTE).after
    asyncio.run(run_program(after)["chat"]("alice", FIRST))
    asyncio.run(run_program(after)["chat"]("alice", "What is my name?"))
    assert FIRST in last_prompt()


def test_a_sync_invoke_over_the_async_saver_works_once_awaited(tmp_path: Path) -> None:
    source = fixture_source("saver-async-mismatch", "async_saver_sync_invoke")
    database = str(tmp_path / "checkpoints.db")

    def make(text: str) -> dict[str, Any]:
        namespace = run_program(text)
        handle = namespace["handle"]
        namespace["entry"] = lambda user, said: handle(user, said, database)
        return namespace

    program = Program("sync-invoke", source, "entry")
    check_variant("saver-async-mismatch", program, make, asyncio.InvalidStateError)


# --- saver-not-set-up (against the PostgreSQL the suite starts) ---------------------


def _postgres_conninfo() -> str:
    url = os.environ.get("MEMFIX_TEST_POSTGRES_URL", "")
    problem = "MEMFIX_TEST_POSTGRES_URL is not set"
    if url:
        import psycopg

        conninfo = "postgresql://" + url.partition("://")[2]
        try:
            with psycopg.connect(conninfo, connect_timeout=5) as connection:
                connection.execute("SELECT 1")
            return conninfo
        except psycopg.Error as error:
            problem = f"cannot reach the server at $MEMFIX_TEST_POSTGRES_URL: {error}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{problem} (CI=true: .ci/services.sh should have started it)")
    pytest.skip(f"{problem}: run .ci/services.sh and export the variables it prints")


@pytest.fixture
def fresh_schema(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A conninfo whose search_path is a new, empty schema, dropped afterwards."""
    import psycopg

    conninfo = _postgres_conninfo()
    schema = f"memfix_setup_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in conninfo else "?"
    monkeypatch.setenv("DATABASE_URL", f"{conninfo}{separator}options=-csearch_path%3D{schema}")
    yield schema
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(f"DROP SCHEMA {schema} CASCADE")


def setup_variants() -> Iterator[Program]:
    source = fixture_source("saver-not-set-up", "postgres_with_block")
    yield Program("as-written", source, "ask")
    yield Program("renamed", rename(source, "checkpointer", "saver"), "ask")
    yield Program(
        "module-import",
        source.replace(
            "from langgraph.checkpoint.postgres import PostgresSaver\n",
            "from langgraph.checkpoint import postgres as lg_postgres\n",
        ).replace("PostgresSaver.from_conn_string", "lg_postgres.PostgresSaver.from_conn_string"),
        "ask",
    )
    yield Program(
        "config-inline",
        source.replace('        config = {"configurable": {"thread_id": thread_id}}\n', "").replace(
            "]}, config)", ']}, {"configurable": {"thread_id": thread_id}})'
        ),
        "ask",
    )


@pytest.mark.parametrize("program", list(setup_variants()), ids=lambda p: p.label)
def test_saver_not_set_up_fix_makes_a_fresh_postgres_schema_work(
    program: Program, fresh_schema: str
) -> None:
    import psycopg

    check_variant("saver-not-set-up", program, run_program, psycopg.errors.UndefinedTable)


def test_saver_not_set_up_without_fix_fails_on_a_fresh_schema(fresh_schema: str) -> None:
    import psycopg

    namespace = run_program(fixture_source("saver-not-set-up", "postgres_with_block"))
    with pytest.raises(psycopg.errors.UndefinedTable):
        namespace["ask"]("alice", FIRST)
