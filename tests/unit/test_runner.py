"""The runner over files: the result cache never changes what a run reports."""

from __future__ import annotations

from pathlib import Path

import pytest

from memfix.config import Settings
from memfix.pipeline import cache
from memfix.pipeline.runner import fix_paths
from tests.support.fixtures import PROGRAM

SETTINGS = Settings(jobs=1)


def _tree(folder: Path) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / "app.py").write_text(PROGRAM)
    (folder / "plain.py").write_text("import os\n")
    (folder / "broken.py").write_text("import langchain\nConversationBufferMemory = (\n")
    return folder


def test_a_warm_run_returns_the_cold_runs_results(tmp_path: Path) -> None:
    tree, store = _tree(tmp_path / "tree"), tmp_path / "cache"
    cold = fix_paths([tree], SETTINGS, cache_dir=store)
    assert list(store.rglob("*.json")), "the cold run stores its results"
    warm = fix_paths([tree], SETTINGS, cache_dir=store)
    uncached = fix_paths([tree], SETTINGS, cache=False)
    assert warm == cold == uncached
    assert any(result.changed for result in warm)


def test_a_changed_file_misses(tmp_path: Path) -> None:
    tree, store = _tree(tmp_path / "tree"), tmp_path / "cache"
    fix_paths([tree / "app.py"], SETTINGS, cache_dir=store)
    (tree / "app.py").write_text("import os\n")
    [result] = fix_paths([tree / "app.py"], SETTINGS, cache_dir=store)
    assert not result.changed and result.findings == ()


def test_failed_files_are_not_stored(tmp_path: Path) -> None:
    tree, store = _tree(tmp_path / "tree"), tmp_path / "cache"
    [result] = fix_paths([tree / "broken.py"], SETTINGS, cache_dir=store)
    assert result.failed
    assert not list(store.rglob("*.json"))


def test_the_environment_variable_turns_the_cache_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(cache.DISABLE_VARIABLE, "1")
    tree, store = _tree(tmp_path / "tree"), tmp_path / "cache"
    fix_paths([tree], SETTINGS, cache_dir=store)
    assert not store.exists()
