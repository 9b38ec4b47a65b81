"""How memories, prompts, chains and calls are wired together in one module.

Names are followed only when they are bound exactly once in the whole module (and are
never a parameter), so a value "in reach" is never a guess between two candidates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import libcst as cst
import libcst.matchers as m

from memfix.codemods._shared.find import descendants, findall
from memfix.codemods._shared.langchain import imported_names
from memfix.codemods._shared.names import target_names
from memfix.codemods._shared.prompts import (
    DEFAULT_CONVERSATION_PROMPT,
    Prompt,
    argument,
    is_false,
    is_true,
    literal_string,
    prompt_of,
)
from memfix.rules.codemod import Codemod, Context
from memfix.vocabulary import MEMORY_CLASSES, langchain_class

# Memories that hand the conversation to the prompt under one `memory_key`.
KEYED_MEMORIES = MEMORY_CLASSES - {"CombinedMemory", "ConversationEntityMemory"}
# Methods that run a chain on a dict of inputs, or on keyword arguments.
DICT_METHODS = frozenset({"invoke", "ainvoke", "stream", "astream", "__call__", "acall"})
KEYWORD_METHODS = frozenset({"run", "arun", "predict", "apredict"})


class _Bindings(cst.CSTVisitor):
    """Every binding of every name, at any depth, with the value of simple assignments."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.values: dict[str, cst.BaseExpression] = {}

    def _bind(self, names: set[str], value: cst.BaseExpression | None = None) -> None:
        for name in names:
            self.counts[name] = self.counts.get(name, 0) + 1
            if value is not None:
                self.values[name] = value

    def visit_Assign(self, node: cst.Assign) -> None:
        value = node.value if len(node.targets) == 1 else None
        for target in node.targets:
            simple = isinstance(target.target, cst.Name)
            self._bind(target_names(target.target), value if simple else None)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._bind(target_names(node.target), node.value)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._bind(target_names(node.target), None)

    def visit_For(self, node: cst.For) -> None:
        self._bind(target_names(node.target))

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._bind(target_names(node.asname.name))

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._bind(target_names(node.target))

    def visit_Param(self, node: cst.Param) -> None:
        self._bind({node.name.value}, None)  # a parameter is never a known value

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._bind({node.name.value})

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._bind({node.name.value})

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._bind(target_names(node.target))


@dataclass(frozen=True, slots=True)
class Memory:
    """A memory construction and the keys it fills, when they are literals."""

    call: cst.Call
    kind: str
    key: str | None  # None: not a literal
    returns_messages: bool | None  # None: not a literal


@dataclass(frozen=True, slots=True)
class Chain:
    """A chain or history wrapper construction, with what it is made of."""

    call: cst.Call
    kind: str
    prompt: Prompt | None  # None: not resolvable here
    memory: Memory | None
    has_memory: bool  # a memory is passed, resolvable or not
    input_key: str | None  # ConversationChain input_key / wrapper input_messages_key
    history_key: str | None  # wrapper history_messages_key


