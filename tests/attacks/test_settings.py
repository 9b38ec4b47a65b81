"""Settings from a repository's pyproject.toml or the command line never become code,
every documented setting works on every path of a run, and no configured path leads
out of the project."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from memfix.config import Settings, load_settings, settings_from_table
from memfix.errors import ConfigError
from tests.support.cli import invoke
from tests.support.fixtures import PROGRAM
from tests.support.programs import FASTAPI_ROUTES, MEMORY

HISTORY = (
    "from langchain_core.chat_history import InMemoryChatMessageHistory\n\n"
    "store = {}\n\n\n"
    "def get_session_history(session_id: str):\n"
    "    if session_id not in store:\n"
    "        store[session_id] = InMemoryChatMessageHistory()\n"
    "    return store[session_id]\n"
)
CODE_IN_A_NAME = 'A"); import os; os.system("id"); ("'

# Values that must never reach generated code as a name: quotes, statements, line
# breaks, lookalike letters, invisible characters, nothing, far too much.
HOSTILE = [
    pytest.param(CODE_IN_A_NAME, id="a statement in quotes"),
    pytest.param("A'B", id="single quote"),
    pytest.param('A"B', id="double quote"),
    pytest.param("A\\B", id="backslash"),
    pytest.param("A\nimport os", id="newline"),
    pytest.param("A\rB", id="carriage return"),
    pytest.param("A;B", id="semicolon"),
    pytest.param("A B", id="space"),
    pytest.param("A.B", id="dot"),
    pytest.param("user-id", id="dash"),
    pytest.param("1ABC", id="leading digit"),
    pytest.param("", id="empty"),
    pytest.param("A" * 101, id="very long"),
    pytest.param("\u0410PI_URL", id="Cyrillic A lookalike"),
    pytest.param("\uff35SER", id="fullwidth letter"),
    pytest.param("user_id\u200b", id="zero-width space"),
    pytest.param("user\u202eid", id="bidi override"),
    pytest.param("{session_id}", id="braces"),
]
KEYS = [("history-url-env", "history_url_env"), ("session-key", "session_key")]


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and ".git" not in path.parts
    }


def git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout


def pyproject(*lines: str) -> str:
    return "[tool.memfix]\n" + "".join(line + "\n" for line in lines)


def toml_string(value: str) -> str:
    return json.dumps(value)  # a JSON string is a TOML basic string


# Configuration text becomes code


def test_history_url_env_with_code_in_it_is_refused_and_nothing_is_written(
    project: Path,
) -> None:
    toml = pyproject(f"history-url-env = {toml_string(CODE_IN_A_NAME)}")
    write(project, {"pyproject.toml": toml, "app.py": HISTORY})
    before = snapshot(project)
    for command in (["check"], ["apply", "--dry-run"], ["apply", "--yes"]):
        code, out, err = invoke(*command)
        assert code == 2, err
        assert "history-url-env" in err and "os.system" not in out
    assert snapshot(project) == before


def test_batch_refuses_a_repository_whose_pyproject_puts_code_in_a_setting(
    project: Path,
) -> None:
    repo = project / "repo"
    toml = pyproject(f"history-url-env = {toml_string(CODE_IN_A_NAME)}")
    write(repo, {"pyproject.toml": toml, "app.py": HISTORY})
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "start")
    code, _, err = invoke("batch", str(repo), "--out", str(project / "reviews"))
    assert code == 2, err
    assert git(repo, "branch", "--list", "memfix/*") == ""
    assert git(repo, "log", "--format=%s") == "start\n"
    assert not list((project / "reviews").glob("*.patch"))


@pytest.mark.parametrize(("key", "field"), KEYS)
@pytest.mark.parametrize("value", HOSTILE)
def test_a_setting_that_reaches_generated_code_refuses_a_hostile_value(
    key: str, field: str, value: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        settings_from_table({key: value})
    assert raised.value.key == key
    assert str(raised.value).startswith(f"[tool.memfix] {key}: ")
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(("key", "field"), KEYS)
@pytest.mark.parametrize("value", HOSTILE)
def test_an_override_that_reaches_generated_code_refuses_a_hostile_value(
    key: str, field: str, value: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        Settings().with_overrides(**{field: value})
    assert raised.value.key == key
    assert str(raised.value).startswith(f"--{key}: ")


@pytest.mark.parametrize("value", ["class", "None", "lambda", "import"])
def test_session_key_refuses_a_python_keyword(value: str) -> None:
    with pytest.raises(ConfigError, match=r"session-key: .* is a Python keyword"):
        settings_from_table({"session-key": value})


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("history-url-env", "CHAT_HISTORY_URL"),
        ("history-url-env", "_db_url2"),
        ("history-url-env", "A" * 100),
        ("session-key", "user_id"),
        ("session-key", "match"),  # a soft keyword is a valid name
        ("session-key", "_"),
    ],
)
def test_plain_names_are_accepted(key: str, value: str) -> None:
    settings = settings_from_table({key: value})
    assert getattr(settings, key.replace("-", "_")) == value


@pytest.mark.parametrize("value", [CODE_IN_A_NAME, "user id", "s\u0435ssion_id", "if"])
def test_session_key_flag_with_a_hostile_value_exits_2_and_writes_nothing(
    project: Path, value: str
) -> None:
    write(project, {"bot.py": PROGRAM})
    before = snapshot(project)
    for command in ("check", "apply"):
        extra = ["--yes"] if command == "apply" else []
        code, out, err = invoke(command, *extra, "--session-key", value, ".")
        assert code == 2, err
        assert err.startswith("error: --session-key: ") and out == ""
    assert snapshot(project) == before


def test_session_key_flag_with_a_hostile_value_fails_the_batch_repository(
    project: Path,
) -> None:
    repo = project / "repo"
    write(repo, {"bot.py": PROGRAM})
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "start")
    code, _, err = invoke(
        "batch", str(repo), "--out", str(project / "reviews"), "--session-key", "a;b"
    )
    assert code == 2, err
    assert git(repo, "log", "--format=%s") == "start\n"


# A documented setting does nothing: per-file-ignores

IGNORED_TESTS = pyproject('per-file-ignores = { "tests/*" = ["per-call-state"] }')


def per_call_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if "per-call-state" in line]


def test_per_file_ignores_turns_the_codemod_off_in_check(project: Path) -> None:
    write(
        project, {"pyproject.toml": IGNORED_TESTS, "tests/test_bot.py": PROGRAM, "bot.py": PROGRAM}
    )
    code, out, _ = invoke("check", "--select", "per-call-state")
    assert code == 1
    assert [line.split(":")[0] for line in per_call_lines(out)] == ["bot.py"]


def test_per_file_ignores_leaves_the_matched_file_alone_in_apply(project: Path) -> None:
    write(
        project, {"pyproject.toml": IGNORED_TESTS, "tests/test_bot.py": PROGRAM, "bot.py": PROGRAM}
    )
    code, _, err = invoke("apply", "--yes", "--select", "per-call-state")
    assert code == 0, err
    assert (project / "tests/test_bot.py").read_text(encoding="utf-8") == PROGRAM
    assert (project / "bot.py").read_text(encoding="utf-8") != PROGRAM


def test_per_file_ignores_holds_in_a_run_from_a_subfolder(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # From tests/, the file is shown as `test_bot.py`: the pattern is read from the root.
    write(project, {"pyproject.toml": IGNORED_TESTS, "tests/test_bot.py": PROGRAM})
    monkeypatch.chdir(project / "tests")
    code, out, err = invoke("check", "--select", "per-call-state")
    assert (code, per_call_lines(out)) == (0, []), err
    (project / "pyproject.toml").write_text(pyproject(), encoding="utf-8")
    code, out, _ = invoke("check", "--select", "per-call-state")
    assert code == 1 and per_call_lines(out)[0].startswith("test_bot.py:")


def test_per_file_ignores_applies_to_notebooks(project: Path) -> None:
    notebook = {
        "cells": [{"cell_type": "code", "metadata": {}, "source": PROGRAM, "outputs": []}],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    text = json.dumps(notebook)
    write(project, {"pyproject.toml": IGNORED_TESTS, "tests/nb.ipynb": text, "nb.ipynb": text})
    code, out, _ = invoke("check", "--select", "per-call-state")
    assert code == 1
    assert [line.split(":")[0] for line in per_call_lines(out)] == ["nb.ipynb"]


def test_per_file_ignores_is_honoured_by_batch(project: Path) -> None:
    repo = project / "repo"
    write(repo, {"pyproject.toml": IGNORED_TESTS, "tests/test_bot.py": PROGRAM, "bot.py": PROGRAM})
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "start")
    out = project / "reviews"
    code, _, err = invoke(
        "batch", str(repo), "--dry-run", "--select", "per-call-state", "--out", str(out)
    )
    assert code == 1, err
    [patch] = out.glob("*.patch")
    changed = [
        line for line in patch.read_text(encoding="utf-8").splitlines() if line.startswith("+++ ")
    ]
    assert changed == ["+++ b/bot.py"]
    [description] = out.glob("*.md")
    assert "tests/test_bot.py" not in description.read_text(encoding="utf-8")


def test_a_cached_result_never_outlives_a_change_to_per_file_ignores(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MEMFIX_NO_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(project / "cache"))
    write(project, {"pyproject.toml": pyproject(), "tests/test_bot.py": PROGRAM})
    assert per_call_lines(invoke("check", "--select", "per-call-state", "tests")[1])
    (project / "pyproject.toml").write_text(IGNORED_TESTS, encoding="utf-8")
    assert per_call_lines(invoke("check", "--select", "per-call-state", "tests")[1]) == []
    (project / "pyproject.toml").write_text(pyproject(), encoding="utf-8")
    assert per_call_lines(invoke("check", "--select", "per-call-state", "tests")[1])


@pytest.mark.parametrize("ignored", ["app/routes.py", "app/memory.py"])
def test_per_file_ignores_on_one_side_of_a_cross_module_fix_changes_neither(
    project: Path, ignored: str
) -> None:
    files = {"app/__init__.py": "", "app/memory.py": MEMORY, "app/routes.py": FASTAPI_ROUTES}
    toml = pyproject(f'per-file-ignores = {{ "{ignored}" = ["shared-global-state"] }}')
    write(project, {**files, "pyproject.toml": toml})
    code, _, err = invoke("apply", "--yes", "--select", "shared-global-state")
    assert code == 1, err  # the other side's finding is left, reported
    written = {**files, "pyproject.toml": toml}
    assert snapshot(project) == {name: text.encode() for name, text in written.items()}
    (project / "pyproject.toml").write_text(pyproject(), encoding="utf-8")
    code, _, err = invoke("apply", "--yes", "--select", "shared-global-state")
    assert code == 0, err
    assert (project / "app/memory.py").read_text(encoding="utf-8") != MEMORY
    assert (project / "app/routes.py").read_text(encoding="utf-8") != FASTAPI_ROUTES


@pytest.mark.parametrize(
    ("names", "hint"),
    [
        ('["per-call-stat"]', "(did you mean 'per-call-state'?)"),
        ('["in-process-history", "unwired"]', "(did you mean 'unwired-memory'?)"),
        ('["unused-suppression"]', "`memfix rules` lists them"),
    ],
)
def test_an_unknown_codemod_in_per_file_ignores_exits_2_with_a_suggestion(
    project: Path, names: str, hint: str
) -> None:
    write(
        project,
        {
            "pyproject.toml": pyproject(f'per-file-ignores = {{ "tests/*" = {names} }}'),
            "bot.py": PROGRAM,
        },
    )
    code, out, err = invoke("check")
    assert code == 2 and out == ""
    assert err.startswith("error: [tool.memfix] per-file-ignores.tests/*: unknown codemod ")
    assert hint in err


# A configured path outside the project


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("../../..", id="parents"),
        pytest.param("..", id="the parent"),
        pytest.param("src/../../outside", id="down then out"),
        pytest.param("/", id="absolute"),
    ],
)
def test_default_path_outside_the_project_is_refused(
    project: Path, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    outside = project / "outside"
    inside = project / "proj"
    write(outside, {"bot.py": PROGRAM})
    write(
        inside,
        {
            "pyproject.toml": pyproject(f"default-path = {toml_string(value)}"),
            "src/x.py": "x = 1\n",
        },
    )
    before = snapshot(project)
    with pytest.raises(ConfigError) as raised:
        load_settings(inside)
    assert raised.value.key == "default-path"
    monkeypatch.chdir(inside)
    for command in (["check"], ["apply", "--yes"]):
        code, out, err = invoke(*command)
        assert code == 2, out + err
        assert "default-path" in err
    assert snapshot(project) == before


def test_default_path_through_a_link_out_of_the_project_is_refused(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outside = project / "outside"
    inside = project / "proj"
    write(outside, {"bot.py": PROGRAM})
    write(inside, {"pyproject.toml": pyproject('default-path = "src"')})
    (inside / "src").symlink_to(outside, target_is_directory=True)
    monkeypatch.chdir(inside)
    code, _, err = invoke("apply", "--yes")
    assert code == 2
    assert err.startswith("error: [tool.memfix] default-path: 'src' leads outside")
    assert (outside / "bot.py").read_text(encoding="utf-8") == PROGRAM


def test_default_path_inside_the_project_still_works(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(
        project,
        {
            "pyproject.toml": pyproject('default-path = "src/../src"'),
            "src/bot.py": PROGRAM,
            "bot.py": PROGRAM,
        },
    )
    code, out, _ = invoke("check", "--select", "per-call-state")
    assert code == 1
    assert [line.split(":")[0] for line in per_call_lines(out)] == ["src/bot.py"]
