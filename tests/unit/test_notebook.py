"""Notebooks: code cells fixed as one program, the JSON around them kept byte for byte."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import hypothesis
import libcst as cst
import pytest
from hypothesis import strategies as st
from typer.testing import CliRunner

from memfix.cli import app
from memfix.codemods.in_process_history.transform import InProcessHistory
from memfix.codemods.per_call_state.transform import PerCallState
from memfix.config import Settings
from memfix.files.discover import discover
from memfix.files.write import WriteError, write_if_unchanged
from memfix.notebook.cells import join_cells
from memfix.notebook.document import read_notebook, with_sources
from memfix.pipeline import cache
from memfix.pipeline.engine import fix_bytes
from memfix.pipeline.notebooks import fix_notebook
from memfix.report.github import to_github
from memfix.report.json_report import to_json
from memfix.report.sarif import to_sarif
from memfix.report.text import finding_line
from memfix.results import FileResult, Status
from memfix.rules.codemod import Codemod, Fix

IMPORTS = (
    "from langchain_openai import ChatOpenAI\n"
    "from langchain.memory import ConversationBufferMemory\n"
    "from langchain.chains import ConversationChain"
)
ASK = (
    "def ask(question: str):\n"
    '    llm = ChatOpenAI(model="gpt-4o-mini")\n'
    "    memory = ConversationBufferMemory()\n"
    "    chain = ConversationChain(llm=llm, memory=memory)\n"
    '    return chain.invoke({"input": question})'
)
FIXED_ASK = (
    'llm = ChatOpenAI(model="gpt-4o-mini")\n'
    "memory = ConversationBufferMemory()\n"
    "chain = ConversationChain(llm=llm, memory=memory)\n"
    "\n\n"
    "def ask(question: str):\n"
    '    return chain.invoke({"input": question})'
)
CLEAN_ASK = IMPORTS + "\nmemory = ConversationBufferMemory()\nprint(memory)\n"
MESSAGE = (
    "per-call-state ConversationBufferMemory 'memory' is rebuilt on every call of ask(), "
    "so each turn starts empty [*]"
)
CODEMODS = [PerCallState]
SETTINGS = Settings()


def notebook(sources: list[tuple[str, str]], *, indent: int | None = 1, lines: bool = True) -> str:
    """A notebook as Jupyter writes it (nbformat: indent 1, sources as lists of lines)."""
    cells: list[dict[str, Any]] = []
    for number, (kind, source) in enumerate(sources, 1):
        cell: dict[str, Any] = {
            "cell_type": kind,
            "id": f"cell-{number}",
            "metadata": {"tags": ["keep"], "collapsed": False},
            "source": source.splitlines(keepends=True) if lines else source,
        }
        if kind == "code":
            cell["execution_count"] = number
            cell["outputs"] = [
                {"name": "stdout", "output_type": "stream", "text": ["caf\u00e9 \u2615\n"]}
            ]
        cells.append(cell)
    document = {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python", "version": "3.11.7"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(document, indent=indent, ensure_ascii=False) + "\n"


BUGGY = [
    ("code", "%pip install -q langchain langchain-openai\n!ls"),
    ("markdown", "# A bot that forgets\nIt should remember `memory`."),
    ("code", IMPORTS),
    ("code", ASK),
    ("code", 'ask("My name is Sam")\nask?'),
]


def fix(text: str, **settings: Any) -> FileResult:
    return fix_notebook(
        text, path="nb.ipynb", codemods=CODEMODS, settings=SETTINGS.with_overrides(**settings)
    )


def sources_of(text: str) -> list[str]:
    return [cell.source for cell in read_notebook(text).cells]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(notebook([("code", IMPORTS), ("code", CLEAN_ASK)]), id="nbformat layout"),
        pytest.param(notebook([("code", CLEAN_ASK)], indent=2), id="indent 2"),
        pytest.param(notebook([("code", CLEAN_ASK)], indent=None), id="one line of JSON"),
        pytest.param(notebook([("code", CLEAN_ASK)], lines=False), id="sources as strings"),
        pytest.param(notebook([("code", CLEAN_ASK)]).replace("\n", "\r\n"), id="CRLF JSON"),
        pytest.param(notebook([("code", CLEAN_ASK)]).rstrip("\n"), id="no final newline"),
        pytest.param(notebook([("raw", ASK), ("markdown", ASK)]), id="no code cells"),
    ],
)
def test_notebooks_round_trip_byte_for_byte_when_nothing_changes(text: str) -> None:
    book = read_notebook(text)
    assert with_sources(book, {}) == text
    code = {cell.number: cell.source for cell in book.cells if cell.kind == "code"}
    assert with_sources(book, code) == text  # a source rewritten as it was reads the same
    result = fix(text)
    assert result.status is Status.UNCHANGED
    assert result.after == result.before == text
    assert result.diff == ""


def test_a_per_call_state_bug_is_fixed_with_outputs_and_metadata_kept() -> None:
    text = notebook(BUGGY)
    result = fix(text)
    assert result.status is Status.CHANGED, result.error
    assert sources_of(result.after) == [*[s for _, s in BUGGY[:3]], FIXED_ASK, BUGGY[4][1]]
    before, after = json.loads(text), json.loads(result.after)
    after["cells"][3]["source"] = before["cells"][3]["source"]
    assert after == before  # outputs, metadata, ids, execution counts, key order
    assert list(json.loads(result.after)) == list(before)
    assert result.after.endswith("}\n") and "caf\u00e9 \u2615" in result.after
    # Only the changed cell's lines differ in the file.
    unchanged_prefix = text[: text.index('"def ask')]
    assert result.after.startswith(unchanged_prefix[: unchanged_prefix.rindex("[")])
    assert fix(result.after).status is Status.UNCHANGED  # idempotent


def test_the_diff_is_shown_per_cell_headed_by_notebook_and_cell() -> None:
    diff = fix(notebook(BUGGY)).diff
    assert diff.startswith("--- nb.ipynb:cell 4\n+++ nb.ipynb:cell 4\n@@ ")
    assert "+memory = ConversationBufferMemory()\n" in diff
    assert "-    memory = ConversationBufferMemory()\n" in diff
    assert "cell 1" not in diff and "cell 5" not in diff


def test_findings_name_the_cell_and_the_line_within_it() -> None:
    [finding] = fix(notebook(BUGGY)).findings
    assert (finding.cell, finding.line, finding.column) == (4, 3, 14)
    assert finding_line("nb.ipynb", finding) == f"nb.ipynb:cell 4:3:14: {MESSAGE}"


def test_a_memory_imported_in_one_cell_is_known_in_another() -> None:
    alone = notebook([("code", ASK)])
    assert fix(alone).findings == ()  # no import: not LangChain's memory
    assert fix(notebook([("code", IMPORTS), ("code", ASK)])).changed


def test_what_a_fix_adds_at_module_scope_lands_in_the_cell_of_the_imports() -> None:
    store = (
        "store = {}\n\n\n"
        "def get_session_history(session_id: str):\n"
        "    if session_id not in store:\n"
        "        store[session_id] = InMemoryChatMessageHistory()\n"
        "    return store[session_id]"
    )
    imports = "from langchain_core.chat_history import InMemoryChatMessageHistory"
    text = notebook([("code", "%pip install langchain"), ("code", imports), ("code", store)])
    result = fix_notebook(text, path="nb.ipynb", codemods=[InProcessHistory], settings=SETTINGS)
    assert result.changed, result.error
    pip, setup, fixed = sources_of(result.after)
    assert pip == "%pip install langchain"
    assert "import SQLChatMessageHistory\n" in setup and not setup.endswith("\n")
    assert "store[session_id] = _chat_history(session_id)\n" in fixed
    assert [(f.cell, f.line) for f in result.findings] == [(3, 6)]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param('{"cells": [{"cell_type": "code", "source": "import langchain"}', id="cut"),
        pytest.param('{"cells": [], "metadata": {},}\n', id="trailing comma"),
        pytest.param('{"worksheets": [], "note": "langchain"}\n', id="nbformat 3"),
        pytest.param('{"cells": [{"cell_type": "code"}]}\n', id="cell without source"),
        pytest.param('["langchain"]\n', id="not an object"),
    ],
)
def test_an_invalid_notebook_is_a_failed_result_left_untouched(text: str) -> None:
    result = fix(text)
    assert result.status is Status.FAILED
    assert result.after == result.before == text
    assert result.error is not None and "\n" not in result.error
    assert not result.internal  # the file's problem, not memfix's


def test_a_notebook_that_is_not_utf8_is_reported() -> None:
    data = notebook(BUGGY).encode("utf-16")
    result = fix_bytes(data, path="nb.ipynb", codemods=CODEMODS, settings=SETTINGS)
    assert result.status is Status.FAILED
    assert result.error is not None and result.error.startswith("cannot decode:")


def test_ipython_lines_are_masked_while_fixing_and_put_back() -> None:
    cell = "!pip install langchain\n" + IMPORTS + "\n%load_ext autoreload\n" + ASK
    result = fix(notebook([("code", cell)]))
    assert result.changed, result.error
    [after] = sources_of(result.after)
    assert after.startswith("!pip install langchain\n")
    assert "\n%load_ext autoreload\n" in after
    assert "\nmemory = ConversationBufferMemory()\n" in after


def test_a_line_that_only_looks_like_a_magic_inside_a_string_is_code() -> None:
    program = join_cells(read_notebook(notebook([("code", 'x = """\n%s\n!\n"""\n!ls')])))
    assert '"""\n%s\n!\n"""\n' in program.text
    assert "!ls" not in program.text


def test_a_line_that_only_looks_like_a_magic_inside_brackets_is_code() -> None:
    cell = "x = (10\n% 3)\n!ls"
    program = join_cells(read_notebook(notebook([("code", cell)])))
    assert program.text.startswith("x = (10\n% 3)\n# memfix-magic ")
    assert program.magics == ("!ls",)


def test_magics_in_a_cell_with_windows_line_endings_are_put_back() -> None:
    cell = ("!pip install langchain\n" + IMPORTS + "\n" + ASK).replace("\n", "\r\n")
    result = fix(notebook([("code", cell)], lines=False))
    assert result.changed, result.error
    [after] = sources_of(result.after)
    assert after.startswith("!pip install langchain\r\nfrom langchain_openai")


def test_cells_that_are_not_python_are_left_out_and_never_changed() -> None:
    bash = "%%bash\necho langchain\n" + ASK
    awaits = IMPORTS + "\nawait something()\n" + ASK
    text = notebook([("code", IMPORTS), ("code", bash), ("code", awaits), ("code", "x = (")])
    program = join_cells(read_notebook(text))
    assert program.cells == (1,)
    assert fix(text).status is Status.UNCHANGED


def test_a_notebook_for_another_language_is_left_alone() -> None:
    text = notebook([("code", IMPORTS + "\n" + ASK)]).replace('"python"', '"r"')
    assert fix(text).status is Status.UNCHANGED


@hypothesis.settings(max_examples=60, deadline=None, derandomize=True)
@hypothesis.given(
    st.lists(st.tuples(st.sampled_from(["code", "markdown"]), st.text(max_size=60)), max_size=4),
    st.sampled_from([1, 2, None]),
)
def test_any_notebook_without_a_fix_comes_back_byte_for_byte(
    cells: list[tuple[str, str]], indent: int | None
) -> None:
    text = notebook(cells, indent=indent)
    result = fix(text, prefilter=False)
    assert not result.internal, result.error
    assert result.status is Status.UNCHANGED
    assert result.after == text
    book = read_notebook(text)
    assert with_sources(book, {c.number: c.source for c in book.cells}) == text


class OneToTwo(Codemod):
    """An unsafe fix for the tests: `1` becomes `2`."""

    NAME = "one-to-two"
    FIX = Fix.UNSAFE

    def leave_Integer(self, original_node: cst.Integer, updated_node: cst.Integer) -> cst.Integer:
        if original_node.value == "1" and self.report(original_node, "one", fixed=True):
            return updated_node.with_changes(value="2")
        return updated_node


class DropStrings(Codemod):
    """Removes every string statement, so the cells' separators are lost too."""

    NAME = "drop-strings"
    FIX = Fix.SAFE

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> cst.SimpleStatementLine | cst.RemovalSentinel:
        [statement] = original_node.body
        if isinstance(statement, cst.Expr) and isinstance(statement.value, cst.SimpleString):
            self.report(original_node, "string", fixed=True)
            return cst.RemoveFromParent()
        return updated_node


