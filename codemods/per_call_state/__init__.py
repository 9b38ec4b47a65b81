"""Memory, history or a chain is rebuilt on every call, so every turn starts empty.

## What it does
Finds a function that builds a LangChain memory, an in-process chat history, or a
`ConversationChain` (which makes a memory of its own) each time it runs, and uses it
there for one turn; and the same state built at the top of a Streamlit script, which
re-runs on every interaction. In a plain module (a script, a library, a command-line
tool) it moves that state to module scope, with the LLM, prompt and chain it needs, so
every call continues one conversation. In a web route, a Chainlit or Gradio callback,
or any function of a web or UI app, module scope would be shared by every user, so the
state gets a home per session instead: a module-level factory
`get_session_memory(session_id)` backed by a dict (or the module's own
`get_session_history`), called with the identity the handler already has (a
`user_id`/`session_id` parameter or request field, `gr.Request.session_hash`, Chainlit's
chat session id); LLMs and prompts that read no local move to module scope. In
Streamlit the state is made once per browser session in `st.session_state`.

## Why is this bad?
The memory is new and empty on each call: the first turn is saved into an object
that is thrown away when the function returns, and the second turn sees no history.
This is the most common reason a LangChain chatbot "forgets".

## Example
```python
@app.post("/chat")
def chat(user_id: str, question: str):
    memory = ConversationBufferMemory()
    chain = ConversationChain(llm=llm, memory=memory)
    return chain.invoke({"input": question})
```
Use instead:
```python
_memory_by_session = {}


def get_session_memory(session_id: str):
    if session_id not in _memory_by_session:
        _memory_by_session[session_id] = ConversationBufferMemory()
    return _memory_by_session[session_id]


@app.post("/chat")
def chat(user_id: str, question: str):
    memory = get_session_memory(user_id)
    chain = ConversationChain(llm=llm, memory=memory)
    return chain.invoke({"input": question})
```
In a Streamlit script, `memory = ConversationBufferMemory()` becomes
`if "memory" not in st.session_state: st.session_state.memory = ConversationBufferMemory()`
and `memory = st.session_state.memory`.

## Fix safety
Safe when the session identity is in reach, and for Streamlit: no signature changes;
statements move unchanged, and the construction is replaced by a keyed call. Nothing
that reads a parameter, or a local that does, is ever moved. When a handler has no
identity, the fix that gives it one is unsafe (applied only with `--unsafe-fixes`):
a FastAPI route gets a new `session_id` query parameter, a Flask route reads
`request.json["session_id"]`, a Gradio callback gets `request: gr.Request`; clients
must then send it. Anything else without an identity is reported, never hoisted.
State that a call already selects by a key (`config={"configurable": {"session_id":
channel_id}}` next to a getter `lambda session_id: history`) never moves to module
scope: it is fetched per value of that key, or reported when the key cannot be read
where the state is built (it comes from a call, a global, or a later line). The
codemod stays silent when the state is correct as it is: re-filled from a store
(`save_context`, `add_messages`), passed in by the caller, returned or stored (a
factory, `st.session_state`, `cl.user_session`, `app.state`), or used in a loop
inside the function (one session per call). It reports without rewriting when moving
would reorder side effects, clash with a module-level name (or a factory built from
other code), or need a name defined later in the module. A function that returns new
state on each call and is called by a route in another module is reported at the
function with that route (the repository pass finds it) and never rewritten: a fix
would give it a `session_id` parameter and change every caller in every module.
"""

from __future__ import annotations

from memfix.rules import FixAvailability, Rule
from memfix.vocabulary import CONVERSATION_CLASSES, MEMORY_WORDS

RULE = Rule(
    name="per-call-state",
    load="memfix.codemods.per_call_state.transform:PerCallState",
    fix=FixAvailability.SOMETIMES,
    priority=40,
    screen=(*MEMORY_WORDS, b"ChatMessageHistory", b"ConversationChain"),
    triggers=CONVERSATION_CLASSES,
    needs_project=True,
    documentation=__doc__,
)
