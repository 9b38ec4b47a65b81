"""Edge cases of unstable-session-key: every variant found, every fix, every guard."""

from __future__ import annotations

from dataclasses import replace

import pytest

from memfix.codemods.unstable_session_key.transform import UnstableSessionKey
from memfix.config import Settings
from memfix.pipeline.engine import fix_source
from memfix.results import FileResult, Fix, Status

HEAD = (
    "import uuid\n"
    "from langchain_core.runnables.history import RunnableWithMessageHistory\n\n"
    "chat = RunnableWithMessageHistory(runnable, get_history)\n"
)
FASTAPI = (
    "import uuid\n"
    "from fastapi import FastAPI\n"
    "from pydantic import BaseModel\n"
    "from langchain_core.runnables.history import RunnableWithMessageHistory\n\n"
    "app = FastAPI()\n"
    "chat = RunnableWithMessageHistory(runnable, get_history)\n"
)
FLASK = (
    "import uuid\n"
    "from flask import Flask, jsonify, request\n"
    "from langchain_core.runnables.history import RunnableWithMessageHistory\n\n"
    "app = Flask(__name__)\n"
    "chat = RunnableWithMessageHistory(runnable, get_history)\n"
)
STREAMLIT = (
    "import uuid\n"
    "import streamlit as st\n"
    "from langchain_core.runnables.history import RunnableWithMessageHistory\n\n"
    "chat = RunnableWithMessageHistory(runnable, get_history)\n"
)
CHAINLIT = (
    "import uuid\n"
    "import chainlit as cl\n"
    "from langchain_core.runnables.history import RunnableWithMessageHistory\n\n"
    "chat = RunnableWithMessageHistory(runnable, get_history)\n"
)
LANGGRAPH = (
    "from langgraph.checkpoint.memory import MemorySaver\n\n"
    "graph = builder.compile(checkpointer=MemorySaver())\n"
)
ASK = '{"input": message}'
ONE = '"1"'
USER_FROM_DATA = 'data.get("user_id")'
USER_FROM_BODY = 'body["username"]'
PER_NAME = 'f"{name}-{uuid.uuid4()}"'


def config(key: str, name: str = "session_id") -> str:
    return f'{{"configurable": {{"{name}": {key}}}}}'


def invoke(key: str, method: str = "invoke") -> str:
    """`return chat.<method>(...)` with `key` as the session id."""
    prefix = "await " if method.startswith("a") else ""
    return f"return {prefix}chat.{method}({ASK}, config={config(key)})"


def define(signature: str, *body: str, head: str = HEAD, decorator: str = "") -> str:
    """`head`, then one function whose body is `body`, one statement a line."""
    lines = "".join(f"    {line}\n" for line in body)
    return f"{head}\n\n{decorator}def {signature}:\n{lines}"


def dropped(text: str, *imports: str) -> str:
    """`text` without the imports whose last use the fix removed (default: uuid's)."""
    for line in imports or ("import uuid\n", "from uuid import uuid4\n"):
        text = text.replace(line, "", 1)
    return text


def fix(source: str, *flags: str, session_key: str | None = None) -> FileResult:
    settings = replace(Settings(), unsafe_fixes="--unsafe-fixes" in flags, session_key=session_key)
    result = fix_source(source, path="app.py", codemods=[UnstableSessionKey], settings=settings)
    assert result.status is not Status.FAILED, result.error
    return result


def messages(result: FileResult) -> list[str]:
    return [finding.message for finding in result.findings]


