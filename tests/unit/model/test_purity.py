"""The builder never raises on the repository's own programs and is a pure function."""

from __future__ import annotations

from pathlib import Path

import pytest

from memfix.model import build_model

ROOT = Path(__file__).parents[3]
PROGRAMS = sorted(
    [*ROOT.glob("tests/fixtures/**/*.py"), *ROOT.glob("examples/**/*.py")],
    key=str,
)


def test_there_are_programs_to_model() -> None:
    assert len(PROGRAMS) > 50


@pytest.mark.parametrize("path", PROGRAMS, ids=lambda path: str(path.relative_to(ROOT)))
def test_builder_never_raises_and_returns_the_same_model_twice(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    first = build_model(text, str(path))
    assert first.error is None
    assert build_model(text, str(path)) == first


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("def f(:\n", id="syntax error"),
        pytest.param("x = 1\x00\n", id="null byte"),
        pytest.param("(" * 300 + ")" * 300 + "\n", id="too many parentheses"),
        pytest.param("x = a" + ".b" * 100_000 + "\n", id="deep attribute chain"),
        pytest.param("x = " + "-" * 100_000 + "1\n", id="deep unary operators"),
        pytest.param("", id="empty module"),
    ],
)
def test_bad_input_comes_back_as_a_model_with_an_error_or_nothing(text: str) -> None:
    model = build_model(text, "bad.py")
    assert model.conversations == ()
    assert model == build_model(text, "bad.py")


def test_a_module_that_does_not_parse_says_which_file_and_why() -> None:
    model = build_model("def f(:\n", "pkg/bad.py")
    assert model.error is not None and model.error.startswith("pkg/bad.py: cannot parse")
