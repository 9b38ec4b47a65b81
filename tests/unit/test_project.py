"""The repository pass: state in one module, routes in another, fixed on both sides or neither."""

from __future__ import annotations

from pathlib import Path

import pytest

from memfix.config import Settings
from memfix.pipeline.runner import fix_paths
from memfix.results import FileResult, Fix
from tests.support.programs import (
    FASTAPI_ROUTES,
    FASTAPI_ROUTES_FIXED,
    FLASK_MEMORY,
    FLASK_MEMORY_FIXED,
    FLASK_ROUTES,
    FLASK_ROUTES_FIXED,
    MEMORY,
    MEMORY_FIXED,
)

SHARED = Settings(jobs=1, select=("shared-global-state",))
PER_CALL = Settings(jobs=1, select=("per-call-state",))


def write_tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def run(paths: list[str], settings: Settings = SHARED) -> dict[str, FileResult]:
    return {r.path: r for r in fix_paths([Path(p) for p in paths], settings, cache=False)}


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def package(memory: str, routes: str) -> dict[str, str]:
    return {"app/__init__.py": "", "app/memory.py": memory, "app/routes.py": routes}


def messages(result: FileResult) -> list[str]:
    return [f"{f.line}: {f.message}" for f in result.findings]


def test_fastapi_absolute_import_is_fixed_at_the_definition_and_the_use(repo: Path) -> None:
    write_tree(repo, package(MEMORY, FASTAPI_ROUTES))
    results = run(["."])
    assert results["app/memory.py"].after == MEMORY_FIXED
    assert results["app/routes.py"].after == FASTAPI_ROUTES_FIXED
    assert messages(results["app/memory.py"]) == [
        "7: ConversationBufferMemory 'chain' is one object for every user of "
        "POST /chat in app/routes.py:9, so users see each other's turns"
    ]
    assert messages(results["app/routes.py"]) == [
        "3: 'chain' from app/memory.py is one object for every user of chat(), "
        "so users see each other's turns"
    ]
    assert all(f.applied for r in results.values() for f in r.findings)


def test_flask_relative_import_reads_the_identity_from_the_request(repo: Path) -> None:
    write_tree(repo, package(FLASK_MEMORY, FLASK_ROUTES))
    results = run(["app"])
    assert results["app/memory.py"].after == FLASK_MEMORY_FIXED
    assert results["app/routes.py"].after == FLASK_ROUTES_FIXED


def test_a_module_imported_under_an_alias_is_read_through_it(repo: Path) -> None:
    routes = (
        "from fastapi import FastAPI\n"
        "\n"
        "import app.memory as m\n"
        "\n"
        "api = FastAPI()\n"
        "\n"
        "\n"
        '@api.get("/ask")\n'
        "def ask(session_id: str, q: str):\n"
        "    return m.chain.predict(input=q)\n"
    )
    write_tree(repo, package(MEMORY, routes))
    results = run(["."])
    assert results["app/memory.py"].after == MEMORY_FIXED
    assert results["app/routes.py"].after == routes.replace(
        "m.chain.predict", "m.get_session_chain(session_id).predict"
    )
    assert "GET /ask in app/routes.py:9" in results["app/memory.py"].findings[0].message


def test_a_second_run_changes_nothing(repo: Path) -> None:
    write_tree(repo, package(MEMORY_FIXED, FASTAPI_ROUTES_FIXED))
    results = run(["."])
    assert not any(r.changed or r.findings for r in results.values())


def test_a_script_that_imports_the_memory_is_one_conversation(repo: Path) -> None:
    script = "from app.memory import chain\n\nprint(chain.predict(input=input()))\n"
    write_tree(repo, {"app/__init__.py": "", "app/memory.py": MEMORY, "cli.py": script})
    results = run(["."])
    assert not any(r.changed or r.findings for r in results.values())


def test_a_memory_the_caller_hands_in_is_left_alone(repo: Path) -> None:
    routes = FASTAPI_ROUTES.replace("user_id: str, message: str", "chain, message: str")
    write_tree(repo, package(MEMORY, routes))
    results = run(["."])
    assert not any(r.changed or r.findings for r in results.values())


def test_running_on_the_routes_alone_reports_and_changes_nothing(repo: Path) -> None:
    write_tree(repo, package(MEMORY, FASTAPI_ROUTES))
    results = run(["app/routes.py"])
    assert list(results) == ["app/routes.py"]
    [finding] = results["app/routes.py"].findings
    assert (finding.line, finding.fixed, finding.applied) == (3, False, False)
    assert results["app/routes.py"].after == FASTAPI_ROUTES


def test_running_on_the_memory_alone_changes_nothing(repo: Path) -> None:
    write_tree(repo, package(MEMORY, FASTAPI_ROUTES))
    results = run(["app/memory.py"])
    assert results["app/memory.py"].after == MEMORY


