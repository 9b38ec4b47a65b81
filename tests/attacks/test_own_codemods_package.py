"""A user's own `codemods` package is never imported: memfix ships its codemods inside itself."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.fixtures import PROGRAM


def test_a_codemods_package_in_the_checked_folder_is_never_imported(tmp_path: Path) -> None:
    marker = tmp_path / "imported"
    package = tmp_path / "codemods"
    package.mkdir()
    (package / "__init__.py").write_text(
        f"open({str(marker)!r}, 'w').write('ran')\n", encoding="utf-8"
    )
    (package / "per_call_state.py").write_text(
        f"open({str(marker)!r}, 'w').write('ran')\n", encoding="utf-8"
    )
    (tmp_path / "bot.py").write_text(PROGRAM, encoding="utf-8")
    env = {**os.environ, "MEMFIX_NO_CACHE": "1", "PYTHONPATH": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "memfix", "check", "."],
        cwd=tmp_path,  # `python -m` puts this folder first on sys.path
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert "per-call-state" in done.stdout + done.stderr  # memfix's own codemods ran
    assert not marker.exists()
