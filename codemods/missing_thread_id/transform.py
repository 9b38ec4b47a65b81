"""The codemod of `missing-thread-id`; its documentation is the package's docstring."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import libcst as cst

from memfix.codemods._shared.find import find
from memfix.codemods.missing_thread_id import RULE as MISSING_THREAD_ID
from memfix.model import CallSite, Identity, Origin, build_model
from memfix.rules.codemod import Codemod, Fix, Invalid, Valid

_CALLS = frozenset({"invoke", "ainvoke", "stream", "astream", "batch", "abatch"})
# Where a request or framework hands the identity over by name: as good as a parameter.
_NAMED = frozenset({"parameter", "path", "query", "body", "form"})
_NO_IDENTITY = "no user or session id is in reach here: pass one as configurable.thread_id"

_GRAPH = (
    "from langgraph.checkpoint.memory import MemorySaver\n"
    "from langgraph.graph import START, MessagesState, StateGraph\n"
    "builder = StateGraph(MessagesState)\n"
    "graph = builder.compile(checkpointer=MemorySaver())\n"
)


def _route(body: str) -> str:
    return (
        "from fastapi import FastAPI\n" + _GRAPH + "app = FastAPI()\n"
        '@app.post("/chat")\n'
        f"def chat(user_id: str, text: str):\n    {body}\n"
    )


@dataclass(frozen=True, slots=True)
class _Gap:
    """What a call's config lacks, and the node of the config an edit extends."""

    what: str
    config: cst.Dict | None  # None: the call passes no config at all
    configurable: cst.Dict | None  # the `configurable` dict that lacks thread_id


