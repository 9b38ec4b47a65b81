"""Throwaway git repositories, and git run by hand as a user would run it."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

from tests.support.fixtures import PROGRAM

IDENTITY = ("-c", "user.name=t", "-c", "user.email=t@example.com")


def plain_git(
    repo: Path, *args: str, input: bytes | None = None, check: bool = True
) -> subprocess.CompletedProcess[bytes]:
    """`git ARGS` in `repo`, with nothing switched off: what a user's own git does."""
    return subprocess.run(
        ["git", *IDENTITY, *args],
        cwd=repo,
        input=input,
        stdin=subprocess.DEVNULL if input is None else None,
        capture_output=True,
        check=check,
        timeout=60,
    )


def output(repo: Path, *args: str) -> str:
    """The standard output of `git ARGS` (for commands that run nothing a config names)."""
    return plain_git(repo, *args).stdout.decode()


def make_repo(folder: Path, files: Mapping[str, str] | None = None) -> Path:
    """A repository on branch main with one commit of `files` (default: bot.py = PROGRAM)."""
    folder.mkdir(parents=True)
    for path, text in (files or {"bot.py": PROGRAM}).items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_text(text, encoding="utf-8")
    plain_git(folder, "init", "-q", "-b", "main")
    plain_git(folder, "add", ".")
    plain_git(folder, "commit", "-q", "-m", "initial")
    return folder


def copy_repo(template: Path, folder: Path) -> Path:
    """A copy of the repository `template` (work tree and .git) at `folder`."""
    shutil.copytree(template, folder, symlinks=True)
    return folder


def commit_files(repo: Path, files: Mapping[str, str], message: str = "more") -> None:
    """Write `files` and commit them by hand."""
    for path, text in files.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text, encoding="utf-8")
    plain_git(repo, "add", "--", *files)
    plain_git(repo, "commit", "-q", "-m", message)
