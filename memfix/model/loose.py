"""Conversations whose runnable is not built in the module, and state used by hand.

A turn whose config carries a `configurable` (`chain.invoke(x, config={"configurable":
{"session_id": ...}})`) is a conversation even when `chain` is imported or made by a
function of another module: its key and call sites are still read here, and its
runnable is recorded as unresolved with the reason. A memory or history that no
runnable of the module is given is a conversation of its own, read and written by hand
(`memory.load_memory_variables`, `history.add_user_message`), or by nothing at all.
"""

from __future__ import annotations

import ast

from memfix.model.calls import TURN_METHODS, Turn
from memfix.model.keys import assigned_value, configurable
from memfix.model.names import Tree, argument, dotted, keyword, source
from memfix.model.scopes import enclosing_function
from memfix.model.types import Lifetime, State


def configured_turns(tree: Tree, claimed: set[int]) -> dict[str, list[Turn]]:
    """Turns with a `configurable` config not already claimed, grouped by their target."""
    found: dict[str, list[Turn]] = {}
    for node in ast.walk(tree.module):
        if not isinstance(node, ast.Call) or id(node) in claimed:
            continue
        func = node.func
        if not (isinstance(func, ast.Attribute) and func.attr in TURN_METHODS):
            continue
        target = dotted(func.value)
        config = keyword(node, "config") or argument(node, 1, "config")
        if target and config is not None and configurable(tree, config) is not None:
            found.setdefault(target, []).append((node, func.attr, target))
    for turns in found.values():
        turns.sort(key=lambda turn: (turn[0].lineno, turn[0].col_offset))
    return found


def unresolved_runnable(tree: Tree, target: str, first: ast.Call) -> State:
    """The runnable behind `target` when this module does not build it, with the reason."""
    root, _, rest = target.partition(".")
    imported = tree.imports.get(root)
    if imported is not None:
        qualname = f"{imported}.{rest}" if rest else imported
        module = imported.rpartition(".")[0] or imported
        reason = f"imported from {module}: built in another module"
        return State("unresolved", qualname, target, None, Lifetime.UNKNOWN, reason)
    found = assigned_value(tree, target, enclosing_function(tree, first))
    if found is None:
        reason = f"{target} is not bound in this module"
        return State("unresolved", target, target, None, Lifetime.UNKNOWN, reason)
    value = found[0]
    reason = f"bound to {source(value)}, not a LangChain construction of this module"
    return State("unresolved", target, target, tree.span(value), Lifetime.UNKNOWN, reason)
