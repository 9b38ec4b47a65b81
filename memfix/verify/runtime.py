"""The conftest.py `memfix verify` writes beside the tests it generates.

It holds the fake chat model (a langchain-core chat model that echoes what it is sent
and records every prompt), the loader that imports the app afresh with the fake swapped
in for the chat model class the app imports, and the runner of one turn in a new
process. It needs only pytest and langchain-core.
"""

from __future__ import annotations

MARKER = "# Written by memfix verify; memfix rewrites this file only while this line stays first."

CONFTEST = (
    MARKER
    + '''
"""The fake chat model, the app loader and the new-process runner of the memfix tests."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
import os
import subprocess
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult

# The text of every prompt the fake model received since the app was loaded, in order.
PROMPTS: list[str] = []
HERE = Path(__file__).resolve().parent


class RecordingChatModel(BaseChatModel):
    """Replies `echo: <the last line it was sent>` and records the whole prompt."""

    @property
    def _llm_type(self) -> str:
        return "memfix-echo"

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any
    ) -> ChatResult:
        text = "\\n".join(str(message.content) for message in messages)
        PROMPTS.append(text)
        lines = text.strip().splitlines()
        reply = f"echo: {lines[-1] if lines else ''}"
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=reply))])


def fake_chat_model(*args: Any, **kwargs: Any) -> RecordingChatModel:
    """Stands in for the app's chat model class or factory, whatever it is given."""
    return RecordingChatModel()


class GradioRequest:
    """What a Gradio callback reads of its request: one `session_hash` per browser tab."""

    def __init__(self, user: object) -> None:
        self.session_hash = str(user)
        self.headers: dict[str, str] = {}
        self.query_params: dict[str, str] = {}


class ChainlitStandIn(types.ModuleType):
    """What a Chainlit callback uses outside a Chainlit server: decorators that register
    nothing, `cl.Message(...).send()`, and a `cl.user_session` per chat session."""

    def __init__(self) -> None:
        super().__init__("chainlit")
        self.current = ""
        self.values: dict[tuple[str, str], Any] = {}
        stand_in = self

        class UserSession:
            def get(self, key: str, default: Any = None) -> Any:
                if key == "id":
                    return stand_in.current
                return stand_in.values.get((stand_in.current, key), default)

            def set(self, key: str, value: Any) -> None:
                stand_in.values[(stand_in.current, key)] = value

        class Message:
            def __init__(self, content: str = "", *args: Any, **options: Any) -> None:
                self.content = content
                self.elements: list[Any] = []

            async def send(self) -> Any:
                return self

            async def update(self) -> Any:
                return self

            async def stream_token(self, token: str, *args: Any, **options: Any) -> None:
                self.content += token

        self.user_session = UserSession()
        self.Message = Message

    def __getattr__(self, name: str) -> Any:
        # `@cl.on_message`, `@cl.on_chat_start`, `@cl.set_starters(...)`: keep the function.
        if name.startswith("__"):
            raise AttributeError(name)

        def register(*args: Any, **options: Any) -> Any:
            if len(args) == 1 and callable(args[0]) and not options:
                return args[0]
            return lambda function: function

        return register


STAND_INS: dict[str, Callable[[], types.ModuleType]] = {"chainlit": ChainlitStandIn}


def finish(result: Any) -> Any:
    """The value of a turn: awaited if a coroutine, drained if it streams."""
    if inspect.isawaitable(result):
        result = asyncio.run(_awaited(result))
    if inspect.isasyncgen(result):
        result = asyncio.run(_drained(result))
    if inspect.isgenerator(result):
        result = list(result)
    return result


async def _awaited(result: Any) -> Any:
    return await result


async def _drained(stream: Any) -> list[Any]:
    return [item async for item in stream]


def _importable(name: str) -> types.ModuleType | None:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def _serve_legacy(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    # LangChain 1.0 moved `langchain.memory`, `langchain.chains` & co. to langchain_classic.
    if _importable(name) is not None:
        return
    moved = _importable("langchain_classic" + name.removeprefix("langchain"))
    if moved is None:
        return
    if _importable("langchain") is None:
        package = types.ModuleType("langchain")
        package.__path__ = []
        monkeypatch.setitem(sys.modules, "langchain", package)
    monkeypatch.setitem(sys.modules, name, moved)


def _swap(monkeypatch: pytest.MonkeyPatch, module_name: str, attribute: str) -> None:
    module = _importable(module_name)
    if module is None:
        module = types.ModuleType(module_name)
        monkeypatch.setitem(sys.modules, module_name, module)
    monkeypatch.setattr(module, attribute, fake_chat_model, raising=False)


def _forget_app(root: Path) -> None:
    """Drop every module loaded from the app's folder, so the next import starts afresh."""
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if not isinstance(file, str):
            continue
        where = Path(file).resolve()
        if where.is_relative_to(root) and not where.is_relative_to(HERE):
            del sys.modules[name]


def app_file(test: Any) -> Path:
    """The file of the app module of test module `test`."""
    return (HERE / test.ROOT).resolve().joinpath(*test.MODULE.split(".")).with_suffix(".py")


def load_app(monkeypatch: pytest.MonkeyPatch, test: Any, workdir: Path) -> Any:
    """Import the app module of test module `test` anew: the fake model swapped in, the
    environment set, and `workdir` the current folder (files the app writes land there).
    A script (a Streamlit page) is not imported: its file is returned for AppTest to run."""
    root = (HERE / test.ROOT).resolve()
    for name, value in test.ENV.items():
        monkeypatch.setenv(name, value.format(workdir=workdir))
    monkeypatch.chdir(workdir)
    monkeypatch.syspath_prepend(str(root))
    for name in test.LEGACY:
        _serve_legacy(monkeypatch, name)
    for module_name, attribute in test.MODELS:
        _swap(monkeypatch, module_name, attribute)
    for name in getattr(test, "STAND_INS", ()):
        monkeypatch.setitem(sys.modules, name, STAND_INS[name]())
    _forget_app(root)
    if getattr(test, "SCRIPT", False):
        PROMPTS.clear()
        return app_file(test)
    try:
        loaded = importlib.import_module(test.MODULE)
    finally:
        PROMPTS.clear()  # what the module did when imported is not a turn of the test
    return loaded


@pytest.fixture
def app(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    """The app module of this test module, freshly imported with the fake model."""
    loaded = load_app(monkeypatch, request.module, tmp_path)
    yield loaded
    _forget_app((HERE / request.module.ROOT).resolve())


@pytest.fixture
def prompts() -> list[str]:
    """Every prompt the fake model received in this test, in order."""
    return PROMPTS


Turn = Callable[[str, object, str], list[str]]


@pytest.fixture
def new_process(request: pytest.FixtureRequest, tmp_path: Path) -> Turn:
    """Runs one turn in a fresh Python process; returns the prompts that process sent."""
    test = request.module.__name__

    def turn(opener: str, user: object, text: str) -> list[str]:
        script = (
            "import json, pathlib, sys\\n"
            f"sys.path.insert(0, {str(HERE)!r})\\n"
            "import pytest, conftest\\n"
            f"test = __import__({test!r})\\n"
            "app = conftest.load_app(pytest.MonkeyPatch(), test, pathlib.Path.cwd())\\n"
            f"getattr(test, {opener!r})(app)({user!r}, {text!r})\\n"
            "print('\\\\nmemfix-prompts:' + json.dumps(conftest.PROMPTS))\\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", script],
            cwd=tmp_path,
            env=os.environ.copy(),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, f"the turn failed in a new process:\\n{done.stderr[-3000:]}"
        recorded: list[str] = json.loads(done.stdout.rpartition("memfix-prompts:")[2])
        return recorded

    return turn
'''
)
