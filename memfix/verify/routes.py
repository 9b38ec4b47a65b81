"""Web routes read from decorators: framework, method, path and the app object."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from memfix.model.names import Tree, dotted, string
from memfix.model.scopes import Function
from memfix.verify.types import Framework

_VERBS = frozenset({"get", "post", "put", "patch", "delete"})
_APP_CLASSES = {
    "FastAPI": ("fastapi", "app"),
    "APIRouter": ("fastapi", "router"),
    "Starlette": ("fastapi", "app"),
    "Flask": ("flask", "app"),
    "Blueprint": ("flask", "blueprint"),
}
_FLASK_PARAMETER = re.compile(r"<(?:[a-z_]+:)?([A-Za-z_]\w*)>")
_FASTAPI_PARAMETER = re.compile(r"\{([A-Za-z_]\w*)(?::[a-z]+)?\}")


@dataclass(frozen=True, slots=True)
class Route:
    """One route decorator: who serves it and how it is reached."""

    framework: Framework
    method: str
    path: str
    app: str
    app_kind: str

    @property
    def label(self) -> str:
        """`POST /chat`, as the messages of the generated tests name the route."""
        return f"{self.method} {self.path}"

    def path_parameters(self) -> tuple[str, ...]:
        """The names the path template fills in: `{user_id}` or `<int:user_id>`."""
        pattern = _FLASK_PARAMETER if self.framework is Framework.FLASK else _FASTAPI_PARAMETER
        return tuple(pattern.findall(self.path))


def app_objects(tree: Tree) -> dict[str, tuple[str, str]]:
    """Module-level names bound to a web app, router or blueprint: name -> (framework, kind)."""
    found: dict[str, tuple[str, str]] = {}
    for node in tree.module.body:
        if isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(node.value, ast.Call):
            qualname = tree.qualname(node.value.func) or ""
            package, _, name = qualname.rpartition(".")
            made = _APP_CLASSES.get(name)
            if made is None or not package.startswith(("fastapi", "flask", "starlette")):
                continue
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    found[target.id] = made
    return found


def route_of(tree: Tree, function: Function) -> Route | str | None:
    """The route a decorator makes of `function`; None when it has no route decorator,
    and a reason when it has one the tests cannot reach."""
    apps = app_objects(tree)
    for decorator in function.decorator_list:
        if not isinstance(decorator, ast.Call) or not isinstance(decorator.func, ast.Attribute):
            continue
        owner = dotted(decorator.func.value) or ""
        verb = decorator.func.attr
        if owner not in apps:
            continue
        framework, kind = apps[owner]
        if verb == "websocket":
            return "a websocket route: the generated tests send HTTP requests only"
        method = _method(decorator, verb)
        path = string(decorator.args[0]) if decorator.args else string(_keyword(decorator, "path"))
        if method is None or path is None:
            continue
        return Route(Framework(framework), method, path, owner, kind)
    return None


def _method(decorator: ast.Call, verb: str) -> str | None:
    if verb in _VERBS:
        return verb.upper()
    if verb not in ("route", "api_route"):
        return None
    methods = _keyword(decorator, "methods")
    if isinstance(methods, ast.List | ast.Tuple) and methods.elts:
        first = string(methods.elts[0])
        return first.upper() if first else None
    return "GET"


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    for item in call.keywords:
        if item.arg == name:
            return item.value
    return None
