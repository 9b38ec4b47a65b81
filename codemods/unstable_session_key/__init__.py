"""A conversation is keyed by a value that changes every call, or that every user shares.

## What it does
Follows the value that reaches `config={"configurable": {"session_id": ...}}` (or
`thread_id` for LangGraph, or a chat history's `session_id=`) in `invoke`, `ainvoke`,
`stream`, `astream`, `batch` and `with_config`, through local variables and one level of
dict construction, to where it is made: a module constant (`THREAD_ID = "1"`), an
upper-case constant imported from a settings module (the finding names the import), or
a config set once on the instance (`self.config = {"configurable": {...}}` in
`__init__`) and passed by a method. It reports a fresh `uuid4()` (or `uuid1()`,
`secrets.token_hex()`, `time.time()`) made on every call, a uuid made once per process,
a constant, a parameter's default, a key made anew on every turn of a chat loop or
every rerun of a Streamlit script, and a Streamlit `st.session_state.session_id` that
is re-assigned on every rerun. It replaces the key by a stable identity already in
reach (a `user_id` or `session_id` parameter, a request field, the request's parsed
body, `gr.Request.session_hash`, Chainlit's `cl.user_session`); an instance's config is
replaced at the call by one keyed by that identity. It makes a chat loop's key
once before the loop, and keeps a Streamlit script's key in `st.session_state`, its
assignment guarded by `if "session_id" not in st.session_state:`.

## Why is this bad?
The history is found by its key. A new key on every call starts a new, empty history
for every turn: the chatbot forgets. A key shared by every user (a constant, a default,
a uuid made at import) puts every user into one conversation, and a per-process uuid
loses it on every restart.

## Example
```python
def reply(user_id: str, message: str) -> str:
    config = {"configurable": {"session_id": str(uuid.uuid4())}}
    return chat.invoke({"input": message}, config=config).content
```
Use instead:
```python
def reply(user_id: str, message: str) -> str:
    config = {"configurable": {"session_id": user_id}}
    return chat.invoke({"input": message}, config=config).content
```

## Fix safety
Safe when an identity is already in reach, for a loop's key made once before the loop,
and for the Streamlit guard: no signature changes (an `import uuid` whose last use goes
is removed). When no identity is in reach, the fix adds a `session_id: str` parameter
to the enclosing function (a query parameter of a FastAPI route; for a Flask route,
the `session_id` field of the request) and passes it from the callers in the same
module; for a parameter default, it removes the default and passes an identity from
the callers that relied on it. These change a signature: they are unsafe, reported as
such, and applied only with `--unsafe-fixes`. The codemod stays silent for a uuid used
as a message or record id, for `req.session_id or str(uuid4())`, for a Streamlit
assignment already guarded, for a key made once before a loop (a command-line chat)
or in Chainlit's `on_chat_start` (once per chat), for a constant id in the chat loop or
`main()` of a script that no web, UI or bot framework serves (one user's conversation),
for the default of a history factory
that `RunnableWithMessageHistory` always calls with the key, and for a key used by
module-level code outside a loop, which runs once (unless in a Streamlit script). It
reports without rewriting a constant key in a Streamlit script's body, a loop's key
that depends on the loop, or when a caller has no identity to pass (for an instance's
config, the finding says that no user identity is in reach).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from memfix.rules import FixAvailability, Rule

if TYPE_CHECKING:
    from memfix.source.outline import Outline


def _may_key_a_session(outline: Outline, text: str) -> bool:
    # A key reaches a run's config, a history's session id or Streamlit's state.
    return (
        "configurable" in text
        or "streamlit" in outline.packages
        or any(name.endswith("ChatMessageHistory") for name in outline.langchain_calls)
    )


RULE = Rule(
    name="unstable-session-key",
    load="memfix.codemods.unstable_session_key.transform:UnstableSessionKey",
    fix=FixAvailability.SOMETIMES,
    priority=30,
    screen=(b"configurable", b"ChatMessageHistory", b"session_state"),
    outline_test=_may_key_a_session,
    documentation=__doc__,
)
