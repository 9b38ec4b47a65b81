"""Byte tests on a file's raw contents: the cheapest screen, before any decoding or parse."""

from __future__ import annotations

from collections.abc import Sequence

from memfix.vocabulary import LANGCHAIN_ROOTS

_PACKAGES = tuple(root.encode() for root in LANGCHAIN_ROOTS)


def mentions_langchain(data: bytes) -> bool:
    """The first test, true of every file any codemod can have something to do in."""
    return any(package in data for package in _PACKAGES)


def is_candidate(data: bytes, words: Sequence[bytes] | None) -> bool:
    """Whether a file with these bytes may hold something for the codemods."""
    if not mentions_langchain(data):
        return False
    return words is None or any(word in data for word in words)
