"""Realistic programs in tests/fixtures/<codemod>/<case>.py: input, `# output`, expected.

An optional first line `# flags: --unsafe-fixes` sets flags. A fixture without an
`# output` line is a guard: no finding and no change. One whose output equals its input
is report-only: findings, and no change.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from memfix.rules.registry import by_name
from memfix.testing import run
from tests.support.fixtures import CASES, parse_fixture


@pytest.mark.parametrize("path", CASES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_fixture(path: Path) -> None:
    source, expected, flags = parse_fixture(path)
    codemod = by_name(path.parent.name)
    result = run(codemod, source, flags)
    assert result.error is None, result.error
    if expected is None:
        assert result.findings == (), [f.message for f in result.findings]
        assert result.after == source
        return
    assert result.findings, "expected at least one finding"
    assert result.after == expected, result.diff
    again = run(codemod, result.after, flags)
    assert again.after == result.after, f"not idempotent:\n{again.diff}"
