"""The model of web apps: FastAPI, Flask, Django and a service object made per request."""

from __future__ import annotations

from textwrap import dedent

from memfix.model import Context, Conversation, Lifetime, Origin, UseKind, build_model

RWMH_STORE = """
from langchain_core.chat_history import InMemoryChatMessageHistory
from langchain_core.runnables.history import RunnableWithMessageHistory
from langchain_openai import ChatOpenAI

store = {}


def get_session_history(session_id: str):
    if session_id not in store:
        store[session_id] = InMemoryChatMessageHistory()
    return store[session_id]


chain = RunnableWithMessageHistory(ChatOpenAI(), get_session_history)
"""


def only(source: str, path: str = "app.py") -> Conversation:
    model = build_model(dedent(source), path)
    assert model.error is None
    assert len(model.conversations) == 1
    return model.conversations[0]


def test_fastapi_pydantic_body_gives_a_body_identity_as_the_session_key() -> None:
    conversation = only(
        "from fastapi import FastAPI\nfrom pydantic import BaseModel\n"
        + RWMH_STORE
        + dedent(
            """
            app = FastAPI()


            class ChatIn(BaseModel):
                user_id: str
                message: str


            @app.post("/chat")
            async def chat(body: ChatIn):
                result = await chain.ainvoke(
                    body.message, config={"configurable": {"session_id": body.user_id}}
                )
                return {"answer": result.content}
            """
        )
    )
    call = conversation.calls[0]
    assert call.context is Context.ROUTE
    assert call.callee == "ainvoke"
    assert call.key is not None and call.key.origin is Origin.IDENTITY
    assert call.key.identity is not None
    assert (call.key.identity.expr, call.key.identity.source) == ("body.user_id", "body")
    assert not call.key.identity.proven
    assert [use.kind for use in call.result_uses] == [UseKind.CONTENT]
    assert call.result_uses[0].through == "result"


def test_module_store_of_in_memory_histories_lives_for_the_process() -> None:
    conversation = only(
        RWMH_STORE + "\nchain.invoke('hi', config={'configurable': {'session_id': 'a'}})\n"
    )
    assert conversation.runnable.lifetime is Lifetime.MODULE
    assert conversation.store is not None
    assert (conversation.store.kind, conversation.store.name) == ("dict", "store")
    assert conversation.store.lifetime is Lifetime.PROCESS
    assert conversation.getter is not None
    assert (conversation.getter.kind, conversation.getter.parameter) == ("function", "session_id")
    [history] = conversation.state
    assert history.qualname == "langchain_core.chat_history.InMemoryChatMessageHistory"
    assert history.lifetime is Lifetime.PROCESS


def test_fastapi_literal_session_id_is_a_constant_key() -> None:
    conversation = only(
        "from fastapi import FastAPI\n"
        + RWMH_STORE
        + dedent(
            """
            app = FastAPI()


            @app.post("/chat")
            def chat(message: str):
                return chain.invoke(message, config={"configurable": {"session_id": "abc123"}})
            """
        )
    )
    call = conversation.calls[0]
    assert call.key is not None
    assert (call.key.origin, call.key.expr) == (Origin.CONSTANT, "'abc123'")
    assert call.result_uses[0].kind is UseKind.RETURNED


def test_path_parameter_is_an_identity_from_the_path() -> None:
    conversation = only(
        "from fastapi import FastAPI\n"
        + RWMH_STORE
        + dedent(
            """
            app = FastAPI()


            @app.get("/chat/{user_id}")
            def chat(user_id: str, q: str):
                return chain.invoke(q, config={"configurable": {"session_id": user_id}})
            """
        )
    )
    [identity] = conversation.calls[0].identities
    assert (identity.expr, identity.source, identity.proven) == ("user_id", "path", False)


def test_header_marker_parameter_is_an_identity_from_the_header() -> None:
    conversation = only(
        "from fastapi import FastAPI, Header\n"
        + RWMH_STORE
        + dedent(
            """
            app = FastAPI()


            @app.post("/chat")
            def chat(q: str, session_id: str = Header(...)):
                return chain.invoke(q, config={"configurable": {"session_id": session_id}})
            """
        )
    )
    identities = conversation.calls[0].identities
    assert [(i.expr, i.source) for i in identities] == [("session_id", "header")]


