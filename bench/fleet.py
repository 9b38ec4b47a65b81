"""Repositories per second for `memfix batch`: local (jobs 1 and 2) and Ray on this machine.

    python bench/fleet.py [--repos 200] [--nodes 10]

Generates N small repositories in a temporary folder (three in four hold the canonical
broken `ask()` program, every one three ordinary modules), runs a dry-run batch over them
with each executor (no result cache, fixed commit dates, after an untimed warm-up), and
prints a markdown table and what a cluster of `--nodes` nodes would do, derived from the
measured costs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from memfix.batch import BatchOptions, RepoOutcome  # noqa: E402
from memfix.fleet.driver import run_fleet  # noqa: E402
from memfix.fleet.local import run_batch  # noqa: E402

ARTICLE = ROOT / "tests" / "fixtures" / "per-call-state" / "article_ask.py"
OVERRIDES: dict[str, object] = {"select": ("per-call-state",)}
ORDINARY = (
    '"""Module {n}."""\n\n\ndef total_{n}(values: list[int]) -> int:\n    return sum(values)\n'
)
FIXED = {"GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z"}


def program() -> str:
    """The canonical broken program: the fixture's input without its demo calls."""
    text = ARTICLE.read_text(encoding="utf-8").partition("# output\n")[0]
    return text.split("\n\nprint(")[0] + "\n"


def make_repos(folder: Path, count: int) -> list[Path]:
    """`count` repositories with one commit each, under `folder`."""
    bug = program()
    repos: list[Path] = []
    for number in range(count):
        repo = folder / f"repo-{number:04d}"
        (repo / "app").mkdir(parents=True)
        for module in range(3):
            (repo / "app" / f"mod{module}.py").write_text(ORDINARY.format(n=module))
        if number % 4:
            (repo / "app" / "bot.py").write_text(bug)
        git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com"]
        for args in (["init", "-q", "-b", "main"], ["add", "."], ["commit", "-q", "-m", "i"]):
            subprocess.run([*git, *args], cwd=repo, check=True, capture_output=True)
        repos.append(repo)
    return repos


def timed(run: Callable[[], list[RepoOutcome]]) -> float:
    start = time.perf_counter()
    outcomes = run()
    seconds = time.perf_counter() - start
    failed = [o for o in outcomes if o.error]
    if failed:
        raise SystemExit(f"{failed[0].name}: {failed[0].error}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repos", type=int, default=200)
    parser.add_argument("--nodes", type=int, default=10, help="cluster size for the estimate")
    args = parser.parse_args()
    os.environ.update(FIXED, MEMFIX_NO_CACHE="1")
    cpus = os.cpu_count() or 1
    work = Path(tempfile.mkdtemp(prefix="memfix-fleet-"))
    try:
        repos = make_repos(work / "repos", args.repos)
        n = len(repos)

        def local(jobs: int) -> Callable[[], list[RepoOutcome]]:
            out = work / f"local-{jobs}"
            return lambda: run_batch(repos, OVERRIDES, BatchOptions(out, dry_run=True, jobs=jobs))

        # Untimed: the first run imports the codemods and warms the interpreter.
        run_batch(repos[:10], OVERRIDES, BatchOptions(work / "warm-up", dry_run=True))
        rows = [("local, jobs=1", timed(local(1))), ("local, jobs=2", timed(local(2)))]
        from memfix.fleet.ray_executor import RayExecutor

        start = time.perf_counter()
        ray = RayExecutor(None, cpus)
        startup = time.perf_counter() - start
        options = BatchOptions(work / "ray", dry_run=True, jobs=cpus)
        try:
            rows.append(
                (f"ray, {cpus} CPUs", timed(lambda: run_fleet(repos, OVERRIDES, options, ray)))
            )
        finally:
            ray.close()
        print(report(rows, n, cpus, startup, args.nodes))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def report(rows: list[tuple[str, float]], n: int, cpus: int, startup: float, nodes: int) -> str:
    cost = rows[0][1] / n  # one repository's work on one CPU
    ray_seconds = rows[-1][1]
    # Below zero when the CPUs share the work better than jobs=1 / CPUs predicts: noise.
    overhead = (ray_seconds - rows[0][1] / cpus) / n
    lines = [
        "| executor | repos | seconds | repos/s | per-repo cost (s) | overhead per task (s) |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, seconds in rows:
        extra = f"{overhead:.4f}" if name.startswith("ray") else "-"
        lines.append(
            f"| {name} | {n} | {seconds:.2f} | {n / seconds:.1f} | {seconds / n:.4f} | {extra} |"
        )
    repos = 10_000
    estimate = repos * cost / (nodes * cpus) + repos * max(0.0, overhead)
    lines += [
        "",
        f"Ray start-up (not in the table): {startup:.1f} s. Per-repo cost = local jobs=1 "
        "seconds / N; overhead = (ray seconds - local jobs=1 seconds / CPUs) / N.",
        f"A cluster of {nodes} nodes of {cpus} CPUs would take about "
        f"{repos} x {cost:.4f} / {nodes * cpus} + {repos} x {max(0.0, overhead):.4f} = "
        f"{estimate:.0f} s "
        f"for {repos} repositories like these ({repos / estimate:.0f} repos/s), assuming the "
        "work spreads evenly over the CPUs, the per-task overhead stays what it is here and "
        "is paid one task after the other at the driver (the worst case), and each "
        "repository is already on the node's disk (no clone).",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