class Reach:
    """What one module binds, and the chains and memories built in it."""

    def __init__(self, codemod: Codemod, module: cst.Module) -> None:
        self.codemod = codemod
        collector = _Bindings()
        for node in descendants(module):  # the walk the module's other searches share
            visit = getattr(collector, f"visit_{type(node).__name__}", None)
            if visit is not None:
                visit(node)
        self.values = {
            name: value for name, value in collector.values.items() if collector.counts[name] == 1
        }

    def resolve(self, node: cst.BaseExpression, depth: int = 0) -> cst.BaseExpression:
        """The value a name is bound to, followed through names; else the node itself."""
        if isinstance(node, cst.Name) and depth < 8 and node.value in self.values:
            return self.resolve(self.values[node.value], depth + 1)
        return node

    def class_of(self, node: cst.BaseExpression) -> str | None:
        for name in imported_names(self.codemod, node):
            found = langchain_class(name)
            if found is not None:
                return found
        return None

    def prompt(self, node: cst.BaseExpression) -> Prompt | None:
        return prompt_of(node, self.class_of, self.resolve)

    def string(self, node: cst.BaseExpression) -> str | None:
        return literal_string(node, self.resolve)

    def memory(self, node: cst.BaseExpression) -> Memory | None:
        call = self.resolve(node)
        if not isinstance(call, cst.Call) or any(arg.star for arg in call.args):
            return None
        kind = self.class_of(call.func)
        if kind not in KEYED_MEMORIES:
            return None
        key_arg = argument(call, "memory_key")
        key = "history" if key_arg is None else self.string(key_arg.value)
        flag = argument(call, "return_messages")
        returns: bool | None = False
        if flag is not None:
            returns = True if is_true(flag.value) else False if is_false(flag.value) else None
        return Memory(call, kind, key, returns)

    def chain(self, node: cst.BaseExpression) -> Chain | None:
        """The chain a name or call builds: ConversationChain, LLMChain, the wrapper."""
        call = self.resolve(node)
        if not isinstance(call, cst.Call) or any(arg.star for arg in call.args):
            return None
        func = call.func
        kind = self.class_of(func)
        if isinstance(func, cst.Attribute) and func.attr.value == "from_llm":
            owner = self.class_of(func.value)
            kind = owner if owner == "ConversationalRetrievalChain" else None
        memory_arg = argument(call, "memory")
        memory = None if memory_arg is None else self.memory(memory_arg.value)
        if kind in {"ConversationChain", "LLMChain"}:
            prompt_arg = argument(call, "prompt")
            if prompt_arg is None:
                prompt = DEFAULT_CONVERSATION_PROMPT if kind == "ConversationChain" else None
            else:
                prompt = self.prompt(prompt_arg.value)
            key_arg = argument(call, "input_key")
            key = "input" if key_arg is None else self.string(key_arg.value)
            if kind == "LLMChain":
                key = None
            return Chain(call, kind, prompt, memory, memory_arg is not None, key, None)
        if kind == "ConversationalRetrievalChain":
            prompt = Prompt(text=frozenset({"question", "chat_history"}))
            return Chain(call, kind, prompt, memory, memory_arg is not None, "question", None)
        if kind == "RunnableWithMessageHistory":
            runnable = argument(call, "runnable", 0)
            prompt = None if runnable is None else self.prompt(runnable.value)
            keys = [argument(call, k) for k in ("input_messages_key", "history_messages_key")]
            found = [None if a is None else self.string(a.value) for a in keys]
            return Chain(call, kind, prompt, None, False, found[0], found[1])
        return None

    def inputs(self, chain: Chain) -> frozenset[str] | None:
        """The keys a call of the chain must pass, when they are known."""
        if chain.prompt is None:
            return None
        if chain.kind == "RunnableWithMessageHistory":
            if chain.history_key is None:
                return None
            return chain.prompt.required - {chain.history_key}
        if chain.kind == "ConversationChain" or chain.kind == "ConversationalRetrievalChain":
            if chain.input_key is None:
                return None
            if chain.has_memory or chain.kind == "ConversationChain":
                return frozenset({chain.input_key})
            return chain.prompt.required
        if chain.has_memory and (chain.memory is None or chain.memory.key is None):
            return None
        memory_keys = {chain.memory.key} if chain.memory and chain.memory.key else set()
        return chain.prompt.required - memory_keys

    def chains(self, module: cst.Module) -> Iterator[Chain]:
        for node in findall(module, m.Call()):
            found = self.chain(cst.ensure_type(node, cst.Call))
            if found is not None:
                yield found