@pytest.mark.parametrize(
    "source",
    [
        pytest.param(
            define("reply(user_id: str, message: str)", invoke("user_id")),
            id="key is a parameter",
        ),
        pytest.param(
            define(
                "reply(req: ChatRequest)",
                "message_id = str(uuid.uuid4())",
                "record = {'id': uuid.uuid4().hex, 'text': req.message}",
                "store.save(record)",
                f"return chat.invoke({ASK}, config={config('req.session_id')})",
            ),
            id="uuid4 for message and record ids, key from the request",
        ),
        pytest.param(
            define(
                "reply(session_id: str, message: str)",
                f'return chat.invoke({ASK}, config={{"configurable": {{"session_id": session_id}}, '
                '"run_id": uuid.uuid4()})',
            ),
            id="uuid4 as the run id beside a stable key",
        ),
        pytest.param(
            define(
                "chat_route(req: ChatRequest)",
                "session_id = req.session_id or str(uuid.uuid4())",
                f"answer = chat.invoke({ASK}, config={config('session_id')})",
                'return {"answer": answer.content, "session_id": session_id}',
                head=FASTAPI,
                decorator='@app.post("/chat")\n',
            ),
            id="the client's id, or a new one returned to the client",
        ),
        pytest.param(
            STREAMLIT + '\nif "session_id" not in st.session_state:\n'
            "    st.session_state.session_id = str(uuid.uuid4())\n"
            'if st.sidebar.button("New chat"):\n'
            "    st.session_state.session_id = str(uuid.uuid4())\n"
            "if message := st.chat_input():\n"
            f"    chat.invoke({ASK}, config={config('st.session_state.session_id')})\n",
            id="Streamlit key already guarded, renewed only by a button",
        ),
        pytest.param(
            CHAINLIT + "\n\n@cl.on_chat_start\nasync def start():\n"
            '    cl.user_session.set("session_id", str(uuid.uuid4()))\n\n\n'
            "@cl.on_message\nasync def on_message(message: cl.Message):\n"
            f'    key = cl.user_session.get("session_id")\n'
            f"    await chat.ainvoke({{'input': message.content}}, config={config('key')})\n",
            id="Chainlit id made once, in on_chat_start",
        ),
        pytest.param(
            "import uuid\nimport chainlit as cl\n"
            "from langchain_community.chat_message_histories import RedisChatMessageHistory\n"
            "\n\n@cl.on_chat_start\nasync def start():\n"
            "    history = RedisChatMessageHistory(session_id=str(uuid.uuid4()), url=URL)\n"
            '    cl.user_session.set("history", history)\n',
            id="Chainlit history made once per chat, in on_chat_start",
        ),
        pytest.param(
            define(
                "main()",
                "session_id = str(uuid.uuid4())",
                "while True:",
                "    message = input('> ')",
                f"    print(chat.invoke({ASK}, config={config('session_id')}).content)",
            ),
            id="command-line loop: one id made before the loop",
        ),
        pytest.param(
            HEAD + "\nsession_id = str(uuid.uuid4())\n"
            "for message in sys.stdin:\n"
            f"    print(chat.invoke({ASK}, config={config('session_id')}).content)\n",
            id="script's loop at module level: one id made before it",
        ),
        pytest.param(
            define("main()", "message = sys.argv[1]", invoke("str(uuid.uuid4())")),
            id="main() asks once per run",
        ),
        pytest.param(
            HEAD + f'\nprint(chat.invoke({{"input": "hi"}}, config={config(repr("abc123"))}))\n',
            id="a plain script's one conversation",
        ),
        pytest.param(
            FASTAPI + f"\nchat.invoke({ASK}, config={config(repr('warmup'))})\n",
            id="a web app's warm-up call at import",
        ),
        pytest.param(
            "from langchain_community.chat_message_histories import SQLChatMessageHistory\n"
            "from langchain_core.runnables.history import RunnableWithMessageHistory\n\n\n"
            'def get_session_history(session_id: str = "default"):\n'
            '    return SQLChatMessageHistory(session_id=session_id, connection="sqlite:///c.db")\n'
            "\n\nchat = RunnableWithMessageHistory(runnable, get_session_history)\n",
            id="default of the history factory RunnableWithMessageHistory calls with the key",
        ),
        pytest.param(
            define("reply(request, message: str)", invoke("get_user_id(request)")),
            id="key from a function that is not a random source",
        ),
        pytest.param(
            define(
                "reply(message: str)", invoke("str(time())"), head="from clock import time\n" + HEAD
            ),
            id="time() of another module, not time.time",
        ),
        pytest.param(
            define(
                "reply(req, message: str)",
                "key = str(uuid.uuid4())",
                "if req.session_id:",
                "    key = req.session_id",
                invoke("key"),
            ),
            id="local bound twice: not traced",
        ),
        pytest.param(
            define("reply(user_id: str, message: str)", invoke("user_id", "stream")),
            id="stable key in stream",
        ),
        pytest.param(
            define(
                "reply(user_id: str, message: str)",
                f'return chat.with_config(configurable={{"session_id": user_id}}).invoke({ASK})',
            ),
            id="stable key in with_config",
        ),
        pytest.param(
            "import uuid\n\n\ndef reply(message):\n"
            f"    return client.invoke({ASK}, "
            f"config={config('str(uuid.uuid4())', 'request_id')})\n",
            id="uuid under a key that is not a conversation key",
        ),
        pytest.param(
            define(
                "reply(user_id: str, message: str)",
                invoke('"abc123"') + "  # memfix: ignore[unstable-session-key]",
            ),
            id="suppressed on the line",
        ),
    ],
)
def test_noop(source: str) -> None:
    result = fix(source, "--unsafe-fixes")
    assert result.findings == (), messages(result)
    assert result.after == source


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param(
            define("reply(user_id: str, message: str)", invoke("str(uuid.uuid4())")),
            dropped(define("reply(user_id: str, message: str)", invoke("user_id"))),
            id="str(uuid.uuid4()) in invoke",
        ),
        pytest.param(
            define(
                "reply(session_id: str, message: str)",
                invoke("uuid4().hex"),
                head="from uuid import uuid4\n" + HEAD,
            ),
            dropped(
                define(
                    "reply(session_id: str, message: str)",
                    invoke("session_id"),
                    head="from uuid import uuid4\n" + HEAD,
                )
            ),
            id="uuid4().hex imported from uuid",
        ),
        pytest.param(
            define(
                "reply(thread_id: str, message: str)",
                invoke("str(uuid.uuid1())", "ainvoke"),
                decorator="async ",
            ),
            dropped(
                define(
                    "reply(thread_id: str, message: str)",
                    invoke("thread_id", "ainvoke"),
                    decorator="async ",
                )
            ),
            id="uuid1() in ainvoke",
        ),
        pytest.param(
            define(
                "reply(conversation_id: str, message: str)",
                invoke("secrets.token_hex()", "stream"),
                head="import secrets\n" + HEAD,
            ),
            dropped(
                define(
                    "reply(conversation_id: str, message: str)",
                    invoke("conversation_id", "stream"),
                    head="import secrets\n" + HEAD,
                ),
                "import secrets\n",
            ),
            id="secrets.token_hex() in stream",
        ),
        pytest.param(
            define(
                "reply(chat_id: str, message: str)",
                f"async for chunk in chat.astream({ASK}, config={config('str(time.time())')}):",
                "    yield chunk",
                head="import time\n" + HEAD,
                decorator="async ",
            ),
            dropped(
                define(
                    "reply(chat_id: str, message: str)",
                    f"async for chunk in chat.astream({ASK}, config={config('chat_id')}):",
                    "    yield chunk",
                    head="import time\n" + HEAD,
                    decorator="async ",
                ),
                "import time\n",
            ),
            id="str(time.time()) in astream",
        ),
        pytest.param(
            define(
                "reply(client_id: str, messages: list[str])",
                "return chat.batch([{'input': m} for m in messages], "
                f"config={config('str(uuid.uuid4())')})",
            ),
            dropped(
                define(
                    "reply(client_id: str, messages: list[str])",
                    "return chat.batch([{'input': m} for m in messages], "
                    f"config={config('client_id')})",
                )
            ),
            id="batch",
        ),
        pytest.param(
            define(
                "reply(username: str, message: str)",
                'return chat.with_config(configurable={"session_id": str(uuid.uuid4())})'
                f".invoke({ASK})",
            ),
            dropped(
                define(
                    "reply(username: str, message: str)",
                    'return chat.with_config(configurable={"session_id": username})'
                    f".invoke({ASK})",
                )
            ),
            id="with_config(configurable=...)",
        ),
        pytest.param(
            define(
                "reply(user_id: str, message: str)",
                f"return chat.with_config(config={config('str(uuid.uuid4())')}).invoke({ASK})",
            ),
            dropped(
                define(
                    "reply(user_id: str, message: str)",
                    f"return chat.with_config(config={config('user_id')}).invoke({ASK})",
                )
            ),
            id="with_config(config=...)",
        ),
        pytest.param(
            define(
                "reply(user_id: str, message: str)",
                "session_id = str(uuid.uuid4())",
                f"config = {config('session_id')}",
                f"return chat.invoke({ASK}, config=config)",
            ),
            dropped(
                define(
                    "reply(user_id: str, message: str)",
                    "session_id = user_id",
                    f"config = {config('session_id')}",
                    f"return chat.invoke({ASK}, config=config)",
                )
            ),
            id="through a local and config = {...}",
        ),
        pytest.param(
            define(
                "reply(user_id: str, message: str)",
                'cfg = {"configurable": {}}',
                'cfg["configurable"]["session_id"] = str(uuid.uuid4())',
                f"return chat.invoke({ASK}, cfg)",
            ),
            dropped(
                define(
                    "reply(user_id: str, message: str)",
                    'cfg = {"configurable": {}}',
                    'cfg["configurable"]["session_id"] = user_id',
                    f"return chat.invoke({ASK}, cfg)",
                )
            ),
            id='cfg["configurable"]["session_id"] = ..., config passed positionally',
        ),
        pytest.param(
            define("reply(user_id: str, message: str)", invoke("SESSION")).replace(
                "get_history)\n", "get_history)\nSESSION = str(uuid.uuid4())\n"
            ),
            define("reply(user_id: str, message: str)", invoke("user_id")).replace(
                "get_history)\n", "get_history)\nSESSION = str(uuid.uuid4())\n"
            ),
            id="module-level per-process uuid",
        ),
        pytest.param(
            define("reply(user_id: str, message: str)", invoke('"abc123"')),
            define("reply(user_id: str, message: str)", invoke("user_id")),
            id="constant abc123",
        ),
        pytest.param(
            define("reply(user_id: str, message: str)", invoke('"default-session"')),
            define("reply(user_id: str, message: str)", invoke("user_id")),
            id="constant default-session",
        ),
        pytest.param(
            define("reply(user_id: str, message: str)", invoke('"1"')),
            define("reply(user_id: str, message: str)", invoke("user_id")),
            id="constant 1",
        ),
        pytest.param(
            FASTAPI
            + "\n\nclass ChatRequest(BaseModel):\n    message: str\n    user_id: str\n"
            + define(
                "chat_route(req: ChatRequest)",
                "session_id = str(uuid.uuid4())",
                "answer = await chat.ainvoke({'input': req.message}, "
                f"config={config('session_id')})",
                "return {'answer': answer.content}",
                head="",
                decorator='@app.post("/chat")\nasync ',
            ),
            dropped(
                FASTAPI
                + "\n\nclass ChatRequest(BaseModel):\n    message: str\n    user_id: str\n"
                + define(
                    "chat_route(req: ChatRequest)",
                    "session_id = req.user_id",
                    "answer = await chat.ainvoke({'input': req.message}, "
                    f"config={config('session_id')})",
                    "return {'answer': answer.content}",
                    head="",
                    decorator='@app.post("/chat")\nasync ',
                )
            ),
            id="FastAPI request-model field",
        ),
        pytest.param(
            define(
                "chat_route()",
                'message = request.json["message"]',
                'user = request.json["user_id"]',
                invoke('"default-session"'),
                head=FLASK,
                decorator='@app.post("/chat")\n',
            ),
            define(
                "chat_route()",
                'message = request.json["message"]',
                'user = request.json["user_id"]',
                invoke("user"),
                head=FLASK,
                decorator='@app.post("/chat")\n',
            ),
            id="Flask request.json field, already held in a local",
        ),
        pytest.param(
            define(
                "chat_route()",
                'app.logger.info("chat from %s", request.form["user_id"])',
                invoke('"default-session"').replace("message", 'request.form["message"]'),
                head=FLASK,
                decorator='@app.post("/chat")\n',
            ),
            define(
                "chat_route()",
                'app.logger.info("chat from %s", request.form["user_id"])',
                invoke('request.form["user_id"]').replace("message", 'request.form["message"]'),
                head=FLASK,
                decorator='@app.post("/chat")\n',
            ),
            id="Flask request.form field",
        ),
        pytest.param(
            define(
                "chat_route()",
                "data = request.get_json()",
                "answer = chat.invoke({'input': data['message']}, "
                f"config={config('str(uuid.uuid4())')})",
                'return jsonify(answer=answer.content, user=data.get("user_id"))',
                head=FLASK,
                decorator='@app.route("/chat", methods=["POST"])\n',
            ),
            dropped(
                define(
                    "chat_route()",
                    "data = request.get_json()",
                    "answer = chat.invoke({'input': data['message']}, "
                    f"config={config(USER_FROM_DATA)})",
                    'return jsonify(answer=answer.content, user=data.get("user_id"))',
                    head=FLASK,
                    decorator='@app.route("/chat", methods=["POST"])\n',
                )
            ),
            id="Flask request body bound to a local",
        ),
        pytest.param(
            define(
                "chat_route(request: Request)",
                "body = await request.json()",
                f"answer = await chat.ainvoke({{'input': body['message']}}, config={config(ONE)})",
                'return {"answer": answer.content, "user": body["username"]}',
                head=FASTAPI,
                decorator='@app.post("/chat")\nasync ',
            ),
            define(
                "chat_route(request: Request)",
                "body = await request.json()",
                "answer = await chat.ainvoke({'input': body['message']}, "
                f"config={config(USER_FROM_BODY)})",
                'return {"answer": answer.content, "user": body["username"]}',
                head=FASTAPI,
                decorator='@app.post("/chat")\nasync ',
            ),
            id="Starlette request body awaited into a local",
        ),
        pytest.param(
            define(
                "reply(user_id: str, text: str)",
                'return graph.invoke({"messages": [("user", text)]}, '
                '{"configurable": {"thread_id": "1"}})',
                head=LANGGRAPH,
            ),
            define(
                "reply(user_id: str, text: str)",
                'return graph.invoke({"messages": [("user", text)]}, '
                '{"configurable": {"thread_id": user_id}})',
                head=LANGGRAPH,
            ),
            id="LangGraph thread_id",
        ),
        pytest.param(
            "from langchain_community.chat_message_histories import RedisChatMessageHistory\n"
            + define(
                "history_for(user_id: str)",
                'return RedisChatMessageHistory(session_id="abc123", url=REDIS_URL)',
                head="",
            ),
            "from langchain_community.chat_message_histories import RedisChatMessageHistory\n"
            + define(
                "history_for(user_id: str)",
                "return RedisChatMessageHistory(session_id=user_id, url=REDIS_URL)",
                head="",
            ),
            id="a history class's session_id=",
        ),
        pytest.param(
            "import uuid\n"
            "from langchain_community.chat_message_histories import SQLChatMessageHistory\n"
            + define(
                "history_for(user_id: str)",
                'return SQLChatMessageHistory(str(uuid.uuid4()), connection="sqlite:///c.db")',
                head="",
            ),
            dropped(
                "import uuid\n"
                "from langchain_community.chat_message_histories import SQLChatMessageHistory\n"
                + define(
                    "history_for(user_id: str)",
                    'return SQLChatMessageHistory(user_id, connection="sqlite:///c.db")',
                    head="",
                )
            ),
            id="a history class's positional session id",
        ),
        pytest.param(
            define(
                "respond(message, history, request: gr.Request)",
                invoke('"default-session"'),
                head="import gradio as gr\n" + HEAD,
            ),
            define(
                "respond(message, history, request: gr.Request)",
                invoke("request.session_hash"),
                head="import gradio as gr\n" + HEAD,
            ),
            id="Gradio request's session_hash",
        ),
        pytest.param(
            define(
                "on_message(message: cl.Message)",
                invoke("str(uuid.uuid4())", "ainvoke"),
                head=CHAINLIT,
                decorator="@cl.on_message\nasync ",
            ),
            dropped(
                define(
                    "on_message(message: cl.Message)",
                    invoke('cl.user_session.get("id")', "ainvoke"),
                    head=CHAINLIT,
                    decorator="@cl.on_message\nasync ",
                )
            ),
            id="Chainlit callback: its own session id",
        ),
        pytest.param(
            define(
                "respond(message)",
                "name = st.session_state.user_id",
                invoke("str(uuid.uuid4())"),
                head=STREAMLIT,
            ),
            dropped(
                define(
                    "respond(message)",
                    "name = st.session_state.user_id",
                    invoke("name"),
                    head=STREAMLIT,
                )
            ),
            id="st.session_state read in the function",
        ),
        pytest.param(
            STREAMLIT + '\nst.title("Chat")\n# one id per visitor\n'
            "st.session_state.session_id = str(uuid.uuid4())\n"
            'st.session_state["thread_id"] = uuid.uuid4().hex\n',
            STREAMLIT + '\nst.title("Chat")\n# one id per visitor\n'
            'if "session_id" not in st.session_state:\n'
            "    st.session_state.session_id = str(uuid.uuid4())\n"
            'if "thread_id" not in st.session_state:\n'
            '    st.session_state["thread_id"] = uuid.uuid4().hex\n',
            id="Streamlit re-assignment guarded, attribute and item",
        ),
        pytest.param(
            STREAMLIT + "\nwith st.sidebar:\n    st.session_state.session_id = str(uuid.uuid4())\n",
            STREAMLIT + "\nwith st.sidebar:\n"
            '    if "session_id" not in st.session_state:\n'
            "        st.session_state.session_id = str(uuid.uuid4())\n",
            id="Streamlit re-assignment inside with st.sidebar",
        ),
        pytest.param(
            STREAMLIT + "\n\nif message := st.chat_input():\n"
            f"    st.write(chat.invoke({ASK}, config={config('str(uuid.uuid4())')}).content)\n",
            STREAMLIT + '\n\nif "session_id" not in st.session_state:\n'
            "    st.session_state.session_id = str(uuid.uuid4())\n"
            "if message := st.chat_input():\n"
            f"    st.write(chat.invoke({ASK}, config={config('st.session_state.session_id')})"
            ".content)\n",
            id="Streamlit script body: a new key every rerun",
        ),
        pytest.param(
            STREAMLIT + "\n# the visitor's conversation\nsession_id = str(uuid.uuid4())\n"
            "if message := st.chat_input():\n"
            f"    st.write(chat.invoke({ASK}, config={config('session_id')}).content)\n",
            STREAMLIT + "\n# the visitor's conversation\n"
            'if "session_id" not in st.session_state:\n'
            "    st.session_state.session_id = str(uuid.uuid4())\n"
            "session_id = st.session_state.session_id\n"
            "if message := st.chat_input():\n"
            f"    st.write(chat.invoke({ASK}, config={config('session_id')}).content)\n",
            id="Streamlit script body: a new key every rerun, through a local",
        ),
        pytest.param(
            STREAMLIT + "\nsid = uuid.uuid4().hex\nst.session_state.thread_id = sid\n",
            STREAMLIT + "\nsid = uuid.uuid4().hex\n"
            'if "thread_id" not in st.session_state:\n    st.session_state.thread_id = sid\n',
            id="Streamlit re-assignment from a local made every rerun",
        ),
        pytest.param(
            define(
                "main()",
                'print("Ctrl-D quits")',
                "for message in sys.stdin:",
                f"    print(chat.invoke({ASK}, config={config('str(uuid.uuid4())')}).content)",
            ),
            define(
                "main()",
                'print("Ctrl-D quits")',
                "session_id = str(uuid.uuid4())",
                "for message in sys.stdin:",
                f"    print(chat.invoke({ASK}, config={config('session_id')}).content)",
            ),
            id="command-line loop: the id made before the loop",
        ),
        pytest.param(
            define(
                "repl()",
                "while True:",
                "    message = input('> ')",
                "    key = uuid.uuid4().hex",
                f"    print(chat.invoke({ASK}, config={config('key')}).content)",
            ),
            define(
                "repl()",
                "key = uuid.uuid4().hex",
                "while True:",
                "    message = input('> ')",
                f"    print(chat.invoke({ASK}, config={config('key')}).content)",
            ),
            id="command-line loop: its local moved before the loop",
        ),
        pytest.param(
            HEAD + '\nif __name__ == "__main__":\n    # chat until Ctrl-C\n    while True:\n'
            "        message = input('> ')\n"
            f"        print(chat.invoke({ASK}, config={config('str(uuid.uuid4())')}).content)\n",
            HEAD + '\nif __name__ == "__main__":\n    # chat until Ctrl-C\n'
            "    session_id = str(uuid.uuid4())\n    while True:\n"
            "        message = input('> ')\n"
            f"        print(chat.invoke({ASK}, config={config('session_id')}).content)\n",
            id="a script's own loop at module level",
        ),
    ],
)
def test_fixes(source: str, expected: str) -> None:
    result = fix(source)
    assert result.after == expected, result.diff
    assert result.findings and all(f.applied and f.fix is Fix.SAFE for f in result.findings)
    assert fix(result.after).after == result.after


