"""A legacy chain keeps its conversation in a memory object that current LangChain removed.

## What it does
Finds `ConversationChain(llm=..., memory=...)` and `LLMChain(llm=..., prompt=...,
memory=...)` and migrates them to `RunnableWithMessageHistory(prompt | llm |
StrOutputParser(), get_session_history, ...)`: the prompt becomes a chat prompt with a
`MessagesPlaceholder` for the history (a window memory's `k` becomes its
`n_messages`), a module-level `get_session_history` backed by a `store` of
`InMemoryChatMessageHistory` is added unless the module has one, and every call
(`.predict(input=x)`, `.run(x)`, `chain(x)`, `.invoke(...)["response"]`, `apredict`,
`arun`, `acall`, `ainvoke`) becomes `.invoke({...}, config={"configurable":
{"session_id": key}})`. The key is an identity in reach (a `user_id` parameter, a
request field); in a plain script or library, where the memory held one conversation
per process, it is `SESSION_ID`, read from `$CHAT_SESSION_ID`. The `langchain.*` import
paths that LangChain 1.x no longer has are rewritten to their current homes. With
`target = "langgraph"` the chain becomes a LangGraph graph on `MessagesState` compiled
with a `checkpointer` (the history classes above are deprecated in langchain-core 1.x),
run with `{"configurable": {"thread_id": key}}` and read from its last message. With
`target = "agent"` it becomes `create_agent(model, tools=[], system_prompt=...,
checkpointer=checkpointer)`: the prompt's system text (or `ConversationChain`'s own) is
the system prompt, a window memory's `k` a `before_model` middleware showing the model its
last `2k` messages and the question, a summary memory `SummarizationMiddleware`, and each
call `.invoke({"messages": [{"role": "user", "content": text}]}, config=...)` with the
same `thread_id` key, read from its last message; `in-process-history` then makes the
`InMemorySaver` checkpointer persistent for the backend.

## Why is this bad?
`ConversationChain`, `LLMChain` and the memory classes are gone from `langchain` 1.x
(only `langchain_classic` keeps them, deprecated): the program stops importing on an
upgrade, and its memory lives in one Python object, shared by every caller and lost on
every restart, with no session key to keep users apart.

## Example
```python
memory = ConversationBufferMemory()
chain = ConversationChain(llm=ChatOpenAI(), memory=memory)


def reply(user_id: str, text: str) -> str:
    return chain.predict(input=text)
```
Use instead:
```python
chain = RunnableWithMessageHistory(
    CONVERSATION_PROMPT | ChatOpenAI() | StrOutputParser(),
    get_session_history,
    input_messages_key="input",
    history_messages_key="history",
)


def reply(user_id: str, text: str) -> str:
    return chain.invoke({"input": text}, config={"configurable": {"session_id": user_id}})
```

## Fix safety
Safe when every use of the chain in the module is a call that keeps its result type
(text stays text): the callers see the same values. A call whose whole result dict is
used (`chain.invoke(x)`, `chain(x)`) now returns the answer text: that changes a return
shape, so the migration is unsafe and applied only with `--unsafe-fixes` (the
`f(x)["response"]` reads of a function that returned the dict go with it). A result
bound to a name and read only as `result["response"]` stays safe: those reads become
`result`; one also used whole, read by another key, or bound again is reported. It reports
without rewriting a chain whose uses it cannot follow (passed on, returned, bound
twice), a memory that is also read directly or wraps `chat_memory=`, summary and entity
memories (they call the model to rewrite the history: migrate them by hand), keys that
do not match the prompt (silent: the key codemods report and fix those, then the chain
migrates on the next pass), and a web handler with no
session identity in reach, where one key would give every user one conversation.
With `target = "agent"` a summary memory migrates (it needs its `llm=`), and a chat prompt,
a prompt that wraps the input in more text, and a completion model (`OpenAI`) are
reported instead: an agent sends the user's text as it is, to a chat model.
Uses in other modules are not seen.
"""

from __future__ import annotations

from memfix.rules import FixAvailability, Rule

RULE = Rule(
    name="legacy-conversation-chain",
    load="memfix.codemods.legacy_conversation_chain.transform:LegacyConversationChain",
    fix=FixAvailability.SOMETIMES,
    priority=50,
    screen=(b"ConversationChain", b"LLMChain"),
    triggers=frozenset({"ConversationChain", "LLMChain"}),
    documentation=__doc__,
)
