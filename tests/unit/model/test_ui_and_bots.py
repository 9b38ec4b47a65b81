"""The model of UI scripts and bots: Streamlit, Chainlit, Gradio, Telegram, Slack, Discord."""

from __future__ import annotations

from textwrap import dedent

from memfix.model import Context, Conversation, Lifetime, Origin, UseKind, build_model


def only(source: str, path: str = "app.py") -> Conversation:
    model = build_model(dedent(source), path)
    assert model.error is None
    assert len(model.conversations) == 1
    return model.conversations[0]


STREAMLIT_HEAD = """
import uuid

import streamlit as st
from langchain_core.messages import HumanMessage
from langgraph.checkpoint.memory import MemorySaver
from langgraph.prebuilt import create_react_agent
from langchain_openai import ChatOpenAI
"""


def test_streamlit_agent_at_top_level_is_rebuilt_on_every_rerun() -> None:
    conversation = only(
        STREAMLIT_HEAD
        + dedent(
            """
            agent = create_react_agent(ChatOpenAI(), [], checkpointer=MemorySaver())
            if prompt := st.chat_input():
                out = agent.invoke({"messages": [HumanMessage(prompt)]},
                                   {"configurable": {"thread_id": "1"}})
                st.write(out["messages"][-1].content)
            """
        )
    )
    assert conversation.runnable.kind == "agent"
    assert conversation.runnable.lifetime is Lifetime.CALL
    [saver] = conversation.state
    assert saver.kind == "checkpointer" and saver.lifetime is Lifetime.CALL
    call = conversation.calls[0]
    assert call.context is Context.STREAMLIT
    assert call.key is not None and call.key.origin is Origin.CONSTANT
    assert [(u.kind, u.detail) for u in call.result_uses] == [(UseKind.SUBSCRIPTED, "'messages'")]


def test_streamlit_session_state_guard_keeps_agent_and_thread_per_session() -> None:
    conversation = only(
        STREAMLIT_HEAD
        + dedent(
            """
            if "agent" not in st.session_state:
                st.session_state.agent = create_react_agent(
                    ChatOpenAI(), [], checkpointer=MemorySaver()
                )
            if "thread_id" not in st.session_state:
                st.session_state.thread_id = str(uuid.uuid4())
            config = {"configurable": {"thread_id": st.session_state.thread_id}}
            if prompt := st.chat_input():
                for chunk in st.session_state.agent.stream({"messages": [prompt]}, config):
                    st.write(chunk)
            """
        )
    )
    assert conversation.runnable.lifetime is Lifetime.SESSION
    assert conversation.runnable.name == "st.session_state.agent"
    [saver] = conversation.state
    assert saver.lifetime is Lifetime.SESSION
    call = conversation.calls[0]
    assert call.key is not None and call.key.origin is Origin.IDENTITY
    assert call.key.identity is not None
    assert call.key.identity.expr == "st.session_state.thread_id"
    assert call.key.identity.proven
    assert call.result_uses[0].kind is UseKind.STREAMED


def test_streamlit_uuid_assigned_without_a_guard_changes_on_every_rerun() -> None:
    conversation = only(
        STREAMLIT_HEAD
        + dedent(
            """
            agent = st.session_state.setdefault("agent", None)
            graph = create_react_agent(ChatOpenAI(), [], checkpointer=MemorySaver())
            thread_id = str(uuid.uuid4())
            graph.invoke({"messages": []}, {"configurable": {"thread_id": thread_id}})
            """
        )
    )
    key = conversation.calls[0].key
    assert key is not None and key.origin is Origin.RERUN


def test_streamlit_text_input_default_is_a_constant_key() -> None:
    conversation = only(
        STREAMLIT_HEAD
        + dedent(
            """
            graph = create_react_agent(ChatOpenAI(), [], checkpointer=MemorySaver())
            sid = st.text_input("Session", "default")
            graph.invoke({"messages": []}, {"configurable": {"thread_id": sid}})
            """
        )
    )
    key = conversation.calls[0].key
    assert key is not None and key.origin is Origin.CONSTANT