def test_session_key_setting_names_the_identity() -> None:
    source = define("reply(account: str, user_id: str, message: str)", invoke('"abc123"'))
    result = fix(source, session_key="account")
    assert result.after == define(
        "reply(account: str, user_id: str, message: str)", invoke("account")
    )
    assert messages(result) == [
        "session key 'session_id' is the constant \"abc123\": every user shares one history; "
        "use parameter 'account'"
    ]


# The fixes that change a signature: (source, fixed with --unsafe-fixes).
UNSAFE = [
    pytest.param(
        define("reply(message: str)", invoke('"abc123"'))
        + define("handle(user_id: str, message: str)", "return reply(message)", head=""),
        define("reply(message: str, session_id: str)", invoke("session_id"))
        + define(
            "handle(user_id: str, message: str)",
            "return reply(message, session_id=user_id)",
            head="",
        ),
        id="no identity: new parameter, caller passes its own",
    ),
    pytest.param(
        define("reply(message: str)", "sid = str(uuid.uuid4())", invoke("sid")),
        dropped(define("reply(message: str, session_id: str)", "sid = session_id", invoke("sid"))),
        id="no identity, no caller: the local reads the new parameter",
    ),
    pytest.param(
        define("reply(message, stream=False)", invoke('"1"')),
        define("reply(message, stream=False, *, session_id: str)", invoke("session_id")),
        id="after a parameter with a default: keyword-only",
    ),
    pytest.param(
        "import uuid\nfrom langchain_core.runnables.history import RunnableWithMessageHistory\n"
        "\nchat = RunnableWithMessageHistory(runnable, get_history)\n\n\nclass Bot:\n"
        "    def reply(self, message):\n"
        f"        {invoke(repr('abc123'))}\n"
        + define("handle(user_id: str, message: str)", "return Bot().reply(message)", head=""),
        "import uuid\nfrom langchain_core.runnables.history import RunnableWithMessageHistory\n"
        "\nchat = RunnableWithMessageHistory(runnable, get_history)\n\n\nclass Bot:\n"
        "    def reply(self, message, session_id: str):\n"
        f"        {invoke('session_id')}\n"
        + define(
            "handle(user_id: str, message: str)",
            "return Bot().reply(message, session_id=user_id)",
            head="",
        ),
        id="a method and its caller",
    ),
    pytest.param(
        define("reply(message: str)", invoke("SESSION")).replace(
            "get_history)\n", "get_history)\nSESSION = uuid.uuid4().hex\n"
        ),
        define("reply(message: str, session_id: str)", invoke("session_id")).replace(
            "get_history)\n", "get_history)\nSESSION = uuid.uuid4().hex\n"
        ),
        id="module-level per-process uuid, no identity",
    ),
    pytest.param(
        define(
            "chat_route(q: str)",
            f"answer = chat.invoke({{'input': q}}, config={config(repr('abc123'))})",
            "return {'answer': answer.content}",
            head=FASTAPI,
            decorator='@app.get("/chat")\n',
        ),
        define(
            "chat_route(q: str, session_id: str)",
            f"answer = chat.invoke({{'input': q}}, config={config('session_id')})",
            "return {'answer': answer.content}",
            head=FASTAPI,
            decorator='@app.get("/chat")\n',
        ),
        id="FastAPI route: a new query parameter",
    ),
    pytest.param(
        define(
            "chat_route()",
            'message = request.form["message"]',
            invoke("str(uuid.uuid4())"),
            head=FLASK,
            decorator='@app.post("/chat")\n',
        ),
        dropped(
            define(
                "chat_route()",
                'message = request.form["message"]',
                invoke('request.form["session_id"]'),
                head=FLASK,
                decorator='@app.post("/chat")\n',
            )
        ),
        id="Flask route: a new field of the form it reads",
    ),
    pytest.param(
        define("ask(q, session_id='default_user')", invoke("session_id").replace("message", "q"))
        + define("route(user_id: str, q: str)", "return ask(q)", head="")
        + define("route2(q: str, user_id: str)", "return ask(q, user_id)", head=""),
        define("ask(q, session_id)", invoke("session_id").replace("message", "q"))
        + define("route(user_id: str, q: str)", "return ask(q, session_id=user_id)", head="")
        + define("route2(q: str, user_id: str)", "return ask(q, user_id)", head=""),
        id="parameter default removed, the caller that relied on it updated",
    ),
    pytest.param(
        define(
            'chat_route(q: str, session_id: str = "default")',
            invoke("session_id").replace("message", "q"),
            head=FASTAPI,
            decorator='@app.post("/chat")\n',
        ),
        define(
            "chat_route(q: str, session_id: str)",
            invoke("session_id").replace("message", "q"),
            head=FASTAPI,
            decorator='@app.post("/chat")\n',
        ),
        id="FastAPI route's default query parameter made required",
    ),
    pytest.param(
        define(
            "reply(text: str)",
            'return graph.invoke({"messages": [("user", text)]}, '
            '{"configurable": {"thread_id": "1"}})',
            head=LANGGRAPH,
        ),
        define(
            "reply(text: str, session_id: str)",
            'return graph.invoke({"messages": [("user", text)]}, '
            '{"configurable": {"thread_id": session_id}})',
            head=LANGGRAPH,
        ),
        id="LangGraph thread_id, no identity",
    ),
]


