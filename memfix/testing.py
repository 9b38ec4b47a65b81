"""Helpers for testing codemods: each codemod's own examples become test cases."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from memfix.config import Settings, Target
from memfix.pipeline.engine import fix_source
from memfix.results import FileResult, Status
from memfix.rules.codemod import Codemod, Invalid, Valid


@dataclass(frozen=True, slots=True)
class Example:
    """One VALID or INVALID example of one codemod."""

    codemod: type[Codemod]
    case: Valid | Invalid
    label: str

    def __str__(self) -> str:
        return self.label


def examples(codemod: type[Codemod]) -> Iterator[Example]:
    """The codemod's VALID then INVALID examples, each labelled `name/VALID-1`, ..."""
    for number, valid in enumerate(codemod.VALID, 1):
        yield Example(codemod, valid, f"{codemod.NAME}/VALID-{number}")
    for number, invalid in enumerate(codemod.INVALID, 1):
        yield Example(codemod, invalid, f"{codemod.NAME}/INVALID-{number}")


def settings_for(flags: Sequence[str]) -> Settings:
    """Settings for the flags an example or fixture names: `--unsafe-fixes`, `--target X`.

    Raises ValueError for any other flag, or a target memfix does not have.
    """
    rest = list(flags)
    target = Target.RWMH
    if "--target" in rest:
        at = rest.index("--target")
        value = rest[at + 1] if at + 1 < len(rest) else ""
        if value not in {t.value for t in Target}:
            raise ValueError(f"unknown target in example: {value!r}")
        target = Target(value)
        del rest[at : at + 2]
    unknown = set(rest) - {"--unsafe-fixes"}
    if unknown:
        raise ValueError(f"unknown flag(s) in example: {sorted(unknown)}")
    return Settings(unsafe_fixes="--unsafe-fixes" in rest, target=target)


def run(codemod: type[Codemod], source: str, flags: Sequence[str] = ()) -> FileResult:
    """Run one codemod over `source` as the engine would, without the prefilter."""
    return fix_source(source, path="example.py", codemods=[codemod], settings=settings_for(flags))


def check_example(example: Example) -> None:
    """Findings iff INVALID, the expected text, and a second run that changes nothing."""
    case = example.case
    result = run(example.codemod, case.source, case.flags)
    assert result.status is not Status.FAILED, result.error
    if isinstance(case, Valid):
        assert result.findings == (), [f.message for f in result.findings]
        assert result.after == case.source
        return
    assert result.findings, "an INVALID example produced no finding"
    expected = case.source if case.expected is None else case.expected
    assert result.after == expected, result.diff
    if case.expected is None:
        assert not any(f.applied for f in result.findings)
    again = run(example.codemod, result.after, case.flags)
    assert again.after == result.after, f"not idempotent:\n{again.diff}"
    if case.expected is not None:
        assert not any(f.fixed for f in again.findings), "the fix left a fixable finding"
