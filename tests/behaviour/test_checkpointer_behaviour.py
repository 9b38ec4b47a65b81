"""LangGraph programs run before and after checkpointer-per-call and saver-closed-early.

Each program runs for real on LangGraph with a fake chat model that echoes and records
its prompts. Before the fix the second turn of a thread never sees the first (a new
checkpointer per call) or the first turn fails (a closed SQLite connection); after it
the second turn sees the first, another thread does not, and for SQLite a second
process reads the first one's turn. Mechanical variants of each program (renamed
identifiers, `MemorySaver` / `InMemorySaver`, import spellings, the result used directly
or through a variable) must pass the same checks after the fix, or come back unchanged
with a finding. A program beside a `langgraph.json` that serves it is never changed.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from memfix.config import Settings
from memfix.pipeline.engine import fix_source
from memfix.results import FileResult, Status
from memfix.rules.registry import by_name
from tests.support.cli import invoke
from tests.support.fakes import PROMPTS, fake_chat_openai, last_prompt, run_program
from tests.support.fixtures import parse_fixture

FIXTURES = Path(__file__).parents[1] / "fixtures"
PER_CALL = parse_fixture(FIXTURES / "checkpointer-per-call" / "ask_compiled_graph.py")[0]
CLOSED = parse_fixture(FIXTURES / "saver-closed-early" / "returned_graph.py")[0]
ROOT = Path(__file__).parents[2]
FIRST = "My name is Sam"
SECOND = "What is my name?"

Variant = Callable[[str], str]


def _rename(source: str) -> str:
    return source.replace("def ask(", "def answer(").replace("ask = ", "answer = ") + (
        "\n\nask = answer\n"
    )


def _memory_saver(source: str) -> str:
    return source.replace("InMemorySaver", "MemorySaver")


def _module_import(source: str) -> str:
    source = source.replace(
        "from langgraph.checkpoint.memory import InMemorySaver\n",
        "import langgraph.checkpoint.memory as lg_memory\n",
    ).replace("InMemorySaver()", "lg_memory.InMemorySaver()")
    return source.replace(
        "from langgraph.checkpoint.sqlite import SqliteSaver\n",
        "from langgraph.checkpoint import sqlite as lg_sqlite\n",
    ).replace("SqliteSaver.from_conn_string", "lg_sqlite.SqliteSaver.from_conn_string")


def _direct_result(source: str) -> str:
    return source.replace(
        '    result = graph.invoke({"messages": [("user", question)]}, config)\n'
        '    return result["messages"][-1].content\n',
        '    return graph.invoke({"messages": [("user", question)]}, config)'
        '["messages"][-1].content\n',
    )


def _returned_directly(source: str) -> str:
    return source.replace(
        "        graph = builder.compile(checkpointer=memory)\n        return graph\n",
        "        return builder.compile(checkpointer=memory)\n",
    )


def _renamed_saver(source: str) -> str:
    return source.replace("as memory:", "as saver:").replace(
        "checkpointer=memory", "checkpointer=saver"
    )


VARIANTS: dict[str, Variant] = {
    "as-written": lambda source: source,
    "renamed": _rename,
    "memory-saver": _memory_saver,
    "module-import": _module_import,
    "direct-result": _direct_result,
    "returned-directly": _returned_directly,
    "renamed-saver": _renamed_saver,
}


@pytest.fixture(autouse=True)
def fake_model(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import langchain_openai

    PROMPTS.clear()
    monkeypatch.setattr(langchain_openai, "ChatOpenAI", fake_chat_openai)
    monkeypatch.chdir(tmp_path)  # the SQLite files of the programs go here


def fix(source: str, name: str) -> FileResult:
    result = fix_source(source, path="app.py", codemods=[by_name(name)], settings=Settings())
    assert result.status is not Status.FAILED, result.error
    return result


def turn(namespace: dict[str, Any], question: str, thread: str) -> str:
    """Ask through the program's own entry point; returns what the model was shown."""
    namespace["ask"](question, thread)
    return last_prompt()


def assert_remembers_per_thread(source: str) -> None:
    program = run_program(source)
    turn(program, FIRST, "thread-a")
    assert FIRST in turn(program, SECOND, "thread-a"), "the second turn forgot the first"
    assert FIRST not in turn(program, SECOND, "thread-b"), "another thread saw the turn"


