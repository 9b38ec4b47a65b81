"""Finding nodes in a tree, with one walk of the tree shared by every search in it.

`libcst.matchers.findall` walks the whole tree each time it is called, and a walk of a
libcst tree costs about as much as parsing it. Codemods search the same module many
times (its calls, its assignments, a function's subscripts), so the tree is walked once,
its nodes kept in source order with the span of each subtree, and each search reads a
slice of that list. The walks kept are those of the trees searched last: the codemods of
one pass search one tree after the other.
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


# The walks kept, newest first: the tree a pass searches, and a few subtrees of new code.
_walks: list[tuple[cst.CSTNode, _Order]] = []
_KEPT = 4


def _walk_of(tree: cst.CSTNode) -> _Order:
    for _root, order in _walks:
        if id(tree) in order.spans:
            return order
    order = _Order()
    tree.visit(order)
    _walks.insert(0, (tree, order))  # each root is kept alive, so the ids stay its nodes'
    del _walks[_KEPT:]
    return order


def descendants(tree: cst.CSTNode) -> Sequence[cst.CSTNode]:
    """`tree` and every node below it, in the order a visitor meets them."""
    order = _walk_of(tree)
    start, end = order.spans[id(tree)]
    return order.nodes[start:end]


def visit(tree: cst.CSTNode, visitor: cst.CSTVisitor) -> None:
    """Call the visitor's `visit_<Node>` methods over `tree`, in libcst's order, from the
    shared walk; one returning False skips that node's children. For visitors that have
    no `leave_` or attribute methods."""
    order = _walk_of(tree)
    start, end = order.spans[id(tree)]
    nodes = order.nodes
    index = start
    while index < end:
        node = nodes[index]
        method = getattr(visitor, f"visit_{type(node).__name__}", None)
        if method is not None and method(node) is False:
            first, last = order.spans[id(node)]
            index += last - first  # the same object is the same subtree wherever it is
        else:
            index += 1


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
