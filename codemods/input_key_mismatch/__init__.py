"""A chain is called with keys its prompt does not read.

## What it does
Compares the keys a chain is called with (`chain.invoke({"question": q})`,
`chain.run(question=q)`, `chain.predict(...)`, `chain({...})`) with the keys the chain
really expects: its `input_key` (`input` for a `ConversationChain`), the variables of its
prompt less the memory's, or, for `RunnableWithMessageHistory`, the prompt's variables
less the history. It also checks `input_messages_key` and `ConversationChain(input_key=...)`
against the prompt. When one key is wrong and one is missing, it renames the wrong one.

## Why is this bad?
LangChain stops with `ValueError: Missing some input keys: {'input'}`, or the wrapper
fails to save the turn (`KeyError: 'input'` in a callback) so the next turn sees no
history. A key the prompt never reads (`run(input=msg, context=docs)` on a default
`ConversationChain`) is dropped or rejected.

## Example
```python
chain = ConversationChain(llm=llm, memory=ConversationBufferMemory())
chain.invoke({"question": "Hello"})
```
Use instead:
```python
chain = ConversationChain(llm=llm, memory=ConversationBufferMemory())
chain.invoke({"input": "Hello"})
```

## Fix safety
Safe: only the string of a key changes, at the call or in the chain's
`input_key` / `input_messages_key`; the prompt text is never touched. It rewrites only
when the chain, its prompt and the call are in the same module with literal keys, and
exactly one key is wrong. Extra keys the prompt never reads, positional calls on a chain
with several inputs and ambiguous cases are reported with the expected keys, never
deleted or guessed. A prompt loaded from a file or a hub gives no finding.
"""

from __future__ import annotations

from memfix.rules import FixAvailability, Rule
from memfix.vocabulary import CHAIN_CLASSES, CHAIN_WORDS

RULE = Rule(
    name="input-key-mismatch",
    load="memfix.codemods.input_key_mismatch.transform:InputKeyMismatch",
    fix=FixAvailability.SOMETIMES,
    priority=60,
    screen=CHAIN_WORDS,
    triggers=CHAIN_CLASSES,
    documentation=__doc__,
)
