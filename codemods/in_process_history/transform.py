"""The codemod of `in-process-history`; its documentation is the package's docstring."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import libcst as cst
import libcst.matchers as m

from memfix.codemods._shared.edits import is_import, simple_assignment, two_blank_lines_before
from memfix.codemods._shared.find import findall
from memfix.codemods._shared.imports import without_unused_names
from memfix.codemods._shared.langchain import class_of_call
from memfix.codemods._shared.names import bindings
from memfix.codemods._shared.savers import opened_saver, saver_of_call
from memfix.codemods.in_process_history import RULE as IN_PROCESS_HISTORY
from memfix.codemods.in_process_history.backends import (
    HISTORY_FACTORY,
    Persistence,
    checkpointer_persistence,
    history_persistence,
    merged,
    url_constant,
)
from memfix.rules.codemod import Codemod, Invalid, Valid
from memfix.vocabulary import (
    IN_PROCESS_HISTORY_CLASSES,
    SAVER_CLASSES,
)

# Memories that keep their turns in a `chat_memory` history, which can be a persistent one.
CHAT_MEMORIES = frozenset(
    {
        "ConversationBufferMemory",
        "ConversationBufferWindowMemory",
        "ConversationSummaryMemory",
        "ConversationSummaryBufferMemory",
        "ConversationTokenBufferMemory",
    }
)

_ASYNC_METHODS = frozenset(
    {"ainvoke", "astream", "abatch", "astream_events", "astream_log", "apredict", "acall", "arun"}
)
# Calls that read or write a history synchronously: a runnable run synchronously, or the
# history's own sync methods. Under an async engine every one of them raises.
_SYNC_METHODS = frozenset(
    {
        "invoke",
        "stream",
        "batch",
        "predict",
        "add_message",
        "add_messages",
        "add_user_message",
        "add_ai_message",
        "get_messages",
    }
)
_LEGACY_UNDER_ASYNC = (
    "a legacy memory run by an async call loads its history synchronously and saves it "
    "asynchronously, and a SQL history serves only one of the two"
)
_MIXED_CALLS = (
    "the module runs chains both synchronously and asynchronously, and a SQL history "
    "serves only one of the two"
)


def _factory(value: str, key: str = "session_id") -> str:
    return (
        "from langchain_core.chat_history import InMemoryChatMessageHistory\n\n"
        "store = {}\n\n\n"
        "def get_session_history(session_id: str):\n"
        "    if session_id not in store:\n"
        f"        store[{key}] = {value}\n"
        "    return store[session_id]\n"
    )


_SQLITE_SETUP = (
    "import os\n"
    "from sqlalchemy import create_engine\n"
    "from langchain_community.chat_message_histories import SQLChatMessageHistory\n\n"
    "# Conversations persist at $CHAT_HISTORY_URL (needs langchain-community, sqlalchemy).\n"
    'CHAT_HISTORY_URL = os.environ.get("CHAT_HISTORY_URL", "sqlite:///chat_history.db")\n'
    "_history_engine = create_engine(CHAT_HISTORY_URL)\n\n\n"
    "def _chat_history(session_id: object) -> SQLChatMessageHistory:\n"
    '    """The persistent chat history of one session."""\n'
    "    return SQLChatMessageHistory(session_id=str(session_id), connection=_history_engine)\n"
    "\n\nstore = {}\n\n\n"
    "def get_session_history(session_id: str):\n"
    "    if session_id not in store:\n"
    "        store[session_id] = _chat_history(session_id)\n"
    "    return store[session_id]\n"
)


@dataclass(frozen=True, slots=True)
class _Edit:
    persistence: Persistence
    key: str | None  # None: the call itself is replaced by a checkpointer
    chat_memory: bool  # add `chat_memory=` to a memory instead of replacing the call


class InProcessHistory(Codemod):
    RULE = IN_PROCESS_HISTORY
    MESSAGE = "{kind} in {holder!r} lives in process memory, so every conversation dies with it"
    SAVER_MESSAGE = "{kind} keeps graph checkpoints in process memory, lost on every restart"
    PLATFORM_MESSAGE = (
        "{kind} is a checkpointer in a graph served by the LangGraph platform ({config}): "
        "the LangGraph platform provides persistence and rejects a graph compiled with its "
        "own checkpointer"
    )

    VALID = [
        # Already persistent: the dict only caches history objects.
        Valid(
            _factory("SQLChatMessageHistory(session_id=session_id, connection=URL)")
            .replace("InMemoryChatMessageHistory", "SQLChatMessageHistory")
            .replace("langchain_core.chat_history", "langchain_community.chat_message_histories")
        ),
        # An in-memory history rebuilt per call and never kept: not a store.
        Valid(
            "from langchain_core.chat_history import InMemoryChatMessageHistory\n\n\n"
            "def fresh(messages):\n"
            "    return InMemoryChatMessageHistory(messages=messages)\n"
        ),
    ]
    INVALID = [
        Invalid(_factory("InMemoryChatMessageHistory()"), expected=_SQLITE_SETUP),
        # Two different keys into one dict: which one is the session is not clear.
        Invalid(_factory("InMemoryChatMessageHistory()", key="user_id"), expected=None),
    ]

    def visit_Module(self, node: cst.Module) -> bool:
        self.edits: dict[cst.Call, _Edit] = {}
        self.used: list[Persistence] = []
        self.replaced: set[str] = set()
        settings = self.context.settings
        asynchronous = _is_async(node)
        self.reason = self._history_conflict(node, asynchronous)
        self.history = (
            None
            if self.reason
            else history_persistence(
                settings.backend, settings.history_url_env, asynchronous=asynchronous
            )
        )
        self.saver = checkpointer_persistence(
            settings.backend, settings.history_url_env, asynchronous=asynchronous
        )
        if _taken(node, settings.history_url_env):
            self.history = self.saver = None  # report only: never shadow the user's names
        module_dicts = _dict_names(node.body, "")
        self.emptied = _emptied(node)
        for statement in node.body:
            if isinstance(statement, cst.FunctionDef):
                self._gather(statement, module_dicts)
            elif isinstance(statement, cst.ClassDef):
                own = _dict_names(_self_assignments(statement), "self.")
                for method in statement.body.body:
                    if isinstance(method, cst.FunctionDef):
                        self._gather(method, module_dicts | own)
        for found in findall(node, m.Call()):
            call = cst.ensure_type(found, cst.Call)
            kind = class_of_call(self, call)
            platform = self.context.facts.platform
            if platform:  # never add a checkpointer; report the one the graph has
                self._report_on_platform(call, platform[0])
            elif kind in SAVER_CLASSES:
                message = self.SAVER_MESSAGE.format(kind=kind)
                self._fix(call, message, self.saver, key=None)
        return bool(self.edits)  # decided here, on the original nodes; leave_Call edits

    def _history_conflict(self, module: cst.Module, asynchronous: bool) -> str:
        """Why no persistent history serves every use in the module; empty when one does.

        A SQL history runs on a sync engine or an async one, never both: it fits only
        when every read and write of it has the same mode.
        """
        if not asynchronous:
            return ""
        legacy = any(
            class_of_call(self, cst.ensure_type(found, cst.Call)) in CHAT_MEMORIES
            for found in findall(module, m.Call())
        )
        if legacy:
            return _LEGACY_UNDER_ASYNC
        return _MIXED_CALLS if _calls_any(module, _SYNC_METHODS) else ""

    def _report_on_platform(self, call: cst.Call, config: str) -> None:
        """Report a checkpointer built in a module the LangGraph platform serves as a graph."""
        kind = saver_of_call(self, call) or opened_saver(self, call)
        if kind is not None:
            self.report(call, self.PLATFORM_MESSAGE.format(kind=kind, config=config), fixed=False)

    def _gather(self, function: cst.FunctionDef, dicts: frozenset[str]) -> None:
        keys, writes = _keys(function, dicts)
        if not writes:
            return  # the function never keeps anything per key: not a store
        holder = sorted(writes)[0]
        # A dict that is also emptied ("new conversation") would no longer forget: report.
        forgets = bool(writes & self.emptied)
        key = keys[0] if len(set(keys)) == 1 and not forgets else None
        for found in findall(function, m.Call()):
            call = cst.ensure_type(found, cst.Call)
            kind = class_of_call(self, call)
            message = self.MESSAGE.format(kind=kind, holder=holder)
            if self.reason:
                message = f"{message}; not fixed: {self.reason}"
            if kind in IN_PROCESS_HISTORY_CLASSES:
                self._fix(call, message, self.history, key=key)
            elif kind in CHAT_MEMORIES and not _has_keyword(call, "chat_memory"):
                self._fix(call, message, self.history, key=key, chat_memory=True)
            elif kind == "ConversationChain" and not _has_keyword(call, "memory"):
                self.report(call, message, fixed=False)  # no history call to replace

    def _fix(
        self,
        call: cst.Call,
        message: str,
        persistence: Persistence | None,
        *,
        key: str | None,
        chat_memory: bool = False,
    ) -> None:
        keyed = "{key}" in (persistence.template if persistence else "")
        fixable = persistence is not None and (key is not None or not keyed)
        if not self.report(call, message, fixed=fixable) or persistence is None or not fixable:
            return
        self.edits[call] = _Edit(persistence, key, chat_memory)
        self.used.append(persistence)
        if not chat_memory:
            self.replaced.add(class_of_call(self, call) or "")

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        edit = self.edits.get(original_node)
        if edit is None:
            return updated_node
        new = cst.parse_expression(edit.persistence.expression(edit.key or ""))
        if not edit.chat_memory:
            return new
        args = list(updated_node.args)
        if args:
            args[-1] = args[-1].with_changes(
                comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
            )
        no_space = cst.SimpleWhitespace("")
        equal = cst.AssignEqual(whitespace_before=no_space, whitespace_after=no_space)
        keyword = cst.Arg(new, keyword=cst.Name("chat_memory"), equal=equal)
        return updated_node.with_changes(args=[*args, keyword])

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        if not self.edits:
            return updated_node
        imports, setup, packages = merged(self.used)
        self.packages = packages  # the run adds them to the project's dependency file
        body: list[cst.BaseStatement] = list(updated_node.body)
        first_use = min(
            i for i, s in enumerate(original_node.body) if any(_contains(s, c) for c in self.edits)
        )
        at = 0
        for index, statement in enumerate(body[:first_use]):
            if is_import(statement):
                at = index + 1
        # Only imports above the new code count: one further down (a later notebook cell,
        # the end of a script) does not bind the name by the time the setup runs.
        present = {updated_node.code_for_node(s).strip() for s in body[:at] if is_import(s)}
        new_imports = [cst.parse_statement(line) for line in imports if line not in present]
        env = self.context.settings.history_url_env
        note = f"# Conversations persist at ${env} (needs {', '.join(packages)})."
        statements: list[cst.BaseStatement] = [cst.parse_statement(c.lstrip("\n")) for c in setup]
        statements[0] = statements[0].with_changes(
            leading_lines=[cst.EmptyLine(), cst.EmptyLine(comment=cst.Comment(note))]
        )
        for index, statement in enumerate(statements):
            if isinstance(statement, cst.FunctionDef):
                statements[index] = two_blank_lines_before(statement)
        following = body[at:]
        if following and isinstance(statements[-1], cst.FunctionDef):
            following[0] = two_blank_lines_before(following[0])
        elif following and not any(
            line.comment is None for line in getattr(following[0], "leading_lines", ())
        ):
            following[0] = following[0].with_changes(
                leading_lines=[cst.EmptyLine(), *getattr(following[0], "leading_lines", ())]
            )
        module = updated_node.with_changes(body=[*body[:at], *new_imports, *statements, *following])
        return without_unused_names(module, self.replaced)


def _taken(module: cst.Module, env: str) -> bool:
    """Whether the module already binds a name the fix would add."""
    added = {url_constant(env), HISTORY_FACTORY, "_checkpointer"}
    added |= {"_history_engine", "_history_conninfo", "_history_connection"}
    return bool(added & set(bindings(module.body)[0]))


def _emptied(module: cst.Module) -> set[str]:
    """Containers something removes entries from: `pop`, `popitem`, `clear`, `del d[k]`."""
    code = cst.Module([]).code_for_node
    removals = m.Attribute(attr=m.Name("pop") | m.Name("popitem") | m.Name("clear"))
    found = {
        code(cst.ensure_type(cst.ensure_type(call, cst.Call).func, cst.Attribute).value)
        for call in findall(module, m.Call(func=removals))
    }
    for statement in findall(module, m.Del(target=m.Subscript())):
        target = cst.ensure_type(cst.ensure_type(statement, cst.Del).target, cst.Subscript)
        found.add(code(target.value))
    return found


def _is_async(module: cst.Module) -> bool:
    """Whether the module runs its chains with async methods (then histories must be async).

    An `async def` route that calls `.invoke` or `.predict` reads its history
    synchronously, and an async engine would raise there: the calls decide, not the def.
    """
    return _calls_any(module, _ASYNC_METHODS)


def _calls_any(module: cst.Module, names: frozenset[str]) -> bool:
    """Whether the module calls a method of one of these names on anything."""
    methods = m.OneOf(*(m.Name(name) for name in sorted(names)))
    return bool(findall(module, m.Call(func=m.Attribute(attr=methods))))


def _is_empty_dict(value: cst.BaseExpression) -> bool:
    return m.matches(value, m.Dict(elements=[]) | m.Call(func=m.Name("dict"), args=[]))


def _dict_names(statements: Sequence[cst.BaseStatement], prefix: str) -> frozenset[str]:
    """Names (or `self.` attributes) bound to a new empty dict by these statements."""
    found: set[str] = set()
    for statement in statements:
        if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1:
            small = statement.body[0]
            targets: list[cst.BaseExpression] = []
            if isinstance(small, cst.Assign) and len(small.targets) == 1:
                targets = [small.targets[0].target]
            elif isinstance(small, cst.AnnAssign) and small.value is not None:
                targets = [small.target]
            value = getattr(small, "value", None)
            if targets and isinstance(value, cst.BaseExpression) and _is_empty_dict(value):
                code = cst.Module([]).code_for_node(targets[0])
                if code.startswith(prefix) and (prefix or simple_assignment(statement)):
                    found.add(code)
    return frozenset(found)


def _self_assignments(cls: cst.ClassDef) -> list[cst.BaseStatement]:
    return [
        cst.ensure_type(s, cst.SimpleStatementLine) for s in findall(cls, m.SimpleStatementLine())
    ]


def _keys(function: cst.FunctionDef, dicts: frozenset[str]) -> tuple[list[str], set[str]]:
    """The key expressions used on the dicts in `function`, and the dicts it writes."""
    code = cst.Module([]).code_for_node
    keys: list[str] = []
    writes: set[str] = set()
    for found in findall(function, m.Subscript()):
        sub = cst.ensure_type(found, cst.Subscript)
        holder = code(sub.value)
        if holder in dicts and len(sub.slice) == 1 and isinstance(sub.slice[0].slice, cst.Index):
            keys.append(code(sub.slice[0].slice.value))
    for found in findall(function, m.AssignTarget(target=m.Subscript())):
        target = cst.ensure_type(cst.ensure_type(found, cst.AssignTarget).target, cst.Subscript)
        if code(target.value) in dicts:
            writes.add(code(target.value))
    lookups = m.Attribute(attr=m.Name("get") | m.Name("setdefault"))
    for found in findall(function, m.Call(func=lookups)):
        call = cst.ensure_type(found, cst.Call)
        attribute = cst.ensure_type(call.func, cst.Attribute)
        holder = code(attribute.value)
        if holder in dicts and call.args:
            keys.append(code(call.args[0].value))
            if attribute.attr.value == "setdefault":
                writes.add(holder)
    return keys, writes


def _has_keyword(call: cst.Call, name: str) -> bool:
    return any(arg.keyword is not None and arg.keyword.value == name for arg in call.args)


def _contains(statement: cst.CSTNode, node: cst.CSTNode) -> bool:
    return statement is node or bool(findall(statement, m.MatchIfTrue(lambda n: n is node)))
