"""Entry points of the UI frameworks whose callbacks or pages are driven whole: a
Chainlit `@cl.on_message` callback, and a Streamlit script."""

from __future__ import annotations

import ast

from memfix.model.names import Tree, dotted
from memfix.model.scopes import Function, functions
from memfix.verify.types import Argument, EntryPoint, Framework, Undriven, Where

PAGE = "page"  # the name a Streamlit script's entry point goes by


def chainlit_entry(tree: Tree) -> EntryPoint | Undriven | None:
    """The module's `@cl.on_message` callback, driven with a stand-in `chainlit`; None
    when the module has none."""
    on_message = _decorated(tree, "on_message")
    if on_message is None:
        return None
    params = [*on_message.args.posonlyargs, *on_message.args.args]
    if not params:
        return Undriven(on_message.name, "a Chainlit callback that takes no message")
    first = params[0]
    text = first.annotation is not None and (dotted(first.annotation) or "") == "str"
    message = Argument(first.arg, Where.KEYWORD if text else Where.MESSAGE)
    start = _decorated(tree, "on_chat_start")
    return EntryPoint(
        function=on_message.name,
        framework=Framework.CHAINLIT,
        label=f"the Chainlit callback {on_message.name}()",
        message=message,
        identity=None,
        by_client=True,  # `cl.user_session` is one per chat session
        setup=start.name if start is not None else "",
    )


def streamlit_entry(tree: Tree) -> EntryPoint | Undriven:
    """The Streamlit script as one entry point, typed into through its chat or text input."""
    called = {
        (dotted(node.func) or "").rpartition(".")[2]
        for node in ast.walk(tree.module)
        if isinstance(node, ast.Call)
    }
    widget = next((name for name in ("chat_input", "text_input") if name in called), None)
    if widget is None:
        return Undriven(PAGE, "a Streamlit page with no chat_input or text_input to type into")
    return EntryPoint(
        function=PAGE,
        framework=Framework.STREAMLIT,
        label="the Streamlit page",
        message=Argument(widget, Where.WIDGET),
        identity=None,
        by_client=True,  # each AppTest is its own browser session
    )


def _decorated(tree: Tree, name: str) -> Function | None:
    for function in functions(tree):
        for decorator in function.decorator_list:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            qualname = tree.qualname(target) or ""
            if qualname.startswith("chainlit.") and qualname.endswith("." + name):
                return function
    return None
