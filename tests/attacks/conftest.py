"""What the attack modules share."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty folder as the current folder, with memfix's result cache off."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MEMFIX_NO_CACHE", "1")
    return tmp_path
