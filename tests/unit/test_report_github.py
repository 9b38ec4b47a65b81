"""GitHub workflow commands: one annotation per finding, escaped as Actions expects."""

from __future__ import annotations

from memfix.report.github import to_github
from memfix.results import FileResult, Finding, Fix, Status


def finding(message: str, *, fixed: bool = True) -> Finding:
    return Finding("per-call-state", message, 8, 14, Fix.SAFE, fixed, fixed)


def test_one_warning_per_finding() -> None:
    result = FileResult("app/bot.py", "", "", "", (finding("memory rebuilt"),), Status.UNCHANGED)
    assert to_github([result]) == (
        "::warning file=app/bot.py,line=8,col=14,title=memfix per-call-state::"
        "memory rebuilt (fixable with `memfix apply`)\n"
    )


def test_escaping_and_masking() -> None:
    result = FileResult(
        "a,b:c.py",
        "",
        "",
        "",
        (finding("100% lost\nsee redis://u:hunter2@host/0", fixed=False),),
        Status.UNCHANGED,
    )
    assert to_github([result]) == (
        "::warning file=a%2Cb%3Ac.py,line=8,col=14,title=memfix per-call-state::"
        "100%25 lost%0Asee redis://u:****@host/0\n"
    )


def test_failed_file_is_an_error() -> None:
    failed = FileResult("bad.py", "", "", "", (), Status.FAILED, "syntax error at line 1")
    assert to_github([failed]) == "::error file=bad.py,title=memfix::syntax error at line 1\n"
