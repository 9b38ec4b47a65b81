"""The codemod of `shared-global-state`; its documentation is the package's docstring."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import cast

import libcst as cst
import libcst.matchers as m

from memfix.codemods._shared.edits import leading_lines, simple_assignment, two_blank_lines_before
from memfix.codemods._shared.find import findall
from memfix.codemods._shared.langchain import (
    imported_frameworks,
    imported_names,
    is_in_process_state,
)
from memfix.codemods._shared.names import bindings, names_read, parameter_names
from memfix.codemods._shared.sessions import (
    dependents,
    is_streamlit_cache,
    new_identity,
    session_factory,
    session_identity,
    session_state_keys,
    streamlit_guard,
    streamlit_name,
)
from memfix.codemods._shared.wiring import Edit, PlannedEdits
from memfix.codemods.shared_global_state import LIST_NAMES
from memfix.codemods.shared_global_state import RULE as SHARED_GLOBAL_STATE
from memfix.codemods.shared_global_state.across import (
    Reader,
    alias_renamed,
    import_aliases,
    read_replaced,
    readers,
)
from memfix.codemods.shared_global_state.bots import bot_identity
from memfix.codemods.shared_global_state.placement import bound_identity, fetched_before_use
from memfix.facts import Plan, SharedDefinition, SharedImport
from memfix.rules.codemod import Fix, Invalid, Valid
from memfix.vocabulary import factory_names

Signature = Callable[[cst.FunctionDef], cst.FunctionDef]

_GROWS = ("append", "extend", "insert")
# Findings about state that lives in one module and is used by handlers in another.
_ACROSS = (
    "{kind} {name!r} is one object for every user of {routes}, so users see each other's turns"
)
_IMPORTED = (
    "{name!r} from {source} is one object for every user of {function}(), "
    "so users see each other's turns"
)

_IMPORTS = (
    "from fastapi import FastAPI\n"
    "from langchain.chains import ConversationChain\n"
    "from langchain.memory import ConversationBufferMemory\n"
    "from langchain_openai import ChatOpenAI\n\n"
    "app = FastAPI()\n"
    "llm = ChatOpenAI()\n"
)
_SHARED = "memory = ConversationBufferMemory()\nchain = ConversationChain(llm=llm, memory=memory)\n"
_FACTORY = (
    "_chain_by_session = {}\n\n\n"
    "def get_session_chain(session_id: str):\n"
    "    if session_id not in _chain_by_session:\n"
    "        memory = ConversationBufferMemory()\n"
    "        _chain_by_session[session_id] = ConversationChain(llm=llm, memory=memory)\n"
    "    return _chain_by_session[session_id]\n"
)
_STREAMLIT_CACHED = (
    "from langchain.memory import ConversationBufferMemory\n\n\n"
    "{decorator}def load_memory():\n"
    "    return ConversationBufferMemory()\n\n\n"
    "memory = load_memory()\n"
)


def _route(params: str, first: str = "") -> str:
    return (
        f'\n\n@app.post("/chat")\ndef chat({params}):\n{first}'
        "    return chain.predict(input=message)\n"
    )


class SharedGlobalState(PlannedEdits):
    RULE = SHARED_GLOBAL_STATE
    MESSAGE = (
        "{kind} {name!r} is one object for every user of {function}(), "
        "so users see each other's turns"
    )

    VALID = [
        # No web framework: a script's module scope is one conversation, which is right.
        Valid(
            _IMPORTS.replace("from fastapi import FastAPI\n", "").replace("app = FastAPI()\n", "")
            + _SHARED
            + "\n\ndef ask(message):\n    return chain.predict(input=message)\n"
        ),
        # Each handler gets the chain from the caller: nothing is shared here.
        Valid(
            _IMPORTS
            + _SHARED.replace("memory = ", "make = lambda: ").replace(
                "chain = ConversationChain(llm=llm, memory=memory)\n", ""
            )
            + _route("chain, message: str")
        ),
    ]
    INVALID = [
        Invalid(
            _IMPORTS + _SHARED + _route("user_id: str, message: str"),
            expected=_IMPORTS
            + _FACTORY
            + _route("user_id: str, message: str", "    chain = get_session_chain(user_id)\n"),
        ),
        # No identity in the route: the fix that adds one is unsafe; without the flag, a report.
        Invalid(_IMPORTS + _SHARED + _route("message: str"), expected=None),
        Invalid(
            _IMPORTS + _SHARED + _route("message: str"),
            expected=_IMPORTS
            + _FACTORY
            + _route(
                "message: str, session_id: str", "    chain = get_session_chain(session_id)\n"
            ),
            flags=("--unsafe-fixes",),
        ),
        Invalid(
            "import streamlit as st\n" + _STREAMLIT_CACHED.format(decorator="@st.cache_resource\n"),
            expected="import streamlit as st\n"
            + _STREAMLIT_CACHED.format(decorator="").replace(
                "memory = load_memory()\n",
                'if "memory" not in st.session_state:\n'
                "    st.session_state.memory = load_memory()\n"
                "memory = st.session_state.memory\n",
            ),
        ),
    ]

    def visit_Module(self, node: cst.Module) -> bool:
        self.module = node
        web = imported_frameworks(self)
        self.streamlit = streamlit_name(node)
        if self.streamlit and "streamlit" in web:
            self._plan_cached(node)
        if web - {"streamlit"}:
            self._plan_module_state(node)
        if self.context.facts.definitions:
            self._plan_definitions(node)
        if self.context.facts.imports:
            self._plan_imports(node)
        # Decided here, on the original nodes; with nothing planned, no need to walk the tree.
        return bool(self.edits)

    def _qualified(self, node: cst.CSTNode) -> set[str]:
        return imported_names(self, node)

    def _edit(self, node: cst.CSTNode, edit: Edit) -> None:
        self.plan(node, edit)

    def _plan_module_state(self, module: cst.Module) -> None:
        body: Sequence[cst.BaseStatement] = module.body
        counts = bindings(body)[0]
        assigned = {i: f for i, s in enumerate(body) if (f := simple_assignment(s))}
        taken = set(counts)
        for index, (name, value) in sorted(assigned.items()):
            if not isinstance(value, cst.Call | cst.List) or counts.get(name) != 1:
                continue
            if isinstance(value, cst.Call):
                kind = is_in_process_state(self, value) or self._inner_state(value)
            else:
                kind = _history_list(name, value, module)
            if kind is None:
                continue
            group = dependents(name, index, assigned)
            if group & {definition.name for definition in self.context.facts.definitions}:
                continue  # other modules use it too: `_plan_definitions` decides
            members = {i for i, (n, _) in assigned.items() if n in group and i >= index}
            users, blocked = _users(body, group, members)
            if not users or (kind == "history list" and not _appended(name, users)):
                continue  # a list nobody appends to is a constant, not a history
            entries = set().union(*(read for _, read in users))
            identities, safety = self._identities(module, users)
            entry = next(iter(entries)) if len(entries) == 1 else None
            function, store = factory_names(entry or name)
            needed = _ancestors(entry, members, assigned) if entry else set()
            fixable = (
                not blocked
                and entry is not None
                and needed == members
                and all(counts.get(n) == 1 for n in group)
                and identities is not None
                and not {function, store} & taken
                and "session_id" not in set().union(*(names_read(assigned[i][1]) for i in members))
            )
            applies = fixable and (safety is Fix.SAFE or self.context.settings.unsafe_fixes)
            message = self.MESSAGE.format(kind=kind, name=name, function=users[0][0].name.value)
            if not self.report(value, message, fixed=applies, fix=safety):
                continue
            if not applies or entry is None or identities is None:
                continue
            taken |= {function, store}
            self._to_factory(body, sorted(members), assigned, function, store)
            for (user, _), (expression, signature) in zip(users, identities, strict=True):
                line = cst.parse_statement(f"{entry} = {function}({expression})")
                self._edit(user, partial(_fetch_line, line, {entry}))
                if signature is not None:
                    self._edit(user, partial(_signature, signature))

    def _plan_definitions(self, module: cst.Module) -> None:
        """Module-level state that handlers of other modules use, as the repository pass found.

        It becomes the same factory as in one module; the other modules' handlers are
        edited in their own run (`_plan_imports`), with the same plan.
        """
        body: Sequence[cst.BaseStatement] = module.body
        counts = bindings(body)[0]
        assigned = {i: f for i, s in enumerate(body) if (f := simple_assignment(s))}
        at = {name: i for i, (name, _) in assigned.items() if counts.get(name) == 1}
        for definition in self.context.facts.definitions:
            index = at.get(definition.name)
            if index is None:
                continue
            root = self._root_state(definition.name, assigned, at)
            if root is None:
                self._report_imported_state(definition, assigned[index][1])
                continue
            start, kind = root
            group = dependents(assigned[start][0], start, assigned)
            members = {i for i, (n, _) in assigned.items() if n in group and i >= start}
            users, blocked = _users(body, group, members)
            function, store = factory_names(definition.name)
            reads = set().union(*(names_read(assigned[i][1]) for i in members))
            fixable = (
                definition.plan is not Plan.REPORT
                and not users
                and not blocked
                and _ancestors(definition.name, members, assigned) == members
                and all(counts.get(n) == 1 for n in group)
                and not {function, store} & set(counts)
                and "session_id" not in reads
            )
            safety = Fix.UNSAFE if definition.plan is Plan.UNSAFE else Fix.SAFE
            applies = fixable and (safety is Fix.SAFE or self.context.settings.unsafe_fixes)
            routes = ", ".join(route.describe() for route in definition.users)
            message = _ACROSS.format(kind=kind, name=definition.name, routes=routes)
            if not self.report(assigned[index][1], message, fixed=applies, fix=safety):
                continue
            if applies:
                self._to_factory(body, sorted(members), assigned, function, store)

    def _report_imported_state(
        self, definition: SharedDefinition, value: cst.BaseExpression
    ) -> None:
        """A chain built here from state another module defines: report, do not fix.

        Its factory would need the other module's factory too, one more hop.
        """
        routes = ", ".join(route.describe() for route in definition.users)
        message = _ACROSS.format(kind=definition.kind, name=definition.name, routes=routes)
        self.report(value, message, fixed=False, fix=Fix.NONE)

    def _root_state(
        self, name: str, assigned: dict[int, tuple[str, cst.BaseExpression]], at: dict[str, int]
    ) -> tuple[int, str] | None:
        """The first statement that builds the state `name` holds (maybe its own), and its kind."""
        for index, (other, value) in sorted(assigned.items()):
            if at.get(other) != index or not isinstance(value, cst.Call):
                continue
            kind = is_in_process_state(self, value) or self._inner_state(value)
            if kind is not None and name in dependents(other, index, assigned):
                return index, kind
        return None

    def _plan_imports(self, module: cst.Module) -> None:
        """Names imported from a module where they are one object for every user.

        Each handler fetches its session's object from the factory that replaces the
        name there, and the import brings in the factory.
        """
        taken = set(bindings(module.body)[0])
        for shared in self.context.facts.imports:
            aliases = [
                alias
                for alias in import_aliases(module, shared.access)
                if self.position(alias).line == shared.line
            ]
            users, blocked = readers(module, shared.access)
            if len(aliases) != 1 or not users:
                continue
            base = shared.access.partition(".")[0]
            identities, safety = self._identities(module, [(user, {base}) for user, _ in users])
            if shared.plan is Plan.UNSAFE:
                safety = Fix.UNSAFE
            dotted = "." in shared.access
            fixable = (
                shared.plan is not Plan.REPORT
                and not blocked
                and identities is not None
                and (dotted or shared.factory not in taken)
            )
            applies = fixable and (safety is Fix.SAFE or self.context.settings.unsafe_fixes)
            message = _IMPORTED.format(
                name=shared.access, source=shared.source, function=users[0][0].name.value
            )
            if not self.report(aliases[0], message, fixed=applies, fix=safety):
                continue
            if applies and identities is not None:
                self._fetch_per_session(shared, aliases[0], users, identities)

    def _fetch_per_session(
        self,
        shared: SharedImport,
        alias: cst.ImportAlias,
        users: Sequence[Reader],
        identities: Sequence[tuple[str, Signature | None]],
    ) -> None:
        """Import the factory, and make each handler call it with its identity."""
        dotted = "." in shared.access
        if not dotted:
            self._edit(alias, partial(alias_renamed, shared.factory))
        module_path = shared.access.rpartition(".")[0]
        for (user, reads), (expression, signature) in zip(users, identities, strict=True):
            if dotted:
                call = f"{module_path}.{shared.factory}({expression})"
                for read in reads:
                    self._edit(read, partial(read_replaced, call))
            else:
                line = cst.parse_statement(f"{shared.access} = {shared.factory}({expression})")
                self._edit(user, partial(_fetch_line, line, {shared.access}))
            if signature is not None:
                self._edit(user, partial(_signature, signature))

    def _inner_state(self, value: cst.Call) -> str | None:
        """The state built inside a call: `ConversationChain(memory=ConversationBufferMemory())`.

        A memory built in a lambda is made on each call, not once: it does not count.
        """
        fresh = {id(c) for lam in findall(value, m.Lambda()) for c in findall(lam, m.Call())}
        for call in findall(value, m.Call()):
            if id(call) not in fresh:
                kind = is_in_process_state(self, cst.ensure_type(call, cst.Call))
                if kind is not None:
                    return kind
        return None

    def _identities(
        self, module: cst.Module, users: Sequence[tuple[cst.FunctionDef, set[str]]]
    ) -> tuple[list[tuple[str, Signature | None]] | None, Fix]:
        """Each handler's identity, and SAFE; UNSAFE when one must be given a new one.

        `users` are the handlers with the names of the shared object they read. None
        when a handler has no identity in reach and none can be given to it in a way
        the diff shows: a new parameter, never a request field no client sends.
        """
        found: list[tuple[str, Signature | None]] = []
        safety = Fix.SAFE
        key = self.context.settings.session_key
        imported_packages = self.imported_packages()
        for user, uses in users:
            identity = session_identity(
                user, module, self._qualified, session_key=key
            ) or bound_identity(user, uses, key)
            identity = identity or bot_identity(user, module, imported_packages)
            if identity is not None:
                found.append((identity.expression, None))
                continue
            frameworks = imported_frameworks(self)
            new = new_identity(user, module, self._qualified, key or "session_id", frameworks)
            if new is None or new.signature is None:
                return None, safety
            found.append((new.expression, new.signature))
            safety = Fix.UNSAFE
        return found, safety

    def _to_factory(
        self,
        body: Sequence[cst.BaseStatement],
        members: list[int],
        assigned: dict[int, tuple[str, cst.BaseExpression]],
        function: str,
        store: str,
    ) -> None:
        """Move the statements that build the state into a factory at the last one's place."""
        last = members[-1]
        # The first statement's comments move above the dict; the others' go along inside.
        setup = [body[i] for i in members[:-1]]
        if setup:
            setup[0] = setup[0].with_changes(leading_lines=[])
        made = session_factory(function, store, setup, assigned[last][1])
        first = body[members[0]]
        made[0] = made[0].with_changes(leading_lines=leading_lines(first))
        for i in members[:-1]:
            self._edit(body[i], _remove)
        self._edit(body[last], partial(_replace_by, made))
        if last + 1 < len(body):
            self._edit(body[last + 1], _two_blank_lines)

    def _plan_cached(self, module: cst.Module) -> None:
        """`@st.cache_resource` on a function that builds conversation state."""
        assert self.streamlit is not None
        keys = session_state_keys(module)
        for statement in module.body:
            if not isinstance(statement, cst.FunctionDef):
                continue
            cache = [d for d in statement.decorators if is_streamlit_cache(d, self._qualified)]
            if not cache or parameter_names(statement.params):
                continue  # not cached, or cached per argument (maybe per user)
            kinds = [
                kind
                for call in findall(statement.body, m.Call())
                if (kind := is_in_process_state(self, cst.ensure_type(call, cst.Call)))
            ]
            if not kinds:
                continue  # an LLM or a prompt alone is the same for every user
            sites = _call_sites(module, statement.name.value)
            targets = [found[0] for s in sites or () if (found := simple_assignment(s))]
            fixable = sites is not None and bool(sites) and not set(targets) & keys
            message = (
                f"{kinds[0]} built by @st.cache_resource {statement.name.value}() is one "
                "object for every session of the Streamlit app, so users see each other's turns"
            )
            if not self.report(cache[0], message, fixed=fixable) or not fixable:
                continue
            keys |= set(targets)
            drop = [i for i, d in enumerate(statement.decorators) if d in cache]
            self._edit(statement, partial(_without_decorators, drop))
            for site, key in zip(sites or (), targets, strict=True):
                self._edit(site, partial(_guarded, self.streamlit, key))


