"""Session-key fixes, run: the same user's second turn sees the first, another user's not.

Each fixture program of unstable-session-key is driven the way its framework would
drive it: FastAPI with its TestClient, Flask with its test client, a Streamlit script
rerun once per turn against one browser's session state, a Chainlit callback awaited
with one chat's user session, a LangGraph graph with a real `MemorySaver`, a terminal
chat fed its lines. The model is the fake that echoes its prompt (tests/fakes.py);
`RunnableWithMessageHistory` and the histories are LangChain's own. Before the fix
the program forgets the first turn, or shows it to another user; the fixed program
(the fixture's expected output, which test_fixtures proves is what the codemod
writes) does neither. A guard program is already right, and is run the same way.
"""

from __future__ import annotations

import asyncio
import builtins
import enum
import itertools
import sys
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support.fakes import PROMPTS, last_prompt, run_program
from tests.support.fixtures import parse_fixture

FIXTURES = Path(__file__).parents[1] / "fixtures" / "unstable-session-key"
FIRST = "My name is Sam"
SECOND = "What's my name?"

# One conversation: (user, message) turns, in order.
Turns = list[tuple[str, str]]
Driver = Callable[[str, pytest.MonkeyPatch, Turns], None]


class Before(enum.Enum):
    FORGETS = "forgets"  # a new key every turn: the same user's second turn starts empty
    LEAKS = "leaks"  # one key for everyone: another user sees the first user's turn


class SessionState(dict[str, Any]):
    """`st.session_state`: a dict that also reads and writes keys as attributes."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value


class FakeStreamlit(types.ModuleType):
    """The few Streamlit calls the fixture scripts make; `typed` is the chat input."""

    def __init__(self) -> None:
        super().__init__("streamlit")
        self.session_state = SessionState()
        self.typed: str | None = None
        self.sidebar = self

    def chat_input(self, placeholder: str | None = None) -> str | None:
        return self.typed

    def chat_message(self, role: str) -> FakeStreamlit:
        return self

    def button(self, label: str) -> bool:
        return False

    def title(self, text: str) -> None:
        pass

    def write(self, *values: Any) -> None:
        pass

    def __enter__(self) -> FakeStreamlit:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


class UserSession:
    """`cl.user_session` of one chat, with the `id` Chainlit gives every chat."""

    def __init__(self, chat_id: str) -> None:
        self.values: dict[str, Any] = {"id": chat_id}

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def set(self, key: str, value: Any) -> None:
        self.values[key] = value


class FakeMessage:
    def __init__(self, content: str = "") -> None:
        self.content = content

    async def stream_token(self, token: str) -> None:
        self.content += token

    async def send(self) -> FakeMessage:
        return self


class FakeChainlit(types.ModuleType):
    """`chainlit`: decorators that register callbacks, one user session at a time."""

    Message = FakeMessage

    def __init__(self) -> None:
        super().__init__("chainlit")
        self.user_session = UserSession("none")

    def on_message(self, function: Any) -> Any:
        return function

    def on_chat_start(self, function: Any) -> Any:
        return function


def _fastapi_json(fields: Callable[[str, str], dict[str, str]]) -> Driver:
    def drive(source: str, monkeypatch: pytest.MonkeyPatch, turns: Turns) -> None:
        client = TestClient(run_program(source)["app"])
        for user, text in turns:
            response = client.post("/chat", json=fields(user, text))
            assert response.status_code == 200, response.text

    return drive


def _fastapi_query(source: str, monkeypatch: pytest.MonkeyPatch, turns: Turns) -> None:
    client = TestClient(run_program(source)["app"])
    for user, text in turns:
        response = client.get("/ask", params={"q": text, "session_id": user})
        assert response.status_code == 200, response.text


def _flask(send: str, fields: Callable[[str, str], dict[str, str]]) -> Driver:
    def drive(source: str, monkeypatch: pytest.MonkeyPatch, turns: Turns) -> None:
        client = run_program(source)["app"].test_client()
        for user, text in turns:
            response = client.post("/chat", **{send: fields(user, text)})
            assert response.status_code == 200, response.get_data(as_text=True)

    return drive


def _streamlit(source: str, monkeypatch: pytest.MonkeyPatch, turns: Turns) -> None:
    """One rerun of the whole script per turn, with the session state of the user's tab."""
    streamlit = FakeStreamlit()
    monkeypatch.setitem(sys.modules, "streamlit", streamlit)
    tabs: dict[str, SessionState] = {}
    for user, text in turns:
        streamlit.session_state = tabs.setdefault(user, SessionState())
        streamlit.typed = None
        run_program(source)  # the page opens, or reruns on a click
        streamlit.typed = text
        run_program(source)  # the rerun that carries the message


