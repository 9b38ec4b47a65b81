"""The codemod of `memory-key-mismatch`; its documentation is the package's docstring."""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

from memfix.codemods._shared.find import findall
from memfix.codemods._shared.prompts import Prompt, history_variable
from memfix.codemods._shared.wiring import (
    Chain,
    Memory,
    PlannedEdits,
    Reach,
    call_keys,
    editable,
    quoted,
    set_keyword,
    string_node,
)
from memfix.codemods.memory_key_mismatch import RULE as MEMORY_KEY_MISMATCH
from memfix.rules.codemod import Invalid, Valid

_WRAPPER_KEY = "history_messages_key {key!r} is not a variable of the prompt, which reads {reads}"
_NO_WRAPPER_KEY = "RunnableWithMessageHistory has no history_messages_key, the prompt reads {reads}"
_AS_TEXT = "memory {name} returns messages, but the prompt reads {key!r} as text"
_AS_MESSAGES = "memory {name} returns text, but the prompt reads {key!r} as a MessagesPlaceholder"
_BY_HAND = "history {key!r} is passed by hand to {chain!r}, which fills it from the session"


def _case(key: str, template: str) -> str:
    return (
        "from langchain.memory import ConversationBufferMemory\n"
        "from langchain_core.prompts import PromptTemplate\n"
        f'memory = ConversationBufferMemory(memory_key="{key}")\n'
        f'prompt = PromptTemplate.from_template("{template}")\n'
    )


def _wrapped(key: str, placeholder: str) -> str:
    return (
        "from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder\n"
        "from langchain_core.runnables.history import RunnableWithMessageHistory\n"
        "prompt = ChatPromptTemplate.from_messages(\n"
        f'    [MessagesPlaceholder("{placeholder}", optional=True), ("human", "{{input}}")]\n'
        ")\n"
        "chat = RunnableWithMessageHistory(\n"
        f'    prompt | llm, get_history, input_messages_key="input", history_messages_key="{key}"\n'
        ")\n"
    )


