"""Finding nodes in a tree, with one walk of the tree shared by every search in it.

`libcst.matchers.findall` walks the whole tree each time it is called, and a walk of a
libcst tree costs about as much as parsing it. Codemods search the same module many
times (its calls, its assignments, a function's subscripts), so the tree is walked once,
its nodes kept in source order with the span of each subtree, and each search reads a
slice of that list. The walk kept is that of the tree searched last: the codemods of one
pass search one tree after the other.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import libcst as cst
import libcst.matchers as m

Node = TypeVar("Node", bound=cst.CSTNode)


class _Order(cst.CSTVisitor):
    """Every node of a tree in visiting order, with where each one's subtree ends."""

    def __init__(self) -> None:
        self.nodes: list[cst.CSTNode] = []
        self.spans: dict[int, tuple[int, int]] = {}
        self._starts: list[int] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        self._starts.append(len(self.nodes))
        self.nodes.append(node)
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self.spans[id(original_node)] = (self._starts.pop(), len(self.nodes))


_walked: tuple[cst.CSTNode, _Order] | None = None


def descendants(tree: cst.CSTNode) -> Sequence[cst.CSTNode]:
    """`tree` and every node below it, in the order a visitor meets them."""
    global _walked
    if _walked is None or id(tree) not in _walked[1].spans:
        order = _Order()
        tree.visit(order)
        _walked = (tree, order)  # the root is kept alive, so the ids stay its nodes'
    order = _walked[1]
    start, end = order.spans[id(tree)]
    return order.nodes[start:end]


def find(tree: cst.CSTNode, kind: type[Node]) -> list[Node]:
    """Every node of type `kind` in `tree` (itself included), in source order."""
    return [node for node in descendants(tree) if isinstance(node, kind)]


def findall(
    tree: cst.CSTNode, matcher: m.BaseMatcherNode | m.MatchIfTrue[cst.CSTNode]
) -> list[cst.CSTNode]:
    """What `libcst.matchers.findall` finds (without metadata), from the shared walk."""
    kind = getattr(cst, type(matcher).__name__, None)
    nodes = descendants(tree)
    if isinstance(kind, type) and issubclass(kind, cst.CSTNode):
        nodes = [node for node in nodes if isinstance(node, kind)]
    if isinstance(matcher, m.MatchIfTrue):
        return [node for node in nodes if matcher.func(node)]
    return [node for node in nodes if m.matches(node, matcher)]
