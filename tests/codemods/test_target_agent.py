"""`--target agent`: legacy chains become LangChain 1.x `create_agent` with a checkpointer."""

from __future__ import annotations

from pathlib import Path

import pytest

from memfix.config import Target
from memfix.rules.registry import by_name
from memfix.testing import run, settings_for
from tests.support.cli import invoke

AGENT = ("--target", "agent")
DEFAULT_SYSTEM = (
    "    system_prompt=(\n"
    '        "The following is a friendly conversation between a human and an AI. The AI is "\n'
    '        "talkative and provides lots of specific details from its context. '
    'If the AI does not "\n'
    '        "know the answer to a question, it truthfully says it does not know."\n'
    "    ),\n"
)
WINDOW_FACTORY = (
    "def keep_last_messages(count: int) -> AgentMiddleware:\n"
    '    """What a window memory showed the model: only the last `count` messages."""\n\n'
    "    @before_model\n"
    "    def trim(state: AgentState, runtime: Runtime) -> dict | None:\n"
    '        messages = state["messages"]\n'
    "        if len(messages) <= count:\n"
    "            return None\n"
    '        return {"messages": [RemoveMessage(id=REMOVE_ALL_MESSAGES), *messages[-count:]]}\n\n'
    "    return trim\n\n\n"
)


def program(body: str, memory: str = "ConversationBufferMemory()") -> str:
    kind = memory.split("(")[0]
    return (
        "from langchain_openai import ChatOpenAI\n"
        f"from langchain.memory import {kind}\n"
        "from langchain.chains import ConversationChain\n\n"
        f"memory = {memory}\n"
        "chain = ConversationChain(llm=ChatOpenAI(), memory=memory)\n\n\n"
        f"{body}"
    )


def migrated(
    body: str, *, imports: str = "", setup: str = "", middleware: str = "", head: str = ""
) -> str:
    window = "\n" + WINDOW_FACTORY if middleware.startswith("keep") else ""
    listed = f"    middleware=[{middleware}],\n" if middleware else ""
    return (
        f"from langchain_openai import ChatOpenAI\n{head}"
        "from langchain.agents import create_agent\n"
        f"{imports}"
        "from langgraph.checkpoint.memory import InMemorySaver\n"
        f"{setup}\n"
        "checkpointer = InMemorySaver()\n\n"
        f"{window}"
        "chain = create_agent(\n"
        "    ChatOpenAI(),\n"
        "    tools=[],\n"
        f"{DEFAULT_SYSTEM}"
        f"{listed}"
        "    checkpointer=checkpointer,\n"
        ")\n\n\n"
        f"{body}"
    )


def fix(source: str, *flags: str) -> tuple[str, list[str]]:
    result = run(by_name("legacy-conversation-chain"), source, (*AGENT, *flags))
    assert result.error is None, result.error
    return result.after, [finding.message for finding in result.findings]


INVOKE = (
    "chain.invoke(\n"
    '        {"messages": [{"role": "user", "content": text}]},\n'
    '        config={"configurable": {"thread_id": user_id}},\n'
    '    )["messages"][-1].content\n'
)
RETURNS_TEXT = {
    "predict": "def reply(user_id: str, text: str) -> str:\n    return chain.predict(input=text)\n",
    "run": "def reply(user_id: str, text: str) -> str:\n    return chain.run(text)\n",
    "invoke_response": (
        "def reply(user_id: str, text: str) -> str:\n"
        '    return chain.invoke({"input": text})["response"]\n'
    ),
}


@pytest.mark.parametrize("shape", sorted(RETURNS_TEXT))
def test_agent_target_call_that_returned_text_reads_the_last_message(shape: str) -> None:
    after, messages = fix(program(RETURNS_TEXT[shape]))
    expected_body = "def reply(user_id: str, text: str) -> str:\n    return " + INVOKE
    assert after == migrated(expected_body)
    assert len(messages) == 1


