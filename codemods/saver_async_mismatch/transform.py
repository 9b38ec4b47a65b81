"""The codemod of `saver-async-mismatch`; its documentation is the package's docstring."""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor, ImportItem

from memfix.codemods._shared.imports import top_level_imports, without_imports, without_unused_names
from memfix.codemods._shared.saver_flavours import (
    Bound,
    GraphUse,
    Saver,
    calls_method,
    graph_uses,
    in_async_function,
    savers_of,
)
from memfix.codemods.saver_async_mismatch import RULE as SAVER_ASYNC_MISMATCH
from memfix.rules.codemod import Codemod, Invalid, Valid

_ASYNC_RUNS = frozenset({"ainvoke", "astream", "astream_events", "abatch"})
_SYNC_RUNS = frozenset({"invoke", "stream", "batch"})
# Only these pairs take the same arguments in `from_conn_string` in both flavours.
_REWRITABLE = frozenset({"SqliteSaver", "PostgresSaver"})
_SETUP = frozenset({"setup"})
_SAVER_METHODS = frozenset(
    {"get", "get_tuple", "list", "put", "put_writes", "delete_thread", "aget", "alist"}
)
_ERRORS = {
    False: "the first turn raises NotImplementedError",
    True: "the turn fails with InvalidStateError or blocks",
}

_SYNC = (
    "from langgraph.checkpoint.sqlite import SqliteSaver\n"
    "from langgraph.graph import START, MessagesState, StateGraph\n"
    "builder = StateGraph(MessagesState)\n"
)
_ASYNC = _SYNC.replace("sqlite import SqliteSaver", "sqlite.aio import AsyncSqliteSaver")


def _answer(opening: str, call: str) -> str:
    return (
        "async def answer(thread_id: str, text: str) -> str:\n"
        f"    {opening} as saver:\n"
        "        graph = builder.compile(checkpointer=saver)\n"
        f'        result = {call}({{"messages": [("user", text)]}}, '
        '{"configurable": {"thread_id": thread_id}})\n'
        '    return result["messages"][-1].content\n'
    )


