"""`memfix batch --executor ray` on a local Ray: the same files, byte for byte, as local."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from memfix.batch import BatchOptions, RepoResult, RepoStatus
from memfix.fleet.driver import run_fleet
from memfix.fleet.local import run_batch
from memfix.fleet.tasks import RepoJob, run_repository
from tests.support.cli import invoke
from tests.support.fixtures import PROGRAM
from tests.support.repos import make_repo, output

ray = pytest.importorskip("ray")

from memfix.fleet.ray_executor import RayExecutor  # noqa: E402  (needs ray)

OVERRIDES: dict[str, object] = {"select": ("per-call-state",)}
BROKEN = "from langchain.memory import ConversationBufferMemory\ndef broken(:\n    pass\n"
# Fixed commit dates: the same fix gives the same commit, and so the same patch, each run.
FIXED = {
    "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z",
    "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z",
    "MEMFIX_NO_CACHE": "1",
}


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """A dozen repositories: eight with PROGRAM, three clean, one with a broken file."""
    root = tmp_path_factory.mktemp("templates")
    repos = [make_repo(root / f"bot-{n:02d}", {f"app/bot{n}.py": PROGRAM}) for n in range(8)]
    repos += [make_repo(root / f"clean-{n}", {"app.py": f"x = {n}\n"}) for n in range(3)]
    repos.append(make_repo(root / "broken", {"bot.py": PROGRAM, "bad.py": BROKEN}))
    return repos


@pytest.fixture(scope="module")
def local_ray() -> Iterator[RayExecutor]:
    """One local Ray of 2 CPUs for the module, started with the fixed commit dates."""
    saved = {name: os.environ.get(name) for name in FIXED}
    os.environ.update(FIXED)  # before Ray starts: its workers inherit the environment
    executor = RayExecutor(None, 2)
    yield executor
    executor.close()
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def copies(templates: list[Path], folder: Path) -> list[Path]:
    return [Path(shutil.copytree(t, folder / t.name, symlinks=True)) for t in templates]


def contents(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def work_tree(repo: Path) -> dict[str, bytes]:
    """The bytes of every file of `repo` outside .git."""
    return {
        p.relative_to(repo).as_posix(): p.read_bytes()
        for p in sorted(repo.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(repo).parts
    }


@pytest.mark.parametrize("mode", ["dry-run", "migrate", "audit"])
def test_ray_writes_the_same_bytes_as_the_local_executor(
    local_ray: RayExecutor, templates: list[Path], tmp_path: Path, mode: str
) -> None:
    options = {"dry-run": {"dry_run": True}, "migrate": {}, "audit": {"audit": True}}[mode]
    here = copies(templates, tmp_path / "here")
    there = copies(templates, tmp_path / "there")
    local = run_batch(here, OVERRIDES, BatchOptions(out=tmp_path / "local", **options))  # type: ignore[arg-type]
    remote = run_fleet(there, OVERRIDES, BatchOptions(out=tmp_path / "ray", **options), local_ray)  # type: ignore[arg-type]
    assert [(o.name, o.status) for o in remote] == [(o.name, o.status) for o in local]
    assert {o.status for o in remote} >= {RepoStatus.CLEAN, RepoStatus.FINDINGS}
    written = contents(tmp_path / "ray")
    assert written == contents(tmp_path / "local")
    assert len(written) >= 12 * 2
    if mode == "migrate":
        for a, b in zip(here, there, strict=True):
            assert output(a, "rev-parse", "HEAD") == output(b, "rev-parse", "HEAD")


def test_ray_audit_through_the_command_line_changes_no_repository(
    local_ray: RayExecutor, templates: list[Path], tmp_path: Path
) -> None:
    repos = copies(templates, tmp_path / "repos")
    listing = tmp_path / "repos.txt"
    listing.write_text("".join(f"repos/{r.name}\n" for r in repos), encoding="utf-8")
    refs = [output(r, "for-each-ref", "--format=%(refname) %(objectname)") for r in repos]
    trees = [work_tree(r) for r in repos]
    code, _, err = invoke(
        "batch", "--executor", "ray", "--audit", "--select", "per-call-state",
        "--repos-file", str(listing), "--out", str(tmp_path / "audit"),
    )  # fmt: skip
    assert code == 1, err
    assert [output(r, "status", "--porcelain") for r in repos] == [""] * len(repos)
    assert [output(r, "for-each-ref", "--format=%(refname) %(objectname)") for r in repos] == refs
    assert [work_tree(r) for r in repos] == trees
    summary = (tmp_path / "audit" / "summary.md").read_text(encoding="utf-8")
    assert "| `per-call-state` | 9 | 9 |" in summary


def test_a_ray_task_that_raises_once_is_run_again(
    local_ray: RayExecutor, templates: list[Path], tmp_path: Path
) -> None:
    marker = tmp_path / "fail-once"
    marker.write_text("", encoding="utf-8")

    def flaky(job: RepoJob) -> RepoResult:
        if job.name == "bot-03" and os.path.exists(marker):
            os.remove(marker)
            raise RuntimeError("lost the repository")
        return run_repository(job)

    flaky_ray = RayExecutor(None, 2, task=flaky)  # joins the module's Ray
    repos = copies(templates[:4], tmp_path / "repos")
    outcomes = run_fleet(
        repos, OVERRIDES, BatchOptions(out=tmp_path / "out", dry_run=True), flaky_ray
    )
    assert not marker.exists()  # the first attempt did fail
    assert [o.status for o in outcomes] == [RepoStatus.PATCHED] * 4


def test_a_ray_worker_that_dies_is_run_again(
    local_ray: RayExecutor, templates: list[Path], tmp_path: Path
) -> None:
    marker = tmp_path / "die-once"
    marker.write_text("", encoding="utf-8")

    def dying(job: RepoJob) -> RepoResult:
        if os.path.exists(marker):
            os.remove(marker)
            os._exit(1)
        return run_repository(job)

    dying_ray = RayExecutor(None, 2, task=dying)
    repos = copies(templates[:1], tmp_path / "repos")
    outcome = run_fleet(
        repos, OVERRIDES, BatchOptions(out=tmp_path / "out", dry_run=True), dying_ray
    )[0]
    assert not marker.exists()
    assert outcome.status is RepoStatus.PATCHED, outcome.error


def _descendants(root: int) -> set[int]:
    """`root` and every process started below it."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found = {root}
    while True:
        more = {pid for pid, parent in parents.items() if parent in found} - found
        if not more:
            return found
        found |= more


def _listening_addresses(pids: set[int]) -> set[str]:
    """The local addresses (hex, as /proc/net shows them) `pids` listen on over TCP."""
    inodes: set[str] = set()
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    target = os.readlink(fd)
                    if target.startswith("socket:["):
                        inodes.add(target[8:-1])
    found: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                found.add(fields[1].rsplit(":", 1)[0])
    return found


LOOPBACK_HEX = {"0100007F", "0000000000000000FFFF00000100007F", "00000000000000000000000001000000"}


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc")
def test_the_local_ray_listens_on_loopback_only(local_ray: RayExecutor) -> None:
    addresses = _listening_addresses(_descendants(os.getpid()))
    assert addresses, "Ray's servers were found"
    assert addresses <= LOOPBACK_HEX, addresses
