"""Edge cases of legacy-conversation-chain: guards, exact migrations, report-only cases."""

from __future__ import annotations

import pytest

from memfix.codemods.legacy_conversation_chain.transform import LegacyConversationChain
from memfix.config import Settings, Target
from memfix.pipeline.engine import fix_source
from memfix.results import FileResult, Fix, Status
from memfix.rules.registry import all_codemods
from memfix.testing import run

HEAD = (
    "from langchain.chains import ConversationChain\n"
    "from langchain.memory import ConversationBufferMemory\n"
    "from langchain_openai import ChatOpenAI\n\n"
)
NEW_IMPORTS = (
    "from langchain_core.chat_history import BaseChatMessageHistory, InMemoryChatMessageHistory\n"
    "from langchain_core.output_parsers import StrOutputParser\n"
    "from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder\n"
    "from langchain_core.runnables.history import RunnableWithMessageHistory\n\n"
)
SYSTEM = (
    "        (\n"
    '            "system",\n'
    '            "The following is a friendly conversation between a human and an AI. The AI is "\n'
    '            "talkative and provides lots of specific details from its context. '
    'If the AI does "\n'
    '            "not know the answer to a question, it truthfully says it does not know.",\n'
    "        ),\n"
)
CONSTANT = (
    "# One conversation per process, as the memory kept; set $CHAT_SESSION_ID to pick one.\n"
    'SESSION_ID = os.environ.get("CHAT_SESSION_ID", "default")\n'
)
FACTORY = (
    "store = {}\n\n\n"
    "def get_session_history(session_id: str) -> BaseChatMessageHistory:\n"
    "    if session_id not in store:\n"
    "        store[session_id] = InMemoryChatMessageHistory()\n"
    "    return store[session_id]\n\n\n"
)


def prompt(placeholder: str = 'MessagesPlaceholder("history")') -> str:
    return (
        "CONVERSATION_PROMPT = ChatPromptTemplate.from_messages(\n    [\n"
        f"{SYSTEM}        {placeholder},\n"
        '        ("human", "{input}"),\n    ]\n)\n'
    )


def wrapper(runnable: str = "CONVERSATION_PROMPT | ChatOpenAI() | StrOutputParser()") -> str:
    return (
        f"RunnableWithMessageHistory(\n    {runnable},\n    get_session_history,\n"
        '    input_messages_key="input",\n    history_messages_key="history",\n)'
    )


def legacy(body: str, memory: str = "ConversationBufferMemory()", extra: str = "") -> str:
    return f"{HEAD}chain = ConversationChain(llm=ChatOpenAI(), memory={memory}{extra})\n{body}"


def migrated(body: str, *, constant: bool = False, placeholder: str | None = None) -> str:
    os_import = "import os\n" if constant else ""
    defaults = prompt() if placeholder is None else prompt(placeholder)
    return (
        f"from langchain_openai import ChatOpenAI\n{os_import}{NEW_IMPORTS}{defaults}"
        f"{CONSTANT if constant else ''}{FACTORY}chain = {wrapper()}\n{body}"
    )


def reply(body: str, params: str = "user_id: str, text: str") -> str:
    return f"\n\ndef reply({params}) -> str:\n    return {body}\n"


CONFIG = 'config={"configurable": {"session_id": user_id}}'


def fix(source: str, *flags: str) -> FileResult:
    result = run(LegacyConversationChain, source, flags)
    assert result.status is not Status.FAILED, result.error
    return result