def test_streamlit_history_keeps_messages_in_the_browser_session() -> None:
    conversation = only(
        dedent(
            """
            import streamlit as st
            from langchain.chains import ConversationChain
            from langchain.memory import ConversationBufferMemory
            from langchain_community.chat_message_histories import StreamlitChatMessageHistory
            from langchain_openai import ChatOpenAI

            history = StreamlitChatMessageHistory(key="chat_messages")
            memory = ConversationBufferMemory(chat_memory=history)
            chain = ConversationChain(llm=ChatOpenAI(), memory=memory)
            st.write(chain.predict(input=st.chat_input()))
            """
        )
    )
    memory, history = conversation.state
    assert memory.lifetime is Lifetime.CALL
    assert history.lifetime is Lifetime.SESSION
    assert conversation.calls[0].result_uses[0].kind is UseKind.PRINTED


def test_chainlit_user_session_memory_and_callback_context() -> None:
    conversation = only(
        dedent(
            """
            import chainlit as cl
            from langchain.chains import ConversationChain
            from langchain.memory import ConversationBufferMemory
            from langchain_openai import ChatOpenAI


            @cl.on_chat_start
            def start():
                memory = ConversationBufferMemory()
                cl.user_session.set("chain", ConversationChain(llm=ChatOpenAI(), memory=memory))


            @cl.on_message
            async def main(message: cl.Message):
                chain = cl.user_session.get("chain")
                sid = cl.user_session.get("id")
                reply = await chain.ainvoke({"input": message.content})
                await cl.Message(content=reply["response"]).send()
            """
        )
    )
    assert conversation.runnable.lifetime is Lifetime.SESSION
    assert conversation.runnable.name == "cl.user_session.chain"


def test_chainlit_callback_sees_its_session_id_as_a_proven_identity() -> None:
    conversation = only(
        dedent(
            """
            import chainlit as cl
            from langchain.chains import ConversationChain
            from langchain_openai import ChatOpenAI

            chain = ConversationChain(llm=ChatOpenAI())


            @cl.on_message
            async def main(message: cl.Message):
                sid = cl.user_session.get("id")
                reply = chain(message.content)
                await cl.Message(content=reply["response"]).send()
            """
        )
    )
    call = conversation.calls[0]
    assert (call.callee, call.context) == ("__call__", Context.CALLBACK)
    assert ("sid", "framework-session", True) in {
        (i.expr, i.source, i.proven) for i in call.identities
    }
    assert [(u.kind, u.detail, u.through) for u in call.result_uses] == [
        (UseKind.SUBSCRIPTED, "'response'", "reply")
    ]
    [memory] = conversation.state
    assert memory.where is None and "makes its own" in memory.reason


def test_gradio_chat_interface_function_is_a_callback() -> None:
    conversation = only(
        dedent(
            """
            import gradio as gr
            from langchain.chains import ConversationChain
            from langchain.memory import ConversationBufferMemory
            from langchain_openai import ChatOpenAI

            memory = ConversationBufferMemory()
            chain = ConversationChain(llm=ChatOpenAI(), memory=memory)


            def respond(message, history):
                return chain.predict(input=message)


            gr.ChatInterface(fn=respond).launch()
            """
        )
    )
    assert conversation.state[0].lifetime is Lifetime.MODULE
    call = conversation.calls[0]
    assert call.context is Context.CALLBACK
    assert call.identities == ()


def test_gradio_request_session_hash_is_a_proven_identity() -> None:
    conversation = only(
        dedent(
            """
            import gradio as gr
            from langchain_core.runnables.history import RunnableWithMessageHistory
            from langchain_community.chat_message_histories import SQLChatMessageHistory
            from langchain_openai import ChatOpenAI

            chain = RunnableWithMessageHistory(
                ChatOpenAI(),
                lambda sid: SQLChatMessageHistory(session_id=sid, connection="sqlite:///c.db"),
            )


            def respond(message, history, request: gr.Request):
                cfg = {"configurable": {"session_id": request.session_hash}}
                return chain.invoke(message, config=cfg).content


            with gr.Blocks() as demo:
                box = gr.Textbox()
                box.submit(respond, [box])
            """
        )
    )
    [history] = conversation.state
    assert history.lifetime is Lifetime.PERSISTENT
    assert ("connection", "present") in {(o.name, o.value) for o in history.options}
    assert conversation.getter is not None and conversation.getter.kind == "lambda"
    call = conversation.calls[0]
    assert call.context is Context.CALLBACK
    assert call.key is not None and call.key.identity is not None
    assert (call.key.identity.expr, call.key.identity.proven) == ("request.session_hash", True)


