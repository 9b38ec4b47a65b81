"""`memfix batch`: migrate many git repositories, one branch, commit, patch and description each.

Per repository: refuse a dirty work tree (unless allowed), run the fixes, then either
commit them on a new branch (git runs nothing the repository's config names) or, with
`dry_run`, build the same commit out of any branch. Either way `OUT/<name>.patch` (for
`git am`), `OUT/<name>.md` (the pull-request description) and `OUT/<name>.jsonl` (the
findings) are written, then `OUT/<name>.done` (see `memfix.fleet.outputs`). With `audit`
nothing in the repository changes: only the findings are written. A repository whose
migration fails part way is put back as it was, and never stops the others.

`process` is the work on one repository: data in, data out, writing nothing under OUT;
`memfix.fleet` runs it on threads (`memfix.fleet.local.run_batch`) or on Ray, and writes
what it returns.
"""

from __future__ import annotations

import enum
import json
import os
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from memfix.config import load_settings
from memfix.errors import MemfixError
from memfix.files import git
from memfix.files.decode import encode_source
from memfix.files.write import Gate, WriteError
from memfix.report.jsonl import to_jsonl
from memfix.report.markdown import to_markdown
from memfix.results import FileResult, Status, failed_result
from memfix.rules import registry
from memfix.rules.codemod import Codemod
from memfix.source.diff import unified_diff

DEFAULT_BRANCH = "memfix/persist-memory"

# (repo name, files done, files in all) after each file of a repository
FileProgress = Callable[[str, int, int], None]


class RepoStatus(enum.Enum):
    CLEAN = "clean"  # nothing found
    MIGRATED = "migrated"  # every finding fixed and committed
    PATCHED = "patched"  # --dry-run: every finding fixed in the patch, nothing committed
    FINDINGS = "findings"  # findings or unprocessable files left
    FAILED = "failed"  # the repository could not be migrated at all


@dataclass(frozen=True, slots=True)
class BatchOptions:
    out: Path
    branch: str = DEFAULT_BRANCH
    dry_run: bool = False
    allow_dirty: bool = False
    jobs: int = 1
    resume: bool = False  # skip repositories whose results in OUT are complete
    audit: bool = False  # findings only: no branch, commit, patch or description


@dataclass(frozen=True, slots=True)
class RepoOutcome:
    """What `batch` made of one repository."""

    name: str  # the file name used under OUT/
    path: Path
    status: RepoStatus
    findings: int = 0
    fixes: int = 0
    branch: str | None = None
    error: str | None = None
    patch: Path | None = None
    description: Path | None = None


@dataclass(frozen=True, slots=True)
class RepoResult:
    """What `process` made of one repository, as data: nothing of it is on disk yet."""

    name: str
    path: str
    status: RepoStatus
    findings: int = 0
    fixes: int = 0
    branch: str | None = None
    error: str | None = None
    patch: bytes | None = None  # for `git am`; None when there is no commit
    description: str | None = None  # the pull-request description; None in an audit
    jsonl: str = ""  # the findings, one JSON object a line, each naming the repository


def failed(name: str, repo: Path | str, error: str) -> RepoResult:
    """The result of a repository that could not be processed at all."""
    return RepoResult(name, str(repo), RepoStatus.FAILED, error=error)


_UNSAFE_CHARACTERS = re.compile(r"[^A-Za-z0-9._-]+")


def output_names(repos: Sequence[Path]) -> list[str]:
    """A distinct, harmless file name per repository: no folders, `..` or odd characters."""
    names: list[str] = []
    taken: set[str] = set()
    for repo in repos:
        base = _UNSAFE_CHARACTERS.sub("_", repo.resolve().name).strip("._-")[:80] or "repo"
        name, number = base, 1
        while name.lower() in taken:
            number += 1
            name = f"{base}-{number}"
        taken.add(name.lower())
        names.append(name)
    return names