def call_keys(call: cst.Call) -> dict[str, cst.SimpleString | cst.Name] | None:
    """The literal keys a chain call passes, each with the node that spells it.

    `chain.invoke({"input": q})` and `chain({"input": q})` give the dict's string keys;
    `chain.run(input=q)` gives keyword names. None when the keys are not all literal.
    """
    func = call.func
    method = func.attr.value if isinstance(func, cst.Attribute) else "__call__"
    if method in KEYWORD_METHODS:
        if any(arg.keyword is None for arg in call.args):
            return None
        return {a.keyword.value: a.keyword for a in call.args if a.keyword is not None}
    if method not in DICT_METHODS:
        return None
    first = argument(call, "input", 0)
    if first is None or not isinstance(first.value, cst.Dict):
        return None
    keys: dict[str, cst.SimpleString | cst.Name] = {}
    for element in first.value.elements:
        if not isinstance(element, cst.DictElement) or not isinstance(
            element.key, cst.SimpleString
        ):
            return None
        value = element.key.evaluated_value
        if not isinstance(value, str):
            return None
        keys[value] = element.key
    return keys


def respelled(node: cst.CSTNode, text: str) -> cst.CSTNode:
    """The key `node` spells (a string or a keyword name), renamed to `text` in its quotes."""
    if isinstance(node, cst.Name):
        return node.with_changes(value=text)
    if isinstance(node, cst.SimpleString):
        return node.with_changes(value=f"{node.prefix}{node.quote}{text}{node.quote}")
    return node


def set_keyword(call: cst.Call, keyword: str, value: cst.BaseExpression) -> cst.Call:
    """`call` with `keyword=value`, replacing the old value or added as the last argument."""
    args = list(call.args)
    for index, arg in enumerate(args):
        if arg.keyword is not None and arg.keyword.value == keyword:
            args[index] = arg.with_changes(value=value)
            return call.with_changes(args=args)
    new = cst.Arg(
        value=value,
        keyword=cst.Name(keyword),
        equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")),
    )
    if args:
        last = args[-1]
        # Between the last two arguments is where a new line and its indent live.
        before = args[-2].comma if len(args) > 1 else cst.MaybeSentinel.DEFAULT
        separator = (
            before
            if isinstance(before, cst.Comma)
            else cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
        )
        new = new.with_changes(comma=last.comma, whitespace_after_arg=last.whitespace_after_arg)
        args[-1] = last.with_changes(comma=separator, whitespace_after_arg=cst.SimpleWhitespace(""))
    args.append(new)
    return call.with_changes(args=args)


def editable(call: cst.Call, keyword: str) -> bool:
    """Whether `keyword=` is absent or a string literal: a value memfix may write."""
    arg = argument(call, keyword)
    return arg is None or isinstance(arg.value, cst.SimpleString)


def string_node(text: str, like: cst.BaseExpression | None = None) -> cst.SimpleString:
    """A string literal for `text`, in the quotes of `like` when it is a string."""
    quote = like.quote if isinstance(like, cst.SimpleString) else '"'
    return cst.SimpleString(f"{quote}{text}{quote}")


Edit = Callable[[cst.CSTNode], cst.CSTNode | cst.RemovalSentinel | cst.FlattenSentinel[cst.CSTNode]]


class PlannedEdits(Codemod):
    """A codemod that decides everything on the original tree, then rewrites planned nodes.

    Gather, then transform: `plan()` files edits against original nodes while visiting;
    `on_leave` applies them, in the order planned, to what the transform made of each.
    """

    def __init__(self, context: Context) -> None:
        super().__init__(context)
        self.edits: dict[cst.CSTNode, list[Edit]] = {}

    def on_leave(  # type: ignore[override]
        self, original_node: cst.CSTNode, updated_node: cst.CSTNode
    ) -> cst.CSTNode | cst.RemovalSentinel | cst.FlattenSentinel[cst.CSTNode]:
        result: cst.CSTNode | cst.RemovalSentinel | cst.FlattenSentinel[cst.CSTNode]
        result = super().on_leave(original_node, updated_node)
        for edit in self.edits.get(original_node, ()):
            if not isinstance(result, cst.CSTNode):
                break  # removed or replaced by several: later edits have nothing to edit
            result = edit(result)
        return result

    def plan(self, node: cst.CSTNode, edit: Edit) -> None:
        """Apply `edit` to `node` when the transform leaves it (after earlier plans)."""
        self.edits.setdefault(node, []).append(edit)


def quoted(keys: Iterable[str]) -> str:
    return ", ".join(repr(key) for key in sorted(keys))
