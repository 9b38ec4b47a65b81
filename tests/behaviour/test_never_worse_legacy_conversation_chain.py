"""legacy-conversation-chain never makes a chat API worse than the chain it migrates.

The migrated chain answers with the text, where the legacy one answered with a result
dict: every later read of that dict must follow, or the first request fails. The programs
run before and after `memfix apply` with the echo model, two users talking at once.
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

ORIGINAL = parse_fixture(
    FIXTURES / "legacy-conversation-chain" / "fastapi_result_read_through_variable.py"
)[0]
WINDOWED = parse_fixture(FIXTURES / "legacy-conversation-chain" / "window_k_module_constant.py")[0]


@dataclass(frozen=True)
class Variant:
    source: str
    in_path: bool = False  # the user travels in the URL, not in the JSON body
    fixable: bool = True  # False: the fix cannot be proven, so the file must not change


def _renamed(source: str) -> str:
    return (
        source.replace("conversation", "support_chain")
        .replace("result", "answer")
        .replace("Question", "Ticket")
        .replace("question", "ticket")
    )


def _identity_in_path(source: str) -> str:
    return (
        source.replace("    user_id: str\n", "")
        .replace('@app.post("/chat")', '@app.post("/chat/{user_id}")')
        .replace("def chat(question: Question)", "def chat(user_id: str, question: Question)")
    )


def _logged_and_validated(source: str) -> str:
    return (
        source.replace("import FastAPI", "import FastAPI, HTTPException")
        .replace(
            "app = FastAPI()",
            "import logging\n\nlog = logging.getLogger(__name__)\napp = FastAPI()",
        )
        .replace(
            "    result = conversation",
            "    if not question.message.strip():\n"
            '        raise HTTPException(400, "empty message")\n'
            '    log.info("question from %s", question.user_id)\n'
            "    result = conversation",
        )
        .replace(
            '    return {"reply": result["response"]}',
            '    log.info("answered %s", question.user_id)\n'
            '    return {"reply": result["response"]}',
        )
    )


def _read_later_and_printed(source: str) -> str:
    return source.replace(
        '    return {"reply": result["response"]}',
        '    print(result["response"])\n'
        '    reply = result["response"].strip()\n'
        '    return {"reply": reply}',
    )


def _used_whole_and_read(source: str) -> str:
    return source.replace(
        '    return {"reply": result["response"]}',
        '    print("outputs:", sorted(result))\n    return {"reply": result["response"]}',
    )


VARIANTS = {
    "read_through_variable": Variant(ORIGINAL),
    "renamed": Variant(_renamed(ORIGINAL)),
    "identity_in_path": Variant(_identity_in_path(ORIGINAL), in_path=True),
    "logged_and_validated": Variant(_logged_and_validated(ORIGINAL)),
    "read_later_and_printed": Variant(_read_later_and_printed(ORIGINAL)),
    "window_from_module_constant": Variant(WINDOWED),
    "used_whole_and_read": Variant(_used_whole_and_read(ORIGINAL), fixable=False),
}


def _client(source: str, in_path: bool) -> Callable[[str, str], Any]:
    client = TestClient(run_program(source)["app"], raise_server_exceptions=False)

    def post(user: str, text: str) -> Any:
        if in_path:
            return client.post(f"/chat/{user}", json={"message": text})
        return client.post("/chat", json={"user_id": user, "message": text})

    return post


def _run(variant: Variant, source: str) -> tuple[tuple[str, str], list[tuple[int, str]]]:
    post = _client(source, variant.in_path)
    results: list[tuple[int, str]] = []

    def say(user: str, message: str) -> None:
        response = post(user, message)
        reply = response.json().get("reply") if response.status_code == 200 else None
        results.append((response.status_code, type(reply).__name__))

    return conversation(say), results


def _apply(tmp_path: Path, source: str, *flags: str) -> tuple[str, str]:
    path = tmp_path / "api.py"
    path.write_text(source, encoding="utf-8")
    selected = ("--select", "legacy-conversation-chain", *flags)
    code, out, err = invoke("apply", "--yes", *selected, str(path))
    assert code in (0, 1), out + err
    return path.read_text(encoding="utf-8"), out + err


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_migrated_chain_keeps_users_apart_and_every_request_answering_text(
    name: str, tmp_path: Path, legacy_langchain: None
) -> None:
    variant = VARIANTS[name]
    prompts_before, results_before = _run(variant, variant.source)
    assert not remembers_apart(prompts_before)  # the bug: one memory for every user
    assert results_before == [(200, "str")] * 4
    fixed, output = _apply(tmp_path, variant.source)
    if not variant.fixable:
        assert fixed == variant.source
        assert "used whole" in output
        return
    assert fixed != variant.source
    assert '["response"]' not in fixed
    prompts_after, results_after = _run(variant, fixed)
    assert remembers_apart(prompts_after)
    assert results_after == results_before


@pytest.mark.parametrize("name", ["read_through_variable", "read_later_and_printed"])
def test_unsafe_fixes_never_keep_a_read_of_the_result_dict(
    name: str, tmp_path: Path, legacy_langchain: None
) -> None:
    variant = VARIANTS[name]
    fixed, _ = _apply(tmp_path, variant.source, "--unsafe-fixes")
    _, results = _run(variant, fixed)
    assert results == [(200, "str")] * 4


def test_window_from_module_constant_keeps_only_the_last_exchanges(tmp_path: Path) -> None:
    fixed, _ = _apply(tmp_path, WINDOWED)
    assert 'MessagesPlaceholder("history", n_messages=6)' in fixed


def test_result_rebound_after_the_run_is_reported_and_left_as_it_is(tmp_path: Path) -> None:
    source = ORIGINAL.replace(
        '    return {"reply": result["response"]}',
        '    result = {"response": result["response"].upper()}\n'
        '    return {"reply": result["response"]}',
    )
    fixed, output = _apply(tmp_path, source)
    assert fixed == source
    assert "bound again" in output
