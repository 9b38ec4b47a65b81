"""The command line, through typer's CliRunner: exit code first, then output."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from memfix import __version__, cli
from tests.support.cli import invoke
from tests.support.fixtures import PROGRAM

BROKEN_SYNTAX = "def broken(:\n    pass\n"
BROKEN_MEMORY = "from langchain.memory import ConversationBufferMemory\n" + BROKEN_SYNTAX
LATIN1 = "x = 'caf\xe9'\n".encode("latin-1")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with one fixable file and one clean file, as the current folder.

    The article's program, once per-call-state hoists its chain, is also a legacy chain
    whose migration is unsafe; these tests are about the CLI, so that codemod is off.
    """
    (tmp_path / "pyproject.toml").write_text(
        '[tool.memfix]\nignore = ["legacy-conversation-chain"]\n', encoding="utf-8"
    )
    (tmp_path / "bot.py").write_text(PROGRAM, encoding="utf-8")
    (tmp_path / "clean.py").write_text("import langchain_core\nx = 1\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.glob("*.py"))}


def test_version() -> None:
    code, out, _ = invoke("--version")
    assert code == 0
    assert out == f"memfix {__version__}\n"


def test_no_arguments_prints_help() -> None:
    code, out, _ = invoke()
    assert code in (0, 2)
    assert "check" in out and "apply" in out


def test_check_reports_findings_and_exits_1(project: Path) -> None:
    before = snapshot(project)
    code, out, err = invoke("check")
    assert code == 1
    assert out == (
        "bot.py:8:14: per-call-state ConversationBufferMemory 'memory' is rebuilt on every "
        "call of ask(), so each turn starts empty [*]\n"
    )
    assert "Found 1 finding in 1 file (1 fixable with `memfix apply`)." in err
    assert snapshot(project) == before


def test_check_clean_exits_0(project: Path) -> None:
    code, out, err = invoke("check", "clean.py")
    assert code == 0
    assert out == ""
    assert "All clean: 0 files analysed, 1 skipped (no LangChain memory)." in err


def test_check_json(project: Path) -> None:
    code, out, _ = invoke("check", "--format", "json")
    assert code == 1
    document = json.loads(out)
    assert document["version"] == 1
    assert document["summary"]["findings"] == 1
    [entry] = document["files"]
    assert entry["path"] == "bot.py"
    assert entry["findings"][0]["codemod"] == "per-call-state"
    assert entry["findings"][0]["fix"] == "safe"


def test_dry_run_prints_diff_and_writes_nothing(project: Path) -> None:
    before = snapshot(project)
    code, out, _ = invoke("apply", "--dry-run")
    assert code == 1
    assert out.startswith("--- a/bot.py\n+++ b/bot.py\n")
    assert "-    memory = ConversationBufferMemory()\n" in out
    assert "+memory = ConversationBufferMemory()\n" in out
    assert snapshot(project) == before


def test_dry_run_on_clean_code_exits_0(project: Path) -> None:
    code, out, _ = invoke("apply", "--dry-run", "clean.py")
    assert (code, out) == (0, "")


def test_apply_yes_writes_what_dry_run_showed(project: Path) -> None:
    _, diff, _ = invoke("apply", "--dry-run")
    shadow = project / "shadow"
    shadow.mkdir()
    (shadow / "bot.py").write_text(PROGRAM, encoding="utf-8")
    subprocess.run(
        ["git", "apply", "--directory=shadow", "-"], input=diff.encode(), cwd=project, check=True
    )
    code, _, err = invoke("apply", "--yes", "bot.py", "clean.py")
    assert code == 0, err
    assert "Fixed 1 file." in err
    assert (project / "bot.py").read_bytes() == (shadow / "bot.py").read_bytes()
    before = snapshot(project)
    assert invoke("apply", "--yes", "bot.py")[0] == 0
    assert snapshot(project) == before


def test_apply_without_terminal_writes_nothing(project: Path) -> None:
    before = snapshot(project)
    code, out, err = invoke("apply")
    assert code == 1
    assert "no terminal to confirm" in err
    assert out.startswith("--- a/bot.py")
    assert snapshot(project) == before


@pytest.mark.parametrize(
    ("answers", "written"),
    [("y\n", True), ("n\n", False), ("a\n", True), ("q\n", False), ("maybe\ny\n", True)],
    ids=["yes", "no", "all", "quit", "asks again"],
)
def test_apply_asks_before_writing(
    project: Path, monkeypatch: pytest.MonkeyPatch, answers: str, written: bool
) -> None:
    monkeypatch.setattr(cli, "_is_interactive", lambda: True)
    code, _, err = invoke("apply", input=answers)
    assert "Write bot.py?" in err
    assert ((project / "bot.py").read_text("utf-8") != PROGRAM) is written
    assert code == (0 if written else 1)


def test_ctrl_c_during_review_exits_130(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupt(path: str, codemods: object) -> cli._Answer:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_is_interactive", lambda: True)
    monkeypatch.setattr(cli, "_ask", interrupt)
    before = snapshot(project)
    code, _, err = invoke("apply")
    assert code == 130
    assert "interrupted: 0 file(s) written: -; 1 skipped: bot.py" in err
    assert snapshot(project) == before


def test_bad_files_are_reported_and_left_alone(project: Path) -> None:
    header = "from langchain.memory import ConversationBufferMemory\n"
    (project / "syntax.py").write_text(header + BROKEN_SYNTAX, encoding="utf-8")
    (project / "latin.py").write_bytes(LATIN1)
    before = snapshot(project)
    code, _, err = invoke("apply", "--yes")
    assert code == 1
    assert "syntax.py: error: syntax error at line 2" in err
    assert "latin.py: error: cannot decode: not valid utf-8" in err
    after = snapshot(project)
    assert after["syntax.py"] == before["syntax.py"]
    assert after["latin.py"] == before["latin.py"]
    assert after["bot.py"] != before["bot.py"]


def test_select_and_ignore(project: Path) -> None:
    assert invoke("check", "--select", "per-call-state")[0] == 1
    assert invoke("check", "--ignore", "per-call-state,legacy-conversation-chain")[0] == 0
    code, _, err = invoke("check", "--select", "per-call-stat")
    assert code == 2
    assert "error: unknown codemod 'per-call-stat' (did you mean 'per-call-state'?)" in err


def test_exclude(project: Path) -> None:
    code, out, _ = invoke("check", "--exclude", "bot.py", ".")
    assert (code, out) == (0, "")


def test_missing_path_exits_2(project: Path) -> None:
    code, _, err = invoke("check", "nowhere")
    assert code == 2
    assert "error: nowhere: no such file or folder" in err


def test_bad_config_exits_2(project: Path) -> None:
    (project / "pyproject.toml").write_text("[tool.memfix]\nselekt = []\n", encoding="utf-8")
    code, _, err = invoke("check")
    assert code == 2
    assert "error: [tool.memfix] selekt: unknown key (did you mean 'select'?)" in err


def test_config_ignore_is_read(project: Path) -> None:
    (project / "pyproject.toml").write_text(
        '[tool.memfix]\nignore = ["per-call-state", "legacy-conversation-chain"]\n',
        encoding="utf-8",
    )
    assert invoke("check")[0] == 0


def test_suppression_comment(project: Path) -> None:
    text = PROGRAM.replace(
        "memory = ConversationBufferMemory()",
        "memory = ConversationBufferMemory()  # memfix: ignore[per-call-state]",
    )
    (project / "bot.py").write_text(text, encoding="utf-8")
    assert invoke("check")[0] == 0


def test_quiet_and_verbose(project: Path) -> None:
    (project / "big.py").write_text("import langchain\n" + "x = 1\n" * 400, encoding="utf-8")
    (project / "pyproject.toml").write_text("[tool.memfix]\nmax-file-size = 1000\n", "utf-8")
    _, out, quiet = invoke("check", "-q")
    assert quiet == ""
    assert "per-call-state" in out
    _, _, verbose = invoke("check", "-v")
    assert "big.py: note: skipped:" in verbose


def test_jobs_gives_the_same_output(project: Path) -> None:
    for index in range(30):
        (project / f"copy{index:02}.py").write_text(PROGRAM, encoding="utf-8")
    serial = invoke("check", "--jobs", "1")
    parallel = invoke("check", "--jobs", "2")
    assert serial == parallel
    assert serial[1].count("per-call-state") == 31


def test_rules_lists_codemods() -> None:
    code, out, _ = invoke("rules")
    assert code == 0
    assert "per-call-state" in out and "safe" in out


def test_explain() -> None:
    code, out, _ = invoke("explain", "per-call-state")
    assert code == 0
    assert out.startswith("# per-call-state (fix: safe)")
    assert "## Fix safety" in out
    assert invoke("explain", "nope")[0] == 2


def test_console_script_runs() -> None:
    done = subprocess.run(
        ["memfix", "--version"], capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"}
    )
    assert done.returncode == 0
    assert done.stdout.strip() == f"memfix {__version__}"


@pytest.mark.parametrize("output_format", ["text", "json", "sarif", "github", "markdown"])
def test_exit_codes_are_the_same_in_every_format(project: Path, output_format: str) -> None:
    assert invoke("check", "--format", output_format)[0] == 1
    assert invoke("check", "--format", output_format, "clean.py")[0] == 0
    (project / "broken.py").write_text(BROKEN_MEMORY, encoding="utf-8")
    assert invoke("check", "--format", output_format, "clean.py", "broken.py")[0] == 1
    assert invoke("check", "--format", output_format, "nowhere")[0] == 2


def test_output_writes_the_report_to_a_file(project: Path) -> None:
    code, out, _ = invoke("check", "--format", "sarif", "--output", "memfix.sarif")
    assert code == 1
    assert out == ""
    document = json.loads((project / "memfix.sarif").read_text("utf-8"))
    assert document["version"] == "2.1.0"
    assert document["runs"][0]["results"][0]["ruleId"] == "per-call-state"
    assert invoke("check", "--output", "findings.txt")[0] == 1
    assert (project / "findings.txt").read_text("utf-8").startswith("bot.py:8:14: per-call-state")


def test_github_format(project: Path) -> None:
    code, out, _ = invoke("check", "--format", "github")
    assert code == 1
    assert out.startswith("::warning file=bot.py,line=8,col=14,title=memfix per-call-state::")


def test_markdown_is_the_batch_description(project: Path) -> None:
    for command in (["init", "-q"], ["add", "bot.py", "clean.py", "pyproject.toml"]):
        subprocess.run(["git", *command], cwd=project, check=True)
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "x"],
        cwd=project,
        check=True,
    )
    _, markdown, _ = invoke("check", "--format", "markdown")
    assert invoke("batch", ".", "--dry-run", "--out", "../reviews")[0] == 1
    [description] = (project.parent / "reviews").glob("*.md")
    body = description.read_text("utf-8").split("\n", 1)[1]
    assert markdown.split("\n", 1)[1] == body
    assert "## 1. `per-call-state` at `bot.py:8:14`" in body


