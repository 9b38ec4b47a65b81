"""What memfix makes of an open document: where it lives, its settings, its findings.

The part of the server that reads the disk (settings, the saved file, the repository
pass) and knows nothing of the connection: a `Request` (the document as it was) goes
in, an `Outcome` (what to publish, what to log) comes out, on a worker thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from lsprotocol import types
from pygls.uris import to_fs_path

from memfix.config import Settings, find_pyproject, load_settings
from memfix.errors import MemfixError
from memfix.files.decode import DecodeError, decode_source
from memfix.files.discover import is_excluded
from memfix.results import Finding
from memfix.rules.codemod import Codemod
from memfix.server import protocol
from memfix.server.analysis import Analysis, Problem, analyse, beyond

_PYTHON_SUFFIXES = (".py", ".pyi")


@dataclass(frozen=True, slots=True)
class Place:
    """Where a document lives and what memfix runs on it."""

    path: str  # as findings and problems name it: relative to its folder when inside one
    file: Path | None  # None for a document that is not a file (an unsaved buffer)
    folder: Path | None  # the workspace folder holding it
    settings: Settings
    codemods: tuple[type[Codemod], ...]


@dataclass(frozen=True, slots=True)
class Request:
    """One document to analyse, as it was when the request was made."""

    uri: str
    version: int | None
    text: str
    language: str | None
    folders: tuple[Path, ...]
    unsafe_fixes: bool
    project: bool  # also run the repository pass, when the text is the saved file's


@dataclass(frozen=True, slots=True)
class Known:
    """The last analysis of an open document, for the version and options it ran with."""

    version: int | None
    unsafe_fixes: bool
    place: Place
    analysis: Analysis
    others: tuple[Finding, ...] = ()  # what other modules tell: shown, never fixed here


@dataclass(frozen=True, slots=True)
class Outcome:
    """What an analysis gives the connection: the result, and what to log."""

    known: Known | None  # None: memfix does not read this document
    logs: tuple[tuple[types.MessageType, str], ...] = ()


def _file_of(uri: str) -> Path | None:
    if not uri.startswith("file:"):
        return None
    path = to_fs_path(uri)
    return None if path is None else Path(path)


def _is_python(request: Request, file: Path | None) -> bool:
    if file is not None and file.suffix == ".ipynb":
        return False  # notebooks are read by `memfix check`, cell by cell, not as text
    return request.language == "python" or (file is not None and file.suffix in _PYTHON_SUFFIXES)


def _folder_of(file: Path, folders: Sequence[Path]) -> Path | None:
    """The deepest workspace folder holding `file`."""
    holding = [folder for folder in folders if folder == file or folder in file.parents]
    return max(holding, key=lambda folder: len(folder.parts), default=None)


def place_of(request: Request) -> Place | None:
    """Where the document lives and its settings; None when memfix does not read it.

    A document memfix leaves out (not Python, or excluded by `exclude` and the built-in
    excludes such as `.venv` and `site-packages`) has no place. Raises MemfixError for a
    bad `[tool.memfix]` table.
    """
    from memfix.rules import registry

    file = _file_of(request.uri)
    if not _is_python(request, file):
        return None
    settings = Settings() if file is None else load_settings(file.parent)
    # The client decides: an editor applies a fix the moment it is chosen.
    settings = replace(settings, unsafe_fixes=request.unsafe_fixes)
    if file is None:  # an unsaved buffer has no project: the defaults
        codemods = registry.selected(settings.select, settings.ignore, settings.per_file_ignores)
        return Place("untitled.py", None, None, settings, tuple(codemods))
    folder = _folder_of(file, request.folders)
    base = folder or _config_folder(file) or file.parent
    relative = file.relative_to(base) if base in file.parents else Path(file.name)
    if is_excluded(relative, (*settings.extend_exclude, *settings.exclude)):
        return None
    chosen = registry.selected(settings.select, settings.ignore, settings.per_file_ignores)
    codemods = registry.for_path(settings, chosen, file.as_posix())
    return Place(relative.as_posix(), file, folder, settings, tuple(codemods))


def _config_folder(file: Path) -> Path | None:
    found = find_pyproject(file.parent)
    return None if found is None else found.parent


def examine(request: Request) -> Outcome:
    """Analyse one document's text (on a worker thread: it reads settings from disk).

    Raises nothing for a problem the user can fix: a bad `[tool.memfix]`, a text that
    does not parse or a failing codemod come back as log lines.
    """
    try:
        place = place_of(request)
    except MemfixError as error:
        return Outcome(None, ((types.MessageType.Error, f"memfix: {error}"),))
    if place is None:
        return Outcome(None)
    size = len(request.text.encode("utf-8", "surrogatepass"))
    if size > place.settings.max_file_size:
        skipped = f"memfix: {place.path}: skipped: {size} bytes, over the limit"
        empty = Analysis(request.text, ())
        known = Known(request.version, request.unsafe_fixes, place, empty)
        return Outcome(known, ((types.MessageType.Log, skipped),))
    found = analyse(request.text, path=place.path, codemods=place.codemods, settings=place.settings)
    known = Known(request.version, request.unsafe_fixes, place, found)
    logs = tuple(problem_log(problem) for problem in found.problems)
    if request.project:
        try:
            known = replace(known, others=beyond(found, project_findings(place, request.text)))
        except MemfixError as error:
            logs += ((types.MessageType.Error, f"memfix: {error}"),)
        except Exception as error:  # the pass adds to the file's findings: never hide them
            failed = (
                f"memfix: internal error in the repository pass: {type(error).__name__}: {error}"
            )
            logs += ((types.MessageType.Error, failed),)
    return Outcome(known, logs)


def problem_log(problem: Problem) -> tuple[types.MessageType, str]:
    """The log line for `problem`: an error when it is memfix's own fault."""
    if problem.internal:
        return (types.MessageType.Error, f"memfix: internal error: {problem.message}")
    return (types.MessageType.Log, f"memfix: {problem.message}")