def _chainlit(source: str, monkeypatch: pytest.MonkeyPatch, turns: Turns) -> None:
    chainlit = FakeChainlit()
    monkeypatch.setitem(sys.modules, "chainlit", chainlit)
    program = run_program(source)
    chats: dict[str, UserSession] = {}
    for user, text in turns:
        if user not in chats:
            chats[user] = chainlit.user_session = UserSession(f"chat-{user}")
            if "start" in program:
                asyncio.run(program["start"]())
        chainlit.user_session = chats[user]
        asyncio.run(program["on_message"](FakeMessage(text)))


def _calls(function: str) -> Driver:
    def drive(source: str, monkeypatch: pytest.MonkeyPatch, turns: Turns) -> None:
        program = run_program(source)
        for user, text in turns:
            program[function](user, text)

    return drive


def _terminal(source: str, monkeypatch: pytest.MonkeyPatch, turns: Turns) -> None:
    """One run of the chat loop per user, fed that user's consecutive lines."""
    program = run_program(source)
    monkeypatch.setattr(builtins, "print", lambda *args, **kwargs: None)
    for _, run in itertools.groupby(turns, key=lambda turn: turn[0]):
        lines: Iterator[str] = iter([text for _, text in run])

        def typed(prompt: str = "", lines: Iterator[str] = lines) -> str:
            try:
                return next(lines)
            except StopIteration:
                raise EOFError from None

        monkeypatch.setattr(builtins, "input", typed)
        program["main"]()


def _stdin(source: str, monkeypatch: pytest.MonkeyPatch, turns: Turns) -> None:
    """`for line in sys.stdin`: one run of the loop per user."""
    program = run_program(source)
    monkeypatch.setattr(builtins, "print", lambda *args, **kwargs: None)
    for _, run in itertools.groupby(turns, key=lambda turn: turn[0]):
        monkeypatch.setattr(sys, "stdin", iter([text for _, text in run]))
        program["chat_loop"]()


def _user_and_message(user: str, text: str) -> dict[str, str]:
    return {"user_id": user, "message": text}


def _with_settings(drive: Driver) -> Driver:
    """`drive`, with the app's settings module (`from settings import SESSION_ID`) importable."""

    def with_settings(source: str, monkeypatch: pytest.MonkeyPatch, turns: Turns) -> None:
        settings = types.ModuleType("settings")
        settings.SESSION_ID = "default-session"  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, "settings", settings)
        drive(source, monkeypatch, turns)

    return with_settings


