"""The text of one generated pytest module: two turns, two users and two processes
through each entry point of one app module."""

from __future__ import annotations

import re

from memfix.verify.runtime import MARKER
from memfix.verify.types import Argument, EntryPoint, Framework, ModulePlan, Where

SECOND = "What's my name?"
NO_IDENTITY = "the entry point takes no user identity: every caller shares one conversation"
_PATH_PARAMETER = re.compile(r"<(?:[a-z_]+:)?([A-Za-z_]\w*)>|\{([A-Za-z_]\w*)(?::[a-z]+)?\}")
# Where each way of sending a value goes in a test client's request.
_FASTAPI_GROUPS = {
    Where.BODY: "json",
    Where.FORM: "data",
    Where.QUERY: "params",
    Where.HEADER: "headers",
}
_FLASK_GROUPS = {
    Where.BODY: "json",
    Where.FORM: "data",
    Where.QUERY: "query_string",
    Where.HEADER: "headers",
}


def render_module(plan: ModulePlan, root: str) -> str:
    """The test module for `plan`; `root` is the app's import folder relative to the tests."""
    parts = [_header(plan, root)]
    for entry in plan.entries:
        parts.append(_opener(entry))
        parts.append(_tests(plan, entry))
    return "\n\n".join(parts).rstrip() + "\n"


def opener_name(entry: EntryPoint) -> str:
    """The generated function that opens a chat with `entry`: `open_chat`."""
    return f"open_{entry.function}"


def _header(plan: ModulePlan, root: str) -> str:
    env = "".join(f"    {name!r}: {value!r},\n" for name, value in plan.env)
    models = "".join(f"    {pair!r},\n" for pair in plan.models)
    legacy = "".join(f"    {name!r},\n" for name in plan.legacy)
    imports, local, skips = "", "", ""
    persistence = plan.persistence
    if persistence is not None and persistence.kind == "server":
        imports = "import os\n"
        reason = f"the history is kept in a server ({persistence.detail}): set {persistence.env}"
        skips = (
            "pytestmark = pytest.mark.skipif(\n"
            f"    not os.environ.get({persistence.env!r}), reason={reason!r}\n)\n"
        )
    frameworks = {entry.framework for entry in plan.entries}
    if frameworks & {Framework.FUNCTION, Framework.CHAINLIT}:
        local = "import conftest\n\n"
    if Framework.CHAINLIT in frameworks:
        imports += "import sys\n"
        skips += "STAND_INS = ['chainlit']  # Chainlit's session works only in its server\n"
    if Framework.STREAMLIT in frameworks:
        skips += "SCRIPT = True  # a Streamlit page: AppTest runs the file, nothing imports it\n"
    return (
        f"{MARKER}\n"
        '"""Two turns, two users and two processes through the chat entry points of\n'
        f"{plan.module} ({_escaped(plan.path)}), each driven as its framework runs it, against\n"
        'a fake chat model that records every prompt. Run: python -m pytest on this folder."""\n\n'
        "from __future__ import annotations\n\n"
        f"{imports}"
        "from typing import Any\n\n"
        "import pytest\n\n"
        f"{local}"
        f"MODULE = {plan.module!r}\n"
        f"ROOT = {root!r}  # the folder the app is imported from, relative to this file\n"
        f"MODELS = [  # the chat models the fake stands in for\n{models}]\n"
        f"LEGACY = [  # imports LangChain 1.0 serves from langchain_classic\n{legacy}]\n"
        f"ENV = {{  # {{workdir}} is the test's own temporary folder\n{env}}}\n"
        "USER_A, USER_B = 'user-a', 'user-b'\n"
        f"NAME = {plan.names[0]!r}\n"
        f"FIRST = {'My name is ' + plan.names[0]!r}\n"
        f"SECOND = {SECOND!r}\n"
        "NEVER_CALLED = 'the fake chat model was never called: the entry point reached no model'\n"
        f"{skips}"
    )


def _escaped(text: str) -> str:
    return text.replace("\\", "/").replace('"""', "'''")


