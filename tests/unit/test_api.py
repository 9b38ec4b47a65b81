"""memfix.api: the same findings and fixes as the CLI, as values, writing only when asked."""

from __future__ import annotations

from pathlib import Path

import pytest

from memfix import api
from memfix.errors import MemfixError
from memfix.files.write import WriteError
from tests.support.cli import invoke
from tests.support.fixtures import PROGRAM


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "bot.py").write_text(PROGRAM, encoding="utf-8")
    (tmp_path / "clean.py").write_text("x = 1\n", encoding="utf-8")
    return tmp_path


def test_check_paths_finds_what_check_finds_and_writes_nothing(project: Path) -> None:
    before = (project / "bot.py").read_bytes()
    results = api.check_paths([project], api.load_settings(project), cache=False)
    bot = next(r for r in results if r.path.endswith("bot.py"))
    assert bot.changed and bot.diff.startswith("--- a/")
    assert {f.codemod for f in bot.findings} >= {"per-call-state"}
    assert (project / "bot.py").read_bytes() == before
    code, out, _ = invoke("check", str(project / "bot.py"))
    assert code == 1
    for finding in bot.findings:
        assert f"{finding.codemod}" in out


def test_write_applies_the_shown_fix_once(project: Path) -> None:
    (bot,) = [r for r in api.check_paths([project / "bot.py"], cache=False) if r.changed]
    api.write(bot)
    assert (project / "bot.py").read_text(encoding="utf-8") == bot.after
    with pytest.raises(WriteError, match="changed on disk"):
        api.write(bot)  # the file no longer holds what was read


def test_fix_text_is_pure_and_honours_select() -> None:
    everything = api.fix_text(PROGRAM, path="bot.py")
    assert everything.changed and everything.before == PROGRAM
    only_keys = api.fix_text(
        PROGRAM, path="bot.py", settings=api.Settings(select=("memory-key-mismatch",))
    )
    assert not only_keys.changed and only_keys.findings == ()


def test_fix_text_reports_bad_text_as_a_failed_result() -> None:
    result = api.fix_text(
        "from langchain.memory import ConversationBufferMemory\ndef broken(:\n", path="bad.py"
    )
    assert result.failed and result.after == result.before and result.error


def test_load_settings_applies_overrides_over_the_table(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.memfix]\nselect = ["per-call-state"]\n', encoding="utf-8"
    )
    settings = api.load_settings(tmp_path, unsafe_fixes=True, select=None)
    assert settings.select == ("per-call-state",) and settings.unsafe_fixes


def test_a_bad_rule_name_is_a_memfix_error(project: Path) -> None:
    with pytest.raises(MemfixError, match="did you mean"):
        api.check_paths([project], api.Settings(select=("per-call-stat",)), cache=False)
    assert "per-call-state" in api.rule_names()
