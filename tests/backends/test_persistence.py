"""Rewritten programs keep their conversations across a process restart.

Each program from tests/fixtures/in-process-history is rewritten for a backend, then run
in two fresh interpreters with the fake chat model (tests/backends/run_turns.py):
process one sends user A's first two turns (the second sees the first) and one turn of
user B (who sees none of A's); process two sends A's third turn, which must see the
first. SQLite needs nothing; Redis and PostgreSQL are real servers (see conftest.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from memfix.cli import app
from memfix.codemods.in_process_history.transform import InProcessHistory
from memfix.config import Backend, Settings
from memfix.pipeline.engine import fix_source
from memfix.results import FileResult
from tests.support.fixtures import parse_fixture

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "in-process-history"
PROGRAMS = [
    "lcel_store",
    "get_shape",
    "setdefault_chains",
    "service_object",
    "async_handler",
    "langgraph_saver",
]
# Report-only: an async Postgres history and a Redis graph checkpointer.
NOT_FIXED = {("async_handler", Backend.POSTGRES), ("langgraph_saver", Backend.REDIS)}
FIRST = "My name is Sam"


def source_of(program: str) -> str:
    return parse_fixture(FIXTURES / f"{program}.py")[0]


def rewrite(program: str, backend: Backend) -> FileResult:
    settings = Settings(backend=backend)
    return fix_source(
        source_of(program), path=f"{program}.py", codemods=[InProcessHistory], settings=settings
    )


def run_turns(program: Path, url: str, *turns: tuple[str, str]) -> list[str]:
    """The prompts the fake model saw, one per turn, in a fresh interpreter."""
    env = {**os.environ, "CHAT_HISTORY_URL": url, "PYTHONPATH": str(ROOT)}
    arguments = [word for turn in turns for word in turn]
    done = subprocess.run(
        [sys.executable, "-m", "tests.backends.run_turns", str(program), *arguments],
        cwd=program.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    prompts: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return prompts


def history_url(backend: Backend, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if backend is Backend.REDIS:
        url: str = request.getfixturevalue("redis_url")
        return url
    if backend is Backend.POSTGRES:
        url = request.getfixturevalue("postgres_url")
        return url
    return f"sqlite:///{tmp_path / 'chat.db'}"


@pytest.mark.parametrize("program", PROGRAMS)
def test_before_the_fix_a_second_process_forgets(program: str, tmp_path: Path) -> None:
    path = tmp_path / "program.py"
    path.write_text(source_of(program), encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'chat.db'}"
    first = run_turns(path, url, ("alice", FIRST), ("alice", "What's my name?"))
    assert FIRST in first[1]  # one process remembers...
    (second,) = run_turns(path, url, ("alice", "Do you remember me?"))
    assert FIRST not in second  # ...a restart forgets


@pytest.mark.parametrize("backend", [Backend.SQLITE, Backend.REDIS, Backend.POSTGRES])
@pytest.mark.parametrize("program", PROGRAMS)
def test_after_the_fix_a_second_process_remembers(
    program: str, backend: Backend, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    result = rewrite(program, backend)
    assert result.error is None, result.error
    if (program, backend) in NOT_FIXED:
        assert result.findings and not any(f.fixed for f in result.findings)
        assert not result.changed
        return
    assert result.changed and all(f.applied for f in result.findings), result.findings
    url = history_url(backend, request, tmp_path)
    path = tmp_path / "program.py"
    path.write_text(result.after, encoding="utf-8")
    # Unique users: the servers outlive the test run.
    alice, bob = f"alice-{uuid.uuid4().hex}", f"bob-{uuid.uuid4().hex}"

    first = run_turns(path, url, (alice, FIRST), (alice, "What's my name?"), (bob, "Who am I?"))
    assert FIRST in first[1] and "What's my name?" in first[1]
    assert FIRST not in first[2] and "Who am I?" in first[2]

    second = run_turns(path, url, (alice, "Do you remember me?"), (bob, "And me?"))
    assert FIRST in second[0] and "What's my name?" in second[0]
    assert "Who am I?" not in second[0]
    assert FIRST not in second[1] and "Who am I?" in second[1]


@pytest.mark.parametrize("backend", [Backend.SQLITE, Backend.REDIS, Backend.POSTGRES])
def test_memfix_apply_backend_writes_a_program_that_survives_a_restart(
    backend: Backend,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = history_url(backend, request, tmp_path)
    path = tmp_path / "app.py"
    path.write_text(source_of("lcel_store"), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    args = ["apply", "--yes", "--select", "in-process-history", "--backend", backend.value]
    result = CliRunner().invoke(app, [*args, "app.py"])
    assert result.exit_code == 0, result.output
    alice = f"alice-{uuid.uuid4().hex}"
    run_turns(path, url, (alice, FIRST))
    (second,) = run_turns(path, url, (alice, "Still there?"))
    assert FIRST in second


@pytest.mark.parametrize("backend", [Backend.SQLITE, Backend.REDIS, Backend.POSTGRES])
def test_the_bundled_example_survives_a_restart_with_every_codemod(
    backend: Backend,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`memfix apply --unsafe-fixes --backend X` on examples/legacy_app/history_store.py.

    Every codemod runs, as for a user: the history moves to the backend and the per-call
    uuid key becomes a `session_id` parameter, so one user's turns survive a restart.
    """
    url = history_url(backend, request, tmp_path)
    path = tmp_path / "app.py"
    path.write_bytes((ROOT / "examples" / "legacy_app" / "history_store.py").read_bytes())
    monkeypatch.chdir(tmp_path)
    args = ["apply", "--yes", "--unsafe-fixes", "--backend", backend.value, "app.py"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    fixed = path.read_text(encoding="utf-8")
    assert "def reply(message: str, session_id: str) -> str:" in fixed
    path.write_text(fixed + "\n\ndef ask(user, text):\n    return reply(text, user)\n")
    alice, bob = f"alice-{uuid.uuid4().hex}", f"bob-{uuid.uuid4().hex}"
    run_turns(path, url, (alice, FIRST), (bob, "Who am I?"))
    second = run_turns(path, url, (alice, "Still there?"), (bob, "And me?"))
    assert FIRST in second[0] and "Who am I?" not in second[0]
    assert FIRST not in second[1] and "Who am I?" in second[1]
