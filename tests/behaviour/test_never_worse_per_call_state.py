"""per-call-state never makes a handler worse when the call already selects its conversation.

Each program builds its history per call but passes a per-call key (a channel) as its
session id; hoisting that history to module scope would give every channel one
conversation. The programs run before and after `memfix apply` with the echo model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support.cli import invoke
from tests.support.conversations import conversation, remembers_apart
from tests.support.fakes import run_program
from tests.support.fixtures import FIXTURES, parse_fixture

ORIGINAL = parse_fixture(FIXTURES / "per-call-state" / "channel_key_selected_per_call.py")[0]


@dataclass(frozen=True)
class Variant:
    source: str
    in_query: bool = False  # the channel travels as query parameters, not a JSON body
    fixable: bool = True  # False: the fix cannot be proven, so the file must not change


def _as_parameters(source: str) -> str:
    return (
        source.replace(
            "async def on_message(event: Incoming)",
            "async def on_message(channel_id: str, text: str)",
        )
        .replace("event.text", "text")
        .replace("event.channel_id", "channel_id")
    )


def _renamed_and_logged(source: str) -> str:
    return (
        source.replace("import FastAPI", "import FastAPI, HTTPException")
        .replace(
            "history = InMemoryChatMessageHistory()",
            "transcript = InMemoryChatMessageHistory()\n"
            '    log.info("new message in %s", event.channel_id)',
        )
        .replace("lambda session_id: history", "lambda session_id: transcript")
        .replace(
            "    llm = ChatOpenAI",
            "    if not event.text.strip():\n"
            '        raise HTTPException(400, "empty message")\n'
            "    llm = ChatOpenAI",
        )
        .replace(
            "app = FastAPI()",
            "import logging\n\nlog = logging.getLogger(__name__)\napp = FastAPI()",
        )
    )


def _key_through_locals(source: str) -> str:
    return source.replace(
        "    llm = ChatOpenAI", "    room = event.channel_id\n    llm = ChatOpenAI"
    ).replace(
        "    reply = await bot.ainvoke(\n"
        '        {"input": event.text}, config={"configurable": {"session_id": event.channel_id}}\n'
        "    )\n"
        '    return {"reply": reply.content}',
        '    config = {"configurable": {"session_id": room}}\n'
        '    return {"reply": (await bot.ainvoke({"input": event.text}, config=config)).content}',
    )


def _key_looked_up(source: str) -> str:
    return source.replace(
        "app = FastAPI()",
        "app = FastAPI()\n\n\nasync def channel_of(event):\n    return event.channel_id",
    ).replace('"session_id": event.channel_id', '"session_id": await channel_of(event)')


VARIANTS = {
    "request_model": Variant(ORIGINAL),
    "parameters": Variant(_as_parameters(ORIGINAL), in_query=True),
    "renamed_and_logged": Variant(_renamed_and_logged(ORIGINAL)),
    "key_through_locals": Variant(_key_through_locals(ORIGINAL)),
    "key_looked_up_by_a_call": Variant(_key_looked_up(ORIGINAL), fixable=False),
}


def _client(source: str) -> Callable[[str, str, bool], Any]:
    client = TestClient(run_program(source)["app"])

    def post(channel: str, text: str, in_query: bool) -> Any:
        fields = {"channel_id": channel, "text": text}
        if in_query:
            return client.post("/slack/message", params=fields)
        return client.post("/slack/message", json=fields)

    return post


def _run(source: str, in_query: bool) -> tuple[tuple[str, str], list[tuple[int, type]]]:
    post = _client(source)
    results: list[tuple[int, type]] = []

    def say(user: str, message: str) -> None:
        response = post(user, message, in_query)
        results.append((response.status_code, type(response.json()["reply"])))

    return conversation(say), results


def _apply(tmp_path: Path, source: str) -> tuple[str, str]:
    path = tmp_path / "bot.py"
    path.write_text(source, encoding="utf-8")
    code, out, err = invoke("apply", "--yes", "--select", "per-call-state", str(path))
    assert code in (0, 1), out + err
    return path.read_text(encoding="utf-8"), out + err


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_fix_of_state_keyed_per_call_keeps_channels_apart_and_requests_working(
    name: str, tmp_path: Path, legacy_langchain: None
) -> None:
    variant = VARIANTS[name]
    prompts_before, results_before = _run(variant.source, variant.in_query)
    assert not remembers_apart(prompts_before)  # the bug: every turn starts empty
    fixed, output = _apply(tmp_path, variant.source)
    if not variant.fixable:
        assert fixed == variant.source
        assert "not fixed: the conversation is selected per call" in output
        return
    assert fixed != variant.source
    prompts_after, results_after = _run(fixed, variant.in_query)
    assert remembers_apart(prompts_after)
    assert results_after == results_before
    assert all(status == 200 for status, _ in results_after)


def test_state_keyed_per_call_is_never_hoisted_to_module_scope(tmp_path: Path) -> None:
    fixed, _ = _apply(tmp_path, ORIGINAL)
    assert "\nhistory = InMemoryChatMessageHistory()" not in fixed
    assert "get_session_history(event.channel_id)" in fixed