class MissingThreadId(Codemod):
    RULE = MISSING_THREAD_ID
    MESSAGE = "{call}() on a graph with a checkpointer passes {what}; {advice}"

    VALID = [
        Valid(
            _route(
                'config = {"configurable": {"thread_id": user_id}}\n'
                '    return graph.invoke({"messages": [("user", text)]}, config)'
            )
        ),
        Valid(
            _route(
                'bound = graph.with_config(configurable={"thread_id": user_id})\n'
                '    return bound.invoke({"messages": [("user", text)]})'
            )
        ),
        # Without a checkpointer nothing is remembered and nothing needs a thread.
        Valid(
            "from langgraph.graph import START, MessagesState, StateGraph\n"
            "graph = StateGraph(MessagesState).compile()\n"
            "def chat(user_id: str, text: str):\n"
            '    return graph.invoke({"messages": [("user", text)]})\n'
        ),
    ]
    INVALID = [
        Invalid(
            _route('return graph.invoke({"messages": [("user", text)]})'),
            expected=_route(
                'return graph.invoke({"messages": [("user", text)]}, '
                'config={"configurable": {"thread_id": user_id}})'
            ),
        ),
        Invalid(
            _route('return graph.invoke({"messages": []}, {"recursion_limit": 5})'),
            expected=_route(
                'return graph.invoke({"messages": []}, {"recursion_limit": 5, '
                '"configurable": {"thread_id": user_id}})'
            ),
        ),
        Invalid(
            _route('return graph.invoke({"messages": []}, {"configurable": {"user": 1}})'),
            expected=_route(
                'return graph.invoke({"messages": []}, {"configurable": {"user": 1, '
                '"thread_id": user_id}})'
            ),
        ),
        # No identity in reach: report what is missing, never invent one.
        Invalid(_GRAPH + 'print(graph.invoke({"messages": [("user", "hi")]}))\n', expected=None),
    ]

    def visit_Module(self, node: cst.Module) -> bool:
        self._calls: dict[cst.Call, str] = {}
        self._dicts: dict[cst.Dict, cst.BaseDictElement] = {}
        model = build_model(node.code, self.context.path)
        calls = {self._start(call): call for call in find(node, cst.Call)}
        for conversation in model.conversations:
            if not any(state.kind == "checkpointer" for state in conversation.state):
                continue
            for site in conversation.calls:
                call = calls.get((site.where.line, site.where.column))
                if site.callee in _CALLS and call is not None:
                    self._check(site, call)
        return True

    def _start(self, call: cst.Call) -> tuple[int, int]:
        position = self.position(call)
        return position.line, position.column + 1

    def _check(self, site: CallSite, call: cst.Call) -> None:
        written = self._written(call)
        gap = _gap(call, site, None if written is None else written[1])
        if gap is None:
            return
        shown = f"{site.target}.{site.callee}"
        identity = _identity(site)
        elsewhere = gap.config is None and gap.what != "no config"
        if written is not None and identity is not None and gap.config is written[1]:
            # The config is written before the call: the identity must exist there too.
            elsewhere = _assigned(written[0], _root(identity.expr))
        if identity is None or elsewhere:
            advice = _NO_IDENTITY if identity is None else "pass configurable.thread_id there"
            message = self.MESSAGE.format(call=shown, what=gap.what, advice=advice)
            self.report(call, message, fixed=False, fix=Fix.NONE)
            return
        fix = Fix.SAFE if identity.proven or identity.source in _NAMED else Fix.UNSAFE
        advice = f"use {identity.expr} ({identity.source}) as the thread id"
        message = self.MESSAGE.format(call=shown, what=gap.what, advice=advice)
        if self.report(call, message, fixed=True, fix=fix) and self._applies(fix):
            self._plan(gap, call, identity.expr)

    def _plan(self, gap: _Gap, call: cst.Call, expression: str) -> None:
        """Note the edit: a new config argument, or a key in the dict that lacks it."""
        thread = cst.ensure_type(cst.parse_expression(f'{{"thread_id": {expression}}}'), cst.Dict)
        if gap.configurable is not None:
            self._dicts[gap.configurable] = thread.elements[0]
        elif gap.config is not None:
            self._dicts[gap.config] = cst.DictElement(cst.SimpleString('"configurable"'), thread)
        else:
            self._calls[call] = expression

    def _written(self, call: cst.Call) -> tuple[cst.CSTNode, cst.Dict] | None:
        """The dict literal a config variable passed to `call` is built from, when the
        enclosing function (or module) assigns it exactly once and never changes it."""
        arg = _config(call)
        if arg is None or not isinstance(arg.value, cst.Name):
            return None
        scope: cst.CSTNode | None = self.parent(call)
        while scope is not None and not isinstance(scope, cst.FunctionDef | cst.Module):
            scope = self.parent(scope)
        literal = None if scope is None else _only_literal(scope, arg.value.value)
        return None if scope is None or literal is None else (scope, literal)

    def _applies(self, fix: Fix) -> bool:
        return fix is Fix.SAFE or self.context.settings.unsafe_fixes

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.Call:
        expression = self._calls.get(original_node)
        if expression is None:
            return updated_node
        argument = cst.Arg(
            cst.parse_expression(f'{{"configurable": {{"thread_id": {expression}}}}}'),
            keyword=cst.Name("config"),
            equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")),
        )
        return updated_node.with_changes(args=[*_commas(updated_node.args), argument])

    def leave_Dict(self, original_node: cst.Dict, updated_node: cst.Dict) -> cst.Dict:
        element = self._dicts.get(original_node)
        return updated_node if element is None else _extended(updated_node, element)


def _commas(args: Sequence[cst.Arg]) -> list[cst.Arg]:
    """The arguments with a comma after the last one, so that another can follow."""
    if not args:
        return []
    last = args[-1]
    if isinstance(last.comma, cst.Comma):
        return list(args)
    return [
        *args[:-1],
        last.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))),
    ]


def _extended(target: cst.Dict, element: cst.BaseDictElement) -> cst.Dict:
    """The dict literal with `element` appended, after a comma."""
    elements = list(target.elements)
    if elements and not isinstance(elements[-1].comma, cst.Comma):
        comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
        elements[-1] = elements[-1].with_changes(comma=comma)
    return target.with_changes(elements=[*elements, element])