def test_unsafe_fixes_left_out_are_shown_per_cell() -> None:
    text = notebook([("code", "x = 0"), ("markdown", "1"), ("code", "y = 1\nz = 3")])
    result = fix_notebook(text, path="nb.ipynb", codemods=[OneToTwo], settings=SETTINGS)
    assert result.status is Status.UNCHANGED
    assert result.pending_diff == "--- nb.ipynb:cell 3\n+++ nb.ipynb:cell 3\n@@ -1,2 +1,2 @@\n" + (
        "-y = 1\n+y = 2\n z = 3\n\\ No newline at end of file\n"
    )
    unsafe = SETTINGS.with_overrides(unsafe_fixes=True)
    applied = fix_notebook(text, path="nb.ipynb", codemods=[OneToTwo], settings=unsafe)
    assert applied.diff == result.pending_diff
    assert sources_of(applied.after) == ["x = 0", "1", "y = 2\nz = 3"]


def test_a_rewrite_that_loses_the_cells_is_redone_cell_by_cell() -> None:
    text = notebook([("code", "'a'\nx = 0"), ("code", "y = 0"), ("code", "'c'")])
    result = fix_notebook(text, path="nb.ipynb", codemods=[DropStrings], settings=SETTINGS)
    assert result.status is Status.CHANGED, result.error
    assert sources_of(result.after) == ["x = 0", "y = 0", ""]
    assert [(f.cell, f.line) for f in result.findings] == [(1, 1), (3, 1)]


