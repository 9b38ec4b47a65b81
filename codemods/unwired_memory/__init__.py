"""A memory exists, but nothing that talks to the model ever reads it.

## What it does
Reports a LangChain memory that no chain, wrapper or call ever receives: one that is
only written (`save_context`) while the model is called directly (`llm.invoke(prompt)`),
one replaced by a fresh memory built inline in the chain constructor, or one built in a
function and never used. It also reports a Gradio `ChatInterface` callback that drops
the `history` argument Gradio hands it. The finding names the memory, the call that
bypasses it, and what to wire.

## Why is this bad?
Saving turns into a memory that no prompt is filled from does nothing: every call to
the model starts from a blank conversation, with no error to say so.

## Example
```python
memory = ConversationBufferMemory()
reply = llm.invoke(question)
memory.save_context({"input": question}, {"output": reply.content})
```
Use instead:
```python
memory = ConversationBufferMemory()
chain = ConversationChain(llm=llm, memory=memory)
reply = chain.invoke({"input": question})
```

## Fix safety
None: it only reports. Wiring a memory changes which prompt the model gets and how
the program calls it, which is a choice for its author. A memory that leaves the
module (passed to a function, returned, stored, read with `load_memory_variables`) is
never reported, nor is a module-level memory with no sign of use in its own module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from memfix.rules import FixAvailability, Rule
from memfix.vocabulary import MEMORY_CLASSES, MEMORY_WORDS

if TYPE_CHECKING:
    from memfix.source.outline import Outline


def _imports_gradio(outline: Outline, text: str) -> bool:
    # A gradio chat callback that drops its history, whether or not a memory is built here.
    return "gradio" in outline.packages


RULE = Rule(
    name="unwired-memory",
    load="memfix.codemods.unwired_memory.transform:UnwiredMemory",
    fix=FixAvailability.NEVER,
    priority=80,
    screen=(*MEMORY_WORDS, b"ChatInterface"),
    triggers=MEMORY_CLASSES,
    outline_test=_imports_gradio,
    documentation=__doc__,
)
