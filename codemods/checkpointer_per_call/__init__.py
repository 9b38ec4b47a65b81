"""A LangGraph checkpointer is built on every call, so every thread starts empty.

## What it does
Finds a checkpointer (`InMemorySaver()` / `MemorySaver()`, or a persistent saver built
from its class) made inside a function that answers a turn (it calls `invoke`,
`stream` or their async forms: a route, a callback, a handler, a plain `ask()`),
whether it is kept in a local or passed straight to `create_react_agent`,
`create_agent` or `builder.compile(checkpointer=...)`; and one made at the top of a
Streamlit script, which re-runs on every interaction. It moves the checkpointer to
module scope (in Streamlit: into `st.session_state`), so every call reads and writes
the same one; the `thread_id` each call passes is kept as it is, and still keeps the
conversations apart.

## Why is this bad?
A new checkpointer has no checkpoints. The agent or graph compiled with it answers
the first turn, saves it into an object thrown away when the function returns, and
answers the next turn of the same `thread_id` as if it had never met the user. A
persistent saver built per call reads its threads back, but opens its store on every
call, and one over a temporary store (`:memory:`) forgets like an in-memory one; at the
top of a Streamlit script only the in-memory savers are reported.

## Example
```python
def ask(question: str, thread_id: str):
    agent = create_react_agent(model, tools, checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": thread_id}}
    return agent.invoke({"messages": [("user", question)]}, config)
```
Use instead:
```python
checkpointer = InMemorySaver()


def ask(question: str, thread_id: str):
    agent = create_react_agent(model, tools, checkpointer=checkpointer)
    config = {"configurable": {"thread_id": thread_id}}
    return agent.invoke({"messages": [("user", question)]}, config)
```

## Fix safety
Safe: only the checkpointer's construction moves, unchanged, above the function (or
behind a `st.session_state` guard); the agent or graph is still built where it was,
now over the one checkpointer, whose threads are keyed by `thread_id`. It is reported
without a fix when the construction reads a parameter or a local (the finding names
them), sits inside a nested block, or would take a name already bound at module scope
or bound again in the function. A function that only builds and returns a graph (a
factory called once) and a function cached with `st.cache_resource` or `lru_cache`
are left alone. On a LangGraph platform project (a `langgraph.json` naming the module
as a graph) nothing is reported here: the platform keeps the threads, and
in-process-history reports the checkpointer the graph must not have. A checkpointer
that keeps threads in process memory is also reported by in-process-history, which
makes the hoisted one persistent.
"""

from __future__ import annotations

from memfix.rules import FixAvailability, Rule

RULE = Rule(
    name="checkpointer-per-call",
    load="memfix.codemods.checkpointer_per_call.transform:CheckpointerPerCall",
    fix=FixAvailability.SOMETIMES,
    priority=15,
    screen=(b"Saver",),
    documentation=__doc__,
)
