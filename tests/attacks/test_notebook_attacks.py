"""Notebooks whose cells defeat a fix: the fix still binds every name it reads, and a fix
memfix must reject is reported as that notebook's failure, with the exit code of a file
that could not be fixed, exactly as for a `.py` file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import libcst as cst
import pytest

from memfix import report
from memfix.config import Settings
from memfix.notebook.document import read_notebook
from memfix.pipeline.engine import fix_source
from memfix.pipeline.notebooks import fix_notebook
from memfix.report.text import error_line
from memfix.results import Status
from memfix.rules import registry
from memfix.rules.codemod import Codemod, Fix
from memfix.rules.registry import all_codemods
from memfix.source.validate import undefined_names
from tests.support.cli import invoke

IMPORTS = "from langchain_core.chat_history import InMemoryChatMessageHistory"
STORE = (
    "store = {}\n\n\n"
    "def get_session_history(session_id: str):\n"
    "    if session_id not in store:\n"
    "        store[session_id] = InMemoryChatMessageHistory()\n"
    "    return store[session_id]"
)
LATER_OS = "import os\nprint(os.getcwd())"


def notebook(*sources: str) -> str:
    """An nbformat 4 notebook with one code cell per source."""
    cells: list[dict[str, Any]] = [
        {
            "cell_type": "code",
            "execution_count": None,
            "metadata": {},
            "outputs": [],
            "source": source.splitlines(keepends=True),
        }
        for source in sources
    ]
    document = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(document, indent=1) + "\n"


def code_cells(text: str) -> list[str]:
    return [cell.source for cell in read_notebook(text).cells if cell.kind == "code"]


def binds_everything_it_reads(cells: list[str]) -> bool:
    """Whether the cells, run in order as one program, read no name they never bind."""
    program = "\n".join(cells) + "\n"
    return undefined_names(cst.parse_module(program)) <= {"print"}


@pytest.mark.parametrize(
    "cells",
    [
        pytest.param((IMPORTS, STORE, LATER_OS), id="os imported in a later cell"),
        pytest.param((IMPORTS + "\n" + STORE, LATER_OS), id="one cell, then os"),
        pytest.param(
            ("x = 1", IMPORTS, STORE, "from sqlalchemy import create_engine"), id="sqlalchemy later"
        ),
        pytest.param(
            (STORE.replace("store = {}", IMPORTS + "\nstore = {}"), "import os"),
            id="bare import os later",
        ),
    ],
)
def test_the_notebook_fix_imports_what_it_reads_before_it_reads_it(cells: tuple[str, ...]) -> None:
    text = notebook(*cells)
    result = fix_notebook(text, path="nb.ipynb", codemods=all_codemods(), settings=Settings())
    assert result.status is Status.CHANGED, result.error
    fixed = code_cells(result.after)
    assert binds_everything_it_reads(fixed)
    first_use = next(i for i, cell in enumerate(fixed) if "os.environ" in cell)
    imported = next(
        i for i, cell in enumerate(fixed) if cell.startswith("import os") or "\nimport os\n" in cell
    )
    assert imported <= first_use
    assert fixed[-1] == cells[-1]  # the later cell keeps its own import, untouched


def test_a_python_file_importing_os_at_the_end_gets_the_import_too() -> None:
    source = IMPORTS + "\n\n" + STORE + "\n\n\n" + LATER_OS + "\n"
    result = fix_source(source, path="app.py", codemods=all_codemods(), settings=Settings())
    assert result.status is Status.CHANGED, result.error
    assert result.after.startswith("import os\n")


def test_check_and_apply_on_such_a_notebook_fix_it_and_never_exit_2(project: Path) -> None:
    (project / "nb.ipynb").write_text(notebook(IMPORTS, STORE, LATER_OS), encoding="utf-8")
    code, out, err = invoke("check")
    assert code == 1, err
    assert "error" not in err and "nb.ipynb:cell 2:" in out
    code, _, err = invoke("apply", "--yes")
    assert code == 0, err
    fixed = code_cells((project / "nb.ipynb").read_text(encoding="utf-8"))
    assert "store[session_id] = _chat_history(session_id)\n" in fixed[1]
    assert binds_everything_it_reads(fixed)


class RenameToUndefined(Codemod):
    """Renames the argument `x` to a name nothing binds: its output must fail validation."""

    NAME = "in-process-history"  # a real name, so that a run can select it
    FIX = Fix.SAFE

    def leave_Arg(self, original_node: cst.Arg, updated_node: cst.Arg) -> cst.Arg:
        value = original_node.value
        if isinstance(value, cst.Name) and value.value == "x":
            self.report(original_node, "x is a bad name", fixed=True)
            return updated_node.with_changes(value=cst.Name("undefined_name"))
        return updated_node


REJECTED = ("import langchain_core\nx = 1", "print(x)")


def test_a_rejected_notebook_fix_is_that_notebooks_failure_like_a_python_files() -> None:
    text = notebook(*REJECTED)
    book = fix_notebook(text, path="nb.ipynb", codemods=[RenameToUndefined], settings=Settings())
    script = fix_source(
        "\n".join(REJECTED) + "\n", path="nb.py", codemods=[RenameToUndefined], settings=Settings()
    )
    for result in (book, script):
        assert result.status is Status.FAILED
        assert not result.internal
        assert result.after == result.before
        assert result.error == (
            "fix by in-process-history rejected: the rewritten code reads undefined name(s): "
            "undefined_name"
        )
        assert [f.applied for f in result.findings] == [False]
        assert report.exit_code([result]) == 1
    assert book.before == text
    assert error_line(book) == f"nb.ipynb: error: {book.error}"
    assert [(f.cell, f.line) for f in book.findings] == [(2, 1)]


def test_check_reports_a_rejected_notebook_fix_and_exits_1(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registry, "selected", lambda *chosen: [RenameToUndefined])
    (project / "nb.ipynb").write_text(notebook(*REJECTED), encoding="utf-8")
    (project / "ok.ipynb").write_text(notebook("import langchain_core\ny = 1"), encoding="utf-8")
    before = (project / "nb.ipynb").read_bytes()
    for command in (["check"], ["apply", "--yes"]):
        args = [*command, "--select", "in-process-history", "--no-prefilter", "-j", "1"]
        code, _, err = invoke(*args)
        assert code == 1, err
        assert (
            "nb.ipynb: error: fix by in-process-history rejected: the rewritten code reads "
            "undefined name(s): undefined_name"
        ) in err
    assert (project / "nb.ipynb").read_bytes() == before


class RunsIntoTheNextCell(Codemod):
    """Makes `x = 1` a list that ends in the next cell: one program, but no cell parses."""

    NAME = "in-process-history"
    FIX = Fix.SAFE

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        lines = updated_node.code.splitlines(keepends=True)
        if "x = 1\n" not in lines:
            return updated_node
        self.report(original_node, "x runs on", fixed=True)
        at = lines.index("x = 1\n")
        lines[at] = "x = [1,\n"
        lines.insert(at + 2, "]\n")  # after the line that separates the cells
        return cst.parse_module("".join(lines))


def test_a_fix_that_breaks_a_cell_is_that_notebooks_failure_not_memfixs() -> None:
    text = notebook(*REJECTED)
    result = fix_notebook(
        text, path="nb.ipynb", codemods=[RunsIntoTheNextCell], settings=Settings()
    )
    assert result.status is Status.FAILED and result.after == text
    assert result.error is not None
    assert result.error.startswith("fix rejected: cell 1: the rewritten cell does not parse")
    assert not result.internal
    assert report.exit_code([result]) == 1