class MemoryKeyMismatch(PlannedEdits):
    RULE = MEMORY_KEY_MISMATCH
    MESSAGE = "memory_key {key!r} is not a variable of the prompt, which reads {reads}"

    VALID = [
        Valid(_case("history", "So far: {history}. {input}")),
        Valid(_case("chat_history", "So far: {chat_history}. {input}")),
        # `{{history}}` is literal text, not a variable: nothing to match.
        Valid(_case("chat_history", "{{history}} {chat_history} {input}")),
        Valid(_wrapped("history", "history")),
    ]
    INVALID = [
        Invalid(
            _case("chat_history", "So far: {history}. {input}"),
            expected=_case("history", "So far: {history}. {input}"),
        ),
        # An optional placeholder under another name: history is lost with no error.
        Invalid(_wrapped("chat_history", "history"), expected=_wrapped("history", "history")),
        # No history-like variable in the prompt: report, never guess.
        Invalid(_case("chat_history", "Reply to: {input}"), expected=None),
    ]

    def visit_Module(self, node: cst.Module) -> bool:
        self.module = node
        # Gather first: the prompt is often defined after the memory.
        reach = Reach(self, node)
        chains = list(reach.chains(node))
        seen: set[cst.Call] = set()
        for chain in chains:
            if chain.kind == "RunnableWithMessageHistory":
                self._check_wrapper(chain)
            elif chain.memory and chain.prompt and chain.memory.call not in seen:
                seen.add(chain.memory.call)
                self._check_memory(chain.memory, chain.prompt, chain)
        if not chains:
            self._check_lone_memories(node, reach)
        for found in findall(node, m.Call(func=m.Attribute(value=m.Name()))):
            self._check_by_hand(cst.ensure_type(found, cst.Call), reach)
        # Decided here, on the original nodes; with nothing planned, no need to walk the tree.
        return bool(self.edits)

    def _check_lone_memories(self, node: cst.Module, reach: Reach) -> None:
        """A memory and one prompt with no chain in reach: the memory is for that prompt."""
        prompts: list[Prompt] = []
        memories: list[Memory] = []
        for found in findall(node, m.Call()):
            call = cst.ensure_type(found, cst.Call)
            prompt, memory = reach.prompt(call), reach.memory(call)
            if prompt is not None:
                prompts.append(prompt)
            if memory is not None:
                memories.append(memory)
        if len(prompts) == 1:
            for memory in memories:
                self._check_memory(memory, prompts[0], None)

    def _check_memory(self, memory: Memory, prompt: Prompt, chain: Chain | None) -> None:
        key = memory.key
        if key is None:
            return
        if key not in prompt.variables:
            target = _memory_target(prompt, chain)
            reads = quoted(prompt.variables) if target is None else repr(target)
            message = self.MESSAGE.format(key=key, reads=reads)
            fixable = target is not None and editable(memory.call, "memory_key")
            message, fixable = self._kept_for_other_reads(memory, chain, message, fixable)
            if not self.report(memory.call, message, fixed=fixable) or not fixable or not target:
                return
            old = _keyword_value(memory.call, "memory_key")
            self._set(memory.call, "memory_key", string_node(target, old))
            key = target
        if chain is not None and chain.kind == "ConversationalRetrievalChain":
            return  # it formats messages and text alike
        name = f"{memory.kind}()"
        if key in prompt.placeholders and memory.returns_messages is False:
            self._set_shape(memory, chain, _AS_MESSAGES.format(name=name, key=key), "True")
        elif key in prompt.text and memory.returns_messages is True:
            self._set_shape(memory, chain, _AS_TEXT.format(name=name, key=key), "False")

    def _set_shape(self, memory: Memory, chain: Chain | None, message: str, value: str) -> None:
        """Report the memory's shape, and set `return_messages` when nothing else reads it."""
        message, fixable = self._kept_for_other_reads(memory, chain, message, True)
        if self.report(memory.call, message, fixed=fixable) and fixable:
            self._set(memory.call, "return_messages", cst.Name(value))

    def _kept_for_other_reads(
        self, memory: Memory, chain: Chain | None, message: str, fixable: bool
    ) -> tuple[str, bool]:
        """The message and whether to fix, given who else reads the memory's variables.

        A changed key or shape is what every reader of the memory receives: code that
        loads its variables or reads its buffer would fail where it worked.
        """
        if not fixable:
            return message, False
        reader = self._other_reader(memory.call, chain)
        if reader is None:
            return message, True
        line = self.position(reader).line
        return f"{message}; line {line} also reads this memory, which the fix would break", False

    def _other_reader(self, call: cst.Call, chain: Chain | None) -> cst.CSTNode | None:
        """Where code other than its chain reads the memory `call` builds; None if nowhere."""
        bound = self.parent(call)
        if isinstance(bound, cst.Arg):
            return None  # built inside the chain's own call: nothing else can reach it
        target = bound.targets[0].target if isinstance(bound, cst.Assign) else None
        if not isinstance(bound, cst.Assign) or len(bound.targets) != 1:
            target = None
        if not isinstance(target, cst.Name):
            return call  # bound where its readers cannot be followed
        for found in findall(self.module, m.Name(target.value)):
            if found is target or not self._is_variable(found):
                continue
            if not self._passed_to_chain(found, chain):
                return found
        return None

    def _is_variable(self, node: cst.CSTNode) -> bool:
        """Whether a `Name` stands for a variable: not an attribute, keyword or import."""
        above = self.parent(node)
        if isinstance(above, cst.Attribute) and above.attr is node:
            return False
        if isinstance(above, cst.Arg) and above.keyword is node:
            return False
        while above is not None:
            if isinstance(above, cst.Import | cst.ImportFrom):
                return False
            above = self.parent(above)
        return True

    def _passed_to_chain(self, node: cst.CSTNode, chain: Chain | None) -> bool:
        above = self.parent(node)
        if not isinstance(above, cst.Arg) or above.value is not node or above.keyword is None:
            return False
        return above.keyword.value == "memory" and (
            chain is None or self.parent(above) is chain.call
        )

    def _check_wrapper(self, chain: Chain) -> None:
        prompt, key = chain.prompt, chain.history_key
        if prompt is None or chain.input_key is None:
            return  # a message-list wrapper, or a prompt out of reach
        written = _keyword_value(chain.call, "history_messages_key")
        if (key is not None and key in prompt.variables) or (written is not None and key is None):
            return  # matching, or not a literal
        inputs = frozenset({chain.input_key})
        target = history_variable(prompt, inputs)
        if target is None and not (prompt.required - inputs):
            return  # the prompt reads no history at all: nothing to name
        reads = quoted(prompt.variables - inputs) if target is None else repr(target)
        if key is None:
            message = _NO_WRAPPER_KEY.format(reads=reads)
        else:
            message = _WRAPPER_KEY.format(key=key, reads=reads)
        fixable = target is not None and editable(chain.call, "history_messages_key")
        if self.report(chain.call, message, fixed=fixable) and fixable and target is not None:
            self._set(chain.call, "history_messages_key", string_node(target, written))

    def _check_by_hand(self, call: cst.Call, reach: Reach) -> None:
        func = cst.ensure_type(call.func, cst.Attribute)
        chain = reach.chain(func.value)
        if chain is None or chain.kind != "RunnableWithMessageHistory" or not chain.history_key:
            return
        keys = call_keys(call)
        if keys is not None and chain.history_key in keys:
            name = cst.ensure_type(func.value, cst.Name).value
            self.report(call, _BY_HAND.format(key=chain.history_key, chain=name), fixed=False)

    def _set(self, call: cst.Call, keyword: str, value: cst.BaseExpression) -> None:
        self.plan(call, lambda n: set_keyword(cst.ensure_type(n, cst.Call), keyword, value))


def _memory_target(prompt: Prompt, chain: Chain | None) -> str | None:
    """The variable the memory should fill, when the chain and prompt make it clear."""
    if chain is not None and chain.kind == "ConversationalRetrievalChain":
        return "chat_history"
    if chain is not None and chain.kind == "ConversationChain":
        if chain.input_key is None:
            return None
        others = prompt.variables - {chain.input_key}
        return next(iter(others)) if len(others) == 1 else None
    return history_variable(prompt)


def _keyword_value(call: cst.Call, keyword: str) -> cst.BaseExpression | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == keyword:
            return arg.value
    return None