def _value(item: Argument, entry: EntryPoint, role: str) -> str:
    """The expression the driver sends for one argument."""
    if role == "message":
        return "text"
    if role == "identity":
        user = "user" if entry.framework is Framework.FUNCTION else "str(user)"
        return "_number(user)" if item.integer else user
    return item.value


def _roles(entry: EntryPoint) -> list[tuple[Argument, str]]:
    roles = [(entry.message, "message")]
    if entry.identity is not None:
        roles.append((entry.identity, "identity"))
    return roles + [(item, "filler") for item in entry.fillers]


def _opener(entry: EntryPoint) -> str:
    if entry.framework is Framework.FUNCTION:
        return _function_opener(entry)
    if entry.framework is Framework.CHAINLIT:
        return _chainlit_opener(entry)
    if entry.framework is Framework.STREAMLIT:
        return _streamlit_opener(entry)
    return _web_opener(entry)


def _chainlit_opener(entry: EntryPoint) -> str:
    sent = "chainlit.Message(content=text)" if entry.message.where is Where.MESSAGE else "text"
    start, started = "", ""
    if entry.setup:
        started = "    started: set[object] = set()\n"
        start = (
            "        if user not in started:\n"
            "            started.add(user)\n"
            f"            conftest.finish(app.{entry.setup}())\n"
        )
    return (
        f"def {opener_name(entry)}(app: Any) -> Any:\n"
        f'    """A chat with {entry.label}, one Chainlit session per user."""\n'
        '    chainlit = sys.modules["chainlit"]\n'
        f"{started}\n"
        "    def say(user: object, text: str) -> None:\n"
        "        chainlit.current = str(user)\n"
        f"{start}"
        f"        conftest.finish(app.{entry.function}({entry.message.name}={sent}))\n\n"
        "    return say\n"
    )


def _streamlit_opener(entry: EntryPoint) -> str:
    widget = entry.message.name
    typed = "set_value(text)" if widget == "chat_input" else "input(text)"
    return (
        f"def {opener_name(entry)}(app: Any) -> Any:\n"
        '    """A chat with the Streamlit page, one AppTest (one browser session) per user."""\n'
        '    testing = pytest.importorskip("streamlit.testing.v1")\n'
        "    pages: dict[object, Any] = {}\n\n"
        "    def say(user: object, text: str) -> None:\n"
        "        if user not in pages:\n"
        "            pages[user] = testing.AppTest.from_file(str(app), default_timeout=60)\n"
        "            pages[user].run()\n"
        "        page = pages[user]\n"
        f"        page.{widget}[0].{typed}.run()\n"
        '        assert not page.exception, f"the Streamlit page raised: {page.exception}"\n\n'
        "    return say\n"
    )


def _function_opener(entry: EntryPoint) -> str:
    arguments: list[str] = []
    for item, role in _roles(entry):
        if item.where is Where.HISTORY:
            arguments.append(f"{item.name}=list(history)")
        elif item.where is Where.REQUEST:
            arguments.append(f"{item.name}=conftest.GradioRequest(user)")
        else:
            arguments.append(f"{item.name}={_value(item, entry, role)}")
    call = f"conftest.finish(app.{entry.function}({', '.join(arguments)}))"
    doc = f'    """A chat with {entry.label}, called as its framework calls it."""\n'
    if not any(item.where is Where.HISTORY for item in entry.fillers):
        return (
            f"def {opener_name(entry)}(app: Any) -> Any:\n{doc}\n"
            "    def say(user: object, text: str) -> None:\n"
            f"        {call}\n\n"
            "    return say\n"
            f"{_user_number(entry)}"
        )
    # Gradio sends the chat so far with every turn: the test keeps one per user, as the
    # browser does.
    return (
        f"def {opener_name(entry)}(app: Any) -> Any:\n{doc}"
        "    histories: dict[object, list[dict[str, str]]] = {}\n\n"
        "    def say(user: object, text: str) -> None:\n"
        "        history = histories.setdefault(user, [])\n"
        f"        reply = {call}\n"
        '        history += [{"role": "user", "content": text}, '
        '{"role": "assistant", "content": str(reply)}]\n\n'
        "    return say\n"
        f"{_user_number(entry)}"
    )


