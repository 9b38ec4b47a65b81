"""What runs each function: a web route, a UI callback, a bot handler, a Streamlit rerun.

Read from decorators, from the functions a module hands to a framework
(`gr.ChatInterface(fn=...)`, `CommandHandler("x", fn)`), and from the module's imports.
A plain function called by a handler runs per request too, so contexts flow one way
from handlers to the module functions and methods they call.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from memfix.model.names import Tree, dotted
from memfix.model.types import Context

Function = ast.FunctionDef | ast.AsyncFunctionDef
_ROUTE_METHODS = frozenset(
    {"get", "post", "put", "patch", "delete", "route", "websocket", "api_route", "head"}
)
_BOT_DECORATORS = frozenset(
    {"command", "event", "message", "message_handler", "slash_command", "listen", "shortcut"}
)
_DJANGO_DECORATORS = frozenset({"api_view", "csrf_exempt", "login_required", "require_POST"})
_GRADIO_EVENTS = frozenset({"click", "submit", "change", "then", "input", "upload", "select"})
_GRADIO_APPS = frozenset({"ChatInterface", "Interface"})
_BOT_REGISTRARS = frozenset({"CommandHandler", "MessageHandler", "CallbackQueryHandler"})
_WEB = ("fastapi", "flask", "starlette", "quart", "sanic", "litestar", "aiohttp", "langserve")
_CACHES = frozenset({"cache_resource", "lru_cache", "cache", "singleton"})
MODULE = "<module>"


def functions(tree: Tree) -> Iterator[Function]:
    """Every function and method of the module, in source order."""
    for node in ast.walk(tree.module):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


def enclosing_function(tree: Tree, node: ast.AST) -> Function | None:
    """The innermost function containing `node`, None at module or class level."""
    for ancestor in tree.ancestors(node):
        if isinstance(ancestor, ast.FunctionDef | ast.AsyncFunctionDef):
            return ancestor
    return None


def enclosing_class(tree: Tree, node: ast.AST) -> ast.ClassDef | None:
    """The class whose method (or body) contains `node`, else None."""
    for ancestor in tree.ancestors(node):
        if isinstance(ancestor, ast.ClassDef):
            return ancestor
    return None


def in_loop(tree: Tree, node: ast.AST) -> bool:
    """Whether `node` runs inside a `for` or `while` of its own function."""
    for ancestor in tree.ancestors(node):
        if isinstance(ancestor, ast.For | ast.AsyncFor | ast.While):
            return True
        if isinstance(ancestor, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            return False
    return False


def is_cached(function: Function) -> bool:
    """Whether a decorator keeps the function's result for the process (`@st.cache_resource`)."""
    for decorator in function.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        name = dotted(target) or ""
        if name.rpartition(".")[2] in _CACHES:
            return True
    return False


def is_streamlit(tree: Tree) -> bool:
    """Whether the module is a Streamlit script (it imports streamlit)."""
    return tree.uses_package("streamlit")


