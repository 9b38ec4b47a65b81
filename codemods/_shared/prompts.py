"""The variables a LangChain prompt reads, found statically; None when it cannot be known.

Covers `PromptTemplate.from_template`, `PromptTemplate(template=..., input_variables=...)`,
`ChatPromptTemplate.from_template` / `.from_messages` / `ChatPromptTemplate([...])` with
role tuples, message prompt templates, `MessagesPlaceholder` and `("placeholder", "{x}")`,
f-string and simple jinja2 templates, `partial_variables`, templates held in names, and
`prompt | llm` pipelines. A prompt loaded from a file or a hub is never guessed.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from dataclasses import dataclass

import libcst as cst

# The prompt a ConversationChain uses when it is given none.
CONVERSATION_VARIABLES = frozenset({"history", "input"})

_STRING_PROMPTS = frozenset({"PromptTemplate"})
_CHAT_PROMPTS = frozenset({"ChatPromptTemplate"})
_MESSAGE_TEMPLATES = frozenset(
    {
        "HumanMessagePromptTemplate",
        "SystemMessagePromptTemplate",
        "AIMessagePromptTemplate",
        "ChatMessagePromptTemplate",
    }
)
_FIXED_MESSAGES = frozenset({"SystemMessage", "HumanMessage", "AIMessage", "ChatMessage"})
_JINJA_VARIABLE = re.compile(r"{{\s*([A-Za-z_]\w*)")

# How a codemod turns an expression into the LangChain class it names, and a name into
# the value assigned to it (both need the codemod's metadata).
ClassOf = Callable[[cst.BaseExpression], "str | None"]
Resolve = Callable[[cst.BaseExpression], cst.BaseExpression]


@dataclass(frozen=True, slots=True)
class Prompt:
    """What a prompt reads: variables in its text, and its message placeholders."""

    text: frozenset[str] = frozenset()
    placeholders: frozenset[str] = frozenset()
    optional: frozenset[str] = frozenset()  # placeholders that may be left out

    @property
    def variables(self) -> frozenset[str]:
        return self.text | self.placeholders

    @property
    def required(self) -> frozenset[str]:
        return self.text | (self.placeholders - self.optional)


DEFAULT_CONVERSATION_PROMPT = Prompt(text=CONVERSATION_VARIABLES)


def template_variables(template: str, template_format: str = "f-string") -> frozenset[str] | None:
    """Variables of an f-string (`{{` escapes) or plain jinja2 template; None when unsure."""
    if template_format == "jinja2":
        if "{%" in template:
            return None  # loops and sets declare names of their own
        return frozenset(_JINJA_VARIABLE.findall(template))
    if template_format != "f-string":
        return None
    try:
        fields = [field for _, field, _, _ in string.Formatter().parse(template) if field]
    except ValueError:
        return None
    names = {re.split(r"[.\[]", field, maxsplit=1)[0] for field in fields}
    if any(not name.isidentifier() for name in names):
        return None
    return frozenset(names)


def literal_string(node: cst.BaseExpression, resolve: Resolve) -> str | None:
    """The value of a string literal (implicitly concatenated too), through names."""
    node = resolve(node)
    if isinstance(node, cst.SimpleString | cst.ConcatenatedString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def argument(call: cst.Call, keyword: str, position: int | None = None) -> cst.Arg | None:
    """The argument passed as `keyword=`, or at `position` among the positional ones."""
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == keyword:
            return arg
    positional = [arg for arg in call.args if arg.keyword is None and not arg.star]
    if position is not None and position < len(positional):
        return positional[position]
    return None


def prompt_of(node: cst.BaseExpression, class_of: ClassOf, resolve: Resolve) -> Prompt | None:
    """The prompt an expression builds (or starts a `prompt | llm` pipeline with)."""
    node = resolve(node)
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.BitOr):
        return prompt_of(node.left, class_of, resolve)
    if not isinstance(node, cst.Call):
        return None
    if any(arg.star for arg in node.args):
        return None
    func = node.func
    owner = class_of(func.value) if isinstance(func, cst.Attribute) else None
    method = func.attr.value if isinstance(func, cst.Attribute) else None
    if owner in _STRING_PROMPTS | _CHAT_PROMPTS and method == "from_template":
        return _from_template(node, 0, resolve)
    if owner in _CHAT_PROMPTS and method == "from_messages":
        return _from_messages(node, class_of, resolve)
    name = class_of(func)
    if name in _STRING_PROMPTS:
        return _from_template(node, None, resolve)
    if name in _CHAT_PROMPTS:
        return _from_messages(node, class_of, resolve)
    return None


def _partials(call: cst.Call) -> frozenset[str] | None:
    arg = argument(call, "partial_variables")
    if arg is None:
        return frozenset()
    if not isinstance(arg.value, cst.Dict):
        return None
    keys: set[str] = set()
    for element in arg.value.elements:
        if not isinstance(element, cst.DictElement) or not isinstance(
            element.key, cst.SimpleString
        ):
            return None
        value = element.key.evaluated_value
        if not isinstance(value, str):
            return None
        keys.add(value)
    return frozenset(keys)


def _from_template(call: cst.Call, position: int | None, resolve: Resolve) -> Prompt | None:
    template = argument(call, "template", position)
    fmt = argument(call, "template_format")
    partials = _partials(call)
    if template is None or partials is None:
        return None
    text = literal_string(template.value, resolve)
    form = "f-string" if fmt is None else literal_string(fmt.value, resolve)
    if text is None or form is None:
        return None
    found = template_variables(text, form)
    return None if found is None else Prompt(text=found - partials)


def _from_messages(call: cst.Call, class_of: ClassOf, resolve: Resolve) -> Prompt | None:
    arg = argument(call, "messages", 0)
    partials = _partials(call)
    if arg is None or partials is None:
        return None
    messages = resolve(arg.value)
    if not isinstance(messages, cst.List | cst.Tuple):
        return None
    text: set[str] = set()
    placeholders: set[str] = set()
    optional: set[str] = set()
    for element in messages.elements:
        if not isinstance(element, cst.Element):
            return None
        part = _message(resolve(element.value), class_of, resolve)
        if part is None:
            return None
        text |= part.text
        placeholders |= part.placeholders
        optional |= part.optional
    return Prompt(
        text=frozenset(text - partials),
        placeholders=frozenset(placeholders - partials),
        optional=frozenset(optional - partials),
    )


def _message(node: cst.BaseExpression, class_of: ClassOf, resolve: Resolve) -> Prompt | None:
    """What one entry of `from_messages` reads."""
    if isinstance(node, cst.Tuple) and len(node.elements) == 2:
        return _role_and_content(node, resolve)
    if isinstance(node, cst.SimpleString | cst.ConcatenatedString):
        content = literal_string(node, resolve)
        found = None if content is None else template_variables(content)
        return None if found is None else Prompt(text=found)
    if not isinstance(node, cst.Call):
        return None
    func = node.func
    if isinstance(func, cst.Attribute) and func.attr.value == "from_template":
        if class_of(func.value) in _MESSAGE_TEMPLATES:
            return _from_template(node, 0, resolve)
        return None
    kind = class_of(func)
    if kind in _FIXED_MESSAGES:
        return Prompt()
    if kind == "MessagesPlaceholder":
        return _placeholder(node, resolve)
    return None


def _role_and_content(node: cst.Tuple, resolve: Resolve) -> Prompt | None:
    """A `("human", "...")` or `("placeholder", "{history}")` pair."""
    role = literal_string(node.elements[0].value, resolve)
    content = literal_string(node.elements[1].value, resolve)
    if role is None or content is None:
        return None
    if role == "placeholder":
        name = content.strip().removeprefix("{").removesuffix("}")
        if not name.isidentifier():
            return None
        return Prompt(placeholders=frozenset({name}), optional=frozenset({name}))
    found = template_variables(content)
    return None if found is None else Prompt(text=found)


def _placeholder(node: cst.Call, resolve: Resolve) -> Prompt | None:
    """A `MessagesPlaceholder(variable_name, optional=...)`."""
    variable = argument(node, "variable_name", 0)
    flag = argument(node, "optional", 1)
    key = None if variable is None else literal_string(variable.value, resolve)
    if key is None:
        return None
    if flag is None or is_false(flag.value):
        return Prompt(placeholders=frozenset({key}))
    if is_true(flag.value):
        return Prompt(placeholders=frozenset({key}), optional=frozenset({key}))
    return None


def is_true(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == "True"


def is_false(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == "False"


def history_variable(prompt: Prompt, inputs: frozenset[str] = frozenset()) -> str | None:
    """The one variable of the prompt that holds the conversation so far, if it is clear.

    A single message placeholder wins; else a single variable named like a history.
    """
    placeholders = prompt.placeholders - inputs
    if len(placeholders) == 1:
        return next(iter(placeholders))
    if placeholders:
        return None
    named = {v for v in prompt.text - inputs if "history" in v or v in {"memory", "chat"}}
    return next(iter(named)) if len(named) == 1 else None
