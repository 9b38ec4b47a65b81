"""`[tool.memfix]` is read into Settings; bad keys and values are clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from memfix.config import Backend, Settings, load_settings, settings_from_table
from memfix.errors import ConfigError


def test_defaults_without_pyproject(tmp_path: Path) -> None:
    assert load_settings(tmp_path) == Settings()


def test_reads_the_nearest_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.memfix]\nselect = ["per-call-state"]\nbackend = "redis"\n'
        'history-url-env = "HISTORY"\nunsafe-fixes = true\n',
        encoding="utf-8",
    )
    (tmp_path / "app").mkdir()
    settings = load_settings(tmp_path / "app")
    assert settings.select == ("per-call-state",)
    assert settings.backend is Backend.REDIS
    assert settings.history_url_env == "HISTORY"
    assert settings.unsafe_fixes


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"selct": []}, "[tool.memfix] selct: unknown key (did you mean 'select'?)"),
        ({"select": "per-call-state"}, "[tool.memfix] select: expected a list of strings"),
        ({"select": [1]}, "[tool.memfix] select: expected a list of strings"),
        ({"backend": "redi"}, "is not one of sqlite, redis, postgres, memory (did you mean"),
        ({"unsafe-fixes": "yes"}, "[tool.memfix] unsafe-fixes: expected true or false"),
        ({"max-file-size": True}, "[tool.memfix] max-file-size: expected an integer"),
    ],
)
def test_bad_tables(table: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as error:
        settings_from_table(table)
    assert message in str(error.value)


def test_broken_toml(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.memfix\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(tmp_path)


def test_overrides_skip_none() -> None:
    settings = Settings(select=("a",)).with_overrides(select=None, jobs=3)
    assert settings.select == ("a",) and settings.jobs == 3