def test_discover_picks_notebooks_and_respects_excludes(tmp_path: Path) -> None:
    for name in ("a.py", "b.ipynb", "c.txt", "skip/d.ipynb", ".ipynb_checkpoints/b.ipynb"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("{}", "utf-8")
    found = discover([tmp_path], Settings().with_overrides(exclude=("skip",)))
    assert [p.relative_to(tmp_path).as_posix() for p in found] == ["a.py", "b.ipynb"]


def test_write_refuses_a_notebook_that_is_not_json(tmp_path: Path) -> None:
    path = tmp_path / "nb.ipynb"
    path.write_text(notebook(BUGGY), "utf-8")
    result = fix_bytes(path.read_bytes(), path=str(path), codemods=CODEMODS, settings=SETTINGS)
    before = path.read_bytes()
    with pytest.raises(WriteError, match="not valid JSON"):
        write_if_unchanged(FileResult(**{**_fields(result), "after": result.after[:-3]}))
    assert path.read_bytes() == before
    write_if_unchanged(result)
    assert sources_of(path.read_text("utf-8"))[3] == FIXED_ASK


def _fields(result: FileResult) -> dict[str, Any]:
    return {name: getattr(result, name) for name in FileResult.__dataclass_fields__}


def test_a_cached_notebook_result_comes_back_with_its_cells(tmp_path: Path) -> None:
    store = cache.open_cache(CODEMODS, SETTINGS, folder=tmp_path)
    assert store is not None
    data = notebook(BUGGY).encode()
    result = fix_bytes(data, path="nb.ipynb", codemods=CODEMODS, settings=SETTINGS)
    store.store(result)
    assert store.load(result.digest, "nb.ipynb") == result
    assert result.findings[0].cell == 4


def test_reports_name_the_cell() -> None:
    result = fix(notebook(BUGGY))
    [entry] = json.loads(to_json([result]))["files"][0]["findings"]
    assert (entry["cell"], entry["line"], entry["column"]) == (4, 3, 14)
    assert to_github([result]).startswith(
        "::warning file=nb.ipynb,title=memfix per-call-state::cell 4, line 3: "
    )
    [sarif] = json.loads(to_sarif([result]))["runs"][0]["results"]
    assert sarif["message"]["text"].startswith("cell 4, line 3: ConversationBufferMemory")
    assert "region" not in sarif["locations"][0]["physicalLocation"]


def test_the_size_limit_is_on_the_code_not_the_outputs() -> None:
    text = notebook(BUGGY)
    small = len(text) // 2
    assert fix(text, max_file_size=small).changed
    assert fix(text, max_file_size=100).status is Status.SKIPPED


# The command line, through typer's CliRunner: exit code first, then output.


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "nb.ipynb").write_text(notebook(BUGGY), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MEMFIX_NO_CACHE", "1")
    return tmp_path


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [*args, "--select", "per-call-state"])
    return result.exit_code, result.stdout, result.stderr


