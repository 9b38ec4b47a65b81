"""The code a legacy chain migrates to: chat prompts, the history wrapper, runs, imports.

Everything here is text in, text (or a tree) out: the codemod decides what to migrate,
these functions spell the result the way a person would write it on current LangChain.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import libcst as cst
import libcst.matchers as m
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor, ImportItem

from memfix.codemods._shared.edits import (
    is_docstring,
    is_import,
    leading_lines,
    two_blank_lines_before,
)
from memfix.codemods._shared.find import findall
from memfix.codemods._shared.prompts import template_variables

FACTORY = "get_session_history"
STORE = "store"
PROMPT_CONSTANT = "CONVERSATION_PROMPT"
SESSION_CONSTANT = "SESSION_ID"
SESSION_ENV = "CHAT_SESSION_ID"

# The prompt ConversationChain uses when it is given none (langchain_classic's own text).
DEFAULT_TEMPLATE = (
    "The following is a friendly conversation between a human and an AI. The AI is "
    "talkative and provides lots of specific details from its context. If the AI does not "
    "know the answer to a question, it truthfully says it does not know.\n\n"
    "Current conversation:\n{history}\nHuman: {input}\nAI:"
)

FACTORY_SOURCE = (
    f"{STORE} = {{}}\n\n\n"
    f"def {FACTORY}(session_id: str) -> BaseChatMessageHistory:\n"
    f"    if session_id not in {STORE}:\n"
    f"        {STORE}[session_id] = InMemoryChatMessageHistory()\n"
    f"    return {STORE}[session_id]\n"
)
GRAPH = "conversation_graph"
CHECKPOINTER = "checkpointer"
GRAPH_SOURCE = (
    f"{CHECKPOINTER} = InMemorySaver()\n\n\n"
    f"def {GRAPH}(model: Runnable, history_key: str, input_key: str):\n"
    '    """A graph that answers with `model`; the checkpointer keeps each thread\'s turns."""\n\n'
    "    def respond(state: MessagesState) -> dict:\n"
    '        *history, question = state["messages"]\n'
    "        answer = model.invoke({history_key: history, input_key: question.content})\n"
    '        return {"messages": [AIMessage(content=answer)]}\n\n'
    "    graph = StateGraph(MessagesState)\n"
    '    graph.add_node("respond", respond)\n'
    '    graph.add_edge(START, "respond")\n'
    f"    return graph.compile(checkpointer={CHECKPOINTER})\n"
)
GRAPH_IMPORTS = (
    ("langchain_core.messages", "AIMessage"),
    ("langchain_core.messages", "HumanMessage"),
    ("langchain_core.runnables", "Runnable"),
    ("langgraph.checkpoint.memory", "InMemorySaver"),
    ("langgraph.graph", "START"),
    ("langgraph.graph", "MessagesState"),
    ("langgraph.graph", "StateGraph"),
)
# `--target agent`: a LangChain 1.x agent; the checkpointer keeps each thread's messages.
AGENT_CHECKPOINTER_SOURCE = f"{CHECKPOINTER} = InMemorySaver()\n"
WINDOW = "keep_last_messages"
WINDOW_SOURCE = (
    f"def {WINDOW}(count: int) -> AgentMiddleware:\n"
    '    """What a window memory showed the model: only the last `count` messages."""\n\n'
    "    @before_model\n"
    "    def trim(state: AgentState, runtime: Runtime) -> dict | None:\n"
    '        messages = state["messages"]\n'
    "        if len(messages) <= count:\n"
    "            return None\n"
    '        return {"messages": [RemoveMessage(id=REMOVE_ALL_MESSAGES), *messages[-count:]]}\n\n'
    "    return trim\n"
)
AGENT_IMPORTS = (
    ("langchain.agents", "create_agent"),
    ("langgraph.checkpoint.memory", "InMemorySaver"),
)
WINDOW_IMPORTS = (
    ("langchain.agents.middleware", "AgentMiddleware"),
    ("langchain.agents.middleware", "AgentState"),
    ("langchain.agents.middleware", "before_model"),
    ("langchain_core.messages", "RemoveMessage"),
    ("langgraph.graph.message", "REMOVE_ALL_MESSAGES"),
    ("langgraph.runtime", "Runtime"),
)
SUMMARY_IMPORTS = (("langchain.agents.middleware", "SummarizationMiddleware"),)
# ConversationSummaryBufferMemory's own default for max_token_limit.
SUMMARY_TOKENS = 2000
SESSION_SOURCE = (
    "# One conversation per process, as the memory kept; set $CHAT_SESSION_ID to pick one.\n"
    f'{SESSION_CONSTANT} = os.environ.get("{SESSION_ENV}", "default")\n'
)

