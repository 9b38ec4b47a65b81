"""The codemod of `input-key-mismatch`; its documentation is the package's docstring."""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

from memfix.codemods._shared.find import findall
from memfix.codemods._shared.prompts import argument
from memfix.codemods._shared.wiring import (
    Chain,
    PlannedEdits,
    Reach,
    call_keys,
    editable,
    quoted,
    respelled,
    set_keyword,
    string_node,
)
from memfix.codemods.input_key_mismatch import RULE as INPUT_KEY_MISMATCH
from memfix.rules.codemod import Invalid, Valid

_EXTRA = "key {key!r} is never read by {chain}, which expects {expected}"
_POSITIONAL = "positional call of {chain}, which expects the keys {expected}"
_MISSING = "{chain} is called without {missing}, which its prompt reads"
_CHAIN_KEY = "{option} {key!r} is not a variable of the prompt, which reads {expected}"

_LEGACY = (
    "from langchain_openai import ChatOpenAI\n"
    "from langchain.memory import ConversationBufferMemory\n"
    "from langchain.chains import ConversationChain\n"
    "chain = ConversationChain(llm=ChatOpenAI(), memory=ConversationBufferMemory())\n"
)
_WRAPPED = (
    "from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder\n"
    "from langchain_core.runnables.history import RunnableWithMessageHistory\n"
    "prompt = ChatPromptTemplate.from_messages(\n"
    '    [MessagesPlaceholder("history"), ("human", "{{input}}")]\n'
    ")\n"
    "chat = RunnableWithMessageHistory(\n"
    "    prompt | llm, get_history, input_messages_key={key}, "
    'history_messages_key="history"\n'
    ")\n"
    "chat.invoke({{{key}: q}}, config=config)\n"
)


class InputKeyMismatch(PlannedEdits):
    RULE = INPUT_KEY_MISMATCH
    MESSAGE = "key {key!r} is not an input of {chain}, which expects {expected}"

    VALID = [
        Valid(_LEGACY + 'chain.invoke({"input": "Hello"})\n'),
        # The prompt reads {question}: `question` is right for this LLMChain.
        Valid(
            "from langchain.chains import LLMChain\n"
            "from langchain.memory import ConversationBufferMemory\n"
            "from langchain_core.prompts import PromptTemplate\n"
            'prompt = PromptTemplate.from_template("{history}\\nQ: {question}")\n'
            "chain = LLMChain(llm=llm, prompt=prompt, memory=ConversationBufferMemory())\n"
            'chain.run(question="Hello")\n'
        ),
        Valid(_WRAPPED.format(key='"input"')),
    ]
    INVALID = [
        Invalid(
            _LEGACY + 'chain.invoke({"question": "Hello"})\n',
            expected=_LEGACY + 'chain.invoke({"input": "Hello"})\n',
        ),
        Invalid(
            _WRAPPED.format(key='"question"'),
            expected=_WRAPPED.format(key='"input"'),
        ),
        # A key the prompt never reads: reported, never deleted.
        Invalid(_LEGACY + 'chain.run(input="Hi", context=docs)\n', expected=None),
    ]

    def visit_Module(self, node: cst.Module) -> bool:
        reach = Reach(self, node)
        for chain in reach.chains(node):
            self._check_chain_key(chain, reach)
        for found in findall(node, m.Call()):
            call = cst.ensure_type(found, cst.Call)
            receiver = call.func.value if isinstance(call.func, cst.Attribute) else call.func
            if isinstance(receiver, cst.Name):
                built = reach.chain(receiver)
                if built is not None:
                    self._check_call(call, receiver.value, built, reach)
        # Decided here, on the original nodes; with nothing planned, no need to walk the tree.
        return bool(self.edits)

    def _check_chain_key(self, chain: Chain, reach: Reach) -> None:
        """`input_messages_key` / `input_key` must be a variable of the prompt."""
        correct = self._chain_key(chain, reach)
        if correct is None or correct == chain.input_key:
            return
        option = "input_key" if chain.kind == "ConversationChain" else "input_messages_key"
        message = _CHAIN_KEY.format(option=option, key=chain.input_key, expected=repr(correct))
        fixable = editable(chain.call, option)
        if self.report(chain.call, message, fixed=fixable) and fixable:
            old = argument(chain.call, option)
            new = string_node(correct, None if old is None else old.value)
            self.plan(chain.call, lambda n: set_keyword(cst.ensure_type(n, cst.Call), option, new))

    def _chain_key(self, chain: Chain, reach: Reach) -> str | None:
        """The input key the chain should have, when its own is wrong and the fix is clear."""
        prompt = chain.prompt
        if prompt is None or chain.input_key is None or chain.input_key in prompt.variables:
            return chain.input_key
        if chain.kind == "ConversationChain":
            memory_key = "history" if not chain.has_memory else None
            if chain.memory is not None:
                memory_key = chain.memory.key
            if memory_key is None or memory_key not in prompt.variables:
                return None
            others = prompt.variables - {memory_key}
        elif chain.kind == "RunnableWithMessageHistory":
            if chain.history_key is None or chain.history_key not in prompt.variables:
                return None
            others = prompt.text - {chain.history_key}
        else:
            return None
        return next(iter(others)) if len(others) == 1 else None

    def _check_call(self, call: cst.Call, name: str, chain: Chain, reach: Reach) -> None:
        expected = reach.inputs(chain)
        if chain.kind in {"ConversationChain", "RunnableWithMessageHistory"}:
            key = self._chain_key(chain, reach)
            if key is None:
                return
            if expected is not None and chain.input_key is not None:
                expected = (expected - {chain.input_key}) | {key}
        if not expected:
            return
        shown = f"{name!r}"
        keys = call_keys(call)
        if keys is None:
            positional = [a for a in call.args if a.keyword is None]
            is_run = isinstance(call.func, cst.Attribute) and call.func.attr.value in {
                "run",
                "arun",
            }
            plain = isinstance(call.func, cst.Name) or is_run
            if (
                plain
                and positional
                and len(expected) > 1
                and chain.kind != "RunnableWithMessageHistory"
            ):
                message = _POSITIONAL.format(chain=shown, expected=quoted(expected))
                self.report(call, message, fixed=False)
            return
        ignored = {"stop"} | ({chain.history_key} if chain.history_key else set())
        missing = expected - keys.keys()
        extra = keys.keys() - expected - ignored
        if len(missing) == 1 and len(extra) == 1:
            wrong, right = next(iter(extra)), next(iter(missing))
            message = self.MESSAGE.format(key=wrong, chain=shown, expected=repr(right))
            if self.report(call, message, fixed=True):
                spelled = keys[wrong]
                self.plan(spelled, lambda n: respelled(n, right))
            return
        if missing and not extra:
            message = _MISSING.format(chain=shown, missing=quoted(missing))
            self.report(call, message, fixed=False)
        for wrong in sorted(extra):
            template = self.MESSAGE if missing else _EXTRA
            message = template.format(key=wrong, chain=shown, expected=quoted(expected))
            self.report(call, message, fixed=False)
