"""A content-hash cache of per-file results, so that a re-run skips unchanged files.

An entry is found by the file's bytes, its shown path and a run key made of memfix's
version, the selected codemods (names and source) and the settings; any change to one of
them misses. Failed and skipped files are never stored. A broken entry reads as a miss.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from memfix import __version__
from memfix.config import Settings
from memfix.results import FileResult, Finding, Fix, Status

if TYPE_CHECKING:
    from memfix.rules.codemod import Codemod

# Set to 1 to neither read nor write the cache.
DISABLE_VARIABLE = "MEMFIX_NO_CACHE"


def default_folder() -> Path:
    """$XDG_CACHE_HOME/memfix: outside the work tree, so a run never leaves it dirty."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "memfix"


@dataclass(frozen=True, slots=True)
class Cache:
    """Where entries for one run key live."""

    folder: Path

    def load(self, digest: str, path: str, facts: str = "") -> FileResult | None:
        """The stored result for these bytes at this path, with these cross-module facts."""
        try:
            raw = json.loads(self._entry(digest, path, facts).read_text(encoding="utf-8"))
            return _decode(raw, digest)
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def store(self, result: FileResult, facts: str = "") -> None:
        if result.status not in (Status.CHANGED, Status.UNCHANGED) or not result.digest:
            return
        entry = self._entry(result.digest, result.path, facts)
        try:
            entry.parent.mkdir(parents=True, exist_ok=True)
            temporary = entry.with_suffix(f".{os.getpid()}.tmp")
            temporary.write_text(json.dumps(_encode(result)), encoding="utf-8")
            os.replace(temporary, entry)
        except OSError:
            pass  # a cache that cannot be written only costs time

    def _entry(self, digest: str, path: str, facts: str = "") -> Path:
        # A file's facts (`FileFacts.key`) come from other files: part of its key.
        key = f"{digest}\0{path}" + (f"\0{facts}" if facts else "")
        name = hashlib.sha256(key.encode()).hexdigest()
        return self.folder / name[:2] / f"{name}.json"


def open_cache(
    codemods: Sequence[type[Codemod] | str],
    settings: Settings,
    *,
    enabled: bool = True,
    folder: Path | None = None,
) -> Cache | None:
    """The cache for this run, or None when it is off (argument or MEMFIX_NO_CACHE=1)."""
    if not enabled or os.environ.get(DISABLE_VARIABLE, "") not in ("", "0"):
        return None
    return Cache((folder or default_folder()) / run_key(codemods, settings))


def run_key(codemods: Sequence[type[Codemod] | str], settings: Settings) -> str:
    """A hash of everything besides a file's bytes and path that its result depends on.

    A rule given by name is hashed with the source of every package that declares a rule
    (`memfix.codemods` and plugins), helpers included, read from disk: nothing is imported.
    """
    hasher = hashlib.sha256(__version__.encode())
    if any(isinstance(codemod, str) for codemod in codemods):
        hasher.update(_package_source())
    for codemod in codemods:
        if isinstance(codemod, str):
            hasher.update(f"\0{codemod}\0".encode())
            continue
        hasher.update(f"\0{codemod.NAME}\0".encode())
        try:
            hasher.update(Path(inspect.getfile(codemod)).read_bytes())
        except (OSError, TypeError):
            hasher.update(codemod.__qualname__.encode())
    hasher.update(repr(replace(settings, jobs=0, default_path=None)).encode())
    return hasher.hexdigest()[:32]


def _package_source() -> bytes:
    from memfix.rules import registry

    parts: list[bytes] = []
    for path in registry.source_files():  # every rule's package, helpers and plugins too
        try:
            parts.append(path.name.encode() + b"\0" + path.read_bytes())
        except OSError:
            parts.append(path.name.encode())
    return b"\0".join(parts)


def _encode(result: FileResult) -> dict[str, object]:
    return {
        "path": result.path,
        "before": result.before,
        "after": result.after,
        "diff": result.diff,
        "findings": [
            [f.codemod, f.message, f.line, f.column, f.fix.value, f.fixed, f.applied, f.cell]
            for f in result.findings
        ],
        "status": result.status.value,
        "pending_diff": result.pending_diff,
        "encoding": result.encoding,
        "bom": result.bom,
        "packages": list(result.packages),
        "packages_by": list(result.packages_by),
    }


def _decode(raw: dict[str, object], digest: str) -> FileResult:
    findings = tuple(
        Finding(
            str(c),
            str(m),
            int(line),
            int(column),
            Fix(fix),
            bool(fixed),
            bool(applied),
            None if cell is None else int(cell),
        )
        for c, m, line, column, fix, fixed, applied, cell in raw["findings"]  # type: ignore[attr-defined]
    )
    return FileResult(
        str(raw["path"]),
        str(raw["before"]),
        str(raw["after"]),
        str(raw["diff"]),
        findings,
        Status(raw["status"]),
        pending_diff=str(raw["pending_diff"]),
        encoding=str(raw["encoding"]),
        bom=bool(raw["bom"]),
        packages=_names(raw["packages"]),
        packages_by=_names(raw["packages_by"]),
        digest=digest,
    )


def _names(value: object) -> tuple[str, ...]:
    """A list of names as stored; TypeError (a miss) for anything else."""
    if not isinstance(value, list):
        raise TypeError("expected a list of names")
    return tuple(str(name) for name in value)
