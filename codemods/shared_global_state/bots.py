"""The chat identity in reach in a chat bot's handler: each chat (or channel) is a session.

A Telegram, Discord, Slack or aiogram bot runs one process for every chat it is in, and
calls the same handler for each incoming message, so a handler is per-request code like
a web route. The chat the message came from is the bot's own session identity; a group
chat is one conversation per channel, which is what the channel's id gives.
"""

from __future__ import annotations

from collections.abc import Collection

import libcst as cst
import libcst.matchers as m

from memfix.codemods._shared.find import findall
from memfix.codemods._shared.identity import Identity

_CODE = cst.Module([])
# Decorators that register a handler of one incoming message or command.
_TELEBOT = frozenset({"message_handler", "edited_message_handler", "channel_post_handler"})
_AIOGRAM = frozenset({"message", "message_handler", "edited_message"})
_DISCORD = frozenset({"command", "hybrid_command", "event", "listen"})
_SLACK = frozenset({"event", "message", "command"})


def bot_identity(
    function: cst.FunctionDef,
    module: cst.Module,
    frameworks: Collection[str],
) -> Identity | None:
    """The chat id a bot framework's handler `function` can read, else None.

    `frameworks` are the packages the module imports. A python-telegram-bot handler
    (handed to a `...Handler(...)`) reads `update.effective_chat.id`; a pyTelegramBotAPI
    or aiogram handler `message.chat.id`; a discord.py command `ctx.channel.id` and an
    event `message.channel.id`; a Slack bolt listener `event["channel"]` or
    `body["event"]["channel"]`.
    """
    params = [p.name.value for p in function.params.params]
    if not params:
        return None
    first = params[0]
    decorators = _decorator_methods(function)
    if "telegram" in frameworks and _handed_to_handler(module, function.name.value):
        return _found(f"{first}.effective_chat.id", "the Telegram chat")
    if ("telebot" in frameworks and decorators & _TELEBOT) or (
        "aiogram" in frameworks and decorators & _AIOGRAM
    ):
        return _found(f"{first}.chat.id", "the Telegram chat")
    if "discord" in frameworks and decorators & _DISCORD:
        return _found(f"{first}.channel.id", "the Discord channel")
    if "slack_bolt" in frameworks and decorators & _SLACK:
        if "event" in params:
            return _found('event["channel"]', "the Slack channel")
        if "body" in params:
            return _found('body["event"]["channel"]', "the Slack channel")
    return None


def _found(expression: str, what: str) -> Identity:
    return Identity(expression, f"{expression}, the id of {what}")


def _decorator_methods(function: cst.FunctionDef) -> set[str]:
    """The method names of `@x.method` and `@x.method(...)` decorators on `function`."""
    names: set[str] = set()
    for decorator in function.decorators:
        node = decorator.decorator
        func = node.func if isinstance(node, cst.Call) else node
        if isinstance(func, cst.Attribute):
            names.add(func.attr.value)
    return names


def _handed_to_handler(module: cst.Module, name: str) -> bool:
    """`name` is passed to a `MessageHandler(...)`, `CommandHandler(...)` or the like."""
    for node in findall(module, m.Call()):
        call = cst.ensure_type(node, cst.Call)
        callee = _CODE.code_for_node(call.func).rpartition(".")[2]
        if callee.endswith("Handler") and any(
            m.matches(arg.value, m.Name(name)) for arg in call.args
        ):
            return True
    return False
