"""The code each persistent backend needs: imports, start-up statements, a history factory.

Every backend reads its URL from one environment variable, named once near the top of
the module. Nothing here writes a credential: a default URL is only ever a local file
or a local server with no password.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from memfix.config import Backend

HISTORY_TABLE = "chat_history"
HISTORY_FACTORY = "_chat_history"


@dataclass(frozen=True, slots=True)
class Persistence:
    """What a module needs so that histories or checkpoints outlive the process."""

    imports: tuple[str, ...]  # import statements, one each
    setup: tuple[str, ...]  # module-level statements, after the imports
    packages: tuple[str, ...]  # distributions the new code imports
    template: str  # the expression that replaces the in-process object; `{key}` if keyed

    def expression(self, key: str = "") -> str:
        return self.template.format(key=key)


def url_constant(env: str) -> str:
    """The module constant holding the URL: the variable's name, when it is a valid one."""
    name = re.sub(r"\W", "_", env).upper()
    return name if name.isidentifier() and not name[0].isdigit() else f"_{name}"


def _url(env: str, default: str | None) -> str:
    constant = url_constant(env)
    if default is None:
        return f'{constant} = os.environ["{env}"]'
    return f'{constant} = os.environ.get("{env}", "{default}")'


def _postgres_conninfo(env: str) -> str:
    # The variable holds a SQLAlchemy URL (postgresql+psycopg://...); psycopg wants plain libpq.
    return f'_history_conninfo = "postgresql://" + {url_constant(env)}.partition("://")[2]'


def _factory(
    returns: str, body: str, doc: str = "The persistent chat history of one session."
) -> str:
    return f'def {HISTORY_FACTORY}(session_id: object) -> {returns}:\n    """{doc}"""\n{body}'


_SQL_FACTORY = _factory(
    "SQLChatMessageHistory",
    "    return SQLChatMessageHistory(session_id=str(session_id), connection=_history_engine)\n",
)

_POSTGRES_FACTORY = _factory(
    "PostgresChatMessageHistory",
    "    try:\n"
    "        key = str(uuid.UUID(str(session_id)))\n"
    "    except ValueError:\n"
    '        key = str(uuid.uuid5(uuid.NAMESPACE_URL, f"chat-history:{session_id}"))\n'
    f'    return PostgresChatMessageHistory("{HISTORY_TABLE}", key, '
    "sync_connection=_history_connection)\n",
    doc="The session's persistent history; Postgres takes UUIDs, other ids map to a uuid5.",
)

_SQL_HISTORY_IMPORT = "from langchain_community.chat_message_histories import SQLChatMessageHistory"
_KEYED = f"{HISTORY_FACTORY}({{key}})"


def history_persistence(backend: Backend, env: str, *, asynchronous: bool) -> Persistence | None:
    """The code for a persistent chat history; None when the backend has no such fix."""
    url = url_constant(env)
    if backend is Backend.SQLITE:
        if asynchronous:  # the sync engine raises under ainvoke: aiosqlite, same file
            engine = (
                "from sqlalchemy.ext.asyncio import create_async_engine",
                "_history_engine = create_async_engine(\n"
                f'    {url}.replace("sqlite://", "sqlite+aiosqlite://", 1)\n)',
            )
        else:
            engine = (
                "from sqlalchemy import create_engine",
                f"_history_engine = create_engine({url})",
            )
        return Persistence(
            imports=("import os", engine[0], _SQL_HISTORY_IMPORT),
            setup=(_url(env, "sqlite:///chat_history.db"), engine[1], _SQL_FACTORY),
            packages=(
                "langchain-community",
                "sqlalchemy",
                *(("aiosqlite",) if asynchronous else ()),
            ),
            template=_KEYED,
        )
    if backend is Backend.REDIS:
        # langchain_community's class runs on a plain Redis server (no RediSearch needed).
        return Persistence(
            imports=(
                "import os",
                "from langchain_community.chat_message_histories import RedisChatMessageHistory",
            ),
            setup=(
                _url(env, "redis://localhost:6379/0"),
                _factory(
                    "RedisChatMessageHistory",
                    f"    return RedisChatMessageHistory(session_id=str(session_id), url={url})\n",
                ),
            ),
            packages=("langchain-community", "redis"),
            template=_KEYED,
        )
    if backend is Backend.POSTGRES and not asynchronous:
        return Persistence(
            imports=(
                "import os",
                "import uuid",
                "import psycopg",
                "from langchain_postgres import PostgresChatMessageHistory",
            ),
            setup=(
                _url(env, None),
                _postgres_conninfo(env),
                "_history_connection = psycopg.connect(_history_conninfo, autocommit=True)",
                f'PostgresChatMessageHistory.create_tables(_history_connection, "{HISTORY_TABLE}")',
                _POSTGRES_FACTORY,
            ),
            packages=("langchain-postgres", "psycopg"),
            template=_KEYED,
        )
    # Memory keeps the state in process by choice; an async Postgres history needs an
    # awaited connection that a synchronous factory cannot open.
    return None


def checkpointer_persistence(
    backend: Backend, env: str, *, asynchronous: bool
) -> Persistence | None:
    """The code for a persistent LangGraph checkpointer; None when there is no safe one."""
    if asynchronous:
        return None  # AsyncSqliteSaver / AsyncPostgresSaver must be opened inside the loop
    url = url_constant(env)
    if backend is Backend.SQLITE:
        return Persistence(
            imports=(
                "import os",
                "import sqlite3",
                "from langgraph.checkpoint.sqlite import SqliteSaver",
            ),
            setup=(
                _url(env, "sqlite:///chat_history.db"),
                "_checkpointer = SqliteSaver(\n"
                f'    sqlite3.connect({url}.removeprefix("sqlite:///"), check_same_thread=False)\n'
                ")",
            ),
            packages=("langgraph-checkpoint-sqlite",),
            template="_checkpointer",
        )
    if backend is Backend.POSTGRES:
        return Persistence(
            imports=(
                "import os",
                "import psycopg",
                "from psycopg.rows import dict_row",
                "from langgraph.checkpoint.postgres import PostgresSaver",
            ),
            setup=(
                _url(env, None),
                _postgres_conninfo(env),
                "_checkpointer = PostgresSaver(\n"
                "    psycopg.connect(\n"
                "        _history_conninfo, autocommit=True, prepare_threshold=0, "
                "row_factory=dict_row\n"
                "    )\n"
                ")",
                "_checkpointer.setup()",
            ),
            packages=("langgraph-checkpoint-postgres", "psycopg"),
            template="_checkpointer",
        )
    return None  # Redis checkpointers need the RediSearch module; memory is a choice


def merged(parts: list[Persistence]) -> tuple[list[str], list[str], list[str]]:
    """Imports, setup statements and packages of several fixes, each once, in order."""
    imports = list(dict.fromkeys(line for part in parts for line in part.imports))
    setup = list(dict.fromkeys(line for part in parts for line in part.setup))
    packages = list(dict.fromkeys(name for part in parts for name in part.packages))
    return imports, setup, packages
