"""A graph with a checkpointer is invoked without a thread_id.

## What it does
Finds a LangGraph graph or agent compiled with a checkpointer (`builder.compile(
checkpointer=...)`, `create_react_agent(..., checkpointer=...)`) whose `invoke`,
`ainvoke`, `stream`, `astream` or `batch` call passes no thread id: no config at all, a
config without `configurable`, or a `configurable` without `thread_id`. When an identity
is in reach at that call (a route's `user_id` or `session_id`, a request field, a bot's
chat id, a Streamlit or Chainlit session id), it adds the thread id from it:
`config={"configurable": {"thread_id": user_id}}`, or the missing key inside the config
the call already writes. With no identity in reach it reports what is missing.

## Why is this bad?
A checkpointer keeps one conversation per thread and finds it by `thread_id`. Without
one, LangGraph raises `ValueError: Checkpointer requires one or more of the following
'configurable' keys: thread_id, checkpoint_ns, checkpoint_id` on the first turn.

## Example
```python
graph = builder.compile(checkpointer=MemorySaver())


@app.post("/chat")
def chat(user_id: str, text: str):
    return graph.invoke({"messages": [("user", text)]})
```
Use instead:
```python
graph = builder.compile(checkpointer=MemorySaver())


@app.post("/chat")
def chat(user_id: str, text: str):
    return graph.invoke(
        {"messages": [("user", text)]}, config={"configurable": {"thread_id": user_id}}
    )
```

## Fix safety
Safe when the identity is proven by the framework (a session object, a bot's chat id)
or is a parameter or request field named like one (`user_id`, `session_id`, `chat_id`):
only the call's config changes. Unsafe (applied with `--unsafe-fixes`) when the
identity is a weaker guess, such as a header or a cookie. A config variable the same
function builds once from a dict literal, and never changes, gets the key where it is
written. Report only when no identity is in reach, when the identity is read only after
that config is written, or when the model can tell that a config built elsewhere lacks a
thread id. A config handed in by the caller, a call that spreads `*args` or `**kwargs`,
and `with_config(configurable=...)` are left alone. A thread id that is a constant or a
fresh uuid on every call is `unstable-session-key`'s finding, not this one's.
"""

from __future__ import annotations

from memfix.rules import FixAvailability, Rule

RULE = Rule(
    name="missing-thread-id",
    load="memfix.codemods.missing_thread_id.transform:MissingThreadId",
    fix=FixAvailability.SOMETIMES,
    priority=55,
    screen=(b"checkpointer", b"Saver"),
    documentation=__doc__,
)