def test_flask_get_json_into_a_local_is_followed_to_a_body_identity() -> None:
    conversation = only(
        "from flask import Flask, request\n"
        + RWMH_STORE
        + dedent(
            """
            app = Flask(__name__)


            @app.route("/chat", methods=["POST"])
            def chat():
                data = request.get_json()
                user_id = data.get("user_id")
                config = {"configurable": {"session_id": user_id}}
                answer = chain.invoke(data["message"], config=config)
                return {"answer": answer.content}
            """
        )
    )
    call = conversation.calls[0]
    assert call.context is Context.ROUTE
    assert call.key is not None and call.key.origin is Origin.IDENTITY
    assert call.key.identity is not None
    assert call.key.identity.via == "data.get('user_id')"
    local = next(i for i in call.identities if i.expr == "user_id")
    assert (local.source, local.via) == ("body", "data.get('user_id')")


def test_flask_session_value_is_a_proven_framework_identity() -> None:
    conversation = only(
        "from flask import Flask, session\n"
        + RWMH_STORE
        + dedent(
            """
            app = Flask(__name__)


            @app.post("/chat")
            def chat():
                sid = session["session_id"]
                return chain.invoke("hi", config={"configurable": {"session_id": sid}}).content
            """
        )
    )
    key = conversation.calls[0].key
    assert key is not None and key.identity is not None
    assert (key.origin, key.identity.source, key.identity.proven) == (
        Origin.IDENTITY,
        "framework-session",
        True,
    )


def test_uuid_made_inside_a_route_is_a_new_key_per_call() -> None:
    conversation = only(
        "import uuid\nfrom fastapi import FastAPI\n"
        + RWMH_STORE
        + dedent(
            """
            app = FastAPI()


            @app.post("/chat")
            def chat(q: str):
                sid = str(uuid.uuid4())
                return chain.invoke(q, config={"configurable": {"session_id": sid}})
            """
        )
    )
    key = conversation.calls[0].key
    assert key is not None and key.origin is Origin.UUID_PER_CALL


def test_uuid_made_at_import_is_one_key_per_process() -> None:
    conversation = only(
        "from uuid import uuid4\n"
        + RWMH_STORE
        + "\nSESSION = str(uuid4())\n\n\ndef ask(q):\n"
        + "    return chain.invoke(q, config={'configurable': {'session_id': SESSION}})\n"
    )
    key = conversation.calls[0].key
    assert key is not None and key.origin is Origin.UUID_PER_PROCESS


def test_module_constant_session_id_is_a_constant_key() -> None:
    conversation = only(
        RWMH_STORE
        + '\nSESSION_ID = "default-session"\n\n\ndef ask(q):\n'
        + "    return chain.invoke(q, config={'configurable': {'session_id': SESSION_ID}})\n"
    )
    key = conversation.calls[0].key
    assert key is not None
    assert (key.origin, key.expr) == (Origin.CONSTANT, "SESSION_ID")
    assert "default-session" in key.reason


def test_parameter_with_a_default_is_a_parameter_default_key() -> None:
    conversation = only(
        RWMH_STORE
        + "\n\ndef ask(q, session_id='default_user'):\n"
        + "    return chain.invoke(q, config={'configurable': {'session_id': session_id}})\n"
    )
    call = conversation.calls[0]
    assert call.key is not None and call.key.origin is Origin.PARAMETER_DEFAULT
    assert call.context is Context.PLAIN


def test_django_view_reads_request_session_and_post_fields() -> None:
    conversation = only(
        dedent(
            """
            from django.http import JsonResponse
            from langchain.chains import ConversationChain
            from langchain.memory import ConversationBufferMemory
            from langchain_openai import ChatOpenAI


            def chat(request):
                memory = ConversationBufferMemory()
                chain = ConversationChain(llm=ChatOpenAI(), memory=memory)
                reply = chain.predict(input=request.POST.get("message"))
                return JsonResponse({"reply": reply, "guest": request.POST.get("guest_id"),
                                     "key": request.session.session_key})
            """
        ),
        path="shop/views.py",
    )
    call = conversation.calls[0]
    assert call.context is Context.ROUTE
    assert conversation.state[0].lifetime is Lifetime.CALL
    found = {(i.expr, i.source, i.proven) for i in call.identities}
    assert ("request.POST.get('guest_id')", "form", False) in found
    assert ("request.session.session_key", "framework-session", True) in found
    assert call.result_uses[0].kind is UseKind.PASSED