# fixture -> how it is driven, and what goes wrong before the fix (None: a guard)
CASES: dict[str, tuple[Driver, Before | None]] = {
    "fastapi_request_model": (
        _fastapi_json(lambda user, text: {"user_id": user, "message": text}),
        Before.FORGETS,
    ),
    "fastapi_query_param": (_fastapi_query, Before.LEAKS),
    "flask_app": (
        _flask("json", lambda user, text: {"user_id": user, "message": text}),
        Before.FORGETS,
    ),
    "flask_new_field": (
        _flask("data", lambda user, text: {"session_id": user, "message": text}),
        Before.LEAKS,
    ),
    "streamlit_chat": (_streamlit, Before.FORGETS),
    "streamlit_script_key": (_streamlit, Before.FORGETS),
    "chainlit_callback": (_chainlit, Before.FORGETS),
    "langgraph_graph": (_calls("handle"), Before.LEAKS),
    "cli_chat": (_terminal, Before.FORGETS),
    "history_class_constant": (_calls("reply"), Before.LEAKS),
    "module_level_uuid": (_calls("handle"), Before.LEAKS),
    "route_module_constant": (_fastapi_json(_user_and_message), Before.LEAKS),
    "fastapi_inline_constant": (_fastapi_json(_user_and_message), Before.LEAKS),
    "imported_settings_constant": (
        _with_settings(_fastapi_json(_user_and_message)),
        Before.LEAKS,
    ),
    "bot_class_config": (_calls("handle"), Before.LEAKS),
    "guard_cli_constant_thread": (_terminal, None),
    "guard_streamlit_guarded": (_streamlit, None),
    "guard_chainlit_session": (_chainlit, None),
    "guard_cli_before_loop": (_stdin, None),
}
FIXED = sorted(CASES)
BROKEN = sorted(case for case, (_, before) in CASES.items() if before is not None)


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, legacy_langchain: Any) -> None:
    """SQLite histories (`sqlite:///chat.db`) live in this test's folder; no prompt is left."""
    monkeypatch.chdir(tmp_path)
    PROMPTS.clear()


def program(case: str, *, fixed: bool) -> str:
    before, after, _ = parse_fixture(FIXTURES / f"{case}.py")
    if not fixed or after is None:
        return before
    return after


def second_prompt(case: str, turns: Turns, monkeypatch: pytest.MonkeyPatch, *, fixed: bool) -> str:
    """Run the turns; return the text of the prompt the last one sent to the model."""
    drive, _ = CASES[case]
    drive(program(case, fixed=fixed), monkeypatch, turns)
    assert len(PROMPTS) == len(turns)
    prompt = last_prompt()
    assert SECOND in prompt
    return prompt


def test_every_fixture_is_driven() -> None:
    fixtures = {path.stem for path in FIXTURES.glob("*.py")}
    assert set(CASES) <= fixtures
    # The fixtures not run here: report-only cases, and a guard whose every key is the
    # client's own (tested below).
    assert fixtures - set(CASES) == {"report_only_cases", "guard_fastapi_ids"}


@pytest.mark.parametrize("case", FIXED)
def test_same_user_remembers_after_the_fix(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    turns = [("sam", FIRST), ("sam", SECOND)]
    assert FIRST in second_prompt(case, turns, monkeypatch, fixed=True)


@pytest.mark.parametrize("case", FIXED)
def test_another_user_does_not_see_the_first(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    turns = [("sam", FIRST), ("kim", SECOND)]
    assert FIRST not in second_prompt(case, turns, monkeypatch, fixed=True)


@pytest.mark.parametrize("case", BROKEN)
def test_before_the_fix_it_forgets_or_leaks(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if CASES[case][1] is Before.FORGETS:
        turns = [("sam", FIRST), ("sam", SECOND)]
        assert FIRST not in second_prompt(case, turns, monkeypatch, fixed=False)
    else:
        turns = [("sam", FIRST), ("kim", SECOND)]
        assert FIRST in second_prompt(case, turns, monkeypatch, fixed=False)


def test_guard_the_client_keeps_the_id_it_was_given() -> None:
    app = run_program(program("guard_fastapi_ids", fixed=True))["app"]
    sam, kim = TestClient(app), TestClient(app)
    first = sam.post("/chat", json={"message": FIRST}).json()
    sam.post("/chat", json={"message": SECOND, "session_id": first["session_id"]})
    assert FIRST in last_prompt()
    kim.post("/chat", json={"message": SECOND})
    assert FIRST not in last_prompt()
    assert first["message_id"] != first["session_id"]
