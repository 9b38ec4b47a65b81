"""Edge cases of shared-global-state: what is shared, what is not, and what it declines."""

from __future__ import annotations

import pytest

from memfix.codemods.shared_global_state.transform import SharedGlobalState
from memfix.config import Settings
from memfix.pipeline.engine import fix_source
from memfix.results import FileResult, Status

LANGCHAIN = (
    "from langchain.chains import ConversationChain\n"
    "from langchain.memory import ConversationBufferMemory\n"
    "from langchain_openai import ChatOpenAI\n"
)
FASTAPI = "from fastapi import FastAPI\n" + LANGCHAIN + "\napp = FastAPI()\n"
MEMORY = "memory = ConversationBufferMemory()\n"
SHARED = MEMORY + "chain = ConversationChain(llm=ChatOpenAI(), memory=memory)\n"
STREAMLIT = "import streamlit as st\n" + LANGCHAIN + "\n"
CHAIN_FACTORY = (
    "_chain_by_session = {}\n\n\n"
    "def get_session_chain(session_id: str):\n"
    "    if session_id not in _chain_by_session:\n"
    "        memory = ConversationBufferMemory()\n"
    "        _chain_by_session[session_id] = ConversationChain(llm=ChatOpenAI(), memory=memory)\n"
    "    return _chain_by_session[session_id]\n"
)


def route(params: str, body: str = "    return chain.predict(input=message)\n") -> str:
    return f'\n\n@app.post("/chat")\ndef chat({params}):\n{body}'


def fix(source: str, **settings: str) -> FileResult:
    result = fix_source(
        source, path="app.py", codemods=[SharedGlobalState], settings=Settings(**settings)
    )
    assert result.status is not Status.FAILED, result.error
    return result


@pytest.mark.parametrize(
    "source",
    [
        pytest.param(
            LANGCHAIN + SHARED + "\n\ndef ask(message):\n    return chain.predict(input=message)\n",
            id="no web framework: one conversation per process is right for a script",
        ),
        pytest.param(
            STREAMLIT + SHARED + "st.write(chain.predict(input=st.chat_input()))\n",
            id="Streamlit script body re-runs per interaction: not shared",
        ),
        pytest.param(
            STREAMLIT + "@st.cache_resource\ndef get_llm():\n    return ChatOpenAI()\n\n\n"
            "llm = get_llm()\n",
            id="cache_resource on an LLM alone",
        ),
        pytest.param(
            STREAMLIT + "@st.cache_resource\ndef get_memory(session_id):\n"
            "    return ConversationBufferMemory()\n",
            id="cache_resource keyed by its argument",
        ),
        pytest.param(FASTAPI + SHARED, id="no function uses it"),
        pytest.param(
            FASTAPI
            + "make = RunnableLambda(lambda _: ConversationBufferMemory())\n"
            + route("user_id: str, message: str", "    return make.invoke(message)\n"),
            id="a memory made in a lambda is new on each call, not shared",
        ),
        pytest.param(
            FASTAPI
            + SHARED
            + route(
                "user_id: str, message: str",
                "    chain = app.state.chains[user_id]\n    return chain.predict(input=message)\n",
            ),
            id="the handler's own local of the same name",
        ),
        pytest.param(
            FASTAPI
            + "sessions = {}\n"
            + route(
                "user_id: str, message: str",
                "    memory = sessions.setdefault(user_id, ConversationBufferMemory())\n"
                "    return memory.buffer\n",
            ),
            id="already one memory per user",
        ),
        pytest.param(
            FASTAPI
            + "chat_history = []\n"
            + route(
                "user_id: str, message: str", "    return llm.invoke(chat_history + [message])\n"
            ),
            id="a module-level list nobody appends to is a constant",
        ),
        pytest.param(
            FASTAPI
            + "sources = []\n"
            + route("user_id: str, message: str", "    sources.append(message)\n"),
            id="a list that is not named like a history",
        ),
    ],
)
def test_noop(source: str) -> None:
    result = fix(source)
    assert result.findings == (), [f.message for f in result.findings]
    assert result.after == source


