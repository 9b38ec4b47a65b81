"""Inputs the fuzzer or the property tests once broke memfix with, replayed on every run."""

from __future__ import annotations

from pathlib import Path

import pytest

from memfix.config import Settings
from memfix.pipeline.engine import fix_bytes
from memfix.results import Status
from memfix.rules.registry import all_codemods
from tests.support.faults import memfix_fault

REGRESSIONS = sorted((Path(__file__).parent / "regressions").iterdir())


@pytest.mark.parametrize("path", REGRESSIONS, ids=lambda p: p.name)
def test_regression(path: Path) -> None:
    data = path.read_bytes()
    result = fix_bytes(
        data, path=path.name, codemods=all_codemods(), settings=Settings(prefilter=False)
    )
    assert memfix_fault(result) is None, result.error
    if result.status is not Status.CHANGED:
        assert result.after == result.before
    else:
        assert result.findings, "a change with no finding"
