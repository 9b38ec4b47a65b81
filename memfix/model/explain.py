"""The conversation model as a readable tree or as JSON, for `memfix check --explain-model`."""

from __future__ import annotations

import dataclasses
import enum
import json
from collections.abc import Iterable, Sequence

from memfix.model.types import CallSite, Conversation, Key, ModuleModel, Span, State


def as_data(model: ModuleModel) -> dict[str, object]:
    """The model as plain dicts and lists, enums as their values."""
    return dataclasses.asdict(model, dict_factory=_plain)


def _plain(items: Iterable[tuple[str, object]]) -> dict[str, object]:
    return {name: value.value if isinstance(value, enum.Enum) else value for name, value in items}


def explain_json(models: Sequence[ModuleModel]) -> str:
    """Every module's model as one JSON list."""
    return json.dumps([as_data(model) for model in models], indent=2) + "\n"


def explain_text(model: ModuleModel) -> str:
    """One module's model as an indented tree, one conversation after another."""
    lines = [model.path]
    if model.error:
        lines.append(f"  error: {model.error}")
    if not model.conversations and not model.error:
        lines.append("  no conversation")
    for number, conversation in enumerate(model.conversations, 1):
        lines += _conversation(number, conversation)
    return "\n".join(lines) + "\n"


def _at(span: Span | None) -> str:
    return f"{span.line}:{span.column}" if span else "-"


def _state(label: str, state: State) -> list[str]:
    held = f" `{state.name}`" if state.name else ""
    lines = [
        f"    {label}: {state.kind} {state.qualname}{held} at {_at(state.where)}",
        f"      lifetime: {state.lifetime.value} ({state.reason})",
    ]
    if state.options:
        shown = ", ".join(f"{option.name}={option.value}" for option in state.options)
        lines.append(f"      options: {shown}")
    if state.keyed_by is not None:
        lines.append(f"      keyed by: {_key(state.keyed_by)}")
    return lines


def _key(key: Key) -> str:
    expr = f" = {key.expr}" if key.expr else ""
    return f"{key.field}{expr} -> {key.origin.value} ({key.reason})"


def _conversation(number: int, conversation: Conversation) -> list[str]:
    short = conversation.runnable.qualname.rpartition(".")[2] or conversation.runnable.qualname
    lines = [f"  conversation {number}: {short}"]
    lines += _state("runnable", conversation.runnable)
    for piece in conversation.state:
        lines += _state("state", piece)
    store = conversation.store
    if store is not None:
        lines.append(
            f"    store: {store.kind} `{store.name}` at {_at(store.where)}, "
            f"lifetime {store.lifetime.value}"
        )
        if store.key is not None:
            lines.append(f"      key: {_key(store.key)}")
    getter = conversation.getter
    if getter is not None:
        lines.append(
            f"    getter: {getter.kind} {getter.name}({getter.parameter}) at {_at(getter.where)}"
        )
    for call in conversation.calls:
        lines += _call(call)
    for gap in conversation.unknowns:
        lines.append(f"    unknown: {gap}")
    return lines


def _call(call: CallSite) -> list[str]:
    lines = [
        f"    call: {call.target or '<inline>'}.{call.callee}() at {_at(call.where)} "
        f"in {call.function}, {call.context.value} ({call.context_reason})"
    ]
    if call.key is not None:
        lines.append(f"      key: {_key(call.key)}")
    for identity in call.identities:
        proof = "proven" if identity.proven else "guessed"
        via = f" from {identity.via}" if identity.via else ""
        lines.append(f"      identity: {identity.expr}{via} ({identity.source}, {proof})")
    for use in call.result_uses:
        detail = f" {use.detail}" if use.detail else ""
        through = f" through {use.through}" if use.through else ""
        lines.append(f"      result: {use.kind.value}{detail}{through} at {_at(use.where)}")
    return lines
