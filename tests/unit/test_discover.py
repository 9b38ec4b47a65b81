"""Which files a run looks at: folders, git's own list, excludes, links."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from memfix.config import Settings
from memfix.errors import MissingPathError
from memfix.files.discover import discover, is_excluded


def touch(root: Path, *names: str) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x = 1\n", encoding="utf-8")


def names(found: list[Path], root: Path) -> list[str]:
    return [p.relative_to(root).as_posix() for p in found]


def test_walks_folders_with_default_excludes(tmp_path: Path) -> None:
    touch(
        tmp_path, "a.py", "pkg/b.py", "notes.txt", ".venv/c.py", "build/d.py", "node_modules/e.py"
    )
    assert names(discover([tmp_path], Settings()), tmp_path) == ["a.py", "pkg/b.py"]


def test_exclude_globs(tmp_path: Path) -> None:
    touch(tmp_path, "a.py", "gen/b.py", "pkg/c_pb2.py")
    settings = Settings(exclude=("gen", "*_pb2.py"))
    assert names(discover([tmp_path], settings), tmp_path) == ["a.py"]
    assert is_excluded(Path("pkg/sub/x.py"), ["pkg/sub"])


def test_git_lists_tracked_and_untracked_but_not_ignored(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    touch(tmp_path, "tracked.py", "new.py", "ignored.py", "out/gen.py")
    (tmp_path / ".gitignore").write_text("ignored.py\nout/\n", encoding="utf-8")
    subprocess.run(["git", "add", "tracked.py"], cwd=tmp_path, check=True)
    assert names(discover([tmp_path], Settings()), tmp_path) == ["new.py", "tracked.py"]


def test_a_named_file_is_always_taken(tmp_path: Path) -> None:
    touch(tmp_path, "build/x.py")
    assert discover([tmp_path / "build" / "x.py"], Settings()) == [tmp_path / "build" / "x.py"]


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(MissingPathError, match="no such file or folder"):
        discover([tmp_path / "nope"], Settings())


def test_links_out_of_the_tree_and_loops_are_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    inside = tmp_path / "inside"
    touch(outside, "secret.py")
    touch(inside, "a.py")
    os.symlink(outside / "secret.py", inside / "link.py")
    os.symlink(inside, inside / "loop")
    assert names(discover([inside], Settings()), inside) == ["a.py"]
