"""A bug in memfix outside the per-file work is one line on stderr and exit 2, not a traceback."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from memfix import cli
from memfix.pipeline import runner
from tests.support.fixtures import PROGRAM


def boom(*args: object, **kwargs: object) -> None:
    raise RuntimeError("the runner broke\n\x1b[31mred")


@pytest.mark.parametrize("command", [["check"], ["apply", "--dry-run"], ["apply", "--yes"]])
def test_an_unexpected_exception_exits_2_with_one_line(
    command: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "bot.py").write_text(PROGRAM, encoding="utf-8")
    monkeypatch.setattr(runner, "fix_paths", boom)
    monkeypatch.setattr(sys, "argv", ["memfix", *command, str(tmp_path)])
    with pytest.raises(SystemExit) as done:
        cli.main()
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if "internal error" in line]
    assert len(lines) == 1 and "RuntimeError: the runner broke" in lines[0]
    assert "\x1b" not in err  # the message is escaped for the terminal
    assert (tmp_path / "bot.py").read_text(encoding="utf-8") == PROGRAM
