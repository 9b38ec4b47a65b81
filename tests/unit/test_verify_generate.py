"""The pure side of `memfix verify`: routes, arguments, identities, and test text."""

from __future__ import annotations

import ast

import pytest

from memfix.model import build_model
from memfix.model.names import Tree
from memfix.model.scopes import functions
from memfix.verify import AppModule, generate
from memfix.verify.plan import chat_models, legacy_imports, plan_module
from memfix.verify.routes import route_of
from memfix.verify.types import Framework, ModulePlan, Where
from tests.support.fixtures import PROGRAM

HEAD = (
    "from langchain.chains import ConversationChain\n"
    "from langchain.memory import ConversationBufferMemory\n"
    "from langchain_openai import ChatOpenAI\n"
)
TURN = (
    "    chain = ConversationChain(llm=ChatOpenAI(), memory=ConversationBufferMemory())\n"
    "    return {'answer': chain.predict(input=TEXT)}\n"
)


def plan_of(text: str, module: str = "app") -> ModulePlan:
    return plan_module(text, f"{module}.py", module, build_model(text, f"{module}.py"), "URL")


def fastapi(signature: str, decorator: str = '@app.post("/chat")', text: str = "message") -> str:
    return (
        "from fastapi import FastAPI, Header\nfrom pydantic import BaseModel\n"
        + HEAD
        + "app = FastAPI()\n\n\nclass Ask(BaseModel):\n    user_id: str\n    message: str\n"
        + f"    lang: str\n\n\n{decorator}\ndef chat({signature}):\n"
        + TURN.replace("TEXT", text)
    )


@pytest.mark.parametrize(
    ("decorator", "method", "path"),
    [
        pytest.param('@app.post("/chat")', "POST", "/chat", id="verb decorator"),
        pytest.param('@app.get("/c/{user_id}")', "GET", "/c/{user_id}", id="path parameter"),
        pytest.param(
            '@app.api_route("/chat", methods=["PUT"])', "PUT", "/chat", id="methods keyword"
        ),
    ],
)
def test_route_method_and_path_come_from_the_decorator(
    decorator: str, method: str, path: str
) -> None:
    tree = Tree(fastapi("user_id: str, message: str", decorator))
    route = route_of(tree, next(f for f in functions(tree) if f.name == "chat"))
    assert not isinstance(route, str) and route is not None
    assert (route.method, route.path, route.app, route.framework) == (
        method,
        path,
        "app",
        Framework.FASTAPI,
    )


def test_flask_route_without_methods_is_a_get_with_its_converter_parameters() -> None:
    text = "from flask import Flask\n" + HEAD + "app = Flask(__name__)\n\n\n"
    text += '@app.route("/chat/<int:user_id>")\ndef chat(user_id):\n' + TURN.replace("TEXT", "'x'")
    tree = Tree(text)
    route = route_of(tree, next(functions(tree)))
    assert not isinstance(route, str) and route is not None
    assert (route.label, route.path_parameters()) == ("GET /chat/<int:user_id>", ("user_id",))


def test_pydantic_body_gives_the_message_the_identity_and_fillers_for_other_fields() -> None:
    (entry,) = plan_of(fastapi("req: Ask", text="req.message")).entries
    assert entry.message.name == "message" and entry.message.where is Where.BODY
    assert entry.identity is not None and entry.identity.name == "user_id"
    assert [(item.name, item.where, item.value) for item in entry.fillers] == [
        ("lang", Where.BODY, '"test"')
    ]


def test_query_and_header_parameters_are_sent_where_fastapi_reads_them() -> None:
    signature = "message: str, user_id: str = Header()"
    (entry,) = plan_of(fastapi(signature)).entries
    assert (entry.message.name, entry.message.where) == ("message", Where.QUERY)
    assert entry.identity is not None
    assert (entry.identity.name, entry.identity.where) == ("user-id", Where.HEADER)


def test_flask_request_json_reads_give_the_body_fields() -> None:
    text = "from flask import Flask, request\n" + HEAD + "app = Flask(__name__)\n\n\n"
    text += '@app.post("/chat")\ndef chat():\n    data = request.get_json()\n'
    text += '    session = data.get("session_id")\n' + TURN.replace("TEXT", 'data["question"]')
    (entry,) = plan_of(text).entries
    assert entry.framework is Framework.FLASK
    assert (entry.message.name, entry.message.where) == ("question", Where.BODY)
    assert entry.identity is not None and entry.identity.name == "session_id"


def test_a_plain_function_without_identity_gets_a_strict_expected_failure_for_isolation() -> None:
    plan = plan_of(PROGRAM, "article")
    (entry,) = plan.entries
    assert (entry.label, entry.message.name, entry.identity) == ("ask()", "question", None)
    (_, test) = generate([AppModule("article.py", PROGRAM, "article", ".")]).files
    assert (
        "@pytest.mark.xfail(strict=True, reason='the entry point takes no user identity: "
        "every caller shares one conversation')\ndef test_ask_keeps_each_user_apart" in test.text
    )


def test_the_chat_model_and_legacy_imports_are_what_the_module_imports() -> None:
    tree = Tree(PROGRAM + "from langchain.chat_models import init_chat_model\n")
    assert chat_models(tree) == (
        ("langchain_openai", "ChatOpenAI"),
        ("langchain.chat_models", "init_chat_model"),
    )
    assert legacy_imports(tree) == ("langchain.memory", "langchain.chains", "langchain.chat_models")


def test_a_name_the_module_already_says_is_never_the_name_the_test_gives() -> None:
    demo = PROGRAM + '\nprint(ask("My name is Sam"))\n'
    assert plan_of(PROGRAM).names[0] == "Sam"
    assert plan_of(demo).names[0] == "Ottoline"


