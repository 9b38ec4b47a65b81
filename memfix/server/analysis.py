"""What memfix makes of one open document's text: its findings, and each codemod's fix.

Pure: the document's text, its path and its settings in, frozen values out. Each codemod
runs over the text on its own. A run of every codemod at once places a later codemod's
findings in the text as the earlier fixes left it, which is not the text the editor
shows; run alone, every finding is located in the document, and the quick fix of a
finding is exactly what `memfix apply --select NAME` writes for the file.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from memfix.config import Settings
from memfix.pipeline import engine
from memfix.results import FileResult, Finding
from memfix.rules.codemod import Codemod


@dataclass(frozen=True, slots=True)
class Problem:
    """Why the text, or one codemod's run over it, gave no result (internal: memfix's fault)."""

    message: str
    internal: bool


@dataclass(frozen=True, slots=True)
class Analysis:
    """The findings in `text`, and the text after each codemod that fixes something."""

    text: str
    findings: tuple[Finding, ...]
    fixes: tuple[tuple[str, str], ...] = ()  # (codemod name, text after its fix)
    problems: tuple[Problem, ...] = ()

    def fixed_by(self, codemod: str) -> str | None:
        """The text after `codemod`'s fix, or None when it changes nothing."""
        return dict(self.fixes).get(codemod)


def analyse(
    text: str, *, path: str, codemods: Sequence[type[Codemod]], settings: Settings
) -> Analysis:
    """Run each of `codemods` alone over `text` (see the module's docstring).

    Never raises for a problem in the text: a parse error ends the analysis with that one
    problem, and a codemod that fails is a problem while the others still run.
    """
    findings: list[Finding] = []
    fixes: list[tuple[str, str]] = []
    problems: list[Problem] = []
    for codemod in codemods:
        result = engine.fix_source(text, path=path, codemods=[codemod], settings=settings)
        if result.failed:
            problems.append(Problem(f"{path}: {result.error}", result.internal))
            if not result.internal:
                break  # the file itself: every other codemod would stop at the same place
            continue
        findings.extend(result.findings)
        if result.changed:
            fixes.append((codemod.NAME, result.after))
    findings.sort(key=lambda f: (f.line, f.column, f.codemod))
    return Analysis(text, tuple(findings), tuple(fixes), tuple(problems))


def fix_everything(
    text: str, *, path: str, codemods: Sequence[type[Codemod]], settings: Settings
) -> FileResult:
    """Every codemod's fix of `text` at once: what `memfix apply` writes for the file."""
    return engine.fix_source(text, path=path, codemods=codemods, settings=settings)


def beyond(analysis: Analysis, findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """The `findings` (of a run over the project) that the text alone does not show.

    They are what other modules tell about this one, matched by codemod and message,
    since a finding's message names the objects it is about.
    """
    known = {(f.codemod, f.message) for f in analysis.findings}
    return tuple(f for f in findings if (f.codemod, f.message) not in known)
