"""The content-hash cache: a hit returns the very result, any change to the inputs misses."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from memfix.config import Settings
from memfix.pipeline import cache
from memfix.pipeline.engine import fix_bytes
from memfix.results import FileResult, Status
from memfix.rules.registry import all_codemods
from tests.support.fixtures import PROGRAM

CODEMODS = all_codemods()


def _result(data: bytes) -> FileResult:
    return fix_bytes(data, path="app.py", codemods=CODEMODS, settings=Settings())


def test_a_stored_result_comes_back_equal(tmp_path: Path) -> None:
    store = cache.open_cache(CODEMODS, Settings(), folder=tmp_path)
    assert store is not None
    result = _result(PROGRAM.encode())
    assert result.changed and result.findings
    store.store(result)
    assert store.load(result.digest, "app.py") == result
    assert store.load(result.digest, "other.py") is None


def test_failed_results_are_never_stored(tmp_path: Path) -> None:
    store = cache.open_cache(CODEMODS, Settings(), folder=tmp_path)
    assert store is not None
    result = _result(b"from langchain.memory import ConversationBufferMemory\ndef (:\n")
    assert result.status is Status.FAILED
    store.store(result)
    assert store.load(result.digest, "app.py") is None


def test_settings_and_codemods_change_the_run_key() -> None:
    key = cache.run_key(CODEMODS, Settings())
    assert key == cache.run_key(CODEMODS, Settings(jobs=3))
    assert key != cache.run_key(CODEMODS, Settings(unsafe_fixes=True))
    assert key != cache.run_key(CODEMODS[:1], Settings())


def test_version_changes_the_run_key(monkeypatch: pytest.MonkeyPatch) -> None:
    key = cache.run_key(CODEMODS, Settings())
    monkeypatch.setattr(cache, "__version__", "999")
    assert key != cache.run_key(CODEMODS, Settings())


def test_the_environment_variable_turns_it_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(cache.DISABLE_VARIABLE, "1")
    assert cache.open_cache(CODEMODS, Settings(), folder=tmp_path) is None
    monkeypatch.setenv(cache.DISABLE_VARIABLE, "0")
    assert cache.open_cache(CODEMODS, Settings(), folder=tmp_path) is not None
    assert cache.open_cache(CODEMODS, Settings(), folder=tmp_path, enabled=False) is None


def test_a_broken_entry_reads_as_a_miss(tmp_path: Path) -> None:
    store = cache.open_cache(CODEMODS, Settings(), folder=tmp_path)
    assert store is not None
    result = replace(_result(b"import os\n"), path="app.py")
    store.store(result)
    for entry in tmp_path.rglob("*.json"):
        entry.write_text("{not json")
    assert store.load(result.digest, "app.py") is None
