"""`memfix verify` writes tests that fail on broken apps and pass once they are fixed.

Five small apps: the article's `ask()`, a FastAPI route that builds its memory per
request, a Flask app and a Chainlit callback whose one memory serves every user, and an
app that is already right (a per-user SQLite history). `memfix verify` writes their
tests; those tests are run in a new Python process before `memfix apply --yes` and
again after it, untouched.
"""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path

import pytest

from memfix.verify.runtime import MARKER
from memfix.verify.writer import VerifyWriteError, write_generated
from tests.support.cli import invoke
from tests.support.fixtures import PROGRAM

FASTAPI_APP = """\
from fastapi import FastAPI
from pydantic import BaseModel
from langchain.chains import ConversationChain
from langchain.memory import ConversationBufferMemory
from langchain_openai import ChatOpenAI

app = FastAPI()


class ChatRequest(BaseModel):
    user_id: str
    message: str


@app.post("/chat")
def chat(req: ChatRequest):
    memory = ConversationBufferMemory()
    chain = ConversationChain(llm=ChatOpenAI(model="gpt-4o-mini"), memory=memory)
    return {"answer": chain.predict(input=req.message)}
"""

FLASK_APP = """\
from flask import Flask, jsonify, request
from langchain.chains import ConversationChain
from langchain.memory import ConversationBufferMemory
from langchain_openai import ChatOpenAI

app = Flask(__name__)
memory = ConversationBufferMemory()
chain = ConversationChain(llm=ChatOpenAI(), memory=memory)


@app.route("/chat", methods=["POST"])
def chat():
    user_id = request.json["user_id"]
    reply = chain.predict(input=request.json["message"])
    return jsonify({"reply": reply, "user": user_id})
"""

CORRECT_APP = """\
import os

from langchain_community.chat_message_histories import SQLChatMessageHistory
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from langchain_core.runnables.history import RunnableWithMessageHistory
from langchain_openai import ChatOpenAI

HISTORY_URL = os.environ.get("CHAT_HISTORY_URL", "sqlite:///chat_history.db")


def history(session_id: str) -> SQLChatMessageHistory:
    return SQLChatMessageHistory(session_id=session_id, connection=HISTORY_URL)


prompt = ChatPromptTemplate.from_messages(
    [("system", "You are helpful."), MessagesPlaceholder("history"), ("human", "{input}")]
)
chain = RunnableWithMessageHistory(
    prompt | ChatOpenAI(model="gpt-4o-mini"),
    history,
    input_messages_key="input",
    history_messages_key="history",
)


def reply(user_id: str, message: str) -> str:
    config = {"configurable": {"session_id": user_id}}
    return chain.invoke({"input": message}, config=config).content
"""

CHAINLIT_APP = """\
import chainlit as cl
from langchain.chains import ConversationChain
from langchain_openai import ChatOpenAI

conversation = ConversationChain(llm=ChatOpenAI(streaming=True))


@cl.on_message
async def main(message: cl.Message):
    reply = await conversation.apredict(input=message.content)
    await cl.Message(content=reply).send()
"""

APPS = {
    "article.py": PROGRAM,
    "fastapi_app.py": FASTAPI_APP,
    "flask_app.py": FLASK_APP,
    "correct_app.py": CORRECT_APP,
    "chainlit_app.py": CHAINLIT_APP,
}


# Deprecation warnings of the legacy classes the apps use say nothing about memory.
QUIET = ("-W", "ignore::DeprecationWarning", "--junitxml")


@dataclass(frozen=True)
class Run:
    """What `python -m pytest` made of the generated tests: outcome and message per test."""

    outcomes: dict[str, str]
    messages: dict[str, str]
    output: str


@dataclass(frozen=True)
class Verified:
    written: str
    before: Run
    after: Run
    fixed: str
    tests_before: dict[str, str]
    tests_after: dict[str, str]


def texts(folder: Path) -> dict[str, str]:
    return {path.name: path.read_text(encoding="utf-8") for path in folder.glob("*.py")}


