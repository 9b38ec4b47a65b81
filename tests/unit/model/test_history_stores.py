"""The model of stores behind RunnableWithMessageHistory: dicts, defaultdicts, setdefault,
class attributes, Streamlit session state, and persistent histories keyed per user."""

from __future__ import annotations

from textwrap import dedent

from memfix.model import Conversation, Lifetime, Origin, build_model


def only(source: str, path: str = "chat.py") -> Conversation:
    model = build_model(dedent(source), path)
    assert model.error is None
    assert len(model.conversations) == 1
    return model.conversations[0]


HEAD = """
from collections import defaultdict

from langchain_community.chat_message_histories import ChatMessageHistory
from langchain_core.runnables.history import RunnableWithMessageHistory as RWMH
from langchain_openai import ChatOpenAI
"""


def test_defaultdict_store_makes_the_history_class_it_was_given() -> None:
    conversation = only(
        HEAD
        + dedent(
            """
            histories = defaultdict(ChatMessageHistory)
            chain = RWMH(ChatOpenAI(), lambda sid: histories[sid])
            """
        )
    )
    assert conversation.store is not None
    assert (conversation.store.kind, conversation.store.lifetime) == (
        "defaultdict",
        Lifetime.PROCESS,
    )
    [history] = conversation.state
    assert history.qualname == "langchain_community.chat_message_histories.ChatMessageHistory"
    assert history.lifetime is Lifetime.PROCESS


def test_setdefault_store_is_recognised_in_a_getter_function() -> None:
    conversation = only(
        HEAD
        + dedent(
            """
            _store: dict[str, ChatMessageHistory] = {}


            def history_for(session_id):
                return _store.setdefault(session_id, ChatMessageHistory())


            chain = RWMH(ChatOpenAI(), get_session_history=history_for)
            """
        )
    )
    assert conversation.store is not None
    assert (conversation.store.kind, conversation.store.name) == ("setdefault", "_store")
    assert conversation.getter is not None and conversation.getter.name == "history_for"
    assert conversation.state[0].lifetime is Lifetime.PROCESS


def test_class_attribute_store_read_by_a_method_getter() -> None:
    conversation = only(
        HEAD
        + dedent(
            """
            class Assistant:
                sessions = {}

                def __init__(self):
                    self.chain = RWMH(ChatOpenAI(), self.get_history)

                def get_history(self, session_id):
                    if session_id not in self.sessions:
                        self.sessions[session_id] = ChatMessageHistory()
                    return self.sessions[session_id]

                def ask(self, text, user_id):
                    return self.chain.invoke(text, {"configurable": {"session_id": user_id}})
            """
        )
    )
    assert conversation.getter is not None
    assert (conversation.getter.kind, conversation.getter.parameter) == ("method", "session_id")
    assert conversation.store is not None
    assert (conversation.store.kind, conversation.store.lifetime) == (
        "class-attribute",
        Lifetime.PROCESS,
    )
    key = conversation.calls[0].key
    assert key is not None and key.origin is Origin.IDENTITY


def test_streamlit_session_state_store_lives_per_session() -> None:
    conversation = only(
        "import streamlit as st\n"
        + HEAD
        + dedent(
            """
            def get_history(session_id):
                if session_id not in st.session_state:
                    st.session_state[session_id] = ChatMessageHistory()
                return st.session_state[session_id]


            chain = RWMH(ChatOpenAI(), get_history)
            """
        )
    )
    assert conversation.store is not None
    assert (conversation.store.kind, conversation.store.lifetime) == (
        "session-state",
        Lifetime.SESSION,
    )


def test_sql_history_made_by_the_getter_is_persistent_and_keyed_by_its_parameter() -> None:
    conversation = only(
        dedent(
            """
            from langchain_community.chat_message_histories import SQLChatMessageHistory
            from langchain_core.runnables.history import RunnableWithMessageHistory


            def get_history(session_id):
                return SQLChatMessageHistory(session_id=session_id, connection="sqlite:///x.db")


            chain = RunnableWithMessageHistory(None, get_history)
            """
        )
    )
    [history] = conversation.state
    assert history.lifetime is Lifetime.PERSISTENT
    assert history.keyed_by is not None and history.keyed_by.field == "session_id"
    assert ("connection", "present") in {(o.name, o.value) for o in history.options}
    assert "sqlite" not in repr(history.options)
    assert conversation.store is None


