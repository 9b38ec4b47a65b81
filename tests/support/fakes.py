"""A fake chat model that replies with what it was sent, and a way to run legacy programs.

No real LLM and no network: `ChatOpenAI` is replaced by `EchoChatModel`, and the legacy
`langchain.*` import paths are served by `langchain_classic`.
"""

from __future__ import annotations

import importlib
import sys
import types
import warnings
from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult

# Every prompt any EchoChatModel received, in order.
PROMPTS: list[list[BaseMessage]] = []


class EchoChatModel(BaseChatModel):
    """Replies `echo: <last human text>`; records every prompt in PROMPTS."""

    model: str = "echo"

    @property
    def _llm_type(self) -> str:
        return "echo"

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any
    ) -> ChatResult:
        PROMPTS.append(list(messages))
        last = str(messages[-1].content).strip().splitlines()[-1] if messages else ""
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=f"echo: {last}"))])


def fake_chat_openai(*args: Any, **kwargs: Any) -> EchoChatModel:
    return EchoChatModel()


def last_prompt() -> str:
    """The text of every message of the last prompt the fake model received."""
    assert PROMPTS, "the fake model was never called"
    return "\n".join(str(message.content) for message in PROMPTS[-1])


# Legacy import paths and where current LangChain keeps them.
LEGACY_MODULES = {
    "langchain.memory": "langchain_classic.memory",
    "langchain.chains": "langchain_classic.chains",
    "langchain.chains.conversation.memory": "langchain_classic.chains.conversation.memory",
    "langchain.prompts": "langchain_classic.prompts",
    "langchain.schema": "langchain_classic.schema",
}


def install_legacy_langchain(monkeypatch: Any) -> None:
    """Serve `langchain.memory` & co. from langchain_classic and fake ChatOpenAI, for one test."""
    import langchain_openai

    PROMPTS.clear()
    if "langchain" not in sys.modules:
        try:
            importlib.import_module("langchain")
        except ImportError:
            package = types.ModuleType("langchain")
            package.__path__ = []
            monkeypatch.setitem(sys.modules, "langchain", package)
    for legacy, current in LEGACY_MODULES.items():
        monkeypatch.setitem(sys.modules, legacy, importlib.import_module(current))
    monkeypatch.setattr(langchain_openai, "ChatOpenAI", fake_chat_openai)
    # LangChain turns its deprecation warnings back on when imported; the legacy classes
    # are deprecated on purpose here.
    warnings.filterwarnings("ignore", message=".*was deprecated in LangChain")


def run_program(source: str) -> dict[str, Any]:
    """Execute a program's text as a module (not as __main__) and return its namespace."""
    namespace: dict[str, Any] = {"__name__": "program"}
    exec(compile(source, "program.py", "exec"), namespace)
    return namespace
