"""Chat bots: one module-level memory answers every chat until it is keyed by the chat's id.

Each bot fixture (python-telegram-bot, pyTelegramBotAPI, discord.py, Slack bolt) is fixed
to a per-session factory called with the chat or channel id the handler already has.
Then the handler is called directly, with stand-in update or message objects and
stand-in bot packages, for two chats: after the fix each chat has its own conversation,
before it the second chat's prompt carries the first chat's turn.
"""

from __future__ import annotations

import asyncio
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from memfix.rules.registry import by_name
from memfix.testing import run
from tests.support.conversations import Say, conversation, remembers_apart
from tests.support.fakes import run_program
from tests.support.fixtures import parse_fixture

FIXTURES = Path(__file__).parents[1] / "fixtures" / "shared-global-state"

FETCHES = {
    "bot_telegram": "    conversation = get_session_conversation(update.effective_chat.id)\n",
    "bot_telebot": "    chain = get_session_chain(message.chat.id)\n",
    "bot_discord": "    chain = get_session_chain(ctx.channel.id)\n",
    "bot_slack": '    chain = get_session_chain(event["channel"])\n',
}


class Anything:
    """Any attribute, call, subscript or operator gives another `Anything`."""

    def __init__(self, *args: Any, **options: Any) -> None:
        pass

    def __getattr__(self, name: str) -> Anything:
        return Anything()

    def __call__(self, *args: Any, **options: Any) -> Any:
        # A decorator gives back the function it decorates.
        return args[0] if len(args) == 1 and callable(args[0]) else Anything()

    def __and__(self, other: object) -> Anything:
        return Anything()

    def __invert__(self) -> Anything:
        return Anything()


def stand_in(name: str) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__getattr__ = lambda attribute: Anything()  # type: ignore[method-assign]
    return module


BOT_PACKAGES = (
    "telegram",
    "telegram.ext",
    "telebot",
    "discord",
    "discord.ext",
    "discord.ext.commands",
    "slack_bolt",
)


def ns(**fields: Any) -> types.SimpleNamespace:
    return types.SimpleNamespace(**fields)


def telegram(namespace: dict[str, Any]) -> Say:
    def say(chat: str, text: str) -> None:
        async def reply_text(reply: str) -> None:
            pass

        update = ns(effective_chat=ns(id=chat), message=ns(text=text, reply_text=reply_text))
        asyncio.run(namespace["handle_message"](update, None))

    return say


def telebot(namespace: dict[str, Any]) -> Say:
    return lambda chat, text: namespace["answer"](ns(chat=ns(id=chat), text=text))


def discord(namespace: dict[str, Any]) -> Say:
    async def send(reply: str) -> None:
        pass

    return lambda chat, text: asyncio.run(
        namespace["ask"](ns(channel=ns(id=chat), send=send), question=text)
    )


def slack(namespace: dict[str, Any]) -> Say:
    return lambda chat, text: namespace["on_message"]({"channel": chat, "text": text}, print)


DRIVERS: dict[str, Callable[[dict[str, Any]], Say]] = {
    "bot_telegram": telegram,
    "bot_telebot": telebot,
    "bot_discord": discord,
    "bot_slack": slack,
}


@pytest.fixture
def bots(legacy_langchain: None, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in BOT_PACKAGES:
        monkeypatch.setitem(sys.modules, name, stand_in(name))


@pytest.mark.parametrize("case", sorted(FETCHES))
def test_bot_handler_fetches_its_chats_conversation_by_the_chat_id(case: str) -> None:
    source, expected, flags = parse_fixture(FIXTURES / f"{case}.py")
    result = run(by_name("shared-global-state"), source, flags)
    assert result.error is None, result.error
    assert result.after == expected, result.diff
    assert FETCHES[case] in result.after
    assert [f.fixed for f in result.findings] == [True]


@pytest.mark.parametrize("case", sorted(FETCHES))
def test_bot_without_its_framework_import_is_a_script_and_left_alone(case: str) -> None:
    source, _, flags = parse_fixture(FIXTURES / f"{case}.py")
    script = "\n".join(
        line
        for line in source.splitlines()
        if not line.startswith(("import telebot", "import discord", "from telegram", "from slack"))
        and not line.startswith(("from discord", "from telegram.ext"))
    )
    result = run(by_name("shared-global-state"), script + "\n", flags)
    assert result.findings == ()


@pytest.mark.usefixtures("bots")
@pytest.mark.parametrize("case", sorted(DRIVERS))
def test_fixed_bot_keeps_two_chats_apart(case: str) -> None:
    _, after, _ = parse_fixture(FIXTURES / f"{case}.py")
    assert after is not None
    prompts = conversation(DRIVERS[case](run_program(after)))
    assert remembers_apart(prompts), prompts


@pytest.mark.usefixtures("bots")
@pytest.mark.parametrize("case", sorted(DRIVERS))
def test_bot_before_the_fix_leaks_one_chat_into_another(case: str) -> None:
    before, _, _ = parse_fixture(FIXTURES / f"{case}.py")
    _, of_b = conversation(DRIVERS[case](run_program(before)))
    assert "My name is Sam" in of_b
