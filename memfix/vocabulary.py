"""The names memfix knows, as plain data: read without loading libcst or any rule.

LangChain's and LangGraph's classes that hold a conversation, the web and UI
frameworks whose handlers run per request, and the names of a session identity. The
prefilter, the outline and the repository pass read these before (or without) any
libcst parse; the rules resolve them in trees through the module's imports.
"""

from __future__ import annotations

# The top-level packages every target of every built-in rule is imported from (any era:
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
# parsing for the rules about where that state lives.
CONVERSATION_CLASSES = MEMORY_CLASSES | IN_PROCESS_HISTORY_CLASSES | CHAIN_CLASSES | SAVER_CLASSES

# The words of a file that builds conversation state: a memory, a history or a chain.
STATE_WORDS = (*MEMORY_WORDS, b"ChatMessageHistory", b"ConversationChain")

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
        # Chat bots: one process answers every chat, each message through the same handler.
        "telegram",
        "telebot",
        "discord",
        "slack_bolt",
        "aiogram",
    }
)

IDENTITY_NAMES = frozenset(
    {"user_id", "session_id", "thread_id", "conversation_id", "chat_id", "client_id", "username"}
)


def factory_names(name: str) -> tuple[str, str]:
    """(factory function, its dict of sessions) for state called `name`."""
    return f"get_session_{name.lstrip('_')}", f"_{name.lstrip('_')}_by_session"
