"""Migrated legacy chains, run on current LangChain with fake models for two turns.

Each fixture of legacy-conversation-chain is run before the fix (on langchain_classic,
behind the legacy import paths) and after it (current LangChain only: any `langchain.`
import fails). After the fix the second turn sees the first, another session does not,
and the caller receives a value of the same type as before (the unsafe fixes, which
return the answer text instead of the result dict, say so).
"""

from __future__ import annotations

import asyncio
import re
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models.llms import LLM
from typer.testing import CliRunner

from memfix.cli import app
from memfix.config import Settings, Target
from memfix.pipeline.engine import fix_source
from memfix.rules.registry import all_codemods, by_name
from tests.support.fakes import PROMPTS, fake_chat_openai, install_legacy_langchain
from tests.support.fixtures import parse_fixture

FIXTURES = Path(__file__).parents[1] / "fixtures" / "legacy-conversation-chain"
EXAMPLES = Path(__file__).parents[2] / "examples" / "legacy_app"
FIRST = "My name is Sam"
LEGACY_IMPORT = re.compile(r"^\s*(from|import) langchain(\.| |$)", re.MULTILINE)

# The text of every prompt a fake completion model received, in order.
COMPLETIONS: list[str] = []


class EchoLLM(LLM):
    """A completion model: replies `echo: <its prompt's last line>`, records the prompt."""

    @property
    def _llm_type(self) -> str:
        return "echo-completion"

    def _call(self, prompt: str, stop: Any = None, run_manager: Any = None, **kw: Any) -> str:
        COMPLETIONS.append(prompt)
        return f"echo: {prompt.strip().splitlines()[-1]}"


def fake_openai(*args: Any, **kwargs: Any) -> EchoLLM:
    return EchoLLM()


def last_prompt() -> str:
    """What the model saw last, chat or completion."""
    if COMPLETIONS:
        return COMPLETIONS[-1]
    assert PROMPTS, "no model was called"
    return "\n".join(str(message.content) for message in PROMPTS[-1])


def _fakes(monkeypatch: pytest.MonkeyPatch) -> None:
    import langchain_openai

    PROMPTS.clear()
    COMPLETIONS.clear()
    monkeypatch.setattr(langchain_openai, "ChatOpenAI", fake_chat_openai)
    monkeypatch.setattr(langchain_openai, "OpenAI", fake_openai)


