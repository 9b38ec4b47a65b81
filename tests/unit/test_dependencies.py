"""The packages a fix needs reach the project's requirements.txt or pyproject.toml."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from memfix.codemods.in_process_history.transform import InProcessHistory
from memfix.config import Settings
from memfix.deps.dependencies import (
    Need,
    add_packages,
    dependency_result,
    is_requirements,
    preferred,
)
from memfix.files.discover import dependency_file
from memfix.pipeline import runner
from memfix.pipeline.engine import fix_source
from memfix.pipeline.notebooks import fix_notebook
from memfix.results import Fix, Status
from memfix.source.diff import unified_diff
from tests.support.cli import invoke
from tests.support.fixtures import parse_fixture

SQLITE = ("langchain-community", "sqlalchemy")
FIXTURE = Path(__file__).parents[1] / "fixtures" / "in-process-history" / "lcel_store.py"


def added(name: str, text: str, packages: tuple[str, ...] = SQLITE) -> str:
    addition = add_packages(name, text, packages)
    assert addition.problem is None, addition.problem
    return addition.text


@pytest.mark.parametrize(
    ("before", "after"),
    [
        pytest.param(
            "flask>=3\n",
            "flask>=3\nlangchain-community\nsqlalchemy\n",
            id="both missing",
        ),
        pytest.param(
            "sqlalchemy[asyncio]>=2.0,<3\n",
            "sqlalchemy[asyncio]>=2.0,<3\nlangchain-community\n",
            id="present with extras and a specifier",
        ),
        pytest.param(
            "Langchain_Community==0.3.1  # pinned\nSQLAlchemy; python_version >= '3.9'\n",
            "Langchain_Community==0.3.1  # pinned\nSQLAlchemy; python_version >= '3.9'\n",
            id="present in another case, with underscores, a comment and a marker",
        ),
        pytest.param("flask", "flask\nlangchain-community\nsqlalchemy\n", id="no final newline"),
        pytest.param(
            "flask\r\nsqlalchemy\r\n", "flask\r\nsqlalchemy\r\nlangchain-community\r\n", id="CRLF"
        ),
        pytest.param("", "langchain-community\nsqlalchemy\n", id="empty file"),
        pytest.param(
            "# sqlalchemy comes later\n-r base.txt\n-e ./vendor/langchain-community\n"
            "--index-url https://example.com/simple\nflask  # sqlalchemy too\n",
            "# sqlalchemy comes later\n-r base.txt\n-e ./vendor/langchain-community\n"
            "--index-url https://example.com/simple\nflask  # sqlalchemy too\n"
            "langchain-community\nsqlalchemy\n",
            id="comments and option lines name no package",
        ),
        pytest.param(
            "langchain-community @ https://example.com/lc.whl\n"
            "https://example.com/sqlalchemy-2.0.whl\n",
            "langchain-community @ https://example.com/lc.whl\n"
            "https://example.com/sqlalchemy-2.0.whl\nsqlalchemy\n",
            id="a direct reference names its package, a bare URL none",
        ),
        pytest.param(
            "flask==3.0 \\\n    --hash=sha256:abc\n",
            "flask==3.0 \\\n    --hash=sha256:abc\nlangchain-community\nsqlalchemy\n",
            id="a continued line",
        ),
        pytest.param(
            "flask==3.0 \\",
            "flask==3.0 \\\n\nlangchain-community\nsqlalchemy\n",
            id="a last line that continues: a blank line ends it",
        ),
    ],
)
def test_requirements(before: str, after: str) -> None:
    assert added("requirements.txt", before) == after


def test_requirements_that_list_everything_are_unchanged() -> None:
    addition = add_packages("requirements.txt", "sqlalchemy\nlangchain.community\n", SQLITE)
    assert (addition.text, addition.missing) == ("sqlalchemy\nlangchain.community\n", ())


PROJECT = '[project]\nname = "app"\n'
TAIL = "\n[tool.ruff]\nline-length = 100\n"


@pytest.mark.parametrize(
    ("before", "after"),
    [
        pytest.param(
            'dependencies = [\n    "flask>=3",\n    "langchain-core",  # the base\n]\n',
            'dependencies = [\n    "flask>=3",\n    "langchain-core",  # the base\n'
            '    "langchain-community",\n    "sqlalchemy",\n]\n',
            id="one a line, trailing comma, a comment",
        ),
        pytest.param(
            'dependencies = [\n  "flask>=3",\n  "langchain-core"\n]\n',
            'dependencies = [\n  "flask>=3",\n  "langchain-core",\n'
            '  "langchain-community",\n  "sqlalchemy"\n]\n',
            id="one a line, no trailing comma, two-space indent",
        ),
        pytest.param(
            "dependencies = ['flask', 'SQLAlchemy>=2']\n",
            "dependencies = ['flask', 'SQLAlchemy>=2', 'langchain-community']\n",
            id="one line, single quotes",
        ),
        pytest.param(
            'dependencies = ["flask",]\n',
            'dependencies = ["flask", "langchain-community", "sqlalchemy",]\n',
            id="one line with a trailing comma",
        ),
        pytest.param(
            "dependencies = []\n",
            'dependencies = ["langchain-community", "sqlalchemy"]\n',
            id="empty",
        ),
        pytest.param(
            "dependencies = [\n]\n",
            'dependencies = [\n    "langchain-community",\n    "sqlalchemy",\n]\n',
            id="empty, on two lines",
        ),
        pytest.param(
            'dependencies = [\n    "flask",\n    "httpx"]\n',
            'dependencies = [\n    "flask",\n    "httpx",\n'
            '    "langchain-community",\n    "sqlalchemy"]\n',
            id="closed on the last item's line",
        ),
    ],
)
def test_pyproject_dependency_array(before: str, after: str) -> None:
    assert added("pyproject.toml", PROJECT + before + TAIL) == PROJECT + after + TAIL


def test_pyproject_keeps_crlf() -> None:
    before = '[project]\r\nname = "app"\r\ndependencies = [\r\n    "flask",\r\n]\r\n'
    assert added("pyproject.toml", before) == (
        '[project]\r\nname = "app"\r\ndependencies = [\r\n    "flask",\r\n'
        '    "langchain-community",\r\n    "sqlalchemy",\r\n]\r\n'
    )


def test_poetry_table() -> None:
    before = (
        '[tool.poetry]\nname = "app"\n\n[tool.poetry.dependencies]\npython = "^3.10"\n'
        'Flask = { version = "^3", extras = ["async"] }\nSQLAlchemy = "^2"\n\n'
        '# what the tests need\n[tool.poetry.group.dev.dependencies]\npytest = "*"\n'
    )
    assert added("pyproject.toml", before) == (
        '[tool.poetry]\nname = "app"\n\n[tool.poetry.dependencies]\npython = "^3.10"\n'
        'Flask = { version = "^3", extras = ["async"] }\nSQLAlchemy = "^2"\n'
        'langchain-community = "*"\n\n'
        '# what the tests need\n[tool.poetry.group.dev.dependencies]\npytest = "*"\n'
    )


def test_the_pep_621_list_comes_before_poetry() -> None:
    before = PROJECT + 'dependencies = ["flask"]\n\n[tool.poetry.dependencies]\npython = "*"\n'
    assert added("pyproject.toml", before, ("redis",)) == before.replace(
        '["flask"]', '["flask", "redis"]'
    )


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        pytest.param(
            '[project\nname = "app"\ndependencies = []\n',
            "pyproject.toml is not valid TOML",
            id="invalid TOML",
        ),
        pytest.param(
            PROJECT + 'dynamic = ["dependencies"]\n',
            "pyproject.toml has no [project] dependencies or [tool.poetry.dependencies]",
            id="no dependency list",
        ),
        pytest.param(
            PROJECT + 'dependencies = [\n    "flask", { not = "a string" },\n]\n',
            "memfix cannot edit its [project] dependencies in place",
            id="an array memfix does not edit",
        ),
        pytest.param(
            PROJECT + 'dependencies = """\nflask\n"""\n[project.urls]\n',
            "pyproject.toml has no [project] dependencies or [tool.poetry.dependencies]",
            id="a string where the list should be",
        ),
    ],
)
def test_a_pyproject_that_cannot_be_edited_is_left_alone(text: str, problem: str) -> None:
    addition = add_packages("pyproject.toml", text, SQLITE)
    assert (addition.text, addition.missing, addition.problem) == (text, SQLITE, problem)


def test_names_the_file_lists_are_not_added_to_pyproject() -> None:
    text = PROJECT + 'dependencies = ["langchain_community>=0.3", "SQLAlchemy[asyncio]"]\n'
    addition = add_packages("pyproject.toml", text, SQLITE)
    assert (addition.text, addition.missing, addition.problem) == (text, (), None)


def test_which_file_a_folder_edits() -> None:
    assert is_requirements("requirements-prod.txt")
    assert not is_requirements("requirements-dev.txt")
    assert not is_requirements("requirements_test.txt")
    assert not is_requirements("requirements.lock")
    names = ["pyproject.toml", "requirements-dev.txt", "requirements-prod.txt", "setup.py"]
    assert preferred(names) == ["requirements-prod.txt", "pyproject.toml"]
    assert preferred([*names, "requirements.txt", "requirements.in"]) == [
        "requirements.in",
        "requirements.txt",
        "requirements-prod.txt",
        "pyproject.toml",
    ]


def test_dependency_result() -> None:
    needs = [
        Need("app/chat.py", SQLITE, "in-process-history"),
        Need("app/other.py", ("sqlalchemy", "flask"), "in-process-history"),
        Need("app/third.py", ("flask",), "in-process-history"),
    ]
    result = dependency_result("requirements.txt", "flask\n", needs)
    assert result is not None
    assert result.status is Status.CHANGED
    assert result.after == "flask\nlangchain-community\nsqlalchemy\n"
    assert result.diff == unified_diff(result.before, result.after, "requirements.txt")
    [finding] = result.findings
    assert finding.codemod == "in-process-history"
    assert finding.message == (
        "lacks langchain-community, sqlalchemy, needed by the fixes in app/chat.py, app/other.py"
    )
    assert (finding.line, finding.fix, finding.fixed, finding.applied) == (1, Fix.SAFE, True, True)
    assert (
        dependency_result("requirements.txt", "flask\nsqlalchemy\nlangchain-community\n", needs)
        is None
    )


def test_a_dependency_file_that_cannot_be_edited_is_reported() -> None:
    text = "[project\n"
    result = dependency_result(
        "pyproject.toml", text, [Need("chat.py", SQLITE, "in-process-history")]
    )
    assert result is not None
    assert (result.status, result.before, result.after, result.diff) == (
        Status.UNCHANGED,
        text,
        text,
        "",
    )
    [finding] = result.findings
    assert finding.message == (
        "lacks langchain-community, sqlalchemy, needed by the fix in chat.py; "
        "add them by hand: pyproject.toml is not valid TOML"
    )
    assert not finding.fixed and not finding.applied


def test_the_nearest_dependency_file_below_the_top(tmp_path: Path) -> None:
    app = tmp_path / "service" / "app"
    app.mkdir(parents=True)
    (app / "chat.py").write_text("", encoding="utf-8")
    (tmp_path / "requirements.txt").write_text("flask\n", encoding="utf-8")
    service = tmp_path / "service"
    (service / "requirements-dev.txt").write_text("pytest\n", encoding="utf-8")
    (service / "pyproject.toml").write_text('[tool.memfix]\nselect = ["x"]\n', encoding="utf-8")
    # Within the folder that was given, nothing lists dependencies; above it is not looked at.
    assert dependency_file(app / "chat.py", [service]) is None
    assert dependency_file(app / "chat.py", [service, tmp_path]) == tmp_path / "requirements.txt"
    (service / "pyproject.toml").write_text(PROJECT + "dependencies = []\n", encoding="utf-8")
    assert dependency_file(app / "chat.py", [service]) == service / "pyproject.toml"
    (service / "requirements-prod.txt").write_text("flask\n", encoding="utf-8")
    assert dependency_file(app / "chat.py", [service]) == service / "requirements-prod.txt"


def test_the_engine_gathers_the_packages_of_applied_edits() -> None:
    source, _, _ = parse_fixture(FIXTURE)
    result = fix_source(source, path="chat.py", codemods=[InProcessHistory], settings=Settings())
    assert result.changed
    assert (result.packages, result.packages_by) == (SQLITE, ("in-process-history",))
    asynchronous = source.replace("chain.invoke(", "await chain.ainvoke(").replace(
        "def ask", "async def ask"
    )
    result = fix_source(
        asynchronous, path="chat.py", codemods=[InProcessHistory], settings=Settings()
    )
    assert result.packages == (*SQLITE, "aiosqlite")
    # Report only (two keys into one dict): no edit, so nothing to install.
    two_keys = source.replace("store[session_id] = ", "store[session_id.lower()] = ")
    result = fix_source(two_keys, path="chat.py", codemods=[InProcessHistory], settings=Settings())
    assert result.findings and not result.changed
    assert result.packages == ()


def test_a_notebook_passes_the_packages_on() -> None:
    source, _, _ = parse_fixture(FIXTURE)
    cell = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None}
    book = {
        "cells": [{**cell, "source": source.splitlines(keepends=True)}],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    result = fix_notebook(
        json.dumps(book, indent=1),
        path="nb.ipynb",
        codemods=[InProcessHistory],
        settings=Settings(),
    )
    assert result.changed, result.error
    assert (result.packages, result.packages_by) == (SQLITE, ("in-process-history",))


@pytest.fixture
def store_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project with a requirements.txt and a module keeping histories in a dict."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    root = tmp_path / "project"
    (root / "app").mkdir(parents=True)
    (root / "requirements.txt").write_bytes(b"fastapi>=0.110\r\nlangchain-openai\r\n")
    source, _, _ = parse_fixture(FIXTURE)
    (root / "app" / "chat.py").write_text(source, encoding="utf-8")
    monkeypatch.chdir(root)
    return root


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    return {
        p.relative_to(root).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_apply_adds_the_packages_in_the_same_change(store_project: Path) -> None:
    source, expected, _ = parse_fixture(FIXTURE)
    assert expected is not None
    requirements = "fastapi>=0.110\r\nlangchain-openai\r\n"
    fixed_requirements = requirements + "langchain-community\r\nsqlalchemy\r\n"
    before = snapshot(store_project)

    code, out, err = invoke("apply", "--dry-run", "--select", "in-process-history")
    assert code == 1, err
    shown = unified_diff(requirements, fixed_requirements, "requirements.txt")
    # CliRunner's stdout turns CRLF into LF; the file keeps its CRLF (checked below).
    assert out == unified_diff(source, expected, "app/chat.py") + shown.replace("\r\n", "\n")
    assert snapshot(store_project) == before

    code, out, err = invoke("apply", "--yes", "--select", "in-process-history")
    assert code == 0, err
    assert "Fixed 2 files." in err
    assert (store_project / "app" / "chat.py").read_text(encoding="utf-8") == expected
    assert (store_project / "requirements.txt").read_bytes() == fixed_requirements.encode()

    written = snapshot(store_project)
    code, out, err = invoke("apply", "--yes", "--select", "in-process-history")
    assert (code, out) == (0, ""), err
    assert snapshot(store_project) == written


def test_check_names_the_dependency_file(store_project: Path) -> None:
    code, out, _ = invoke("check", "--select", "in-process-history")
    assert code == 1
    assert out.splitlines()[-1] == (
        "requirements.txt:1:1: in-process-history lacks langchain-community, sqlalchemy, "
        "needed by the fix in app/chat.py [*]"
    )


def test_a_listed_package_or_no_dependency_file_adds_nothing(store_project: Path) -> None:
    (store_project / "requirements.txt").write_text(
        "SQLAlchemy\nlangchain_community\n", encoding="utf-8"
    )
    code, out, _ = invoke("apply", "--dry-run", "--select", "in-process-history")
    assert code == 1
    assert "requirements.txt" not in out
    (store_project / "requirements.txt").unlink()
    code, out, _ = invoke("apply", "--dry-run", "--select", "in-process-history")
    assert code == 1
    assert out.startswith("--- a/app/chat.py\n") and out.count("--- a/") == 1


def test_the_search_stops_at_the_folder_given(store_project: Path) -> None:
    code, out, _ = invoke("apply", "--dry-run", "--select", "in-process-history", "app")
    assert code == 1
    assert out.count("--- a/") == 1  # ../requirements.txt is above `app`, outside git


def test_pyproject_edit_end_to_end(store_project: Path) -> None:
    (store_project / "requirements.txt").unlink()
    pyproject = PROJECT + 'dependencies = [\n    "fastapi",\n]\n'
    (store_project / "pyproject.toml").write_text(pyproject, encoding="utf-8")
    code, _, err = invoke("apply", "--yes", "--select", "in-process-history")
    assert code == 0, err
    assert (store_project / "pyproject.toml").read_text(encoding="utf-8") == PROJECT + (
        'dependencies = [\n    "fastapi",\n    "langchain-community",\n    "sqlalchemy",\n]\n'
    )


def test_cached_results_still_add_the_packages(store_project: Path, tmp_path: Path) -> None:
    settings = Settings(select=("in-process-history",))
    first = runner.fix_paths([Path(".")], settings, cache_dir=tmp_path / "runs")
    again = runner.fix_paths([Path(".")], settings, cache_dir=tmp_path / "runs")
    assert [r.path for r in first] == ["app/chat.py", "requirements.txt"]
    assert again == first


def test_in_a_git_repository_the_search_reaches_its_root(store_project: Path) -> None:
    subprocess.run(["git", "init", "-q"], cwd=store_project, check=True)
    code, out, _ = invoke("apply", "--dry-run", "--select", "in-process-history", "app")
    assert code == 1
    assert [line for line in out.splitlines() if line.startswith("+++")] == [
        "+++ b/app/chat.py",
        "+++ b/requirements.txt",
    ]
