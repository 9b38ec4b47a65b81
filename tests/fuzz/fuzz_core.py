"""Coverage-guided fuzzing of the pure core (decode, parse, codemods, validate).

Run for a bounded time, outside the test suite:

    pip install atheris
    python tests/fuzz/fuzz_core.py -max_total_time=120 tests/fuzz/corpus

A crash or an internal error stops the run and leaves the input in `crash-*`; copy it to
tests/fuzz/regressions/ and `tests/test_fuzz_regressions.py` replays it forever after.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    from memfix.config import Settings
    from memfix.pipeline.engine import fix_bytes
    from memfix.rules.registry import all_codemods

CODEMODS = all_codemods()
SETTINGS = Settings(prefilter=False)
HEADER = b"from langchain.memory import ConversationBufferMemory\n"


def test_one_input(data: bytes) -> None:
    for payload in (data, HEADER + data):
        result = fix_bytes(payload, path="fuzz.py", codemods=CODEMODS, settings=SETTINGS)
        if result.internal or " rejected: " in (result.error or ""):
            raise AssertionError(f"memfix's own fault: {result.error}")
        if not result.changed and result.after != result.before:
            raise AssertionError("an unchanged result carries new text")


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
