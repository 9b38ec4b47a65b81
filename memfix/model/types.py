"""The conversation model as plain frozen data: what holds a conversation, for how long,
under which key, and who calls it.

Every value here is built from one module's text by `memfix.model.build` and read by
rules and plans; nothing in it refers back to a syntax tree. Spans are 1-based lines and
columns of the ORIGINAL text. Where the builder cannot tell, it says `unknown` and why.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Lifetime(str, enum.Enum):
    """How long a piece of conversation state lives, from where it is built and bound."""

    CALL = "call"  # built inside a function that runs once per request or turn
    INSTANCE = "instance"  # an attribute of an object built in `__init__`
    REQUEST_OBJECT = "request-object"  # an attribute of an object created per request
    MODULE = "module"  # bound at module level: one per process, shared by every caller
    SESSION = "session"  # kept per browser or chat session by the framework, or per identity
    PROCESS = "process"  # an in-process store of many conversations, lost on restart
    PERSISTENT = "persistent"  # kept in a database or file outside the process
    UNKNOWN = "unknown"


class Origin(str, enum.Enum):
    """Where the value that selects a history comes from."""

    IDENTITY = "identity"
    UUID_PER_CALL = "uuid-per-call"
    UUID_PER_PROCESS = "uuid-per-process"
    CONSTANT = "constant"
    PARAMETER_DEFAULT = "parameter-default"
    RERUN = "rerun"  # a Streamlit assignment that runs again on every rerun
    MISSING = "missing"  # the call passes no key at all
    UNKNOWN = "unknown"


class Context(str, enum.Enum):
    """What runs the code around a call site."""

    ROUTE = "route"
    CALLBACK = "callback"
    STREAMLIT = "streamlit"
    BOT_HANDLER = "bot-handler"
    PLAIN = "plain"
    LOOP = "loop"


class UseKind(str, enum.Enum):
    """What a caller does with the value a turn returns."""

    RETURNED = "returned"
    SUBSCRIPTED = "subscripted"
    CONTENT = "content"
    ATTRIBUTE = "attribute"
    ITERATED = "iterated"
    STREAMED = "streamed"
    PRINTED = "printed"
    PASSED = "passed"
    IGNORED = "ignored"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Span:
    """A region of the original text: 1-based lines and columns, end exclusive."""

    line: int
    column: int
    end_line: int
    end_column: int


@dataclass(frozen=True, slots=True)
class Identity:
    """A per-user value in reach at a call site, and how it got there.

    `proven` is true when the framework guarantees the value per user or chat (a
    session object, a bot's chat id); false when it is guessed from a name.
    """

    expr: str
    # parameter | body | form | query | header | cookie | path | framework-session | bot-chat
    # | config (a value already sent as configurable.session_id / thread_id)
    source: str
    proven: bool
    via: str = ""  # the read a local was assigned from: `data.get("user_id")`


@dataclass(frozen=True, slots=True)
class Key:
    """The value that selects one conversation's history, and where it comes from."""

    field: str  # session_id | thread_id | store-subscript | a history's keyword
    origin: Origin
    expr: str
    identity: Identity | None
    reason: str
    where: Span | None


@dataclass(frozen=True, slots=True)
class Option:
    """One keyword of a constructor: its source text, or "present" for a secret."""

    name: str
    value: str


@dataclass(frozen=True, slots=True)
class State:
    """A chain, memory, history or checkpointer, resolved through the module's imports."""

    kind: str  # chain | history-runnable | graph | agent | memory | history | checkpointer
    qualname: str
    name: str  # what holds it: `memory`, `self.chain`, `st.session_state.chain`; "" if inline
    where: Span | None  # None for a memory a chain makes for itself
    lifetime: Lifetime
    reason: str
    options: tuple[Option, ...] = ()
    keyed_by: Key | None = None


@dataclass(frozen=True, slots=True)
class Getter:
    """The function, lambda or method that gives a runnable its history for one key."""

    name: str
    kind: str  # function | lambda | method | unknown
    where: Span | None
    parameter: str  # the parameter that receives the key


@dataclass(frozen=True, slots=True)
class Store:
    """Where many conversations' histories are kept, keyed by something."""

    kind: str  # dict | defaultdict | setdefault | class-attribute | session-state | user-session
    name: str
    where: Span | None
    lifetime: Lifetime
    key: Key | None


@dataclass(frozen=True, slots=True)
class Use:
    """One thing a caller does with a turn's result, directly or through a variable."""

    kind: UseKind
    detail: str  # the subscript key, the attribute, the function it is passed to
    through: str  # the variable it went through, "" when used directly
    where: Span


@dataclass(frozen=True, slots=True)
class CallSite:
    """One turn run against a conversation's runnable."""

    callee: str  # invoke | ainvoke | predict | run | __call__ | stream | astream | batch | ...
    target: str
    where: Span
    function: str  # the enclosing function, "<module>" at top level
    context: Context
    context_reason: str
    key: Key | None
    identities: tuple[Identity, ...]
    result_uses: tuple[Use, ...]


@dataclass(frozen=True, slots=True)
class Conversation:
    """A runnable that talks to a model, the state behind it, and every call of it."""

    module: str
    runnable: State
    state: tuple[State, ...]
    store: Store | None
    getter: Getter | None
    calls: tuple[CallSite, ...]
    unknowns: tuple[str, ...]  # what could not be resolved, each with its reason


@dataclass(frozen=True, slots=True)
class ModuleModel:
    """Every conversation of one module, or the reason the module could not be read."""

    path: str
    conversations: tuple[Conversation, ...]
    error: str | None = None