def test_configured_default_path(project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool.memfix]\ndefault-path = "clean.py"\n', "utf-8")
    assert invoke("check")[0] == 0
    assert invoke("check", "bot.py")[0] == 1


def test_review_all_of_this_codemod(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (project / "bot2.py").write_text(PROGRAM, encoding="utf-8")
    (project / "bot3.py").write_text(PROGRAM, encoding="utf-8")
    monkeypatch.setattr(cli, "_is_interactive", lambda: True)
    code, _, err = invoke("apply", input="n\nc\n")
    assert code == 1  # bot.py was skipped
    assert err.count("Write ") == 2  # bot3.py was written without asking
    assert "[c] all of per-call-state" in err
    assert (project / "bot.py").read_text("utf-8") == PROGRAM
    assert (project / "bot2.py").read_text("utf-8") != PROGRAM
    assert (project / "bot3.py").read_text("utf-8") != PROGRAM
    assert "review: 2 file(s) written: bot2.py, bot3.py; 1 skipped: bot.py" in err


def test_review_quit_lists_what_was_skipped(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (project / "bot2.py").write_text(PROGRAM, encoding="utf-8")
    monkeypatch.setattr(cli, "_is_interactive", lambda: True)
    code, _, err = invoke("apply", input="y\nq\n")
    assert code == 1
    assert "review: 1 file(s) written: bot.py; 1 skipped: bot2.py" in err


def test_pre_commit_hooks_run_memfix(project: Path) -> None:
    import shlex

    import yaml

    root = Path(__file__).resolve().parents[2]
    hooks = {h["id"]: h for h in yaml.safe_load((root / ".pre-commit-hooks.yaml").read_text())}
    assert set(hooks) == {"memfix-check", "memfix-fix"}
    for hook in hooks.values():
        assert hook["types"] == ["python"]
    check = shlex.split(hooks["memfix-check"]["entry"])
    fix = shlex.split(hooks["memfix-fix"]["entry"])
    assert check[0] == fix[0] == "memfix"
    assert invoke(*check[1:], "bot.py", "clean.py")[0] == 1
    assert invoke(*fix[1:], "bot.py", "clean.py")[0] == 0
    assert (project / "bot.py").read_text("utf-8") != PROGRAM
    assert invoke(*check[1:], "bot.py", "clean.py")[0] == 0
