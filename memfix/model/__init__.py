"""The conversation model: for every conversation of a module, the runnable, its state,
store, key and lifetimes, its call sites and the identities in reach. Pure: text in,
frozen data out."""

from __future__ import annotations

from memfix.model.build import build_model
from memfix.model.explain import as_data, explain_json, explain_text
from memfix.model.types import (
    CallSite,
    Context,
    Conversation,
    Getter,
    Identity,
    Key,
    Lifetime,
    ModuleModel,
    Option,
    Origin,
    Span,
    State,
    Store,
    Use,
    UseKind,
)

__all__ = [
    "CallSite",
    "Context",
    "Conversation",
    "Getter",
    "Identity",
    "Key",
    "Lifetime",
    "ModuleModel",
    "Option",
    "Origin",
    "Span",
    "State",
    "Store",
    "Use",
    "UseKind",
    "as_data",
    "build_model",
    "explain_json",
    "explain_text",
]
