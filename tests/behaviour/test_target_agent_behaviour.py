"""Legacy chains migrated with `--target agent`, run on LangChain 1.x with an echo model.

Every migrated program runs with DeprecationWarning as an error: the agent target
carries no deprecation of its own. The fixtures' outputs, and mechanical variants of
their inputs (renamed names, the import paths of each LangChain era, the result read
through a variable), must remember a thread's turns and keep threads apart; a variant
the migration cannot follow comes back byte-identical, with a finding.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from memfix.config import Settings, Target
from memfix.pipeline.engine import fix_source
from memfix.rules.registry import by_name
from tests.support.fakes import PROMPTS, fake_chat_openai, last_prompt
from tests.support.fixtures import parse_fixture

ROOT = Path(__file__).parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "legacy-conversation-chain"
FIRST = "My name is Sam"
SECOND = "What's my name?"
# fixture -> the function a turn calls (each takes the user and the text)
CASES = {
    "agent_predict_window": "answer",
    "agent_run_summary": "ask",
    "agent_async_calls": "ask",
}
LEGACY = ("langchain.chains", "langchain.memory", "langchain.prompts")


@pytest.fixture
def langchain_1x(monkeypatch: pytest.MonkeyPatch) -> None:
    """LangChain 1.x as installed, without the 0.x paths; ChatOpenAI is the echo model."""
    import langchain_openai

    PROMPTS.clear()
    monkeypatch.setattr(langchain_openai, "ChatOpenAI", fake_chat_openai)
    for name in LEGACY:
        monkeypatch.setitem(sys.modules, name, None)


@pytest.fixture
def strict_warnings() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        yield


def migrate(source: str, *codemods: str, unsafe: bool = False) -> tuple[str, int]:
    """The program after the agent migration (and any other codemods), and its findings."""
    names = codemods or ("legacy-conversation-chain",)
    settings = Settings(target=Target.AGENT, unsafe_fixes=unsafe)
    chosen = [by_name(name) for name in names]
    result = fix_source(source, path="app.py", codemods=chosen, settings=settings)
    assert result.error is None, result.error
    return result.after, len(result.findings)


def run_program(source: str) -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "program"}
    exec(compile(source, "program.py", "exec"), namespace)
    return namespace


def turn(namespace: dict[str, Any], function: str, user: str, text: str) -> Any:
    result = namespace[function](user, text)
    return asyncio.run(result) if asyncio.iscoroutine(result) else result


def fixed(case: str) -> str:
    _, after, _ = parse_fixture(FIXTURES / f"{case}.py")
    assert after is not None
    return after


@pytest.mark.usefixtures("langchain_1x", "strict_warnings")
@pytest.mark.parametrize("case", sorted(CASES))
def test_agent_remembers_the_first_turn_of_a_thread(case: str) -> None:
    namespace = run_program(fixed(case))
    answer = turn(namespace, CASES[case], "sam", FIRST)
    turn(namespace, CASES[case], "sam", SECOND)
    assert isinstance(answer, str) and answer.startswith("echo:")
    assert FIRST in last_prompt() and SECOND in last_prompt()


@pytest.mark.usefixtures("langchain_1x", "strict_warnings")
@pytest.mark.parametrize("case", sorted(CASES))
def test_agent_keeps_two_users_threads_apart(case: str) -> None:
    namespace = run_program(fixed(case))
    turn(namespace, CASES[case], "sam", FIRST)
    turn(namespace, CASES[case], "kim", SECOND)
    assert FIRST not in last_prompt()


@pytest.mark.usefixtures("langchain_1x", "strict_warnings")
def test_agent_window_shows_the_model_only_the_last_k_exchanges() -> None:
    namespace = run_program(fixed("agent_predict_window"))  # k=3
    turn(namespace, "answer", "sam", FIRST)
    for number in range(3):
        turn(namespace, "answer", "sam", f"turn {number}")
    assert FIRST in last_prompt()
    turn(namespace, "answer", "sam", SECOND)
    assert FIRST not in last_prompt() and "turn 0" in last_prompt()


@pytest.mark.usefixtures("langchain_1x", "strict_warnings")
def test_agent_unsafe_fix_returns_the_answer_text() -> None:
    namespace = run_program(fixed("agent_invoke_dict_unsafe"))
    assert namespace["ask"](FIRST) == f"echo: {FIRST}"
    assert namespace["ask_dict"](SECOND) == f"echo: {SECOND}"
    assert FIRST in last_prompt()


_DRIVER = """
import sys
import langchain_openai
from tests.support import fakes
langchain_openai.ChatOpenAI = fakes.fake_chat_openai
namespace = {"__name__": "program"}
exec(open(sys.argv[1], encoding="utf-8").read(), namespace)
print(namespace["answer"]("sam", sys.argv[2]))
print(fakes.last_prompt().replace("\\n", " | "))
"""


def test_agent_sqlite_checkpointer_survives_a_second_process(tmp_path: Path) -> None:
    source = parse_fixture(FIXTURES / "agent_predict_window.py")[0]
    program, _ = migrate(source, "legacy-conversation-chain", "in-process-history")
    assert "SqliteSaver(" in program and "InMemorySaver" not in program
    (tmp_path / "app.py").write_text(program, encoding="utf-8")
    (tmp_path / "driver.py").write_text(_DRIVER, encoding="utf-8")
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "CHAT_HISTORY_URL": f"sqlite:///{tmp_path / 'history.db'}",
    }

    def process(text: str) -> str:
        done = subprocess.run(
            [sys.executable, "-W", "error::DeprecationWarning", "driver.py", "app.py", text],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    process(FIRST)
    assert FIRST in process(SECOND).splitlines()[-1]


def _variants(source: str) -> dict[str, str]:
    """The same program with other names, other import eras, the result in a variable."""
    return {
        "renamed": re.sub(r"\btext\b", "message", re.sub(r"\bchain\b", "bot", source)),
        "conversation_base": source.replace(
            "from langchain.chains import ConversationChain",
            "from langchain.chains.conversation.base import ConversationChain",
        ),
        "classic": source.replace("from langchain.", "from langchain_classic."),
        "through_variable": source.replace(
            "    return chain.predict(input=text)",
            "    reply = chain.predict(input=text)\n    return reply",
        )
        .replace("    return chain.run(text)", "    reply = chain.run(text)\n    return reply")
        .replace(
            "    return await chain.apredict(input=text)",
            "    reply = await chain.apredict(input=text)\n    return reply",
        ),
    }


VARIANTS = [
    (case, label, variant)
    for case in sorted(CASES)
    for label, variant in _variants(parse_fixture(FIXTURES / f"{case}.py")[0]).items()
]


@pytest.mark.usefixtures("langchain_1x", "strict_warnings")
@pytest.mark.parametrize(
    ("case", "label", "source"), VARIANTS, ids=[f"{c}-{label}" for c, label, _ in VARIANTS]
)
def test_agent_variant_runs_after_the_fix_or_is_left_alone_with_a_finding(
    case: str, label: str, source: str
) -> None:
    after, findings = migrate(source)
    assert findings
    if after == source:
        return
    function = CASES[case]
    namespace = run_program(after)
    turn(namespace, function, "sam", FIRST)
    turn(namespace, function, "sam", SECOND)
    assert FIRST in last_prompt()
    turn(namespace, function, "kim", SECOND)
    assert FIRST not in last_prompt()
