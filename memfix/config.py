"""`[tool.memfix]` in pyproject.toml, read once into a frozen `Settings`."""

from __future__ import annotations

import enum
import fnmatch
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from memfix.errors import ConfigError, did_you_mean

if TYPE_CHECKING:
    from memfix.rules.codemod import Codemod

DEFAULT_EXCLUDES = (
    ".venv",
    "venv",
    "site-packages",
    "node_modules",
    "build",
    "dist",
    ".git",
    ".ipynb_checkpoints",  # Jupyter's autosaved copies of the notebooks beside it
)


class Backend(str, enum.Enum):
    SQLITE = "sqlite"
    REDIS = "redis"
    POSTGRES = "postgres"
    MEMORY = "memory"


class Target(str, enum.Enum):
    """What legacy chains migrate to."""

    RWMH = "rwmh"  # RunnableWithMessageHistory
    LANGGRAPH = "langgraph"  # a LangGraph graph on MessagesState with a checkpointer


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything a run needs to know besides the paths; CLI flags override with `replace`."""

    select: tuple[str, ...] = ()  # empty: every codemod
    ignore: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    # (glob, codemod names) pairs: those codemods are skipped in the files the glob matches
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    extend_exclude: tuple[str, ...] = DEFAULT_EXCLUDES
    backend: Backend = Backend.SQLITE
    target: Target = Target.RWMH
    history_url_env: str = "CHAT_HISTORY_URL"
    session_key: str | None = None
    default_path: str | None = None  # the folder or file checked when no path is given
    unsafe_fixes: bool = False
    prefilter: bool = True
    max_file_size: int = 1_000_000
    jobs: int = 0  # 0: as many as there are cores

    def with_overrides(self, **changes: Any) -> Settings:
        """Return a copy with every change that is not None applied."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


# Keys as they are spelled in pyproject.toml, with the type each must have.
_KEYS: dict[str, type | tuple[type, ...]] = {
    "select": list,
    "ignore": list,
    "exclude": list,
    "per-file-ignores": dict,
    "backend": str,
    "target": str,
    "history-url-env": str,
    "session-key": str,
    "default-path": str,
    "unsafe-fixes": bool,
    "max-file-size": int,
}


def settings_from_table(table: Mapping[str, Any]) -> Settings:
    """Build `Settings` from a `[tool.memfix]` table; raises ConfigError on a bad key or value."""
    values: dict[str, Any] = {}
    for key, value in table.items():
        expected = _KEYS.get(key)
        if expected is None:
            raise ConfigError(key, f"unknown key{did_you_mean(key, _KEYS)}")
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise ConfigError(key, f"expected {_type_name(expected)}, got {value!r}")
        if isinstance(value, list):
            if not all(isinstance(item, str) for item in value):
                raise ConfigError(key, "expected a list of strings")
            value = tuple(value)
        if key == "backend":
            value = _backend(value)
        if key == "target":
            value = _target(value)
        if key == "per-file-ignores":
            value = _per_file_ignores(value)
        values[key.replace("-", "_")] = value
    assert {f.name for f in fields(Settings)} >= values.keys()
    return Settings(**values)


def _per_file_ignores(table: Mapping[str, Any]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    pairs: list[tuple[str, tuple[str, ...]]] = []
    for pattern, names in table.items():
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ConfigError(f"per-file-ignores.{pattern}", "expected a list of codemod names")
        pairs.append((pattern, tuple(names)))
    return tuple(pairs)


def ignored_in(settings: Settings, path: str) -> frozenset[str]:
    """Codemod names that `per-file-ignores` turns off for `path` (a `/`-separated path)."""
    names: set[str] = set()
    parts = path.split("/")
    for pattern, ignored in settings.per_file_ignores:
        tails = ("/".join(parts[i:]) for i in range(len(parts)))
        if any(fnmatch.fnmatchcase(tail, pattern) for tail in tails):
            names.update(ignored)
    return frozenset(names)


def codemods_for(
    settings: Settings, codemods: Sequence[type[Codemod]], path: str
) -> list[type[Codemod]]:
    """The codemods to run on `path`: `codemods` less those `per-file-ignores` turns off."""
    ignored = ignored_in(settings, path)
    return [codemod for codemod in codemods if codemod.NAME not in ignored]


def _backend(value: str) -> Backend:
    try:
        return Backend(value)
    except ValueError:
        choices = [b.value for b in Backend]
        raise ConfigError(
            "backend", f"{value!r} is not one of {', '.join(choices)}{did_you_mean(value, choices)}"
        ) from None


def _target(value: str) -> Target:
    try:
        return Target(value)
    except ValueError:
        choices = [t.value for t in Target]
        raise ConfigError(
            "target", f"{value!r} is not one of {', '.join(choices)}{did_you_mean(value, choices)}"
        ) from None


def _type_name(expected: type | tuple[type, ...]) -> str:
    names = {
        list: "a list of strings",
        dict: "a table",
        str: "a string",
        bool: "true or false",
        int: "an integer",
    }
    return names.get(expected, str(expected)) if isinstance(expected, type) else str(expected)


def find_pyproject(start: Path) -> Path | None:
    """The nearest pyproject.toml in `start` or its parents."""
    folder = start.resolve()
    if folder.is_file():
        folder = folder.parent
    for candidate in (folder, *folder.parents):
        path = candidate / "pyproject.toml"
        if path.is_file():
            return path
    return None


def load_settings(start: Path) -> Settings:
    """Read `[tool.memfix]` from the nearest pyproject.toml; defaults when there is none."""
    path = find_pyproject(start)
    if path is None:
        return Settings()
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ConfigError("pyproject.toml", f"cannot read {path}: {error}") from None
    table = data.get("tool", {}).get("memfix", {})
    if not isinstance(table, dict):
        raise ConfigError("tool.memfix", "expected a table")
    return settings_from_table(table)