@pytest.mark.parametrize(("source", "expected"), UNSAFE)
def test_unsafe_fixes_are_reported_not_applied(source: str, expected: str) -> None:
    result = fix(source)
    assert result.findings
    assert all(f.fix is Fix.UNSAFE and not f.applied for f in result.findings)
    assert result.after == source


@pytest.mark.parametrize(("source", "expected"), UNSAFE)
def test_unsafe_fixes(source: str, expected: str) -> None:
    result = fix(source, "--unsafe-fixes")
    assert result.after == expected, result.diff
    assert all(f.applied and f.fix is Fix.UNSAFE for f in result.findings)
    assert fix(result.after, "--unsafe-fixes").after == result.after


@pytest.mark.parametrize(("source", "expected"), UNSAFE)
def test_unsafe_fix_diff_is_pending_without_the_flag(source: str, expected: str) -> None:
    result = fix(source)
    assert result.after == source
    assert result.pending_diff == fix(source, "--unsafe-fixes").diff
    assert any(f.fixable and not f.applied for f in result.findings)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        pytest.param(
            define("reply(message: str)", invoke("str(uuid.uuid4())")),
            "session key 'session_id' is a new str(uuid.uuid4()) on every run of reply(), "
            "so every turn starts an empty history",
            id="per-call uuid",
        ),
        pytest.param(
            define("reply(message: str)", invoke("time.time()"), head="import time\n" + HEAD),
            "session key 'session_id' is a new time.time() on every run of reply(), "
            "so every turn starts an empty history",
            id="per-call time.time()",
        ),
        pytest.param(
            define("reply(message: str)", invoke("SESSION")).replace(
                "get_history)\n", "get_history)\nSESSION = str(uuid.uuid4())\n"
            ),
            "session key 'session_id' is SESSION = str(uuid.uuid4()), made once per process: "
            "every user shares one history, and it changes on restart",
            id="per-process uuid",
        ),
        pytest.param(
            define("reply(message: str)", invoke('"default-session"')),
            "session key 'session_id' is the constant \"default-session\": "
            "every user shares one history",
            id="constant",
        ),
        pytest.param(
            define("handle(q, session_id='default_user')", invoke("session_id")),
            "session key 'session_id' comes from the default 'default_user' of parameter "
            "'session_id' of handle(): every caller that omits it shares one history",
            id="parameter default",
        ),
        pytest.param(
            define(
                "reply(text: str)",
                'return graph.invoke({"messages": [text]}, {"configurable": {"thread_id": "1"}})',
                head=LANGGRAPH,
            ),
            "session key 'thread_id' is the constant \"1\": every user shares one history",
            id="LangGraph thread_id constant",
        ),
        pytest.param(
            define("reply(user_id: str, message: str)", invoke("uuid.uuid4().hex")),
            "session key 'session_id' is a new uuid.uuid4().hex on every run of reply(), "
            "so every turn starts an empty history; use parameter 'user_id'",
            id="names the identity it uses",
        ),
        pytest.param(
            STREAMLIT + "\nst.session_state.session_id = str(uuid.uuid4())\n",
            "st.session_state 'session_id' is re-assigned str(uuid.uuid4()) on every rerun, "
            "so every turn starts an empty history",
            id="Streamlit re-assignment",
        ),
        pytest.param(
            STREAMLIT + f"\nchat.invoke({ASK}, config={config('str(uuid.uuid4())')})\n",
            "session key 'session_id' is a new str(uuid.uuid4()) on every rerun of the "
            "Streamlit script, so every turn starts an empty history; keep it in st.session_state",
            id="Streamlit script body",
        ),
        pytest.param(
            define(
                "main()",
                "while True:",
                f"    chat.invoke({ASK}, config={config('str(uuid.uuid4())')})",
            ),
            "session key 'session_id' is a new str(uuid.uuid4()) on every turn of the loop in "
            "main(), so every turn starts an empty history",
            id="command-line loop",
        ),
    ],
)
def test_message_names_where_the_key_comes_from(source: str, message: str) -> None:
    assert messages(fix(source)) == [message]


