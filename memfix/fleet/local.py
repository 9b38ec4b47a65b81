"""The local executor: repositories on threads of this process."""

from __future__ import annotations

import queue
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from memfix.batch import BatchOptions, FileProgress, RepoOutcome, RepoResult, process
from memfix.fleet.tasks import RepoJob, run_repository


class LocalExecutor:
    """Runs `run_repository` on `jobs` threads; results come back as they finish."""

    def __init__(self, jobs: int, progress: FileProgress | None = None) -> None:
        self._pool = ThreadPoolExecutor(max_workers=max(1, jobs))
        self._progress = progress
        self._finished: queue.Queue[tuple[RepoJob, RepoResult | Exception]] = queue.Queue()

    def submit(self, job: RepoJob) -> None:
        """Start `job`; `next_done` gives it back."""
        future = self._pool.submit(run_repository, job, self._progress)

        def finished(done: Future[RepoResult]) -> None:
            error = done.exception()
            if error is None:
                self._finished.put((job, done.result()))
            elif isinstance(error, Exception):
                self._finished.put((job, error))
            else:  # an interruption is no result: it ends the run
                self._finished.put((job, RuntimeError(f"interrupted: {error!r}")))

        future.add_done_callback(finished)

    def next_done(self) -> tuple[RepoJob, RepoResult | Exception]:
        """The next job to finish, with its result or what it raised; waits for one."""
        return self._finished.get()

    def close(self) -> None:
        """Wait for the threads and let them go."""
        self._pool.shutdown(wait=True)


def run_batch(
    repos: Sequence[Path],
    overrides: dict[str, object],
    options: BatchOptions,
    *,
    progress: FileProgress | None = None,
    done: Callable[[RepoOutcome], None] | None = None,
) -> list[RepoOutcome]:
    """Migrate each repository (in `options.jobs` threads); outcomes in the order given.

    Raises MemfixError when the folder for the results cannot be made.
    """
    from memfix.fleet.driver import run_fleet

    executor = LocalExecutor(options.jobs, progress)
    try:
        return run_fleet(repos, overrides, options, executor, done=done)
    finally:
        executor.close()


def migrate(
    repo: Path,
    name: str,
    overrides: dict[str, object],
    options: BatchOptions,
    progress: FileProgress | None = None,
) -> RepoOutcome:
    """Migrate one repository here and write its results under `options.out`.

    Raises MemfixError (GitError among them) when it cannot; see `memfix.batch.process`.
    """
    from memfix.fleet.outputs import write_result

    return write_result(options.out, process(repo, name, overrides, options, progress), repo)
