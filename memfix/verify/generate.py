"""From app modules' text to the pytest files that check their memory: pure, no disk."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from memfix.model import build_model
from memfix.verify.plan import plan_module
from memfix.verify.render import render_module
from memfix.verify.runtime import CONFTEST
from memfix.verify.types import ModulePlan

CONFTEST_NAME = "conftest.py"


@dataclass(frozen=True, slots=True)
class AppModule:
    """One module of the user's app: its text, import name, and import folder relative
    to the folder the tests are written to."""

    path: str
    text: str
    module: str
    root: str


@dataclass(frozen=True, slots=True)
class GeneratedFile:
    """One file `memfix verify` writes: its name inside `--out`, and its text."""

    name: str
    text: str


@dataclass(frozen=True, slots=True)
class Generation:
    """The files to write, the plan of every module with entry points, and the modules
    that could not be read (one line each)."""

    files: tuple[GeneratedFile, ...]
    plans: tuple[ModulePlan, ...]
    errors: tuple[str, ...]


def generate(modules: Sequence[AppModule], history_env: str = "CHAT_HISTORY_URL") -> Generation:
    """The test files for every entry point of `modules`, plus the shared conftest.py.

    A module that does not parse is an error line, never an exception; a module with no
    conversation gets no file.
    """
    files: list[GeneratedFile] = []
    plans: list[ModulePlan] = []
    errors: list[str] = []
    taken: set[str] = {CONFTEST_NAME}
    for app in modules:
        model = build_model(app.text, app.path)
        if model.error is not None:
            errors.append(model.error)
            continue
        plan = plan_module(app.text, app.path, app.module, model, history_env)
        if not plan.entries and not plan.undriven:
            continue
        plans.append(plan)
        if plan.entries:
            name = test_file_name(app.module, taken)
            taken.add(name)
            files.append(GeneratedFile(name, render_module(plan, app.root)))
    if files:
        files.insert(0, GeneratedFile(CONFTEST_NAME, CONFTEST))
    return Generation(tuple(files), tuple(plans), tuple(errors))


def test_file_name(module: str, taken: set[str]) -> str:
    """`test_memfix_<module>.py`, numbered when another module already has that name."""
    stem = "test_memfix_" + re.sub(r"\W", "_", module.replace(".", "_"))
    name, number = f"{stem}.py", 2
    while name in taken:
        name, number = f"{stem}_{number}.py", number + 1
    return name
