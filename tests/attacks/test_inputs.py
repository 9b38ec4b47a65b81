"""Inputs that could hang a run, exhaust it, or pass as clean without being analysed.

Each gets a one-line error naming it, or is analysed after all; every other file is
still processed, and the summary and exit code say what was not looked at.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from memfix.files import discover, git
from tests.support.cli import invoke
from tests.support.fixtures import PROGRAM

ROOT = Path(__file__).resolve().parents[2]
ONLY_PER_CALL = ("--select", "per-call-state")
# The program, plus code only Python 3.12's parser reads.
NEWER_SYNTAX = PROGRAM + "\n\nclass Box[T]:\n    item: T\n\n\ntype Pair[K] = tuple[K, K]\n"
PLAIN = "import os\n\nprint(os.getcwd())\n"


@pytest.fixture(autouse=True)
def no_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every run here reads and analyses its files: a cached result would hide a regression."""
    monkeypatch.setenv("MEMFIX_NO_CACHE", "1")


def memfix(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`memfix ARGS` in its own process, with a time limit and a memory limit: a run that
    hangs or reads without end fails the test instead of stopping the suite."""

    def limit_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    env = {**os.environ, "MEMFIX_NO_CACHE": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "memfix", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=limit_memory,
    )


def test_a_fifo_named_on_the_command_line_is_an_error_not_a_hang(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo.py")
    (tmp_path / "bot.py").write_text(PROGRAM, encoding="utf-8")
    done = memfix(tmp_path, "check", *ONLY_PER_CALL, "fifo.py", "bot.py")
    assert done.returncode == 1, done.stderr
    assert "fifo.py: error: cannot read: not a regular file (a FIFO)" in done.stderr
    assert "bot.py:8:14: per-call-state" in done.stdout


def test_a_link_to_dev_zero_is_an_error_not_an_endless_read(tmp_path: Path) -> None:
    os.symlink("/dev/zero", tmp_path / "zero.py")
    (tmp_path / "bot.py").write_text(PROGRAM, encoding="utf-8")
    done = memfix(tmp_path, "check", *ONLY_PER_CALL, "zero.py", "bot.py")
    assert done.returncode == 1, done.stderr[-2000:]
    assert "zero.py: error: cannot read: not a regular file (a device)" in done.stderr
    assert "bot.py:8:14: per-call-state" in done.stdout


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs Linux's /proc")
def test_a_file_larger_than_its_size_says_is_read_no_further_than_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # /proc files report a size of 0 and hold kilobytes, as a file growing meanwhile would.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text("[tool.memfix]\nmax-file-size = 100\n", "utf-8")
    os.symlink("/proc/self/maps", tmp_path / "maps.py")
    code, _, err = invoke("check", "-v", ".", "maps.py")  # the settings are read from "."
    assert code == 0, err
    assert "maps.py: note: skipped: 101 bytes, over the 100 limit" in err


def test_code_in_a_newer_python_is_analysed_not_passed_as_clean(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "box.py").write_text(NEWER_SYNTAX, encoding="utf-8")
    code, out, err = invoke("check", *ONLY_PER_CALL, "box.py")
    assert code == 1, err
    assert "box.py:8:14: per-call-state ConversationBufferMemory 'memory'" in out
    assert "All clean" not in err
    code, _, err = invoke("apply", "--yes", *ONLY_PER_CALL, "box.py")
    assert code == 0, err
    fixed = (tmp_path / "box.py").read_text("utf-8")
    assert "\nmemory = ConversationBufferMemory()\n" in fixed
    assert fixed.endswith("class Box[T]:\n    item: T\n\n\ntype Pair[K] = tuple[K, K]\n")


def test_an_unreadable_folder_is_reported_and_the_rest_is_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "hidden.py").write_text(PROGRAM, encoding="utf-8")
    (tmp_path / "bot.py").write_text(PROGRAM, encoding="utf-8")
    # Root lists every folder: the refusal is made where the kernel would make it.
    real_scandir = os.scandir

    def refusing_scandir(path: object = ".") -> object:
        if isinstance(path, str | os.PathLike) and os.path.basename(path) == "locked":
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "scandir", refusing_scandir)
    code, out, err = invoke("check", *ONLY_PER_CALL, ".")
    assert code == 1
    assert "locked: error: cannot read this folder: Permission denied" in err
    assert "bot.py:8:14: per-call-state" in out
    assert "1 failed" in err and "All clean" not in err


def test_a_loop_of_links_outside_git_is_reported_and_the_rest_is_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    os.symlink("y.py", tmp_path / "x.py")
    os.symlink("x.py", tmp_path / "y.py")
    (tmp_path / "bot.py").write_text(PROGRAM, encoding="utf-8")
    for command in (["check"], ["apply", "--yes"]):
        code, _, err = invoke(*command, *ONLY_PER_CALL, ".")
        assert code == 1, err
        assert "x.py: error: a loop of links" in err and "y.py: error: a loop of links" in err
    assert (tmp_path / "bot.py").read_text("utf-8") != PROGRAM
    code, _, err = invoke("check", *ONLY_PER_CALL, "x.py")  # named on the command line
    assert code == 1
    assert "x.py: error: cannot read: Too many levels of symbolic links" in err


def test_a_repository_git_cannot_read_is_reported_and_the_other_paths_are_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("theirs", "mine"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "bot.py").write_text(PROGRAM, encoding="utf-8")
    subprocess.run(["git", "init", "-q", "theirs"], cwd=tmp_path, check=True)
    dubious = "git ls-files: fatal: detected dubious ownership in repository"

    def refusing(root: Path, under: Path) -> list[Path]:
        raise git.GitError(dubious)

    monkeypatch.setattr(discover.git, "listed_files", refusing)
    code, out, err = invoke("check", *ONLY_PER_CALL, "theirs", "mine")
    assert code == 1
    assert f"theirs: error: not checked: git cannot list its files: {dubious}" in err
    assert "mine/bot.py:8:14: per-call-state" in out
    assert "theirs/bot.py" not in out  # never walked around git's back


def test_the_summary_counts_files_analysed_apart_from_those_screened_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bot.py").write_text(PROGRAM, encoding="utf-8")
    for name in ("a.py", "b.py"):
        (tmp_path / name).write_text(PLAIN, encoding="utf-8")
    code, _, err = invoke("check", *ONLY_PER_CALL, ".")
    assert code == 1
    assert err.endswith(". 1 file analysed, 2 skipped (no LangChain memory).\n")
    assert invoke("apply", "--yes", *ONLY_PER_CALL, ".")[0] == 0
    code, _, err = invoke("check", *ONLY_PER_CALL, ".")
    assert code == 0
    assert err == "All clean: 1 file analysed, 2 skipped (no LangChain memory).\n"


def test_a_file_that_cannot_be_analysed_fails_the_run_and_is_never_called_clean(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    broken = "from langchain.memory import ConversationBufferMemory\ndef broken(:\n"
    (tmp_path / "broken.py").write_text(broken, encoding="utf-8")
    (tmp_path / "plain.py").write_text(PLAIN, encoding="utf-8")
    code, _, err = invoke("check", *ONLY_PER_CALL, ".")
    assert code == 1
    assert "broken.py: error: syntax error at line 2" in err
    assert "All clean" not in err
    assert err.endswith(
        "0 files analysed, 1 skipped (no LangChain memory), 1 failed (see above).\n"
    )
