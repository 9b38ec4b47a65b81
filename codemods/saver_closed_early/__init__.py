"""A checkpointer's connection is closed by its own `with` block before the graph uses it.

## What it does
Finds a LangGraph saver opened as a context manager (`with
SqliteSaver.from_conn_string(url) as cp:`, `async with
AsyncSqliteSaver.from_conn_string(...)`, `async with AsyncConnectionPool(...) as
pool:` under an `AsyncPostgresSaver(pool)`) whose saver, or the graph or agent
compiled with it, leaves the block: returned, kept in a module-level name, a `global`
or an attribute (`self.graph`). For the synchronous SQLite saver it opens the saver
once, at module scope, for the life of the program:
`cp = SqliteSaver(sqlite3.connect(url, check_same_thread=False))`, and keeps the
block's statements without the `with`.

## Why is this bad?
The context manager closes the connection (or the pool) when the block ends, which is
as soon as the function returns. The graph that comes out holds a closed saver: its
first `invoke` fails with "Cannot operate on a closed database" (or a closed pool),
so no turn is ever saved.

## Example
```python
def build_graph():
    with SqliteSaver.from_conn_string("checkpoints.db") as checkpointer:
        return builder.compile(checkpointer=checkpointer)
```
Use instead:
```python
checkpointer = SqliteSaver(sqlite3.connect("checkpoints.db", check_same_thread=False))


def build_graph():
    return builder.compile(checkpointer=checkpointer)
```

## Fix safety
Safe for the synchronous `SqliteSaver.from_conn_string` when the block is a statement
of a module-level function (or of the module) and its argument reads only literals and
module-level names defined above: the same database file is opened once instead of
being closed too early; the connection is shared by threads, which SqliteSaver guards
with its own lock. Everything else is reported only, with what blocks the fix: an
async saver or a pool must be opened inside the event loop (in a FastAPI app, open it
in the `lifespan` and keep it on `app.state`: `async with
AsyncSqliteSaver.from_conn_string(url) as cp: app.state.graph =
builder.compile(checkpointer=cp); yield`), an argument that reads a parameter or a
local, a name already taken at module scope, or a block with more than one item. A
block that `yield`s inside (a lifespan or a generator dependency) keeps the saver open
and is left alone. On a LangGraph platform project (a `langgraph.json` naming the
module as a graph) nothing is reported here: the platform provides persistence.
"""

from __future__ import annotations

from memfix.rules import FixAvailability, Rule

RULE = Rule(
    name="saver-closed-early",
    load="memfix.codemods.saver_closed_early.transform:SaverClosedEarly",
    fix=FixAvailability.SOMETIMES,
    priority=12,
    screen=(b"Saver",),
    documentation=__doc__,
)
