"""One module's syntax tree with what every other part of the model asks of it.

Qualified names come from the module's imports (every era's spelling, aliases, `import
a.b as m`), never from the text of a call. Spans are converted from the parser's UTF-8
byte offsets to 1-based character columns of the original text.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from memfix.model.types import Span
from memfix.vocabulary import IN_PROCESS_HISTORY_CLASSES, MEMORY_CLASSES

LANGCHAIN_ROOTS = ("langchain", "langgraph")
LEGACY_CHAINS = frozenset(
    {"ConversationChain", "LLMChain", "ConversationalRetrievalChain", "AgentExecutor"}
    | {"initialize_agent"}
)
HISTORY_RUNNABLES = frozenset({"RunnableWithMessageHistory"})
GRAPH_BUILDERS = frozenset({"StateGraph", "MessageGraph"})
AGENT_FACTORIES = frozenset({"create_react_agent", "create_agent"})
IN_PROCESS_SAVERS = frozenset({"MemorySaver", "InMemorySaver"})
# Histories whose messages live in the browser session (Streamlit keeps one per tab).
SESSION_HISTORIES = frozenset({"StreamlitChatMessageHistory"})
# Constructors a checkpointer or history is also made with.
FACTORY_METHODS = frozenset(
    {"from_conn_string", "from_connection_string", "from_url", "from_llm", "from_chain_type"}
    | {"from_agent_and_tools"}
)
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_SESSIONS = ("session_state", "user_session")


def state_kind(qualname: str) -> str | None:
    """The kind of conversation state a LangChain or LangGraph name builds, else None."""
    module, _, name = qualname.rpartition(".")
    if not module.partition(".")[0].startswith(LANGCHAIN_ROOTS):
        return None
    if name in MEMORY_CLASSES:
        return "memory"
    if name.endswith("ChatMessageHistory") and name != "BaseChatMessageHistory":
        return "history"
    if name.endswith("Saver") and name != "BaseCheckpointSaver":
        return "checkpointer"
    if name in LEGACY_CHAINS:
        return "chain"
    if name in HISTORY_RUNNABLES:
        return "history-runnable"
    if name in GRAPH_BUILDERS:
        return "graph-builder"
    if name in AGENT_FACTORIES:
        return "agent"
    return None


def is_in_process(qualname: str) -> bool:
    """Whether a history or checkpointer class keeps its messages in the process only."""
    name = qualname.rpartition(".")[2]
    return name in IN_PROCESS_HISTORY_CLASSES or name in IN_PROCESS_SAVERS


def is_session_history(qualname: str) -> bool:
    """Whether a history class keeps its messages in the framework's per-user session."""
    return qualname.rpartition(".")[2] in SESSION_HISTORIES


class Tree:
    """A parsed module: parents, spans, source text and import-resolved names."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.module = ast.parse(text)
        self.lines = _LINE_BREAK.split(text)
        self.parents: dict[int, ast.AST] = {}
        for node in ast.walk(self.module):
            for child in ast.iter_child_nodes(node):
                self.parents[id(child)] = node
        self.imports = _import_table(self.module)
        self.packages = {qual.partition(".")[0] for qual in self.imports.values()}

    def parent(self, node: ast.AST) -> ast.AST | None:
        """The node directly containing `node`, None for the module."""
        return self.parents.get(id(node))

    def ancestors(self, node: ast.AST) -> Iterator[ast.AST]:
        """Every node containing `node`, innermost first."""
        current = self.parent(node)
        while current is not None:
            yield current
            current = self.parent(current)

    def span(self, node: ast.AST) -> Span:
        """The 1-based span of `node` in the original text."""
        line = getattr(node, "lineno", 1)
        end_line = getattr(node, "end_lineno", None) or line
        column = self._column(line, getattr(node, "col_offset", 0))
        end_column = self._column(end_line, getattr(node, "end_col_offset", None) or 0)
        return Span(line, column, end_line, end_column)

    def _column(self, line: int, offset: int) -> int:
        if not 0 < line <= len(self.lines):
            return offset + 1
        encoded = self.lines[line - 1].encode("utf-8", "surrogatepass")
        return len(encoded[:offset].decode("utf-8", "replace")) + 1

    def qualname(self, node: ast.AST) -> str | None:
        """The dotted name `node` stands for through the imports, else None."""
        if isinstance(node, ast.Name):
            return self.imports.get(node.id)
        if isinstance(node, ast.Attribute):
            base = self.qualname(node.value)
            return f"{base}.{node.attr}" if base is not None else None
        return None

    def state_call(self, node: ast.AST) -> tuple[str, str] | None:
        """(kind, qualname) when `node` is a call building LangChain conversation state.

        `SqliteSaver.from_conn_string(...)` counts as building a `SqliteSaver`.
        """
        if not isinstance(node, ast.Call):
            return None
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in FACTORY_METHODS:
            func = func.value
        qualname = self.qualname(func)
        kind = state_kind(qualname) if qualname else None
        return (kind, qualname) if kind and qualname else None

    def uses_package(self, *names: str) -> bool:
        """Whether the module imports any of these top-level packages."""
        return any(name in self.packages for name in names)


def _import_table(module: ast.Module) -> dict[str, str]:
    """Local name -> dotted name for every import anywhere in the module."""
    table: dict[str, str] = {}
    for node in ast.walk(module):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    table[alias.asname] = alias.name
                else:
                    root = alias.name.partition(".")[0]
                    table[root] = root
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                table[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return table


def source(node: ast.AST) -> str:
    """The normalised source text of an expression."""
    return ast.unparse(node)


def dotted(node: ast.AST) -> str | None:
    """`a.b.c` for a name or attribute chain; `st.session_state.x` for `["x"]` too."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
        base = dotted(node.value)
        key = node.slice.value
        if base and isinstance(key, str) and base.endswith("session_state"):
            return f"{base}.{key}"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args:
        # `cl.user_session.get("chain")` and `st.session_state.get("chain")` read one slot.
        base = dotted(node.func.value)
        key = string(node.args[0])
        if node.func.attr == "get" and base and key and base.endswith(_SESSIONS):
            return f"{base}.{key}"
    return None


def string(node: ast.AST | None) -> str | None:
    """The value of a string literal, else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def keyword(call: ast.Call, name: str) -> ast.expr | None:
    """The value of keyword `name` in `call`, else None."""
    for item in call.keywords:
        if item.arg == name:
            return item.value
    return None


def argument(call: ast.Call, index: int, name: str) -> ast.expr | None:
    """The argument given by position `index` or by keyword `name`, else None."""
    found = keyword(call, name)
    if found is not None:
        return found
    positional = [arg for arg in call.args if not isinstance(arg, ast.Starred)]
    return positional[index] if index < len(positional) else None
