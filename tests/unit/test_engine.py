"""The pure core on strings: fixpoint, fix safety, failures, prefilter."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest

from memfix.config import Settings
from memfix.pipeline.engine import fix_bytes, fix_source
from memfix.results import Status
from memfix.rules.codemod import Codemod, Fix, Invalid, SkipFile, Valid
from memfix.rules.registry import all_codemods
from tests.support.fixtures import PROGRAM

SETTINGS = Settings()


class RenameToUndefined(Codemod):
    """Renames the argument `x` to a name nothing binds: its output must fail validation."""

    NAME = "rename-to-undefined"
    FIX = Fix.SAFE
    VALID: list[Valid] = []
    INVALID: list[Invalid] = []

    def leave_Arg(self, original_node: cst.Arg, updated_node: cst.Arg) -> cst.Arg:
        if cst.ensure_type(original_node.value, cst.Name).value == "x":
            self.report(original_node, "x is a bad name", fixed=True)
            return updated_node.with_changes(value=cst.Name("undefined_name"))
        return updated_node


class Crashes(Codemod):
    NAME = "crashes"
    FIX = Fix.SAFE

    def visit_Module(self, node: cst.Module) -> None:
        raise RuntimeError("boom")


class Skips(Codemod):
    NAME = "skips"
    FIX = Fix.SAFE

    def visit_Module(self, node: cst.Module) -> None:
        raise SkipFile("generated code")


class AppendsComment(Codemod):
    """An unsafe fix: adds a comment line once."""

    NAME = "appends-comment"
    FIX = Fix.UNSAFE

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        if "# checked" in original_node.code:
            return updated_node
        self.report(original_node, "not checked", fixed=True)
        return updated_node.with_changes(
            footer=[*updated_node.footer, cst.EmptyLine(comment=cst.Comment("# checked"))]
        )


def run(source: str, *codemods: type[Codemod], settings: Settings = SETTINGS):  # type: ignore[no-untyped-def]
    return fix_source(source, path="f.py", codemods=codemods, settings=settings)


def test_failed_validation_leaves_the_text() -> None:
    result = run("x = 1\nprint(x)\n", RenameToUndefined)
    assert result.status is Status.FAILED
    assert result.after == result.before == "x = 1\nprint(x)\n"
    assert result.error == (
        "fix by rename-to-undefined rejected: the rewritten code reads undefined name(s): "
        "undefined_name"
    )
    assert not result.internal  # the file could not be fixed: exit 1, not memfix's exit 2


def test_crashing_codemod_is_an_internal_failure() -> None:
    result = run("x = 1\n", Crashes)
    assert result.status is Status.FAILED
    assert result.error == "internal error in crashes: RuntimeError: boom"
    assert result.internal and result.after == "x = 1\n"


def test_skip_file_leaves_it_alone() -> None:
    result = run(PROGRAM, Skips, *all_codemods())
    assert result.changed  # the other codemods still ran


def test_syntax_error_is_located() -> None:
    # A file the prefilter lets through (it names LangChain and a memory) but cannot parse.
    source = "def f(:\n    pass\nfrom langchain.memory import ConversationBufferMemory\n"
    result = run(source, *all_codemods())
    assert result.status is Status.FAILED
    assert result.error is not None
    assert result.error.startswith("syntax error at line 1, column 7:")
    assert not result.internal


def test_unsafe_fix_is_pending_without_the_flag() -> None:
    result = run("y = 1\n", AppendsComment)
    assert result.status is Status.UNCHANGED
    assert [f.applied for f in result.findings] == [False]
    assert result.pending_diff.endswith("+# checked\n")
    unsafe = run("y = 1\n", AppendsComment, settings=Settings(unsafe_fixes=True))
    assert unsafe.after == "y = 1\n# checked\n"
    assert [f.applied for f in unsafe.findings] == [True]


def test_fixpoint_reports_each_finding_once() -> None:
    result = run(PROGRAM, *all_codemods())
    # per-call-state hoists the chain (pass one); the hoisted chain is then a legacy
    # chain whose migration is unsafe (pass two): each is reported once, not per pass.
    found = {f.codemod: f.applied for f in result.findings}
    assert len(result.findings) == 2
    assert found == {"per-call-state": True, "legacy-conversation-chain": False}


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_line_endings_are_kept(newline: str) -> None:
    result = run(PROGRAM.replace("\n", newline), *all_codemods())
    assert result.changed
    assert result.after.count("\n") == result.after.count(newline)


def test_bom_and_cookie_survive() -> None:
    data = b"\xef\xbb\xbf" + PROGRAM.encode()
    result = fix_bytes(data, path="f.py", codemods=all_codemods(), settings=SETTINGS)
    assert result.changed and result.bom and result.encoding == "utf-8"
    latin = ("# -*- coding: latin-1 -*-\n# caf\xe9\n" + PROGRAM).encode("latin-1")
    result = fix_bytes(latin, path="f.py", codemods=all_codemods(), settings=SETTINGS)
    assert result.changed and result.encoding == "iso-8859-1"
    assert "caf\xe9" in result.after


PROGRAMS = sorted((Path(__file__).parents[1] / "fixtures").glob("*/*.py"))
PROGRAMS += sorted((Path(__file__).parents[2] / "examples").rglob("*.py"))


@pytest.mark.parametrize("unsafe_fixes", [False, True])
@pytest.mark.parametrize("path", PROGRAMS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_prefilter_never_changes_the_result(path: Path, unsafe_fixes: bool) -> None:
    # With every codemod selected, each is still gated by its own words on the text of
    # each pass: one whose words are wrong shows up here as a difference.
    data = path.read_bytes()
    results = [
        fix_bytes(
            data,
            path="f.py",
            codemods=all_codemods(),
            settings=Settings(prefilter=flag, unsafe_fixes=unsafe_fixes),
        )
        for flag in (True, False)
    ]
    assert results[0] == results[1]


def test_unrelated_code_is_not_parsed_or_changed() -> None:
    data = b"import os\nmemory = {}\n"
    result = fix_bytes(data, path="f.py", codemods=all_codemods(), settings=SETTINGS)
    assert result.status is Status.UNCHANGED and result.after == data.decode()
