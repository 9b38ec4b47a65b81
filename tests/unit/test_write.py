"""write_if_unchanged: atomic, keeps mode and bytes it should, refuses stale results."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from memfix.config import Settings
from memfix.files import write
from memfix.files.write import WriteError, write_if_unchanged
from memfix.pipeline.engine import fix_bytes
from memfix.results import FileResult
from memfix.rules.registry import all_codemods
from tests.support.fixtures import PROGRAM


def fixed(path: Path) -> FileResult:
    result = fix_bytes(
        path.read_bytes(), path=str(path), codemods=all_codemods(), settings=Settings()
    )
    assert result.changed
    return result


def test_writes_after_and_keeps_mode(tmp_path: Path) -> None:
    path = tmp_path / "bot.py"
    path.write_text(PROGRAM, encoding="utf-8")
    path.chmod(0o751)
    result = fixed(path)
    write_if_unchanged(result)
    assert path.read_text("utf-8") == result.after
    assert stat.S_IMODE(path.stat().st_mode) == 0o751
    assert [p.name for p in tmp_path.iterdir()] == ["bot.py"]  # no temporary file left


def test_keeps_crlf_bom_and_encoding(tmp_path: Path) -> None:
    path = tmp_path / "bot.py"
    text = "# -*- coding: latin-1 -*-\n# caf\xe9\n" + PROGRAM
    path.write_bytes(text.replace("\n", "\r\n").encode("latin-1"))
    result = fixed(path)
    write_if_unchanged(result)
    data = path.read_bytes()
    assert data == result.after.encode("latin-1")
    assert data.count(b"\n") == data.count(b"\r\n")
    bom = tmp_path / "bom.py"
    bom.write_bytes(b"\xef\xbb\xbf" + PROGRAM.encode())
    write_if_unchanged(fixed(bom))
    assert bom.read_bytes().startswith(b"\xef\xbb\xbf")


def test_refuses_a_file_changed_since_it_was_read(tmp_path: Path) -> None:
    path = tmp_path / "bot.py"
    path.write_text(PROGRAM, encoding="utf-8")
    result = fixed(path)
    path.write_text(PROGRAM + "# edited meanwhile\n", encoding="utf-8")
    with pytest.raises(WriteError, match="changed on disk since it was read"):
        write_if_unchanged(result)
    assert path.read_text("utf-8").endswith("# edited meanwhile\n")


def test_refuses_a_read_only_file(tmp_path: Path) -> None:
    path = tmp_path / "bot.py"
    path.write_text(PROGRAM, encoding="utf-8")
    result = fixed(path)
    path.chmod(0o444)
    with pytest.raises(WriteError, match="read-only"):
        write_if_unchanged(result)
    assert path.read_text("utf-8") == PROGRAM


def test_failed_write_leaves_the_original(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "bot.py"
    path.write_text(PROGRAM, encoding="utf-8")
    result = fixed(path)

    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(write.os, "replace", disk_full)
    with pytest.raises(WriteError, match="No space left on device"):
        write_if_unchanged(result)
    assert path.read_text("utf-8") == PROGRAM
    assert [p.name for p in tmp_path.iterdir()] == ["bot.py"]


def test_writes_through_a_link(tmp_path: Path) -> None:
    real = tmp_path / "real.py"
    real.write_text(PROGRAM, encoding="utf-8")
    link = tmp_path / "link.py"
    os.symlink(real, link)
    write_if_unchanged(fixed(link))
    assert link.is_symlink()
    assert real.read_text("utf-8") != PROGRAM