def test_checkpointer_per_call_forgets_before_the_fix() -> None:
    program = run_program(PER_CALL)
    turn(program, FIRST, "thread-a")
    assert FIRST not in turn(program, SECOND, "thread-a")


def test_checkpointer_per_call_remembers_each_thread_after_the_fix() -> None:
    result = fix(PER_CALL, "checkpointer-per-call")
    assert result.after != PER_CALL
    assert_remembers_per_thread(result.after)


def test_saver_closed_early_fails_its_first_turn_before_the_fix() -> None:
    program = run_program(CLOSED)
    with pytest.raises(sqlite3.ProgrammingError, match="closed database"):
        turn(program, FIRST, "thread-a")


def test_saver_closed_early_remembers_each_thread_after_the_fix() -> None:
    result = fix(CLOSED, "saver-closed-early")
    assert result.after != CLOSED
    assert_remembers_per_thread(result.after)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize(
    ("name", "program"),
    [("checkpointer-per-call", PER_CALL), ("saver-closed-early", CLOSED)],
    ids=["checkpointer-per-call", "saver-closed-early"],
)
def test_each_variant_is_fixed_to_remember_or_left_unchanged_with_a_finding(
    name: str, program: str, variant: str
) -> None:
    source = VARIANTS[variant](program)
    result = fix(source, name)
    assert result.findings, "the variant was not recognised"
    if result.after == source:
        assert not any(f.applied for f in result.findings)
        return
    PROMPTS.clear()
    assert_remembers_per_thread(result.after)


def _in_new_process(program: Path, question: str, thread: str) -> str:
    """Run one turn of the program in a fresh interpreter; returns the model's prompt."""
    script = (
        "import langchain_openai, runpy\n"
        "from tests.support import fakes\n"
        "langchain_openai.ChatOpenAI = fakes.fake_chat_openai\n"
        f"runpy.run_path({str(program)!r})['ask']({question!r}, {thread!r})\n"
        "print(fakes.last_prompt())\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("CHAT_HISTORY_URL", None)  # the fixed program's default: a file in its folder
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=program.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_fixed_sqlite_saver_is_read_by_a_second_process(tmp_path: Path) -> None:
    program = tmp_path / "app.py"
    program.write_text(fix(CLOSED, "saver-closed-early").after, encoding="utf-8")
    _in_new_process(program, FIRST, "thread-a")
    assert FIRST in _in_new_process(program, SECOND, "thread-a")
    assert FIRST not in _in_new_process(program, SECOND, "thread-b")


@pytest.mark.parametrize(
    "program", [PER_CALL, CLOSED], ids=["checkpointer-per-call", "saver-closed-early"]
)
def test_platform_graph_is_never_changed_and_its_checkpointer_is_reported(
    tmp_path: Path, program: str
) -> None:
    (tmp_path / "agent").mkdir()
    module = tmp_path / "agent" / "graph.py"
    module.write_text(program, encoding="utf-8")
    (tmp_path / "langgraph.json").write_text(
        json.dumps({"dependencies": ["."], "graphs": {"agent": "./agent/graph.py:graph"}})
    )
    code, out, err = invoke("apply", "--yes", str(tmp_path))
    assert module.read_text(encoding="utf-8") == program
    assert "the LangGraph platform provides persistence" in out + err
    assert "checkpointer-per-call" not in out + err
    assert "saver-closed-early" not in out + err
    assert code != 2, err


def test_same_program_without_langgraph_json_is_fixed(tmp_path: Path) -> None:
    module = tmp_path / "graph.py"
    module.write_text(PER_CALL, encoding="utf-8")
    code, out, err = invoke("apply", "--yes", "--select", "checkpointer-per-call", str(tmp_path))
    assert module.read_text(encoding="utf-8") != PER_CALL, out + err
    assert code != 2, err


def test_hoisted_checkpointer_made_persistent_is_read_by_a_second_process(
    tmp_path: Path,
) -> None:
    # With in-process-history in the same run, the hoisted saver becomes a SQLite one.
    codemods = [by_name("checkpointer-per-call"), by_name("in-process-history")]
    result = fix_source(PER_CALL, path="app.py", codemods=codemods, settings=Settings())
    assert "InMemorySaver()" not in result.after
    program = tmp_path / "app.py"
    program.write_text(result.after, encoding="utf-8")
    _in_new_process(program, FIRST, "thread-a")
    assert FIRST in _in_new_process(program, SECOND, "thread-a")
    assert FIRST not in _in_new_process(program, SECOND, "thread-b")
