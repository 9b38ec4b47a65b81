"""The work on one repository, as data in and data out, so any process can run it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from memfix.batch import BatchOptions, FileProgress, RepoResult, failed, process
from memfix.errors import MemfixError
from memfix.files import git


@dataclass(frozen=True, slots=True)
class RepoJob:
    """One repository to process: where it is, its name under OUT, and the run's options."""

    name: str
    path: str
    overrides: dict[str, object] = field(hash=False)
    options: BatchOptions


def run_repository(job: RepoJob, progress: FileProgress | None = None) -> RepoResult:
    """Process `job`'s repository; its patch, description and findings as data.

    A repository that cannot be migrated (not a repository, uncommitted changes, git
    failing) gives a FAILED result. Any other exception is raised: it is a bug or a
    broken worker, and the caller may retry.
    """
    try:
        return process(Path(job.path), job.name, job.overrides, job.options, progress)
    except (MemfixError, git.GitError, OSError) as error:
        return failed(job.name, job.path, str(error))
