from __future__ import annotations

import pytest

from memfix.source.nesting import MAX_DEPTH, nesting_problem


@pytest.mark.parametrize("terms", [2, MAX_DEPTH - 10])
def test_ordinary_nesting_passes(terms: int) -> None:
    assert nesting_problem("x = " + " + ".join(["1"] * terms) + "\n") is None


@pytest.mark.parametrize("terms", [MAX_DEPTH + 10, 20_000, 100_000])
def test_deep_nesting_is_refused_without_crashing(terms: int) -> None:
    problem = nesting_problem("x = " + " + ".join(["1"] * terms) + "\n")
    assert problem is not None and problem.startswith("too deeply nested for memfix")


def test_syntax_errors_are_left_to_the_parser() -> None:
    assert nesting_problem("def f(:\n") is None
