"""unstable-session-key on a constant id kept away from the call: module, class, settings."""

from __future__ import annotations

from memfix.codemods.unstable_session_key.transform import UnstableSessionKey
from memfix.config import Settings
from memfix.pipeline.engine import fix_source
from memfix.results import FileResult, Status

GRAPH = (
    "from fastapi import FastAPI\n"
    "from pydantic import BaseModel\n"
    "from langgraph.checkpoint.memory import MemorySaver\n\n"
    "app = FastAPI()\n"
    "graph = builder.compile(checkpointer=MemorySaver())\n"
)
HISTORY = (
    "from fastapi import FastAPI\n"
    "from pydantic import BaseModel\n"
    "from langchain_core.runnables.history import RunnableWithMessageHistory\n\n"
    "app = FastAPI()\n"
    "chat = RunnableWithMessageHistory(runnable, get_history)\n"
)
SCRIPT = (
    "from langgraph.checkpoint.memory import MemorySaver\n\n"
    'THREAD_ID = "1"\n'
    "graph = builder.compile(checkpointer=MemorySaver())\n"
)


def fix(source: str) -> FileResult:
    result = fix_source(source, path="app.py", codemods=[UnstableSessionKey], settings=Settings())
    assert result.status is not Status.FAILED, result.error
    return result


def messages(result: FileResult) -> list[str]:
    return [finding.message for finding in result.findings]


def route(key: str, head: str = GRAPH, constant: str = "") -> str:
    return (
        f"{head}{constant}\n\n"
        "class ChatIn(BaseModel):\n"
        "    user_id: str\n"
        "    message: str\n\n\n"
        '@app.post("/chat")\n'
        "def chat(body: ChatIn) -> dict:\n"
        '    result = graph.invoke({"messages": [("user", body.message)]}, '
        f'config={{"configurable": {{"thread_id": {key}}}}})\n'
        '    return {"answer": result["messages"][-1].content}\n'
    )


def bot(params: str, config: str = '{"configurable": {"thread_id": "abc"}}') -> str:
    return (
        "from langgraph.checkpoint.memory import MemorySaver\n\n\n"
        "class Bot:\n"
        "    def __init__(self) -> None:\n"
        "        self.graph = builder.compile(checkpointer=MemorySaver())\n"
        f"        self.config = {config}\n\n"
        f"    def reply(self, {params}) -> str:\n"
        '        result = self.graph.invoke({"messages": [("user", text)]}, self.config)\n'
        '        return result["messages"][-1].content\n'
    )


def test_module_constant_thread_id_in_a_route_becomes_the_callers_id() -> None:
    result = fix(route("THREAD_ID", constant='THREAD_ID = "1"\n'))
    assert result.after == route("body.user_id", constant='THREAD_ID = "1"\n')
    assert messages(result) == [
        "session key 'thread_id' is the constant THREAD_ID = \"1\": every user shares one "
        "history; use field 'user_id' of body"
    ]


def test_inline_constant_session_id_in_a_route_becomes_the_callers_id() -> None:
    before = route('"abc123"', head=HISTORY).replace("graph.", "chat.")
    result = fix(before)
    assert result.after == before.replace('"abc123"', "body.user_id")


def test_imported_settings_constant_is_reported_naming_its_import_and_replaced() -> None:
    imported = "from settings import SESSION_ID\n"
    result = fix(route("SESSION_ID", head=HISTORY + imported).replace("graph.", "chat."))
    assert result.after == route("body.user_id", head=HISTORY).replace("graph.", "chat.")
    assert messages(result) == [
        "session key 'thread_id' is the constant SESSION_ID imported from settings: every "
        "user shares one history; use field 'user_id' of body"
    ]


def test_imported_lower_case_name_is_not_taken_for_a_constant() -> None:
    source = route("session_key", head=HISTORY + "from ids import session_key\n")
    assert fix(source).findings == ()


def test_config_set_in_init_is_rebuilt_at_the_call_with_the_users_id() -> None:
    result = fix(bot("user_id: str, text: str"))
    expected = bot("user_id: str, text: str").replace(
        '[("user", text)]}, self.config)',
        '[("user", text)]}, {"configurable": {"thread_id": user_id}})',
    )
    assert result.after == expected
    assert messages(result) == [
        "session key 'thread_id' is the constant \"abc\" in self.config: every user shares "
        "one history; use parameter 'user_id'"
    ]


def test_config_set_in_init_without_an_identity_is_reported_with_what_is_missing() -> None:
    source = bot("text: str")
    result = fix(source)
    assert result.after == source
    assert messages(result) == [
        "session key 'thread_id' is the constant \"abc\" in self.config: every user shares "
        "one history; no user identity is in reach in reply() to key it by"
    ]


def test_config_assigned_twice_in_the_class_is_left_alone() -> None:
    source = bot("user_id: str, text: str").replace(
        "    def reply(", "    def reset(self) -> None:\n        self.config = {}\n\n    def reply("
    )
    assert fix(source).findings == ()


def test_constant_thread_in_a_terminal_chat_loop_is_the_intended_demo() -> None:
    source = (
        f"{SCRIPT}\n\ndef chat_loop() -> None:\n"
        "    while True:\n"
        '        config = {"configurable": {"thread_id": THREAD_ID}}\n'
        '        print(graph.invoke({"messages": [("user", input())]}, config))\n'
    )
    assert fix(source).findings == ()


def test_constant_thread_in_a_scripts_main_is_the_intended_demo() -> None:
    source = (
        f"{SCRIPT}\n\ndef main() -> None:\n"
        '    print(graph.invoke({"messages": [("user", "hi")]}, '
        '{"configurable": {"thread_id": THREAD_ID}}))\n'
    )
    assert fix(source).findings == ()


def test_constant_thread_in_a_loop_of_a_web_app_is_still_reported() -> None:
    source = (
        f'{GRAPH}THREAD_ID = "1"\n\n\ndef answer_all(messages: list[str]) -> None:\n'
        "    for text in messages:\n"
        '        graph.invoke({"messages": [("user", text)]}, '
        '{"configurable": {"thread_id": THREAD_ID}})\n'
    )
    assert len(fix(source).findings) == 1
