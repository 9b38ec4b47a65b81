"""How a runnable is wired to its state: the memory, history or checkpointer it is given,
the history a `RunnableWithMessageHistory` getter returns, and the store behind it.

An argument is resolved to a construction of this module (inline, through the name it
is bound to, or through a factory function that returns it); anything else is recorded
as unknown with the reason, never guessed.
"""

from __future__ import annotations

import ast

from memfix.model.keys import assigned_value, key_of
from memfix.model.names import Tree, argument, dotted, keyword, source
from memfix.model.scopes import enclosing_function
from memfix.model.state import Built, Lifetimes, options_of, returned_by
from memfix.model.stores import defaultdict_factory, getter_of, store_filled_by, store_read_by
from memfix.model.types import Getter, Key, State, Store

_KEYED_POSITIONALLY = frozenset({"SQLChatMessageHistory", "RedisChatMessageHistory"})


class Wiring:
    """Resolves what a runnable is given, over the constructions of one module."""

    def __init__(self, tree: Tree, lifetimes: Lifetimes, built: list[Built]) -> None:
        self.tree = tree
        self.lifetimes = lifetimes
        self.built = built
        self.linked: set[int] = set()  # constructions some conversation holds

    def wired(
        self, built: Built, runnable: State, unknowns: list[str]
    ) -> tuple[tuple[State, ...], Store | None, Getter | None]:
        """The memory / history / checkpointer of a runnable, its store and its getter."""
        if built.kind == "history-runnable":
            return self._history_runnable(built, unknowns)
        link = "memory" if built.kind == "chain" else "checkpointer"
        value = keyword(built.node, link)
        if value is None:
            return self._unlinked(built, runnable, link, unknowns), None, None
        found = self.linked_state(value, unknowns)
        if found is None:
            return (), None, None
        state, linked = found
        pieces = [state]
        chat = keyword(linked.node, "chat_memory") if linked else None
        history = self.linked_state(chat, unknowns) if chat is not None else None
        if history is not None:
            pieces.append(history[0])
        store = store_filled_by(self.tree, linked) if linked else None
        return tuple(pieces), store, None

    def _unlinked(
        self, built: Built, runnable: State, link: str, unknowns: list[str]
    ) -> tuple[State, ...]:
        short = built.qualname.rpartition(".")[2]
        if short == "ConversationChain":
            reason = "ConversationChain makes its own ConversationBufferMemory"
            memory = State(
                "memory", "ConversationBufferMemory", "", None, runnable.lifetime, reason
            )
            return (memory,)
        if built.kind in ("graph", "agent"):
            unknowns.append(f"{short} gets no checkpointer: no turn sees the one before")
        return ()

    def linked_state(
        self, value: ast.expr, unknowns: list[str]
    ) -> tuple[State, Built | None] | None:
        """The state an argument (`memory=...`, `checkpointer=...`) refers to."""
        for built in self.built:
            if built.node is value:
                return self.state(built, built.holder, built.node), built
        text = dotted(value) or ""
        target = self._bound(text, value) if text else None
        if target is not None:
            return self.state(target[0], text, target[1]), target[0]
        if isinstance(value, ast.Constant) and value.value in (True, False, None):
            return None
        function = enclosing_function(self.tree, value)
        params = (
            {arg.arg for arg in ast.walk(function.args) if isinstance(arg, ast.arg)}
            if function
            else set()
        )
        if text in params and function is not None:
            gap = f"{text} is a parameter of {function.name}(): its callers decide"
            unknowns.append(gap)
        else:
            unknowns.append(f"{source(value)} is not built in this module")
        return None

    def _bound(self, text: str, reference: ast.AST) -> tuple[Built, ast.AST] | None:
        """The construction a name or attribute refers to, and where it is bound."""
        function = enclosing_function(self.tree, reference)
        candidates = [built for built in self.built if built.holder == text]
        # A local binding shadows a module-level one of the same name.
        for built in sorted(candidates, key=lambda built: built.function is not function):
            if built.function is function or built.function is None or text.startswith("self."):
                return built, built.node
        found = assigned_value(self.tree, text, function)
        if found is not None and isinstance(found[0], ast.Call):
            called = (dotted(found[0].func) or "").rpartition(".")[2]
            for built in self.built:
                factory = returned_by(self.tree, built)
                if factory is not None and factory.name == called:
                    return built, found[0]
        return None

    def state(self, built: Built, holder: str, site: ast.AST) -> State:
        """The state `built` is, bound to `holder` at `site`; marks it as held."""
        self.linked.add(id(built.node))
        store = store_filled_by(self.tree, built)
        if store is not None and built.kind != "checkpointer":
            lifetime, reason = store.lifetime, f"kept in the store {store.name}"
        else:
            lifetime, reason = self.lifetimes.of(built, holder, site)
        reason += _with_block(self.tree, built)
        keyed = self._history_key(built) or (store.key if store else None)
        return State(
            built.kind,
            built.qualname,
            holder,
            self.tree.span(built.node),
            lifetime,
            reason,
            options_of(built.node),
            keyed,
        )

    def _history_key(self, built: Built) -> Key | None:
        if built.kind != "history":
            return None
        value = keyword(built.node, "session_id")
        if value is None and built.qualname.rpartition(".")[2] in _KEYED_POSITIONALLY:
            value = argument(built.node, 0, "session_id")
        return key_of(self.tree, value, "session_id") if value is not None else None

    def _history_runnable(
        self, built: Built, unknowns: list[str]
    ) -> tuple[tuple[State, ...], Store | None, Getter | None]:
        getter, node, gap = getter_of(self.tree, built.node)
        if gap:
            unknowns.append(gap)
        if node is None:
            return (), None, getter
        store = store_read_by(self.tree, node)
        inside = [
            other
            for other in self.built
            if other.kind in ("history", "memory")
            and any(ancestor is node for ancestor in self.tree.ancestors(other.node))
        ]
        pieces = [self.state(other, other.holder, other.node) for other in inside]
        made = defaultdict_factory(self.tree, store) if store is not None else None
        if not pieces and made is not None and store is not None:
            reason = f"made by the defaultdict {store.name} for each new key"
            where = self.tree.span(made[1])
            pieces.append(State("history", made[0], store.name, where, store.lifetime, reason))
        if not pieces and store is None:
            unknowns.append(
                f"cannot tell which history {getter.name if getter else 'the getter'} returns"
            )
        return tuple(pieces), store, getter


def _with_block(tree: Tree, built: Built) -> str:
    """Why a `with` block limits the state's life, "" when none does."""
    if isinstance(tree.parent(built.node), ast.withitem):
        return "; closed when its with block ends"
    for ancestor in tree.ancestors(built.node):
        if isinstance(ancestor, ast.FunctionDef | ast.AsyncFunctionDef):
            return ""
        if isinstance(ancestor, ast.With | ast.AsyncWith):
            opened = ", ".join(source(item.context_expr) for item in ancestor.items)
            return f"; built inside `with {opened}`, which closes when the block ends"
    return ""
