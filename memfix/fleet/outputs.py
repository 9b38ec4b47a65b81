"""Every file a batch leaves under OUT, and how `--resume` tells a finished result.

Per repository NAME: `NAME.patch` (when there is a commit), `NAME.md` (not in an audit),
`NAME.jsonl`, then `NAME.done` last: a manifest with the outcome and the SHA-256 of
each file written. A result counts as complete only when its manifest is there and
every file still has its digest, so a result cut short is done again. A repository
that failed leaves nothing. An audit also writes `findings.jsonl` (every repository's
findings, in the order given) and `summary.md`.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from memfix.batch import RepoOutcome, RepoResult, RepoStatus
from memfix.errors import MemfixError
from memfix.files.write import Gate, WriteError
from memfix.report.markdown import inline_code

MANIFEST = ".done"


def _inside(out: Path, file_name: str) -> Path:
    # A name, not a path; where a link there leads, the gate judges.
    target = out / file_name
    if target.parent != out or file_name in ("", ".", ".."):
        raise MemfixError(f"{file_name}: refusing to write outside {out}")
    return target


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _files(result: RepoResult) -> list[tuple[str, bytes]]:
    files: list[tuple[str, bytes]] = []
    if result.patch is not None:
        files.append((f"{result.name}.patch", result.patch))
    if result.description is not None:
        files.append((f"{result.name}.md", result.description.encode("utf-8")))
    files.append((f"{result.name}.jsonl", result.jsonl.encode("utf-8")))
    return files


def write_result(out: Path, result: RepoResult, repo: Path) -> RepoOutcome:
    """Write `result`'s files under `out`, the manifest last; the outcome they record.

    Raises MemfixError when a file cannot be written.
    """
    if result.status is RepoStatus.FAILED:
        return _outcome(result, repo, out, ())
    gate = Gate.at(out)
    manifest = _inside(out, result.name + MANIFEST)
    try:
        manifest.unlink(missing_ok=True)  # until the files are all there, nothing is done
        digests: dict[str, str] = {}
        for file_name, data in _files(result):
            gate.write(_inside(out, file_name), data)
            digests[file_name] = _digest(data)
        record = _record(result, digests)
        gate.write(manifest, (json.dumps(record, sort_keys=True) + "\n").encode("utf-8"))
    except WriteError as error:
        raise MemfixError(str(error)) from None
    except OSError as error:
        raise MemfixError(f"{manifest}: cannot remove it: {error.strerror}") from None
    return _outcome(result, repo, out, digests)


def _record(result: RepoResult, digests: dict[str, str]) -> dict[str, Any]:
    return {
        "name": result.name,
        "status": result.status.value,
        "findings": result.findings,
        "fixes": result.fixes,
        "branch": result.branch,
        "error": result.error,
        "files": digests,
    }


def _outcome(result: RepoResult, repo: Path, out: Path, files: Iterable[str]) -> RepoOutcome:
    """The outcome of `result`, naming the patch and description among `files`."""
    written = set(files)
    patch, description = f"{result.name}.patch", f"{result.name}.md"
    return RepoOutcome(
        result.name,
        repo,
        result.status,
        result.findings,
        result.fixes,
        result.branch,
        result.error,
        out / patch if patch in written else None,
        out / description if description in written else None,
    )


def completed(out: Path, name: str, repo: Path) -> RepoOutcome | None:
    """The outcome recorded for `name` when its results under `out` are complete."""
    try:
        record = json.loads(_inside(out, name + MANIFEST).read_text(encoding="utf-8"))
        files: dict[str, str] = record["files"]
        for file_name, digest in files.items():
            if _digest(_inside(out, file_name).read_bytes()) != digest:
                return None
        result = RepoResult(
            name,
            str(repo),
            RepoStatus(record["status"]),
            int(record["findings"]),
            int(record["fixes"]),
            record["branch"],
            record["error"],
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError, MemfixError):
        return None  # missing, cut short or not ours: done again
    return _outcome(result, repo, out, files)


def write_audit(out: Path, outcomes: Sequence[RepoOutcome]) -> None:
    """Write `out/findings.jsonl` and `out/summary.md` from each repository's findings.

    Raises MemfixError when a file cannot be read back or written.
    """
    lines: list[str] = []
    for outcome in outcomes:
        if outcome.status is not RepoStatus.FAILED:
            lines += _read(out, f"{outcome.name}.jsonl").splitlines()
    records = [json.loads(line) for line in lines]
    gate = Gate.at(out)
    try:
        gate.write(out / "findings.jsonl", "".join(f"{line}\n" for line in lines).encode())
        gate.write(out / "summary.md", summary(records, outcomes).encode("utf-8"))
    except WriteError as error:
        raise MemfixError(f"{out}: cannot write the audit: {error}") from None


def _read(out: Path, file_name: str) -> str:
    try:
        return _inside(out, file_name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise MemfixError(f"{out / file_name}: cannot read it back: {error}") from None


def summary(records: Sequence[dict[str, Any]], outcomes: Sequence[RepoOutcome]) -> str:
    """The audit in markdown: findings and fixable ones per codemod, then per repository."""
    findings = [r for r in records if r.get("kind") == "finding"]
    per_codemod: Counter[str] = Counter(r["codemod"] for r in findings)
    fixable_codemod: Counter[str] = Counter(r["codemod"] for r in findings if r["fixable"])
    per_repo: Counter[str] = Counter(r["repository"] for r in findings)
    fixable_repo: Counter[str] = Counter(r["repository"] for r in findings if r["fixable"])
    out = [
        "# memfix audit",
        "",
        f"{len(findings)} finding(s) in {len(outcomes)} repositories, "
        f"{sum(fixable_codemod.values())} fixable.",
        "",
        "## Per codemod",
        "",
        "| codemod | findings | fixable |",
        "| --- | ---: | ---: |",
    ]
    for name in sorted(per_codemod):
        out.append(f"| {inline_code(name)} | {per_codemod[name]} | {fixable_codemod[name]} |")
    out += ["", "## Per repository", "", "| repository | findings | fixable | status |"]
    out.append("| --- | ---: | ---: | --- |")
    for o in outcomes:
        row = f"| {inline_code(o.name)} | {per_repo[o.name]} | {fixable_repo[o.name]} |"
        out.append(f"{row} {o.status.value} |")
    return "\n".join(out) + "\n"