# A name imported from a removed `langchain.*` path, and where current LangChain keeps it.
_HOMES = {
    **dict.fromkeys(
        ("ChatOpenAI", "OpenAI", "AzureChatOpenAI", "AzureOpenAI", "OpenAIEmbeddings"),
        "langchain_openai",
    ),
    **dict.fromkeys(
        (
            "PromptTemplate",
            "ChatPromptTemplate",
            "MessagesPlaceholder",
            "HumanMessagePromptTemplate",
            "SystemMessagePromptTemplate",
            "AIMessagePromptTemplate",
            "FewShotPromptTemplate",
        ),
        "langchain_core.prompts",
    ),
    **dict.fromkeys(
        ("HumanMessage", "AIMessage", "SystemMessage", "BaseMessage", "ChatMessage"),
        "langchain_core.messages",
    ),
    **dict.fromkeys(("StrOutputParser",), "langchain_core.output_parsers"),
    **dict.fromkeys(("Document",), "langchain_core.documents"),
    **dict.fromkeys(("BaseChatMessageHistory",), "langchain_core.chat_history"),
    **dict.fromkeys(("ChatMessageHistory",), "langchain_community.chat_message_histories"),
    **dict.fromkeys(("ChatAnthropic",), "langchain_anthropic"),
}
# Removed module paths that langchain_classic keeps under the same name.
_CLASSIC = frozenset(
    {
        "memory",
        "chains",
        "schema",
        "prompts",
        "llms",
        "chat_models",
        "output_parsers",
        "callbacks",
        "document_loaders",
        "text_splitter",
        "vectorstores",
        "retrievers",
        "utilities",
        "cache",
        "globals",
        "docstore",
        "indexes",
        "evaluation",
    }
)
# Names `langchain` 1.x itself still has: their imports stay as they are.
_CURRENT = frozenset({"init_chat_model", "init_embeddings", "create_agent"})
_LABEL = re.compile(r"^[A-Za-z][\w ]{0,30}:\s*$")
_INPUT_LINE = re.compile(r"^[A-Za-z][\w ]{0,30}:\s*(\{\w+\})\s*$")


