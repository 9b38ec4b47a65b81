"""in-process-history never makes an app worse than its bug: async FastAPI routes, run for real.

Each program is fixed with `memfix apply --yes`, then driven by FastAPI's TestClient and
the echo model: every request that answered before still answers, with the same kind of
result, two users each remember their own turns and never the other's, and a history
that the fix made persistent is seen by a second process reading the same SQLite file.
A history that no single engine serves (a legacy memory under `apredict` loads its turns
synchronously and saves them asynchronously) is reported and left byte-identical.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from memfix.codemods.in_process_history.transform import InProcessHistory
from memfix.testing import run
from tests.support.cli import invoke
from tests.support.conversations import Say, conversation, remembers_apart
from tests.support.fakes import PROMPTS, last_prompt, run_program
from tests.support.fixtures import parse_fixture

FIXTURES = Path(__file__).parents[1] / "fixtures"

# An async route with a legacy memory per session, as per-call-state leaves it.
LEGACY_ASYNC = (FIXTURES / "in-process-history" / "async_legacy_memory.py").read_text()
LEGACY_ASYNC = LEGACY_ASYNC.partition("# output\n")[0]

# An async route on RunnableWithMessageHistory: every use of the history is awaited.
RUNNABLE_ASYNC = """from fastapi import FastAPI
from pydantic import BaseModel
from langchain_core.chat_history import InMemoryChatMessageHistory
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from langchain_core.runnables.history import RunnableWithMessageHistory
from langchain_openai import ChatOpenAI

app = FastAPI()


class Question(BaseModel):
    customer_id: str
    text: str


histories = {}


def history_of(customer_id: str):
    if customer_id not in histories:
        histories[customer_id] = InMemoryChatMessageHistory()
    return histories[customer_id]


prompt = ChatPromptTemplate.from_messages([MessagesPlaceholder("history"), ("human", "{input}")])
chain = RunnableWithMessageHistory(
    prompt | ChatOpenAI(), history_of, input_messages_key="input", history_messages_key="history"
)


@app.post("/support/ask")
async def ask(question: Question):
    config = {"configurable": {"session_id": question.customer_id}}
    reply = await chain.ainvoke({"input": question.text}, config=config)
    return {"reply": reply.content}
