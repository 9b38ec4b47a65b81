"""Writes: nothing lands outside the tree a run was given, and one bad place stops nothing.

Every write memfix makes (source files, dependency files, batch patches and
descriptions, `--output` reports) goes through one gate that resolves every link first.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from memfix.files import write
from memfix.files.write import Gate, WriteError
from memfix.results import FileResult, Status
from tests.support.cli import invoke
from tests.support.fixtures import FIXTURES, PROGRAM, parse_fixture
from tests.support.repos import make_repo, plain_git

# Its fix needs `langchain-community` and `sqlalchemy`: the run edits the requirements.
HISTORY = parse_fixture(FIXTURES / "in-process-history" / "lcel_store.py")[0]
ONLY_HISTORY = ("--select", "in-process-history")
ONLY_PER_CALL = ("--select", "per-call-state")
OLD = time.time() - 3600  # an hour ago: long after any run that was still writing


@pytest.fixture(autouse=True)
def no_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every run here reads and analyses its files: a cached result would hide a regression."""
    monkeypatch.setenv("MEMFIX_NO_CACHE", "1")


@pytest.fixture
def linked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`tree/` with a history store to fix, whose requirements.txt links to `outside/`."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "requirements.txt").write_text("flask\n", encoding="utf-8")
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "chat.py").write_text(HISTORY, encoding="utf-8")
    os.symlink("../outside/requirements.txt", tree / "requirements.txt")
    return tmp_path


def test_apply_never_adds_packages_to_a_requirements_file_linked_out_of_the_tree(
    linked: Path,
) -> None:
    code, _, err = invoke("apply", "--yes", *ONLY_HISTORY, "tree")
    assert code == 1, err
    assert (linked / "outside" / "requirements.txt").read_text("utf-8") == "flask\n"
    target = linked / "outside" / "requirements.txt"
    assert f"tree/requirements.txt: not written: it leads outside the tree (-> {target})" in err
    assert (linked / "tree" / "chat.py").read_text("utf-8") != HISTORY  # the run went on
    assert (linked / "tree" / "requirements.txt").is_symlink()


def test_dry_run_names_the_refused_write_instead_of_showing_its_diff(linked: Path) -> None:
    code, out, err = invoke("apply", "--dry-run", *ONLY_HISTORY, "tree")
    assert code == 1
    assert "+++ b/tree/chat.py" in out
    assert "requirements.txt" not in out
    assert "tree/requirements.txt: not written: it leads outside the tree" in err


def test_a_file_named_through_a_link_out_of_the_tree_is_not_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "bot.py").write_text(PROGRAM, encoding="utf-8")
    (tmp_path / "tree").mkdir()
    os.symlink("../outside/bot.py", tmp_path / "tree" / "bot.py")
    code, _, err = invoke("apply", "--yes", *ONLY_PER_CALL, "tree/bot.py")
    assert code == 1
    assert "tree/bot.py: not written: it leads outside the tree" in err
    assert (tmp_path / "outside" / "bot.py").read_text("utf-8") == PROGRAM


def test_a_report_is_not_written_through_a_link_to_somewhere_else(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "victim").write_text("keep me\n", encoding="utf-8")
    (tmp_path / "reports").mkdir()
    os.symlink("../victim", tmp_path / "reports" / "memfix.json")
    (tmp_path / "bot.py").write_text(PROGRAM, encoding="utf-8")
    code, _, err = invoke("check", "--format", "json", "--output", "reports/memfix.json", "bot.py")
    assert code == 2
    assert "reports/memfix.json: cannot write the report: it leads outside the tree" in err
    assert (tmp_path / "victim").read_text("utf-8") == "keep me\n"
    assert invoke("check", "--format", "json", "--output", "report.json", "bot.py")[0] == 1
    assert (tmp_path / "report.json").read_text("utf-8").startswith("{")


