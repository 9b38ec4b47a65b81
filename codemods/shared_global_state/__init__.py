"""One memory, history or chain at module level is shared by every user of a web app.

## What it does
Finds a LangChain memory, an in-process chat history, a chain that holds one, or a
`chat_history = []` list that handlers append to, made once at module level and used
from per-request code: a FastAPI, Flask or Django route, a Chainlit or Gradio callback,
a Telegram, Discord, Slack or aiogram bot handler, any function or method of a web or
UI app. It turns the object into a per-session
factory, `get_session_<name>(session_id)` backed by a dict, and makes each handler
fetch its own with the session identity it already has (a `user_id` or `session_id`
parameter or request field, a local the handler reads from its request body and checks,
Gradio's `gr.Request.session_hash`, Chainlit's chat session id, a bot's chat or channel
id: `update.effective_chat.id`, `message.chat.id`, `ctx.channel.id`, Slack's
`event["channel"]`). The fetch goes after
the handler's own validation (a `return ..., 400`, `raise` or `abort()` before the first
use) and after the line that binds the identity, so a request turned away before is
turned away the same way after. In Streamlit it finds `@st.cache_resource` on a
function that builds the memory, drops the cache and keeps the result in
`st.session_state` instead.

## Why is this bad?
Module scope lives once per process. Every user reads and writes the same history:
one user's questions and answers appear in another's prompt, a privacy leak, and the
history still dies with the process. `@st.cache_resource` is the same: one object for
every browser session.

## Example
```python
memory = ConversationBufferMemory()
chain = ConversationChain(llm=llm, memory=memory)


@app.post("/chat")
def chat(user_id: str, message: str):
    return chain.predict(input=message)
```
Use instead:
```python
_chain_by_session = {}


def get_session_chain(session_id: str):
    if session_id not in _chain_by_session:
        memory = ConversationBufferMemory()
        _chain_by_session[session_id] = ConversationChain(llm=llm, memory=memory)
    return _chain_by_session[session_id]


@app.post("/chat")
def chat(user_id: str, message: str):
    chain = get_session_chain(user_id)
    return chain.predict(input=message)
```

## Fix safety
Safe when every handler has an identity in reach: no signature changes; the
statements that build the state move unchanged into the factory, and each handler
gains one line that fetches its session's object. A local read with `.get()` counts
only when the handler turns away a request without it (`if not user_id: return ...`):
otherwise every client that omits it would share the conversation of None. When a
handler has none, the fix that gives it one is unsafe (only with `--unsafe-fixes`) and
shows in the diff as a signature change: a FastAPI route gets a `session_id` query
parameter, a Gradio callback gets `request: gr.Request`; clients must then send it. A
request field no client sends is never read: a Flask route with no identity in reach is
reported, not rewritten. It reports
without rewriting when a handler cannot be given an identity, when handlers use more
than one object of the same state (the memory and its chain), when module-level code
also uses it, when a function rebinds it (`global`), when a name it would add is
taken, and for a cached Streamlit function that takes arguments (the cache is then
keyed by them) or is called other than as `name = load()` at the top of the script.
A module-level object in a module with no web or UI framework is one conversation per
process, which is correct for a script, and is left alone; so is a Streamlit script's
own top level, which re-runs per interaction (`per-call-state` handles it).

Across modules, the repository pass finds state defined in one file and used by the
handlers of another (`from app.memory import chain`, `from .memory import chain`,
`import app.memory as m` then `m.chain`). The finding at the definition names the
routes (`POST /chat in app/routes.py:9`); the definition becomes the same factory and
each handler calls it, with the same safety rules, and the import brings in the factory.
Both files change in the same run or neither does: when the definition cannot move (a
function beside it also reads it), a handler has no identity and `--unsafe-fixes` is not
given, or only one of the two files is in the run, both are reported and left alone. A
chain built in one module from a memory another module defines is reported, not fixed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from memfix.rules import FixAvailability, Rule
from memfix.vocabulary import STATE_WORDS, WEB_FRAMEWORKS

if TYPE_CHECKING:
    from memfix.source.outline import Outline

# A module-level history list: an empty list under one of these names.
LIST_NAMES = ("history", "messages")


def _shares_state(text: str) -> bool:
    # Only a module that imports a web or UI framework has per-request code to share
    # state between; a history list is an empty list under a history-like name.
    if not any(framework in text for framework in WEB_FRAMEWORKS):
        return False
    if any(word.decode() in text for word in STATE_WORDS):
        return True
    empty_list = "= []" in text or "=[]" in text
    return empty_list and any(name in text for name in LIST_NAMES)


def _imports_a_framework(outline: Outline, text: str) -> bool:
    return not outline.packages.isdisjoint(WEB_FRAMEWORKS)


RULE = Rule(
    name="shared-global-state",
    load="memfix.codemods.shared_global_state.transform:SharedGlobalState",
    fix=FixAvailability.SOMETIMES,
    priority=10,
    screen=(*STATE_WORDS, *(name.encode() for name in LIST_NAMES)),
    text_test=_shares_state,
    outline_test=_imports_a_framework,
    needs_project=True,
    documentation=__doc__,
)
