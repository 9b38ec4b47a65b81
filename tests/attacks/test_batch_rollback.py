"""A `batch` commit that fails leaves the repository as it was.

Whatever breaks once memfix has started changing a repository (a full object store, a
branch name that is taken, any git command failing, an interrupted run), the repository
is put back: on its original branch, its index and work tree as they were (the files
memfix wrote hold their old bytes again), the new branch gone; the outcome is FAILED and
its error says why.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from memfix.batch import BatchOptions, RepoOutcome, RepoStatus
from memfix.files import git
from memfix.files.write import Gate, WriteError
from memfix.fleet.local import migrate, run_batch
from memfix.results import FileResult
from tests.support.cli import invoke
from tests.support.fixtures import PROGRAM
from tests.support.repos import make_repo, output, plain_git

BRANCH = "memfix/persist-memory"
OVERRIDES: dict[str, object] = {"select": ("per-call-state",)}
FILES = {"bot.py": PROGRAM, "app/bot.py": PROGRAM, "README.md": "notes\n"}


@dataclass(frozen=True)
class State:
    """Everything about a repository a failed batch must leave as it was."""

    head: str
    refs: str
    index: str
    status: str
    files: tuple[tuple[str, bytes, int], ...]


def state(repo: Path) -> State:
    files = tuple(
        (path.relative_to(repo).as_posix(), path.read_bytes(), path.stat().st_mode)
        for path in sorted(repo.rglob("*"))
        if path.is_file() and ".git" not in path.relative_to(repo).parts
    )
    head = plain_git(repo, "symbolic-ref", "-q", "HEAD", check=False).stdout.decode()
    return State(
        head or output(repo, "rev-parse", "HEAD"),
        output(repo, "for-each-ref", "--format=%(refname) %(objectname)"),
        output(repo, "ls-files", "-s"),
        output(repo, "status", "--porcelain", "--untracked-files=all"),
        files,
    )


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MEMFIX_NO_CACHE", "1")
    monkeypatch.chdir(tmp_path)
    return make_repo(tmp_path / "r", FILES)


def batch(repo: Path, **options: object) -> RepoOutcome:
    settings = BatchOptions(out=repo.parent / "out", **options)  # type: ignore[arg-type]
    return run_batch([repo], OVERRIDES, settings)[0]


def assert_failed_and_undone(outcome: RepoOutcome, why: str) -> None:
    assert outcome.status is RepoStatus.FAILED
    assert outcome.error is not None
    assert why in outcome.error
    assert "the repository was left as it was" in outcome.error, outcome.error


Failing = Callable[[Sequence[str], Mapping[str, str]], bool]


def fail_git(
    monkeypatch: pytest.MonkeyPatch, when: Failing, error: BaseException | None = None
) -> None:
    """Make every git command memfix starts for which `when(args, env)` holds fail."""
    start = git._execute

    def execute(
        cwd: Path, args: Sequence[str], env: Mapping[str, str], input: bytes | None = None
    ) -> subprocess.CompletedProcess[bytes]:
        if when(args, env):
            if error is not None:
                raise error
            return subprocess.CompletedProcess(list(args), 128, b"", b"fatal: injected failure\n")
        return start(cwd, args, env, input)

    monkeypatch.setattr(git, "_execute", execute)


def command(name: str, *also: str, real_index: bool = False) -> Failing:
    """The git commands named `name` whose arguments hold `also` (on the real index)."""

    def matches(args: Sequence[str], env: Mapping[str, str]) -> bool:
        if real_index and "GIT_INDEX_FILE" in env:
            return False
        return args[0] == name and all(part in args for part in also)

    return matches


def test_a_batch_that_succeeds_does_change_what_the_others_compare(repo: Path) -> None:
    before = state(repo)
    assert batch(repo).status is RepoStatus.MIGRATED
    after = state(repo)
    assert after.head != before.head
    assert after.refs != before.refs
    assert after.index != before.index
    assert after.files != before.files
    assert after.status == before.status == ""


@contextmanager
def unwritable(folder: Path) -> Iterator[None]:
    """`folder` and all below it cannot be written (by root too, where chattr works)."""
    folders = [folder, *(path for path in folder.rglob("*") if path.is_dir())]
    for each in folders:
        each.chmod(0o555)
    immutable = False
    try:
        if _writable(folder) and shutil.which("chattr"):
            done = subprocess.run(["chattr", "-R", "+i", str(folder)], capture_output=True)
            immutable = done.returncode == 0
        if _writable(folder):
            pytest.skip("no way to make a folder unwritable here")
        yield
    finally:
        if immutable:
            subprocess.run(["chattr", "-R", "-i", str(folder)], check=True)
        for each in folders:
            each.chmod(0o755)


def _writable(folder: Path) -> bool:
    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def test_a_full_object_store_leaves_the_repository_as_it_was(repo: Path) -> None:
    before = state(repo)
    with unwritable(repo / ".git" / "objects"):
        outcome = batch(repo)
    assert_failed_and_undone(outcome, "git hash-object")
    assert state(repo) == before


@pytest.mark.parametrize(
    ("taken", "why"),
    [
        pytest.param(BRANCH, "already exists", id="the branch itself"),
        pytest.param("memfix", "'refs/heads/memfix' exists", id="a branch named like its folder"),
    ],
)
def test_a_branch_name_that_is_taken_leaves_the_repository_as_it_was(
    repo: Path, taken: str, why: str
) -> None:
    plain_git(repo, "branch", taken)
    before = state(repo)
    outcome = batch(repo)
    assert outcome.status is RepoStatus.FAILED
    assert outcome.error is not None and why in outcome.error, outcome.error
    assert state(repo) == before


FAILURES = [
    pytest.param(command("symbolic-ref", "memfix: switch"), id="switching to the new branch"),
    pytest.param(command("hash-object"), id="writing a blob"),
    pytest.param(command("write-tree"), id="writing the tree"),
    pytest.param(command("commit-tree"), id="writing the commit"),
    pytest.param(command("update-ref", "memfix: commit"), id="moving the branch to the commit"),
    pytest.param(command("update-index", real_index=True), id="updating the index"),
    pytest.param(command("format-patch"), id="writing the patch, once committed"),
]


@pytest.mark.parametrize("when", FAILURES)
def test_a_failing_git_command_leaves_the_repository_as_it_was(
    repo: Path, when: Failing, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = state(repo)
    fail_git(monkeypatch, when)
    outcome = batch(repo)
    assert_failed_and_undone(outcome, "injected failure")
    assert state(repo) == before


def test_a_file_that_cannot_be_written_leaves_the_ones_written_before_as_they_were(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = state(repo)
    write = Gate.write_if_unchanged
    written: list[str] = []

    def second_fails(gate: Gate, result: FileResult) -> None:
        if written:
            raise WriteError(result.path, "the disk is full")
        write(gate, result)
        written.append(result.path)

    monkeypatch.setattr(Gate, "write_if_unchanged", second_fails)
    outcome = batch(repo)
    assert written, "one file was written before the failure"
    assert_failed_and_undone(outcome, "the disk is full")
    assert state(repo) == before


def test_an_interrupted_batch_leaves_the_repository_as_it_was(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = state(repo)
    fail_git(monkeypatch, command("commit-tree"), KeyboardInterrupt())
    options = BatchOptions(out=repo.parent / "out")
    with pytest.raises(KeyboardInterrupt):
        migrate(repo, "r", OVERRIDES, options)
    assert state(repo) == before


def test_a_failed_commit_keeps_what_the_user_had_staged_changed_or_left_untracked(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (repo / "README.md").write_text("staged notes\n", encoding="utf-8")
    plain_git(repo, "add", "README.md")
    (repo / "app" / "bot.py").write_text(PROGRAM + "# work in progress\n", encoding="utf-8")
    (repo / "todo.txt").write_text("untracked\n", encoding="utf-8")
    before = state(repo)
    fail_git(monkeypatch, command("update-index", real_index=True))
    assert_failed_and_undone(batch(repo, allow_dirty=True), "injected failure")
    assert state(repo) == before


def test_a_failed_commit_on_a_detached_head_goes_back_to_it(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain_git(repo, "checkout", "-q", "--detach")
    before = state(repo)
    fail_git(monkeypatch, command("format-patch"))
    assert_failed_and_undone(batch(repo), "injected failure")
    assert state(repo) == before


def test_a_rollback_that_cannot_finish_says_so(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fail_git(monkeypatch, lambda args, env: args[0] == "commit-tree" or "memfix: back" in args)
    outcome = batch(repo)
    assert outcome.status is RepoStatus.FAILED
    assert outcome.error is not None
    assert "putting the repository back failed" in outcome.error
    assert "left as it was" not in outcome.error


def test_the_batch_table_says_why_the_repository_failed(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = state(repo)
    fail_git(monkeypatch, command("commit-tree"))
    code, _, err = invoke("batch", "--select", "per-call-state", "--out", "out", "r")
    assert code == 2
    row = next(line for line in err.splitlines() if line.startswith("r "))
    assert "failed: git commit-tree: injected failure" in row
    assert "the repository was left as it was" in row
    assert state(repo) == before
    assert os.listdir(repo.parent / "out") == []