def test_a_dict_store_gets_a_second_process_test_and_a_server_store_a_skip() -> None:
    store = (
        "from langchain_core.chat_history import InMemoryChatMessageHistory\n"
        "from langchain_core.runnables.history import RunnableWithMessageHistory\n"
        "from langchain_openai import ChatOpenAI\n\nstore = {}\n\n\n"
        "def get(session_id):\n    if session_id not in store:\n"
        "        store[session_id] = InMemoryChatMessageHistory()\n"
        "    return store[session_id]\n\n\n"
        "chain = RunnableWithMessageHistory(ChatOpenAI(), get)\n\n\n"
        "def ask(user_id: str, text: str):\n"
        "    return chain.invoke(text, config={'configurable': {'session_id': user_id}})\n"
    )
    (_, test) = generate([AppModule("s.py", store, "s", ".")]).files
    assert "def test_ask_second_process_sees_the_first(new_process: Any)" in test.text
    assert "keeps its history in the dict `store`, which ends with the process" in test.text
    redis = store.replace("InMemoryChatMessageHistory()", "RedisChatMessageHistory(session_id)")
    redis = redis.replace(
        "from langchain_core.chat_history import InMemoryChatMessageHistory",
        "from langchain_community.chat_message_histories import RedisChatMessageHistory",
    )
    plan = plan_of(redis)
    assert plan.persistence is not None and plan.persistence.kind == "server"


APPS = [
    pytest.param(PROGRAM, id="plain function"),
    pytest.param(fastapi("req: Ask", text="req.message"), id="fastapi body"),
    pytest.param(fastapi("user_id: str, message: str", '@app.get("/c/{user_id}")'), id="path"),
    pytest.param(fastapi("message: str, user_id: int = Header()"), id="integer header"),
]


@pytest.mark.parametrize("text", APPS)
def test_every_generated_file_compiles_and_names_each_test_for_what_it_proves(text: str) -> None:
    generation = generate([AppModule("app.py", text, "app", "../app")])
    assert [item.name for item in generation.files] == ["conftest.py", "test_memfix_app.py"]
    for item in generation.files:
        tree = ast.parse(item.text)
        compile(item.text, item.name, "exec")
        tests = [node.name for node in tree.body if isinstance(node, ast.FunctionDef)]
        assert all(
            name.endswith(("_second_turn_sees_the_first", "_keeps_each_user_apart"))
            for name in tests
            if name.startswith("test_")
        )


def test_a_module_that_does_not_parse_is_one_error_and_no_file() -> None:
    generation = generate([AppModule("bad.py", "def (:\n", "bad", ".")])
    assert generation.files == ()
    assert len(generation.errors) == 1 and generation.errors[0].startswith("bad.py: cannot parse")


STREAMLIT = (
    "import streamlit as st\n" + HEAD + "memory = ConversationBufferMemory()\n"
    "chain = ConversationChain(llm=ChatOpenAI(), memory=memory)\n"
    "if prompt := st.chat_input('Say something'):\n"
    "    st.write(chain.predict(input=prompt))\n"
)
CHAINLIT = (
    "import chainlit as cl\n" + HEAD + "\n\n@cl.on_chat_start\nasync def start():\n"
    "    chain = ConversationChain(llm=ChatOpenAI(), memory=ConversationBufferMemory())\n"
    "    cl.user_session.set('chain', chain)\n\n\n@cl.on_message\n"
    "async def reply(message: cl.Message):\n"
    "    chain = cl.user_session.get('chain')\n"
    "    await cl.Message(content=await chain.apredict(input=message.content)).send()\n"
)


def test_a_streamlit_script_is_one_page_typed_into_through_apptest_when_installed() -> None:
    (entry,) = plan_of(STREAMLIT).entries
    assert (entry.framework, entry.message.name, entry.by_client) == (
        Framework.STREAMLIT,
        "chat_input",
        True,
    )
    (_, test) = generate([AppModule("page.py", STREAMLIT, "page", ".")]).files
    assert "SCRIPT = True" in test.text
    assert 'testing = pytest.importorskip("streamlit.testing.v1")' in test.text
    assert "page.chat_input[0].set_value(text).run()" in test.text
    assert "@pytest.mark.xfail" not in test.text  # each AppTest is its own session


def test_a_chainlit_app_is_driven_through_on_message_after_on_chat_start_per_user() -> None:
    (entry,) = plan_of(CHAINLIT).entries
    assert (entry.function, entry.setup, entry.message.where) == ("reply", "start", Where.MESSAGE)
    (_, test) = generate([AppModule("bot.py", CHAINLIT, "bot", ".")]).files
    assert "STAND_INS = ['chainlit']" in test.text
    assert "conftest.finish(app.start())" in test.text
    assert "app.reply(message=chainlit.Message(content=text))" in test.text
    compile(test.text, "test_memfix_bot.py", "exec")


def test_a_gradio_callback_is_sent_the_chat_so_far_of_its_own_user() -> None:
    gradio = (
        "import gradio as gr\n" + HEAD + "\n\ndef respond(message, history, request: gr.Request):\n"
        "    print(request.session_hash)\n"
        "    chain = ConversationChain(llm=ChatOpenAI(), memory=ConversationBufferMemory())\n"
        "    return chain.predict(input=message)\n\n\n"
        "gr.ChatInterface(fn=respond).launch()\n"
    )
    (entry,) = plan_of(gradio).entries
    assert entry.identity is not None and entry.identity.where is Where.REQUEST
    (_, test) = generate([AppModule("ui.py", gradio, "ui", ".")]).files
    assert (
        "app.respond(message=text, request=conftest.GradioRequest(user), history=list(history))"
        in test.text
    )
    assert "history = histories.setdefault(user, [])" in test.text
