"""The codemod of `saver-not-set-up`; its documentation is the package's docstring."""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from memfix.codemods._shared.saver_flavours import (
    Bound,
    given_savers,
    in_async_function,
    savers_of,
)
from memfix.codemods.saver_not_set_up import RULE as SAVER_NOT_SET_UP
from memfix.rules.codemod import Codemod, Invalid, Valid

_SETUPS = frozenset({"setup", "asetup"})

_IMPORTS = (
    "from langgraph.checkpoint.postgres import PostgresSaver\n"
    "from langgraph.graph import START, MessagesState, StateGraph\n"
    "builder = StateGraph(MessagesState)\n"
)
_ASYNC_IMPORTS = _IMPORTS.replace(
    "postgres import PostgresSaver", "postgres.aio import AsyncPostgresSaver"
)
_WITH = (
    "with PostgresSaver.from_conn_string(DB_URI) as checkpointer:\n"
    "{setup}"
    "    graph = builder.compile(checkpointer=checkpointer)\n"
    '    graph.invoke({{"messages": [("user", "hi")]}}, {{"configurable": {{"thread_id": "1"}}}})\n'
)
_LIFESPAN = (
    "from contextlib import asynccontextmanager\n"
    "from fastapi import FastAPI\n" + _ASYNC_IMPORTS + "@asynccontextmanager\n"
    "async def lifespan(app: FastAPI):\n"
    "    async with AsyncPostgresSaver.from_conn_string(DB_URI) as checkpointer:\n"
    "{setup}"
    "        app.state.graph = builder.compile(checkpointer=checkpointer)\n"
    "        yield\n"
)


class SaverNotSetUp(Codemod):
    RULE = SAVER_NOT_SET_UP
    MESSAGE = "{saver} {name!r} is never set up: on a fresh database the first turn fails; {advice}"

    VALID = [
        Valid(_IMPORTS + _WITH.format(setup="    checkpointer.setup()\n")),
        Valid(_LIFESPAN.format(setup="        await checkpointer.setup()\n")),
    ]
    INVALID = [
        Invalid(
            _IMPORTS + _WITH.format(setup=""),
            expected=_IMPORTS + _WITH.format(setup="    checkpointer.setup()\n"),
        ),
        Invalid(
            _LIFESPAN.format(setup=""),
            expected=_LIFESPAN.format(setup="        await checkpointer.setup()\n"),
        ),
        # An async saver at module scope: setup cannot be awaited there. Report only.
        Invalid(
            _ASYNC_IMPORTS + "checkpointer = AsyncPostgresSaver(pool)\n"
            "graph = builder.compile(checkpointer=checkpointer)\n",
            expected=None,
        ),
    ]

    def visit_Module(self, node: cst.Module) -> bool:
        self._after: dict[cst.SimpleStatementLine, cst.SimpleStatementLine] = {}
        self._first: dict[cst.With, cst.SimpleStatementLine] = {}
        if _sets_up(node):
            return False
        savers = [s for s in savers_of(self, node) if s.construction.saver.needs_setup]
        for bound in given_savers(node, savers):
            self._check(bound)
        return True

    def _check(self, bound: Bound) -> None:
        saver = bound.construction.saver
        method = "asetup" if saver.name == "AsyncRedisSaver" else "setup"
        awaited = "await " if saver.is_async else ""
        place = self._place(bound)
        fixable = place is not None and (not saver.is_async or self._in_async_function(bound.call))
        call = f"{awaited}{bound.name or '<name>'}.{method}()"
        if fixable:
            advice = f"call {call} once it is made"
        elif bound.name:
            advice = f"call {call} in an async function before the first turn"
        else:
            advice = f"bind it to a name and call {call} before the first turn"
        message = self.MESSAGE.format(
            saver=saver.name, name=bound.name or "built inline", advice=advice
        )
        if not self.report(bound.call, message, fixed=fixable) or place is None or not fixable:
            return
        line = cst.parse_statement(f"{awaited}{bound.name}.{method}()\n")
        statement = cst.ensure_type(line, cst.SimpleStatementLine)
        if isinstance(place, cst.With):
            self._first[place] = statement
        else:
            self._after[place] = statement

    def _place(self, bound: Bound) -> cst.With | cst.SimpleStatementLine | None:
        """Where the setup call goes: the `with` that opens the saver, or the line after
        the assignment that makes it; None when neither is simple."""
        statement = bound.statement
        if isinstance(statement, cst.With):
            return statement if isinstance(statement.body, cst.IndentedBlock) else None
        if not isinstance(statement, cst.Assign):
            return None
        line = self.parent(statement)
        if isinstance(line, cst.SimpleStatementLine) and len(line.body) == 1:
            return line
        return None

    def _in_async_function(self, node: cst.CSTNode) -> bool:
        return in_async_function(node, self.parent)

    def leave_With(self, original_node: cst.With, updated_node: cst.With) -> cst.With:
        first = self._first.get(original_node)
        if first is None:
            return updated_node
        body = cst.ensure_type(updated_node.body, cst.IndentedBlock)
        return updated_node.with_changes(body=body.with_changes(body=[first, *body.body]))

    def leave_IndentedBlock(
        self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock
    ) -> cst.IndentedBlock:
        return updated_node.with_changes(body=self._inserted(original_node.body, updated_node.body))

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        return updated_node.with_changes(body=self._inserted(original_node.body, updated_node.body))

    def _inserted(
        self, original: Sequence[cst.BaseStatement], updated: Sequence[cst.BaseStatement]
    ) -> list[cst.BaseStatement]:
        """The updated statements, each planned setup call after the line that makes its saver."""
        body: list[cst.BaseStatement] = []
        for before, after in zip(original, updated, strict=True):
            body.append(after)
            setup = self._after.get(before) if isinstance(before, cst.SimpleStatementLine) else None
            if setup is not None:
                body.append(setup)
        return body


def _sets_up(module: cst.Module) -> bool:
    """Whether anything in the module calls a `setup()` or `asetup()` method."""
    found = False

    class _Find(cst.CSTVisitor):
        def visit_Call(self, node: cst.Call) -> None:
            nonlocal found
            if isinstance(node.func, cst.Attribute) and node.func.attr.value in _SETUPS:
                found = True

    module.visit(_Find())
    return found