def string_literal(text: str) -> str:
    """A double-quoted Python literal for `text` (newlines escaped)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def split_template(template: str, history: str, user: str) -> tuple[str, str] | None:
    """(system text, human text) of a string template with `{history}` and `{input}`.

    The history variable becomes a message placeholder; labels such as `Human:` before
    the input and a final `AI:` line go, since the messages carry their roles. None when
    the template reads anything else, or the input comes before the history.
    """
    if template_variables(template) != frozenset({history, user}):
        return None
    before, marker, after = template.partition("{" + history + "}")
    if not marker or "{" + history + "}" in after or "{" + user + "}" not in after:
        return None
    system_lines = before.strip().splitlines()
    if len(system_lines) > 1 and _LABEL.match(system_lines[-1]):
        system_lines = system_lines[:-1]  # "Current conversation:" heads the history
    human_lines = after.strip().splitlines()
    if len(human_lines) > 1 and _LABEL.match(human_lines[-1]):
        human_lines = human_lines[:-1]  # "AI:" invites the model's turn
    human_lines = [_unlabelled(line) for line in human_lines]
    return "\n".join(system_lines).strip(), "\n".join(human_lines).strip()


def _unlabelled(line: str) -> str:
    found = _INPUT_LINE.match(line)
    return found.group(1) if found else line


def chat_prompt(system: str, human: str, history: str, window: int | None, indent: str = "") -> str:
    """`ChatPromptTemplate.from_messages([...])` with the history as a placeholder.

    libcst indents the lines to the block the expression lands in; `indent` is only for
    a prompt nested in another call.
    """
    limit = "" if window is None else f", n_messages={window}"
    inner = indent + " " * 8
    lines = [
        "ChatPromptTemplate.from_messages(",
        f"{indent}    [",
        *(_message("system", system, inner) if system else []),
        f"{inner}MessagesPlaceholder({string_literal(history)}{limit}),",
        *_message("human", human, inner),
        f"{indent}    ]",
        f"{indent})",
    ]
    return "\n".join(lines)


def _message(role: str, text: str, indent: str, width: int = 100) -> list[str]:
    """A `(role, text)` entry, its text split over lines when it is too long for one."""
    line = f"{indent}({string_literal(role)}, {string_literal(text)}),"
    if len(line) <= width:
        return [line]
    room = width - len(indent) - 4 - 3
    pieces: list[str] = []
    for word in re.findall(r"[^ \n]*(?: +|\n|$)", text):
        if (
            pieces
            and len(string_literal(pieces[-1] + word)) <= room
            and not pieces[-1].endswith("\n")
        ):
            pieces[-1] += word
        elif word:
            pieces.append(word)
    body = [f"{indent}    {string_literal(piece)}" for piece in pieces]
    body[-1] += ","
    return [f"{indent}(", f"{indent}    {string_literal(role)},", *body, f"{indent}),"]


def wrapper(runnable: str, factory: str, user: str, history: str) -> str:
    """`RunnableWithMessageHistory(...)` around `runnable`, one argument a line."""
    arguments = (
        runnable,
        factory,
        f"input_messages_key={string_literal(user)}",
        f"history_messages_key={string_literal(history)}",
    )
    body = "".join(f"    {argument},\n" for argument in arguments)
    return f"RunnableWithMessageHistory(\n{body})"


def graph(runnable: str, user: str, history: str) -> str:
    """The graph that replaces a chain: `runnable` answers, the checkpointer remembers."""
    arguments = (
        runnable,
        f"history_key={string_literal(history)}",
        f"input_key={string_literal(user)}",
    )
    body = "".join(f"    {argument},\n" for argument in arguments)
    return f"{GRAPH}(\n{body})"


def agent(model: str, system: str | None, middleware: Sequence[str]) -> str:
    """`create_agent(...)` answering with `model`, one argument a line."""
    arguments = [model, "tools=[]"]
    if system:
        arguments.append(f"system_prompt={wrapped_literal(system, '    ')}")
    if middleware:
        arguments.append(f"middleware=[{', '.join(middleware)}]")
    arguments.append(f"checkpointer={CHECKPOINTER}")
    body = "".join(f"    {argument},\n" for argument in arguments)
    return f"create_agent(\n{body})"


def summary_middleware(model: str, tokens: int) -> str:
    """The middleware that summarises the older messages once they pass `tokens`."""
    return f'SummarizationMiddleware(model={model}, trigger=("tokens", {tokens}))'


def wrapped_literal(text: str, indent: str, width: int = 100) -> str:
    """A string literal for `text`, split over parenthesised lines if too long for one."""
    literal = string_literal(text)
    if len(indent) + len("system_prompt=") + len(literal) + 1 <= width:
        return literal
    lines = _message("", text, indent, width)[2:-1]  # the pieces, without role and brackets
    return "(\n" + "\n".join(lines).rstrip(",") + f"\n{indent})"


def run_config(key: str, callbacks: str | None, name: str = "session_id") -> str:
    """The `config=` of one run: its session, and the callbacks the old call passed."""
    extra = "" if callbacks is None else f'"callbacks": {callbacks}, '
    return f'{{{extra}"configurable": {{"{name}": {key}}}}}'


def modern_import(statement: cst.ImportFrom) -> list[cst.ImportFrom] | None:
    """`from langchain.x import A, B` as imports from current homes; None if not legacy."""
    if statement.relative or statement.module is None:
        return None
    if isinstance(statement.names, cst.ImportStar):
        return None
    module = cst.Module([]).code_for_node(statement.module)
    if module != "langchain" and not module.startswith("langchain."):
        return None
    groups: dict[str, list[cst.ImportAlias]] = {}
    for alias in statement.names:
        name = cst.Module([]).code_for_node(alias.name)
        home = _home(module, name)
        if home is None:
            return None
        groups.setdefault(home, []).append(alias.with_changes(comma=cst.MaybeSentinel.DEFAULT))
    return [_import_from(home, aliases) for home, aliases in groups.items()]


def _home(module: str, name: str) -> str | None:
    if name in _CURRENT:
        return module
    if name in _HOMES:
        return _HOMES[name]
    first = module.split(".")[1] if "." in module else None
    if first in _CLASSIC:
        return "langchain_classic" + module.removeprefix("langchain")
    if module == "langchain" and name in {"LLMChain", "ConversationChain"}:
        return "langchain_classic.chains"
    return None


def _import_from(module: str, aliases: Sequence[cst.ImportAlias]) -> cst.ImportFrom:
    spaced = [
        alias.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        for alias in aliases[:-1]
    ]
    dotted = cst.parse_expression(module)
    assert isinstance(dotted, cst.Name | cst.Attribute)
    return cst.ImportFrom(module=dotted, names=[*spaced, aliases[-1]])


# Legacy run methods: whether each is a coroutine, and whether it gives back text.
_RUNS = {
    "predict": (False, True),
    "run": (False, True),
    "apredict": (True, True),
    "arun": (True, True),
    "invoke": (False, False),
    "ainvoke": (True, False),
    "__call__": (False, False),
    "acall": (True, False),
}
_RUN_OPTIONS = frozenset(
    {"stop", "tags", "metadata", "run_name", "return_only_outputs", "include_run_info", "config"}
)
_INPUT_KEYWORD = {"invoke": "input", "ainvoke": "input", "__call__": "inputs", "acall": "inputs"}
_TEXT = (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)
Parent = Callable[[cst.CSTNode], cst.CSTNode | None]


@dataclass(frozen=True, slots=True)
class Use:
    """One run of a legacy chain, and how it reads on the migrated one."""

    outer: cst.BaseExpression  # the expression to replace (the call, its await, its read)
    inputs: str  # the input dict, as code
    value: str  # the input text, as code
    callbacks: str | None
    asynchronous: bool
    changes_type: bool  # the caller received the result dict; now it receives the text
    parenthesize: bool

    def text(
        self,
        chain: str,
        key: str,
        column: int,
        *,
        graph: bool,
        agent: bool = False,
        width: int = 100,
    ) -> str:
        """The new call, on one line when it fits after `column`, else one argument a line.

        A graph (or an agent, which is one) takes the text as a new message and answers
        with its last message.
        """
        method = "ainvoke" if self.asynchronous else "invoke"
        opening = f"{'await ' if self.asynchronous else ''}{chain}.{method}("
        inputs = f'{{"messages": [HumanMessage({self.value})]}}' if graph else self.inputs
        if agent:
            inputs = f'{{"messages": [{{"role": "user", "content": {self.value}}}]}}'
        config = run_config(key, self.callbacks, "thread_id" if graph else "session_id")
        arguments = [inputs, f"config={config}"]
        read = '["messages"][-1].content' if graph else ""
        call = f"{opening}{', '.join(arguments)})"
        if column + len(call) + len(read) + 2 > width:
            together = f"    {', '.join(arguments)}"
            if column + len(together) > width:
                call = f"{opening}\n" + "".join(f"    {a},\n" for a in arguments) + ")"
            else:
                call = f"{opening}\n{together}\n)"
        if self.asynchronous and (self.parenthesize or graph):
            call = f"({call})"
        return call + read


@dataclass(frozen=True, slots=True)
class Unmigrated:
    """Why a run of a chain cannot be migrated; deferred: a key codemod fixes it first."""

    reason: str
    deferred: bool = False


def references(module: cst.Module) -> dict[str, list[cst.Name]]:
    """Every read or binding of each name, as its `Name` node (attributes and keywords not)."""
    finder = _References()
    module.visit(finder)
    return finder.found


class _References(cst.CSTVisitor):
    def __init__(self) -> None:
        self.found: dict[str, list[cst.Name]] = {}

    def visit_Name(self, node: cst.Name) -> None:
        self.found.setdefault(node.value, []).append(node)

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        node.value.visit(self)
        return False

    def visit_Arg(self, node: cst.Arg) -> bool:
        node.value.visit(self)
        return False

    def visit_Param(self, node: cst.Param) -> bool:
        return False

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        node.params.visit(self)

    def visit_ImportAlias(self, node: cst.ImportAlias) -> bool:
        return False


def classify_use(
    reference: cst.Name,
    parent: Parent,
    *,
    user: str,
    output: str,
    function: cst.FunctionDef | None,
    module: cst.Module,
) -> Use | Unmigrated:
    """How one reference to a chain runs it, or why it cannot be migrated."""
    name = reference.value
    above = parent(reference)
    if isinstance(above, cst.Attribute) and above.value is reference:
        method = above.attr.value
        call = parent(above)
        if not isinstance(call, cst.Call) or call.func is not above or method not in _RUNS:
            return Unmigrated(f"{name}.{method} is used, which the migrated chain does not have")
    elif isinstance(above, cst.Call) and above.func is reference:
        method, call = "__call__", above
    else:
        return Unmigrated(f"{name!r} is passed on or stored where its calls cannot be followed")
    asynchronous, gives_text = _RUNS[method]
    found = _inputs(call, method, user, function or module)
    if isinstance(found, Unmigrated):
        return found
    inputs, value, callbacks = found
    outer: cst.BaseExpression = call
    if asynchronous:
        awaited = parent(call)
        if not isinstance(awaited, cst.Await):
            return Unmigrated(f"{name}.{method}() is not awaited where it is called")
        outer = awaited
    changes_type = False
    if not gives_text:
        read = parent(outer)
        if isinstance(read, cst.Subscript) and read.value is outer:
            key = index_key(read)
            if key != output:
                return Unmigrated(f"its result is read as [{key!r}], not [{output!r}]")
            outer = read
        else:
            changes_type = True
    after = parent(outer)
    parenthesize = (isinstance(after, cst.Attribute | cst.Subscript) and after.value is outer) or (
        isinstance(after, cst.Call) and after.func is outer
    )
    return Use(outer, inputs, value, callbacks, asynchronous, changes_type, parenthesize)


def _inputs(
    call: cst.Call, method: str, user: str, scope: cst.FunctionDef | cst.Module
) -> tuple[str, str, str | None] | Unmigrated:
    """The input dict and text of the new call (as code), and the old call's callbacks."""
    callbacks: str | None = None
    positional: list[cst.BaseExpression] = []
    named: cst.BaseExpression | None = None
    for arg in call.args:
        keyword = arg.keyword.value if arg.keyword else None
        if arg.star:
            return Unmigrated("it is called with unpacked arguments")
        if keyword is None or keyword == _INPUT_KEYWORD.get(method):
            positional.append(arg.value)
        elif keyword == "callbacks":
            callbacks = _code(arg.value)
        elif keyword == user and method in {"predict", "apredict", "run", "arun"}:
            named = arg.value
        elif keyword in _RUN_OPTIONS:
            return Unmigrated(f"its call passes {keyword}=: bind it to the model by hand")
        else:
            return Unmigrated(f"its call passes {keyword}=, not the input {user!r}", deferred=True)
    if named is not None and not positional:
        return f'{{"{user}": {_code(named)}}}', _code(named), callbacks
    if method in {"predict", "apredict"} or len(positional) != 1 or named is not None:
        return Unmigrated(f"its call does not pass one input {user!r}")
    value = positional[0]
    if isinstance(value, cst.Dict):
        return _dict_input(value, method, user, callbacks)
    if not _is_text(value, scope):
        return Unmigrated(
            f"memfix cannot tell whether {_code(value)} is the input text or a dict of inputs"
        )
    return f'{{"{user}": {_code(value)}}}', _code(value), callbacks