def test_a_definition_that_cannot_move_leaves_the_routes_alone(repo: Path) -> None:
    # A helper beside the memory reads it too: the factory cannot replace it there.
    memory = MEMORY + "\n\ndef forget():\n    memory.clear()\n"
    write_tree(repo, package(memory, FASTAPI_ROUTES))
    results = run(["."])
    assert results["app/memory.py"].after == memory
    assert results["app/routes.py"].after == FASTAPI_ROUTES
    assert [f.fixed for r in results.values() for f in r.findings] == [False, False]


def test_a_route_without_identity_needs_unsafe_fixes_on_both_sides(repo: Path) -> None:
    routes = FASTAPI_ROUTES.replace("user_id: str, message: str", "message: str")
    write_tree(repo, package(MEMORY, routes))
    safe = run(["."])
    assert safe["app/memory.py"].after == MEMORY
    assert safe["app/routes.py"].after == routes
    assert [f.fix for r in safe.values() for f in r.findings] == [Fix.UNSAFE, Fix.UNSAFE]
    assert "+    chain = get_session_chain(session_id)" in safe["app/routes.py"].pending_diff
    unsafe = run(["."], Settings(jobs=1, select=("shared-global-state",), unsafe_fixes=True))
    assert unsafe["app/memory.py"].after == MEMORY_FIXED
    assert unsafe["app/routes.py"].after == routes.replace(
        "import chain\n", "import get_session_chain\n"
    ).replace(
        "def chat(message: str):\n",
        "def chat(message: str, session_id: str):\n    chain = get_session_chain(session_id)\n",
    )


def test_the_cache_keeps_results_apart_by_what_other_files_say(
    repo: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    write_tree(repo, package(MEMORY, FASTAPI_ROUTES))
    store = tmp_path_factory.mktemp("cache")
    both = {r.path: r for r in fix_paths([Path(".")], SHARED, cache_dir=store)}
    assert both["app/routes.py"].after == FASTAPI_ROUTES_FIXED
    [alone] = fix_paths([Path("app/routes.py")], SHARED, cache_dir=store)
    assert alone.after == FASTAPI_ROUTES  # not the fixed text cached for the two-file run


def test_a_builder_called_per_request_is_reported_with_its_route(repo: Path) -> None:
    chains = (
        "from langchain.chains import ConversationChain\n"
        "from langchain.memory import ConversationBufferMemory\n"
        "from langchain_openai import ChatOpenAI\n"
        "\n"
        "\n"
        "def build_chain():\n"
        "    return ConversationChain(llm=ChatOpenAI(), memory=ConversationBufferMemory())\n"
    )
    routes = (
        "from fastapi import FastAPI\n"
        "\n"
        "from .chains import build_chain\n"
        "\n"
        "app = FastAPI()\n"
        "\n"
        "\n"
        '@app.post("/chat")\n'
        "def chat(user_id: str, message: str):\n"
        "    return build_chain().predict(input=message)\n"
    )
    write_tree(repo, {"app/__init__.py": "", "app/chains.py": chains, "app/routes.py": routes})
    results = run(["."], PER_CALL)
    assert messages(results["app/chains.py"]) == [
        "7: ConversationBufferMemory built by build_chain() is new on every call, and it is "
        "called per request by POST /chat in app/routes.py:9, so each turn starts empty"
    ]
    assert results["app/chains.py"].findings[0].fix is Fix.NONE
    assert not any(r.changed for r in results.values())


def test_a_chain_built_from_another_modules_memory_is_reported_not_fixed(repo: Path) -> None:
    chain = (
        "from langchain.chains import ConversationChain\n"
        "from langchain_openai import ChatOpenAI\n"
        "\n"
        "from app.memory import memory\n"
        "\n"
        "chain = ConversationChain(llm=ChatOpenAI(), memory=memory)\n"
    )
    routes = FASTAPI_ROUTES.replace("from app.memory import", "from app.chain import")
    write_tree(repo, {**package(FLASK_MEMORY, routes), "app/chain.py": chain})
    results = run(["."])
    assert not any(r.changed for r in results.values())
    assert messages(results["app/chain.py"]) == [
        "6: ConversationBufferMemory 'chain' is one object for every user of "
        "POST /chat in app/routes.py:9, so users see each other's turns"
    ]
    assert [f.fixed for f in results["app/routes.py"].findings] == [False]


def test_the_process_pool_gets_each_files_facts(repo: Path) -> None:
    filler = {f"app/plain_{n}.py": "import os\n" for n in range(30)}
    write_tree(repo, {**package(MEMORY, FASTAPI_ROUTES), **filler})
    results = run(["."], Settings(jobs=2, select=("shared-global-state",)))
    assert results["app/memory.py"].after == MEMORY_FIXED
    assert results["app/routes.py"].after == FASTAPI_ROUTES_FIXED