def state(path: Path) -> tuple[bytes, int]:
    return path.read_bytes(), path.stat().st_mtime_ns


def test_check_names_the_cell(project: Path) -> None:
    before = state(project / "nb.ipynb")
    code, out, err = invoke("check")
    assert code == 1
    assert out == f"nb.ipynb:cell 4:3:14: {MESSAGE}\n"
    assert "Found 1 finding in 1 file (1 fixable with `memfix apply`)." in err
    assert state(project / "nb.ipynb") == before


def test_apply_dry_run_shows_cell_diffs_and_writes_nothing(project: Path) -> None:
    path = project / "nb.ipynb"
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    before = state(path)
    code, out, _ = invoke("apply", "--dry-run")
    assert code == 1
    assert out.startswith("--- nb.ipynb:cell 4\n+++ nb.ipynb:cell 4\n@@ ")
    assert "+memory = ConversationBufferMemory()\n" in out
    assert state(path) == before


def test_apply_yes_fixes_the_notebook(project: Path) -> None:
    path = project / "nb.ipynb"
    code, out, err = invoke("apply", "--yes")
    assert code == 0, err
    assert "--- nb.ipynb:cell 4" in out
    assert "Fixed 1 file." in err
    assert sources_of(path.read_text("utf-8"))[3] == FIXED_ASK
    assert json.loads(path.read_text("utf-8"))["cells"][3]["outputs"][0]["text"] == [
        "caf\u00e9 \u2615\n"
    ]
    assert invoke("check")[0] == 0


def test_an_invalid_notebook_is_one_error_line_and_left_as_it_was(project: Path) -> None:
    path = project / "nb.ipynb"
    path.write_text(notebook(BUGGY)[:-4], encoding="utf-8")
    before = state(path)
    code, out, err = invoke("apply", "--yes")
    assert code == 1
    assert out == ""
    [line] = [line for line in err.splitlines() if "error" in line]
    assert line.startswith("nb.ipynb: error: invalid JSON: ")
    assert state(path) == before