@pytest.mark.parametrize(
    ("source", "expected", "settings"),
    [
        pytest.param(
            FASTAPI + MEMORY + route("user_id: str", "    return memory.buffer\n"),
            FASTAPI
            + "_memory_by_session = {}\n\n\n"
            + "def get_session_memory(session_id: str):\n"
            + "    if session_id not in _memory_by_session:\n"
            + "        _memory_by_session[session_id] = ConversationBufferMemory()\n"
            + "    return _memory_by_session[session_id]\n"
            + route(
                "user_id: str",
                "    memory = get_session_memory(user_id)\n    return memory.buffer\n",
            ),
            {},
            id="the memory itself read by a route",
        ),
        pytest.param(
            FASTAPI
            + "chain = ConversationChain(llm=ChatOpenAI(), memory=ConversationBufferMemory())\n"
            + route("user_id: str, message: str"),
            FASTAPI
            + CHAIN_FACTORY.replace(
                "        memory = ConversationBufferMemory()\n"
                "        _chain_by_session[session_id] = ConversationChain(llm=ChatOpenAI(), "
                "memory=memory)\n",
                "        _chain_by_session[session_id] = "
                "ConversationChain(llm=ChatOpenAI(), memory=ConversationBufferMemory())\n",
            )
            + route(
                "user_id: str, message: str",
                "    chain = get_session_chain(user_id)\n    return chain.predict(input=message)\n",
            ),
            {},
            id="the memory is built inside the chain's call",
        ),
        pytest.param(
            FASTAPI + SHARED + route("account: str, message: str"),
            FASTAPI
            + CHAIN_FACTORY
            + route(
                "account: str, message: str",
                "    chain = get_session_chain(account)\n    return chain.predict(input=message)\n",
            ),
            {"session_key": "account"},
            id="--session-key names the identity",
        ),
        pytest.param(
            FASTAPI + SHARED + "\n\nclass Chat:\n    def post(self, user_id, message):\n"
            "        return chain.predict(input=message)\n",
            FASTAPI + CHAIN_FACTORY + "\n\nclass Chat:\n    def post(self, user_id, message):\n"
            "        chain = get_session_chain(user_id)\n"
            "        return chain.predict(input=message)\n",
            {},
            id="a method of a resource class",
        ),
        pytest.param(
            "import gradio as gr\n" + LANGCHAIN + SHARED + "\n\n"
            "def respond(message, history, request: gr.Request):\n"
            '    """Reply."""\n    return chain.predict(input=message)\n',
            "import gradio as gr\n" + LANGCHAIN + CHAIN_FACTORY + "\n\n"
            "def respond(message, history, request: gr.Request):\n"
            '    """Reply."""\n    chain = get_session_chain(request.session_hash)\n'
            "    return chain.predict(input=message)\n",
            {},
            id="Gradio callback keyed by the browser session",
        ),
        pytest.param(
            STREAMLIT + "@st.cache_resource(show_spinner=False)\n@other\ndef load():\n"
            "    return ConversationChain(llm=ChatOpenAI())\n\n\nchain = load()\n",
            STREAMLIT + "@other\ndef load():\n"
            "    return ConversationChain(llm=ChatOpenAI())\n\n\n"
            'if "chain" not in st.session_state:\n    st.session_state.chain = load()\n'
            "chain = st.session_state.chain\n",
            {},
            id="cache_resource with options, other decorators kept",
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
        pytest.param(FASTAPI + SHARED + route("message: str"), id="route with no identity"),
        pytest.param(
            FASTAPI
            + SHARED
            + route("user_id: str, message: str")
            + 'print(chain.predict(input="warm up"))\n',
            id="module-level code uses it too",
        ),
        pytest.param(
            FASTAPI
            + SHARED
            + route(
                "user_id: str, message: str",
                "    memory.clear()\n    return chain.predict(input=message)\n",
            ),
            id="the route uses the memory and its chain",
        ),
        pytest.param(
            FASTAPI
            + SHARED
            + route("user_id: str, message: str")
            + "\n\ndef reset():\n    global chain\n    chain = None\n",
            id="a function rebinds it",
        ),
        pytest.param(
            FASTAPI + SHARED + "_chain_by_session = None\n" + route("user_id: str, message: str"),
            id="the factory's name is taken",
        ),
        pytest.param(
            STREAMLIT + "@st.cache_resource\ndef load():\n"
            "    return ConversationChain(llm=ChatOpenAI())\n\n\n"
            "with st.sidebar:\n    chain = load()\n",
            id="cached function called other than at the top of the script",
        ),
    ],
)
def test_report_only(source: str) -> None:
    result = fix(source)
    assert result.findings and not any(f.applied for f in result.findings)
    assert result.after == source
