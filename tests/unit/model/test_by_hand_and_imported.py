"""Conversations whose runnable lives in another module, state used by hand, and the
agent and chain factories of the older eras."""

from __future__ import annotations

from textwrap import dedent

from memfix.model import Context, Conversation, Lifetime, Origin, build_model


def conversations(source: str, path: str = "app.py") -> tuple[Conversation, ...]:
    model = build_model(dedent(source), path)
    assert model.error is None
    return model.conversations


def only(source: str) -> Conversation:
    [conversation] = conversations(source)
    return conversation


def test_imported_chain_called_with_a_constant_session_id_in_a_route() -> None:
    conversation = only(
        """
        from fastapi import FastAPI
        from chat import conversational_rag_chain

        app = FastAPI()


        @app.post("/chat")
        def chat_endpoint(text: str):
            response = conversational_rag_chain.invoke(
                {"input": text}, config={"configurable": {"session_id": "abc123"}}
            )
            return response["answer"]
        """
    )
    runnable = conversation.runnable
    assert (runnable.kind, runnable.qualname) == ("unresolved", "chat.conversational_rag_chain")
    assert runnable.lifetime is Lifetime.UNKNOWN
    assert runnable.reason == "imported from chat: built in another module"
    call = conversation.calls[0]
    assert call.context is Context.ROUTE
    assert call.key is not None
    assert (call.key.field, call.key.origin) == ("session_id", Origin.CONSTANT)


def test_imported_graph_in_a_streamlit_page_keyed_by_session_state() -> None:
    conversation = only(
        """
        import streamlit as st
        from backend import chatbot

        if "thread_id" not in st.session_state:
            st.session_state["thread_id"] = "t-1"
        config = {"configurable": {"thread_id": st.session_state["thread_id"]}}
        for chunk in chatbot.stream({"messages": []}, config=config):
            st.write(chunk)
        """
    )
    call = conversation.calls[0]
    assert call.key is not None and call.key.field == "thread_id"
    assert call.key.origin is Origin.IDENTITY
    assert call.context is Context.STREAMLIT


def test_a_call_without_configurable_on_an_unknown_object_is_no_conversation() -> None:
    assert (
        conversations("from tools import client\nclient.invoke('x', config={'timeout': 3})\n") == ()
    )


def test_module_memory_read_and_written_by_hand_in_a_chainlit_callback() -> None:
    conversation = only(
        """
        import chainlit as cl
        from langchain.memory import ConversationBufferMemory

        memory = ConversationBufferMemory(return_messages=True)


        @cl.on_message
        async def on_message(message):
            history = memory.load_memory_variables({})["history"]
            memory.save_context({"input": message.content}, {"output": "ok"})
        """
    )
    assert conversation.runnable.kind == "memory"
    assert conversation.runnable.lifetime is Lifetime.MODULE
    assert [call.callee for call in conversation.calls] == ["load_memory_variables", "save_context"]
    assert {call.context for call in conversation.calls} == {Context.CALLBACK}
    assert conversation.unknowns == ("no runnable of this module is given this memory",)


def test_memory_nothing_reads_is_its_own_conversation_without_calls() -> None:
    conversation = only(
        """
        from langchain.memory import ConversationBufferMemory

        memory = ConversationBufferMemory(memory_key="chat_history")
        """
    )
    assert conversation.calls == ()
    assert conversation.unknowns == ("nothing in this module reads or writes this memory",)


def test_saver_set_up_inside_a_pool_block_says_the_block_closes_it() -> None:
    conversation = only(
        """
        from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
        from psycopg_pool import AsyncConnectionPool


        async def get_checkpointer(url):
            async with AsyncConnectionPool(url) as pool:
                saver = AsyncPostgresSaver(pool)
                await saver.setup()
                return saver
        """
    )
    saver = conversation.runnable
    assert (saver.kind, saver.lifetime) == ("checkpointer", Lifetime.PERSISTENT)
    assert "built inside `with AsyncConnectionPool(url)`" in saver.reason
    assert [call.callee for call in conversation.calls] == ["setup"]


def test_initialize_agent_with_a_module_memory_is_a_legacy_chain() -> None:
    conversation = only(
        """
        from langchain.agents import initialize_agent
        from langchain.chains.conversation.memory import ConversationBufferMemory

        MEMORY = ConversationBufferMemory(memory_key="chat_history")
        AGENT = initialize_agent(llm=None, tools=[], memory=MEMORY)
        AGENT.run("hello")
        """
    )
    assert conversation.runnable.qualname == "langchain.agents.initialize_agent"
    assert conversation.state[0].name == "MEMORY"
    assert conversation.calls[0].callee == "run"


def test_conversational_retrieval_chain_from_llm_is_built_by_its_class_method() -> None:
    conversation = only(
        """
        from langchain.chains import ConversationalRetrievalChain
        from langchain.memory import ConversationBufferMemory


        def answer(question, retriever):
            memory = ConversationBufferMemory(memory_key="chat_history", return_messages=True)
            qa = ConversationalRetrievalChain.from_llm(None, retriever, memory=memory)
            return qa({"question": question})["answer"]
        """
    )
    assert conversation.runnable.qualname == "langchain.chains.ConversationalRetrievalChain"
    assert conversation.state[0].lifetime is Lifetime.CALL
    call = conversation.calls[0]
    assert call.callee == "__call__"
    assert call.result_uses[0].detail == "'answer'"


def test_calling_a_memory_like_a_function_is_not_a_turn_of_it() -> None:
    conversation = only(
        """
        from langchain.memory import ConversationBufferMemory

        memory = ConversationBufferMemory()
        memory({"input": "x"})
        memory.clear()
        """
    )
    assert [call.callee for call in conversation.calls] == ["clear"]
