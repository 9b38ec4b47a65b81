"""Edge cases of input-key-mismatch: guards, exact fixes, report-only cases."""

from __future__ import annotations

import pytest

from memfix.codemods.input_key_mismatch.transform import InputKeyMismatch
from memfix.results import FileResult, Status
from memfix.testing import run

LEGACY = (
    "from langchain.memory import ConversationBufferMemory\n"
    "from langchain.chains import ConversationChain, LLMChain\n"
    "from langchain_core.prompts import PromptTemplate\n"
)
CONVERSATION = LEGACY + "chain = ConversationChain(llm=llm, memory=ConversationBufferMemory())\n"


def llm_chain(template: str, memory: str = "") -> str:
    return (
        LEGACY + f'prompt = PromptTemplate.from_template("{template}")\n'
        f"chain = LLMChain(llm=llm, prompt=prompt{memory})\n"
    )


def fix(source: str) -> FileResult:
    result = run(InputKeyMismatch, source)
    assert result.status is not Status.FAILED, result.error
    return result


@pytest.mark.parametrize(
    "source",
    [
        pytest.param(CONVERSATION + 'chain.invoke({"input": q})\n', id="matching key"),
        pytest.param(CONVERSATION + "chain.predict(input=q)\n", id="matching keyword"),
        pytest.param(CONVERSATION + 'chain.invoke({"input": q, "stop": ["\\n"]})\n', id="stop"),
        pytest.param(CONVERSATION + "chain.invoke({key: q})\n", id="key is not a literal"),
        pytest.param(CONVERSATION + "chain.invoke(inputs)\n", id="inputs built elsewhere"),
        pytest.param(
            CONVERSATION + '\n\ndef ask(chain, q):\n    return chain.invoke({"question": q})\n',
            id="a parameter shadows the chain",
        ),
        pytest.param(
            "from langchain import hub\n" + LEGACY + 'prompt = hub.pull("owner/chat")\n'
            "chain = LLMChain(llm=llm, prompt=prompt)\n"
            'chain.invoke({"question": q})\n',
            id="prompt from the hub: never guessed",
        ),
        pytest.param(
            LEGACY + 'prompt = PromptTemplate.from_file("chat.txt")\n'
            "chain = LLMChain(llm=llm, prompt=prompt)\n"
            'chain.invoke({"question": q})\n',
            id="prompt from a file: never guessed",
        ),
        pytest.param(
            llm_chain("{{input}} {question}") + 'chain.invoke({"question": q})\n',
            id="escaped braces are text",
        ),
        pytest.param(
            "class ConversationChain:\n    pass\n\n\nchain = ConversationChain()\n"
            'chain.invoke({"question": q})\n',
            id="same class name, not from LangChain",
        ),
        pytest.param(
            CONVERSATION + 'chain = other\nchain.invoke({"question": q})\n',
            id="name bound twice",
        ),
        pytest.param(
            llm_chain("{history} {question}", ", memory=ConversationBufferMemory()")
            + "chain.run(q)\n",
            id="positional call on a chain with one input",
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
            CONVERSATION + "chain.predict(question=q)\n",
            CONVERSATION + "chain.predict(input=q)\n",
            id="keyword of predict",
        ),
        pytest.param(
            CONVERSATION + "chain.run(question=q)\n",
            CONVERSATION + "chain.run(input=q)\n",
            id="keyword of run",
        ),
        pytest.param(
            CONVERSATION + "chain({'question': q})\n",
            CONVERSATION + "chain({'input': q})\n",
            id="called directly, single quotes kept",
        ),
        pytest.param(
            CONVERSATION
            + '\n\nasync def ask(q):\n    return await chain.ainvoke({"question": q})\n',
            CONVERSATION + '\n\nasync def ask(q):\n    return await chain.ainvoke({"input": q})\n',
            id="async route",
        ),
        pytest.param(
            llm_chain("{history} Q: {question}", ", memory=ConversationBufferMemory()")
            + 'chain.invoke({"input": q})\n',
            llm_chain("{history} Q: {question}", ", memory=ConversationBufferMemory()")
            + 'chain.invoke({"question": q})\n',
            id="LLMChain whose prompt reads question",
        ),
        pytest.param(
            LEGACY + 'TEMPLATE = "{history}\\n{question}"\n'
            "chain = ConversationChain(llm=llm, prompt=PromptTemplate("
            'template=TEMPLATE, input_variables=["history", "question"]))\n',
            LEGACY + 'TEMPLATE = "{history}\\n{question}"\n'
            "chain = ConversationChain(llm=llm, prompt=PromptTemplate("
            'template=TEMPLATE, input_variables=["history", "question"]), '
            'input_key="question")\n',
            id="ConversationChain input_key from a template constant",
        ),
    ],
)
def test_fixes(source: str, expected: str) -> None:
    result = fix(source)
    assert result.after == expected, result.diff
    assert all(f.fixed for f in result.findings)
    assert fix(result.after).after == result.after


@pytest.mark.parametrize(
    ("source", "message"),
    [
        pytest.param(
            CONVERSATION + "chain.run(input=msg, context=docs)\n",
            "key 'context' is never read by 'chain', which expects 'input'",
            id="silent extra key",
        ),
        pytest.param(
            llm_chain("{context} {question}") + "chain.run(q)\n",
            "positional call of 'chain', which expects the keys 'context', 'question'",
            id="positional call on a chain with two inputs",
        ),
        pytest.param(
            llm_chain("{context} {question}") + 'chain.invoke({"question": q})\n',
            "'chain' is called without 'context', which its prompt reads",
            id="missing key",
        ),
        pytest.param(
            llm_chain("{context} {question}") + 'chain.invoke({"q": q, "ctx": c})\n',
            "key 'ctx' is not an input of 'chain', which expects 'context', 'question'",
            id="two wrong keys: no guess",
        ),
        pytest.param(
            LEGACY + 'KEY = "query"\n'
            "chain = ConversationChain(llm=llm, input_key=KEY, prompt=PromptTemplate."
            'from_template("{history} {question}"))\n',
            "input_key 'query' is not a variable of the prompt, which reads 'question'",
            id="input_key held in a name: reported, not rewritten",
        ),
    ],
)
def test_reports_without_fixing(source: str, message: str) -> None:
    result = fix(source)
    assert message in [f.message for f in result.findings]
    assert result.after == source
