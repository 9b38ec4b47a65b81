"""Every codemod's own VALID and INVALID examples, collected automatically."""

from __future__ import annotations

import pytest

from memfix.rules.registry import all_codemods
from memfix.testing import Example, check_example, examples

CASES = [case for codemod in all_codemods() for case in examples(codemod)]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_example(case: Example) -> None:
    check_example(case)


@pytest.mark.parametrize("codemod", all_codemods(), ids=lambda c: c.NAME)
def test_codemod_is_documented(codemod: type) -> None:
    doc = codemod.documentation()
    for section in ("## What it does", "## Why is this bad?", "## Example", "## Fix safety"):
        assert section in doc, f"{codemod.NAME} lacks {section}"
    assert codemod.VALID and codemod.INVALID
    assert not codemod.MESSAGE.endswith(".")
