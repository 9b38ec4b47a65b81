"""memfix from Python: check and fix paths or one source text, with settings, as values.

Nothing here prints or asks. `check_paths` and `fix_text` write nothing (`check_paths`
may fill the result cache); `write` is the one call that writes a fixed file, and only
if the file still holds what was read::

    from memfix import api

    settings = api.load_settings(Path("app"), unsafe_fixes=True)
    for result in api.check_paths([Path("app")], settings):
        for finding in result.findings:
            print(result.path, finding.location, finding.codemod, finding.message)
        if result.changed:
            print(result.diff)
            api.write(result)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from memfix.config import Settings
from memfix.config import load_settings as _load_settings
from memfix.results import FileResult, Finding, Fix, Status

__all__ = [
    "FileResult",
    "Finding",
    "Fix",
    "Settings",
    "Status",
    "check_paths",
    "fix_text",
    "load_settings",
    "rule_names",
    "write",
]


def load_settings(start: Path = Path("."), **overrides: Any) -> Settings:
    """`[tool.memfix]` of the nearest pyproject.toml above `start`, with `overrides` applied.

    Overrides use the field names of `Settings` (`select=("per-call-state",)`,
    `unsafe_fixes=True`); a None value leaves the setting as configured. Raises
    ConfigError for a bad key or value.
    """
    return _load_settings(start).with_overrides(**overrides)


def rule_names() -> tuple[str, ...]:
    """The name of every rule a run can select, in the order they run."""
    from memfix.rules import registry

    return registry.names()


def check_paths(
    paths: Sequence[Path],
    settings: Settings | None = None,
    *,
    progress: Callable[[int, int], None] | None = None,
    cache: bool = True,
) -> list[FileResult]:
    """Every file under `paths`, analysed and fixed in memory: findings and diffs, sorted by path.

    Runs the repository pass and the dependency-file edits as the CLI does. A file that
    cannot be read, parsed or fixed comes back FAILED or SKIPPED with its error; raises
    MemfixError only for a problem with the run itself (a missing path, a bad rule name).
    """
    from memfix.pipeline import runner

    chosen = settings if settings is not None else load_settings(paths[0] if paths else Path("."))
    return runner.fix_paths(list(paths), chosen, progress=progress, cache=cache)


def fix_text(
    source: str, *, path: str = "snippet.py", settings: Settings | None = None
) -> FileResult:
    """One module's text through the selected rules; never raises for a problem in the text.

    `path` names the module in findings and diffs, and decides which `per-file-ignores`
    apply. No other file is read, so findings that need the repository pass are not made.
    """
    from memfix.pipeline.engine import fix_source
    from memfix.rules import registry

    chosen = settings if settings is not None else Settings()
    codemods = registry.selected(chosen.select, chosen.ignore, chosen.per_file_ignores)
    return fix_source(source, path=path, codemods=codemods, settings=chosen)


def write(result: FileResult) -> None:
    """Write a CHANGED result's text over its file, if the file still holds what was read.

    Raises WriteError (a MemfixError), leaving the file as it was, when it changed on disk
    or cannot be written. A result that is not CHANGED writes nothing.
    """
    from memfix.files.write import write_if_unchanged

    if result.changed:
        write_if_unchanged(result)
