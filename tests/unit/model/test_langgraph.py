"""The model of LangGraph graphs and agents: checkpointers, thread ids, `with` blocks."""

from __future__ import annotations

from textwrap import dedent

from memfix.model import Context, Conversation, Lifetime, Origin, UseKind, build_model


def only(source: str, path: str = "graph.py") -> Conversation:
    model = build_model(dedent(source), path)
    assert model.error is None
    assert len(model.conversations) == 1
    return model.conversations[0]


GRAPH = """
from langgraph.checkpoint.memory import MemorySaver
from langgraph.graph import START, MessagesState, StateGraph

builder = StateGraph(MessagesState)
builder.add_edge(START, "chat")
memory = MemorySaver()
graph = builder.compile(checkpointer=memory)
"""


def test_compiled_graph_with_module_memory_saver_keeps_threads_in_the_process() -> None:
    conversation = only(
        GRAPH + "\ngraph.invoke({'messages': []}, {'configurable': {'thread_id': '1'}})\n"
    )
    assert conversation.runnable.kind == "graph"
    assert conversation.runnable.qualname == "langgraph.graph.StateGraph.compile"
    [saver] = conversation.state
    assert (saver.qualname, saver.name) == ("langgraph.checkpoint.memory.MemorySaver", "memory")
    assert saver.lifetime is Lifetime.PROCESS


def test_thread_id_from_a_constant_config_dict() -> None:
    conversation = only(
        GRAPH
        + dedent(
            """
            CONFIG = {"configurable": {"thread_id": "thread-1"}}


            def ask(text):
                return graph.invoke({"messages": [text]}, config=CONFIG)["messages"][-1].content
            """
        )
    )
    key = conversation.calls[0].key
    assert key is not None
    assert (key.field, key.origin, key.expr) == ("thread_id", Origin.CONSTANT, "'thread-1'")


def test_thread_id_from_the_user_of_a_route() -> None:
    conversation = only(
        "from fastapi import FastAPI\n"
        + GRAPH
        + dedent(
            """
            app = FastAPI()


            @app.post("/chat/{thread_id}")
            async def chat(thread_id: str, text: str):
                config = {"configurable": {"thread_id": thread_id}}
                state = await graph.ainvoke({"messages": [text]}, config)
                return state["messages"][-1].content
            """
        )
    )
    call = conversation.calls[0]
    assert call.context is Context.ROUTE
    assert call.key is not None and call.key.origin is Origin.IDENTITY
    assert call.key.identity is not None and call.key.identity.source == "path"
    assert [(u.kind, u.through) for u in call.result_uses] == [(UseKind.SUBSCRIPTED, "state")]


def test_graph_stream_without_config_has_a_missing_thread_id() -> None:
    conversation = only(
        GRAPH + "\nfor event in graph.stream({'messages': ['hi']}):\n    print(event)\n"
    )
    call = conversation.calls[0]
    assert call.key is not None and call.key.origin is Origin.MISSING
    assert call.result_uses[0].kind is UseKind.STREAMED


def test_config_without_thread_id_is_missing_too() -> None:
    conversation = only(
        GRAPH + "\ngraph.invoke({'messages': []}, {'configurable': {'user': 'x'}})\n"
    )
    key = conversation.calls[0].key
    assert key is not None and key.origin is Origin.MISSING


def test_sqlite_saver_in_a_with_block_is_persistent_and_closes_with_the_block() -> None:
    conversation = only(
        dedent(
            """
            from langgraph.checkpoint.sqlite import SqliteSaver
            from langgraph.graph import MessagesState, StateGraph

            builder = StateGraph(MessagesState)
            with SqliteSaver.from_conn_string("chat.db") as saver:
                graph = builder.compile(checkpointer=saver)
                graph.invoke({"messages": []}, {"configurable": {"thread_id": "t"}})
            """
        )
    )
    [saver] = conversation.state
    assert saver.lifetime is Lifetime.PERSISTENT
    assert "with block" in saver.reason
    assert [(o.name, o.value) for o in saver.options] == [("conn_string", "present")]


def test_graph_compiled_without_a_checkpointer_is_reported_unknown() -> None:
    conversation = only(
        dedent(
            """
            from langgraph.graph import MessagesState, StateGraph

            graph = StateGraph(MessagesState).compile()
            graph.invoke({"messages": []})
            """
        )
    )
    assert conversation.state == ()
    assert any("no checkpointer" in gap for gap in conversation.unknowns)


def test_create_react_agent_saver_built_per_call_is_call_lifetime() -> None:
    conversation = only(
        dedent(
            """
            from langgraph.checkpoint.memory import InMemorySaver
            from langgraph.prebuilt import create_react_agent as make_agent


            def answer(model, text, user_id):
                agent = make_agent(model, [], checkpointer=InMemorySaver())
                return agent.invoke({"messages": [text]}, {"configurable": {"thread_id": user_id}})
            """
        )
    )
    assert conversation.runnable.qualname == "langgraph.prebuilt.create_react_agent"
    assert conversation.state[0].lifetime is Lifetime.CALL
    key = conversation.calls[0].key
    assert key is not None and key.origin is Origin.IDENTITY


def test_create_agent_of_langchain_v1_with_a_postgres_saver_is_persistent() -> None:
    conversation = only(
        dedent(
            """
            import os

            from langchain.agents import create_agent
            from langgraph.checkpoint.postgres import PostgresSaver

            saver = PostgresSaver.from_conn_string(os.environ["DB_URL"])
            agent = create_agent("openai:gpt-4o", tools=[], checkpointer=saver)
            """
        )
    )
    assert conversation.runnable.kind == "agent"
    assert conversation.state[0].lifetime is Lifetime.PERSISTENT
    assert any("no call" in gap for gap in conversation.unknowns)


def test_async_sqlite_saver_from_a_factory_keeps_the_saver_kind() -> None:
    conversation = only(
        dedent(
            """
            from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
            from langgraph.graph import MessagesState, StateGraph


            async def run(text, session_id):
                async with AsyncSqliteSaver.from_conn_string("c.db") as saver:
                    graph = StateGraph(MessagesState).compile(checkpointer=saver)
                    config = {"configurable": {"thread_id": session_id}}
                    await graph.ainvoke({"messages": [text]}, config)
            """
        )
    )
    saver = conversation.state[0]
    assert saver.qualname.endswith("AsyncSqliteSaver")
    assert conversation.calls[0].result_uses[0].kind is UseKind.IGNORED