@pytest.mark.parametrize("dry_run", [False, True], ids=["commit", "dry run"])
def test_batch_refuses_a_requirements_file_linked_out_of_the_repository(
    linked: Path, dry_run: bool
) -> None:
    repo = linked / "tree"
    for command in (["init", "-q", "-b", "main"], ["add", "."], ["commit", "-q", "-m", "initial"]):
        plain_git(repo, *command)
    code, _, err = invoke(
        "batch", "tree", "--out", "reviews", *ONLY_HISTORY, *(["--dry-run"] if dry_run else [])
    )
    assert "internal error" not in err
    assert code == 1, err
    assert "requirements.txt: not written: it leads outside the tree" in err.replace("\n", " ")
    assert (linked / "outside" / "requirements.txt").read_text("utf-8") == "flask\n"
    patch = (linked / "reviews" / "tree.patch").read_text("utf-8")
    assert "chat.py" in patch and "requirements.txt" not in patch
    assert (linked / "reviews" / "tree.md").is_file()


def test_batch_writes_no_patch_through_a_link_in_the_reviews_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    make_repo(tmp_path / "one")
    make_repo(tmp_path / "two")
    (tmp_path / "victim").write_text("keep me\n", encoding="utf-8")
    (tmp_path / "reviews").mkdir()
    os.symlink("../victim", tmp_path / "reviews" / "one.patch")
    code, _, err = invoke("batch", "one", "two", "--out", "reviews", "--dry-run", *ONLY_PER_CALL)
    assert code == 2  # one repository failed; the other went on
    assert "it leads outside the tree" in err.replace("\n", " ")
    assert (tmp_path / "victim").read_text("utf-8") == "keep me\n"
    assert (tmp_path / "reviews" / "two.patch").read_text("utf-8").count("bot.py") >= 1


def _folder_of(descriptor: int) -> str:
    return os.readlink(f"/proc/self/fd/{descriptor}")