class Contexts:
    """The context of every function of one module, and of its top level."""

    def __init__(self, tree: Tree, path: str) -> None:
        self.tree = tree
        self.path = path
        self.by_function: dict[int, tuple[Context, str]] = {}
        registered = _registered(tree)
        for function in functions(tree):
            found = self._own(function, registered)
            if found is not None:
                self.by_function[id(function)] = found
        self._propagate()

    def of(self, node: ast.AST) -> tuple[Context, str, str]:
        """(context, why, enclosing function name) for the code at `node`."""
        function = enclosing_function(self.tree, node)
        name = function.name if function else MODULE
        context, reason = self.of_function(function)
        if context is Context.PLAIN and in_loop(self.tree, node):
            return Context.LOOP, "inside a loop", name
        return context, reason, name

    def of_function(self, function: Function | None) -> tuple[Context, str]:
        """(context, why) of a function, or of the module's top level for None."""
        if function is None:
            if is_streamlit(self.tree):
                return Context.STREAMLIT, "the Streamlit script runs again on every rerun"
            return Context.PLAIN, "module top level"
        found = self.by_function.get(id(function))
        if found is not None:
            return found
        if is_streamlit(self.tree):
            return Context.STREAMLIT, f"{function.name}() of a Streamlit script"
        return Context.PLAIN, f"{function.name}() is not run by a framework here"

    def _own(
        self, function: Function, registered: dict[str, tuple[Context, str]]
    ) -> tuple[Context, str] | None:
        for decorator in function.decorator_list:
            found = self._decorator(decorator)
            if found is not None:
                return found
        if function.name in registered:
            return registered[function.name]
        return self._django_view(function)

    def _decorator(self, decorator: ast.expr) -> tuple[Context, str] | None:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        qualname = self.tree.qualname(target) or ""
        name = dotted(target) or ""
        last = name.rpartition(".")[2]
        shown = f"@{name}"
        if qualname.startswith("chainlit."):
            return Context.CALLBACK, f"{shown} is a Chainlit callback"
        if last in _ROUTE_METHODS and "." in name:
            return Context.ROUTE, f"{shown} is a web route"
        if last in _DJANGO_DECORATORS:
            return Context.ROUTE, f"{shown} marks a Django view"
        if last in _BOT_DECORATORS and "." in name:
            return Context.BOT_HANDLER, f"{shown} is a bot handler"
        return None

    def _django_view(self, function: Function) -> tuple[Context, str] | None:
        args = function.args.posonlyargs + function.args.args
        if not args or args[0].arg != "request":
            return None
        django = self.tree.uses_package("django", "rest_framework")
        if django or self.path.replace("\\", "/").endswith("views.py"):
            return Context.ROUTE, f"{function.name}(request) is a Django view"
        return None

    def _propagate(self) -> None:
        """Give plain functions the context of the handlers that call them."""
        by_name: dict[str, list[Function]] = {}
        for function in functions(self.tree):
            by_name.setdefault(function.name, []).append(function)
        for _ in range(3):
            for function in list(functions(self.tree)):
                found = self.by_function.get(id(function))
                if found is None:
                    continue
                for called in _referenced(function):
                    for callee in by_name.get(called, []):
                        if id(callee) not in self.by_function:
                            reason = f"called from {function.name}() ({found[0].value})"
                            self.by_function[id(callee)] = (found[0], reason)


def _referenced(function: Function) -> set[str]:
    """Names and method names the function calls or passes on (`run_in_executor(None, f)`)."""
    names: set[str] = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            names.add(node.id)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            names.add(node.func.attr)
    names.discard(function.name)
    return names


def _registered(tree: Tree) -> dict[str, tuple[Context, str]]:
    """Functions handed to Gradio or a bot framework by name, with their context."""
    found: dict[str, tuple[Context, str]] = {}
    for node in ast.walk(tree.module):
        if not isinstance(node, ast.Call):
            continue
        name = (dotted(node.func) or "").rpartition(".")[2]
        handler: ast.expr | None = None
        if name in _GRADIO_APPS or (name in _GRADIO_EVENTS and tree.uses_package("gradio")):
            handler = _fn_argument(node, 0)
            context, why = Context.CALLBACK, f"passed to Gradio's {name}()"
        elif name in _BOT_REGISTRARS:
            handler = _fn_argument(node, 1)
            context, why = Context.BOT_HANDLER, f"registered with {name}()"
        else:
            continue
        if isinstance(handler, ast.Name):
            found[handler.id] = (context, why)
        elif isinstance(handler, ast.Attribute):
            found[handler.attr] = (context, why)
    return found


def _fn_argument(call: ast.Call, index: int) -> ast.expr | None:
    for item in call.keywords:
        if item.arg in ("fn", "callback"):
            return item.value
    return call.args[index] if len(call.args) > index else None


def web_module(tree: Tree) -> bool:
    """Whether the module imports a web framework whose handlers run per request."""
    return tree.uses_package(*_WEB, "django", "rest_framework")
