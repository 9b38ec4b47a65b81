"""A property over generated trees: `apply --yes` never writes outside the tree it is given.

Each tree mixes real bug programs with links (inside the tree, out of it, loops,
dangling, to a device), FIFOs, unreadable files and folders, and bad files
(undecodable, NUL bytes, over the size limit, broken or newer syntax). Whatever the mix,
nothing outside the tree changes (bytes, modes, mtimes, links, names) and the run ends
with an exit code, never a traceback.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from memfix.cli import app
from tests.support.fixtures import FIXTURES, PROGRAM, parse_fixture

HISTORY = parse_fixture(FIXTURES / "in-process-history" / "lcel_store.py")[0]
HEADER = b"from langchain.memory import ConversationBufferMemory\n"
NEWER = PROGRAM + "\n\nclass Box[T]:\n    item: T\n"
LIMIT = 4000  # max-file-size in the tree's pyproject.toml: "huge" stays cheap to write

CONTENTS: dict[str, bytes] = {
    "bug": PROGRAM.encode(),
    "history": HISTORY.encode(),
    "plain": b"import os\n",
    "undecodable": HEADER + b"x = '\xff\xfe'\n",
    "nul": HEADER + b"x = 1\x00\n",
    "huge": HEADER + b"x = 1\n" * (LIMIT // 6 + 10),
    "broken": HEADER + b"def broken(:\n",
    "newer": NEWER.encode(),
}
LINKS = ("link in", "link out", "link out folder", "loop", "dangling", "device")
SPECIAL = ("fifo", "unreadable file", "unreadable folder")
KINDS = (*CONTENTS, *LINKS, *SPECIAL)


@dataclass(frozen=True)
class Entry:
    kind: str
    folder: str  # "" or a subfolder of the tree
    named: bool  # also given on the command line


entries = st.lists(
    st.builds(
        Entry,
        kind=st.sampled_from(KINDS),
        folder=st.sampled_from(["", "pkg", "pkg/deep"]),
        named=st.booleans(),
    ),
    min_size=1,
    max_size=7,
)


def make_outside(base: Path) -> None:
    """What the tree's links lead to: files a careless run would rewrite."""
    outside = base / "outside"
    (outside / "pkg").mkdir(parents=True)
    (outside / "bot.py").write_text(PROGRAM, encoding="utf-8")
    (outside / "pkg" / "chat.py").write_text(HISTORY, encoding="utf-8")
    (outside / "requirements.txt").write_text("flask\n", encoding="utf-8")
    (outside / "pyproject.toml").write_text(
        '[project]\nname = "x"\ndependencies = ["flask"]\n', encoding="utf-8"
    )


def make_entry(tree: Path, number: int, entry: Entry, denied: set[str]) -> Path:
    folder = tree / entry.folder
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"m{number}.py"
    depth = "../" * (len(Path(entry.folder).parts) + 1)  # from `folder` up to the base
    if entry.kind in CONTENTS:
        path.write_bytes(CONTENTS[entry.kind])
    elif entry.kind == "link in":
        (tree / "target.py").write_bytes(CONTENTS["bug"])
        path.symlink_to(os.path.relpath(tree / "target.py", folder))
    elif entry.kind == "link out":
        path.symlink_to(f"{depth}outside/bot.py")
    elif entry.kind == "link out folder":
        path = folder / f"out{number}"
        path.symlink_to(f"{depth}outside/pkg", target_is_directory=True)
    elif entry.kind == "loop":
        path.symlink_to(path.name)
    elif entry.kind == "dangling":
        path.symlink_to("missing.py")
    elif entry.kind == "device":
        path.symlink_to("/dev/zero")
    elif entry.kind == "fifo":
        os.mkfifo(path)
    elif entry.kind == "unreadable file":
        path.write_bytes(CONTENTS["bug"])
        denied.add(str(path))
    else:  # an unreadable folder, with a bug in it
        path = folder / f"locked{number}"
        path.mkdir()
        (path / "bot.py").write_bytes(CONTENTS["bug"])
        denied.add(str(path))
    return path


def snapshot(base: Path) -> dict[str, tuple[object, ...]]:
    """Everything under `base` but the tree, links not followed: kind, bytes, mode, mtime."""
    seen: dict[str, tuple[object, ...]] = {}
    for current, dirs, files in os.walk(base):
        if Path(current) == base:
            dirs.remove("tree")
        for name in [".", *dirs, *files]:
            path = os.path.join(current, name)
            status = os.lstat(path)
            if os.path.islink(path):
                seen[path] = ("link", os.readlink(path), status.st_mtime_ns)
            elif name == "." or os.path.isdir(path):
                seen[path] = ("folder", status.st_mode, status.st_mtime_ns)
            else:
                data = Path(path).read_bytes()
                seen[path] = ("file", data, status.st_mode, status.st_mtime_ns)
    return seen


def refusing(real: Callable[..., object], denied: set[str]) -> Callable[..., object]:
    """`real` (os.open or os.scandir), failing as for a mode-000 path on the denied paths.

    Root reads every file whatever its mode, so unreadability is simulated here.
    """

    def call(path: object = ".", *args: object, **kwargs: object) -> object:
        plain = isinstance(path, str | os.PathLike) and kwargs.get("dir_fd") is None
        if plain and os.path.abspath(os.fspath(path)) in denied:  # type: ignore[arg-type]
            raise PermissionError(13, "Permission denied", os.fspath(path))  # type: ignore[arg-type]
        return real(path, *args, **kwargs)

    return call


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(entries, st.booleans(), st.booleans())
def test_apply_never_writes_outside_the_tree_and_never_crashes(
    chosen: list[Entry], requirements_out: bool, pyproject_out: bool
) -> None:
    with tempfile.TemporaryDirectory(prefix="memfix-tree-") as folder:
        base = Path(folder)
        make_outside(base)
        tree = base / "tree"
        tree.mkdir()
        (tree / "pyproject.toml").write_text(f"[tool.memfix]\nmax-file-size = {LIMIT}\n", "utf-8")
        if requirements_out:
            (tree / "requirements.txt").symlink_to("../outside/requirements.txt")
        if pyproject_out:
            (tree / "pkg").mkdir()
            (tree / "pkg" / "pyproject.toml").symlink_to("../../outside/pyproject.toml")
        denied: set[str] = set()
        named = [make_entry(tree, n, e, denied) for n, e in enumerate(chosen)]
        given = [path for path, entry in zip(named, chosen, strict=True) if entry.named]
        paths = ["tree", *(str(path.relative_to(base)) for path in given)]
        before = snapshot(base)
        with pytest.MonkeyPatch.context() as patch:
            patch.chdir(base)
            patch.setattr(os, "open", refusing(os.open, denied))
            patch.setattr(os, "scandir", refusing(os.scandir, denied))
            result = CliRunner().invoke(
                app, ["apply", "--yes", "--jobs", "1", *paths], env={"MEMFIX_NO_CACHE": "1"}
            )
        output = result.stdout + result.stderr
        assert result.exception is None or isinstance(result.exception, SystemExit), output
        assert result.exit_code in (0, 1, 2), output
        assert "Traceback" not in output
        assert snapshot(base) == before, output
