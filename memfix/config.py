"""`[tool.memfix]` in pyproject.toml, read once into a frozen `Settings`."""

from __future__ import annotations

import enum
import fnmatch
import keyword
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from memfix.errors import ConfigError, did_you_mean

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
    AGENT = "agent"  # LangChain 1.x create_agent with a checkpointer


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
    # The folder of the pyproject.toml these settings come from: `per-file-ignores`
    # patterns also match paths relative to it. Not compared (it is where, not what),
    # but part of the repr, so that the result cache keys runs of different projects apart.
    root: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        validate(self)

    def with_overrides(self, **changes: Any) -> Settings:
        """Return a copy with every change that is not None applied.

        Raises ConfigError, naming the option, for a value `validate` refuses.
        """
        given = {k: v for k, v in changes.items() if v is not None}
        try:
            return replace(self, **given)
        except ConfigError as error:
            field_name = error.key.split(".")[0].replace("-", "_")
            if field_name not in given:
                raise
            option = "--" + error.key.split(".")[0]
            raise ConfigError(error.key, error.problem, option=option) from None


# Settings whose text memfix writes into the code it generates (a variable name, a
# parameter, a dict key) are held to plain ASCII names: nothing else can be quoted,
# broken across lines or look like another name in the diff a reviewer reads.
_ASCII_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
MAX_NAME_LENGTH = 100


def validate(settings: Settings) -> None:
    """Check every setting that reaches generated code (codemod names: `registry.selected`).

    Run whenever a `Settings` is made (from pyproject.toml, with command-line overrides,
    or by `dataclasses.replace`). Raises ConfigError naming the first bad key.
    """
    _check_name("history-url-env", settings.history_url_env, "an environment variable name")
    if settings.session_key is not None:
        _check_name("session-key", settings.session_key, "a Python identifier")
        if keyword.iskeyword(settings.session_key):
            raise ConfigError("session-key", f"{settings.session_key!r} is a Python keyword")


def _check_name(key: str, value: object, kind: str) -> None:
    if not isinstance(value, str):
        raise ConfigError(key, f"expected a string, got {value!r}")
    if len(value) > MAX_NAME_LENGTH:
        raise ConfigError(key, f"longer than {MAX_NAME_LENGTH} characters: {value[:20]!r}...")
    if not _ASCII_NAME.fullmatch(value):
        raise ConfigError(
            key, f"{value!r} is not {kind}: use ASCII letters, digits and _, not first a digit"
        )


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
    """Codemod names that `per-file-ignores` turns off for `path` (a `/`-separated path).

    A pattern matches the path or any tail of it (`tests/*` matches `app/tests/x.py`),
    as given or relative to the settings' project root, so that a run from a subfolder
    (where `tests/x.py` is shown as `x.py`) ignores what a run from the top does.
    """
    if not settings.per_file_ignores:
        return frozenset()
    tails = _tails(path) | _tails(_from_root(settings, path))
    names: set[str] = set()
    for pattern, ignored in settings.per_file_ignores:
        if any(fnmatch.fnmatchcase(tail, pattern) for tail in tails):
            names.update(ignored)
    return frozenset(names)


def _tails(path: str) -> set[str]:
    parts = [part for part in path.split("/") if part not in ("", ".")]
    return {"/".join(parts[i:]) for i in range(len(parts))}


def _from_root(settings: Settings, path: str) -> str:
    """`path` relative to the project root; "" when there is none or the path is outside it."""
    if settings.root is None:
        return ""
    try:
        relative = os.path.relpath(os.path.abspath(path), settings.root)
    except ValueError:  # another drive
        return ""
    return "" if relative.split(os.sep)[0] == os.pardir else Path(relative).as_posix()


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
    folder = Path(os.path.realpath(start))  # a loop of links is not an error here
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
    root = path.parent.resolve()
    settings = replace(settings_from_table(table), root=str(root))
    if settings.default_path is not None:
        _check_inside("default-path", settings.default_path, root)
    return settings


def _check_inside(key: str, value: str, root: Path) -> None:
    """Refuse a configured path that leads out of the project, links resolved.

    A repository's own pyproject.toml must not point `check` or `apply --yes` at files
    of whoever runs memfix in it.
    """
    try:
        target = (root / value).resolve()
    except (OSError, RuntimeError, ValueError) as error:  # a link loop, a NUL byte
        raise ConfigError(key, f"cannot resolve {value!r}: {error}") from None
    if target != root and root not in target.parents:
        raise ConfigError(key, f"{value!r} leads outside the project folder {root}")
