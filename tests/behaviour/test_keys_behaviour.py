"""Key fixes, run for two turns with a fake chat model on current LangChain.

Each fixture program of input-key-mismatch and memory-key-mismatch defines `ask(q)`.
Before the fix it fails with LangChain's own error, or its second turn does not see
the first; the fixed program (the fixture's expected output, which test_fixtures proves
is what the codemod writes) remembers the first turn in the second.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from memfix.config import Settings
from memfix.pipeline.engine import fix_source
from memfix.rules.registry import all_codemods
from tests.support.fakes import PROMPTS, last_prompt, run_program
from tests.support.fixtures import parse_fixture

FIXTURES = Path(__file__).parents[1] / "fixtures"

# fixture -> the LangChain error the program stops with before the fix (None: it forgets)
CASES = {
    "input-key-mismatch/conversation_question": r"Missing some input keys: \{'input'\}",
    "input-key-mismatch/conversation_custom_prompt": "Got unexpected prompt input variables",
    "input-key-mismatch/wrapper_question": "missing variables \\{'input'\\}",
    "input-key-mismatch/wrapper_key_only": None,
    "memory-key-mismatch/llmchain_chat_history": r"Missing some input keys: \{'history'\}",
    "memory-key-mismatch/conversation_chat_history": "Got unexpected prompt input variables",
    "memory-key-mismatch/wrapper_history_key": "missing variables \\{'chat_history'\\}",
    "memory-key-mismatch/wrapper_optional": None,
    "memory-key-mismatch/wrapper_no_history_key": None,
    "memory-key-mismatch/placeholder_text_memory": "should be a list of base messages",
    "memory-key-mismatch/text_prompt_message_memory": None,
}
FIRST = "My name is Sam"


def two_turns(program: str) -> str:
    """Ask the program's ask() twice; return the text of the second prompt."""
    PROMPTS.clear()
    ask = run_program(program)["ask"]
    ask(FIRST)
    ask("What's my name?")
    assert len(PROMPTS) == 2
    return last_prompt()


def sees_first_turn(prompt: str) -> bool:
    """The first turn reached the model as conversation, not as a message object's repr."""
    return FIRST in prompt and "HumanMessage(" not in prompt


@pytest.mark.usefixtures("legacy_langchain")
@pytest.mark.parametrize("case", sorted(CASES))
def test_fails_or_forgets_before_the_fix(case: str) -> None:
    before, _, _ = parse_fixture(FIXTURES / f"{case}.py")
    error = CASES[case]
    if error is None:
        assert not sees_first_turn(two_turns(before))
    else:
        with pytest.raises((ValueError, KeyError), match=error):
            two_turns(before)


@pytest.mark.usefixtures("legacy_langchain")
@pytest.mark.parametrize("case", sorted(CASES))
def test_remembers_after_the_fix(case: str) -> None:
    _, after, _ = parse_fixture(FIXTURES / f"{case}.py")
    assert after is not None
    second = two_turns(after)
    assert sees_first_turn(second), second
    assert "What's my name?" in second


@pytest.mark.usefixtures("legacy_langchain")
@pytest.mark.parametrize("case", sorted(c for c in CASES if "wrapper" in c))
def test_another_user_does_not_see_the_first(case: str) -> None:
    _, after, _ = parse_fixture(FIXTURES / f"{case}.py")
    assert after is not None
    PROMPTS.clear()
    ask = run_program(after)["ask"]
    ask(FIRST, user="sam")
    ask("What's my name?", user="kim")
    assert FIRST not in last_prompt()


@pytest.mark.usefixtures("legacy_langchain")
@pytest.mark.parametrize("case", sorted(CASES))
def test_every_codemod_together_keeps_the_program_working(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # in-process-history moves the wrapper's store to SQLite: keep its file here.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CHAT_HISTORY_URL", f"sqlite:///{tmp_path / 'history.db'}")
    before, _, _ = parse_fixture(FIXTURES / f"{case}.py")
    result = fix_source(before, path="app.py", codemods=all_codemods(), settings=Settings())
    assert result.error is None, result.error
    assert sees_first_turn(two_turns(result.after))
