"""Chat histories or LangGraph checkpoints live in process memory, so a restart loses them.

## What it does
Finds the per-session history factory of `RunnableWithMessageHistory` (`store = {}` and
`get_session_history`, under any names, with `in`, `.get` or `setdefault`, on a module
dict or on a service object) whose values are `InMemoryChatMessageHistory` /
`ChatMessageHistory`, or memories built without a `chat_memory`; and LangGraph's
`MemorySaver` / `InMemorySaver`. It gives each session a persistent history instead:
SQLite by default (`SQLChatMessageHistory`, a local file, nothing to start), Redis or
Postgres with `--backend` (`[tool.memfix] backend`); graphs get `SqliteSaver` or
`PostgresSaver`. The URL comes from one environment variable, named once at the top
of the module (`[tool.memfix] history-url-env`, default `CHAT_HISTORY_URL`).

## Why is this bad?
A dict of in-memory histories is empty again after every restart, redeploy or reload,
and a second worker process has a dict of its own: users lose their conversation, or
see it come and go depending on which worker answers.

## Example
```python
store = {}


def get_session_history(session_id: str):
    if session_id not in store:
        store[session_id] = InMemoryChatMessageHistory()
    return store[session_id]
```
Use instead:
```python
# Conversations persist at $CHAT_HISTORY_URL (needs langchain-community, sqlalchemy).
CHAT_HISTORY_URL = os.environ.get("CHAT_HISTORY_URL", "sqlite:///chat_history.db")
_history_engine = create_engine(CHAT_HISTORY_URL)


def _chat_history(session_id: object) -> SQLChatMessageHistory:
    return SQLChatMessageHistory(session_id=str(session_id), connection=_history_engine)


store = {}


def get_session_history(session_id: str):
    if session_id not in store:
        store[session_id] = _chat_history(session_id)
    return store[session_id]
```

## Fix safety
Safe: signatures do not change; the dict stays as a cache of history objects, which
now read and write the backend on every turn, and the new module-level code only
reads the environment and opens the connection. The program needs the backend's
packages (`langchain-community` and `sqlalchemy` for SQLite, `redis`,
`langchain-postgres` and `psycopg`, `langgraph-checkpoint-sqlite` or
`langgraph-checkpoint-postgres`) and, for Postgres, the variable set to a
`postgresql+psycopg://` URL. The codemod reports without rewriting when the factory
reads the dict with more than one key, when something removes entries from the dict
(a "new conversation" button would stop working), when a chain builds its own memory,
in an async module whose history is also used synchronously (a SQL history serves one
mode per engine, and a legacy memory under `apredict` loads its turns synchronously and
saves them asynchronously), for an async Postgres history or an async graph (their
connections must be opened inside the event loop), for a Redis graph checkpointer (it
needs RediSearch), when a name it would add is already taken, and with `--backend
memory`. The comment above the URL names the packages, and `memfix apply` adds the
missing ones, unpinned, to the nearest
`requirements.txt` or `pyproject.toml` dependency list in the same change. In a
module that a `langgraph.json` names as a graph it never adds a checkpointer and reports
the one present: the LangGraph platform provides persistence and rejects a graph
compiled with its own checkpointer.
"""

from __future__ import annotations

from memfix.rules import FixAvailability, Rule
from memfix.vocabulary import CONVERSATION_CLASSES, MEMORY_WORDS

RULE = Rule(
    name="in-process-history",
    load="memfix.codemods.in_process_history.transform:InProcessHistory",
    fix=FixAvailability.SOMETIMES,
    priority=20,
    screen=(b"ChatMessageHistory", b"MemorySaver", b"ConversationChain", *MEMORY_WORDS),
    triggers=CONVERSATION_CLASSES,
    documentation=__doc__,
)
