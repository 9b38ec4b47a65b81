"""Where an import statement leads: the file of a module, found the way Python would.

A module's file is looked for under the folders Python would have on its path when the
app runs: the top of the importing file's package (the first folder up without an
`__init__.py`), the folders the run was given, and the importing file's own folder (a
script run as `python routes.py`). Relative imports (`from .memory import memory`) are
resolved from the importing file's folder. Nothing is imported or run.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

IsFile = Callable[[Path], bool]


@dataclass(frozen=True, slots=True)
class Binding:
    """A name an import binds, and what it reads through it.

    `from app.memory import memory as mem` gives `Binding("mem", "app/memory.py", "memory")`;
    `import app.memory as m` gives `Binding("m", "app/memory.py", None)`: code reads
    `m.<name>`.
    """

    access: str  # the bound name, or the dotted module path code reads names through
    file: Path
    name: str | None  # the imported name, or None when the binding is the module
    line: int


def package_root(file: Path, is_file: IsFile) -> Path:
    """The folder above the file's outermost package (its own folder for a plain module)."""
    folder = file.parent
    while is_file(folder / "__init__.py") and folder.parent != folder:
        folder = folder.parent
    return folder


@functools.lru_cache(maxsize=4096)  # modules of one tree import the same modules
def module_file(folder: Path, dotted: str, is_file: IsFile) -> Path | None:
    """`folder/a/b.py` or `folder/a/b/__init__.py` for `a.b`, when one is a file."""
    base = folder.joinpath(*dotted.split(".")) if dotted else folder
    for candidate in (base.with_name(base.name + ".py"), base / "__init__.py"):
        if dotted and is_file(candidate):
            return candidate
    if not dotted and is_file(base / "__init__.py"):
        return base / "__init__.py"
    return None


def bindings(tree: ast.Module, file: Path, roots: Sequence[Path], is_file: IsFile) -> list[Binding]:
    """Every top-level import of the module that leads to a file found under the roots."""
    folders = list(dict.fromkeys([package_root(file, is_file), *roots, file.parent]))
    found: list[Binding] = []
    for statement in tree.body:
        if isinstance(statement, ast.Import):
            for alias in statement.names:
                target = _absolute(alias.name, folders, is_file)
                if target is not None:
                    access = alias.asname or alias.name
                    if alias.asname is None and "." in alias.name:
                        access = alias.name  # `import app.memory`: read as app.memory.x
                    found.append(Binding(access, target, None, alias.lineno))
        elif isinstance(statement, ast.ImportFrom):
            found.extend(_from_bindings(statement, file, folders, is_file))
    return found


def _from_bindings(
    statement: ast.ImportFrom, file: Path, folders: Sequence[Path], is_file: IsFile
) -> list[Binding]:
    dotted = statement.module or ""
    if statement.level:
        base = file.parent
        for _ in range(statement.level - 1):
            base = base.parent
        bases = [base]
    else:
        bases = list(folders)
    found: list[Binding] = []
    for alias in statement.names:
        if alias.name == "*":
            continue
        bound = alias.asname or alias.name
        for folder in bases:
            # `from app import memory` may name a module as well as an attribute.
            submodule = module_file(folder, _join(dotted, alias.name), is_file)
            if submodule is not None:
                found.append(Binding(bound, submodule, None, alias.lineno))
                break
            parent = module_file(folder, dotted, is_file)
            if parent is not None:
                found.append(Binding(bound, parent, alias.name, alias.lineno))
                break
    return found


def _absolute(dotted: str, folders: Sequence[Path], is_file: IsFile) -> Path | None:
    for folder in folders:
        target = module_file(folder, dotted, is_file)
        if target is not None:
            return target
    return None


def _join(module: str, name: str) -> str:
    return f"{module}.{name}" if module else name
