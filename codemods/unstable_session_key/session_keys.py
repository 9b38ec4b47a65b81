"""Where a conversation's key comes from: found at its use, traced back to its origin.

A key is used in a run's config (`invoke(x, config={"configurable": {"session_id": k}})`,
`with_config(configurable=...)`, `stream`, `batch`, ...), or as a history's
`session_id=`. Its value is followed through local variables bound exactly once and one
level of dict construction (`config = {...}`, `config["configurable"]["session_id"] = k`)
back to where it is made: a fresh uuid, a constant, a module-level value or a
parameter's default. Anything else (a parameter, a request field, a function call that
is not a known random source) is taken to be stable.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace

import libcst as cst
import libcst.matchers as m

from memfix.codemods._shared.names import bindings

RUN_METHODS = frozenset({"invoke", "ainvoke", "stream", "astream", "batch", "abatch"})

# Sources of a value that differs on every evaluation.
RANDOM_SOURCES = frozenset(
    {
        "uuid.uuid1",
        "uuid.uuid4",
        "secrets.token_hex",
        "secrets.token_urlsafe",
        "secrets.token_bytes",
        "time.time",
        "time.time_ns",
        "datetime.datetime.now",
        "datetime.datetime.utcnow",
        "random.random",
        "random.randint",
        "os.urandom",
    }
)
# Calls that keep the randomness of their first argument: `str(uuid4())`.
_CONVERSIONS = frozenset({"str", "repr", "int", "format", "hex"})

QualifiedNames = Callable[[cst.CSTNode], set[str]]
_CODE = cst.Module([])


class Origin(enum.Enum):
    PER_CALL = "per-call"
    PER_PROCESS = "per-process"
    CONSTANT = "constant"
    DEFAULT = "default"


@dataclass(frozen=True, slots=True)
class KeyUse:
    """One value given as a conversation key, in the original tree."""

    key: str
    value: cst.BaseExpression
    call: cst.Call
    function: cst.FunctionDef | None
    loop: cst.For | cst.While | None  # the innermost loop of the function around the call
    # A config kept on the instance (`self.config`, set in `__init__`): the argument to
    # rebuild at the call, since the value it holds is shared by every call.
    shared: cst.BaseExpression | None = None


@dataclass(frozen=True, slots=True)
class Unstable:
    """Why a key is not a stable per-user key, and what to replace to make it one."""

    origin: Origin
    text: str  # the code the key is made by
    target: cst.BaseExpression  # the expression inside the function to replace
    maker: cst.CSTNode  # the node that makes the value (the uuid call, the literal)
    local: str | None = None  # `local = target` is a statement of the function
    param: cst.Param | None = None  # DEFAULT: the parameter whose default is used


def code(node: cst.CSTNode) -> str:
    return _CODE.code_for_node(node)


def string_value(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def contains(outer: cst.CSTNode, inner: cst.CSTNode) -> bool:
    """Whether `inner` is `outer` or one of its descendants (by identity)."""
    finder = _Finder(inner)
    outer.visit(finder)
    return finder.found


class _Finder(cst.CSTVisitor):
    def __init__(self, target: cst.CSTNode) -> None:
        self.target = target
        self.found = False

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.found |= node is self.target
        return not self.found


class Scope:
    """The names bound in one function (or the module) and the values of simple ones."""

    def __init__(self, node: cst.FunctionDef | cst.Module) -> None:
        body: Sequence[cst.CSTNode] = node.body if isinstance(node, cst.Module) else [node.body]
        self.node = node
        self.counts, self.declares_global = bindings(body)
        self.values: dict[str, tuple[cst.Assign, cst.BaseExpression]] = {}
        self.subscripts: list[tuple[cst.Subscript, cst.BaseExpression]] = []
        for statement in body:
            statement.visit(_Assignments(self))

    def value(self, name: str) -> tuple[cst.Assign, cst.BaseExpression] | None:
        if self.counts.get(name) != 1 or self.declares_global:
            return None
        return self.values.get(name)

    def item_assignments(
        self, name: str, keys: tuple[str, ...]
    ) -> Iterator[tuple[str, cst.BaseExpression]]:
        """(key, value) of `name[keys[0]]...[key] = value` statements."""
        for target, value in self.subscripts:
            path: list[str] = []
            node: cst.BaseExpression = target
            while isinstance(node, cst.Subscript):
                index = node.slice[0].slice if len(node.slice) == 1 else None
                key = string_value(index.value) if isinstance(index, cst.Index) else None
                if key is None:
                    break
                path.insert(0, key)
                node = node.value
            if m.matches(node, m.Name(name)) and tuple(path[:-1]) == keys and path:
                yield path[-1], value


class _Assignments(cst.CSTVisitor):
    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    def visit_Assign(self, node: cst.Assign) -> None:
        if len(node.targets) != 1:
            return
        target = node.targets[0].target
        if isinstance(target, cst.Name):
            self.scope.values[target.value] = (node, node.value)
        elif isinstance(target, cst.Subscript):
            self.scope.subscripts.append((target, node.value))

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False


def config_argument(call: cst.Call) -> cst.BaseExpression | None:
    """The config a run method or `with_config` receives, or its `configurable=`."""
    if not isinstance(call.func, cst.Attribute):
        return None
    method = call.func.attr.value
    if method not in RUN_METHODS and method != "with_config":
        return None
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value in ("config", "configurable"):
            if arg.keyword.value == "configurable":
                return cst.Dict([cst.DictElement(cst.SimpleString('"configurable"'), arg.value)])
            return arg.value
    position = 0 if method == "with_config" else 1
    positional = [arg for arg in call.args if arg.keyword is None and not arg.star]
    return positional[position].value if len(positional) > position else None


def key_values(
    config: cst.BaseExpression, scope: Scope, keys: frozenset[str]
) -> Iterator[tuple[str, cst.BaseExpression]]:
    """(key, value) of each conversation key inside a config, one dict level deep."""
    for name, configurable in _items(config, scope):
        if name == "configurable":
            yield from ((k, v) for k, v in _items(configurable, scope) if k in keys)
    if isinstance(config, cst.Name):
        found = scope.item_assignments(config.value, ("configurable",))
        yield from ((k, v) for k, v in found if k in keys)


def _items(
    expression: cst.BaseExpression, scope: Scope
) -> Iterator[tuple[str, cst.BaseExpression]]:
    """The string-keyed items of a dict literal, `dict(...)`, or a local bound to one."""
    if isinstance(expression, cst.Name):
        found = scope.value(expression.value)
        if found is not None and not isinstance(found[1], cst.Name):
            yield from _items(found[1], scope)
            yield from scope.item_assignments(expression.value, ())
        return
    if isinstance(expression, cst.Dict):
        for element in expression.elements:
            if isinstance(element, cst.DictElement):
                key = string_value(element.key)
                if key is not None:
                    yield key, element.value
    elif isinstance(expression, cst.Call):
        for arg in expression.args:
            if arg.keyword is not None:
                yield arg.keyword.value, arg.value


class Tracer:
    """Follows a key's value back to its origin, within one function and the module."""

    def __init__(
        self, module: cst.Module, qualified: QualifiedNames, *, reruns: bool = False
    ) -> None:
        self.module_scope = Scope(module)
        self.imported_constants = _imported_constants(module)
        self.qualified = qualified
        self.reruns = reruns  # the module's body runs again for every visitor (Streamlit)

    def trace(self, use: KeyUse, scope: Scope) -> Unstable | None:
        found = self._origin(use.value, scope, use.function, depth=0)
        if found is None or use.loop is None:
            return found
        inside = contains(use.loop, found.maker)
        if found.origin is Origin.PER_CALL and not inside:
            return None  # one key made before the loop: one conversation per loop
        if found.origin is Origin.PER_PROCESS and use.function is None and inside:
            # A script's own chat loop: made once per turn, not once per process.
            return replace(found, origin=Origin.PER_CALL)
        return found

    def origin_at_module(self, value: cst.BaseExpression) -> Unstable | None:
        """Where a value computed at module level comes from."""
        return self._origin(value, self.module_scope, None, depth=0)

    def _origin(
        self,
        value: cst.BaseExpression,
        scope: Scope,
        function: cst.FunctionDef | None,
        depth: int,
    ) -> Unstable | None:
        if depth > 6:
            return None
        if isinstance(value, cst.Name):
            return self._name(value, scope, function, depth)
        if _is_literal(value):
            return Unstable(Origin.CONSTANT, code(value), value, value)
        if isinstance(value, cst.FormattedString):
            return self._formatted(value, scope, function, depth)
        if isinstance(value, cst.BinaryOperation):
            return self._binary(value, scope, function, depth)
        if isinstance(value, cst.Attribute | cst.Subscript):
            if not isinstance(value.value, cst.Call):
                return None  # `req.session_id`, `data["user"]`: read from input
            inner = self._origin(value.value, scope, function, depth + 1)
            return self._wrapped(inner, value)
        if isinstance(value, cst.Call):
            return self._call(value, scope, function, depth)
        return None

    def _formatted(
        self,
        value: cst.FormattedString,
        scope: Scope,
        function: cst.FunctionDef | None,
        depth: int,
    ) -> Unstable | None:
        """An f-string is as unstable as the first part of it that is not a constant."""
        for part in value.parts:
            if not isinstance(part, cst.FormattedStringExpression):
                continue
            inner = self._origin(part.expression, scope, function, depth + 1)
            if inner is not None and inner.origin is not Origin.CONSTANT:
                return Unstable(inner.origin, code(value), value, inner.maker)
        return None

    def _binary(
        self,
        value: cst.BinaryOperation,
        scope: Scope,
        function: cst.FunctionDef | None,
        depth: int,
    ) -> Unstable | None:
        left = self._origin(value.left, scope, function, depth + 1)
        right = self._origin(value.right, scope, function, depth + 1)
        for side in (left, right):
            if side is not None and side.origin is not Origin.CONSTANT:
                return Unstable(side.origin, code(value), value, side.maker)
        if left is not None and right is not None:
            return Unstable(Origin.CONSTANT, code(value), value, value)
        return None

    def _call(
        self,
        value: cst.Call,
        scope: Scope,
        function: cst.FunctionDef | None,
        depth: int,
    ) -> Unstable | None:
        if self.qualified(value.func) & RANDOM_SOURCES:
            origin = Origin.PER_CALL if function is not None else Origin.PER_PROCESS
            return Unstable(origin, code(value), value, value)
        func = value.func
        if isinstance(func, cst.Name) and func.value in _CONVERSIONS and value.args:
            inner = self._origin(value.args[0].value, scope, function, depth + 1)
            return self._wrapped(inner, value)
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Call):
            inner = self._origin(func.value, scope, function, depth + 1)
            return self._wrapped(inner, value)
        return None

    def _wrapped(self, inner: Unstable | None, outer: cst.BaseExpression) -> Unstable | None:
        """`str(uuid4())`, `uuid4().hex`: the whole expression is replaced, not its core."""
        if inner is None or not contains(outer, inner.target):
            return inner
        text = code(outer) if inner.text == code(inner.target) else inner.text
        return replace(inner, text=text, target=outer)

    def _name(
        self,
        name: cst.Name,
        scope: Scope,
        function: cst.FunctionDef | None,
        depth: int,
    ) -> Unstable | None:
        if function is not None:
            param = _parameter(function, name.value)
            if param is not None:
                if param.default is not None and _is_literal(param.default):
                    default = code(param.default)
                    return Unstable(Origin.DEFAULT, default, name, param.default, param=param)
                return None
            if name.value in scope.counts:
                return self._local(name, scope, function, depth)
        module = self.module_scope
        if function is None and scope is not module:
            return None
        return self._module_name(name, function, depth)

    def _local(
        self, name: cst.Name, scope: Scope, function: cst.FunctionDef, depth: int
    ) -> Unstable | None:
        """A key read from a local: where the local's one value comes from."""
        found = scope.value(name.value)
        if found is None:
            return None
        inner = self._origin(found[1], scope, function, depth + 1)
        if inner is None:
            return None
        if inner.target is found[1] and _reads(function, name.value) == 1:
            return replace(inner, local=name.value)
        return replace(inner, target=name, local=None)

    def _module_name(
        self, name: cst.Name, function: cst.FunctionDef | None, depth: int
    ) -> Unstable | None:
        """A key read from a module-level name, in a function or at module level."""
        module = self.module_scope
        found = module.value(name.value)
        if found is None:
            return self._imported(name, function)
        inner = self._origin(found[1], module, None, depth + 1)
        if inner is None:
            return None
        if function is None:
            if self.reruns and inner.origin is Origin.PER_PROCESS and inner.target is found[1]:
                return replace(inner, local=name.value)  # made anew on every rerun
            # Made once and used once per run of a script: one conversation per run.
            return inner if inner.origin is Origin.CONSTANT else None
        text = f"{name.value} = {inner.text}"
        return Unstable(inner.origin, text, name, inner.maker)

    def _imported(self, name: cst.Name, function: cst.FunctionDef | None) -> Unstable | None:
        """A constant imported from a settings module, read in a function."""
        source = self.imported_constants.get(name.value)
        if function is None or source is None or self.module_scope.counts.get(name.value) != 1:
            return None
        return Unstable(Origin.CONSTANT, f"{name.value} imported from {source}", name, name)


