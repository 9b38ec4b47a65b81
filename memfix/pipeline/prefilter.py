"""A byte test that keeps files with nothing for the codemods from ever being parsed.

It loads neither libcst nor the codemods' code, so a tree where no file mentions
LangChain is screened without either.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Protocol

from memfix.config import Settings
from memfix.facts import NO_FACTS, FileFacts
from memfix.files.decode import DecodeError, decode_source
from memfix.results import FileResult, Status, unchanged_result
from memfix.rules import registry
from memfix.source.words import is_candidate


class Wanting(Protocol):
    """A codemod class, or its rule's declaration (which loads no codemod): the words
    its file must hold and its finer test of the text."""

    @property
    def VOCABULARY(self) -> tuple[bytes, ...]: ...

    def wants(self, text: str) -> bool: ...


def screens(names: Iterable[str]) -> list[Wanting]:
    """The screens of the named rules (their declarations), read without importing any codemod."""
    return [registry.rule(name) for name in names]


# Every target of every codemod is imported from one of these packages.


def vocabulary(codemods: Iterable[Wanting]) -> tuple[bytes, ...] | None:
    """The words any selected codemod needs; None when one of them needs no particular word."""
    words: list[bytes] = []
    for codemod in codemods:
        if not codemod.VOCABULARY:
            return None
        words.extend(codemod.VOCABULARY)
    return tuple(dict.fromkeys(words))


@functools.lru_cache(maxsize=8)
def _words(codemods: tuple[Wanting, ...]) -> tuple[bytes, ...] | None:
    return vocabulary(codemods)  # asked once per run, not once per file


def screen(
    data: bytes,
    *,
    path: str,
    codemods: Sequence[Wanting],
    settings: Settings,
    facts: FileFacts = NO_FACTS,
) -> FileResult | None:
    """The result of a file the codemods need not read, or None when it must be analysed.

    A file that does not decode fails here; one the byte prefilter keeps out is
    unchanged. Cheap enough to run on every file of a tree in one process, so that only
    the files that may matter travel to the workers. A notebook is always analysed.
    """
    if path.endswith(".ipynb"):
        return None
    try:
        decoded = decode_source(data)
    except DecodeError as error:
        digest = hashlib.sha256(data).hexdigest()
        return FileResult(
            path, "", "", "", (), Status.FAILED, f"cannot decode: {error}", digest=digest
        )
    if facts or not settings.prefilter or wanted(data, decoded.text, codemods):
        return None
    result = unchanged_result(path, decoded.text, ())
    digest = hashlib.sha256(data).hexdigest()
    return replace(result, encoding=decoded.encoding, bom=decoded.bom, digest=digest, screened=True)


def wanted(data: bytes, text: str, codemods: Sequence[Wanting]) -> bool:
    """The whole byte prefilter: LangChain and the words, then each codemod's own test."""
    if not is_candidate(data, _words(tuple(codemods))):
        return False
    return any(codemod.wants(text) for codemod in codemods)