def test_service_whose_init_builds_the_chain_and_is_created_per_request() -> None:
    conversation = only(
        dedent(
            """
            from fastapi import FastAPI
            from langchain.chains import ConversationChain
            from langchain.memory import ConversationBufferWindowMemory
            from langchain_openai import ChatOpenAI

            app = FastAPI()


            class ChatService:
                def __init__(self):
                    self.memory = ConversationBufferWindowMemory(k=5)
                    self.chain = ConversationChain(llm=ChatOpenAI(), memory=self.memory)

                def reply(self, text):
                    return self.chain.predict(input=text)


            @app.post("/chat")
            def chat(text: str, user_id: str):
                service = ChatService()
                return {"reply": service.reply(text)}
            """
        )
    )
    assert conversation.runnable.lifetime is Lifetime.REQUEST_OBJECT
    [memory] = conversation.state
    assert memory.lifetime is Lifetime.REQUEST_OBJECT
    assert [(o.name, o.value) for o in memory.options] == [("k", "5")]
    call = conversation.calls[0]
    assert (call.target, call.function, call.context) == ("self.chain", "reply", Context.ROUTE)
    assert "called from chat()" in call.context_reason


def test_service_built_once_at_module_level_is_an_instance() -> None:
    conversation = only(
        dedent(
            """
            from langchain.chains import ConversationChain
            from langchain_openai import ChatOpenAI


            class Bot:
                def __init__(self):
                    self.chain = ConversationChain(llm=ChatOpenAI())

                def reply(self, text):
                    return self.chain.run(text)


            bot = Bot()
            """
        )
    )
    assert conversation.runnable.lifetime is Lifetime.INSTANCE
    assert conversation.calls[0].callee == "run"


def test_imported_key_is_unknown_even_beside_a_class_field_of_that_name() -> None:
    conversation = only(
        "from settings import SESSION_ID\n"
        + RWMH_STORE
        + dedent(
            """
            class Defaults:
                SESSION_ID = "shared"


            def ask(q):
                return chain.invoke(q, config={"configurable": {"session_id": SESSION_ID}})
            """
        )
    )
    key = conversation.calls[0].key
    assert key is not None and key.origin is Origin.UNKNOWN
    assert key.reason == "SESSION_ID is imported from settings"


def test_memory_from_a_factory_that_fills_and_returns_a_module_store() -> None:
    conversation = only(
        dedent(
            """
            from flask import Flask, request
            from langchain.chains import ConversationChain
            from langchain.memory import ConversationBufferMemory

            app = Flask(__name__)
            _memories = {}


            def memory_for(session_id):
                if session_id not in _memories:
                    _memories[session_id] = ConversationBufferMemory()
                return _memories[session_id]


            @app.post("/chat")
            def chat():
                memory = memory_for(request.json["session_id"])
                chain = ConversationChain(llm=None, memory=memory)
                return chain.predict(input=request.json["text"])
            """
        )
    )
    [memory] = conversation.state
    assert memory.lifetime is Lifetime.PROCESS
    assert conversation.store is not None and conversation.store.name == "_memories"
    assert ("request.json['session_id']", "body") in {
        (i.expr, i.source) for i in conversation.calls[0].identities
    }


def test_function_taking_request_is_a_django_view_only_in_views_py_or_with_django() -> None:
    source = dedent(
        """
        from langchain.chains import ConversationChain

        chain = ConversationChain(llm=None)


        def chat(request):
            return chain.run(request.GET["q"])
        """
    )
    in_views = build_model(source, "shop/views.py").conversations[0].calls[0]
    elsewhere = build_model(source, "shop/tools.py").conversations[0].calls[0]
    assert (in_views.context, elsewhere.context) == (Context.ROUTE, Context.PLAIN)


def test_flask_header_query_and_django_user_reads_are_identities_with_their_source() -> None:
    conversation = only(
        "from flask import Flask, request\n"
        + RWMH_STORE
        + dedent(
            """
            app = Flask(__name__)


            @app.get("/chat")
            def chat():
                sid = request.headers["X-Session-Id"]
                user = request.args.get("user_id")
                owner = request.user.id
                return chain.invoke("hi", config={"configurable": {"session_id": sid}}).content
            """
        )
    )
    found = {(i.expr, i.source, i.proven) for i in conversation.calls[0].identities}
    assert {
        ("sid", "header", False),
        ("user", "query", False),
        ("owner", "framework-session", True),
    } <= found