@pytest.mark.parametrize(
    "source",
    [
        pytest.param(
            "from langchain.chains import LLMChain\n\n"
            "chain = LLMChain(llm=llm, prompt=prompt)\n"
            'print(chain.run("hi"))\n',
            id="LLMChain without memory keeps no conversation",
        ),
        pytest.param(
            "from langchain_core.runnables.history import RunnableWithMessageHistory\n\n"
            "chat = RunnableWithMessageHistory(runnable, get_history)\n",
            id="already migrated",
        ),
        pytest.param(
            legacy(reply("chain.predict(question=text)")),
            id="key mismatch is left to input-key-mismatch, then migrated",
        ),
        pytest.param(
            legacy(
                reply("chain.predict(input=text)"),
                memory='ConversationBufferMemory(memory_key="chat_history")',
            ),
            id="memory key mismatch is left to memory-key-mismatch",
        ),
    ],
)
def test_noop(source: str) -> None:
    result = fix(source)
    assert result.findings == (), [f.message for f in result.findings]
    assert result.after == source


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param(
            legacy(reply("chain.run(text)")),
            migrated(reply(f'chain.invoke({{"input": text}}, {CONFIG})')),
            id="run with a str parameter",
        ),
        pytest.param(
            legacy(reply('chain(text)["response"]')),
            migrated(reply(f'chain.invoke({{"input": text}}, {CONFIG})')),
            id="call read by response key",
        ),
        pytest.param(
            legacy('answer = chain.invoke("Hi, I am Sam")["response"]\n'),
            migrated(
                "answer = chain.invoke(\n"
                '    {"input": "Hi, I am Sam"}, '
                'config={"configurable": {"session_id": SESSION_ID}}\n'
                ")\n",
                constant=True,
            ),
            id="script run at module level keys one conversation per process",
        ),
        pytest.param(
            legacy(
                reply(
                    "chain.predict(input=text, callbacks=[handler])",
                    "user_id: str, text: str, handler",
                )
            ),
            migrated(
                "\n\ndef reply(user_id: str, text: str, handler) -> str:\n"
                "    return chain.invoke(\n"
                '        {"input": text},\n'
                '        config={"callbacks": [handler], '
                '"configurable": {"session_id": user_id}},\n'
                "    )\n"
            ),
            id="callbacks carried into config",
        ),
        pytest.param(
            legacy(
                reply("chain.predict(input=text)"), memory="ConversationBufferWindowMemory(k=3)"
            ).replace("import ConversationBufferMemory", "import ConversationBufferWindowMemory"),
            migrated(
                reply(f'chain.invoke({{"input": text}}, {CONFIG})'),
                placeholder='MessagesPlaceholder("history", n_messages=6)',
            ),
            id="window of k exchanges kept as 2k messages",
        ),
    ],
)
def test_fixes(source: str, expected: str) -> None:
    result = fix(source)
    assert result.findings and all(f.applied for f in result.findings)
    assert result.after == expected, result.diff
    assert fix(result.after).after == expected


def test_a_chain_built_per_call_is_wrapped_where_it_is_built() -> None:
    source = (
        HEAD + "\n\ndef reply(user_id: str, text: str) -> str:\n"
        "    chain = ConversationChain(llm=ChatOpenAI(), memory=ConversationBufferMemory())\n"
        "    return chain.predict(input=text)\n"
    )
    body = "\n".join(f"    {line}" for line in wrapper().splitlines())
    assert fix(source).after == (
        f"from langchain_openai import ChatOpenAI\n{NEW_IMPORTS}{prompt()}{FACTORY}"
        f"def reply(user_id: str, text: str) -> str:\n    chain = {body.lstrip()}\n"
        f'    return chain.invoke({{"input": text}}, {CONFIG})\n'
    )


def test_legacy_imports_still_used_move_to_their_current_homes() -> None:
    source = (
        "from langchain.chains import ConversationChain\n"
        "from langchain.chat_models import ChatOpenAI\n"
        "from langchain.schema import HumanMessage\n\n"
        "chain = ConversationChain(llm=ChatOpenAI())\n"
        'GREETING = HumanMessage(content="hi")\n'
        + reply("chain.predict(input=text)", "session_id: str, text: str")
    )
    after = fix(source).after
    assert after.startswith(
        "from langchain_openai import ChatOpenAI\n"
        "from langchain_core.messages import HumanMessage\n"
        "from langchain_core.chat_history import"
    )
    assert "from langchain." not in after


def test_an_inline_prompt_template_becomes_a_chat_prompt_in_place() -> None:
    source = legacy(
        reply("chain.predict(input=text)"),
        extra=", prompt=PromptTemplate.from_template("
        '"Be brief.\\n{history}\\nHuman: {input}\\nAI:")',
    ).replace("\n\n", "\nfrom langchain.prompts import PromptTemplate\n\n", 1)
    runnable = (
        "ChatPromptTemplate.from_messages(\n"
        "        [\n"
        '            ("system", "Be brief."),\n'
        '            MessagesPlaceholder("history"),\n'
        '            ("human", "{input}"),\n'
        "        ]\n"
        "    ) | ChatOpenAI() | StrOutputParser()"
    )
    assert fix(source).after == (
        f"from langchain_openai import ChatOpenAI\n{NEW_IMPORTS}{FACTORY}"
        f"chain = {wrapper(runnable)}\n" + reply(f'chain.invoke({{"input": text}}, {CONFIG})')
    )


def test_a_used_result_dict_is_an_unsafe_fix() -> None:
    source = legacy(
        "\n\ndef reply(user_id: str, text: str) -> dict:\n"
        '    result = chain.invoke({"input": text})\n'
        "    return result\n"
    )
    safe = fix(source)
    assert safe.after == source
    # Without the flag: fixable, not applied, and the diff it would make is shown.
    assert [(f.fix, f.fixed, f.applied) for f in safe.findings] == [(Fix.UNSAFE, True, False)]
    unsafe = fix(source, "--unsafe-fixes")
    assert safe.pending_diff == unsafe.diff
    assert unsafe.after == migrated(
        "\n\ndef reply(user_id: str, text: str) -> dict:\n"
        f'    result = chain.invoke({{"input": text}}, {CONFIG})\n'
        "    return result\n"
    )
    assert [(f.fix, f.applied) for f in unsafe.findings] == [(Fix.UNSAFE, True)]


