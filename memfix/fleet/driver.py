"""Hand each repository to an executor, retry what raised once, write results as they come."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Protocol

from memfix.batch import (
    BatchOptions,
    RepoOutcome,
    RepoResult,
    RepoStatus,
    failed,
    output_names,
)
from memfix.errors import MemfixError
from memfix.fleet.outputs import completed, write_audit, write_result
from memfix.fleet.tasks import RepoJob

ATTEMPTS = 2  # a task that raised is run once more before its repository counts as failed


class Executor(Protocol):
    """Runs jobs somewhere; gives each back, finished, in the order they finish."""

    def submit(self, job: RepoJob) -> None: ...

    def next_done(self) -> tuple[RepoJob, RepoResult | Exception]: ...


def run_fleet(
    repos: Sequence[Path],
    overrides: dict[str, object],
    options: BatchOptions,
    executor: Executor,
    *,
    done: Callable[[RepoOutcome], None] | None = None,
) -> list[RepoOutcome]:
    """Process every repository on `executor`; outcomes in the order given.

    With `options.resume`, a repository whose results under `options.out` are complete
    is not run again: its recorded outcome is used. Each result is written under
    `options.out` as soon as it comes back. Raises MemfixError when the folder cannot
    be made, or (in an audit) the closing files cannot be written.
    """
    try:
        options.out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise MemfixError(f"{options.out}: cannot make the folder: {error.strerror}") from None
    names = output_names(repos)
    outcomes: dict[str, RepoOutcome] = {}
    where = dict(zip(names, repos, strict=True))
    for name, repo in where.items():
        earlier = completed(options.out, name, repo) if options.resume else None
        if earlier is not None:
            outcomes[name] = earlier
            if done:
                done(earlier)
        else:
            executor.submit(RepoJob(name, str(repo), overrides, options))
    attempts = dict.fromkeys(where, 1)
    while len(outcomes) < len(where):
        job, got = executor.next_done()
        if isinstance(got, Exception) and attempts[job.name] < ATTEMPTS:
            attempts[job.name] += 1
            executor.submit(job)
            continue
        outcome = _written(options.out, _result(job, got), where[job.name])
        outcomes[job.name] = outcome
        if done:
            done(outcome)
    ordered = [outcomes[name] for name in names]
    if options.audit:
        write_audit(options.out, ordered)
    return ordered


def _result(job: RepoJob, got: RepoResult | Exception) -> RepoResult:
    if isinstance(got, Exception):
        return failed(job.name, job.path, f"internal error: {type(got).__name__}: {got}")
    return got


def _written(out: Path, result: RepoResult, repo: Path) -> RepoOutcome:
    """`result` written under `out`; a FAILED outcome saying why when it cannot be."""
    try:
        return write_result(out, result, repo)
    except MemfixError as error:
        unwritten = replace(result, status=RepoStatus.FAILED, error=str(error))
        return write_result(out, unwritten, repo)
