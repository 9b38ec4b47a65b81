"""Web apps, callbacks and Streamlit scripts, driven for real by two users with a fake model.

Each fixture program of per-call-state and shared-global-state is run as its framework
would run it: FastAPI's TestClient, Flask's test client, direct calls of Gradio and
Chainlit callbacks (with small stand-ins for those packages), and Streamlit reruns with
a `session_state` per browser session. User A says a name, user B says another, then
both ask for their name: after the fix A's second turn sees A's first and never B's,
and the other way round. Before the fix the per-call programs forget and the shared
ones leak; so does the tempting wrong fix, memory hoisted to module scope in a route.
"""

from __future__ import annotations

import asyncio
import inspect
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import memfix.codemods.per_call_state.transform
from memfix.codemods.per_call_state.transform import PerCallState
from memfix.config import Settings
from memfix.pipeline.engine import fix_source
from memfix.rules.registry import all_codemods
from memfix.testing import run
from tests.support.conversations import Driver, Say, conversation, remembers_apart
from tests.support.fakes import run_program
from tests.support.fixtures import parse_fixture

FIXTURES = Path(__file__).parents[1] / "fixtures"


# Stand-ins for the UI frameworks that are not installed: only what the programs call.
class GradioRequest:
    def __init__(self, session_hash: str) -> None:
        self.session_hash = session_hash


def fake_gradio() -> types.ModuleType:
    gradio = types.ModuleType("gradio")

    class ChatInterface:
        def __init__(self, fn: Callable[..., Any], **options: Any) -> None:
            self.fn = fn

        def launch(self) -> None:
            raise AssertionError("a test never launches the app")

    class Component:
        def __init__(self, *args: Any, **options: Any) -> None:
            pass

        def submit(self, *args: Any, **options: Any) -> None:
            pass

        def __enter__(self) -> Component:
            return self

        def __exit__(self, *args: object) -> None:
            pass

    gradio.Request = GradioRequest  # type: ignore[attr-defined]
    gradio.ChatInterface = ChatInterface  # type: ignore[attr-defined]
    gradio.Blocks = gradio.Textbox = gradio.Chatbot = Component  # type: ignore[attr-defined]
    return gradio


class ChainlitStandIn(types.ModuleType):
    """`cl.on_message`, `cl.Message(...).send()` and a `cl.user_session` per chat session."""

    def __init__(self) -> None:
        super().__init__("chainlit")
        self.current = ""
        self.values: dict[tuple[str, str], Any] = {}
        self.sent: list[str] = []
        stand_in = self

        class UserSession:
            def get(self, key: str, default: Any = None) -> Any:
                if key == "id":
                    return stand_in.current
                return stand_in.values.get((stand_in.current, key), default)

            def set(self, key: str, value: Any) -> None:
                stand_in.values[(stand_in.current, key)] = value

        class Message:
            def __init__(self, content: str = "") -> None:
                self.content = content

            async def send(self) -> Message:
                stand_in.sent.append(self.content)
                return self

        self.user_session = UserSession()
        self.Message = Message

    @staticmethod
    def on_message(function: Callable[..., Any]) -> Callable[..., Any]:
        return function

    on_chat_start = on_message


class SessionState(dict[str, Any]):
    def __getattr__(self, key: str) -> Any:
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None

    def __setattr__(self, key: str, value: Any) -> None:
        self[key] = value


class StreamlitStandIn(types.ModuleType):
    """Reruns a script per interaction; `session_state` per browser session, one cache."""

    def __init__(self) -> None:
        super().__init__("streamlit")
        self.sessions: dict[str, SessionState] = {}
        self.cached: dict[str, Any] = {}
        self.session_state = SessionState()
        self.prompt: str | None = None

    def rerun(self, source: str, user: str, prompt: str) -> None:
        self.session_state = self.sessions.setdefault(user, SessionState())
        self.prompt = prompt
        run_program(source)

    def cache_resource(self, function: Callable[[], Any]) -> Callable[[], Any]:
        def cached() -> Any:  # one value for every session, across reruns: like Streamlit
            if function.__qualname__ not in self.cached:
                self.cached[function.__qualname__] = function()
            return self.cached[function.__qualname__]

        return cached

    def chat_input(self, *args: Any) -> str | None:
        return self.prompt

    def chat_message(self, role: str) -> StreamlitStandIn:
        return self

    def title(self, *args: Any) -> None:
        pass

    def write(self, *args: Any) -> None:
        pass


