"""The chat entry points of one module: the functions a framework runs once per turn
that reach a conversation of the module's model, and how each is driven."""

from __future__ import annotations

import ast
import re

from memfix.model.names import Tree
from memfix.model.scopes import Function, functions
from memfix.model.types import CallSite, Context, ModuleModel
from memfix.verify.arguments import call_arguments, identity_of, message_of, web_arguments
from memfix.verify.frameworks import PAGE, chainlit_entry, streamlit_entry
from memfix.verify.routes import Route, route_of
from memfix.verify.types import Argument, EntryPoint, Framework, Undriven

_CALLED_FROM = re.compile(r"called from (\w+)\(\)")
_UNDRIVEN = {
    Context.BOT_HANDLER: "a bot handler: no test client for this framework",
    Context.LOOP: "a console loop: it reads its own input, so no test can send it a turn",
}


def entry_points(tree: Tree, model: ModuleModel) -> tuple[list[EntryPoint], list[Undriven]]:
    """Every entry point of the module that reaches one of its conversations, driven or not."""
    driven: dict[str, EntryPoint] = {}
    undriven: dict[str, Undriven] = {}
    by_name = {function.name: function for function in functions(tree)}
    chainlit = chainlit_entry(tree) if tree.uses_package("chainlit") else None
    for conversation in model.conversations:
        for call in conversation.calls:
            name = _runner(call, by_name)
            if call.context is Context.STREAMLIT:
                name = PAGE
            elif chainlit is not None:
                name = chainlit.function  # every turn of a Chainlit app comes through it
            if name in driven or name in undriven:
                continue
            found = _found(tree, call, by_name.get(name), chainlit)
            _keep(found, driven, undriven)
    if chainlit is not None and model.conversations:
        # A chain kept in `cl.user_session` is called through a read the model cannot
        # follow: every turn still comes through the message callback.
        _keep(chainlit, driven, undriven)
    return list(driven.values()), list(undriven.values())


def _keep(
    found: EntryPoint | Undriven, driven: dict[str, EntryPoint], undriven: dict[str, Undriven]
) -> None:
    if found.function in driven or found.function in undriven:
        return
    if isinstance(found, EntryPoint):
        driven[found.function] = found
    else:
        undriven[found.function] = found


def _found(
    tree: Tree, call: CallSite, function: Function | None, chainlit: EntryPoint | Undriven | None
) -> EntryPoint | Undriven:
    if call.context is Context.STREAMLIT:
        return streamlit_entry(tree)
    if chainlit is not None:
        return chainlit
    key = call.key.expr if call.key is not None and function is not None else ""
    if function is not None and call.function != function.name:
        key = ""  # the key is read in a function the handler calls: it has no name there
    return _entry(tree, call, function, key)


def _runner(call: CallSite, by_name: dict[str, Function]) -> str:
    """The function the framework itself calls: the handler the turn's function is called from."""
    name = call.function
    seen = {name}
    reason = call.context_reason
    while (found := _CALLED_FROM.search(reason)) is not None and found.group(1) not in seen:
        name = found.group(1)
        seen.add(name)
        reason = ""  # the handler's own reason is its decorator: the chain ends there
        if name not in by_name:
            break
    return name


def _entry(
    tree: Tree, call: CallSite, function: Function | None, key: str
) -> EntryPoint | Undriven:
    name = function.name if function is not None else call.function
    if call.context in _UNDRIVEN:
        return Undriven(name, _UNDRIVEN[call.context])
    if function is None:
        return Undriven(name, "the turn runs when the module is imported, not in a function")
    if _is_method(tree, function):
        return Undriven(name, "a method: the tests cannot know how to build its object")
    route = route_of(tree, function)
    if isinstance(route, str):
        return Undriven(name, route)
    if route is not None:
        return _web_entry(tree, function, route, key)
    if call.context is Context.ROUTE:
        return Undriven(name, "a web route of a framework the generated tests have no client for")
    return _function_entry(tree, function, key)


def _web_entry(tree: Tree, function: Function, route: Route, key: str) -> EntryPoint | Undriven:
    arguments = web_arguments(tree, function, route.path_parameters())
    identity, by_client = identity_of(tree, function, arguments, key)
    message = message_of(arguments, identity)
    if message is None:
        return Undriven(function.name, f"{route.label} takes no text to send as the user's turn")
    return EntryPoint(
        function=function.name,
        framework=route.framework,
        label=route.label,
        message=message,
        identity=identity,
        fillers=_fillers(arguments, message, identity),
        method=route.method,
        path=route.path,
        app=route.app,
        app_kind=route.app_kind,
        by_client=by_client,
    )


def _function_entry(tree: Tree, function: Function, key: str) -> EntryPoint | Undriven:
    arguments = call_arguments(function)
    identity, by_client = identity_of(tree, function, arguments, key)
    message = message_of(arguments, identity)
    label = f"{function.name}()"
    if message is None:
        return Undriven(function.name, f"{label} takes no text to send as the user's turn")
    return EntryPoint(
        function=function.name,
        framework=Framework.FUNCTION,
        label=label,
        message=message,
        identity=identity,
        fillers=_fillers(arguments, message, identity),
        by_client=by_client,
    )


def _fillers(
    arguments: list[Argument], message: Argument, identity: Argument | None
) -> tuple[Argument, ...]:
    """What else the entry point needs, with a harmless value; Gradio's own values too."""
    return tuple(item for item in arguments if item not in (message, identity))


def _is_method(tree: Tree, function: Function) -> bool:
    return any(isinstance(node, ast.ClassDef) for node in tree.ancestors(function))
