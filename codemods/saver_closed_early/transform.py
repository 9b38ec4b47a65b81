"""The codemod of `saver-closed-early`; its documentation is the package's docstring."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import libcst as cst
import libcst.matchers as m

from memfix.codemods._shared.edits import is_import, leading_lines, two_blank_lines_before
from memfix.codemods._shared.find import findall
from memfix.codemods._shared.names import BUILTINS, bindings, names_read
from memfix.codemods._shared.savers import holds, opened_saver, saver_of_call
from memfix.codemods.saver_closed_early import RULE as SAVER_CLOSED_EARLY
from memfix.rules.codemod import Codemod, Invalid, Valid

# Connection pools and connections a saver is built over, by their last name.
_OPENERS = frozenset({"ConnectionPool", "AsyncConnectionPool", "connect"})
_CODE = cst.Module([])

_IMPORTS = "from langgraph.checkpoint.sqlite import SqliteSaver\nfrom graph import builder\n"


def _build(body: str, before: str = "") -> str:
    return f"{_IMPORTS}{before}\n\ndef build_graph():\n{body}"


_RETURNED = (
    '    with SqliteSaver.from_conn_string("checkpoints.db") as checkpointer:\n'
    "        return builder.compile(checkpointer=checkpointer)\n"
)
_OPEN = (
    "import sqlite3\n\n"
    + _IMPORTS
    + "\n\n"
    + 'checkpointer = SqliteSaver(sqlite3.connect("checkpoints.db", check_same_thread=False))\n'
    + "\n\ndef build_graph():\n    return builder.compile(checkpointer=checkpointer)\n"
)


@dataclass(frozen=True, slots=True)
class _Closed:
    """One `with` block whose saver outlives it."""

    block: cst.With
    name: str
    kind: str
    what: str  # what leaves the block: `the returned value`, `'graph'`
    blocker: str | None  # why it is reported only; None: fixable


class SaverClosedEarly(Codemod):
    RULE = SAVER_CLOSED_EARLY
    MESSAGE = (
        "{kind} {name!r} is closed when its `with` block ends, but {what} outlives it: "
        "the first invoke fails on a closed connection"
    )

    VALID = [
        # Used inside the block only: the saver is open for every turn it serves.
        Valid(
            _build(
                '    with SqliteSaver.from_conn_string("checkpoints.db") as checkpointer:\n'
                "        graph = builder.compile(checkpointer=checkpointer)\n"
                '        return graph.invoke({"messages": []})\n'
            )
        ),
        # A lifespan keeps the block open while the app runs.
        Valid(
            "from contextlib import asynccontextmanager\n"
            "from fastapi import FastAPI\n"
            "from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver\n"
            "from graph import builder\n\n\n"
            "@asynccontextmanager\n"
            "async def lifespan(app):\n"
            '    async with AsyncSqliteSaver.from_conn_string("c.db") as checkpointer:\n'
            "        app.state.graph = builder.compile(checkpointer=checkpointer)\n"
            "        yield\n\n\n"
            "app = FastAPI(lifespan=lifespan)\n"
        ),
    ]
    INVALID = [
        Invalid(_build(_RETURNED), expected=_OPEN),
        # The path is a parameter: it cannot be opened once at module scope.
        Invalid(
            _build(_RETURNED.replace('"checkpoints.db"', "path")).replace(
                "build_graph()", "build_graph(path)"
            ),
            expected=None,
        ),
        # An async saver must be opened inside the event loop: report with the recipe.
        Invalid(
            "from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver\n"
            "from graph import builder\n\n\n"
            "async def build_graph():\n"
            '    async with AsyncSqliteSaver.from_conn_string("c.db") as checkpointer:\n'
            "        return builder.compile(checkpointer=checkpointer)\n",
            expected=None,
        ),
    ]

    def visit_Module(self, node: cst.Module) -> bool:
        self.plans: dict[cst.With, _Closed] = {}
        # Module-level statements to add before a function, by the function.
        self.hoisted: dict[cst.FunctionDef, cst.BaseStatement] = {}
        if self.context.facts.platform:
            return False  # the platform owns persistence; in-process-history reports
        self.module_names = bindings(node.body)[0]
        self.lifespan = bool(findall(node, m.Arg(keyword=m.Name("lifespan"))))
        plain = m.SimpleStatementLine(body=[m.Import(names=[m.ImportAlias(m.Name("sqlite3"))])])
        self.imports_sqlite3 = any(m.matches(s, plain) for s in node.body)
        for index, statement in enumerate(node.body):
            if isinstance(statement, cst.With):
                self._module_block(node, statement)
            elif isinstance(statement, cst.FunctionDef):
                self._function(statement, node.body[:index], method=False)
            elif isinstance(statement, cst.ClassDef):
                for method in findall(statement, m.FunctionDef()):
                    self._function(cst.ensure_type(method, cst.FunctionDef), (), method=True)
        return bool(self.plans)

    def _opened(self, block: cst.With) -> tuple[str, str, cst.Call] | None:
        """The name, saver class (or opener) and call of the block's saver, if it opens one."""
        for item in block.items:
            call, alias = item.item, item.asname
            if not isinstance(call, cst.Call) or alias is None:
                continue
            if not isinstance(alias.name, cst.Name):
                continue
            kind = opened_saver(self, call)
            if kind is None and self._opener(call) and self._saver_over(block, alias.name.value):
                kind = self._opener(call)
            if kind is not None:
                return alias.name.value, kind, call
        return None

    def _opener(self, call: cst.Call) -> str | None:
        for qualified in self.imported(call.func):
            root, last = qualified.partition(".")[0], qualified.rpartition(".")[2]
            if last in _OPENERS and root in {"psycopg", "psycopg_pool", "aiosqlite", "sqlite3"}:
                return last
        return None

    def _saver_over(self, block: cst.With, name: str) -> bool:
        calls = (cst.ensure_type(c, cst.Call) for c in findall(block.body, m.Call()))
        return any(
            saver_of_call(self, call) and any(name in names_read(a.value) for a in call.args)
            for call in calls
        )

    def _function(
        self, function: cst.FunctionDef, above: Sequence[cst.BaseStatement], *, method: bool
    ) -> None:
        declared = {
            cst.ensure_type(name, cst.NameItem).name.value
            for name in findall(function, m.NameItem())
        }
        for found in findall(function.body, m.With()):
            block = cst.ensure_type(found, cst.With)
            opened = self._opened(block)
            if opened is None or findall(block.body, m.Yield()):
                continue  # a block that yields stays open while its caller runs
            name, kind, call = opened
            what = self._escape(block, name, declared)
            if what is None:
                continue
            blocker = self._blocker(block, kind, call)
            if blocker is None and (method or block not in function.body.body):
                blocker = "the block is not a statement of a module-level function"
            if blocker is None:
                blocker = self._hoist_blocker(function, call, name, above)
            self._record(_Closed(block, name, kind, what, blocker), function)

    def _escape(self, block: cst.With, name: str, declared: set[str]) -> str | None:
        """What keeps the saver beyond the block in a function: None when nothing does."""
        held = {name}
        for found in findall(block.body, m.SimpleStatementLine()):
            for small in cst.ensure_type(found, cst.SimpleStatementLine).body:
                returned = small.value if isinstance(small, cst.Return) else None
                if returned is not None and holds(self, returned, held):
                    return "the returned value"
                if isinstance(small, cst.Assign) and holds(self, small.value, held):
                    for target in small.targets:
                        code = _CODE.code_for_node(target.target)
                        if isinstance(target.target, cst.Attribute) or code in declared:
                            return repr(code)
                        held.add(code)
        return None

    def _module_block(self, module: cst.Module, block: cst.With) -> None:
        opened = self._opened(block)
        if opened is None:
            return
        name, kind, call = opened
        held, kept = {name}, []
        for found in findall(block.body, m.SimpleStatementLine()):
            statement = cst.ensure_type(found, cst.SimpleStatementLine)
            for small in statement.body:
                if isinstance(small, cst.Assign) and holds(self, small.value, held):
                    codes = {_CODE.code_for_node(t.target) for t in small.targets}
                    held |= codes
                    kept.extend(sorted(codes))
        others = [s for s in module.body if s is not block and not is_import(s)]
        outside = set().union(*(names_read(s) for s in others))
        used = [name for name in [name, *kept] if name in outside]
        if not used:
            return
        blocker = self._blocker(block, kind, call)
        self._record(_Closed(block, name, kind, repr(used[-1]), blocker), None)

    def _blocker(self, block: cst.With, kind: str, call: cst.Call) -> str | None:
        """Why the block cannot become a saver opened for the program's life, or None."""
        if block.asynchronous is not None or kind.startswith("Async") or kind in _OPENERS:
            return (
                "an async saver or a connection pool must be opened inside the event loop: "
                "open it in the app's lifespan and keep it on app.state, `async with ... as "
                "cp: app.state.graph = builder.compile(checkpointer=cp); yield`"
            )
        if kind != "SqliteSaver":
            return f"a {kind} is left to be opened in the app's startup"
        if self.lifespan:
            return (
                "the app has a lifespan: open the saver there and keep it on app.state, "
                "`with ... as cp: app.state.graph = builder.compile(checkpointer=cp); yield`"
            )
        if len(block.items) != 1 or len(call.args) != 1 or call.args[0].keyword is not None:
            return "the block opens more than one thing, or with more than a path"
        if "sqlite3" in self.module_names and not self.imports_sqlite3:
            return "the name sqlite3 is taken in the module"
        return None

    def _hoist_blocker(
        self,
        function: cst.FunctionDef,
        call: cst.Call,
        name: str,
        above: Sequence[cst.BaseStatement],
    ) -> str | None:
        defined = set(bindings(above)[0]) | BUILTINS
        reads = sorted(names_read(call.args[0].value) - defined)
        if reads:
            return f"its path reads {', '.join(reads)}, which is not a module-level name above"
        if name in self.module_names:
            return f"the name {name!r} is taken at module scope"
        if bindings([function.body])[0].get(name, 0) > 1 or name in _parameters(function):
            return f"the name {name!r} is bound again in {function.name.value}()"
        return None

    def _record(self, closed: _Closed, function: cst.FunctionDef | None) -> None:
        message = self.MESSAGE.format(kind=closed.kind, name=closed.name, what=closed.what)
        if closed.blocker is not None:
            message = f"{message} ({closed.blocker})"
        fixed = closed.blocker is None
        if not self.report(closed.block, message, fixed=fixed) or not fixed:
            return
        self.plans[closed.block] = closed
        if function is not None:
            self.hoisted[function] = cst.parse_statement(
                f"{closed.name} = {_opened_for_good(closed.block)}\n"
            )

    def leave_FunctionDef(
        self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef
    ) -> cst.FunctionDef:
        if original_node not in self.hoisted:
            return updated_node
        body = _unwrapped(
            _statements(original_node.body), _statements(updated_node.body), self.plans
        )
        return updated_node.with_changes(body=updated_node.body.with_changes(body=body))

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        if not self.plans:
            return updated_node
        body: list[cst.BaseStatement] = []
        for before, after in zip(original_node.body, updated_node.body, strict=True):
            if isinstance(before, cst.FunctionDef) and before in self.hoisted:
                saver = self.hoisted[before].with_changes(leading_lines=after.leading_lines)
                body += [saver, two_blank_lines_before(after)]
            elif isinstance(before, cst.With) and before in self.plans:
                body += _unwrapped([before], [after], self.plans, module=True)
            else:
                body.append(after)
        if not self.imports_sqlite3:
            at = _first_import(body)
            sqlite3 = cst.parse_statement("import sqlite3\n")
            if at < len(body) and is_import(body[at]):
                follower = body[at]
                sqlite3 = sqlite3.with_changes(leading_lines=leading_lines(follower))
                body[at] = follower.with_changes(leading_lines=[cst.EmptyLine()])
            body.insert(at, sqlite3)
        return updated_node.with_changes(body=body)