def _without_decorators(drop: list[int], node: cst.CSTNode) -> cst.CSTNode:
    function = cst.ensure_type(node, cst.FunctionDef)
    kept = [d for i, d in enumerate(function.decorators) if i not in drop]
    return function.with_changes(decorators=kept)


def _guarded(streamlit: str, key: str, node: cst.CSTNode) -> cst.FlattenSentinel[cst.CSTNode]:
    return cst.FlattenSentinel(streamlit_guard(streamlit, key, cast(cst.BaseStatement, node)))


def _signature(signature: Signature, node: cst.CSTNode) -> cst.CSTNode:
    return signature(cst.ensure_type(node, cst.FunctionDef))


def _fetch_line(line: cst.BaseStatement, uses: set[str], node: cst.CSTNode) -> cst.CSTNode:
    return fetched_before_use(cst.ensure_type(node, cst.FunctionDef), line, uses)


def _two_blank_lines(node: cst.CSTNode) -> cst.CSTNode:
    return two_blank_lines_before(cast(cst.BaseStatement, node))


def _remove(node: cst.CSTNode) -> cst.RemovalSentinel:
    return cst.RemovalSentinel.REMOVE


def _replace_by(
    statements: list[cst.BaseStatement], node: cst.CSTNode
) -> cst.FlattenSentinel[cst.CSTNode]:
    return cst.FlattenSentinel(statements)


