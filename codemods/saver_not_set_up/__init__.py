"""A Postgres or Redis checkpointer is used without ever being set up.

## What it does
Finds a `PostgresSaver`, `AsyncPostgresSaver`, `RedisSaver` or `AsyncRedisSaver` that
the module gives to a graph or an agent as its checkpointer, while nothing in the module
calls its `setup()` (`asetup()` for the async Redis saver). It adds the call right after
the saver is made: `saver.setup()` for a sync saver; `await saver.setup()` (or
`await saver.asetup()`) for an async one, made in the same `async` function.

## Why is this bad?
These savers keep their checkpoints in tables (or search indexes) that only `setup()`
creates. On a fresh database the first turn fails when it writes its checkpoint:
`psycopg.errors.UndefinedTable: relation "checkpoints" does not exist`. The program
works on the developer's database, where a notebook once ran setup, and fails in a new
deployment.

## Example
```python
with PostgresSaver.from_conn_string(DB_URI) as checkpointer:
    graph = builder.compile(checkpointer=checkpointer)
    graph.invoke({"messages": [("user", "hi")]}, config)
```
Use instead:
```python
with PostgresSaver.from_conn_string(DB_URI) as checkpointer:
    checkpointer.setup()
    graph = builder.compile(checkpointer=checkpointer)
    graph.invoke({"messages": [("user", "hi")]}, config)
```

## Fix safety
Safe: `setup()` creates what is missing and leaves existing tables and their rows
alone, so running it on every start is harmless. A module that calls `setup()` or
`asetup()` anywhere (in a lifespan, a startup hook, a migration script it imports) is
left alone. Report only for an async saver made outside an `async` function (at module
scope the call could not be awaited), a saver built inline in
`compile(checkpointer=...)` (no name to set up), and a saver made on a line that holds
other statements.
"""

from __future__ import annotations

from memfix.rules import FixAvailability, Rule

RULE = Rule(
    name="saver-not-set-up",
    load="memfix.codemods.saver_not_set_up.transform:SaverNotSetUp",
    fix=FixAvailability.SOMETIMES,
    priority=57,
    screen=(b"PostgresSaver", b"RedisSaver"),
    documentation=__doc__,
)
