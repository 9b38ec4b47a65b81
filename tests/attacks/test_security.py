"""memfix never imports, executes or evaluates the code it reads."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from memfix.cli import app
from tests.support.fixtures import PROGRAM


def booby_trap(marker: Path) -> str:
    """A module that writes `marker` if it is ever imported or run."""
    return (
        f"from pathlib import Path\nPath({str(marker)!r}).write_text('ran')\n"
        "if __name__ == '__main__':\n    Path('main').write_text('ran')\n"
    )


@pytest.mark.parametrize("command", [["check"], ["apply", "--dry-run"], ["apply", "--yes"]])
def test_code_under_analysis_is_never_run(
    tmp_path: Path, command: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = tmp_path / "marker"
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bot.py").write_text(booby_trap(marker) + PROGRAM, encoding="utf-8")
    (tmp_path / "conftest.py").write_text(booby_trap(marker), encoding="utf-8")
    (tmp_path / "__init__.py").write_text(booby_trap(marker), encoding="utf-8")
    (tmp_path / "setup.py").write_text(booby_trap(marker), encoding="utf-8")
    CliRunner().invoke(app, [*command, str(tmp_path)])
    assert not marker.exists()


def test_subprocess_run_does_not_touch_sys_path_of_the_target(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    (tmp_path / "langchain.py").write_text(booby_trap(marker), encoding="utf-8")
    (tmp_path / "bot.py").write_text(PROGRAM, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "memfix", "check", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path.parent,
    )
    assert done.returncode == 1, done.stderr
    assert not marker.exists()