def test_history_factory_config_renames_the_key_fields() -> None:
    conversation = only(
        HEAD
        + dedent(
            """
            from langchain_core.runnables import ConfigurableFieldSpec

            store = {}
            chain = RWMH(
                ChatOpenAI(),
                lambda user_id: store.setdefault(user_id, ChatMessageHistory()),
                history_factory_config=[ConfigurableFieldSpec(id="user_id", annotation=str)],
            )
            chain.invoke("hi", config={"configurable": {"user_id": "alice"}})
            """
        )
    )
    key = conversation.calls[0].key
    assert key is not None
    assert (key.field, key.origin) == ("user_id", Origin.CONSTANT)


def test_getter_defined_elsewhere_is_an_unknown_with_a_reason() -> None:
    conversation = only(
        dedent(
            """
            from langchain_core.runnables.history import RunnableWithMessageHistory
            from app.histories import get_history

            chain = RunnableWithMessageHistory(None, get_history)
            """
        )
    )
    assert conversation.getter is not None and conversation.getter.kind == "unknown"
    assert any("not defined in this module" in gap for gap in conversation.unknowns)


def test_lcel_pipeline_wrapped_in_rwmh_built_per_call_over_a_module_store() -> None:
    conversation = only(
        HEAD
        + dedent(
            """
            from langchain_core.prompts import ChatPromptTemplate

            store = {}


            def get_history(session_id):
                if session_id not in store:
                    store[session_id] = ChatMessageHistory()
                return store[session_id]


            def ask(question, session_id):
                prompt = ChatPromptTemplate.from_messages([("human", "{q}")])
                chain = RWMH(prompt | ChatOpenAI(), get_history, input_messages_key="q")
                return chain.invoke({"q": question}, {"configurable": {"session_id": session_id}})
            """
        )
    )
    assert conversation.runnable.lifetime is Lifetime.CALL
    assert conversation.state[0].lifetime is Lifetime.PROCESS
    assert conversation.calls[0].key is not None
    assert conversation.calls[0].key.origin is Origin.IDENTITY


def test_store_key_of_a_lambda_getter_is_its_parameter_not_a_class_field_default() -> None:
    conversation = only(
        HEAD
        + dedent(
            """
            class ChatIn:
                session_id: str | None = None


            store = {}
            chain = RWMH(
                ChatOpenAI(), lambda session_id: store.setdefault(session_id, ChatMessageHistory())
            )
            """
        )
    )
    assert conversation.store is not None and conversation.store.key is not None
    assert conversation.store.key.origin is Origin.UNKNOWN
    assert "a parameter of a lambda" in conversation.store.key.reason


def test_uuid_beside_a_loop_variable_in_an_fstring_is_still_new_per_call() -> None:
    conversation = only(
        "import uuid\n"
        + HEAD
        + dedent(
            """
            chain = RWMH(ChatOpenAI(), lambda sid: ChatMessageHistory())


            def survey(names):
                for name in names:
                    key = f"{name}-{uuid.uuid4()}"
                    chain.invoke(name, config={"configurable": {"session_id": key}})
            """
        )
    )
    call = conversation.calls[0]
    assert call.key is not None and call.key.origin is Origin.UUID_PER_CALL
    assert call.context.value == "loop"


def test_store_set_in_init_lives_as_long_as_the_instance() -> None:
    conversation = only(
        HEAD
        + dedent(
            """
            class Bot:
                def __init__(self):
                    self.store = {}
                    sessions = {}
                    self.chain = RWMH(ChatOpenAI(), self.history)

                def history(self, session_id):
                    return self.store.setdefault(session_id, ChatMessageHistory())
            """
        )
    )
    assert conversation.store is not None
    assert (conversation.store.name, conversation.store.lifetime) == (
        "self.store",
        Lifetime.INSTANCE,
    )


def test_class_attribute_store_read_through_the_class_name() -> None:
    conversation = only(
        HEAD
        + dedent(
            """
            class Registry:
                sessions = {}


            def history(session_id):
                return Registry.sessions.setdefault(session_id, ChatMessageHistory())


            chain = RWMH(ChatOpenAI(), history)
            """
        )
    )
    assert conversation.store is not None
    assert (conversation.store.kind, conversation.store.lifetime) == (
        "setdefault",
        Lifetime.PROCESS,
    )
    assert conversation.store.name == "Registry.sessions"
