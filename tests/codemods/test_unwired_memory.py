"""Edge cases of unwired-memory (report only): what it names, and what it leaves alone."""

from __future__ import annotations

import pytest

from memfix.codemods.unwired_memory.transform import UnwiredMemory
from memfix.results import FileResult, Status
from memfix.testing import run

IMPORTS = (
    "from langchain_openai import ChatOpenAI\n"
    "from langchain.memory import ConversationBufferMemory\n"
    "from langchain.chains import ConversationChain\n"
    "llm = ChatOpenAI()\n"
)
MEMORY = IMPORTS + "memory = ConversationBufferMemory()\n"
GRADIO = "import gradio as gr\n" + IMPORTS


def check(source: str) -> FileResult:
    result = run(UnwiredMemory, source)
    assert result.status is not Status.FAILED, result.error
    assert result.after == source  # report only: never a change
    return result


@pytest.mark.parametrize(
    "source",
    [
        pytest.param(MEMORY + "chain = ConversationChain(llm=llm, memory=memory)\n", id="wired"),
        pytest.param(
            MEMORY + "\n\ndef build(llm):\n    return ConversationChain(llm=llm, memory=memory)\n",
            id="wired in a factory",
        ),
        pytest.param(MEMORY, id="module-level memory, maybe imported elsewhere"),
        pytest.param(
            MEMORY + 'vars = memory.load_memory_variables({})\nreply = llm.invoke(f"{vars} {q}")\n',
            id="loaded by hand into the prompt",
        ),
        pytest.param(
            MEMORY + "reply = llm.invoke(memory.buffer_as_messages + [q])\n",
            id="its messages go to the model",
        ),
        pytest.param(
            "class ConversationBufferMemory:\n    pass\n\n\nmemory = ConversationBufferMemory()\n"
            + IMPORTS.split("from langchain.memory")[0]
            + "llm = ChatOpenAI()\nllm.invoke(q)\n",
            id="same class name, not from LangChain",
        ),
        pytest.param(
            GRADIO + "\n\ndef respond(message, history):\n"
            "    return llm.invoke(history + [message]).content\n\n\n"
            "gr.ChatInterface(respond)\n",
            id="gradio callback reads its history",
        ),
        pytest.param(
            GRADIO
            + "\n\ndef respond(message, *args):\n    return llm.invoke(message).content\n\n\n"
            "gr.ChatInterface(fn=respond)\n",
            id="gradio callback with *args",
        ),
    ],
)
def test_noop(source: str) -> None:
    assert check(source).findings == ()


@pytest.mark.parametrize(
    ("source", "message"),
    [
        pytest.param(
            MEMORY + "reply = llm.invoke(q)\n"
            'memory.save_context({"input": q}, {"output": reply.content})\n',
            "memory 'memory' is never given to a chain; llm.invoke() on line 6 bypasses it: "
            "call a chain with memory=, or load its variables into the prompt",
            id="llm.invoke beside a memory that is written",
        ),
        pytest.param(
            MEMORY + "chain = ConversationChain(llm=llm, memory=ConversationBufferMemory())\n",
            "memory 'memory' is never given to a chain; ConversationChain() on line 6 gets a "
            "new ConversationBufferMemory() instead: pass it there",
            id="a fresh memory inline in the chain",
        ),
        pytest.param(
            MEMORY + 'memory.save_context({"input": q}, {"output": a})\n',
            "memory 'memory' is never given to a chain; it is written but never read: "
            "pass it as memory=",
            id="written, never read",
        ),
        pytest.param(
            GRADIO
            + "\n\ndef respond(message, history):\n    return llm.invoke(message).content\n\n\n"
            "gr.ChatInterface(respond)\n",
            "history 'history' that gradio hands respond() is never read: pass it to the model",
            id="gradio callback drops its history",
        ),
    ],
)
def test_reports(source: str, message: str) -> None:
    result = check(source)
    assert [f.message for f in result.findings] == [message]
    assert not any(f.fixed for f in result.findings)
