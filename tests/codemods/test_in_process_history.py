"""Edge cases of in-process-history: guards, each backend's exact output, report-only cases."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from memfix.codemods.in_process_history.transform import InProcessHistory
from memfix.config import Backend, Settings
from memfix.pipeline.engine import fix_source
from memfix.results import FileResult, Status
from tests.support.fixtures import parse_fixture

FIXTURES = Path(__file__).parents[1] / "fixtures" / "in-process-history"
CORE = "from langchain_core.chat_history import InMemoryChatMessageHistory\n"
FACTORY = (
    "store = {}\n\n\n"
    "def get_session_history(session_id: str):\n"
    "    if session_id not in store:\n"
    "        store[session_id] = InMemoryChatMessageHistory()\n"
    "    return store[session_id]\n"
)
GRAPH = (
    "from langgraph.checkpoint.memory import InMemorySaver\n\n"
    "graph = builder.compile(checkpointer=InMemorySaver())\n"
)


def fix(
    source: str, backend: Backend = Backend.SQLITE, env: str = "CHAT_HISTORY_URL"
) -> FileResult:
    settings = Settings(backend=backend, history_url_env=env)
    result = fix_source(source, path="app.py", codemods=[InProcessHistory], settings=settings)
    assert result.status is not Status.FAILED, result.error
    return result


@pytest.mark.parametrize(
    "source",
    [
        pytest.param(
            "from langchain_community.chat_message_histories import RedisChatMessageHistory\n\n"
            + FACTORY.replace(
                "InMemoryChatMessageHistory()",
                'RedisChatMessageHistory(session_id, url="redis://r")',
            ),
            id="dict of histories that are already persistent",
        ),
        pytest.param(
            "class InMemoryChatMessageHistory:\n    pass\n\n\n" + FACTORY,
            id="same class name, not from LangChain",
        ),
        pytest.param(
            CORE + "\n\ndef build(messages):\n"
            "    history = InMemoryChatMessageHistory()\n"
            "    history.add_messages(messages)\n"
            "    return history\n",
            id="history built per call, never kept per key",
        ),
        pytest.param(
            CORE + "store = {}\n\n\ndef remember(session_id, history):\n"
            "    store[session_id] = history\n",
            id="the caller hands the history in",
        ),
        pytest.param(
            "from langchain.memory import ConversationBufferMemory\n"
            "from langchain_community.chat_message_histories import SQLChatMessageHistory\n"
            "memories = {}\n\n\ndef memory_for(sid: str):\n"
            "    if sid not in memories:\n"
            "        memories[sid] = ConversationBufferMemory(\n"
            '            chat_memory=SQLChatMessageHistory(session_id=sid, connection="sqlite:///m.db")\n'
            "        )\n"
            "    return memories[sid]\n",
            id="memory over a persistent history",
        ),
        pytest.param(
            "from langgraph.checkpoint.sqlite import SqliteSaver\n\n"
            "graph = builder.compile(checkpointer=SqliteSaver(conn))\n",
            id="graph with a persistent checkpointer",
        ),
    ],
)
def test_noop(source: str) -> None:
    result = fix(source)
    assert result.findings == ()
    assert result.after == source


def test_suppression_comment_silences_finding_and_fix() -> None:
    source = CORE + FACTORY.replace(
        "InMemoryChatMessageHistory()",
        "InMemoryChatMessageHistory()  # memfix: ignore[in-process-history]",
    )
    result = fix(source)
    assert result.findings == ()
    assert result.after == source


REDIS_FACTORY = (
    "import os\n"
    "from langchain_community.chat_message_histories import RedisChatMessageHistory\n\n"
    "# Conversations persist at $CHAT_HISTORY_URL (needs langchain-community, redis).\n"
    'CHAT_HISTORY_URL = os.environ.get("CHAT_HISTORY_URL", "redis://localhost:6379/0")\n\n\n'
    "def _chat_history(session_id: object) -> RedisChatMessageHistory:\n"
    '    """The persistent chat history of one session."""\n'
    "    return RedisChatMessageHistory(session_id=str(session_id), url=CHAT_HISTORY_URL)\n\n\n"
    + FACTORY.replace("InMemoryChatMessageHistory()", "_chat_history(session_id)")
)

POSTGRES_GRAPH = (
    "import os\n"
    "import psycopg\n"
    "from psycopg.rows import dict_row\n"
    "from langgraph.checkpoint.postgres import PostgresSaver\n\n"
    "# Conversations persist at $APP_DB (needs langgraph-checkpoint-postgres, psycopg).\n"
    'APP_DB = os.environ["APP_DB"]\n'
    '_history_conninfo = "postgresql://" + APP_DB.partition("://")[2]\n'
    "_checkpointer = PostgresSaver(\n"
    "    psycopg.connect(\n"
    "        _history_conninfo, autocommit=True, prepare_threshold=0, row_factory=dict_row\n"
    "    )\n"
    ")\n"
    "_checkpointer.setup()\n\n"
    "graph = builder.compile(checkpointer=_checkpointer)\n"
)


@pytest.mark.parametrize(
    ("source", "backend", "env", "expected"),
    [
        pytest.param(CORE + FACTORY, Backend.REDIS, "CHAT_HISTORY_URL", REDIS_FACTORY, id="redis"),
        pytest.param(GRAPH, Backend.POSTGRES, "APP_DB", POSTGRES_GRAPH, id="postgres graph"),
        pytest.param(
            "from langchain_community.chat_message_histories import ChatMessageHistory as H\n"
            "import os\n\n" + FACTORY.replace("InMemoryChatMessageHistory()", "H()"),
            Backend.REDIS,
            "CHAT_HISTORY_URL",
            REDIS_FACTORY,
            id="aliased import dropped, import os kept once",
        ),
    ],
)
def test_fixes(source: str, backend: Backend, env: str, expected: str) -> None:
    result = fix(source, backend, env)
    assert result.findings and all(f.applied for f in result.findings)
    assert result.after == expected, result.diff
    assert fix(result.after, backend, env).after == result.after


ASYNC = "\n\nasync def reply(x):\n    return await chain.ainvoke(x)\n"


@pytest.mark.parametrize(
    ("source", "backend"),
    [
        pytest.param(CORE + FACTORY, Backend.MEMORY, id="memory backend: in process by choice"),
        pytest.param(CORE + FACTORY + ASYNC, Backend.POSTGRES, id="async postgres history"),
        pytest.param(GRAPH, Backend.REDIS, id="redis checkpointer needs RediSearch"),
        pytest.param(GRAPH + ASYNC, Backend.SQLITE, id="async graph"),
        pytest.param(
            CORE + "_history_engine = None\n" + FACTORY,
            Backend.SQLITE,
            id="a name it adds is taken",
        ),
        pytest.param(
            CORE + FACTORY + "\n\ndef reset(session_id):\n    store.pop(session_id, None)\n",
            Backend.SQLITE,
            id="entries are removed to start over",
        ),
    ],
)
def test_reports_without_fixing(source: str, backend: Backend) -> None:
    result = fix(source, backend)
    assert result.findings and not any(f.fixed for f in result.findings)
    assert result.after == source


PROGRAMS = sorted(FIXTURES.glob("*.py"))


@pytest.mark.parametrize("backend", [Backend.SQLITE, Backend.REDIS, Backend.POSTGRES])
@pytest.mark.parametrize("path", PROGRAMS, ids=lambda p: p.stem)
def test_generated_code_names_the_variable_once_and_holds_no_credential(
    path: Path, backend: Backend
) -> None:
    source = parse_fixture(path)[0]
    result = fix(source, backend)
    assert fix(result.after, backend).after == result.after, "not idempotent"
    if not result.changed:
        return
    assert result.after.count('"CHAT_HISTORY_URL"') == 1
    before = {n.value for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Constant)}
    added = [
        n.value
        for n in ast.walk(ast.parse(result.after))
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value not in before
    ]
    for text in added:
        assert "@" not in text and "password" not in text.lower(), text
        if "://" in text:  # a scheme, or a default naming a local file or server only
            assert text.partition("://")[2] in {"", "/", "/chat_history.db", "localhost:6379/0"}


@pytest.mark.parametrize(
    ("call", "engine"),
    [
        pytest.param("chain.invoke(x)", "create_engine(", id="async route, sync call: sync engine"),
        pytest.param(
            "await chain.ainvoke(x)", "create_async_engine(", id="async call: async engine"
        ),
        pytest.param(
            "await chain.apredict(input=x)", "create_async_engine(", id="legacy async call"
        ),
    ],
)
def test_the_calls_choose_the_engine_not_the_def(call: str, engine: str) -> None:
    source = CORE + FACTORY + f"\n\nasync def route(x):\n    return {call}\n"
    result = fix(source)
    assert result.changed
    assert f"_history_engine = {engine}" in result.after.replace("\n    ", "")
