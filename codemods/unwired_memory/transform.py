"""The codemod of `unwired-memory`; its documentation is the package's docstring."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst
import libcst.matchers as m

from memfix.codemods._shared.langchain import imported_names
from memfix.codemods._shared.wiring import Reach
from memfix.codemods.unwired_memory import RULE as UNWIRED_MEMORY
from memfix.rules.codemod import Codemod, Invalid, Valid
from memfix.vocabulary import MEMORY_CLASSES

# Uses of a memory that only write to it: they do not wire it to anything.
_WRITES = frozenset({"save_context", "clear", "add_user_message", "add_ai_message"})
_MODEL_CALLS = frozenset({"invoke", "ainvoke", "predict", "apredict", "stream", "astream"})
_GRADIO = "history {param!r} that gradio hands {function}() is never read: pass it to the model"

_IMPORTS = (
    "from langchain_openai import ChatOpenAI\n"
    "from langchain.memory import ConversationBufferMemory\n"
    "from langchain.chains import ConversationChain\n"
    "llm = ChatOpenAI()\n"
    "memory = ConversationBufferMemory()\n"
)


@dataclass(frozen=True, slots=True)
class _Use:
    wired: bool  # read by something other than a write
    written: bool


class UnwiredMemory(Codemod):
    RULE = UNWIRED_MEMORY
    MESSAGE = "memory {name!r} is never given to a chain; {bypass}"

    VALID = [
        Valid(_IMPORTS + "chain = ConversationChain(llm=llm, memory=memory)\n"),
        # Loaded by hand into the prompt: wired, if not through a chain.
        Valid(
            _IMPORTS + "history = memory.load_memory_variables({})\n"
            'reply = llm.invoke(f"{history} {q}")\n'
            'memory.save_context({"input": q}, {"output": reply.content})\n'
        ),
    ]
    INVALID = [
        Invalid(
            _IMPORTS + "reply = llm.invoke(q)\n"
            'memory.save_context({"input": q}, {"output": reply.content})\n',
            expected=None,
        ),
        Invalid(
            _IMPORTS + "chain = ConversationChain(llm=llm, memory=ConversationBufferMemory())\n",
            expected=None,
        ),
    ]

    def visit_Module(self, node: cst.Module) -> bool:
        reach = Reach(self, node)
        self._check_memories(node, reach)
        self._check_gradio(node)
        return False

    def _check_memories(self, node: cst.Module, reach: Reach) -> None:
        bypass = self._bypass(node, reach)
        for found in m.findall(node, m.Assign(targets=[m.AssignTarget(target=m.Name())])):
            assign = cst.ensure_type(found, cst.Assign)
            name = cst.ensure_type(assign.targets[0].target, cst.Name).value
            value = assign.value
            if not isinstance(value, cst.Call) or reach.class_of(value.func) not in MEMORY_CLASSES:
                continue
            if reach.values.get(name) is not value:
                continue  # bound more than once: which one is used is not clear
            use = _use(node, name)
            if use.wired:
                continue
            if bypass is not None:
                self.report(value, self.MESSAGE.format(name=name, bypass=bypass), fixed=False)
            elif use.written:
                message = self.MESSAGE.format(
                    name=name, bypass="it is written but never read: pass it as memory="
                )
                self.report(value, message, fixed=False)

    def _bypass(self, node: cst.Module, reach: Reach) -> str | None:
        """The first call that talks to the model without the memory, described."""
        for found in m.findall(node, m.Call()):
            call = cst.ensure_type(found, cst.Call)
            chain = reach.chain(call)
            memory = None
            for arg in call.args:
                if arg.keyword is not None and arg.keyword.value == "memory":
                    memory = arg.value
            if chain is not None and isinstance(memory, cst.Call):
                kind = reach.class_of(memory.func)
                line = self.position(call).line
                return f"{chain.kind}() on line {line} gets a new {kind}() instead: pass it there"
            func = call.func
            if isinstance(func, cst.Attribute) and func.attr.value in _MODEL_CALLS:
                model = reach.resolve(func.value)
                kind = reach.class_of(model.func) if isinstance(model, cst.Call) else None
                if kind is not None and (kind.startswith("Chat") or kind.endswith(("LLM", "AI"))):
                    line = self.position(call).line
                    receiver = cst.Module([]).code_for_node(func.value)
                    return (
                        f"{receiver}.{func.attr.value}() on line {line} bypasses it: call a "
                        "chain with memory=, or load its variables into the prompt"
                    )
        return None

    def _check_gradio(self, node: cst.Module) -> None:
        functions = {
            f.name.value: f
            for f in (cst.ensure_type(d, cst.FunctionDef) for d in m.findall(node, m.FunctionDef()))
        }
        for found in m.findall(node, m.Call()):
            call = cst.ensure_type(found, cst.Call)
            if "gradio.ChatInterface" not in imported_names(self, call.func):
                continue
            fn = next((a.value for a in call.args if a.keyword is None), None)
            for arg in call.args:
                if arg.keyword is not None and arg.keyword.value == "fn":
                    fn = arg.value
            function = functions.get(fn.value) if isinstance(fn, cst.Name) else None
            if function is None:
                continue
            params = function.params.params
            if len(params) < 2 or isinstance(function.params.star_arg, cst.Param):
                continue
            history = params[1].name.value
            if not m.findall(function.body, m.Name(history)):
                message = _GRADIO.format(param=history, function=function.name.value)
                self.report(function, message, fixed=False)


class _Reads(cst.CSTVisitor):
    """Counts how a module reads one name: writes into it, and every other read."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.reads = 0
        self.writes = 0

    def visit_Name(self, node: cst.Name) -> None:
        if node.value == self.name:
            self.reads += 1

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        if m.matches(node.value, m.Name(self.name)) and node.attr.value in _WRITES:
            self.writes += 1
            return False
        node.value.visit(self)  # `x.attr` never reads a name `attr`
        return False

    def visit_Arg(self, node: cst.Arg) -> bool:
        node.value.visit(self)  # `f(memory=x)` never reads a name `memory`
        return False

    def visit_AssignTarget(self, node: cst.AssignTarget) -> bool:
        return not isinstance(node.target, cst.Name)

    def visit_Param(self, node: cst.Param) -> bool:
        return False


def _use(node: cst.Module, name: str) -> _Use:
    """Whether the module hands a name on or reads it, and whether it writes into it."""
    visitor = _Reads(name)
    node.visit(visitor)
    return _Use(wired=visitor.reads > 0, written=visitor.writes > 0)
