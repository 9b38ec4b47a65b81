"""Decoding, diffs and validation on strings."""

from __future__ import annotations

import subprocess
from pathlib import Path

import libcst as cst
import pytest

from memfix.files.decode import DecodeError, decode_source, encode_source
from memfix.source.diff import unified_diff
from memfix.source.validate import validation_error


@pytest.mark.parametrize(
    "data",
    [
        b"x = 1\n",
        b"\xef\xbb\xbfx = 1\r\n",
        "# coding: latin-1\ns = '\xe9'\n".encode("latin-1"),
        b"a = 1\x0cb = 2\n",
        b"",
    ],
    ids=["utf-8", "bom crlf", "latin-1 cookie", "form feed", "empty"],
)
def test_decode_round_trips(data: bytes) -> None:
    decoded = decode_source(data)
    assert encode_source(decoded.text, decoded.encoding, decoded.bom) == data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"x = '\xff'\n", "not valid utf-8: byte 0xff at offset 5"),
        (b"\x00\x01binary", "binary file"),
        (b"# coding: nonsense\n", "unknown encoding: nonsense"),
    ],
)
def test_decode_errors(data: bytes, message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        decode_source(data)


def test_diff_applies_with_git_even_without_final_newline(tmp_path: Path) -> None:
    before, after = "a = 1\nb = 2", "a = 1\nb = 3"
    (tmp_path / "f.py").write_text(before, encoding="utf-8")
    diff = unified_diff(before, after, "f.py")
    assert diff.startswith("--- a/f.py\n+++ b/f.py\n")
    subprocess.run(["git", "apply", "-"], input=diff.encode(), cwd=tmp_path, check=True)
    assert (tmp_path / "f.py").read_text("utf-8") == after
    assert unified_diff(before, before, "f.py") == ""


def test_diff_keeps_form_feeds_in_one_line() -> None:
    diff = unified_diff("a = 1\x0cb = 2\nc = 3\n", "a = 1\x0cb = 2\nc = 4\n", "f.py")
    assert " a = 1\x0cb = 2\n" in diff


@pytest.mark.parametrize(
    ("after", "problem"),
    [
        ("def f(:\n", "does not parse"),
        ("x = 1\nreturn x\n", "does not compile"),
        ("x = 1\nprint(y)\n", "reads undefined name(s): y"),
    ],
)
def test_validation_rejects(after: str, problem: str) -> None:
    error = validation_error(cst.parse_module("x = 1\n"), after, "f.py")
    assert error is not None and problem in error


def test_validation_accepts_names_already_unbound() -> None:
    before = cst.parse_module("print(y)\n")
    assert validation_error(before, "print(y)\nprint(len(__file__))\n", "f.py") is None