def _dict_input(
    value: cst.Dict, method: str, user: str, callbacks: str | None
) -> tuple[str, str, str | None] | Unmigrated:
    """A call given a dict of inputs: it must hold the one input, `user`."""
    keys = [_key(element) for element in value.elements]
    only = value.elements[0] if len(value.elements) == 1 else None
    if method in {"run", "arun"} and isinstance(only, cst.DictElement) and keys != [user]:
        # The legacy chain rejected this key (no key codemod sees `run({...})`): the one
        # value of a single-input chain is its input.
        return f'{{"{user}": {_code(only.value)}}}', _code(only.value), callbacks
    if keys != [user]:
        return Unmigrated(f"its call passes {keys}, not the input {user!r}", deferred=True)
    assert isinstance(only, cst.DictElement)
    return _code(value), _code(only.value), callbacks


def _is_text(value: cst.BaseExpression, scope: cst.FunctionDef | cst.Module) -> bool:
    """A literal, a `str` parameter, or a name bound to what `input()` read."""
    if isinstance(value, _TEXT):
        return True
    if not isinstance(value, cst.Name):
        return False
    if isinstance(scope, cst.FunctionDef):
        params = scope.params
        for param in (*params.posonly_params, *params.params, *params.kwonly_params):
            if param.name.value == value.value:
                annotation = param.annotation
                return annotation is not None and m.matches(annotation.annotation, m.Name("str"))
    assigned = m.Assign(
        targets=[m.AssignTarget(m.Name(value.value))], value=m.Call(m.Name("input"))
    )
    return bool(findall(scope, assigned))