CALLS_RETURNING_THE_DICT = {
    "invoke_dict": 'chain.invoke({"input": text})',
    "call": "chain(text)",
}


@pytest.mark.parametrize("shape", sorted(CALLS_RETURNING_THE_DICT))
def test_agent_target_whole_result_dict_is_unsafe_and_needs_unsafe_fixes(shape: str) -> None:
    source = program(
        f"def reply(user_id: str, text: str):\n    return {CALLS_RETURNING_THE_DICT[shape]}\n"
    )
    unchanged, messages = fix(source)
    assert unchanged == source
    assert messages and messages[0].endswith(
        "its callers now receive the answer text, not the result dict"
    )
    after, _ = fix(source, "--unsafe-fixes")
    assert after == migrated("def reply(user_id: str, text: str):\n    return " + INVOKE)


def test_agent_target_awaits_ainvoke_for_apredict_and_ainvoke() -> None:
    source = program(
        "async def reply(user_id: str, text: str) -> str:\n"
        "    return await chain.apredict(input=text)\n\n\n"
        "async def reply_dict(user_id: str, text: str) -> str:\n"
        '    return (await chain.ainvoke({"input": text}))["response"]\n'
    )
    awaited = (
        "(await chain.ainvoke(\n"
        '        {"messages": [{"role": "user", "content": text}]},\n'
        '        config={"configurable": {"thread_id": user_id}},\n'
        '    ))["messages"][-1].content\n'
    )
    after, _ = fix(source)
    assert after == migrated(
        f"async def reply(user_id: str, text: str) -> str:\n    return {awaited}\n\n"
        f"async def reply_dict(user_id: str, text: str) -> str:\n    return {awaited}"
    )


def test_agent_target_window_memory_trims_to_its_last_k_exchanges_and_the_question() -> None:
    source = program(RETURNS_TEXT["predict"], "ConversationBufferWindowMemory(k=2)")
    after, _ = fix(source)
    assert after == migrated(
        "def reply(user_id: str, text: str) -> str:\n    return " + INVOKE,
        imports=(
            "from langchain.agents.middleware import AgentMiddleware, AgentState, before_model\n"
            "from langchain_core.messages import RemoveMessage\n"
        ),
        setup=(
            "from langgraph.graph.message import REMOVE_ALL_MESSAGES\n"
            "from langgraph.runtime import Runtime\n"
        ),
        middleware="keep_last_messages(5)",
    )


def test_agent_target_summary_memory_becomes_summarization_middleware() -> None:
    source = program(
        RETURNS_TEXT["predict"],
        "ConversationSummaryBufferMemory(llm=ChatOpenAI(), max_token_limit=300)",
    )
    after, _ = fix(source)
    assert after == migrated(
        "def reply(user_id: str, text: str) -> str:\n    return " + INVOKE,
        imports="from langchain.agents.middleware import SummarizationMiddleware\n",
        middleware='SummarizationMiddleware(model=ChatOpenAI(), trigger=("tokens", 300))',
    )


def test_agent_target_summary_memory_without_a_limit_summarises_past_2000_tokens() -> None:
    source = program(RETURNS_TEXT["predict"], "ConversationSummaryMemory(llm=ChatOpenAI())")
    after, _ = fix(source)
    assert 'SummarizationMiddleware(model=ChatOpenAI(), trigger=("tokens", 2000))' in after


def test_agent_target_reports_an_entity_memory_and_leaves_it() -> None:
    source = program(RETURNS_TEXT["predict"], "ConversationEntityMemory(llm=ChatOpenAI())")
    after, messages = fix(source)
    assert after == source
    assert "ConversationEntityMemory asks a model to summarise or extract" in messages[0]