@pytest.fixture
def current_langchain(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only current LangChain: `import langchain.x` fails; OpenAI models are fakes."""
    _fakes(monkeypatch)
    for name in [n for n in sys.modules if n == "langchain" or n.startswith("langchain.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "langchain", None)


@pytest.fixture
def legacy_langchain_0x(monkeypatch: pytest.MonkeyPatch) -> None:
    """The 0.x import paths, served by langchain_classic and the fakes."""
    from langchain_classic.chains import LLMChain
    from langchain_core.prompts import PromptTemplate

    install_legacy_langchain(monkeypatch)
    _fakes(monkeypatch)
    package = sys.modules["langchain"]
    monkeypatch.setattr(package, "LLMChain", LLMChain, raising=False)
    monkeypatch.setattr(package, "PromptTemplate", PromptTemplate, raising=False)
    for name, attribute, value in (
        ("langchain.llms", "OpenAI", fake_openai),
        ("langchain.chat_models", "ChatOpenAI", fake_chat_openai),
    ):
        module = types.ModuleType(name)
        setattr(module, attribute, value)
        monkeypatch.setitem(sys.modules, name, module)


def run_program(source: str) -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "program"}
    exec(compile(source, "program.py", "exec"), namespace)
    return namespace


Turn = Callable[[dict[str, Any], str, str], Any]


def _call(name: str, *, session: bool = True) -> Turn:
    def turn(namespace: dict[str, Any], user: str, text: str) -> Any:
        function = namespace[name]
        result = function(user, text) if session else function(text)
        return asyncio.run(result) if asyncio.iscoroutine(result) else result

    return turn


def _constant_session(name: str) -> Turn:
    """A plain module keyed by SESSION_ID: another session is another SESSION_ID."""

    def turn(namespace: dict[str, Any], user: str, text: str) -> Any:
        if "SESSION_ID" in namespace:
            namespace["SESSION_ID"] = user
        return namespace[name](text)

    return turn


def _route(namespace: dict[str, Any], user: str, text: str) -> Any:
    from fastapi.testclient import TestClient

    response = TestClient(namespace["app"]).post("/chat", json={"user_id": user, "message": text})
    assert response.status_code == 200, response.text
    return response.json()["answer"]


# fixture -> (first turn, second turn, type before the fix, type after)
CASES: dict[str, tuple[Turn, Turn, type, type]] = {
    "article_ask_hoisted": (_constant_session("ask"), _constant_session("ask"), dict, str),
    "cli_chat_response_reads": (_constant_session("ask"), _constant_session("ask"), dict, str),
    "support_bot_custom_prompt": (
        _constant_session("answer_chat"),
        # Before the fix this call failed: the chain has no input "question".
        _constant_session("answer_email"),
        str,
        str,
    ),
    "fastapi_route_identity": (_route, _route, str, str),
    "llmchain_completion_llm": (_call("ask"), _call("ask_dict"), str, str),
    "llmchain_chat_prompt": (_call("ask"), _call("ask_call"), str, str),
    "async_calls": (_call("ask"), _call("ask_call"), str, str),
    "reuses_session_factory": (_call("reply"), _call("reply"), str, str),
}


def _parts(case: str, target: Target = Target.RWMH) -> tuple[str, str]:
    """The fixture's program, and its migration to `target` (rwmh: the fixture's output)."""
    before, after, flags = parse_fixture(FIXTURES / f"{case}.py")
    assert after is not None
    if target is not Target.RWMH:
        settings = Settings(unsafe_fixes="--unsafe-fixes" in flags, target=target)
        codemod = [by_name("legacy-conversation-chain")]
        result = fix_source(before, path="app.py", codemods=codemod, settings=settings)
        again = fix_source(result.after, path="app.py", codemods=codemod, settings=settings)
        assert result.changed and again.after == result.after
        after = result.after
    return before, after


# The agent target imports `langchain.agents`: tests/behaviour/test_target_agent_behaviour.py.
TARGETS = pytest.mark.parametrize("target", [Target.RWMH, Target.LANGGRAPH], ids=lambda t: t.value)


def _two_turns(program: str, case: str, second_user: str = "sam") -> tuple[Any, str]:
    first, second, _, _ = CASES[case]
    namespace = run_program(program)
    answer = first(namespace, "sam", FIRST)
    second(namespace, second_user, "What's my name?")
    return answer, last_prompt()


@pytest.mark.usefixtures("current_langchain")
@pytest.mark.parametrize("case", sorted(CASES))
@TARGETS
def test_migrated_program_remembers_the_first_turn(case: str, target: Target) -> None:
    _, after = _parts(case, target)
    answer, second = _two_turns(after, case)
    assert FIRST in second and "What's my name?" in second
    assert "HumanMessage(" not in second
    assert isinstance(answer, CASES[case][3])


@pytest.mark.usefixtures("current_langchain")
@pytest.mark.parametrize("case", sorted(CASES))
@TARGETS
def test_another_session_does_not_see_the_first(case: str, target: Target) -> None:
    _, after = _parts(case, target)
    _, second = _two_turns(after, case, second_user="kim")
    assert FIRST not in second


@pytest.mark.usefixtures("legacy_langchain_0x")
@pytest.mark.parametrize("case", sorted(CASES))
def test_the_caller_receives_the_type_it_did_before(case: str) -> None:
    before, _ = _parts(case)
    answer = CASES[case][0](run_program(before), "sam", FIRST)
    assert isinstance(answer, CASES[case][2])


@pytest.mark.parametrize("case", sorted(CASES))
@TARGETS
def test_migrated_program_has_no_legacy_import(case: str, target: Target) -> None:
    before, after = _parts(case, target)
    assert not LEGACY_IMPORT.search(after)
    if target is Target.LANGGRAPH:  # nor a deprecated history class the program lacked
        assert "RunnableWithMessageHistory" not in after
        assert ("InMemoryChatMessageHistory" in after) == ("InMemoryChatMessageHistory" in before)


@pytest.mark.usefixtures("current_langchain")
def test_module_level_script_runs_two_turns_at_import() -> None:
    _, after, _ = parse_fixture(FIXTURES / "article_fixed_script.py")
    assert after is not None
    run_program(after)
    assert len(PROMPTS) == 2
    assert FIRST in last_prompt()


ARTICLE = Path(__file__).parents[1] / "fixtures" / "per-call-state" / "article_ask.py"


def _every_codemod(source: str, target: Target = Target.RWMH) -> str:
    settings = Settings(unsafe_fixes=True, target=target)
    result = fix_source(source, path="app.py", codemods=all_codemods(), settings=settings)
    assert result.error is None, result.error
    again = fix_source(result.after, path="app.py", codemods=all_codemods(), settings=settings)
    assert again.after == result.after, f"not idempotent:\n{again.diff}"
    return result.after


@pytest.fixture
def history_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """in-process-history moves the store to SQLite: keep its file in tmp_path."""
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "history.db"
    monkeypatch.setenv("CHAT_HISTORY_URL", f"sqlite:///{path}")
    return path


@pytest.mark.usefixtures("current_langchain", "history_file")
@TARGETS
def test_the_article_migrates_through_every_codemod_and_persists(target: Target) -> None:
    # per-call-state hoists ask()'s state, this codemod migrates it, in-process-history
    # makes the store (or checkpointer) persistent: a second process sees the first's turns.
    program = _every_codemod(parse_fixture(ARTICLE)[0], target)
    assert not LEGACY_IMPORT.search(program)
    if target is Target.RWMH:
        assert "RunnableWithMessageHistory(" in program and "SQLChatMessageHistory" in program
    else:
        assert "conversation_graph(" in program and "SqliteSaver(" in program
    run_program(program)  # its two module-level turns
    assert FIRST in last_prompt()
    PROMPTS.clear()
    answer = run_program(program.split("\n\nprint(")[0])["ask"]("Again?")
    assert isinstance(answer, str)
    assert FIRST in last_prompt()


@pytest.mark.usefixtures("current_langchain", "history_file")
@pytest.mark.parametrize(
    ("example", "function"), [("support_bot.py", "answer_chat"), ("cli_chat.py", "ask")]
)
def test_the_legacy_app_examples_migrate_and_remember(example: str, function: str) -> None:
    program = _every_codemod((EXAMPLES / example).read_text(encoding="utf-8"))
    assert not LEGACY_IMPORT.search(program)
    namespace = run_program(program)
    assert isinstance(namespace[function](FIRST), str)
    namespace[function]("What's my name?")
    assert FIRST in last_prompt()


@pytest.mark.usefixtures("current_langchain", "history_file")
def test_apply_writes_the_migrated_article(tmp_path: Path) -> None:
    (tmp_path / "ask.py").write_text(parse_fixture(ARTICLE)[0], encoding="utf-8")
    result = CliRunner().invoke(app, ["apply", "--yes", "--unsafe-fixes", "ask.py"])
    assert result.exit_code == 0, result.output
    program = (tmp_path / "ask.py").read_text(encoding="utf-8")
    assert "RunnableWithMessageHistory(" in program
    run_program(program)
    assert FIRST in last_prompt()