def _history_list(name: str, value: cst.BaseExpression, module: cst.Module) -> str | None:
    """ "history list" for `chat_history = []` in a LangChain module, else None."""
    if not m.matches(value, m.List(elements=[])) or not any(word in name for word in LIST_NAMES):
        return None
    langchain = any(
        isinstance(node, cst.ImportFrom)
        and node.module is not None
        and cst.Module([]).code_for_node(node.module).startswith(("langchain", "langgraph"))
        for node in findall(module, m.ImportFrom())
    )
    return "history list" if langchain else None


def _appended(name: str, users: Sequence[tuple[cst.FunctionDef, set[str]]]) -> bool:
    grows = m.Call(func=m.Attribute(value=m.Name(name), attr=m.OneOf(*map(m.Name, _GROWS))))
    return any(findall(function.body, grows) for function, _ in users)


def _users(
    body: Sequence[cst.BaseStatement], group: set[str], members: set[int]
) -> tuple[list[tuple[cst.FunctionDef, set[str]]], bool]:
    """The functions (and methods) that read the state, with what they read; and whether
    anything else uses it (module-level code, `global`), which blocks the fix."""
    users: list[tuple[cst.FunctionDef, set[str]]] = []
    blocked = False
    for index, statement in enumerate(body):
        if index in members:
            continue
        functions: list[cst.FunctionDef] = []
        if isinstance(statement, cst.FunctionDef):
            functions = [statement]
        elif isinstance(statement, cst.ClassDef):
            functions = [s for s in statement.body.body if isinstance(s, cst.FunctionDef)]
            others = [s for s in statement.body.body if not isinstance(s, cst.FunctionDef)]
            blocked |= any(names_read(s) & group for s in others)
        else:
            blocked |= bool(names_read(statement) & group)
            continue
        for function in functions:
            counts, declares_global = bindings([function.body])
            local = set(counts) | parameter_names(function.params)
            read = names_read(function.body) & group
            if declares_global and read:
                blocked = True
            elif read - local:
                users.append((function, read - local))
    return users, blocked


def _ancestors(
    entry: str, members: set[int], assigned: dict[int, tuple[str, cst.BaseExpression]]
) -> set[int]:
    """The member statements the entry's value needs, the entry's own included."""
    by_name = {assigned[i][0]: i for i in members}
    needed: set[int] = set()
    todo = [entry]
    while todo:
        index = by_name.get(todo.pop())
        if index is None or index in needed:
            continue
        needed.add(index)
        todo.extend(names_read(assigned[index][1]) & set(by_name))
    return needed


def _call_sites(module: cst.Module, name: str) -> list[cst.SimpleStatementLine] | None:
    """Top-level `x = name()` statements; None when `name` is used any other way."""
    sites: list[cst.SimpleStatementLine] = []
    for statement in module.body:
        found = simple_assignment(statement)
        if (
            found is not None
            and m.matches(found[1], m.Call(func=m.Name(name), args=[]))
            and isinstance(statement, cst.SimpleStatementLine)
        ):
            sites.append(statement)
            continue
        if isinstance(statement, cst.FunctionDef) and statement.name.value == name:
            if name in names_read(statement.body):
                return None
            continue
        if name in names_read(statement):
            return None
    return sites