def _web_opener(entry: EntryPoint) -> str:
    groups = _FASTAPI_GROUPS if entry.framework is Framework.FASTAPI else _FLASK_GROUPS
    sent: dict[str, list[str]] = {}
    cookies: list[str] = []
    path = entry.path
    for item, role in _roles(entry):
        value = _value(item, entry, role)
        if item.where is Where.PATH:
            path = path.replace(_placeholder(entry.path, item.name), "\0" + value + "\0")
        elif item.where is Where.COOKIE:
            cookies.append(f"{item.name!r}, {value}")
        else:
            group = groups.get(item.where, groups[Where.QUERY])
            sent.setdefault(group, []).append(f"{item.name!r}: {value}")
    keywords = "".join(f", {group}={{{', '.join(items)}}}" for group, items in sent.items())
    target = _path_expression(path)
    if entry.framework is Framework.FASTAPI:
        return _fastapi_opener(entry, target, keywords, cookies)
    return _flask_opener(entry, target, keywords, cookies)


def _fastapi_opener(entry: EntryPoint, target: str, keywords: str, cookies: list[str]) -> str:
    served = f"app.{entry.app}"
    if entry.app_kind == "router":
        served = f"_app_with(app.{entry.app})"
    cookie_lines = "".join(f"            clients[user].cookies.set({item})\n" for item in cookies)
    return (
        f"def {opener_name(entry)}(app: Any) -> Any:\n"
        f'    """A chat with {entry.label}, each user with their own test client."""\n'
        "    from fastapi.testclient import TestClient\n\n"
        "    clients: dict[object, Any] = {}\n\n"
        "    def say(user: object, text: str) -> None:\n"
        "        if user not in clients:\n"
        f"            clients[user] = TestClient({served})\n"
        f"{cookie_lines}"
        f"        response = clients[user].request({entry.method!r}, {target}{keywords})\n"
        "        assert response.status_code < 400, (\n"
        f'            f"{entry.label} answered {{response.status_code}}: {{response.text[:500]}}"\n'
        "        )\n\n"
        "    return say\n"
        f"{_served_app(entry)}{_user_number(entry)}"
    )


def _flask_opener(entry: EntryPoint, target: str, keywords: str, cookies: list[str]) -> str:
    served = f"app.{entry.app}"
    if entry.app_kind == "blueprint":
        served = f"_app_with(app.{entry.app})"
    cookie_lines = "".join(f"            clients[user].set_cookie({item})\n" for item in cookies)
    return (
        f"def {opener_name(entry)}(app: Any) -> Any:\n"
        f'    """A chat with {entry.label}, each user with their own test client."""\n'
        "    clients: dict[object, Any] = {}\n\n"
        "    def say(user: object, text: str) -> None:\n"
        "        if user not in clients:\n"
        f"            clients[user] = {served}.test_client()\n"
        f"{cookie_lines}"
        f"        response = clients[user].open({target}, method={entry.method!r}{keywords})\n"
        "        assert response.status_code < 400, (\n"
        f'            f"{entry.label} answered {{response.status_code}}: '
        '{response.get_data(as_text=True)[:500]}"\n'
        "        )\n\n"
        "    return say\n"
        f"{_served_app(entry)}{_user_number(entry)}"
    )


def _served_app(entry: EntryPoint) -> str:
    if entry.app_kind == "router":
        return (
            "\n\ndef _app_with(router: Any) -> Any:\n"
            "    from fastapi import FastAPI\n\n"
            "    served = FastAPI()\n"
            "    served.include_router(router)\n"
            "    return served\n"
        )
    if entry.app_kind == "blueprint":
        return (
            "\n\ndef _app_with(blueprint: Any) -> Any:\n"
            "    from flask import Flask\n\n"
            "    served = Flask('memfix_verify')\n"
            "    served.register_blueprint(blueprint)\n"
            "    return served\n"
        )
    return ""


