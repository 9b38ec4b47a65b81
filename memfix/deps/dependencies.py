"""The packages a fix needs, added to the project's dependency list: text in, text out.

A fix that imports a new distribution (`sqlalchemy` for a SQLite history) is only half
a fix until the project installs it. This module adds the missing names, unpinned, to a
`requirements*.txt` file or to a `pyproject.toml` list (`[project] dependencies`, or
Poetry's `[tool.poetry.dependencies]`), editing the text as little as it can. A name
counts as listed whatever its version, extras or marker, and however it is spelled
(PEP 503: `Langchain_Community>=0.2` lists `langchain-community`). A pyproject.toml edit
is read back with tomllib and must parse to the same data plus the new names; otherwise
the file is left as it was and the result says why.
"""

from __future__ import annotations

import copy
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from memfix.deps import toml_edit
from memfix.results import FileResult, Finding, Fix, Status
from memfix.source.diff import unified_diff

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

PYPROJECT = "pyproject.toml"
REQUIREMENTS = "requirements.txt"
# pip-tools compiles requirements.txt from this one: an edit belongs in the source.
REQUIREMENTS_SOURCE = "requirements.in"
# Words that mark a requirements file as not the one the program is installed from.
_NOT_RUNTIME = frozenset(
    {"dev", "develop", "development", "test", "tests", "testing", "lint", "doc", "docs"}
    | {"ci", "typing", "build", "local"}
)

_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?")
# What may follow a project name in a requirement: a version, extras, a marker, a URL.
_AFTER_NAME = frozenset(" \t[(<>=!~;@,\\")
_COMMENT = re.compile(r"(?:^|\s)#.*")
_NEWLINE = re.compile(r"\r\n|\n|\r")
_LISTS = {"project": "[project] dependencies", "poetry": "[tool.poetry.dependencies]"}


@dataclass(frozen=True, slots=True)
class Addition:
    """A dependency file's new text, with the packages it did not list.

    `text` is the old text unchanged when nothing is missing or `problem` says why the
    missing names could not be added. `line` is where the list starts, from 1.
    """

    text: str
    missing: tuple[str, ...]
    problem: str | None = None
    line: int = 1


@dataclass(frozen=True, slots=True)
class Need:
    """The packages that the fix of one file needs, and the codemod whose fix it is.

    `source` is the file as the dependency file's finding names it.
    """

    source: str
    packages: tuple[str, ...]
    codemod: str
    fix: Fix = Fix.SAFE


def normalized(name: str) -> str:
    """A project name as PEP 503 compares them: lower case, runs of `-_.` as one `-`."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str | None:
    """The project a PEP 508 requirement names (`Foo[bar]>=1; marker` -> `Foo`), or None
    for what names no project (a URL, a path, an option)."""
    text = requirement.strip()
    match = _NAME.match(text)
    if match is None:
        return None
    rest = text[match.end() :]
    return match.group() if not rest or rest[0] in _AFTER_NAME else None


def is_requirements(name: str) -> bool:
    """Whether a file name is a requirements file the program is installed from.

    `requirements.txt`, `requirements.in` and `requirements-prod.txt` are; files for
    development, tests, docs or CI (`requirements-dev.txt`) are not.
    """
    if name in (REQUIREMENTS, REQUIREMENTS_SOURCE):
        return True
    if not (name.startswith("requirements") and name.endswith(".txt")):
        return False
    words = re.split(r"[-_.]+", name[len("requirements") : -len(".txt")].lower())
    return _NOT_RUNTIME.isdisjoint(words)


def preferred(names: Iterable[str]) -> list[str]:
    """The dependency files among one folder's file names, the one to edit first.

    `requirements.in`, then `requirements.txt`, then other requirements files by name,
    then `pyproject.toml` (which must still be checked for a dependency list).
    """
    present = set(names)
    order = [REQUIREMENTS_SOURCE, REQUIREMENTS]
    others = sorted(n for n in present if is_requirements(n) and n not in order)
    return [n for n in [*order, *others, PYPROJECT] if n in present]


def lists_dependencies(name: str, text: str) -> bool:
    """Whether a dependency file has a list to add to (a pyproject.toml may have none)."""
    if name != PYPROJECT:
        return True
    data = _toml(text)
    return data is not None and _kind(data) is not None


def add_packages(name: str, text: str, packages: Sequence[str]) -> Addition:
    """The dependency file `name` (`requirements*.txt` or `pyproject.toml`) with each of
    `packages` it does not list added, unpinned, in order."""
    if name == PYPROJECT:
        return _add_to_pyproject(text, packages)
    listed = _requirements_names(text)
    missing = _missing(packages, listed)
    if not missing:
        return Addition(text, ())
    return Addition(_append_requirements(text, missing), missing)


def dependency_result(path: str, text: str, needs: Sequence[Need]) -> FileResult | None:
    """The result for the dependency file at `path`: CHANGED with the packages `needs`
    ask for and it lacks; UNCHANGED with an unfixed finding when they cannot be added;
    None when it lists them all."""
    wanted = list(dict.fromkeys(p for need in needs for p in need.packages))
    addition = add_packages(PurePosixPath(path).name, text, wanted)
    if not addition.missing:
        return None
    missing = {normalized(name) for name in addition.missing}
    sources = [n.source for n in needs if missing & {normalized(p) for p in n.packages}]
    fixes = "fix in" if len(sources) == 1 else "fixes in"
    message = f"lacks {', '.join(addition.missing)}, needed by the {fixes} {', '.join(sources)}"
    asking = needs[0]
    if addition.problem is not None:
        message += f"; add them by hand: {addition.problem}"
    fixed = addition.problem is None
    finding = Finding(
        asking.codemod, message, addition.line, 1, asking.fix, fixed=fixed, applied=fixed
    )
    if not fixed:
        return FileResult(path, text, text, "", (finding,), Status.UNCHANGED)
    diff = unified_diff(text, addition.text, path)
    return FileResult(path, text, addition.text, diff, (finding,), Status.CHANGED)


def _missing(packages: Sequence[str], listed: Iterable[str]) -> tuple[str, ...]:
    """`packages` that are not in `listed` (normalized names), each once, in order."""
    seen = set(listed)
    missing: list[str] = []
    for package in packages:
        key = normalized(package)
        if key not in seen:
            seen.add(key)
            missing.append(package)
    return tuple(missing)


def _newline(text: str) -> str:
    """The file's line ending, from its first line; `\\n` for a file of one line."""
    found = _NEWLINE.search(text)
    return found.group() if found else "\n"


