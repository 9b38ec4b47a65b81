"""Prompt analysis: the variables a prompt reads, or None when it cannot be known."""

from __future__ import annotations

import libcst as cst
import pytest

from memfix.codemods._shared.prompts import Prompt, history_variable, prompt_of, template_variables


@pytest.mark.parametrize(
    ("template", "template_format", "expected"),
    [
        ("So far: {history}. {input}", "f-string", {"history", "input"}),
        ("{{history}} is text, {input} is not", "f-string", {"input"}),
        ("{user.name} asks {items[0]}", "f-string", {"user", "items"}),
        ("no variables", "f-string", set()),
        ("{{ history }} then {{input}}", "jinja2", {"history", "input"}),
        ("{% for m in history %}{{ m }}{% endfor %}", "jinja2", None),
        ("{{history}}", "mustache", None),
        ("unbalanced {", "f-string", None),
        ("{0} positional", "f-string", None),
    ],
)
def test_template_variables(template: str, template_format: str, expected: set[str] | None) -> None:
    found = template_variables(template, template_format)
    assert found == (None if expected is None else frozenset(expected))


def _class_of(node: cst.BaseExpression) -> str | None:
    """Test stand-in for qualified-name resolution: the name as written."""
    return node.value if isinstance(node, cst.Name) else None


def _prompt(code: str) -> Prompt | None:
    return prompt_of(cst.parse_expression(code), _class_of, lambda node: node)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        pytest.param(
            'PromptTemplate.from_template("{history} {input}")',
            Prompt(text=frozenset({"history", "input"})),
            id="from_template",
        ),
        pytest.param(
            'PromptTemplate(template="{a} {b}", input_variables=["a", "b"], '
            'partial_variables={"b": "x"})',
            Prompt(text=frozenset({"a"})),
            id="constructor with partial variables",
        ),
        pytest.param(
            'ChatPromptTemplate.from_messages([("system", "Be {tone}"), '
            'MessagesPlaceholder(variable_name="history"), ("human", "{input}")])',
            Prompt(text=frozenset({"tone", "input"}), placeholders=frozenset({"history"})),
            id="from_messages",
        ),
        pytest.param(
            'ChatPromptTemplate.from_messages([("placeholder", "{messages}"), '
            'MessagesPlaceholder("h", optional=True), '
            'HumanMessagePromptTemplate.from_template("{q}"), SystemMessage(content="hi")])',
            Prompt(
                text=frozenset({"q"}),
                placeholders=frozenset({"messages", "h"}),
                optional=frozenset({"messages", "h"}),
            ),
            id="optional placeholders and message classes",
        ),
        pytest.param(
            'ChatPromptTemplate.from_template("{x}") | llm',
            Prompt(text=frozenset({"x"})),
            id="pipeline",
        ),
        pytest.param('hub.pull("owner/prompt")', None, id="hub"),
        pytest.param('PromptTemplate.from_file("p.txt")', None, id="file"),
        pytest.param("PromptTemplate.from_template(TEMPLATE)", None, id="template out of reach"),
        pytest.param(
            "ChatPromptTemplate.from_messages(messages)", None, id="messages out of reach"
        ),
        pytest.param('ChatPromptTemplate.from_messages([make("x")])', None, id="unknown entry"),
    ],
)
def test_prompt_of(code: str, expected: Prompt | None) -> None:
    assert _prompt(code) == expected


def test_required_leaves_out_optional_placeholders() -> None:
    prompt = Prompt(
        text=frozenset({"input"}), placeholders=frozenset({"h"}), optional=frozenset({"h"})
    )
    assert prompt.required == {"input"}
    assert prompt.variables == {"input", "h"}


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        (Prompt(text=frozenset({"input"}), placeholders=frozenset({"messages"})), "messages"),
        (Prompt(text=frozenset({"chat_history", "question"})), "chat_history"),
        (Prompt(text=frozenset({"context", "question"})), None),
        (Prompt(placeholders=frozenset({"a", "b"})), None),
    ],
)
def test_history_variable(prompt: Prompt, expected: str | None) -> None:
    assert history_variable(prompt) == expected