def _key(element: cst.BaseDictElement) -> str | None:
    if isinstance(element, cst.DictElement) and isinstance(element.key, cst.SimpleString):
        value = element.key.evaluated_value
        return value if isinstance(value, str) else None
    return None


def index_key(read: cst.Subscript) -> str | None:
    if len(read.slice) != 1 or not isinstance(read.slice[0].slice, cst.Index):
        return None
    value = read.slice[0].slice.value
    if isinstance(value, cst.SimpleString) and isinstance(value.evaluated_value, str):
        return value.evaluated_value
    return None


def _code(node: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(node)


def inserted(module: cst.Module, sources: Sequence[str]) -> cst.Module:
    """`module` with these statements after its docstring and leading imports."""
    if not sources:
        return module
    body: list[cst.BaseStatement] = list(module.body)
    at = 0
    while at < len(body) and (is_docstring(body[at]) or is_import(body[at])):
        at += 1
    parsed = cst.parse_module("".join(sources))
    added: list[cst.BaseStatement] = list(parsed.body)
    # The parser keeps the comments above the first statement in the module's header.
    above = [*parsed.header, *leading_lines(added[0])]
    added[0] = added[0].with_changes(leading_lines=[cst.EmptyLine(), *above])
    added = [two_blank_lines_before(s) if isinstance(s, cst.FunctionDef) else s for s in added]
    following = body[at:]
    if following and isinstance(added[-1], cst.FunctionDef):
        following[0] = two_blank_lines_before(following[0])
    elif following and not leading_lines(following[0]):
        # A statement the fix removed held the blank line: keep the setup apart.
        following[0] = following[0].with_changes(leading_lines=[cst.EmptyLine()])
    return module.with_changes(body=[*body[:at], *added, *following])


def modernized(module: cst.Module) -> cst.Module:
    """Module-level imports from removed `langchain.*` paths, moved to their current homes."""
    body: list[cst.BaseStatement] = []
    for statement in module.body:
        found = None
        if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1:
            small = statement.body[0]
            found = modern_import(small) if isinstance(small, cst.ImportFrom) else None
        if found is None:
            body.append(statement)
            continue
        lines = [cst.SimpleStatementLine([part]) for part in found]
        lines[0] = lines[0].with_changes(leading_lines=statement.leading_lines)
        body.extend(lines)
    return module.with_changes(body=body)


def with_imports(module: cst.Module, needed: Sequence[tuple[str, str | None]]) -> cst.Module:
    """`module` with each `(module, name)` imported (`name` None: `import module`)."""
    items = [ImportItem(source, name) for source, name in needed]
    return AddImportsVisitor(CodemodContext(), items).transform_module(module)


def spaced_like(before: cst.Module, after: cst.Module) -> cst.Module:
    """`after`, with the blank lines below its docstring that `before` had (imports went)."""
    if len(before.body) < 2 or len(after.body) < 2 or not is_docstring(before.body[0]):
        return after
    if not is_docstring(after.body[0]) or leading_lines(after.body[1]):
        return after
    blanks = [line for line in leading_lines(before.body[1]) if line.comment is None]
    body = list(after.body)
    body[1] = body[1].with_changes(leading_lines=blanks)
    return after.with_changes(body=body)
