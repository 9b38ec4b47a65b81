"""A chain built with `verbose=True` prints every user's conversation to the log.

## What it does
Finds a LangChain `ConversationChain`, `LLMChain` or `ConversationalRetrievalChain`
built with `verbose=True` and removes the flag.

## Why is this bad?
A verbose chain prints each prompt it sends, and a chain with memory puts the whole
conversation so far into that prompt: every turn of every user lands in the server's
standard output and in whatever collects it, long after the session has ended.

## Example
```python
chain = ConversationChain(llm=llm, memory=ConversationBufferMemory(), verbose=True)
```
Use instead:
```python
chain = ConversationChain(llm=llm, memory=ConversationBufferMemory())
```

## Fix safety
Safe: only the `verbose=True` argument goes; what the chain answers does not change,
and nothing but the printing stops. A chain whose `verbose` is anything other than the
literal `True` is left alone.
"""

from __future__ import annotations

from memfix.rules import FixAvailability, Rule

CHAINS = frozenset({"ConversationChain", "LLMChain", "ConversationalRetrievalChain"})

RULE = Rule(
    name="verbose-memory-print",
    load="memfix_verbose_memory_print.transform:VerboseMemoryPrint",
    fix=FixAvailability.ALWAYS,
    # Before the built-in rules (10 to 80): a legacy chain's migration would drop the flag
    # along with the chain, and with it this finding.
    priority=5,
    screen=(b"verbose",),
    triggers=CHAINS,
    documentation=__doc__,
)