def _imported_constants(module: cst.Module) -> dict[str, str]:
    """Upper-case names bound by a top-level `from settings import SESSION_ID`: their module."""
    found: dict[str, str] = {}
    for statement in module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if not isinstance(small, cst.ImportFrom) or isinstance(small.names, cst.ImportStar):
                continue
            source = "." * len(small.relative) + (code(small.module) if small.module else "")
            for alias in small.names:
                bound = alias.asname.name if alias.asname else alias.name
                if isinstance(bound, cst.Name) and bound.value.isupper():
                    found[bound.value] = source
    return found


def _is_literal(node: cst.BaseExpression) -> bool:
    if isinstance(node, cst.SimpleString | cst.Integer | cst.ConcatenatedString):
        return True
    return isinstance(node, cst.FormattedString) and not any(
        isinstance(part, cst.FormattedStringExpression) for part in node.parts
    )


def _parameter(function: cst.FunctionDef, name: str) -> cst.Param | None:
    params = function.params
    for param in (*params.posonly_params, *params.params, *params.kwonly_params):
        if param.name.value == name:
            return param
    return None


class _Reads(cst.CSTVisitor):
    def __init__(self, name: str) -> None:
        self.name = name
        self.count = 0

    def visit_Name(self, node: cst.Name) -> None:
        self.count += node.value == self.name

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        node.value.visit(self)
        return False

    def visit_Arg(self, node: cst.Arg) -> bool:
        node.value.visit(self)
        return False

    def visit_AssignTarget(self, node: cst.AssignTarget) -> bool:
        return not isinstance(node.target, cst.Name)


def _reads(function: cst.FunctionDef, name: str) -> int:
    """How often the function's body reads `name`."""
    visitor = _Reads(name)
    function.body.visit(visitor)
    return visitor.count
