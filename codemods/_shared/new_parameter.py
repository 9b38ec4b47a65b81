"""Signature changes: a new required parameter, a default removed, callers updated.

Only the calls in the same module are seen, so every rewrite here changes what code
elsewhere must pass: the fixes that use it are unsafe.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst
import libcst.matchers as m

# Decorators of FastAPI-style routes, where a new parameter is a new query parameter.
ROUTE_METHODS = frozenset(
    {"get", "post", "put", "patch", "delete", "websocket", "api_route", "route"}
)


@dataclass(frozen=True, slots=True)
class Caller:
    call: cst.Call
    function: cst.FunctionDef | None  # where the call is made; None at module level


def callers(module: cst.Module, function: cst.FunctionDef, *, method: bool) -> list[Caller] | None:
    """Every call of `function` in the module; None when it is also used another way.

    A function handed to a framework (`fn=respond`, `map(ask, ...)`) cannot be given a
    new required parameter.
    """
    finder = _References(function, method=method)
    module.visit(finder)
    return None if finder.escapes else finder.calls


class _References(cst.CSTVisitor):
    def __init__(self, function: cst.FunctionDef, *, method: bool) -> None:
        self.function = function
        self.name = function.name.value
        self.method = method
        self.calls: list[Caller] = []
        self.escapes = False
        self.stack: list[cst.FunctionDef] = []
        self.seen: set[int] = set()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.stack.append(node)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.stack.pop()

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if (not self.method and m.matches(func, m.Name(self.name))) or (
            self.method and m.matches(func, m.Attribute(attr=m.Name(self.name)))
        ):
            self.seen.add(id(func.attr if isinstance(func, cst.Attribute) else func))
            self.calls.append(Caller(node, self.stack[-1] if self.stack else None))

    def visit_Name(self, node: cst.Name) -> None:
        if node.value == self.name and id(node) not in self.seen and node is not self.function.name:
            self.escapes = True

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        if not self.method:
            node.value.visit(self)
            return False
        return True

    def visit_Arg(self, node: cst.Arg) -> bool:
        node.value.visit(self)
        return False

    def visit_Param(self, node: cst.Param) -> bool:
        return False


def is_plain_or_route(function: cst.FunctionDef) -> bool:
    """No decorators, or only route decorators (`@app.post("/chat")`)."""
    return all(
        m.matches(
            decorator.decorator,
            m.Call(func=m.Attribute(attr=m.OneOf(*(m.Name(n) for n in sorted(ROUTE_METHODS))))),
        )
        for decorator in function.decorators
    )


def with_parameter(function: cst.FunctionDef, name: str) -> cst.FunctionDef:
    """`function` with a new `name: str` parameter that keeps every existing call valid."""
    params = function.params
    new = cst.Param(cst.Name(name), cst.Annotation(cst.Name("str")))
    positional = [*params.posonly_params, *params.params]
    keyword_only = isinstance(params.star_arg, cst.Param | cst.ParamStar) or any(
        param.default is not None for param in (*positional, *params.kwonly_params)
    )
    if keyword_only:
        star = params.star_arg if isinstance(params.star_arg, cst.Param) else cst.ParamStar()
        kwonly = [*params.kwonly_params, new]
        return function.with_changes(
            params=params.with_changes(star_arg=star, kwonly_params=kwonly)
        )
    return function.with_changes(params=params.with_changes(params=[*params.params, new]))


def default_removable(function: cst.FunctionDef, param: cst.Param) -> bool:
    """Whether dropping `param`'s default keeps the signature valid."""
    params = function.params
    if param in params.kwonly_params:
        return True
    positional = [*params.posonly_params, *params.params]
    if param not in positional:
        return False
    later = positional[positional.index(param) + 1 :]
    return all(other.default is None for other in later)


def without_default(function: cst.FunctionDef, name: str) -> cst.FunctionDef:
    def strip(param: cst.Param) -> cst.Param:
        if param.name.value != name:
            return param
        return param.with_changes(default=None, equal=cst.MaybeSentinel.DEFAULT)

    params = function.params
    return function.with_changes(
        params=params.with_changes(
            posonly_params=[strip(p) for p in params.posonly_params],
            params=[strip(p) for p in params.params],
            kwonly_params=[strip(p) for p in params.kwonly_params],
        )
    )


def passes(call: cst.Call, function: cst.FunctionDef, name: str, *, method: bool) -> bool:
    """Whether the call gives parameter `name` a value (or may, through `*args`/`**kw`)."""
    if any(arg.star for arg in call.args):
        return True
    if any(arg.keyword is not None and arg.keyword.value == name for arg in call.args):
        return True
    params = function.params
    positional = [p.name.value for p in (*params.posonly_params, *params.params)]
    if method and positional:
        positional = positional[1:]
    given = sum(arg.keyword is None for arg in call.args)
    return name in positional[:given]


def with_keyword(call: cst.Call, name: str, value: cst.BaseExpression) -> cst.Call:
    arg = cst.Arg(
        value,
        keyword=cst.Name(name),
        equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")),
    )
    args = list(call.args)
    if args and args[-1].comma is not cst.MaybeSentinel.DEFAULT:
        # A trailing comma: put the new argument before the closing layout.
        last = args[-1]
        args[-1] = last.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        arg = arg.with_changes(comma=last.comma)
    return call.with_changes(args=[*args, arg])
