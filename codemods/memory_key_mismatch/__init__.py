"""Memory stores the history under one name, the prompt reads another.

## What it does
Finds a memory whose `memory_key` its chain's prompt never reads, a
`RunnableWithMessageHistory` whose `history_messages_key` is not the prompt's
`MessagesPlaceholder`, a memory whose `return_messages` does not match how the prompt
reads the history (messages into a text template, text into a placeholder), and history
passed by hand to a wrapper that already fills it. It renames the key on the memory or
wrapper side and sets the matching `return_messages`.

## Why is this bad?
The turns are saved, but the prompt is filled from another variable: the chain fails
with `ValueError: Missing some input keys: {'history'}` or a missing-variables error, or,
with an `optional=True` placeholder, the model silently sees no history at all. Messages
rendered into a text prompt arrive as `[HumanMessage(content=...)]` reprs.

## Example
```python
memory = ConversationBufferMemory(memory_key="chat_history")
prompt = PromptTemplate.from_template("So far: {history}. Reply to: {input}")
```
Use instead:
```python
memory = ConversationBufferMemory(memory_key="history")
prompt = PromptTemplate.from_template("So far: {history}. Reply to: {input}")
```

## Fix safety
Safe: only the string passed as `memory_key` / `history_messages_key` or the value of
`return_messages` changes; the prompt text is never touched. It rewrites only when the
memory or wrapper and the prompt are literals in the same module and the prompt has
exactly one history variable; otherwise it reports and names what the prompt reads.
History passed by hand next to the wrapper is reported, never deleted. A memory that
other code of the module also reads (`load_memory_variables`, `.buffer`, passed on) is
reported and left as it is: its new key or shape would break that code.
"""

from __future__ import annotations

from memfix.rules import FixAvailability, Rule
from memfix.vocabulary import CHAIN_CLASSES, MEMORY_CLASSES, MEMORY_WORDS

RULE = Rule(
    name="memory-key-mismatch",
    load="memfix.codemods.memory_key_mismatch.transform:MemoryKeyMismatch",
    fix=FixAvailability.SOMETIMES,
    priority=70,
    screen=(*MEMORY_WORDS, b"RunnableWithMessageHistory"),
    triggers=MEMORY_CLASSES | CHAIN_CLASSES,
    documentation=__doc__,
)
