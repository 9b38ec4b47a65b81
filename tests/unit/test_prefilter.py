"""The byte prefilter: which files may hold something for the selected codemods."""

from __future__ import annotations

from memfix.pipeline import prefilter
from memfix.rules.codemod import Codemod, Fix
from memfix.rules.registry import all_codemods


class NeedsNoWord(Codemod):
    """A codemod with no vocabulary: every LangChain file is a candidate for it."""

    NAME = "needs-no-word"
    FIX = Fix.NONE


def test_vocabulary_gathers_every_codemods_words_once() -> None:
    words = prefilter.vocabulary(all_codemods())
    assert words is not None
    for codemod in all_codemods():
        assert set(codemod.VOCABULARY) <= set(words)
    assert len(words) == len(set(words))


def test_a_codemod_without_vocabulary_turns_the_second_stage_off() -> None:
    assert prefilter.vocabulary([*all_codemods(), NeedsNoWord]) is None
    assert prefilter.is_candidate(b"from langchain_core import x\n", None)


def test_a_file_must_mention_langchain_or_langgraph() -> None:
    words = (b"Memory",)
    assert not prefilter.is_candidate(b"memory = ConversationBufferMemory()\nMemory\n", words)
    assert prefilter.is_candidate(b"import langchain\nMemory\n", words)
    assert prefilter.is_candidate(b"from langgraph.checkpoint import Memory\n", words)


def test_a_file_must_hold_one_selected_word() -> None:
    words = (b"Memory", b"History")
    assert not prefilter.is_candidate(b"from langchain_openai import ChatOpenAI\n", words)
    assert prefilter.is_candidate(b"from langchain_core import History\n", words)