def _user_number(entry: EntryPoint) -> str:
    if entry.identity is None or not entry.identity.integer:
        return ""
    return "\n\ndef _number(user: object) -> int:\n    return 1001 if user == USER_A else 2002\n"


def _placeholder(path: str, name: str) -> str:
    for match in _PATH_PARAMETER.finditer(path):
        if name in (match.group(1), match.group(2)):
            return match.group(0)
    return "{" + name + "}"


def _path_expression(path: str) -> str:
    """Python that builds the request path: literals and sent values, joined."""
    pieces = path.split("\0")
    parts = [
        repr(piece) if index % 2 == 0 else f"str({piece})"
        for index, piece in enumerate(pieces)
        if piece or index % 2
    ]
    return " + ".join(parts) if parts else "'/'"


def _tests(plan: ModulePlan, entry: EntryPoint) -> str:
    tests = [_two_turns(entry), _two_users(entry)]
    if plan.persistence is not None:
        tests.append(_two_processes(plan, entry))
    return "\n\n".join(tests)


def _two_turns(entry: EntryPoint) -> str:
    message = (
        f"the second turn did not see the first: memory is not kept between calls of {entry.label}"
    )
    name = f"test_{entry.function}_second_turn_sees_the_first"
    return (
        f"def {name}(app: Any, prompts: list[str]) -> None:\n"
        f"    say = {opener_name(entry)}(app)\n"
        "    say(USER_A, FIRST)\n"
        "    say(USER_A, SECOND)\n"
        "    assert prompts, NEVER_CALLED\n"
        f"    assert FIRST in prompts[-1], {message!r}\n"
    )


def _two_users(entry: EntryPoint) -> str:
    leaked = f"user b saw user a's turn: one conversation is shared by every user of {entry.label}"
    head = (
        f"def test_{entry.function}_keeps_each_user_apart(app: Any, prompts: list[str]) -> None:\n"
    )
    if entry.identity is None and not entry.by_client:
        # With no identity, a second caller is the first one again: the test can only
        # pass if the conversation is kept AND not shared, which no such entry point does.
        return (
            f"@pytest.mark.xfail(strict=True, reason={NO_IDENTITY!r})\n"
            f"{head}"
            f"    say = {opener_name(entry)}(app)\n"
            "    say(USER_A, FIRST)\n"
            "    say(USER_B, SECOND)\n"
            "    assert prompts, NEVER_CALLED\n"
            "    prompt_of_b = prompts[-1]\n"
            "    say(USER_A, SECOND)\n"
            f"    assert NAME not in prompt_of_b, {leaked!r}\n"
            "    assert FIRST in prompts[-1], 'the second turn did not see the first'\n"
        )
    return (
        f"{head}"
        f"    say = {opener_name(entry)}(app)\n"
        "    say(USER_A, FIRST)\n"
        "    say(USER_B, SECOND)\n"
        "    assert prompts, NEVER_CALLED\n"
        f"    assert NAME not in prompts[-1], {leaked!r}\n"
    )


def _two_processes(plan: ModulePlan, entry: EntryPoint) -> str:
    assert plan.persistence is not None
    lost = (
        f"a second process did not see the first's turn: {entry.label} keeps its history "
        f"in {plan.persistence.detail}, which ends with the process"
        if plan.persistence.kind == "process"
        else f"a second process did not see the first's turn: the history of {entry.label} "
        "was not kept"
    )
    opener = opener_name(entry)
    return (
        f"def test_{entry.function}_second_process_sees_the_first(new_process: Any) -> None:\n"
        f"    new_process({opener!r}, USER_A, FIRST)\n"
        f"    seen = new_process({opener!r}, USER_A, SECOND)\n"
        "    assert seen, NEVER_CALLED\n"
        f"    assert FIRST in seen[-1], {lost!r}\n"
    )