def commit_message(results: Sequence[FileResult]) -> str:
    """The commit message: a subject, then each codemod with the fixes it made."""
    counts = Counter(f.codemod for r in results if r.changed for f in r.findings if f.applied)
    lines = [
        f"- {name}: {count} {'fix' if count == 1 else 'fixes'}" for name, count in counts.items()
    ]
    return "memfix: persist chat memory\n\n" + "\n".join(lines) + "\n"


def read_repos_file(path: Path) -> list[Path]:
    """One repository per line; blank lines and `#` comments skipped; relative to the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise MemfixError(f"{path}: cannot read the list of repositories: {error}") from None
    lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return [(path.parent / line) for line in lines if line]


def process(
    repo: Path,
    name: str,
    overrides: dict[str, object],
    options: BatchOptions,
    progress: FileProgress | None = None,
) -> RepoResult:
    """Fix (or, with `options.audit`, only check) one repository; its results as data.

    Writes nothing under `options.out`. Raises MemfixError (GitError among them) when the
    repository cannot be migrated; a failure once the branch exists puts the repository
    back as it was (see `_commit_on_branch`), and the message says so.
    """
    from memfix import api

    root, base = _check_repository(repo, options)
    settings = load_settings(root).with_overrides(**overrides)
    settings = settings.with_overrides(jobs=1)  # repositories already run side by side

    def report(done: int, total: int) -> None:
        if progress:
            progress(name, done, total)

    gate = Gate.at(root)  # every write in the repository goes through it
    found = api.check_paths([root], settings, progress=report)
    results = [_held_back(_relative(r, root), root, gate) for r in found]
    if options.audit:
        results = [_unapplied(r) for r in results]
    changed = [r for r in results if r.changed]
    findings = sum(len(r.findings) for r in results)
    fixes = sum(f.applied for r in changed for f in r.findings)
    left = findings - fixes + sum(r.status is Status.FAILED for r in results)

    def publish(tip: str | None) -> tuple[bytes | None, str]:
        """The patch (when there is a commit) and the pull-request description."""
        patch = git.format_patch(root, base, tip) if tip is not None else None
        title = f"{repo.resolve().name}: persist chat memory"
        return patch, to_markdown(results, _codemods(), title=title)

    branch: str | None = None
    patch: bytes | None = None
    description: str | None = None
    if options.audit:
        pass
    elif not changed:
        patch, description = publish(None)
    elif options.dry_run:
        contents = {r.path: encode_source(r.after, r.encoding, r.bom) for r in changed}
        patch, description = publish(
            git.commit_without_checkout(root, contents, commit_message(results))
        )
    else:
        message = commit_message(results)
        patch, description = _commit_on_branch(root, changed, message, options.branch, publish)
        branch = options.branch
    status = _status(bool(changed), options, left)
    error = "; ".join(f"{r.path}: {r.error}" for r in results if r.failed) or None
    jsonl = _named_lines(name, to_jsonl(results))
    return RepoResult(
        name, str(repo), status, findings, fixes, branch, error, patch, description, jsonl
    )


def _status(changed: bool, options: BatchOptions, left: int) -> RepoStatus:
    if left:
        return RepoStatus.FINDINGS
    if changed and options.dry_run:
        return RepoStatus.PATCHED
    return RepoStatus.MIGRATED if changed else RepoStatus.CLEAN


def _unapplied(result: FileResult) -> FileResult:
    """`result` as an audit reports it: its findings, no fix applied, the text unchanged."""
    if not result.changed:
        return result
    findings = tuple(replace(finding, applied=False) for finding in result.findings)
    return replace(result, after=result.before, diff="", status=Status.UNCHANGED, findings=findings)


def _named_lines(name: str, jsonl: str) -> str:
    """Each line of `jsonl` with `"repository": name` first."""
    lines = (json.dumps({"repository": name, **json.loads(line)}) for line in jsonl.splitlines())
    return "".join(line + "\n" for line in lines)


def _check_repository(repo: Path, options: BatchOptions) -> tuple[Path, str]:
    """The repository's root and HEAD, once it may be migrated; MemfixError otherwise."""
    root = repo.resolve()
    if not root.is_dir() or not git.is_repository(root):
        raise MemfixError(f"{repo}: not the top folder of a git repository")
    base = git.head(root)
    if options.audit:
        return root, base
    if not options.allow_dirty and git.is_dirty(root):
        raise MemfixError(f"{repo}: uncommitted changes; commit them or pass --allow-dirty")
    if not options.dry_run and git.branch_exists(root, options.branch):
        raise MemfixError(f"{repo}: branch {options.branch!r} already exists")
    return root, base