def test_agent_target_keeps_the_custom_prompt_system_text() -> None:
    source = (
        "from langchain.chains import LLMChain\n"
        "from langchain.memory import ConversationBufferMemory\n"
        "from langchain.prompts import PromptTemplate\n"
        "from langchain_openai import ChatOpenAI\n\n"
        'prompt = PromptTemplate.from_template("Be brief.\\n{history}\\nHuman: {question}\\nAI:")\n'
        'memory = ConversationBufferMemory(input_key="question")\n'
        "chain = LLMChain(llm=ChatOpenAI(), prompt=prompt, memory=memory)\n\n\n"
        "def reply(user_id: str, text: str) -> str:\n"
        "    return chain.run(text)\n"
    )
    after, _ = fix(source)
    assert "PromptTemplate" not in after and "memory =" not in after
    assert '    system_prompt="Be brief.",\n' in after
    assert '{"messages": [{"role": "user", "content": text}]}' in after


DECLINED = {
    "completion_model": (
        "from langchain_openai import OpenAI\n"
        "from langchain.memory import ConversationBufferMemory\n"
        "from langchain.chains import ConversationChain\n\n"
        "chain = ConversationChain(llm=OpenAI(), memory=ConversationBufferMemory())\n\n\n"
        "def reply(user_id: str, text: str) -> str:\n    return chain.predict(input=text)\n",
        "OpenAI is a completion model: create_agent needs a chat model",
    ),
    "wrapped_input": (
        "from langchain.chains import LLMChain\n"
        "from langchain.memory import ConversationBufferMemory\n"
        "from langchain.prompts import PromptTemplate\n"
        "from langchain_openai import ChatOpenAI\n\n"
        'prompt = PromptTemplate.from_template("{history}\\nQuestion: {input} (be brief)")\n'
        "chain = LLMChain(llm=ChatOpenAI(), prompt=prompt, memory=ConversationBufferMemory())\n\n\n"
        "def reply(user_id: str, text: str) -> str:\n    return chain.run(text)\n",
        "the agent receives the user's text as it is",
    ),
    "chat_prompt": (
        "from langchain.chains import LLMChain\n"
        "from langchain.memory import ConversationBufferMemory\n"
        "from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder\n"
        "from langchain_openai import ChatOpenAI\n\n"
        "prompt = ChatPromptTemplate.from_messages(\n"
        '    [("system", "Be brief."), MessagesPlaceholder("history"), ("human", "{input}")]\n'
        ")\n"
        "memory = ConversationBufferMemory(return_messages=True)\n"
        "chain = LLMChain(llm=ChatOpenAI(), prompt=prompt, memory=memory)\n\n\n"
        "def reply(user_id: str, text: str) -> str:\n    return chain.run(text)\n",
        "give create_agent its system_prompt= by hand",
    ),
}


@pytest.mark.parametrize("case", sorted(DECLINED))
def test_agent_target_reports_what_it_cannot_migrate_and_changes_nothing(case: str) -> None:
    source, reason = DECLINED[case]
    after, messages = fix(source)
    assert after == source
    assert len(messages) == 1 and reason in messages[0]


def test_agent_target_leaves_the_default_rwmh_target_alone() -> None:
    source = program(RETURNS_TEXT["predict"])
    result = run(by_name("legacy-conversation-chain"), source)
    assert "RunnableWithMessageHistory(" in result.after and "create_agent" not in result.after


def test_fixture_flags_choose_the_target() -> None:
    assert settings_for(["--target", "agent", "--unsafe-fixes"]).target is Target.AGENT
    assert settings_for(["--unsafe-fixes"]).target is Target.RWMH
    with pytest.raises(ValueError, match="unknown target"):
        settings_for(["--target", "lcel"])


def test_cli_apply_with_target_agent_writes_create_agent(tmp_path: Path) -> None:
    path = tmp_path / "app.py"
    path.write_text(program(RETURNS_TEXT["predict"]), encoding="utf-8")
    code, out, _ = invoke("apply", "--yes", "--target", "agent", str(path))
    assert code == 0, out
    written = path.read_text(encoding="utf-8")
    assert "chain = create_agent(" in written and "ConversationChain" not in written