class SaverAsyncMismatch(Codemod):
    RULE = SAVER_ASYNC_MISMATCH
    MESSAGE = "{use}() runs a graph whose checkpointer {saver} is {flavour}: {error}; {advice}"

    VALID = [
        Valid(
            _ASYNC
            + _answer('async with AsyncSqliteSaver.from_conn_string("c.db")', "await graph.ainvoke")
        ),
        Valid(
            _SYNC.replace("async ", "")
            + _answer('with SqliteSaver.from_conn_string("c.db")', "graph.invoke").replace(
                "async def", "def"
            )
        ),
    ]
    INVALID = [
        Invalid(
            _SYNC + _answer('with SqliteSaver.from_conn_string("c.db")', "await graph.ainvoke"),
            expected=_ASYNC
            + _answer(
                'async with AsyncSqliteSaver.from_conn_string("c.db")', "await graph.ainvoke"
            ),
        ),
        Invalid(
            _ASYNC
            + _answer('async with AsyncSqliteSaver.from_conn_string("c.db")', "graph.invoke"),
            expected=_ASYNC
            + _answer(
                'async with AsyncSqliteSaver.from_conn_string("c.db")', "await graph.ainvoke"
            ),
        ),
        # Built at module scope: the async saver needs a running loop there. Report only.
        Invalid(
            "import asyncio\nimport sqlite3\n"
            + _SYNC
            + 'saver = SqliteSaver(sqlite3.connect("c.db", check_same_thread=False))\n'
            "graph = builder.compile(checkpointer=saver)\n"
            'asyncio.run(graph.ainvoke({"messages": []}, {"configurable": {"thread_id": "1"}}))\n',
            expected=None,
        ),
    ]

    def visit_Module(self, node: cst.Module) -> bool:
        self._with: dict[cst.With, Bound] = {}
        self._setups: set[cst.Call] = set()
        self._awaits: set[cst.Call] = set()
        self._opened: list[Bound] = []
        self._in_place: set[str] = set()
        self._reads = _name_reads(node)
        uses = graph_uses(node, savers_of(self, node))
        for use in uses:
            flavour = use.saver.construction.saver.is_async
            wrong = _SYNC_RUNS if flavour else _ASYNC_RUNS
            if use.method in wrong:
                same = [other for other in uses if other.saver is use.saver]
                self._check(use, same)
        return True

    def _check(self, use: GraphUse, same: Sequence[GraphUse]) -> None:
        saver = use.saver.construction.saver
        shown = f"{use.graph}.{use.method}"
        if saver.is_async:
            fixable = use.method == "invoke" and self._in_async_function(use.call)
            advice = f"await {use.graph}.ainvoke() instead" if fixable else "run it async"
        else:
            fixable = self._opens_rewritably(use.saver, same)
            advice = f"open {saver.partner} instead" if fixable else _advice(use.saver)
        message = self.MESSAGE.format(
            use=shown,
            saver=saver.name,
            flavour="async" if saver.is_async else "sync",
            error=_ERRORS[saver.is_async],
            advice=advice,
        )
        if not self.report(use.call, message, fixed=fixable) or not fixable:
            return
        if saver.is_async:
            self._awaits.add(use.call)
        elif use.saver not in self._opened:
            self._plan_saver(use.saver)

    def _plan_saver(self, bound: Bound) -> None:
        statement = cst.ensure_type(bound.statement, cst.With)
        self._with[statement] = bound
        self._opened.append(bound)
        for node in _calls(statement.body):
            func = node.func
            if (
                isinstance(func, cst.Attribute)
                and isinstance(func.value, cst.Name)
                and func.value.value == bound.name
                and func.attr.value in _SETUP
                and not isinstance(self.parent(node), cst.Await)
            ):
                self._setups.add(node)

    def _opens_rewritably(self, bound: Bound, same: Sequence[GraphUse]) -> bool:
        """Whether the sync saver is opened by a `with` that can become an `async with`."""
        statement = bound.statement
        if not (
            bound.construction.factory
            and bound.construction.saver.name in _REWRITABLE
            and isinstance(statement, cst.With)
            and statement.asynchronous is None
            and len(statement.items) == 1
        ):
            return False
        if any(use.method not in _ASYNC_RUNS for use in same):
            return False
        if calls_method(statement.body, bound.name, _SAVER_METHODS):
            return False
        return self._in_async_function(statement)

    def _in_async_function(self, node: cst.CSTNode) -> bool:
        return in_async_function(node, self.parent)

    def leave_With(self, original_node: cst.With, updated_node: cst.With) -> cst.With:
        bound = self._with.get(original_node)
        if bound is None:
            return updated_node
        item = updated_node.items[0]
        call = cst.ensure_type(item.item, cst.Call)
        func = cst.ensure_type(call.func, cst.Attribute)
        partner = cst.Name(bound.construction.saver.partner)
        item = item.with_changes(item=call.with_changes(func=func.with_changes(value=partner)))
        return updated_node.with_changes(
            asynchronous=cst.Asynchronous(), items=[item, *updated_node.items[1:]]
        )

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        if original_node in self._setups:
            return cst.Await(updated_node)
        if original_node not in self._awaits:
            return updated_node
        func = cst.ensure_type(updated_node.func, cst.Attribute)
        call = updated_node.with_changes(func=func.with_changes(attr=cst.Name("ainvoke")))
        parent = self.parent(original_node)
        # `await` binds looser than `.attr`, `[key]` and `(...)`: keep the call's result.
        bracket = isinstance(parent, cst.Attribute | cst.Subscript | cst.Call) and (
            getattr(parent, "value", None) is original_node
            or getattr(parent, "func", None) is original_node
        )
        if bracket:
            return cst.Await(call, lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
        return cst.Await(call)

    def leave_ImportFrom(
        self, original_node: cst.ImportFrom, updated_node: cst.ImportFrom
    ) -> cst.ImportFrom:
        saver = self._swapped_import(original_node)
        if saver is None:
            return updated_node
        self._in_place.add(saver.name)
        module = cst.parse_expression(saver.partner_module)
        return updated_node.with_changes(
            module=module, names=[cst.ImportAlias(cst.Name(saver.partner))]
        )

    def _swapped_import(self, node: cst.ImportFrom) -> Saver | None:
        """The saver whose lone import this is, when the rewrite leaves it unread."""
        names = node.names
        if isinstance(names, cst.ImportStar) or len(names) != 1 or names[0].asname:
            return None
        for bound in self._opened:
            saver = bound.construction.saver
            if (
                names[0].name.value == saver.name
                and node.module is not None
                and cst.Module([]).code_for_node(node.module) == saver.module
                and self._reads.get(saver.name, 0) == 1
            ):
                return saver
        return None

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        items = [
            ImportItem(b.construction.saver.partner_module, b.construction.saver.partner)
            for b in self._opened
            if b.construction.saver.name not in self._in_place
        ]
        if not items:
            return updated_node
        module = AddImportsVisitor(CodemodContext(), items).transform_module(updated_node)
        module = without_unused_names(module, {b.construction.saver.name for b in self._opened})
        # `lg_sqlite.SqliteSaver.from_conn_string(...)` read the module it imported.
        roots = {_spelled_through(b.call) for b in self._opened} - {None}
        gone = [i for i in top_level_imports(module) if (i[2] or i[1]) in roots]
        return without_imports(module, gone)


def _advice(bound: Bound) -> str:
    """What to do where no rewrite is faithful."""
    saver = bound.construction.saver
    return (
        f"open {saver.partner} with `async with {saver.partner}.from_conn_string(...)` inside "
        "the event loop, or run the graph sync"
    )


def _spelled_through(call: cst.Call) -> str | None:
    """The module name a saver class was read from: `lg_sqlite` of
    `lg_sqlite.SqliteSaver.from_conn_string`; None for a bare class name."""
    func = call.func
    owner = func.value if isinstance(func, cst.Attribute) else None
    while isinstance(owner, cst.Attribute):
        owner = owner.value
        if isinstance(owner, cst.Name):
            return owner.value
    return None


def _name_reads(module: cst.Module) -> dict[str, int]:
    """How often each name is spelled outside import statements."""
    counts: dict[str, int] = {}

    class _Count(cst.CSTVisitor):
        def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
            return False

        def visit_Import(self, node: cst.Import) -> bool:
            return False

        def visit_Name(self, node: cst.Name) -> None:
            counts[node.value] = counts.get(node.value, 0) + 1

    module.visit(_Count())
    return counts


def _calls(tree: cst.CSTNode) -> list[cst.Call]:
    """Every call in `tree`, in source order."""
    found: list[cst.Call] = []

    class _Collect(cst.CSTVisitor):
        def visit_Call(self, node: cst.Call) -> None:
            found.append(node)

    tree.visit(_Collect())
    return found
