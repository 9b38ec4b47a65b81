"""The model of legacy chains and plain scripts: names through every era's imports,
options, factories, loops, spans in the original text and result uses."""

from __future__ import annotations

from textwrap import dedent

from memfix.model import Context, Conversation, Lifetime, Span, UseKind, build_model


def conversations(source: str) -> tuple[Conversation, ...]:
    model = build_model(dedent(source), "script.py")
    assert model.error is None
    return model.conversations


def only(source: str) -> Conversation:
    [conversation] = conversations(source)
    return conversation


def test_module_alias_import_of_an_old_era_resolves_the_memory_class() -> None:
    conversation = only(
        dedent(
            """
            import langchain.chains.conversation.memory as mem
            from langchain import ConversationChain, OpenAI

            memory = mem.ConversationBufferWindowMemory(k=3, return_messages=True)
            chain = ConversationChain(llm=OpenAI(), memory=memory)
            """
        )
    )
    [memory] = conversation.state
    assert memory.qualname == "langchain.chains.conversation.memory.ConversationBufferWindowMemory"
    assert [(o.name, o.value) for o in memory.options] == [("k", "3"), ("return_messages", "True")]
    assert conversation.runnable.qualname == "langchain.ConversationChain"


def test_classic_era_aliased_class_name_is_resolved_through_the_import() -> None:
    conversation = only(
        dedent(
            """
            from langchain_classic.chains import LLMChain as Chain
            from langchain_classic.memory import ConversationSummaryBufferMemory as Summary

            chain = Chain(llm=None, prompt=None, memory=Summary(llm=None, max_token_limit=200))
            """
        )
    )
    assert conversation.runnable.qualname == "langchain_classic.chains.LLMChain"
    [memory] = conversation.state
    assert memory.name == ""
    assert ("max_token_limit", "200") in {(o.name, o.value) for o in memory.options}


def test_same_class_name_not_from_langchain_is_not_a_conversation() -> None:
    assert (
        conversations(
            """
        from mylib import ConversationChain

        chain = ConversationChain()
        chain.run("hi")
        """
        )
        == ()
    )


def test_plain_cli_loop_calls_a_module_chain_in_a_loop() -> None:
    conversation = only(
        """
        from langchain.chains import ConversationChain
        from langchain_openai import ChatOpenAI

        chain = ConversationChain(llm=ChatOpenAI())


        def main():
            while True:
                text = input("> ")
                print(chain.predict(input=text))
        """
    )
    call = conversation.calls[0]
    assert (call.context, call.function) == (Context.LOOP, "main")
    assert [(u.kind, u.detail) for u in call.result_uses] == [(UseKind.PRINTED, "print")]


def test_chain_returned_by_a_factory_takes_the_lifetime_of_the_call_site() -> None:
    conversation = only(
        """
        from fastapi import FastAPI
        from langchain.chains import ConversationChain
        from langchain.memory import ConversationBufferMemory
        from langchain_openai import ChatOpenAI

        app = FastAPI()
        memory = ConversationBufferMemory()


        def get_conversation_chain():
            return ConversationChain(llm=ChatOpenAI(), memory=memory)


        @app.post("/chat")
        def chat(text: str):
            chain = get_conversation_chain()
            result = chain.invoke({"input": text})
            return result["response"]
        """
    )
    assert conversation.runnable.lifetime is Lifetime.CALL
    assert "factory" in conversation.runnable.reason
    assert conversation.state[0].lifetime is Lifetime.MODULE
    call = conversation.calls[0]
    assert (call.target, call.context) == ("chain", Context.ROUTE)
    assert [(u.kind, u.detail, u.through) for u in call.result_uses] == [
        (UseKind.SUBSCRIPTED, "'response'", "result")
    ]


def test_result_assigned_and_never_read_is_ignored_through_the_variable() -> None:
    conversation = only(
        """
        from langchain.chains import ConversationChain

        chain = ConversationChain(llm=None)
        answer = chain.run("hi")
        """
    )
    [use] = conversation.calls[0].result_uses
    assert (use.kind, use.through) == (UseKind.IGNORED, "answer")


def test_result_iterated_and_attribute_read() -> None:
    conversation = only(
        """
        from langchain.chains import ConversationChain

        chain = ConversationChain(llm=None)
        out = chain.batch([{"input": "a"}])
        for item in out:
            pass
        print(chain.invoke({"input": "b"}).keys)
        """
    )
    batch, invoke = conversation.calls
    assert [u.kind for u in batch.result_uses] == [UseKind.ITERATED]
    assert [(u.kind, u.detail) for u in invoke.result_uses] == [(UseKind.ATTRIBUTE, "keys")]