def _is_project(folder: Path) -> bool:
    return (folder / "pyproject.toml").is_file() or (folder / ".git").exists()


def project_findings(place: Place, text: str) -> tuple[Finding, ...]:
    """The document's findings from a run over its workspace folder, with the repository pass.

    Empty unless the folder is a project (a pyproject.toml or a git work tree), the text
    is the file as saved (the pass reads every module from disk) and the file is one the
    pass may read. Raises MemfixError as `memfix check` would.
    """
    from memfix.pipeline import runner
    from memfix.project.repository import may_matter

    if place.file is None or place.folder is None or not _is_project(place.folder):
        return ()
    try:
        data = place.file.read_bytes()
        saved = decode_source(data).text
    except (OSError, DecodeError):
        return ()
    if saved != text or not may_matter(data):
        return ()
    # One process: a pool forked from a server's threads could deadlock.
    results = runner.fix_paths([place.folder], replace(place.settings, jobs=1))
    shown = runner.display_path(place.file)
    return next((result.findings for result in results if result.path == shown), ())


def diagnostics_of(known: Known, uri: str, encoding: str) -> list[types.Diagnostic]:
    """Every finding of the document as a diagnostic."""
    lines = protocol.split_lines(known.analysis.text)
    findings = (*known.analysis.findings, *known.others)
    return [protocol.diagnostic(finding, uri, lines, encoding) for finding in findings]


def quick_fixes(
    known: Known,
    target: protocol.Target,
    asked: types.Range,
    near: Sequence[types.Diagnostic] = (),
) -> list[types.CodeAction]:
    """The quick fixes of the findings that `asked` touches or the client sent along as
    `near` (the diagnostics of the cursor's line, for some), one per fixable finding."""
    text = known.analysis.text
    lines = protocol.split_lines(text)
    actions: list[types.CodeAction] = []
    for finding in known.analysis.findings:
        after = known.analysis.fixed_by(finding.codemod)
        # `applied`: this finding's edit is in its codemod's fix with the client's options.
        if not finding.applied or after is None:
            continue
        shown = protocol.diagnostic(finding, target.uri, lines, target.encoding)
        if protocol.is_asked(shown, asked, near):
            actions.append(protocol.quick_fix(target, shown, finding, text, after))
    return actions
