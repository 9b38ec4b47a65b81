"""The Ray executor: one Ray task per repository. Ray is imported here and nowhere else.

Each task runs `run_repository` where Ray places it and sends back the result as data;
it writes nothing under OUT. A worker that dies is run again by Ray (`max_retries=1`); a
task that raised is run again by the driver. Started here (no address), Ray listens on
the loopback interface only, runs no dashboard and sends no worker logs to the terminal.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from memfix.batch import RepoResult
from memfix.errors import MemfixError
from memfix.fleet.tasks import RepoJob, run_repository

LOOPBACK = "127.0.0.1"
_CLUSTERS = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"


Task = Callable[[RepoJob], RepoResult]


def _task(job: RepoJob) -> RepoResult:
    return run_repository(job)


class RayExecutor:
    """Runs each job as a Ray task (`task`, the same work the local executor does) on the
    cluster at `address`, or on a Ray started here with `cpus` CPUs. Raises MemfixError
    when Ray is missing or cannot start."""

    def __init__(self, address: str | None, cpus: int, task: Task = _task) -> None:
        if address is None:
            # Ray gives a node its outward address, and its servers listen there, unless
            # clusters are off: then the node's address is the loopback one.
            os.environ[_CLUSTERS] = "0"
        try:
            import ray
            from ray._private import ray_constants
        except ImportError:
            raise MemfixError("--executor ray needs Ray: pip install 'memfix[ray]'") from None
        self._ray: Any = ray
        self._started = not ray.is_initialized()
        if self._started:
            settings: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
            if address is None:
                ray_constants.ENABLE_RAY_CLUSTER = False  # read when Ray was imported
                settings |= {"num_cpus": max(1, cpus), "_node_ip_address": LOOPBACK}
            try:
                ray.init(address=address, **settings)
            except (ConnectionError, RuntimeError, ValueError) as error:
                raise MemfixError(f"cannot start or reach Ray: {error}") from None
        self._remote = ray.remote(max_retries=1, retry_exceptions=False)(task)
        self._running: dict[Any, RepoJob] = {}

    def submit(self, job: RepoJob) -> None:
        """Start `job` as a Ray task."""
        self._running[self._remote.remote(job)] = job

    def next_done(self) -> tuple[RepoJob, RepoResult | Exception]:
        """The next task to finish, with its result or what it raised; waits for one."""
        ready, _ = self._ray.wait(list(self._running), num_returns=1)
        job = self._running.pop(ready[0])
        try:
            result: RepoResult = self._ray.get(ready[0])
        except Exception as error:  # the task raised, or its worker died twice
            cause = getattr(error, "cause", None)  # what the task raised, without Ray's wrapping
            return job, cause if isinstance(cause, Exception) else error
        return job, result

    def close(self) -> None:
        """Shut down the Ray this executor started; a Ray running before is left running."""
        if self._started:
            self._ray.shutdown()