"""


def _renamed(source: str) -> str:
    return (
        source.replace("_memories", "_windows")
        .replace("memory_for", "window_of")
        .replace("histories", "threads")
        .replace("history_of", "thread_of")
        .replace("customer_id", "account")
    )


def _logged(source: str) -> str:
    # Logging and validation between the statements of the route.
    return source.replace(
        "async def ask(question: Question):\n",
        "async def ask(question: Question):\n"
        "    logger.info('question of %d characters', len(question.text))\n"
        "    if not question.text.strip():\n"
        "        return {'reply': ''}\n",
    ).replace(
        "app = FastAPI()\n",
        "import logging\n\nlogger = logging.getLogger(__name__)\napp = FastAPI()\n",
    )


def _result_direct(source: str) -> str:
    return source.replace(
        '    reply = await chain.apredict(input=question.text)\n    return {"reply": reply}\n',
        '    return {"reply": await chain.apredict(input=question.text)}\n',
    ).replace(
        '    reply = await chain.ainvoke({"input": question.text}, config=config)\n'
        '    return {"reply": reply.content}\n',
        '    return {"reply": (\n'
        '        await chain.ainvoke({"input": question.text}, config=config)\n'
        "    ).content}\n",
    )


def _identity_in_path(source: str) -> str:
    # The identity comes from the URL instead of the body.
    return (
        source.replace("    customer_id: str\n", "")
        .replace('"/support/ask"', '"/support/{customer_id}/ask"')
        .replace("(question: Question)", "(customer_id: str, question: Question)")
        .replace("question.customer_id", "customer_id")
    )


def _sync_legacy(source: str) -> str:
    # The same legacy memory run synchronously: one engine serves it.
    return source.replace("async def ask", "def ask").replace(
        "await chain.apredict", "chain.predict"
    )


VARIANTS = {
    "legacy": LEGACY_ASYNC,
    "legacy-renamed": _renamed(LEGACY_ASYNC),
    "legacy-logged": _logged(LEGACY_ASYNC),
    "legacy-direct": _result_direct(LEGACY_ASYNC),
    "legacy-path": _identity_in_path(LEGACY_ASYNC),
    "legacy-sync": _sync_legacy(LEGACY_ASYNC),
    "runnable": RUNNABLE_ASYNC,
    "runnable-renamed-logged": _logged(_renamed(RUNNABLE_ASYNC)),
    "runnable-direct-path": _identity_in_path(_result_direct(RUNNABLE_ASYNC)),
}


def _driver(source: str) -> tuple[Say, list[dict[str, Any]]]:
    """Say for one program, and every JSON answer it gave, as a client would see them."""
    client = TestClient(run_program(source)["app"])
    answers: list[dict[str, Any]] = []
    by_path = "{customer_id}" in source or "{account}" in source
    field = "account" if "account: str" in source else "customer_id"

    def say(user: str, message: str) -> None:
        if by_path:
            response = client.post(f"/support/{user}/ask", json={"text": message})
        else:
            response = client.post("/support/ask", json={field: user, "text": message})
        assert response.status_code == 200, response.text
        answers.append(response.json())

    return say, answers


def _apply(source: str, tmp_path: Path) -> str:
    program = tmp_path / "app.py"
    program.write_text(source)
    code, out, err = invoke("apply", "--yes", str(program))
    assert code in (0, 1), out + err
    return program.read_text()


@pytest.fixture
def history_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, legacy_langchain: None) -> Path:
    """The SQLite file the fixed programs persist to, via the variable the fix reads."""
    monkeypatch.chdir(tmp_path)
    database = tmp_path / "history.db"
    monkeypatch.setenv("CHAT_HISTORY_URL", f"sqlite:///{database}")
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    return database


def test_the_fixed_request_model_route_answers_and_keeps_users_apart(history_file: Path) -> None:
    before, _, _ = parse_fixture(FIXTURES / "per-call-state" / "fastapi_request_model.py")
    after = _apply(before, history_file.parent)
    client = TestClient(run_program(after)["app"])
    PROMPTS.clear()
    for user, text in (("a", "My name is Sam"), ("b", "My name is Kim"), ("a", "What's my name?")):
        response = client.post("/chat", json={"session_id": user, "message": text})
        assert response.status_code == 200, response.text
        assert isinstance(response.json()["answer"], str)
    assert "My name is Sam" in last_prompt() and "Kim" not in last_prompt()


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_after_apply_every_request_answers_alike_and_users_stay_apart(
    name: str, history_file: Path
) -> None:
    source = VARIANTS[name]
    say, answers_before = _driver(source)
    conversation(say)
    after = _apply(source, history_file.parent)
    say, answers_after = _driver(after)
    assert remembers_apart(conversation(say))
    assert [sorted(a) for a in answers_after] == [sorted(a) for a in answers_before]
    assert all(isinstance(a["reply"], str) for a in answers_after)


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_history_fix_persists_across_processes_or_leaves_the_file_identical(
    name: str, history_file: Path
) -> None:
    source = VARIANTS[name]
    result = run(InProcessHistory, source)
    assert result.error is None, result.error
    assert result.findings, "an in-process history must be reported"
    if result.after == source:
        assert all("not fixed:" in f.message for f in result.findings), result.findings
        assert name.startswith("legacy") and name != "legacy-sync", "a fixable case was skipped"
        return
    say, _ = _driver(result.after)
    conversation(say)
    say, _ = _driver(result.after)  # a second process: a fresh module, the same file
    PROMPTS.clear()
    say("a", "What's my name?")
    assert "My name is Sam" in last_prompt() and "Kim" not in last_prompt()
    assert history_file.exists()


def test_a_history_read_both_sync_and_async_is_reported_and_left_identical(
    history_file: Path,
) -> None:
    # A sync export next to the async route: no single engine serves both.
    mixed = RUNNABLE_ASYNC + (
        "\n\n@app.post('/support/replay')\n"
        "def replay(question: Question):\n"
        "    config = {'configurable': {'session_id': question.customer_id}}\n"
        "    return {'reply': chain.invoke({'input': question.text}, config=config).content}\n"
    )
    result = run(InProcessHistory, mixed)
    assert result.after == mixed, result.diff
    assert any("both synchronously and asynchronously" in f.message for f in result.findings)
    client = TestClient(run_program(_apply(mixed, history_file.parent))["app"])
    for path in ("/support/ask", "/support/replay"):
        response = client.post(path, json={"customer_id": "a", "text": "hello"})
        assert response.status_code == 200, response.text
