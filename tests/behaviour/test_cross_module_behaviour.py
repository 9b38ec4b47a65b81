"""Two-module apps, fixed by memfix and then run for real by two users with a fake model.

The memory lives in `memory.py`, the route in `routes.py`. Before the fix user B's
prompt carries user A's turn; after it A's second turn sees A's first and never B's.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest
from fastapi.testclient import TestClient

from memfix.config import Settings
from memfix.pipeline.runner import fix_paths
from tests.support.conversations import Say, conversation, remembers_apart
from tests.support.programs import FASTAPI_ROUTES, FLASK_MEMORY, FLASK_ROUTES, MEMORY

PACKAGE = "chatpkg"  # a name no other test imports
User = Callable[[ModuleType], Say]


@pytest.fixture
def load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, legacy_langchain: None) -> Iterator[Path]:
    """A folder on sys.path to import `chatpkg` from; the package is forgotten afterwards."""
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in [n for n in sys.modules if n == PACKAGE or n.startswith(f"{PACKAGE}.")]:
        del sys.modules[name]


def write_package(root: Path, memory: str, routes: str) -> None:
    folder = root / PACKAGE
    folder.mkdir()
    (folder / "__init__.py").write_text("")
    (folder / "memory.py").write_text(memory)
    (folder / "routes.py").write_text(routes.replace("from app.", f"from {PACKAGE}."))


def fix(root: Path) -> None:
    settings = Settings(jobs=1, select=("shared-global-state",))
    for result in fix_paths([root], settings, cache=False):
        assert not result.failed, result.error
        if result.changed:
            Path(result.path).write_text(result.after)


def fastapi_user(routes: ModuleType) -> Say:
    client = TestClient(routes.app)

    def say(user: str, message: str) -> None:
        response = client.post("/chat", params={"user_id": user, "message": message})
        assert response.status_code == 200, response.text

    return say


def flask_user(routes: ModuleType) -> Say:
    client = routes.app.test_client()

    def say(user: str, message: str) -> None:
        response = client.post("/chat", json={"user_id": user, "message": message})
        assert response.status_code == 200, response.text

    return say


def routes() -> ModuleType:
    return importlib.import_module(f"{PACKAGE}.routes")


CASES = [
    pytest.param(MEMORY, FASTAPI_ROUTES, fastapi_user, id="FastAPI, absolute import"),
    pytest.param(FLASK_MEMORY, FLASK_ROUTES, flask_user, id="Flask, relative import"),
]


@pytest.mark.parametrize(("memory", "source", "user"), CASES)
def test_the_fixed_app_remembers_each_user_apart(
    load: Path, memory: str, source: str, user: User
) -> None:
    write_package(load, memory, source)
    fix(load)
    assert "get_session_" in (load / PACKAGE / "routes.py").read_text()
    prompts = conversation(user(routes()))
    assert remembers_apart(prompts), prompts


@pytest.mark.parametrize(("memory", "source", "user"), CASES)
def test_before_the_fix_user_b_sees_user_a(
    load: Path, memory: str, source: str, user: User
) -> None:
    write_package(load, memory, source)
    _, of_b = conversation(user(routes()))
    assert "My name is Sam" in of_b
