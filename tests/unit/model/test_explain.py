"""`memfix check --explain-model` and the model's text and JSON renderings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from memfix.model import build_model, explain_json, explain_text
from tests.support.cli import invoke

PROGRAM = """\
from fastapi import FastAPI
from langchain_core.chat_history import InMemoryChatMessageHistory
from langchain_core.runnables.history import RunnableWithMessageHistory

app = FastAPI()
store = {}


def get_history(session_id):
    return store.setdefault(session_id, InMemoryChatMessageHistory())


chain = RunnableWithMessageHistory(None, get_history)


@app.post("/chat")
def chat(user_id: str, text: str):
    result = chain.invoke(text, config={"configurable": {"session_id": user_id}})
    return result.content
"""


def test_text_tree_names_runnable_state_store_key_call_identity_and_result() -> None:
    text = explain_text(build_model(PROGRAM, "app.py"))
    assert text.startswith("app.py\n  conversation 1: RunnableWithMessageHistory\n")
    for expected in (
        "runnable: history-runnable langchain_core.runnables.history.RunnableWithMessageHistory",
        "lifetime: module",
        "store: setdefault `store` at 6:9, lifetime process",
        "getter: function get_history(session_id) at 9:1",
        "call: chain.invoke() at 18:14 in chat, route (@app.post is a web route)",
        "key: session_id = user_id -> identity",
        "identity: user_id (parameter, guessed)",
        "result: content through result at 19:12",
    ):
        assert expected in text


def test_json_is_the_model_as_plain_data_with_enum_values() -> None:
    data = json.loads(explain_json([build_model(PROGRAM, "app.py")]))
    [conversation] = data[0]["conversations"]
    assert conversation["runnable"]["lifetime"] == "module"
    assert conversation["store"]["lifetime"] == "process"
    call = conversation["calls"][0]
    assert (call["context"], call["key"]["origin"]) == ("route", "identity")
    assert call["result_uses"][0]["kind"] == "content"


def test_unparsable_module_is_explained_as_an_error_line() -> None:
    text = explain_text(build_model("def broken(:\n", "bad.py"))
    assert text.startswith("bad.py\n  error: bad.py: cannot parse:")


def test_check_explain_model_prints_the_tree_and_exits_zero(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(PROGRAM, encoding="utf-8")
    code, out, _ = invoke("check", "--explain-model", str(tmp_path / "app.py"))
    assert code == 0
    assert "conversation 1: RunnableWithMessageHistory" in out
    assert "key: session_id = user_id -> identity" in out


def test_check_explain_model_with_json_format_prints_json(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(PROGRAM, encoding="utf-8")
    code, out, _ = invoke("check", "--explain-model", "--format", "json", str(tmp_path / "app.py"))
    assert code == 0
    [module] = json.loads(out)
    assert module["path"].endswith("app.py")
    assert module["conversations"][0]["getter"]["name"] == "get_history"


def test_check_explain_model_reports_an_undecodable_file_and_goes_on(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_bytes(b"x = '\xff'\n")
    (tmp_path / "b.py").write_text(PROGRAM, encoding="utf-8")
    code, out, err = invoke("check", "--explain-model", str(tmp_path))
    assert code == 0
    assert "a.py" in err and "error" in err
    assert "b.py" in out and "conversation 1" in out


def test_check_explain_model_exits_two_on_an_internal_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(text: str, path: str = "") -> None:
        raise KeyError("boom")

    monkeypatch.setattr("memfix.model.build_model", broken)
    (tmp_path / "app.py").write_text(PROGRAM, encoding="utf-8")
    code, _, err = invoke("check", "--explain-model", str(tmp_path / "app.py"))
    assert code == 2
    assert "internal error:" in err and "app.py" in err