def test_spans_are_one_based_character_columns_of_the_original_text() -> None:
    conversation = only(
        "from langchain.chains import ConversationChain\n"
        'nom = "héé"; chain = ConversationChain(llm=None)\n'
    )
    # Columns count characters, not UTF-8 bytes: `é` is one column.
    assert conversation.runnable.where == Span(2, 22, 2, 49)


def test_local_chain_is_not_matched_by_a_call_in_another_function() -> None:
    conversation = only(
        """
        from langchain.chains import ConversationChain


        def build():
            chain = ConversationChain(llm=None)


        def other(chain):
            return chain.run("x")
        """
    )
    assert conversation.calls == ()
    assert any("no call" in gap for gap in conversation.unknowns)


def test_memory_built_elsewhere_is_an_unknown_not_a_guess() -> None:
    conversation = only(
        """
        from langchain.chains import ConversationChain
        from app.memory import memory

        chain = ConversationChain(llm=None, memory=memory)
        """
    )
    assert conversation.state == ()
    assert "memory is not built in this module" in conversation.unknowns


def test_memory_over_a_redis_history_keyed_by_a_parameter_identity() -> None:
    conversation = only(
        """
        from langchain.memory import ConversationBufferMemory
        from langchain.chains import ConversationChain
        from langchain_community.chat_message_histories import RedisChatMessageHistory


        def reply(user_id, text):
            history = RedisChatMessageHistory(user_id, url="redis://secret@host:6379")
            memory = ConversationBufferMemory(chat_memory=history, memory_key="history")
            return ConversationChain(llm=None, memory=memory).predict(input=text)
        """
    )
    memory, history = conversation.state
    assert memory.lifetime is Lifetime.CALL
    assert history.lifetime is Lifetime.PERSISTENT
    assert history.keyed_by is not None and history.keyed_by.identity is not None
    assert history.keyed_by.identity.expr == "user_id"
    assert ("url", "present") in {(o.name, o.value) for o in history.options}
    call = conversation.calls[0]
    assert (call.target, call.callee) == ("", "predict")
    assert call.result_uses[0].kind is UseKind.RETURNED


def test_legacy_memories_kept_in_a_module_dict_by_conversation_id() -> None:
    conversation = only(
        """
        from fastapi import FastAPI
        from langchain.chains import ConversationChain
        from langchain.memory import ConversationBufferMemory

        app = FastAPI()
        memories = {}


        @app.post("/chat")
        def chat(data: dict):
            memory = ConversationBufferMemory()
            memories[data["conversation_id"]] = memory
            chain = ConversationChain(llm=None, memory=memory)
            return chain.predict(input=data["text"])
        """
    )
    assert conversation.store is not None
    assert (conversation.store.name, conversation.store.lifetime) == ("memories", Lifetime.PROCESS)
    assert conversation.store.key is not None
    assert conversation.store.key.expr == "data['conversation_id']"


def test_local_memory_shadows_a_module_memory_of_the_same_name() -> None:
    chain, unused = conversations(
        """
        from langchain.chains import ConversationChain
        from langchain.memory import ConversationBufferMemory

        memory = ConversationBufferMemory()


        def chat(text):
            memory = ConversationBufferMemory(k=2)
            chain = ConversationChain(llm=None, memory=memory)
            return chain.predict(input=text)
        """
    )
    assert chain.state[0].lifetime is Lifetime.CALL
    assert chain.state[0].options[0].name == "k"
    assert unused.runnable.lifetime is Lifetime.MODULE


def test_result_followed_only_until_its_variable_is_assigned_again() -> None:
    conversation = only(
        """
        from langchain.chains import ConversationChain

        chain = ConversationChain(llm=None)
        result = chain.invoke({"input": "a"})
        print(result["response"])
        result = chain.invoke({"input": "b"})
        print(result.content)
        """
    )
    first, second = conversation.calls
    assert [u.kind for u in first.result_uses] == [UseKind.SUBSCRIPTED]
    assert [u.kind for u in second.result_uses] == [UseKind.CONTENT]


def test_memory_given_to_a_chain_factory_is_a_parameter_its_callers_decide() -> None:
    conversation = only(
        """
        from langchain.chains import LLMChain


        def create_chain(llm, memory):
            return LLMChain(llm=llm, prompt=None, memory=memory)
        """
    )
    assert conversation.unknowns[0] == "memory is a parameter of create_chain(): its callers decide"
