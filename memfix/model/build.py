"""Build the conversation model of one module from its text: text in, frozen data out.

Each runnable that talks to a model (a legacy chain, a `RunnableWithMessageHistory`, a
compiled LangGraph graph, an agent) is one conversation, with the memory, history or
checkpointer wired into it, the store and getter behind a history, every call of it
with its key, context, identities and result uses, and what could not be resolved.
"""

from __future__ import annotations

import ast

from memfix.model.calls import (
    CHECKPOINTER_METHODS,
    HISTORY_METHODS,
    MEMORY_METHODS,
    TURN_METHODS,
    Turn,
    result_uses,
    turn_calls,
)
from memfix.model.identities import identities_in
from memfix.model.keys import KEY_FIELDS, config_key
from memfix.model.loose import configured_turns, unresolved_runnable
from memfix.model.names import Tree, argument, keyword, string
from memfix.model.scopes import Contexts, enclosing_class, enclosing_function
from memfix.model.state import (
    Built,
    Lifetimes,
    constructions,
    factory_calls,
    options_of,
    returned_by,
)
from memfix.model.stores import store_filled_by
from memfix.model.types import (
    CallSite,
    Conversation,
    Identity,
    ModuleModel,
    Origin,
    State,
)
from memfix.model.wiring import Wiring

RUNNABLE_KINDS = frozenset({"chain", "history-runnable", "graph", "agent"})
# What code that uses a piece of state by hand calls on it, by kind.
_BY_HAND = {
    "memory": MEMORY_METHODS,
    "history": HISTORY_METHODS,
    "checkpointer": CHECKPOINTER_METHODS,
}
_NOT_IDENTITIES = frozenset(
    {Origin.CONSTANT, Origin.UUID_PER_CALL, Origin.UUID_PER_PROCESS, Origin.MISSING}
    | {Origin.PARAMETER_DEFAULT, Origin.RERUN}
)


def build_model(text: str, path: str = "<string>") -> ModuleModel:
    """The conversation model of one module's text.

    Never raises for a problem in the text: a module that does not parse (or is nested
    too deeply to walk) comes back with no conversations and `error` saying why.
    """
    try:
        tree = Tree(text)
    except (SyntaxError, ValueError) as error:
        return ModuleModel(path, (), f"{path}: cannot parse: {error}")
    except (RecursionError, MemoryError):
        # CPython's parser signals a too deep expression with either of the two.
        return ModuleModel(path, (), f"{path}: cannot parse: nested too deeply")
    try:
        return ModuleModel(path, _Builder(tree, path).conversations())
    except RecursionError:
        return ModuleModel(path, (), f"{path}: nested too deeply to model")


class _Site:
    """Where a runnable is bound, and the scope its holder is visible in."""

    def __init__(self, tree: Tree, holder: str, anchor: ast.AST) -> None:
        self.holder = holder
        self.anchor = anchor
        function = enclosing_function(tree, anchor)
        self.home: ast.AST | None = function
        if holder.startswith("self."):
            self.home = enclosing_class(tree, anchor)
        elif holder.partition(".")[0] in ("st", "cl") or "session_state" in holder:
            self.home = None