def run_generated(out: Path, report: Path) -> Run:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", str(out), "-q", "-p", "no:cacheprovider", *QUIET, report],
        cwd=out.parent,
        capture_output=True,
        text=True,
        timeout=300,
    )
    outcomes: dict[str, str] = {}
    messages: dict[str, str] = {}
    for case in ElementTree.parse(report).getroot().iter("testcase"):
        name = f"{case.get('classname', '').rpartition('.')[2]}::{case.get('name')}"
        outcome = "passed"
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                outcome = child.tag
                if child.tag == "skipped" and "xfail" in (child.get("type") or ""):
                    outcome = "xfailed"
                messages[name] = child.get("message") or ""
        outcomes[name] = outcome
    return Run(outcomes, messages, done.stdout + done.stderr)


@pytest.fixture(scope="module")
def verified(tmp_path_factory: pytest.TempPathFactory) -> Verified:
    """The five apps verified, their tests run, the apps fixed, the same tests run again."""
    base = tmp_path_factory.mktemp("verify")
    apps, out = base / "app", base / "memfix_tests"
    apps.mkdir()
    for name, text in APPS.items():
        (apps / name).write_text(text, encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MEMFIX_NO_CACHE", "1")
        code, written, errors = invoke("verify", str(apps), "--out", str(out))
        assert code == 0, errors
        before = run_generated(out, base / "before.xml")
        tests_before = texts(out)
        code, _, errors = invoke("apply", "--yes", str(apps))
        assert code in (0, 1), errors
    after = run_generated(out, base / "after.xml")
    fixed = (apps / "article.py").read_text(encoding="utf-8")
    return Verified(written, before, after, fixed, tests_before, texts(out))


def test_verify_writes_one_test_module_per_app_module_and_the_command_to_run_them(
    verified: Verified,
) -> None:
    for module in ("article", "fastapi_app", "flask_app", "correct_app", "chainlit_app"):
        assert f"test_memfix_{module}.py" in verified.written
    assert "POST /chat" in verified.written and "ask()" in verified.written
    assert "run them with: python -m pytest " in verified.written


def test_article_ask_fails_its_second_turn_before_the_fix_and_passes_after(
    verified: Verified,
) -> None:
    test = "test_memfix_article::test_ask_second_turn_sees_the_first"
    assert verified.before.outcomes[test] == "failure", verified.before.output
    assert "memory is not kept between calls of ask()" in verified.before.messages[test]
    assert verified.after.outcomes[test] == "passed", verified.after.output


def test_article_ask_without_identity_is_an_expected_failure_before_and_after(
    verified: Verified,
) -> None:
    test = "test_memfix_article::test_ask_keeps_each_user_apart"
    assert verified.before.outcomes[test] == "xfailed", verified.before.output
    assert verified.after.outcomes[test] == "xfailed", verified.after.output


def test_fastapi_per_request_memory_forgets_before_the_fix_and_remembers_after(
    verified: Verified,
) -> None:
    test = "test_memfix_fastapi_app::test_chat_second_turn_sees_the_first"
    assert verified.before.outcomes[test] == "failure", verified.before.output
    assert "memory is not kept between calls of POST /chat" in verified.before.messages[test]
    assert verified.after.outcomes[test] == "passed", verified.after.output
    isolation = "test_memfix_fastapi_app::test_chat_keeps_each_user_apart"
    assert verified.after.outcomes[isolation] == "passed", verified.after.output


def test_flask_shared_memory_leaks_between_users_before_the_fix_and_not_after(
    verified: Verified,
) -> None:
    test = "test_memfix_flask_app::test_chat_keeps_each_user_apart"
    assert verified.before.outcomes[test] == "failure", verified.before.output
    assert "user b saw user a's turn" in verified.before.messages[test]
    assert "shared by every user of POST /chat" in verified.before.messages[test]
    assert verified.after.outcomes[test] == "passed", verified.after.output
    turns = "test_memfix_flask_app::test_chat_second_turn_sees_the_first"
    assert verified.before.outcomes[turns] == verified.after.outcomes[turns] == "passed"


def test_chainlit_module_level_chain_leaks_between_sessions_before_the_fix_and_not_after(
    verified: Verified,
) -> None:
    test = "test_memfix_chainlit_app::test_main_keeps_each_user_apart"
    assert verified.before.outcomes[test] == "failure", verified.before.output
    assert "shared by every user of the Chainlit callback main()" in verified.before.messages[test]
    assert verified.after.outcomes[test] == "passed", verified.after.output


def test_correct_app_passes_every_generated_test_before_and_after_including_a_new_process(
    verified: Verified,
) -> None:
    tests = [name for name in verified.before.outcomes if name.startswith("test_memfix_correct")]
    assert "test_memfix_correct_app::test_reply_second_process_sees_the_first" in tests
    for name in tests:
        assert verified.before.outcomes[name] == "passed", verified.before.output
        assert verified.after.outcomes[name] == "passed", verified.after.output


def test_generated_tests_never_change_when_the_app_is_fixed(verified: Verified) -> None:
    assert "def ask(question: str):\n    return chain.invoke" in verified.fixed
    assert verified.tests_before == verified.tests_after
    assert set(verified.before.outcomes) == set(verified.after.outcomes)


def test_verify_never_overwrites_a_file_it_did_not_write(tmp_path: Path) -> None:
    (tmp_path / "article.py").write_text(PROGRAM, encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    (out / "conftest.py").write_text("# the user's own conftest\n", encoding="utf-8")
    code, _, errors = invoke("verify", str(tmp_path / "article.py"), "--out", str(out))
    assert code == 1
    assert "conftest.py: not written: a file memfix did not write is there already" in errors
    assert (out / "conftest.py").read_text(encoding="utf-8") == "# the user's own conftest\n"
    assert (out / "test_memfix_article.py").is_file()


def test_verify_rewrites_its_own_files_on_a_second_run(tmp_path: Path) -> None:
    (tmp_path / "article.py").write_text(PROGRAM, encoding="utf-8")
    out = tmp_path / "out"
    assert invoke("verify", str(tmp_path / "article.py"), "--out", str(out))[0] == 0
    (out / "test_memfix_article.py").write_text(f"{MARKER}\nstale = True\n", encoding="utf-8")
    assert invoke("verify", str(tmp_path / "article.py"), "--out", str(out))[0] == 0
    rewritten = (out / "test_memfix_article.py").read_text(encoding="utf-8")
    assert "stale" not in rewritten
    assert "def test_ask_second_turn_sees_the_first" in rewritten


def test_verify_lists_the_entry_points_it_cannot_drive_with_the_reason(tmp_path: Path) -> None:
    bot = (
        "from telegram.ext import CommandHandler\n"
        "from langchain.chains import ConversationChain\n"
        "from langchain.memory import ConversationBufferMemory\n"
        "from langchain_openai import ChatOpenAI\n\n\n"
        "async def answer(update, context):\n"
        "    chain = ConversationChain(llm=ChatOpenAI(), memory=ConversationBufferMemory())\n"
        "    await update.message.reply_text(chain.predict(input=update.message.text))\n\n\n"
        'handler = CommandHandler("ask", answer)\n'
    )
    (tmp_path / "bot.py").write_text(bot, encoding="utf-8")
    code, output, _ = invoke("verify", str(tmp_path / "bot.py"), "--out", str(tmp_path / "out"))
    assert code == 0
    assert "answer(): a bot handler: no test client for this framework" in output
    assert "no chat entry point to drive was found" in output


def test_verify_reports_a_file_that_does_not_parse_and_goes_on(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("def (:\n", encoding="utf-8")
    (tmp_path / "article.py").write_text(PROGRAM, encoding="utf-8")
    code, output, errors = invoke("verify", str(tmp_path), "--out", str(tmp_path / "out"))
    assert code == 1
    assert "broken.py: cannot parse" in errors
    assert "test_memfix_article.py: ask()" in output


@pytest.mark.parametrize("name", ["../escaped.py", "sub/../../escaped.py", "/tmp/escaped.py"])
def test_a_generated_file_is_never_written_outside_the_out_folder(
    tmp_path: Path, name: str
) -> None:
    out = tmp_path / "out"
    with pytest.raises(VerifyWriteError, match="the name leads outside"):
        write_generated(out, name, f"{MARKER}\n")
    assert not (tmp_path / "escaped.py").exists()


def test_a_link_in_the_out_folder_is_never_written_through(tmp_path: Path) -> None:
    out, victim = tmp_path / "out", tmp_path / "victim.py"
    out.mkdir()
    victim.write_text(f"{MARKER}\nkept = True\n", encoding="utf-8")
    (out / "conftest.py").symlink_to(victim)
    with pytest.raises(VerifyWriteError, match="a link is there"):
        write_generated(out, "conftest.py", f"{MARKER}\n")
    assert victim.read_text(encoding="utf-8") == f"{MARKER}\nkept = True\n"
