"""Edge cases of per-call-state in handlers: a per-session home, never module scope."""

from __future__ import annotations

import pytest

from memfix.codemods.per_call_state.transform import PerCallState
from memfix.config import Settings
from memfix.pipeline.engine import fix_source
from memfix.results import FileResult, Status

LANGCHAIN = (
    "from langchain.chains import ConversationChain\n"
    "from langchain.memory import ConversationBufferMemory\n"
    "from langchain_openai import ChatOpenAI\n"
)
FASTAPI = "from fastapi import FastAPI\n" + LANGCHAIN + "\napp = FastAPI()\n\n\n"
STREAMLIT = "import streamlit as st\n" + LANGCHAIN + "\n"
FACTORY = (
    "_memory_by_session = {}\n\n\n"
    "def get_session_memory(session_id: str):\n"
    "    if session_id not in _memory_by_session:\n"
    "        _memory_by_session[session_id] = ConversationBufferMemory()\n"
    "    return _memory_by_session[session_id]\n\n\n"
)
TURN = "    chain = ConversationChain(llm=ChatOpenAI(), memory=memory)\n"
ANSWER = "    return chain.predict(input=message)\n"


def fix(source: str, **settings: str) -> FileResult:
    result = fix_source(
        source, path="app.py", codemods=[PerCallState], settings=Settings(**settings)
    )
    assert result.status is not Status.FAILED, result.error
    return result


@pytest.mark.parametrize(
    "source",
    [
        pytest.param(
            FASTAPI
            + '@app.post("/chat")\ndef chat(user_id: str, message: str, memory):\n'
            + TURN
            + ANSWER,
            id="memory owned by the caller",
        ),
        pytest.param(
            FASTAPI + "from app.db import turns\n\n\n"
            '@app.post("/chat")\ndef chat(user_id: str, message: str):\n'
            "    memory = ConversationBufferMemory()\n"
            "    for q, a in turns(user_id):\n"
            '        memory.save_context({"input": q}, {"output": a})\n' + TURN + ANSWER,
            id="re-filled from the database on every request",
        ),
        pytest.param(
            FASTAPI + '@app.on_event("startup")\ndef startup():\n'
            "    app.state.memory = ConversationBufferMemory()\n",
            id="kept in app.state",
        ),
        pytest.param(
            "import chainlit as cl\n" + LANGCHAIN + "\n\n@cl.on_chat_start\ndef start():\n"
            "    memory = ConversationBufferMemory()\n"
            '    cl.user_session.set("memory", memory)\n',
            id="kept in cl.user_session",
        ),
        pytest.param(
            STREAMLIT + 'if "memory" not in st.session_state:\n'
            "    st.session_state.memory = ConversationBufferMemory()\n"
            "chain = ConversationChain(llm=ChatOpenAI(), memory=st.session_state.memory)\n"
            "st.write(chain.predict(input=st.chat_input()))\n",
            id="Streamlit memory already kept in session_state",
        ),
        pytest.param(
            STREAMLIT + "memory = ConversationBufferMemory()\n"
            "for q, a in st.session_state.turns:\n"
            '    memory.save_context({"input": q}, {"output": a})\n'
            "chain = ConversationChain(llm=ChatOpenAI(), memory=memory)\n"
            "st.write(chain.predict(input=st.chat_input()))\n",
            id="Streamlit memory re-filled from session_state on every rerun",
        ),
        pytest.param(
            STREAMLIT + "memory = ConversationBufferMemory()\n",
            id="Streamlit memory never used",
        ),
        pytest.param(
            FASTAPI
            + "def cli():\n    memory = ConversationBufferMemory()\n"
            + TURN
            + "    while True:\n        print(chain.predict(input=input()))\n",
            id="a command-line loop inside a web project: one session",
        ),
        pytest.param(
            FASTAPI + "class Bot:\n    def __init__(self, user_id):\n"
            "        self.memory = ConversationBufferMemory()\n"
            "        for q, a in load(user_id):\n"
            '            self.memory.save_context({"input": q}, {"output": a})\n\n'
            "    def ask(self, q):\n        return q\n\n\n"
            '@app.post("/chat")\ndef chat(user_id: str, message: str):\n'
            "    return Bot(user_id).ask(message)\n",
            id="service object re-filled from a store in __init__",
        ),
        pytest.param(
            FASTAPI + "class Bot:\n    def __init__(self):\n"
            "        self.memory = ConversationBufferMemory()\n\n"
            "    def ask(self, q):\n        return q\n\n\n"
            '@app.post("/chat")\ndef chat(user_id: str, message: str):\n'
            "    bot = Bot()\n    sessions[user_id] = bot\n    return bot.ask(message)\n",
            id="service object kept by the handler",
        ),
    ],
)
def test_noop(source: str) -> None:
    result = fix(source)
    assert result.findings == (), [f.message for f in result.findings]
    assert result.after == source


ROUTE = (
    '@app.post("/chat")\ndef chat(user_id: str, message: str):\n'
    "    memory = ConversationBufferMemory()\n" + TURN + ANSWER
)
KEYED = (
    '@app.post("/chat")\ndef chat(user_id: str, message: str):\n'
    "    memory = get_session_memory(user_id)\n" + TURN + ANSWER
)
CALLBACK = "from langchain.callbacks import AsyncIteratorCallbackHandler\n\n\n"
STREAMING = (
    "    callback = AsyncIteratorCallbackHandler()\n"
    "    llm = ChatOpenAI(streaming=True, callbacks=[callback])\n"
)
HISTORY = (
    "from langchain_community.chat_message_histories import ChatMessageHistory\n"
    "from langchain_core.runnables.history import RunnableWithMessageHistory\n\n\n"
)
ASK = (
    '@app.get("/ask")\ndef ask(session_id: str, q: str):\n'
    "    history = ChatMessageHistory()\n"
    "    chain = RunnableWithMessageHistory(runnable, lambda _: history)\n"
    '    return chain.invoke(q, config={"configurable": {"session_id": session_id}})\n'
)


