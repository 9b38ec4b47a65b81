"""The plain-text report: one line per finding, as ruff and compilers print them."""

from __future__ import annotations

from collections.abc import Sequence

from memfix.results import FileResult, Finding, Fix


def finding_line(path: str, finding: Finding) -> str:
    """`path:line:col: codemod-name message`, with `[*]` when `apply` would fix it.

    A notebook's finding reads `path:cell N:line:col: ...`, as ruff prints them.
    """
    mark = ""
    if finding.fixable:
        mark = " [*]" if finding.fix is Fix.SAFE or finding.applied else " [unsafe fix]"
    return f"{path}:{finding.location}: {finding.codemod} {finding.message}{mark}"


def error_line(result: FileResult) -> str:
    """`path: error: ...` for a file memfix could not process (or `note:` for a skipped one)."""
    kind = "error" if result.failed else "note"
    return f"{result.path}: {kind}: {result.error}"


def findings_text(results: Sequence[FileResult]) -> str:
    lines = [finding_line(r.path, f) for r in results for f in r.findings]
    return "".join(line + "\n" for line in lines)
