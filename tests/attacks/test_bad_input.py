"""Bad input: a one-line error naming the file, the run goes on, the file stays as it was."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from memfix.cli import app
from memfix.pipeline import runner
from tests.support.fixtures import PROGRAM

# Enough LangChain vocabulary that the prefilter hands the file to the parser.
HEADER = "from langchain.memory import ConversationBufferMemory\n"

BAD_FILES: dict[str, bytes] = {
    "syntax_error.py": (HEADER + "def broken(:\n    pass\n").encode(),
    "python2.py": (HEADER + 'print "hello"\nexec "x = 1"\n').encode(),
    "latin1_no_cookie.py": (HEADER + "name = 'caf\xe9'\n").encode("latin-1"),
    "invalid_bytes.py": HEADER.encode() + b"x = '\xff\xfe\xfa'\n",
    "bad_cookie.py": b"# -*- coding: klingon -*-\n" + HEADER.encode(),
    "binary.py": b"\x7fELF\x02\x01\x01\x00\x00\x00" + HEADER.encode(),
    "mixed_indentation.py": (HEADER + "def f():\n\tif True:\n        return 1\n").encode(),
}


def invoke(command: str, *args: str) -> tuple[int, str, str]:
    """`memfix COMMAND ARGS` with per-call-state alone, which fixes PROGRAM completely:
    the exit codes then speak of the bad files only."""
    result = CliRunner().invoke(app, [command, "--select", "per-call-state", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name, data in BAD_FILES.items():
        (tmp_path / name).write_bytes(data)
    (tmp_path / "good.py").write_text(PROGRAM, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("command", [["check"], ["apply", "--dry-run"], ["apply", "--yes"]])
def test_each_bad_file_gets_one_line_and_the_rest_is_fixed(tree: Path, command: list[str]) -> None:
    code, _, err = invoke(*command)
    assert code == 1
    errors = [line for line in err.splitlines() if ": error: " in line]
    assert sorted(line.split(":", 1)[0] for line in errors) == sorted(BAD_FILES)
    for name, data in BAD_FILES.items():
        assert (tree / name).read_bytes() == data, name
    fixed = (tree / "good.py").read_text("utf-8") != PROGRAM
    assert fixed is (command == ["apply", "--yes"])


def test_latin1_with_cookie_is_fixed_in_latin1(tmp_path: Path) -> None:
    path = tmp_path / "latin.py"
    path.write_bytes(("# -*- coding: latin-1 -*-\n# caf\xe9\n" + PROGRAM).encode("latin-1"))
    code, _, err = invoke("apply", "--yes", str(path))
    assert code == 0, err
    text = path.read_bytes().decode("latin-1")
    assert "# caf\xe9\n" in text and "\nmemory = ConversationBufferMemory()\n" in text


@pytest.mark.parametrize(
    "transform",
    [
        lambda text: text.replace("\n", "\r\n"),
        lambda text: text.replace("\n", "\r\n", 3),
        lambda text: text.replace("    ", "\t"),
        lambda text: "\x0c\n" + text,
        lambda text: "\ufeff" + text,
    ],
    ids=["crlf", "mixed line endings", "tabs", "form feed", "bom"],
)
def test_odd_but_valid_files_are_fixed_and_keep_their_form(tmp_path: Path, transform) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "bot.py"
    original = transform(PROGRAM)
    path.write_bytes(original.encode("utf-8"))
    code, _, err = invoke("apply", "--yes", str(path))
    assert code == 0, err
    written = path.read_bytes().decode("utf-8")
    assert "\nmemory = ConversationBufferMemory()" in written.replace("\r\n", "\n")
    assert written.startswith("\ufeff") is original.startswith("\ufeff")
    if "\r\n" in original and "\n" not in original.replace("\r\n", ""):
        assert "\n" not in written.replace("\r\n", "")  # every line still ends in CRLF
    assert invoke("apply", "--yes", str(path))[0] == 0  # idempotent


def test_empty_file_and_long_lines(tmp_path: Path) -> None:
    (tmp_path / "empty.py").write_bytes(b"")
    long_line = "x = '" + "a" * 500_000 + "'\n"
    (tmp_path / "long.py").write_text(HEADER + long_line, encoding="utf-8")
    code, out, err = invoke("check", str(tmp_path))
    assert code == 0, err
    assert out == ""


@pytest.mark.parametrize("terms", [400, 50_000])
def test_deeply_nested_code_is_refused_not_crashed(tmp_path: Path, terms: int) -> None:
    # A memory is built here, so memfix has to read the whole file.
    deep = HEADER + "memory = ConversationBufferMemory()\nx = " + " + ".join(["1"] * terms) + "\n"
    (tmp_path / "deep.py").write_text(deep, encoding="utf-8")
    (tmp_path / "good.py").write_text(PROGRAM, encoding="utf-8")
    code, _, err = invoke("apply", "--yes", str(tmp_path))
    assert code == 1
    assert "deep.py: error: too deeply nested for memfix to analyse" in err
    assert (tmp_path / "deep.py").read_text("utf-8") == deep
    assert (tmp_path / "good.py").read_text("utf-8") != PROGRAM


def test_file_over_the_size_limit_is_skipped_with_a_note(tmp_path: Path) -> None:
    big = tmp_path / "big.py"
    big.write_text(HEADER + "x = 1\n" * 2_000_000, encoding="utf-8")  # about 12 MB
    code, _, err = invoke("check", "-v", str(tmp_path))
    assert code == 0
    assert f"{big.as_posix()}: note: skipped:" in err or "big.py: note: skipped:" in err


def test_links_loops_and_folders_named_like_files(tmp_path: Path) -> None:
    outside = tmp_path / "outside.py"
    outside.write_text(PROGRAM, encoding="utf-8")
    tree = tmp_path / "tree"
    tree.mkdir()
    os.symlink(outside, tree / "link_out.py")
    os.symlink(tree, tree / "loop")
    (tree / "folder.py").mkdir()
    (tree / "folder.py" / "inner.py").write_text(PROGRAM, encoding="utf-8")
    code, out, _ = invoke("check", str(tree))
    assert code == 1
    assert "inner.py" in out
    assert "link_out.py" not in out and "outside.py" not in out


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "secret.py"
    path.write_text(PROGRAM, encoding="utf-8")
    (tmp_path / "good.py").write_text(PROGRAM, encoding="utf-8")
    if os.geteuid() == 0:  # root reads every file: make the read fail instead
        real_open = open

        def refusing_open(file: object, *args: object, **kwargs: object) -> object:
            if str(file).endswith("secret.py"):
                raise PermissionError(13, "Permission denied", str(file))
            return real_open(file, *args, **kwargs)  # type: ignore[call-overload]

        monkeypatch.setattr(runner, "open", refusing_open, raising=False)
    else:
        path.chmod(0)
    code, out, err = invoke("check", str(tmp_path))
    assert code == 1
    assert "secret.py: error: cannot read" in err
    assert "good.py:" in out  # the run went on


def test_read_only_file_on_apply(tmp_path: Path) -> None:
    path = tmp_path / "bot.py"
    path.write_text(PROGRAM, encoding="utf-8")
    path.chmod(0o444)
    code, _, err = invoke("apply", "--yes", str(path))
    assert code == 1
    assert "bot.py: error: the file is read-only" in err
    assert path.read_text("utf-8") == PROGRAM


def test_missing_path(tmp_path: Path) -> None:
    code, _, err = invoke("check", str(tmp_path / "nope.py"))
    assert code == 2
    assert err.strip().endswith("nope.py: no such file or folder")
