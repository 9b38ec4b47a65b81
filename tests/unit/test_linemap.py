"""Findings made on memfix's own rewritten text are shown at lines of the original."""

from __future__ import annotations

from memfix.api import fix_text
from memfix.source import linemap


def test_unchanged_lines_keep_their_numbers_around_an_insertion() -> None:
    old = ["a", "b", "c"]
    new = ["a", "x", "y", "b", "c"]
    mapped = linemap.compose(linemap.identity(3), old, new)
    assert mapped == (1, 2, 2, 2, 3)  # x and y were written in front of b


def test_a_replaced_line_takes_the_line_it_replaced() -> None:
    mapped = linemap.compose(linemap.identity(3), ["a", "b", "c"], ["a", "B1", "B2", "c"])
    assert mapped == (1, 2, 2, 3)


def test_maps_compose_over_two_rewrites() -> None:
    first = linemap.compose(linemap.identity(2), ["a", "b"], ["new", "a", "b"])
    second = linemap.compose(first, ["new", "a", "b"], ["new", "a", "more", "b"])
    assert second == (1, 1, 2, 2)
    assert linemap.original_line(second, 99) == 2  # clamped to the text


def test_every_finding_of_a_many_fix_file_is_inside_the_original() -> None:
    source = (
        "from fastapi import FastAPI\n"
        "from langchain.chains import ConversationChain\n"
        "from langchain.memory import ConversationBufferMemory\n"
        "from langchain_openai import ChatOpenAI\n"
        "\n"
        "app = FastAPI()\n"
        "memory = ConversationBufferMemory()\n"
        "chain = ConversationChain(llm=ChatOpenAI(), memory=memory)\n"
        "\n"
        "\n"
        '@app.post("/chat")\n'
        "def chat(user_id: str, message: str):\n"
        '    return {"reply": chain.predict(input=message)}\n'
    )
    result = fix_text(source, path="app.py")
    assert len(result.findings) >= 2
    lines = source.splitlines()
    for finding in result.findings:
        assert 1 <= finding.line <= len(lines), finding
    assert {f.line for f in result.findings if f.codemod == "legacy-conversation-chain"} == {8}