@pytest.mark.parametrize(
    ("source", "message"),
    [
        pytest.param(
            STREAMLIT + f"\nchat.invoke({ASK}, config={config(repr('abc123'))})\n",
            "session key 'session_id' is the constant 'abc123': every user shares one history",
            id="constant in a Streamlit script's body: no identity to take",
        ),
        pytest.param(
            define("ask(q, session_id='default_user')", invoke("session_id"))
            + define("route(q: str)", "return ask(q)", head=""),
            "session key 'session_id' comes from the default 'default_user' of parameter "
            "'session_id' of ask(): every caller that omits it shares one history",
            id="default: a caller has no identity to pass",
        ),
        pytest.param(
            define("ask(q, session_id='x', temperature=0.1)", invoke("session_id")),
            "session key 'session_id' comes from the default 'x' of parameter 'session_id' of "
            "ask(): every caller that omits it shares one history",
            id="default before another default: cannot be removed",
        ),
        pytest.param(
            define(
                "respond(message, history)", invoke('"abc123"'), head="import gradio as gr\n" + HEAD
            )
            + "\n\ndemo = gr.ChatInterface(respond)\n",
            "session key 'session_id' is the constant \"abc123\": every user shares one history",
            id="callback handed to a framework: no new parameter",
        ),
        pytest.param(
            define(
                "chat_loop(names)",
                "for name in names:",
                f"    chat.invoke({ASK}, config={config(PER_NAME)})",
            ),
            "session key 'session_id' is a new f\"{name}-{uuid.uuid4()}\" on every turn of the "
            "loop in chat_loop(), so every turn starts an empty history",
            id="loop key that depends on the loop",
        ),
        pytest.param(
            define("chat_route()", invoke('"abc123"'), head=FLASK, decorator='@app.post("/c")\n'),
            "session key 'session_id' is the constant \"abc123\": every user shares one history",
            id="Flask route that reads no request",
        ),
    ],
)
def test_reports_without_fixing(source: str, message: str) -> None:
    result = fix(source, "--unsafe-fixes")
    assert messages(result) == [message]
    assert result.after == source
    assert not any(f.fixed for f in result.findings)
