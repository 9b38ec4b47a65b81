"""`memfix batch` on the fleet driver: local executor, results as data, resume, audit, retry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from memfix.batch import BatchOptions, RepoResult, RepoStatus, failed
from memfix.files.write import Gate, WriteError
from memfix.fleet import tasks
from memfix.fleet.driver import run_fleet
from memfix.fleet.local import run_batch
from memfix.fleet.outputs import completed
from memfix.fleet.tasks import RepoJob, run_repository
from tests.support.cli import invoke
from tests.support.fixtures import PROGRAM
from tests.support.repos import make_repo, output

OVERRIDES: dict[str, object] = {"select": ("per-call-state",)}


@pytest.fixture
def fleet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Three repositories: two holding PROGRAM, one clean."""
    monkeypatch.setenv("MEMFIX_NO_CACHE", "1")
    for variable in ("GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE"):  # the same commit every run
        monkeypatch.setenv(variable, "2026-01-01T00:00:00Z")
    monkeypatch.chdir(tmp_path)
    return [
        make_repo(tmp_path / "alpha"),
        make_repo(tmp_path / "beta", {"app.py": "x = 1\n"}),
        make_repo(tmp_path / "gamma", {"src/bot.py": PROGRAM}),
    ]


def state(repo: Path) -> tuple[str, str, str, tuple[tuple[str, bytes], ...]]:
    """HEAD, every ref, `git status` and the bytes of every file of the work tree."""
    files = tuple(
        (p.relative_to(repo).as_posix(), p.read_bytes())
        for p in sorted(repo.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(repo).parts
    )
    refs = output(repo, "for-each-ref", "--format=%(refname) %(objectname)")
    status = output(repo, "status", "--porcelain", "--untracked-files=all")
    return output(repo, "rev-parse", "HEAD"), refs, status, files


def dry(out: Path, **more: object) -> BatchOptions:
    return BatchOptions(out=out, dry_run=True, **more)  # type: ignore[arg-type]


def test_local_batch_writes_patch_description_findings_and_manifest_per_repository(
    fleet: list[Path], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    outcomes = run_batch(fleet, OVERRIDES, dry(out))
    assert [o.status for o in outcomes] == [
        RepoStatus.PATCHED,
        RepoStatus.CLEAN,
        RepoStatus.PATCHED,
    ]
    assert sorted(p.name for p in out.iterdir()) == [
        "alpha.done", "alpha.jsonl", "alpha.md", "alpha.patch",
        "beta.done", "beta.jsonl", "beta.md",
        "gamma.done", "gamma.jsonl", "gamma.md", "gamma.patch",
    ]  # fmt: skip
    lines = [json.loads(line) for line in (out / "gamma.jsonl").read_text().splitlines()]
    assert lines and all(line["repository"] == "gamma" for line in lines)
    assert lines[0]["path"] == "src/bot.py"
    assert (out / "beta.jsonl").read_bytes() == b""
    manifest = json.loads((out / "alpha.done").read_text())
    assert sorted(manifest["files"]) == ["alpha.jsonl", "alpha.md", "alpha.patch"]
    assert manifest["status"] == "patched"


def test_resume_skips_complete_repositories_and_redoes_a_half_written_one(
    fleet: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    first = run_batch(fleet, OVERRIDES, dry(out))
    patch = (out / "gamma.patch").read_bytes()
    (out / "gamma.patch").write_bytes(patch[: len(patch) // 2])  # cut short
    (out / "beta.done").unlink()  # stopped before its manifest
    ran: list[str] = []
    process = tasks.process

    def counted(repo: Path, *args: object, **kwargs: object) -> RepoResult:
        ran.append(repo.name)
        return process(repo, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(tasks, "process", counted)
    again = run_batch(fleet, OVERRIDES, dry(out, resume=True))
    assert sorted(ran) == ["beta", "gamma"]
    assert (out / "gamma.patch").read_bytes() == patch
    assert [(o.name, o.status, o.findings, o.fixes) for o in again] == [
        (o.name, o.status, o.findings, o.fixes) for o in first
    ]
    assert again[0].patch == out / "alpha.patch"


def test_without_resume_every_repository_runs_again(
    fleet: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    run_batch(fleet, OVERRIDES, dry(out))
    ran: list[str] = []

    def counted(repo: Path, name: str, *args: object) -> RepoResult:
        ran.append(repo.name)
        return failed(name, repo, "not run")

    monkeypatch.setattr(tasks, "process", counted)
    run_batch(fleet, OVERRIDES, dry(out))
    assert sorted(ran) == ["alpha", "beta", "gamma"]


def test_a_result_whose_files_cannot_all_be_written_gets_no_manifest(
    fleet: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    write = Gate.write

    def jsonl_fails(gate: Gate, path: Path, data: bytes) -> None:
        if path.suffix == ".jsonl":
            raise WriteError(str(path), "the disk is full")
        write(gate, path, data)

    monkeypatch.setattr(Gate, "write", jsonl_fails)
    outcomes = run_batch(fleet[:1], OVERRIDES, dry(out))
    assert outcomes[0].status is RepoStatus.FAILED
    assert "the disk is full" in (outcomes[0].error or "")
    assert not (out / "alpha.done").exists()
    assert completed(out, "alpha", fleet[0]) is None


def test_a_failed_repository_leaves_nothing_and_is_redone_on_resume(
    fleet: list[Path], tmp_path: Path
) -> None:
    (fleet[0] / "notes.txt").write_text("work in progress\n", encoding="utf-8")
    out = tmp_path / "out"
    outcome = run_batch(fleet[:1], OVERRIDES, BatchOptions(out=out))[0]
    assert outcome.status is RepoStatus.FAILED
    assert list(out.iterdir()) == []
    (fleet[0] / "notes.txt").unlink()
    again = run_batch(fleet[:1], OVERRIDES, BatchOptions(out=out, resume=True))[0]
    assert again.status is RepoStatus.MIGRATED


def test_audit_writes_findings_and_summary_and_touches_no_branch_index_or_file(
    fleet: list[Path], tmp_path: Path
) -> None:
    (fleet[2] / "notes.txt").write_text("uncommitted\n", encoding="utf-8")  # audits allow it
    before = [state(repo) for repo in fleet]
    out = tmp_path / "audit"
    code, _, err = invoke(
        "batch", "--audit", "--select", "per-call-state", "--out", str(out), *map(str, fleet)
    )
    assert code == 1, err
    assert [state(repo) for repo in fleet] == before
    assert not (out / "alpha.patch").exists() and not (out / "alpha.md").exists()
    lines = [json.loads(line) for line in (out / "findings.jsonl").read_text().splitlines()]
    assert [line["repository"] for line in lines] == ["alpha", "gamma"]
    assert all(line["applied"] is False for line in lines)
    summary = (out / "summary.md").read_text()
    assert "| `per-call-state` | 2 | 2 |" in summary
    assert "| `alpha` | 1 | 1 | findings |" in summary
    assert "| `beta` | 0 | 0 | clean |" in summary


def test_audit_creates_no_git_object(fleet: list[Path], tmp_path: Path) -> None:
    objects = sorted(p.name for p in (fleet[0] / ".git" / "objects").rglob("*"))
    run_batch(fleet[:1], OVERRIDES, BatchOptions(out=tmp_path / "audit", audit=True))
    assert sorted(p.name for p in (fleet[0] / ".git" / "objects").rglob("*")) == objects


def test_resumed_audit_lists_the_findings_of_skipped_repositories_too(
    fleet: list[Path], tmp_path: Path
) -> None:
    out = tmp_path / "audit"
    options = BatchOptions(out=out, audit=True)
    run_batch(fleet, OVERRIDES, options)
    first = (out / "findings.jsonl").read_bytes()
    (out / "gamma.done").unlink()
    run_batch(fleet, OVERRIDES, BatchOptions(out=out, audit=True, resume=True))
    assert (out / "findings.jsonl").read_bytes() == first


class FakeExecutor:
    """Runs jobs in the order submitted; raises for a job as often as `failures` says."""

    def __init__(self, failures: dict[str, int]) -> None:
        self.failures = failures
        self.submitted: list[str] = []
        self.queue: list[RepoJob] = []

    def submit(self, job: RepoJob) -> None:
        self.submitted.append(job.name)
        self.queue.append(job)

    def next_done(self) -> tuple[RepoJob, RepoResult | Exception]:
        job = self.queue.pop(0)
        if self.failures.get(job.name, 0):
            self.failures[job.name] -= 1
            return job, RuntimeError("worker lost")
        return job, run_repository(job)


def test_a_task_that_raises_once_is_retried_and_succeeds(fleet: list[Path], tmp_path: Path) -> None:
    fake = FakeExecutor({"alpha": 1})
    outcomes = run_fleet(fleet, OVERRIDES, dry(tmp_path / "out"), fake)
    assert fake.submitted == ["alpha", "beta", "gamma", "alpha"]
    assert outcomes[0].status is RepoStatus.PATCHED


def test_a_task_that_raises_twice_fails_its_repository_only(
    fleet: list[Path], tmp_path: Path
) -> None:
    fake = FakeExecutor({"beta": 5})
    outcomes = run_fleet(fleet, OVERRIDES, dry(tmp_path / "out"), fake)
    assert fake.submitted.count("beta") == 2
    assert outcomes[1].status is RepoStatus.FAILED
    assert outcomes[1].error == "internal error: RuntimeError: worker lost"
    assert [outcomes[0].status, outcomes[2].status] == [RepoStatus.PATCHED] * 2


def test_a_repository_that_cannot_be_migrated_is_not_retried(
    fleet: list[Path], tmp_path: Path
) -> None:
    fake = FakeExecutor({})
    outcomes = run_fleet([tmp_path / "missing"], OVERRIDES, dry(tmp_path / "out"), fake)
    assert fake.submitted == ["missing"]
    assert "not the top folder of a git repository" in (outcomes[0].error or "")


def test_address_without_the_ray_executor_is_an_error(fleet: list[Path]) -> None:
    code, _, err = invoke("batch", "--address", "127.0.0.1:6379", str(fleet[0]))
    assert code == 2
    assert "--executor ray" in err


def test_a_task_result_is_data_and_writes_nothing(fleet: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    job = RepoJob("alpha", str(fleet[0]), OVERRIDES, dry(out))
    result = run_repository(job)
    assert isinstance(result.patch, bytes) and b"+++ b/bot.py" in result.patch
    assert result.description is not None and result.description.startswith("# alpha")
    assert not out.exists()
