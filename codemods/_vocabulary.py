"""The names memfix knows, as plain data: read without loading libcst.

LangChain's and LangGraph's classes that hold a conversation, the web and UI
frameworks whose handlers run per request, and the names of a session identity. The
prefilter, the outline and the repository pass read these before (or without) any
libcst parse; `codemods._langchain` resolves them in trees.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

# The top-level packages every target of every codemod is imported from (any era:
# `langchain`, `langchain_core`, `langchain_community`, `langchain_classic`, `langgraph`).
LANGCHAIN_ROOTS = ("langchain", "langgraph")


def langchain_class(qualified: str) -> str | None:
    """The class name of a LangChain qualified name (`langchain.memory.X` -> `X`), else None."""
    module, _, name = qualified.rpartition(".")
    root = module.partition(".")[0]
    return name if root.startswith(LANGCHAIN_ROOTS) else None


MEMORY_CLASSES = frozenset(
    {
        "ConversationBufferMemory",
        "ConversationBufferWindowMemory",
        "ConversationStringBufferMemory",
        "ConversationSummaryMemory",
        "ConversationSummaryBufferMemory",
        "ConversationTokenBufferMemory",
        "ConversationEntityMemory",
        "ConversationKGMemory",
        "ConversationVectorStoreTokenBufferMemory",
        "VectorStoreRetrieverMemory",
        "CombinedMemory",
    }
)

# The prefilter's words for "a memory is here": every memory class's full name.
MEMORY_WORDS = tuple(sorted(name.encode() for name in MEMORY_CLASSES))

# Histories that keep their messages in the process and nowhere else.
IN_PROCESS_HISTORY_CLASSES = frozenset({"ChatMessageHistory", "InMemoryChatMessageHistory"})

# Chains that create a buffer memory of their own when none is passed.
CHAINS_WITH_OWN_MEMORY = frozenset({"ConversationChain"})

CHAIN_CLASSES = frozenset(
    {
        "ConversationChain",
        "LLMChain",
        "ConversationalRetrievalChain",
        "RunnableWithMessageHistory",
    }
)
CHAIN_WORDS = tuple(sorted(name.encode() for name in CHAIN_CLASSES))

# LangGraph's checkpointers that keep every thread in the process.
SAVER_CLASSES = frozenset({"MemorySaver", "InMemorySaver"})

# Every class that builds or holds conversation state: the calls that make a module worth
# parsing for the codemods about where that state lives.
CONVERSATION_CLASSES = MEMORY_CLASSES | IN_PROCESS_HISTORY_CLASSES | CHAIN_CLASSES | SAVER_CLASSES

# Modules whose import makes every function in the file a candidate per-request handler.
WEB_FRAMEWORKS = frozenset(
    {
        "fastapi",
        "starlette",
        "flask",
        "flask_restful",
        "quart",
        "django",
        "rest_framework",
        "aiohttp",
        "sanic",
        "litestar",
        "tornado",
        "bottle",
        "falcon",
        "chainlit",
        "gradio",
        "streamlit",
        "langserve",
    }
)

IDENTITY_NAMES = frozenset(
    {"user_id", "session_id", "thread_id", "conversation_id", "chat_id", "client_id", "username"}
)


def factory_names(name: str) -> tuple[str, str]:
    """(factory function, its dict of sessions) for state called `name`."""
    return f"get_session_{name.lstrip('_')}", f"_{name.lstrip('_')}_by_session"


@dataclass(frozen=True, slots=True)
class Screen:
    """What a codemod's file must hold before the codemod can have anything to do.

    The prefilter reads these by codemod name, so that screening a tree loads no
    codemod; each codemod class takes its `VOCABULARY` and `wants` from its screen.
    """

    VOCABULARY: tuple[bytes, ...]  # any of these bytes
    test: Callable[[str], bool] | None = None  # a finer test of the text, if any

    def wants(self, text: str) -> bool:
        if self.test is not None:
            return self.test(text)
        return not self.VOCABULARY or any(word.decode() in text for word in self.VOCABULARY)


# A module-level history list: an empty list under one of these names.
LIST_NAMES = ("history", "messages")
STATE_WORDS = (*MEMORY_WORDS, b"ChatMessageHistory", b"ConversationChain")


def _shares_state(text: str) -> bool:
    # Only a module that imports a web or UI framework has per-request code to share
    # state between; a history list is an empty list under a history-like name.
    if not any(framework in text for framework in WEB_FRAMEWORKS):
        return False
    if any(word.decode() in text for word in STATE_WORDS):
        return True
    empty_list = "= []" in text or "=[]" in text
    return empty_list and any(name in text for name in LIST_NAMES)


SCREENS = {
    "shared-global-state": Screen(
        (*STATE_WORDS, *(name.encode() for name in LIST_NAMES)), _shares_state
    ),
    "in-process-history": Screen(
        (b"ChatMessageHistory", b"MemorySaver", b"ConversationChain", *MEMORY_WORDS)
    ),
    "unstable-session-key": Screen((b"configurable", b"ChatMessageHistory", b"session_state")),
    "per-call-state": Screen((*MEMORY_WORDS, b"ChatMessageHistory", b"ConversationChain")),
    "legacy-conversation-chain": Screen((b"ConversationChain", b"LLMChain")),
    "input-key-mismatch": Screen(CHAIN_WORDS),
    "memory-key-mismatch": Screen((*MEMORY_WORDS, b"RunnableWithMessageHistory")),
    "unwired-memory": Screen((*MEMORY_WORDS, b"ChatInterface")),
}
