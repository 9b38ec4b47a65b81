"""Run turns of a program in this fresh interpreter, with the fake chat model.

    python -m tests.backends.run_turns PROGRAM USER TEXT [USER TEXT ...]

`langchain_openai.ChatOpenAI` is replaced by `EchoChatModel` (and legacy `langchain.*`
imports are served by langchain_classic) before the program runs; then its
`ask(user, text)` is called for each pair, awaited when it is a coroutine function.
Prints, as one JSON list, the text of the prompt the fake model received on each turn.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from tests.support.fakes import (
    PROMPTS,
    fake_chat_openai,
    install_legacy_langchain,
    last_prompt,
    run_program,
)


def main(program: Path, turns: list[tuple[str, str]]) -> list[str]:
    # A stand-in module: the real one only matters for ChatOpenAI, and imports slowly.
    openai = types.ModuleType("langchain_openai")
    openai.ChatOpenAI = fake_chat_openai  # type: ignore[attr-defined]
    sys.modules["langchain_openai"] = openai
    source = program.read_text(encoding="utf-8")
    if "from langchain." in source or "import langchain." in source:
        install_legacy_langchain(pytest.MonkeyPatch())
    ask: Any = run_program(source)["ask"]
    prompts: list[str] = []

    async def run_async() -> None:
        for user, text in turns:
            await ask(user, text)
            prompts.append(last_prompt())

    if inspect.iscoroutinefunction(ask):
        asyncio.run(run_async())
    else:
        for user, text in turns:
            ask(user, text)
            prompts.append(last_prompt())
    assert len(PROMPTS) == len(turns), "the fake model was not called once per turn"
    return prompts


if __name__ == "__main__":
    arguments = sys.argv[2:]
    pairs = list(zip(arguments[::2], arguments[1::2], strict=True))
    print(json.dumps(main(Path(sys.argv[1]), pairs)))
