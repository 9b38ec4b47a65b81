"""Realistic programs in tests/fixtures/<codemod>/<case>.py: input, `# output`, expected.

An optional first line `# flags: --unsafe-fixes` sets flags. A fixture without an
`# output` line is a guard: no finding and no change. One whose output equals its input
is report-only: findings, and no change.
"""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).parents[1] / "fixtures"
CASES = sorted(FIXTURES.glob("*/*.py"))


def parse_fixture(path: Path) -> tuple[str, str | None, tuple[str, ...]]:
    text = path.read_text(encoding="utf-8")
    flags: tuple[str, ...] = ()
    if text.startswith("# flags:"):
        first, text = text.split("\n", 1)
        flags = tuple(first.removeprefix("# flags:").split())
    source, marker, expected = text.partition("# output\n")
    return source, (expected if marker else None), flags


ARTICLE = FIXTURES / "per-call-state" / "article_ask.py"
# The article's program without its two module-level demo calls.
PROGRAM = parse_fixture(ARTICLE)[0].split("\n\nprint(")[0] + "\n"
