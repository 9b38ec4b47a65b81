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


def test_per_file_ignores_pick_the_codemods_per_file() -> None:
    from memfix.config import ignored_in
    from memfix.rules.codemod import Codemod
    from memfix.rules.registry import all_codemods
    from memfix.rules.registry import for_path as codemods_for

    settings = settings_from_table(
        {
            "per-file-ignores": {
                "tests/*.py": ["per-call-state"],
                "legacy/**": ["unwired-memory", "memory-key-mismatch"],
            }
        }
    )
    assert settings.per_file_ignores == (
        ("tests/*.py", ("per-call-state",)),
        ("legacy/**", ("unwired-memory", "memory-key-mismatch")),
    )
    assert ignored_in(settings, "tests/test_bot.py") == {"per-call-state"}
    assert ignored_in(settings, "app/tests/test_bot.py") == {"per-call-state"}
    assert ignored_in(settings, "app/bot.py") == set()
    assert ignored_in(settings, "legacy/deep/bot.py") == {"unwired-memory", "memory-key-mismatch"}
    codemods: list[type[Codemod]] = list(all_codemods())
    names = [c.NAME for c in codemods_for(settings, codemods, "tests/test_bot.py")]
    assert "per-call-state" not in names and names
    assert codemods_for(settings, codemods, "app/bot.py") == codemods


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"per-file-ignore": {}}, "unknown key (did you mean 'per-file-ignores'?)"),
        ({"per-file-ignores": ["x"]}, "per-file-ignores: expected a table"),
        ({"per-file-ignores": {"*.py": "x"}}, "per-file-ignores.*.py: expected a list"),
        ({"default-pth": "src"}, "unknown key (did you mean 'default-path'?)"),
        ({"default-path": 1}, "default-path: expected a string"),
        ({"history_url_env": "X"}, "(did you mean 'history-url-env'?)"),
    ],
)
def test_bad_new_keys(table: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as error:
        settings_from_table(table)
    assert message in str(error.value)


def test_every_documented_key_is_read(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.memfix]\n"
        'select = ["per-call-state"]\nignore = ["in-process-history"]\nexclude = ["old"]\n'
        'backend = "postgres"\nsession-key = "user_id"\nhistory-url-env = "DB"\n'
        'default-path = "src"\nunsafe-fixes = true\n'
        '[tool.memfix.per-file-ignores]\n"tests/*" = ["per-call-state"]\n',
        encoding="utf-8",
    )
    settings = load_settings(tmp_path)
    assert settings == Settings(
        select=("per-call-state",),
        ignore=("in-process-history",),
        exclude=("old",),
        per_file_ignores=(("tests/*", ("per-call-state",)),),
        backend=Backend.POSTGRES,
        session_key="user_id",
        history_url_env="DB",
        default_path="src",
        unsafe_fixes=True,
    )
