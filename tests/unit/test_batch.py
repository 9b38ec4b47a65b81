"""`memfix batch` over throwaway git repositories made here."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from memfix.batch import commit_message, output_names
from memfix.cli import app
from memfix.results import FileResult, Finding, Fix, Status
from tests.support.fixtures import PROGRAM

BROKEN = "from langchain.memory import ConversationBufferMemory\ndef broken(:\n    pass\n"
HOOKS = ("pre-commit", "prepare-commit-msg", "commit-msg", "post-commit", "post-checkout")


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout


def make_repo(root: Path, name: str, files: dict[str, str], marker: Path) -> Path:
    """A repository with one commit and hooks that would create `marker` if they ran."""
    repo = root / name
    repo.mkdir()
    for path, text in files.items():
        (repo / path).write_text(text, encoding="utf-8")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "initial")
    for hook in HOOKS:
        script = repo / ".git" / "hooks" / hook
        script.write_text(f"#!/bin/sh\necho {hook} >> '{marker}'\n", encoding="utf-8")
        script.chmod(0o755)
    return repo


@pytest.fixture
def repos(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    monkeypatch.chdir(tmp_path)
    marker = tmp_path / "hook-ran"
    made = {
        "legacy": make_repo(tmp_path, "legacy", {"bot.py": PROGRAM}, marker),
        "clean": make_repo(tmp_path, "clean", {"app.py": "x = 1\n"}, marker),
        "broken": make_repo(tmp_path, "broken", {"bot.py": PROGRAM, "bad.py": BROKEN}, marker),
        "dirty": make_repo(tmp_path, "dirty", {"bot.py": PROGRAM}, marker),
    }
    (made["dirty"] / "notes.txt").write_text("work in progress\n", encoding="utf-8")
    return made


def invoke(*args: str) -> tuple[int, str]:
    """`memfix batch ARGS` with per-call-state alone, which fixes PROGRAM completely."""
    result = CliRunner().invoke(app, ["batch", "--select", "per-call-state", *args])
    return result.exit_code, result.stderr


def head(repo: Path) -> str:
    return git(repo, "rev-parse", "HEAD").strip()


def test_batch_migrates_each_repo_and_reports_the_rest(
    repos: dict[str, Path], tmp_path: Path
) -> None:
    bases = {name: head(repo) for name, repo in repos.items()}
    (tmp_path / "repos.txt").write_text(
        "# legacy repositories\nlegacy\nclean\n\nbroken\ndirty\n", encoding="utf-8"
    )
    code, err = invoke("--repos-file", "repos.txt", "--jobs", "4", "--out", "reviews")
    assert code == 2, err  # the dirty repository failed
    rows = {line.split()[0]: line.split() for line in err.splitlines()[1:] if line.strip()}
    assert rows["legacy"][1:5] == ["1", "1", "memfix/persist-memory", "migrated"]
    assert rows["clean"][1:5] == ["0", "0", "-", "clean"]
    assert rows["broken"][1:5] == ["1", "1", "memfix/persist-memory", "findings:"]
    assert rows["dirty"][4:6] == ["failed:", "dirty:"]
    assert "uncommitted changes" in err

    legacy = repos["legacy"]
    assert git(legacy, "branch", "--show-current").strip() == "memfix/persist-memory"
    assert git(legacy, "rev-list", "--count", f"{bases['legacy']}..HEAD").strip() == "1"
    assert git(legacy, "log", "-1", "--format=%B") == (
        "memfix: persist chat memory\n\n- per-call-state: 1 fix\n\n"
    )
    assert git(legacy, "status", "--porcelain") == ""
    assert not (tmp_path / "hook-ran").exists()

    # the dirty repository is untouched; the clean one has no branch and no patch
    assert head(repos["dirty"]) == bases["dirty"]
    assert (repos["dirty"] / "bot.py").read_text("utf-8") == PROGRAM
    assert git(repos["clean"], "branch", "--list", "memfix/*") == ""
    reviews = tmp_path / "reviews"
    assert sorted(p.name for p in reviews.iterdir()) == [
        *("broken.done", "broken.jsonl", "broken.md", "broken.patch"),
        *("clean.done", "clean.jsonl", "clean.md"),
        *("legacy.done", "legacy.jsonl", "legacy.md", "legacy.patch"),
    ]
    assert "memfix found nothing to change" in (reviews / "clean.md").read_text("utf-8")
    assert "## Files memfix could not process" in (reviews / "broken.md").read_text("utf-8")
    # the hooks do run when git is used as usual: their silence above was memfix's doing
    git(repos["clean"], "commit", "-q", "--allow-empty", "-m", "by hand")
    assert (tmp_path / "hook-ran").exists()


def test_patch_applies_with_git_am_on_the_original_commit(
    repos: dict[str, Path], tmp_path: Path
) -> None:
    legacy = repos["legacy"]
    code, err = invoke("legacy", "--out", "reviews")
    assert code == 0, err
    copy = tmp_path / "copy"
    git(tmp_path, "clone", "-q", "--branch", "main", str(legacy), str(copy))
    git(copy, "am", "-q", str(tmp_path / "reviews" / "legacy.patch"))
    assert (copy / "bot.py").read_bytes() == (legacy / "bot.py").read_bytes()
    assert (copy / "bot.py").read_text("utf-8") != PROGRAM


def test_description_has_a_section_per_finding(repos: dict[str, Path], tmp_path: Path) -> None:
    assert invoke("legacy", "--out", "reviews")[0] == 0
    text = (tmp_path / "reviews" / "legacy.md").read_text("utf-8")
    assert "## 1. `per-call-state` at `bot.py:8:14`" in text
    for part in (
        "**What was wrong:**",
        "**Why history was lost or shared:**",
        "**What changed:**",
        "**Fix safety (safe):**",
        "**What the reviewer must check:**",
        "```diff\n--- a/bot.py\n+++ b/bot.py\n",
    ):
        assert part in text


def test_dry_run_touches_no_branch_and_gives_the_same_patch(
    repos: dict[str, Path], tmp_path: Path
) -> None:
    legacy = repos["legacy"]
    base = head(legacy)
    code, err = invoke("legacy", "--dry-run", "--out", "dry")
    assert code == 1, err  # nothing was fixed in the repository itself
    assert "legacy  1         1      (dry run)  patched" in err
    assert head(legacy) == base
    assert git(legacy, "branch", "--list").split() == ["*", "main"]
    assert git(legacy, "status", "--porcelain") == ""
    assert (legacy / "bot.py").read_text("utf-8") == PROGRAM
    copy = tmp_path / "copy"
    git(tmp_path, "clone", "-q", str(legacy), str(copy))
    git(copy, "am", "-q", str(tmp_path / "dry" / "legacy.patch"))
    assert invoke("legacy", "--out", "real")[0] == 0
    assert (copy / "bot.py").read_bytes() == (legacy / "bot.py").read_bytes()
    assert not (tmp_path / "hook-ran").exists()


def test_allow_dirty_and_existing_branch(repos: dict[str, Path]) -> None:
    dirty = repos["dirty"]
    code, err = invoke("dirty", "--allow-dirty", "--branch", "fix/memory", "--out", "out")
    assert code == 0, err
    assert git(dirty, "branch", "--show-current").strip() == "fix/memory"
    assert (dirty / "notes.txt").exists()  # uncommitted work stays uncommitted
    assert "notes.txt" not in git(dirty, "show", "--stat", "HEAD")
    code, err = invoke("dirty", "--allow-dirty", "--branch", "fix/memory", "--out", "out")
    assert code == 2
    assert "branch 'fix/memory' already exists" in err


def test_a_failing_repo_does_not_stop_the_others(repos: dict[str, Path]) -> None:
    code, err = invoke("nowhere", "legacy", "clean", "--jobs", "2", "--out", "out")
    assert code == 2
    assert "nowhere: not the top folder of a git repository" in err
    assert git(repos["legacy"], "branch", "--show-current").strip() == "memfix/persist-memory"


def test_clean_repos_exit_0_and_findings_left_exit_1(repos: dict[str, Path]) -> None:
    assert invoke("clean", "--out", "out")[0] == 0
    assert invoke("broken", "--out", "out")[0] == 1


def test_no_repos_is_an_error(repos: dict[str, Path]) -> None:
    code, err = invoke("--out", "out")
    assert code == 2
    assert "no repositories" in err


def test_output_names_stay_inside_the_folder() -> None:
    names = output_names(
        [Path("a/svc"), Path("b/svc"), Path(".."), Path("/tmp/we ird;$(x)"), Path("SVC")]
    )
    assert names[:2] == ["svc", "svc-2"]
    assert names[3] == "we_ird_x"
    assert names[4] == "SVC-3"
    for name in names:
        assert name and "/" not in name and not name.startswith(".")


def test_commit_message_counts_fixes_per_codemod() -> None:
    def finding(name: str, applied: bool) -> Finding:
        return Finding(name, "m", 1, 1, Fix.SAFE, True, applied)

    findings = (finding("a", True), finding("b", True), finding("a", True), finding("c", False))
    result = FileResult("x.py", "", "y", "", findings, Status.CHANGED)
    assert commit_message([result]) == ("memfix: persist chat memory\n\n- a: 2 fixes\n- b: 1 fix\n")