@pytest.mark.parametrize(
    ("source", "expected", "settings"),
    [
        pytest.param(FASTAPI + ROUTE, FASTAPI + FACTORY + KEYED, {}, id="route with a user_id"),
        pytest.param(
            FASTAPI + ROUTE + "\n\n" + ROUTE.replace("chat", "again"),
            FASTAPI + FACTORY + KEYED + "\n\n" + KEYED.replace("chat", "again"),
            {},
            id="two routes share one factory built from the same code",
        ),
        pytest.param(
            FASTAPI + ROUTE.replace("user_id", "account"),
            FASTAPI + FACTORY + KEYED.replace("user_id", "account"),
            {"session_key": "account"},
            id="--session-key names the identity",
        ),
        pytest.param(
            FASTAPI.replace("app = FastAPI()", "app = FastAPI()\nMODEL = 'gpt-4o'")
            + ROUTE.replace(TURN, "    llm = ChatOpenAI(model=MODEL)\n" + TURN).replace(
                "llm=ChatOpenAI()", "llm=llm"
            ),
            FASTAPI.replace("app = FastAPI()", "app = FastAPI()\nMODEL = 'gpt-4o'")
            + "llm = ChatOpenAI(model=MODEL)\n\n"
            + FACTORY
            + KEYED.replace("llm=ChatOpenAI()", "llm=llm"),
            {},
            id="the LLM reads no local: it moves to module scope",
        ),
        pytest.param(
            FASTAPI
            + CALLBACK
            + ROUTE.replace(TURN, STREAMING + TURN.replace("ChatOpenAI()", "llm")),
            FASTAPI
            + CALLBACK
            + FACTORY
            + KEYED.replace(TURN, STREAMING + TURN.replace("ChatOpenAI()", "llm")).replace(
                STREAMING + "    memory = get_session_memory(user_id)\n",
                "    memory = get_session_memory(user_id)\n" + STREAMING,
            ),
            {},
            id="a streaming callback made per request stays in the handler, with its LLM",
        ),
        pytest.param(
            FASTAPI + HISTORY + "def get_session_history(session_id):\n"
            "    return store[session_id]\n\n\n" + ASK,
            FASTAPI + HISTORY + "def get_session_history(session_id):\n"
            "    return store[session_id]\n\n\n"
            + ASK.replace("ChatMessageHistory()", "get_session_history(session_id)"),
            {},
            id="the module's own get_session_history is reused",
        ),
        pytest.param(
            "import chainlit as cl\n" + LANGCHAIN + "\n\n@cl.on_message\n"
            "async def main(message):\n    memory = ConversationBufferMemory()\n"
            + TURN
            + "    await chain.apredict(input=message.content)\n",
            "import chainlit as cl\n" + LANGCHAIN + "\n\n" + FACTORY + "@cl.on_message\n"
            'async def main(message):\n    memory = get_session_memory(cl.user_session.get("id"))\n'
            + TURN
            + "    await chain.apredict(input=message.content)\n",
            {},
            id="Chainlit callback: its chat session id is always in reach",
        ),
        pytest.param(
            STREAMLIT + "memory = ConversationBufferMemory()\n"
            "chain = ConversationChain(llm=ChatOpenAI(), memory=memory)\n"
            "st.write(chain.predict(input=st.chat_input()))\n",
            STREAMLIT + 'if "memory" not in st.session_state:\n'
            "    st.session_state.memory = ConversationBufferMemory()\n"
            "memory = st.session_state.memory\n"
            "chain = ConversationChain(llm=ChatOpenAI(), memory=memory)\n"
            "st.write(chain.predict(input=st.chat_input()))\n",
            {},
            id="Streamlit script body: kept in session_state across reruns",
        ),
    ],
)
def test_fixes(source: str, expected: str, settings: dict[str, str]) -> None:
    result = fix(source, **settings)
    assert result.findings and all(f.applied for f in result.findings)
    assert result.after == expected, result.diff
    assert fix(result.after, **settings).after == result.after


@pytest.mark.parametrize(
    "source",
    [
        pytest.param(FASTAPI + ROUTE.replace("user_id: str, ", ""), id="route with no identity"),
        pytest.param(
            FASTAPI + "_memory_by_session = []\n\n\n" + ROUTE, id="the factory's dict name is taken"
        ),
        pytest.param(
            STREAMLIT + "memory = ConversationBufferMemory()\n"
            "st.write(ConversationChain(llm=ChatOpenAI(), memory=memory).predict(input='x'))\n"
            "st.session_state.memory = 'taken'\n",
            id="Streamlit key already used for something else",
        ),
    ],
)
def test_report_only(source: str) -> None:
    result = fix(source)
    assert result.findings and not any(f.applied for f in result.findings)
    assert result.after == source


def test_two_routes_with_different_memories_under_one_name() -> None:
    # The first route gets the factory; the second would need another: it is reported.
    other = ROUTE.replace("chat", "again").replace("Memory()", "Memory(k=2)")
    result = fix(FASTAPI + ROUTE + "\n\n" + other)
    assert [f.applied for f in result.findings] == [True, False]
    assert result.after == FASTAPI + FACTORY + KEYED + "\n\n" + other
