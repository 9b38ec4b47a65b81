"""The markdown report: a pull-request description with one section per finding.

`memfix check --format markdown` and `memfix batch` print the same text. Secrets
quoted from the code are masked here: the description is meant to be shared.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from memfix.report.redact import redact
from memfix.report.text import printable
from memfix.results import FileResult, Finding, Fix
from memfix.rules.codemod import Codemod

_SECTION = re.compile(r"^## (.+)$", re.MULTILINE)
_BACKTICKS = re.compile(r"`+")

_REVIEW = {
    Fix.SAFE: (
        "Run a conversation twice and check that the second turn sees the first; with "
        "several users, check that one user never sees another user's turns."
    ),
    Fix.UNSAFE: (
        "The fix changes a signature or a return shape: check every caller, then run a "
        "conversation twice and check that the second turn sees the first."
    ),
    Fix.NONE: "memfix does not rewrite this: fix it by hand, or suppress it with a reason.",
}


def doc_sections(documentation: str) -> dict[str, str]:
    """A codemod's documentation split on its `## ` headings."""
    parts = _SECTION.split(documentation)
    pairs = zip(parts[1::2], parts[2::2], strict=True)
    return {title.strip(): body.strip() for title, body in pairs}


def _longest_backtick_run(text: str) -> int:
    return max((len(run) for run in _BACKTICKS.findall(text)), default=0)


def inline_code(text: str) -> str:
    """`text` as one line of inline code that nothing in it can close or break.

    Control characters are shown escaped (a newline would end a heading), and the
    backtick fence is longer than any run of backticks inside.
    """
    text = printable(text)
    fence = "`" * (_longest_backtick_run(text) + 1)
    # A code span drops one space at each end when both are there: pad what needs it.
    if text.startswith("`") or text.endswith("`") or (text[:1] == text[-1:] == " "):
        text = f" {text} "
    return f"{fence}{text}{fence}"


def code_block(text: str, language: str = "") -> list[str]:
    """The lines of a fenced block holding `text`, fenced longer than any backtick run in it.

    Each line keeps its tabs and a CRLF ending, and shows its other control characters
    escaped (the description is also read in terminals).
    """
    fence = "`" * max(3, _longest_backtick_run(text) + 1)
    return [fence + language, *map(_code_line, text.split("\n")), fence]


def _code_line(line: str) -> str:
    body, ending = (line[:-1], "\r") if line.endswith("\r") else (line, "")
    return "\t".join(map(printable, body.split("\t"))) + ending


def _what_changed(result: FileResult, finding: Finding) -> str:
    if finding.applied and result.changed:
        return "Rewritten by memfix; the diff of the file is below."
    if finding.fixable and finding.fix is Fix.UNSAFE:
        return "Not changed: the fix is unsafe and needs `--unsafe-fixes`."
    if finding.fixable:
        return "Not changed in this run."
    return "Not changed: memfix reports this and leaves the fix to you."


def to_markdown(
    results: Sequence[FileResult],
    codemods: Mapping[str, type[Codemod]],
    *,
    title: str = "Persist LangChain chat memory",
) -> str:
    """The pull-request description of `results` (`codemods` by name, for their docs)."""
    findings = [(result, f) for result in results for f in result.findings]
    fixed = sum(f.applied and result.changed for result, f in findings)
    files = len({result.path for result, _ in findings})
    out = [f"# {printable(title)}", ""]
    if not findings:
        out.append(f"memfix found nothing to change in {len(results)} file(s).")
    else:
        out.append(
            f"memfix found {len(findings)} finding(s) in {files} file(s); this change fixes "
            f"{fixed} and leaves {len(findings) - fixed} for review."
        )
    shown: set[str] = set()
    for number, (result, finding) in enumerate(findings, 1):
        codemod = codemods.get(finding.codemod)
        sections = doc_sections(codemod.documentation()) if codemod else {}
        why = sections.get("Why is this bad?", "")
        safety = sections.get("Fix safety", finding.fix.value)
        place = inline_code(f"{result.path}:{finding.location}")
        out += [
            "",
            f"## {number}. `{finding.codemod}` at {place}",
            "",
            f"**What was wrong:** {printable(finding.message)}.",
            "",
            f"**Why history was lost or shared:** {why}" if why else "",
            "",
            f"**What changed:** {_what_changed(result, finding)}",
            "",
            f"**Fix safety ({finding.fix.value}):** {safety}",
            "",
            f"**What the reviewer must check:** {_REVIEW[finding.fix]}",
        ]
        if finding.applied and result.changed and result.path not in shown:
            shown.add(result.path)
            out += ["", *code_block(result.diff.rstrip("\n"), "diff")]
    failed = [result for result in results if result.failed]
    if failed:
        out += ["", "## Files memfix could not process", ""]
        out += [
            f"- {inline_code(result.path)}: {printable(result.error or '')}" for result in failed
        ]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(out))
    return redact(text.rstrip("\n") + "\n")
