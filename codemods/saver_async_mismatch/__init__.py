"""A graph runs async on a sync checkpointer, or sync on an async one.

## What it does
Finds a LangGraph graph or agent compiled with a sync saver (`SqliteSaver`,
`PostgresSaver`, `RedisSaver`) and run with `ainvoke`, `astream`, `astream_events` or
`abatch`; and the reverse, one compiled with `AsyncSqliteSaver`, `AsyncPostgresSaver` or
`AsyncRedisSaver` and run with `invoke`, `stream` or `batch`. When the sync saver is
opened with `with SqliteSaver.from_conn_string(...) as saver:` (or the Postgres one)
inside an `async def`, and the graph is only run async, it opens the async saver
instead: `async with AsyncSqliteSaver.from_conn_string(...) as saver:`, its import
added and `saver.setup()` awaited. A sync `graph.invoke(...)` on an async saver inside
an `async def` becomes `await graph.ainvoke(...)`.

## Why is this bad?
A sync saver has no async methods: the first `ainvoke` raises `NotImplementedError:
The SqliteSaver does not support async methods`. An async saver run from sync code in
its own event loop raises `InvalidStateError: Synchronous calls to AsyncSqliteSaver are
only allowed from a different thread`, and elsewhere it blocks.

## Example
```python
async def answer(thread_id: str, text: str) -> str:
    with SqliteSaver.from_conn_string("chat.db") as saver:
        graph = builder.compile(checkpointer=saver)
        result = await graph.ainvoke({"messages": [("user", text)]}, config(thread_id))
    return result["messages"][-1].content
```
Use instead:
```python
async def answer(thread_id: str, text: str) -> str:
    async with AsyncSqliteSaver.from_conn_string("chat.db") as saver:
        graph = builder.compile(checkpointer=saver)
        result = await graph.ainvoke({"messages": [("user", text)]}, config(thread_id))
    return result["messages"][-1].content
```

## Fix safety
Safe: the saver keeps the same database and the same threads, and the graph runs as
before. Report only when no faithful rewrite exists: a saver built at module scope
(`SqliteSaver(sqlite3.connect(...))` cannot become `AsyncSqliteSaver(aiosqlite.connect(
...))` there: an async saver needs the running event loop, and an aiosqlite connection
must be awaited), a saver the module also runs sync or calls other methods of, a `with`
that opens more than one thing or is not in an `async def`, a Redis saver, and a sync
`stream` or `batch` (an `async for` would have to replace the loop).
"""

from __future__ import annotations

from memfix.rules import FixAvailability, Rule

RULE = Rule(
    name="saver-async-mismatch",
    load="memfix.codemods.saver_async_mismatch.transform:SaverAsyncMismatch",
    fix=FixAvailability.SOMETIMES,
    priority=56,
    screen=(b"Saver",),
    documentation=__doc__,
)
