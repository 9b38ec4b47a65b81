"""What `memfix verify` knows about one module's chat entry points, as plain frozen data.

Read from the module's text and its conversation model; rendered into pytest files by
`memfix.verify.render`. Nothing here refers to a syntax tree.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Framework(str, enum.Enum):
    """What runs an entry point, and so how a generated test drives it."""

    FASTAPI = "fastapi"  # fastapi.testclient.TestClient
    FLASK = "flask"  # app.test_client()
    FUNCTION = "function"  # called directly: a plain function or a Gradio callback
    CHAINLIT = "chainlit"  # the callback called with a stand-in `chainlit` module
    STREAMLIT = "streamlit"  # streamlit.testing.v1.AppTest, one per browser session


class Where(str, enum.Enum):
    """How a value reaches the entry point."""

    POSITIONAL = "positional"
    KEYWORD = "keyword"
    QUERY = "query"
    BODY = "body"  # a field of the JSON body
    FORM = "form"
    HEADER = "header"
    COOKIE = "cookie"
    PATH = "path"
    HISTORY = "history"  # a Gradio chat history, kept per user by the test as Gradio does
    REQUEST = "request"  # a Gradio request whose `session_hash` is the user
    MESSAGE = "message"  # a Chainlit message object whose `content` is the text
    WIDGET = "widget"  # a Streamlit input widget: `chat_input` or `text_input`


@dataclass(frozen=True, slots=True)
class Argument:
    """One value the test sends: its name as the framework reads it, and how it is sent.

    `value` is the Python literal sent for a filler; the message and the identity have
    none (the test sends its own text and user).
    """

    name: str
    where: Where
    value: str = ""
    integer: bool = False  # an identity typed `int`: users are numbers


@dataclass(frozen=True, slots=True)
class EntryPoint:
    """A function a framework runs once per turn, and how to call it as that framework does."""

    function: str
    framework: Framework
    label: str  # what messages call it: `POST /chat`, `ask()`
    message: Argument
    identity: Argument | None
    fillers: tuple[Argument, ...] = ()
    method: str = ""
    path: str = ""
    app: str = ""  # the module attribute holding the app, router or blueprint
    app_kind: str = ""  # app | router | blueprint
    by_client: bool = False  # users told apart by their own client (cookies, framework session)
    setup: str = ""  # a callback run once when a user's session starts (`@cl.on_chat_start`)


@dataclass(frozen=True, slots=True)
class Undriven:
    """An entry point the generated tests cannot drive, and why."""

    function: str
    reason: str


@dataclass(frozen=True, slots=True)
class Persistence:
    """Where the history outlives a turn: `file` (a local database), `server`, or `process`
    (a store in the process memory, lost when it ends). `env` names the variable holding
    its address (a server's tests are skipped until it is set)."""

    kind: str
    detail: str
    env: str


@dataclass(frozen=True, slots=True)
class ModulePlan:
    """Everything one generated test module needs about one app module."""

    module: str  # the dotted name the app is imported by
    path: str
    entries: tuple[EntryPoint, ...]
    undriven: tuple[Undriven, ...]
    models: tuple[tuple[str, str], ...]  # (module, attribute) of each chat model to swap
    legacy: tuple[str, ...]  # legacy `langchain.*` modules the app imports
    env: tuple[tuple[str, str], ...]  # values of the environment variables the app reads
    persistence: Persistence | None
    names: tuple[str, str]  # the name user a gives, and the one user b would
