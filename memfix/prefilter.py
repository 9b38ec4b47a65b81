"""A byte test that keeps files with nothing for the codemods from ever being parsed."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from memfix.codemod import Codemod

# Every target of every codemod is imported from one of these packages.
_PACKAGES = (b"langchain", b"langgraph")


def vocabulary(codemods: Iterable[type[Codemod]]) -> tuple[bytes, ...] | None:
    """The words any selected codemod needs; None when one of them needs no particular word."""
    words: list[bytes] = []
    for codemod in codemods:
        if not codemod.VOCABULARY:
            return None
        words.extend(codemod.VOCABULARY)
    return tuple(dict.fromkeys(words))


def is_candidate(data: bytes, words: Sequence[bytes] | None) -> bool:
    """Whether a file with these bytes may hold something for the codemods."""
    if not any(package in data for package in _PACKAGES):
        return False
    return words is None or any(word in data for word in words)