@pytest.fixture
def two_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("locked", "open"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "bot.py").write_text(PROGRAM, encoding="utf-8")
    return tmp_path


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs Linux's /proc")
@pytest.mark.parametrize(
    ("number", "message"),
    [
        (errno.EACCES, "Permission denied"),
        (errno.EROFS, "Read-only file system"),
        (errno.ENOSPC, "No space left on device"),  # no inodes left
    ],
    ids=["read-only folder", "read-only file system", "no inodes left"],
)
def test_a_folder_that_takes_no_new_file_is_reported_and_the_others_are_written(
    two_folders: Path, monkeypatch: pytest.MonkeyPatch, number: int, message: str
) -> None:
    # Root ignores a folder's permissions: the refusal is made where the kernel makes it.
    real_open = os.open
    locked = str(two_folders / "locked")

    def refusing_open(path: str, flags: int, mode: int = 0o777, **kwargs: object) -> int:
        folder = kwargs.get("dir_fd")
        if flags & os.O_CREAT and isinstance(folder, int) and _folder_of(folder) == locked:
            raise OSError(number, os.strerror(number), path)
        return real_open(path, flags, mode, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(write.os, "open", refusing_open)
    code, _, err = invoke("apply", "--yes", *ONLY_PER_CALL, ".")
    assert code == 1, err
    assert f"locked/bot.py: error: {message}" in err
    assert "Traceback" not in err
    assert (two_folders / "locked" / "bot.py").read_text("utf-8") == PROGRAM
    assert (two_folders / "open" / "bot.py").read_text("utf-8") != PROGRAM
    assert sorted(p.name for p in (two_folders / "locked").iterdir()) == ["bot.py"]


def test_a_later_run_removes_the_temporaries_a_killed_run_left(two_folders: Path) -> None:
    folder = two_folders / "open"
    for path in (folder / ".bot.py.k1ll3d_x.memfix", folder / ".gone.py.abcdefgh.memfix"):
        path.write_text("half a fi", encoding="utf-8")
        os.utime(path, (OLD, OLD))
    code, _, err = invoke("apply", "--yes", *ONLY_PER_CALL, "open")
    assert code == 0, err
    assert sorted(p.name for p in (two_folders / "open").iterdir()) == ["bot.py"]


@contextlib.contextmanager
def held(path: Path) -> Iterator[None]:
    """`path` locked as a run writing it holds it."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


def test_a_later_run_removes_no_temporary_that_is_not_its_own_stale_one(
    two_folders: Path,
) -> None:
    folder = two_folders / "open"
    elsewhere = two_folders / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "notes.txt").write_text("mine\n", encoding="utf-8")
    os.utime(elsewhere / "notes.txt", (OLD, OLD))
    kept = {
        ".bot.py.w0rking_.memfix": "being written",  # locked by a live run
        ".bot.py.justnow_.memfix": "just made",  # too young to be stale
        ".bot.py.s0me0ne_.memfix": "another user's",
        ".bot.py.abc.memfix": "not the pattern",
        ".bot.py.abcdefgh.memfix.bak": "not the pattern",
        "bot.py.abcdefgh.memfix": "not the pattern",
    }
    for name, text in kept.items():
        (folder / name).write_text(text, encoding="utf-8")
        if name != ".bot.py.justnow_.memfix":
            os.utime(folder / name, (OLD, OLD))
    os.chown(folder / ".bot.py.s0me0ne_.memfix", os.geteuid() + 1, -1)
    os.symlink(elsewhere / "notes.txt", folder / ".bot.py.l1nk3d__.memfix")
    os.mkfifo(folder / ".bot.py.f1f0____.memfix")
    (folder / ".bot.py.f0lder__.memfix").mkdir()
    for name in (".bot.py.f1f0____.memfix", ".bot.py.f0lder__.memfix"):
        os.utime(folder / name, (OLD, OLD))
    (two_folders / "locked" / ".bot.py.n0tm1ne_.memfix").write_text("x", encoding="utf-8")
    os.utime(two_folders / "locked" / ".bot.py.n0tm1ne_.memfix", (OLD, OLD))
    before = sorted(p.name for p in folder.iterdir())
    with held(folder / ".bot.py.w0rking_.memfix"):
        code, _, err = invoke("apply", "--yes", *ONLY_PER_CALL, "open")
    assert code == 0, err
    assert (folder / "bot.py").read_text("utf-8") != PROGRAM
    assert sorted(p.name for p in folder.iterdir()) == before
    for name, text in kept.items():
        assert (folder / name).read_text("utf-8") == text
    assert (elsewhere / "notes.txt").read_text("utf-8") == "mine\n"
    assert (two_folders / "locked" / ".bot.py.n0tm1ne_.memfix").exists()  # no write there


def test_a_folder_swapped_for_a_link_after_the_check_takes_no_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "bot.py").write_text(PROGRAM, encoding="utf-8")
    tree = tmp_path / "tree"
    (tree / "app").mkdir(parents=True)
    path = tree / "app" / "bot.py"
    path.write_text(PROGRAM, encoding="utf-8")
    digest = hashlib.sha256(PROGRAM.encode()).hexdigest()
    after = PROGRAM + "# fixed\n"
    result = FileResult(str(path), PROGRAM, after, "", (), Status.CHANGED, digest=digest)
    checked = Gate._target

    def check_then_swap(self: Gate, where: str | Path) -> tuple[Path, Path]:
        found = checked(self, where)
        # Someone replaces the folder with a link out of the tree, just after the check.
        (tree / "app").rename(tree / "old")
        os.symlink(tmp_path / "outside", tree / "app")
        return found

    monkeypatch.setattr(Gate, "_target", check_then_swap)
    with pytest.raises(WriteError):
        Gate.at(tree).write_if_unchanged(result)
    assert (tmp_path / "outside" / "bot.py").read_text("utf-8") == PROGRAM
    assert sorted(p.name for p in (tmp_path / "outside").iterdir()) == ["bot.py"]
