"""Which names a piece of code reads and which it binds, without a full scope analysis."""

from __future__ import annotations

import builtins
from collections.abc import Iterable

import libcst as cst

from memfix.codemods._shared.find import visit

BUILTINS = frozenset(dir(builtins))


class _Reads(cst.CSTVisitor):
    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_Name(self, node: cst.Name) -> None:
        self.names.add(node.value)

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        node.value.visit(self)  # `x.attr` reads x, never a name `attr`
        return False

    def visit_Arg(self, node: cst.Arg) -> bool:
        node.value.visit(self)  # `f(key=v)` reads v, never a name `key`
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        for param in _all_params(node.params):
            if param.default is not None:
                param.default.visit(self)
        self.names |= names_read(node.body) - parameter_names(node.params)
        return False


def names_read(node: cst.CSTNode) -> set[str]:
    """Every name the code may read (lambda and comprehension variables included: safe side)."""
    visitor = _Reads()
    node.visit(visitor)
    return visitor.names


def target_names(target: cst.BaseExpression) -> set[str]:
    """Names an assignment target binds: `a`, `a, (b, *c)`; not `a.x` or `a[0]`."""
    if isinstance(target, cst.Name):
        return {target.value}
    if isinstance(target, cst.Tuple | cst.List):
        return {name for element in target.elements for name in target_names(element.value)}
    if isinstance(target, cst.StarredElement):
        return target_names(target.value)
    return set()


class _Bindings(cst.CSTVisitor):
    """Names bound in one scope; nested functions and classes bind only their own name."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.declares_global = False

    def _bind(self, names: Iterable[str]) -> None:
        for name in names:
            self.counts[name] = self.counts.get(name, 0) + 1

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._bind(target_names(node.target))

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._bind(target_names(node.target))

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._bind(target_names(node.target))

    def visit_For(self, node: cst.For) -> None:
        self._bind(target_names(node.target))

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._bind(target_names(node.asname.name))

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._bind(target_names(node.target))

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None:
            self._bind(target_names(node.name.name))

    def visit_Del(self, node: cst.Del) -> None:
        self._bind(target_names(node.target))

    def visit_ImportAlias(self, node: cst.ImportAlias) -> None:
        if node.asname is not None:
            self._bind(target_names(node.asname.name))
        else:
            name: cst.BaseExpression = node.name
            while isinstance(name, cst.Attribute):
                name = name.value
            if isinstance(name, cst.Name):
                self._bind([name.value])

    def visit_Global(self, node: cst.Global) -> None:
        self.declares_global = True

    def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
        self.declares_global = True

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self._bind([node.name.value])
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self._bind([node.name.value])
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_CompFor(self, node: cst.CompFor) -> bool:
        return False  # comprehension variables live in their own scope


def bindings(statements: Iterable[cst.CSTNode]) -> tuple[dict[str, int], bool]:
    """How often each name is bound by `statements`, and whether they declare global/nonlocal."""
    visitor = _Bindings()
    for statement in statements:
        visit(statement, visitor)
    return visitor.counts, visitor.declares_global


def _all_params(parameters: cst.Parameters) -> list[cst.Param]:
    every = [*parameters.posonly_params, *parameters.params, *parameters.kwonly_params]
    for star in (parameters.star_arg, parameters.star_kwarg):
        if isinstance(star, cst.Param):
            every.append(star)
    return every


def parameter_names(parameters: cst.Parameters) -> set[str]:
    return {param.name.value for param in _all_params(parameters)}
