"""Properties over generated code: no crash, and code without LangChain is never changed."""

from __future__ import annotations

from pathlib import Path

import hypothesmith
import libcst as cst
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from memfix.config import Settings
from memfix.pipeline.engine import fix_bytes, fix_source
from memfix.results import Status
from memfix.rules.registry import all_codemods
from memfix.source.validate import undefined_names
from tests.support.faults import memfix_fault
from tests.support.fixtures import CASES, parse_fixture

CODEMODS = all_codemods()
NO_PREFILTER = Settings(prefilter=False)


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(hypothesmith.from_grammar())
def test_code_without_langchain_is_left_byte_for_byte(source: str) -> None:
    for config in (Settings(), NO_PREFILTER):
        result = fix_source(source, path="gen.py", codemods=CODEMODS, settings=config)
        assert result.after == source
        assert memfix_fault(result) is None, result.error
        assert result.findings == ()


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(st.binary(max_size=400))
def test_arbitrary_bytes_never_crash(data: bytes) -> None:
    data = b"from langchain.memory import ConversationBufferMemory\n" + data
    result = fix_bytes(data, path="gen.py", codemods=CODEMODS, settings=NO_PREFILTER)
    assert memfix_fault(result) is None, result.error
    if result.status is not Status.CHANGED:
        assert result.after == result.before


def test_every_fixture_output_parses_compiles_and_binds_its_names() -> None:
    for path in CASES:
        source, _, flags = parse_fixture(path)
        config = Settings(unsafe_fixes="--unsafe-fixes" in flags)
        result = fix_source(source, path=path.name, codemods=CODEMODS, settings=config)
        assert memfix_fault(result) is None, f"{path}: {result.error}"
        if not result.changed:
            continue
        compile(result.after, path.name, "exec")
        new = undefined_names(cst.parse_module(result.after))
        assert new <= undefined_names(cst.parse_module(source)), path
        again = fix_source(result.after, path=path.name, codemods=CODEMODS, settings=config)
        assert again.after == result.after, f"{path} is not idempotent"


def test_text_libcst_cannot_reproduce_is_left_alone() -> None:
    # libcst prints this module back without its blank line: the engine must notice.
    source = "from langchain.memory import ConversationBufferMemory\nA\n\n "
    result = fix_source(source, path="odd.py", codemods=CODEMODS, settings=NO_PREFILTER)
    assert result.after == source


def test_fixture_folders_name_real_codemods() -> None:
    names = {codemod.NAME for codemod in CODEMODS}
    folders = {path.parent.name for path in CASES}
    assert folders <= names, folders - names
    assert Path(__file__).parents[1].joinpath("fixtures").is_dir()
