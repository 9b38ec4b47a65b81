"""Suppression comments: which silence a finding, and which silence nothing."""

from __future__ import annotations

import libcst as cst
from libcst.metadata import MetadataWrapper

from memfix.codemods.per_call_state.transform import PerCallState
from memfix.results import Finding, Fix
from memfix.rules.codemod import Context
from memfix.rules.suppression import (
    Suppression,
    suppressed_names,
    suppressions,
    unused_suppressions,
)
from tests.support.fixtures import PROGRAM

LINE = "    memory = ConversationBufferMemory()"


def run(source: str) -> PerCallState:
    codemod = PerCallState(Context("bot.py", source.splitlines()))
    MetadataWrapper(cst.parse_module(source)).visit(codemod)
    return codemod


def unused(line: int, column: int, message: str) -> Finding:
    return Finding("unused-suppression", message, line, column, Fix.NONE, False, False)


def test_suppressed_names() -> None:
    assert suppressed_names("x = 1  # memfix: ignore") == frozenset()
    assert suppressed_names("x  #memfix:ignore[a, b]") == {"a", "b"}
    assert suppressed_names("x = 1  # noqa") is None


def test_comments_only_never_strings() -> None:
    source = 's = "# memfix: ignore"\nx = 1  # memfix: ignore[a]\n'
    assert list(suppressions(source)) == [Suppression(2, 8, frozenset({"a"}))]
    assert list(suppressions("s = '''\n# memfix: ignore\n")) == []  # unterminated string


def test_a_used_suppression_is_recorded_and_not_reported() -> None:
    source = PROGRAM.replace(LINE, LINE + "  # memfix: ignore[per-call-state]")
    codemod = run(source)
    assert codemod.findings == []
    assert codemod.used_suppressions == {(8, "per-call-state")}
    assert unused_suppressions(source, codemod.used_suppressions, ["per-call-state"]) == []


def test_a_bare_suppression_that_is_used() -> None:
    source = PROGRAM.replace(LINE, LINE + "  # memfix: ignore")
    codemod = run(source)
    assert codemod.findings == []
    assert unused_suppressions(source, codemod.used_suppressions, ["per-call-state"]) == []


def test_suppressions_that_silence_nothing_are_reported() -> None:
    source = (
        "x = 1  # memfix: ignore\n"
        "y = 2  # memfix: ignore[per-call-state, not-run]\n"
        'z = "# memfix: ignore"\n'
    )
    codemod = run(source)
    assert unused_suppressions(source, codemod.used_suppressions, ["per-call-state"]) == [
        unused(1, 8, "suppression silences nothing"),
        unused(2, 8, "suppression of `per-call-state` silences nothing"),
    ]


def test_a_suppression_of_another_codemod_on_a_finding_line() -> None:
    source = PROGRAM.replace(LINE, LINE + "  # memfix: ignore[in-process-history]")
    codemod = run(source)
    assert [f.codemod for f in codemod.findings] == ["per-call-state"]
    ran = ["per-call-state", "in-process-history"]
    assert unused_suppressions(source, codemod.used_suppressions, ran) == [
        unused(8, 42, "suppression of `in-process-history` silences nothing")
    ]