def _opened_for_good(block: cst.With) -> str:
    call = cst.ensure_type(block.items[0].item, cst.Call)
    saver = _CODE.code_for_node(cst.ensure_type(call.func, cst.Attribute).value)
    path = _CODE.code_for_node(call.args[0].value)
    return f"{saver}(sqlite3.connect({path}, check_same_thread=False))"


def _unwrapped(
    before: Sequence[cst.BaseStatement],
    after: Sequence[cst.BaseStatement],
    plans: dict[cst.With, _Closed],
    *,
    module: bool = False,
) -> list[cst.BaseStatement]:
    """The statements with each planned block replaced by its own body."""
    body: list[cst.BaseStatement] = []
    for old, new in zip(before, after, strict=True):
        if not (isinstance(old, cst.With) and old in plans and isinstance(new, cst.With)):
            body.append(new)
            continue
        inner = list(cst.ensure_type(new.body, cst.IndentedBlock).body)
        if module:
            opened = f"{plans[old].name} = {_opened_for_good(old)}\n"
            inner.insert(0, cst.parse_statement(opened))
        inner[0] = inner[0].with_changes(leading_lines=new.leading_lines)
        body.extend(inner)
    return body


def _parameters(function: cst.FunctionDef) -> set[str]:
    return {cst.ensure_type(p, cst.Param).name.value for p in findall(function.params, m.Param())}


def _statements(block: cst.BaseSuite) -> Sequence[cst.BaseStatement]:
    return cst.ensure_type(block, cst.IndentedBlock).body


def _first_import(body: Sequence[cst.BaseStatement]) -> int:
    """Where `import sqlite3` goes: before the first import that is not `__future__`."""
    for index, statement in enumerate(body):
        if is_import(statement) and "__future__" not in _CODE.code_for_node(statement):
            return index
    return 0
