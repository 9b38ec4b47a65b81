"""The markdown report: a pull-request description with one section per finding.

`memfix check --format markdown` and `memfix batch` print the same text. Secrets
quoted from the code are masked here: the description is meant to be shared.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from memfix.report.redact import redact
from memfix.results import FileResult, Finding, Fix
from memfix.rules.codemod import Codemod

_SECTION = re.compile(r"^## (.+)$", re.MULTILINE)

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
    out = [f"# {title}", ""]
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
        out += [
            "",
            f"## {number}. `{finding.codemod}` at `{result.path}:{finding.location}`",
            "",
            f"**What was wrong:** {finding.message}.",
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
            out += ["", "```diff", result.diff.rstrip("\n"), "```"]
    failed = [result for result in results if result.failed]
    if failed:
        out += ["", "## Files memfix could not process", ""]
        out += [f"- `{result.path}`: {result.error}" for result in failed]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(out))
    return redact(text.rstrip("\n") + "\n")
