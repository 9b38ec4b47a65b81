"""Edge cases of memory-key-mismatch: guards, exact fixes, report-only cases."""

from __future__ import annotations

import pytest

from memfix.codemods.memory_key_mismatch.transform import MemoryKeyMismatch
from memfix.results import FileResult, Status
from memfix.testing import run

LEGACY = (
    "from langchain.memory import ConversationBufferMemory\n"
    "from langchain.chains import ConversationChain, ConversationalRetrievalChain, LLMChain\n"
    "from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder, PromptTemplate\n"
    "from langchain_core.runnables.history import RunnableWithMessageHistory\n"
)


def llm_chain(prompt: str, memory: str) -> str:
    return (
        LEGACY + f"prompt = {prompt}\n"
        f"memory = ConversationBufferMemory({memory})\n"
        "chain = LLMChain(llm=llm, prompt=prompt, memory=memory)\n"
    )


def wrapper(placeholder: str, keys: str) -> str:
    return (
        LEGACY + "prompt = ChatPromptTemplate.from_messages(\n"
        f'    [{placeholder}, ("human", "{{input}}")]\n'
        ")\n"
        f"chat = RunnableWithMessageHistory(prompt | llm, get_history, {keys})\n"
    )


JINJA_PROMPT = (
    'PromptTemplate.from_template("{{ chat_history }} {{ q }}", template_format="jinja2")'
)
CHAT = 'ChatPromptTemplate.from_messages([MessagesPlaceholder("chat_history"), ("human", "{q}")])'


def fix(source: str) -> FileResult:
    result = run(MemoryKeyMismatch, source)
    assert result.status is not Status.FAILED, result.error
    return result


@pytest.mark.parametrize(
    "source",
    [
        pytest.param(
            llm_chain(
                'PromptTemplate.from_template("{chat_history} {q}")', 'memory_key="chat_history"'
            ),
            id="matching key",
        ),
        pytest.param(
            llm_chain(CHAT, 'memory_key="chat_history", return_messages=True'),
            id="placeholder fed with messages",
        ),
        pytest.param(
            llm_chain("hub.pull('owner/prompt')", 'memory_key="chat_history"'),
            id="prompt from the hub: never guessed",
        ),
        pytest.param(
            llm_chain(
                'PromptTemplate.from_template("{% for m in chat %}{{ m }}{% endfor %}", '
                'template_format="jinja2")',
                'memory_key="history"',
            ),
            id="jinja2 with loops: not resolved",
        ),
        pytest.param(
            llm_chain('PromptTemplate.from_template("{history} {q}")', "memory_key=KEY"),
            id="memory_key not a literal",
        ),
        pytest.param(
            LEGACY + "memory = ConversationBufferMemory(memory_key='chat_history')\n"
            "qa = ConversationalRetrievalChain.from_llm(llm, retriever, memory=memory)\n",
            id="ConversationalRetrievalChain reads chat_history",
        ),
        pytest.param(
            wrapper(
                '("placeholder", "{history}")',
                'input_messages_key="input", history_messages_key="history"',
            ),
            id="placeholder tuple",
        ),
        pytest.param(
            wrapper('MessagesPlaceholder("history")', 'history_messages_key="history"'),
            id="wrapper of messages, no input key",
        ),
        pytest.param(
            wrapper(
                'MessagesPlaceholder("history")',
                'input_messages_key="input", history_messages_key=KEY',
            ),
            id="history key not a literal",
        ),
        pytest.param(
            "class ConversationBufferMemory:\n    def __init__(self, **kw): ...\n\n\n"
            "memory = ConversationBufferMemory(memory_key='chat_history')\n"
            "from langchain_core.prompts import PromptTemplate\n"
            'prompt = PromptTemplate.from_template("{history} {input}")\n',
            id="same class name, not from LangChain",
        ),
    ],
)
def test_noop(source: str) -> None:
    result = fix(source)
    assert result.findings == (), [f.message for f in result.findings]
    assert result.after == source


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param(
            llm_chain('PromptTemplate.from_template("{chat_history} {q}")', ""),
            llm_chain(
                'PromptTemplate.from_template("{chat_history} {q}")', 'memory_key="chat_history"'
            ),
            id="default key, prompt reads chat_history",
        ),
        pytest.param(
            llm_chain(CHAT, "memory_key='history'"),
            llm_chain(CHAT, "memory_key='chat_history', return_messages=True"),
            id="placeholder: key and format in one go",
        ),
        pytest.param(
            llm_chain(JINJA_PROMPT, ""),
            llm_chain(JINJA_PROMPT, 'memory_key="chat_history"'),
            id="jinja2 template",
        ),
        pytest.param(
            LEGACY + "memory = ConversationBufferMemory(memory_key='history')\n"
            "qa = ConversationalRetrievalChain.from_llm(llm, retriever, memory=memory)\n",
            LEGACY + "memory = ConversationBufferMemory(memory_key='chat_history')\n"
            "qa = ConversationalRetrievalChain.from_llm(llm, retriever, memory=memory)\n",
            id="ConversationalRetrievalChain",
        ),
        pytest.param(
            wrapper('MessagesPlaceholder(variable_name="messages")', 'input_messages_key="input"'),
            wrapper(
                'MessagesPlaceholder(variable_name="messages")',
                'input_messages_key="input", history_messages_key="messages"',
            ),
            id="wrapper without history_messages_key",
        ),
    ],
)
def test_fixes(source: str, expected: str) -> None:
    result = fix(source)
    assert result.after == expected, result.diff
    assert all(f.fixed for f in result.findings)
    assert fix(result.after).after == result.after


@pytest.mark.parametrize(
    ("source", "message"),
    [
        pytest.param(
            llm_chain('PromptTemplate.from_template("{context} {q}")', 'memory_key="chat_history"'),
            "memory_key 'chat_history' is not a variable of the prompt, which reads 'context', 'q'",
            id="no history-like variable",
        ),
        pytest.param(
            llm_chain(
                'ChatPromptTemplate.from_messages([MessagesPlaceholder("a"), '
                'MessagesPlaceholder("b"), ("human", "{q}")])',
                'memory_key="chat_history"',
            ),
            "memory_key 'chat_history' is not a variable of the prompt, which reads 'a', 'b', 'q'",
            id="two placeholders: no guess",
        ),
        pytest.param(
            wrapper(
                'MessagesPlaceholder("history")',
                'input_messages_key="input", history_messages_key="history"',
            )
            + 'chat.invoke({"input": q, "history": past}, config=config)\n',
            "history 'history' is passed by hand to 'chat', which fills it from the session",
            id="history passed by hand too",
        ),
    ],
)
def test_reports_without_fixing(source: str, message: str) -> None:
    result = fix(source)
    assert message in [f.message for f in result.findings]
    assert result.after == source