def _config(call: cst.Call) -> cst.Arg | None:
    """The argument the call passes as its config: `config=`, else the second positional."""
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "config":
            return arg
    positional = [arg for arg in call.args if arg.keyword is None and not arg.star]
    return positional[1] if len(positional) > 1 else None


def _gap(call: cst.Call, site: CallSite, written: cst.Dict | None) -> _Gap | None:
    """What the call's config lacks for a checkpointer, None when it has a thread id.

    `written` is the dict literal a config variable was built from in the same function.
    Any other config that is not a literal here is judged by the model's reading of it.
    """
    arg = _config(call)
    if arg is None:
        # `*args` or `**kwargs` may carry the config: nothing can be told.
        return None if any(a.star for a in call.args) else _Gap("no config", None, None)
    config = arg.value if isinstance(arg.value, cst.Dict) else written
    if config is None:
        missing = site.key is not None and site.key.origin is Origin.MISSING
        return _Gap("a config with no thread_id", None, None) if missing else None
    if any(isinstance(element, cst.StarredDictElement) for element in config.elements):
        return None
    inner = _value(config, "configurable")
    if inner is None:
        return _Gap("a config with no configurable", config, None)
    if not isinstance(inner, cst.Dict) or _value(inner, "thread_id") is not None:
        return None
    if any(isinstance(element, cst.StarredDictElement) for element in inner.elements):
        return None
    return _Gap("a configurable with no thread_id", config, inner)


def _only_literal(scope: cst.CSTNode, name: str) -> cst.Dict | None:
    """The dict literal `name` is bound to in `scope`, when that is its one binding and
    nothing writes into it (`config[...] =`, `config.update(...)`)."""
    values: list[cst.BaseExpression] = []
    changed = False

    class _Bindings(cst.CSTVisitor):
        def visit_Assign(self, node: cst.Assign) -> None:
            nonlocal changed
            for target in node.targets:
                if _is_name(target.target, name):
                    values.append(node.value)
                elif isinstance(target.target, cst.Subscript):
                    changed = changed or _is_name(target.target.value, name)

        def visit_Attribute(self, node: cst.Attribute) -> None:
            nonlocal changed
            changed = changed or _is_name(node.value, name)

        def visit_AugAssign(self, node: cst.AugAssign) -> None:
            nonlocal changed
            changed = changed or _is_name(node.target, name)

    scope.visit(_Bindings())
    if changed or len(values) != 1 or not isinstance(values[0], cst.Dict):
        return None
    return values[0]


def _assigned(scope: cst.CSTNode, name: str) -> bool:
    """Whether `scope` binds `name` by an assignment (it is a local, not a parameter)."""
    found = False

    class _Targets(cst.CSTVisitor):
        def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
            nonlocal found
            found = found or _is_name(node.target, name)

    scope.visit(_Targets())
    return found


def _is_name(node: cst.CSTNode, name: str) -> bool:
    """Whether `node` is the bare name `name`."""
    return isinstance(node, cst.Name) and node.value == name


def _root(expression: str) -> str:
    """The first name of an expression's text: `req` of `req.user_id`."""
    return re.split(r"[.\[(]", expression, maxsplit=1)[0]


def _value(config: cst.Dict, key: str) -> cst.BaseExpression | None:
    """The value a dict literal gives to a string key, None when it has none."""
    for element in config.elements:
        if (
            isinstance(element, cst.DictElement)
            and isinstance(element.key, cst.SimpleString)
            and element.key.evaluated_value == key
        ):
            return element.value
    return None


def _identity(site: CallSite) -> Identity | None:
    """The identity to key the thread by: a proven one first, never a config's own value."""
    usable = [identity for identity in site.identities if identity.source != "config"]
    proven = [identity for identity in usable if identity.proven]
    ranked = proven or usable
    return ranked[0] if ranked else None