# requirements*.txt


def _requirements_names(text: str) -> set[str]:
    """The normalized names a requirements file lists (options and URLs name none)."""
    names: set[str] = set()
    for line in _logical_lines(text):
        content = _COMMENT.sub("", line).strip()
        if not content or content.startswith("-"):
            continue  # -r, -e, -c, --index-url ...: never a plain project name
        name = requirement_name(content)
        if name is not None:
            names.add(normalized(name))
    return names


def _logical_lines(text: str) -> list[str]:
    """The lines pip reads: a line ending in a backslash goes on with the next one."""
    lines: list[str] = []
    pending = ""
    for line in text.splitlines():
        if line.endswith("\\"):
            pending += line[:-1]
            continue
        lines.append(pending + line)
        pending = ""
    if pending:
        lines.append(pending)
    return lines


def _append_requirements(text: str, missing: Sequence[str]) -> str:
    newline = _newline(text)
    lines = text.splitlines()
    if text and not text.endswith(("\n", "\r")):
        text += newline
    if lines and lines[-1].endswith("\\"):
        text += newline  # an empty line ends the continued one, so ours stand alone
    return text + "".join(name + newline for name in missing)


# pyproject.toml


def _toml(text: str) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except (ValueError, RecursionError):  # TOMLDecodeError is a ValueError
        return None
    return data


def _kind(data: dict[str, Any]) -> str | None:
    """Which list the pyproject data has: `project`, `poetry`, or None."""
    project = data.get("project")
    if isinstance(project, dict) and isinstance(project.get("dependencies"), list):
        return "project"
    tool = data.get("tool")
    poetry = tool.get("poetry") if isinstance(tool, dict) else None
    if isinstance(poetry, dict) and isinstance(poetry.get("dependencies"), dict):
        return "poetry"
    return None


def _add_to_pyproject(text: str, packages: Sequence[str]) -> Addition:
    data = _toml(text)
    if data is None:
        missing = _missing(packages, ())
        return Addition(text, missing, f"{PYPROJECT} is not valid TOML")
    kind = _kind(data)
    if kind is None:
        problem = f"{PYPROJECT} has no [project] dependencies or [tool.poetry.dependencies]"
        return Addition(text, _missing(packages, ()), problem)
    if kind == "project":
        current: list[Any] = data["project"]["dependencies"]
        listed = {normalized(n) for n in map(_name_of, current) if n is not None}
    else:
        table: dict[str, Any] = data["tool"]["poetry"]["dependencies"]
        listed = {normalized(name) for name in table}
    missing = _missing(packages, listed)
    if not missing:
        return Addition(text, ())
    if kind == "project":
        edited = toml_edit.append_to_array(text, "project", "dependencies", missing)
    else:
        entries = dict.fromkeys(missing, "*")
        edited = toml_edit.add_to_table(text, "tool.poetry.dependencies", entries)
    if edited is None:
        return Addition(text, missing, f"memfix cannot edit its {_LISTS[kind]} in place")
    new_text, line = edited
    if _toml(new_text) != _expected(data, kind, missing):
        return Addition(text, missing, f"the edit would not keep {PYPROJECT} as it was", line)
    return Addition(new_text, missing, None, line)


def _name_of(requirement: object) -> str | None:
    return requirement_name(requirement) if isinstance(requirement, str) else None


def _expected(data: dict[str, Any], kind: str, missing: Sequence[str]) -> dict[str, Any]:
    """What the edited file must parse to: the same data, the names added to the list."""
    expected = copy.deepcopy(data)
    if kind == "project":
        expected["project"]["dependencies"].extend(missing)
    else:
        expected["tool"]["poetry"]["dependencies"].update(dict.fromkeys(missing, "*"))
    return expected


def need_of(result: FileResult, source: str) -> Need:
    """What a CHANGED result's fix needs, with `source` as the name to show for it."""
    codemod = result.packages_by[0] if result.packages_by else ""
    fixes = [f.fix for f in result.findings if f.applied and f.codemod == codemod]
    return Need(source, result.packages, codemod, fixes[0] if fixes else Fix.SAFE)