def test_telegram_handler_registered_with_message_handler_sees_the_chat_id() -> None:
    conversation = only(
        dedent(
            """
            from langchain.chains import ConversationChain
            from langchain_openai import ChatOpenAI
            from telegram.ext import Application, MessageHandler, filters

            chain = ConversationChain(llm=ChatOpenAI())


            async def handle_message(update, context):
                answer = chain.run(update.message.text)
                await update.message.reply_text(answer)


            app = Application.builder().token("x").build()
            app.add_handler(MessageHandler(filters.TEXT, handle_message))
            """
        )
    )
    call = conversation.calls[0]
    assert call.context is Context.BOT_HANDLER
    assert conversation.runnable.lifetime is Lifetime.MODULE
    assert [u.kind for u in call.result_uses] == [UseKind.PASSED]
    assert call.result_uses[0].detail == "update.message.reply_text"


def test_telegram_effective_chat_id_is_a_proven_bot_identity() -> None:
    conversation = only(
        dedent(
            """
            from langchain.chains import ConversationChain
            from langchain_openai import ChatOpenAI
            from telegram.ext import CommandHandler

            chain = ConversationChain(llm=ChatOpenAI())


            async def ask(update, context):
                chat_id = update.effective_chat.id
                await update.message.reply_text(chain.run(update.message.text))


            handler = CommandHandler("ask", ask)
            """
        )
    )
    found = {(i.expr, i.source, i.proven, i.via) for i in conversation.calls[0].identities}
    assert ("chat_id", "bot-chat", True, "update.effective_chat.id") in found


def test_discord_command_reaches_a_module_agent_through_an_executor_function() -> None:
    conversation = only(
        dedent(
            """
            import asyncio

            from discord.ext import commands
            from langchain.agents import AgentExecutor
            from langchain.memory import ConversationBufferMemory

            memory = ConversationBufferMemory(memory_key="chat_history")
            agent = AgentExecutor(agent=None, tools=[], memory=memory)
            bot = commands.Bot(command_prefix="!")


            def process_message(text):
                return agent.run(text)


            @bot.command()
            async def ask(ctx, *, text):
                author = ctx.author.id
                loop = asyncio.get_running_loop()
                reply = await loop.run_in_executor(None, process_message, text)
                await ctx.send(reply)
            """
        )
    )
    assert conversation.state[0].lifetime is Lifetime.MODULE
    assert [(o.name, o.value) for o in conversation.state[0].options] == [
        ("memory_key", "'chat_history'")
    ]
    call = conversation.calls[0]
    assert (call.function, call.context) == ("process_message", Context.BOT_HANDLER)
    assert "called from ask()" in call.context_reason


def test_slack_event_channel_is_a_proven_bot_identity() -> None:
    conversation = only(
        dedent(
            """
            from langchain.chains import ConversationChain
            from langchain_openai import ChatOpenAI
            from slack_bolt import App

            app = App()
            chain = ConversationChain(llm=ChatOpenAI())


            @app.event("app_mention")
            def mention(event, say):
                say(chain.predict(input=event["text"]), thread_ts=event.get("thread_ts"))
            """
        )
    )
    call = conversation.calls[0]
    assert call.context is Context.BOT_HANDLER
    assert ("event.get('thread_ts')", "bot-chat", True) in {
        (i.expr, i.source, i.proven) for i in call.identities
    }


def test_chain_read_back_from_the_chainlit_user_session_is_called_through_a_local() -> None:
    conversation = only(
        dedent(
            """
            import chainlit as cl
            from langchain.chains import ConversationChain
            from langchain_openai import ChatOpenAI


            @cl.on_chat_start
            def start():
                cl.user_session.set("chain", ConversationChain(llm=ChatOpenAI()))


            @cl.on_message
            async def main(message: cl.Message):
                chain = cl.user_session.get("chain")
                reply = await chain.ainvoke({"input": message.content})
                await cl.Message(content=reply["response"]).send()
            """
        )
    )
    [call] = conversation.calls
    assert (call.target, call.callee, call.function) == ("chain", "ainvoke", "main")
    assert call.result_uses[0].detail == "'response'"