Publish = Callable[[str | None], tuple[bytes | None, str]]


def _commit_on_branch(
    root: Path, changed: Sequence[FileResult], message: str, branch: str, publish: Publish
) -> tuple[bytes | None, str]:
    """Create `branch`, write the fixes, commit them there with `message`, `publish` it.

    If any step fails, or the run is interrupted, the repository is put back: the files
    memfix wrote get their bytes back, HEAD its branch and the index its entries, and the
    new branch is deleted. Raises MemfixError saying what failed and that it was undone.
    """
    gate = Gate.at(root)
    before = git.snapshot(root, [r.path for r in changed])
    created = False
    written: list[tuple[Path, bytes]] = []
    try:
        git.create_branch(root, branch)
        created = True
        contents: dict[str, bytes] = {}
        for result in changed:
            target = root / result.path
            original = target.read_bytes()
            gate.write_if_unchanged(replace(result, path=str(target)))
            written.append((target, original))
            contents[result.path] = encode_source(result.after, result.encoding, result.bom)
        return publish(git.commit(root, contents, message))
    except BaseException as error:
        undone = _put_back(root, before, branch if created else None, written)
        if not isinstance(error, Exception):
            raise
        raise MemfixError(f"{error}; {undone}") from None


def _put_back(
    root: Path, before: git.Snapshot, created: str | None, written: Sequence[tuple[Path, bytes]]
) -> str:
    """Undo a failed migration; says whether the repository is as it was."""
    problems: list[str] = []
    for path, data in reversed(written):
        try:
            Gate.at(root).write(path, data)  # the exact bytes, atomically, keeping the mode
        except WriteError as error:
            problems.append(f"{path.name}: {error.problem}")
    try:
        git.restore(root, before, created)
    except git.GitError as error:
        problems.append(str(error))
    if problems:
        return "putting the repository back failed: " + "; ".join(problems)
    return "the repository was left as it was"


def exit_code(outcomes: Sequence[RepoOutcome]) -> int:
    """0 all clean or migrated, 1 findings left (a dry run fixes none), 2 a repository failed."""
    if any(o.status is RepoStatus.FAILED for o in outcomes):
        return 2
    left = (RepoStatus.FINDINGS, RepoStatus.PATCHED)
    return 1 if any(o.status in left for o in outcomes) else 0


def _relative(result: FileResult, root: Path) -> FileResult:
    """`result` with its path (and diff) relative to the repository root."""
    # Not resolved: a link is named where it is, and the gate judges where it leads.
    path = Path(os.path.abspath(result.path)).relative_to(root).as_posix()
    diff = unified_diff(result.before, result.after, path) if result.changed else ""
    return replace(result, path=path, diff=diff)


def _held_back(result: FileResult, root: Path, gate: Gate) -> FileResult:
    """`result`, or a FAILED one when its fix may not be written (a link out of the
    repository): neither the commit nor the patch carries it."""
    refused = gate.refusal(root / result.path) if result.changed else None
    if refused is None:
        return result
    findings = tuple(replace(finding, applied=False) for finding in result.findings)
    problem = f"not written: {refused.problem}"
    return failed_result(result.path, result.before, problem, findings=findings)


def _codemods() -> dict[str, type[Codemod]]:
    return {codemod.NAME: codemod for codemod in registry.all_codemods()}