class _Builder:
    def __init__(self, tree: Tree, path: str) -> None:
        self.tree = tree
        self.path = path
        self.contexts = Contexts(tree, path)
        self.lifetimes = Lifetimes(tree, self.contexts)
        self.built = constructions(tree)
        self.wiring = Wiring(tree, self.lifetimes, self.built)
        self.identities: dict[int, tuple[Identity, ...]] = {}
        self.claimed: set[int] = set()  # the calls some conversation already holds

    def conversations(self) -> tuple[Conversation, ...]:
        found = [self._conversation(built) for built in self.built if built.kind in RUNNABLE_KINDS]
        # Memories first: one that is used by hand holds its `chat_memory` history.
        for kind in ("memory", "history", "checkpointer"):
            found += [
                self._by_hand(built)
                for built in self.built
                if built.kind == kind and id(built.node) not in self.wiring.linked
            ]
        for target, turns in configured_turns(self.tree, self.claimed).items():
            runnable = unresolved_runnable(self.tree, target, turns[0][0])
            calls = tuple(
                self._call(call, callee, name, KEY_FIELDS) for call, callee, name in turns
            )
            found.append(Conversation(self.path, runnable, (), None, None, calls, ()))
        return tuple(found)

    def _by_hand(self, built: Built) -> Conversation:
        """A memory or history no runnable here is given: read and written by hand, or not."""
        unknowns: list[str] = []
        held = self.wiring.state(built, built.holder, built.node)
        chat = keyword(built.node, "chat_memory")
        history = self.wiring.linked_state(chat, unknowns) if chat is not None else None
        methods = _BY_HAND[built.kind]
        calls = tuple(
            self._call(call, callee, target, ())
            for site in self._sites(built)
            for call, callee, target in turn_calls(self.tree, site.holder, site.home, methods)
        )
        if calls:
            unknowns.append(f"no runnable of this module is given this {built.kind}")
        else:
            unknowns.append(f"nothing in this module reads or writes this {built.kind}")
        store = store_filled_by(self.tree, built)
        state = (history[0],) if history else ()
        return Conversation(self.path, held, state, store, None, calls, tuple(unknowns))

    def _conversation(self, built: Built) -> Conversation:
        unknowns: list[str] = []
        sites = self._sites(built)
        lifetime, reason = self.lifetimes.of(built, sites[0].holder, sites[0].anchor)
        if len(sites) > 1 or sites[0].anchor is not built.node:
            reason = f"made by a factory; {reason}"
        name = ", ".join(sorted({site.holder for site in sites if site.holder}))
        runnable = State(
            built.kind,
            built.qualname,
            name,
            self.tree.span(built.node),
            lifetime,
            reason,
            options_of(built.node),
        )
        state, store, getter = self.wiring.wired(built, runnable, unknowns)
        fields = self._key_fields(built)
        calls = tuple(
            self._call(call, callee, target, fields)
            for site in sites
            for call, callee, target in self._turns(site)
        )
        if not calls:
            unknowns.append(f"no call of {name or built.qualname} was found in this module")
        return Conversation(self.path, runnable, state, store, getter, calls, tuple(unknowns))

    def _sites(self, built: Built) -> list[_Site]:
        factory = returned_by(self.tree, built)
        if factory is not None:
            calls = factory_calls(self.tree, factory)
            if calls:
                return [_Site(self.tree, holder, call) for call, holder in calls]
        return [_Site(self.tree, built.holder, built.node)]

    def _turns(self, site: _Site) -> list[Turn]:
        parent = self.tree.parent(site.anchor)
        if isinstance(parent, ast.Attribute) and parent.attr in TURN_METHODS:
            grand = self.tree.parent(parent)
            if isinstance(grand, ast.Call) and grand.func is parent:
                return [(grand, parent.attr, "")]  # built and called in one expression
        return turn_calls(self.tree, site.holder, site.home)

    def _key_fields(self, built: Built) -> tuple[str, ...]:
        if built.kind in ("graph", "agent"):
            return ("thread_id",)
        if built.kind != "history-runnable":
            return ()
        specs = keyword(built.node, "history_factory_config")
        ids = (
            [string(keyword(node, "id")) for node in ast.walk(specs) if isinstance(node, ast.Call)]
            if specs is not None
            else []
        )
        return tuple(name for name in ids if name) or ("session_id",)

    def _call(self, call: ast.Call, callee: str, holder: str, fields: tuple[str, ...]) -> CallSite:
        self.claimed.add(id(call))
        context, why, function_name = self.contexts.of(call)
        key = None
        if fields:
            config = keyword(call, "config")
            if config is None and callee != "__call__":
                config = argument(call, 1, "config")
            key = config_key(self.tree, call, config, fields)
        identities = self._reach(call)
        flows = key is not None and key.expr and key.origin not in _NOT_IDENTITIES
        if key is not None and flows and all(i.expr != key.expr for i in identities):
            proven = key.identity.proven if key.identity else False
            identities += (Identity(key.expr, "config", proven),)
        uses = result_uses(self.tree, call, callee)
        return CallSite(
            callee, holder, self.tree.span(call), function_name, context, why, key, identities, uses
        )

    def _reach(self, call: ast.Call) -> tuple[Identity, ...]:
        function = enclosing_function(self.tree, call)
        cached = self.identities.get(id(function))
        if cached is None:
            cached = identities_in(self.tree, function)
            self.identities[id(function)] = cached
        return cached