@pytest.fixture
def frameworks(legacy_langchain: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Legacy LangChain, the echo model, and stand-ins for gradio and chainlit if missing."""
    for name, make in (("gradio", fake_gradio), ("chainlit", ChainlitStandIn)):
        try:
            __import__(name)
        except ImportError:
            monkeypatch.setitem(sys.modules, name, make())


def fastapi_json(path: str, key: str, text: str) -> Driver:
    def driver(source: str) -> Say:
        client = TestClient(run_program(source)["app"])

        def say(user: str, message: str) -> None:
            response = client.post(path, json={key: user, text: message})
            assert response.status_code == 200, response.text

        return say

    return driver


def fastapi_query(method: str, path: str, key: str, text: str) -> Driver:
    def driver(source: str) -> Say:
        client = TestClient(run_program(source)["app"])

        def say(user: str, message: str) -> None:
            response = client.request(method, path, params={key: user, text: message})
            assert response.status_code == 200, response.text

        return say

    return driver


def flask_json(key: str) -> Driver:
    def driver(source: str) -> Say:
        client = run_program(source)["app"].test_client()

        def say(user: str, message: str) -> None:
            response = client.post("/chat", json={key: user, "message": message})
            assert response.status_code == 200, response.text

        return say

    return driver


def gradio(callback: str) -> Driver:
    def driver(source: str) -> Say:
        respond = run_program(source)[callback]

        def say(user: str, message: str) -> None:
            # Gradio passes the request only to a callback that asks for one.
            wants_request = "request" in inspect.signature(respond).parameters
            respond(message, [], *([GradioRequest(user)] if wants_request else []))

        return say

    return driver


def chainlit(callback: str) -> Driver:
    def driver(source: str) -> Say:
        cl = sys.modules["chainlit"]
        handle = run_program(source)[callback]

        def say(user: str, message: str) -> None:
            cl.current = user  # type: ignore[attr-defined]
            asyncio.run(handle(cl.Message(content=message)))  # type: ignore[attr-defined]

        return say

    return driver


def streamlit(source: str) -> Say:
    st = StreamlitStandIn()
    sys.modules["streamlit"] = st
    return lambda user, message: st.rerun(source, user, message)


DRIVERS: dict[str, Driver] = {
    "per-call-state/fastapi_request_model": fastapi_json("/chat", "session_id", "message"),
    "per-call-state/history_runnable_route": fastapi_query("GET", "/ask", "session_id", "q"),
    "per-call-state/flask_request_json": flask_json("user_id"),
    "per-call-state/gradio_callback": gradio("respond"),
    "per-call-state/chainlit_on_message": chainlit("on_message"),
    "per-call-state/service_object": fastapi_query("POST", "/chat", "user_id", "message"),
    "per-call-state/streamlit_script": streamlit,
    "per-call-state/streamlit_function": streamlit,
    "per-call-state/unsafe_fastapi_session_param": fastapi_query(
        "POST", "/chat", "session_id", "message"
    ),
    "per-call-state/unsafe_flask_request_field": flask_json("session_id"),
    "per-call-state/unsafe_gradio_request": gradio("respond"),
    "shared-global-state/fastapi_request_model": fastapi_json("/chat", "session_id", "message"),
    "shared-global-state/history_list": fastapi_json("/chat", "user_id", "text"),
    "shared-global-state/history_runnable": fastapi_query("GET", "/ask", "user_id", "q"),
    "shared-global-state/flask_memory": flask_json("user_id"),
    "shared-global-state/gradio_request": gradio("respond"),
    "shared-global-state/chainlit_app": chainlit("main"),
    "shared-global-state/streamlit_cache_resource": streamlit,
    "shared-global-state/unsafe_fastapi_query_param": fastapi_query(
        "POST", "/chat", "session_id", "message"
    ),
    "shared-global-state/unsafe_gradio_blocks": gradio("respond"),
}


def drive(case: str, source: str, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    monkeypatch.delitem(sys.modules, "streamlit", raising=False)  # the stand-in goes there
    return conversation(DRIVERS[case](source))


@pytest.mark.usefixtures("frameworks")
@pytest.mark.parametrize("case", sorted(DRIVERS))
def test_the_fixed_app_remembers_each_user_apart(
    case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, after, _ = parse_fixture(FIXTURES / f"{case}.py")
    assert after is not None
    prompts = drive(case, after, monkeypatch)
    assert remembers_apart(prompts), prompts


@pytest.mark.usefixtures("frameworks")
@pytest.mark.parametrize("case", sorted(DRIVERS))
def test_before_the_fix_it_forgets_or_leaks(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    before, _, _ = parse_fixture(FIXTURES / f"{case}.py")
    of_a, of_b = drive(case, before, monkeypatch)
    if case.startswith("per-call-state/"):
        assert "My name is Sam" not in of_a  # every turn starts empty
    else:
        assert "My name is Sam" in of_b  # B's prompt carries A's turn


@pytest.mark.usefixtures("frameworks")
@pytest.mark.parametrize(
    "case",
    [
        pytest.param("per-call-state/fastapi_request_model", id="FastAPI route"),
        pytest.param("per-call-state/flask_request_json", id="Flask route"),
        pytest.param("per-call-state/gradio_callback", id="Gradio callback"),
    ],
)
def test_memory_hoisted_to_module_scope_leaks_between_users(
    case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The tempting fix: what per-call-state does for a plain script, done in a web app.
    before, _, _ = parse_fixture(FIXTURES / f"{case}.py")
    with monkeypatch.context() as patch:
        patch.setattr(
            memfix.codemods.per_call_state.transform, "imported_frameworks", lambda codemod: set()
        )
        hoisted = run(PerCallState, before).after
    assert "get_session_" not in hoisted and hoisted != before
    of_a, of_b = drive(case, hoisted, monkeypatch)
    assert "My name is Sam" in of_a  # turn two "works"...
    assert "My name is Sam" in of_b  # ...because B now talks inside A's conversation
    assert not remembers_apart((of_a, of_b))


@pytest.mark.usefixtures("frameworks")
@pytest.mark.parametrize("case", sorted(DRIVERS))
def test_every_codemod_together_keeps_users_apart(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # in-process-history then moves the per-session factories to SQLite: keep it here.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CHAT_HISTORY_URL", f"sqlite:///{tmp_path / 'history.db'}")
    before, _, flags = parse_fixture(FIXTURES / f"{case}.py")
    settings = Settings(unsafe_fixes="--unsafe-fixes" in flags)
    result = fix_source(before, path="app.py", codemods=all_codemods(), settings=settings)
    assert result.error is None, result.error
    again = fix_source(result.after, path="app.py", codemods=all_codemods(), settings=settings)
    assert again.after == result.after, again.diff
    prompts = drive(case, result.after, monkeypatch)
    assert remembers_apart(prompts), prompts
