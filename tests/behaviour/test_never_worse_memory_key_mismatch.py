"""memory-key-mismatch never changes a memory's shape under code that reads it.

`return_messages` decides what every reader of the memory receives, not only the prompt:
a transcript that loops over the messages fails on the text. The programs run before and
after `memfix apply` with the echo model.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.cli import invoke
from tests.support.fakes import run_program
from tests.support.fixtures import FIXTURES, parse_fixture

ORIGINAL = parse_fixture(FIXTURES / "memory-key-mismatch" / "transcript_reads_the_messages.py")[0]
LOOP = (
    "    lines = []\n"
    '    for message in memory.load_memory_variables({})["history"]:\n'
    "        lines.append(message.content)\n"
    "    return lines\n"
)


@dataclass(frozen=True)
class Variant:
    source: str
    fixable: bool = False  # True: nothing else reads the memory, so the fix applies


def _renamed(source: str) -> str:
    return (
        source.replace("memory=memory", "memory=notes_memory")
        .replace("memory = ", "notes_memory = ")
        .replace("memory.load", "notes_memory.load")
        .replace("message in", "turn in")
        .replace("message.content", "turn.content")
        .replace("assistant", "note_taker")
    )


def _read_through_a_variable(source: str) -> str:
    return source.replace(
        LOOP,
        "    loaded = memory.load_memory_variables({})\n"
        '    print("variables:", sorted(loaded))\n'
        '    return [message.content for message in loaded["history"]]\n',
    )


def _buffer_read(source: str) -> str:
    return source.replace(LOOP, "    return [message.content for message in memory.buffer]\n")


def _memory_passed_out(source: str) -> str:
    return source.replace(
        LOOP,
        "    return contents(memory)\n\n\n"
        "def contents(store) -> list[str]:\n"
        '    return [message.content for message in store.load_memory_variables({})["history"]]\n',
    )


def _no_other_reader(source: str) -> str:
    return source.replace(LOOP, '    return ["(the transcript is kept by the chain)"]\n')


VARIANTS = {
    "loop_over_loaded_messages": Variant(ORIGINAL),
    "renamed": Variant(_renamed(ORIGINAL)),
    "read_through_a_variable": Variant(_read_through_a_variable(ORIGINAL)),
    "buffer_read": Variant(_buffer_read(ORIGINAL)),
    "memory_passed_out": Variant(_memory_passed_out(ORIGINAL)),
    "no_other_reader": Variant(_no_other_reader(ORIGINAL), fixable=True),
}


def _run(source: str) -> tuple[list[str], list[str]]:
    """The types of two answers and of the transcript's lines; raises what the program raises."""
    program = run_program(source)
    answers = [program["ask"]("Remember milk"), program["ask"]("Remember eggs")]
    transcript = program["transcript"]()
    return [type(a).__name__ for a in answers], [type(line).__name__ for line in transcript]


def _apply(tmp_path: Path, source: str) -> tuple[str, str]:
    path = tmp_path / "notes.py"
    path.write_text(source, encoding="utf-8")
    code, out, err = invoke("apply", "--yes", "--select", "memory-key-mismatch", str(path))
    assert code in (0, 1), out + err
    return path.read_text(encoding="utf-8"), out + err


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_memory_read_elsewhere_keeps_its_shape_and_every_call_working(
    name: str, tmp_path: Path, legacy_langchain: None
) -> None:
    variant = VARIANTS[name]
    before = _run(variant.source)
    fixed, output = _apply(tmp_path, variant.source)
    if not variant.fixable:
        assert fixed == variant.source
        assert "returns messages, but the prompt reads 'history' as text" in output
        assert "also reads this memory" in output
        return
    assert "return_messages=False" in fixed
    assert _run(fixed) == before