@pytest.mark.parametrize(
    ("source", "why"),
    [
        pytest.param(
            legacy(
                reply("chain.predict(input=text)"), memory="ConversationBufferMemory(chat_memory=h)"
            ),
            "its memory wraps chat_memory=",
            id="memory over a history of its own",
        ),
        pytest.param(
            legacy(reply('chain.predict(input=text, stop=["\\n"])')),
            "its call passes stop=: bind it to the model by hand",
            id="run option with no place in the new call",
        ),
        pytest.param(
            legacy(reply("chain.run(inputs)", "user_id: str, inputs")),
            "memfix cannot tell whether inputs is the input text or a dict of inputs",
            id="input of unknown type",
        ),
        pytest.param(
            legacy("\n\ndef reply(user_id: str, text: str) -> str:\n    chain.memory.clear()\n"),
            "chain.memory is used, which the migrated chain does not have",
            id="memory read through the chain",
        ),
        pytest.param(
            legacy("chain = None\n"),
            "it is not bound once to a name",
            id="name bound twice",
        ),
        pytest.param(
            legacy(""),
            "it is not run in this module",
            id="defined here, run elsewhere",
        ),
        pytest.param(
            legacy(reply('chain.invoke({"input": text})["history"]')),
            "its result is read as ['history'], not ['response']",
            id="another key of the result",
        ),
        pytest.param(
            "from fastapi import FastAPI\n"
            + legacy(reply("chain.predict(input=text)", "text: str")),
            "no session identity is in reach at reply()",
            id="web handler without identity",
        ),
    ],
)
def test_reports_without_rewriting(source: str, why: str) -> None:
    result = fix(source, "--unsafe-fixes")
    assert result.after == source
    assert [f.fixed for f in result.findings] == [False]
    assert why in result.findings[0].message


GRAPH = (
    "checkpointer = InMemorySaver()\n\n\n"
    "def conversation_graph(model: Runnable, history_key: str, input_key: str):\n"
    '    """A graph that answers with `model`; the checkpointer keeps each thread\'s turns."""\n\n'
    "    def respond(state: MessagesState) -> dict:\n"
    '        *history, question = state["messages"]\n'
    "        answer = model.invoke({history_key: history, input_key: question.content})\n"
    '        return {"messages": [AIMessage(content=answer)]}\n\n'
    "    graph = StateGraph(MessagesState)\n"
    '    graph.add_node("respond", respond)\n'
    '    graph.add_edge(START, "respond")\n'
    "    return graph.compile(checkpointer=checkpointer)\n\n\n"
)


def test_langgraph_target_compiles_a_graph_with_a_checkpointer() -> None:
    source = legacy(reply("chain.predict(input=text)"))
    settings = Settings(target=Target.LANGGRAPH)
    codemods = [LegacyConversationChain]
    result = fix_source(source, path="app.py", codemods=codemods, settings=settings)
    assert result.after == (
        "from langchain_openai import ChatOpenAI\n"
        "from langchain_core.messages import AIMessage, HumanMessage\n"
        "from langchain_core.output_parsers import StrOutputParser\n"
        "from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder\n"
        "from langchain_core.runnables import Runnable\n"
        "from langgraph.checkpoint.memory import InMemorySaver\n"
        "from langgraph.graph import MessagesState, START, StateGraph\n\n"
        f"{prompt()}{GRAPH}"
        "chain = conversation_graph(\n"
        "    CONVERSATION_PROMPT | ChatOpenAI() | StrOutputParser(),\n"
        '    history_key="history",\n'
        '    input_key="input",\n'
        ")\n"
        "\n\ndef reply(user_id: str, text: str) -> str:\n"
        "    return chain.invoke(\n"
        '        {"messages": [HumanMessage(text)]}, '
        'config={"configurable": {"thread_id": user_id}}\n'
        '    )["messages"][-1].content\n'
    )
    again = fix_source(result.after, path="app.py", codemods=codemods, settings=settings)
    assert again.after == result.after


def test_langgraph_target_checkpointer_is_made_persistent_by_in_process_history() -> None:
    source = legacy(reply("chain.predict(input=text)"))
    settings = Settings(target=Target.LANGGRAPH)
    result = fix_source(source, path="app.py", codemods=all_codemods(), settings=settings)
    assert result.error is None, result.error
    assert "checkpointer = _checkpointer\n" in result.after
    assert "SqliteSaver(" in result.after
