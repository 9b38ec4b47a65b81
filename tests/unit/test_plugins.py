"""Rules from other distributions: examples/plugin installed beside memfix, and broken plugins.

The example is installed with pip into a temporary folder, and memfix runs in a
subprocess with that folder on PYTHONPATH, as it would for a user who installed both.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).parents[2] / "examples" / "plugin"
NAME = "verbose-memory-print"
PROGRAM = (
    "from langchain.chains import ConversationChain\n"
    "from langchain.memory import ConversationBufferMemory\n"
    "from langchain_openai import ChatOpenAI\n"
    "\n"
    "llm = ChatOpenAI()\n"
    "chain = ConversationChain(llm=llm, memory=ConversationBufferMemory(), verbose=True)\n"
)


def _builds_wheels_offline() -> bool:
    """Whether pip can build the example without fetching a build backend."""
    if importlib.util.find_spec("setuptools") is None:
        return False
    from setuptools import __version__ as version

    major, minor = (int(part) for part in version.split(".")[:2])
    return (major, minor) >= (70, 1) or importlib.util.find_spec("wheel") is not None


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the example plugin, installed by pip as a user would."""
    if not _builds_wheels_offline():
        pytest.skip("building the example needs setuptools>=70.1 or wheel: pip install wheel")
    source = tmp_path_factory.mktemp("plugin-source") / "plugin"
    shutil.copytree(EXAMPLE, source)  # pip builds in the source folder: keep the tree clean
    target = tmp_path_factory.mktemp("site")
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps"]
    command += ["--no-build-isolation", "--no-index", "--target", str(target), str(source)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return target


def environment(path: Path | None) -> dict[str, str]:
    """This process's environment, with `path` in front of PYTHONPATH and no result cache."""
    env = {**os.environ, "MEMFIX_NO_CACHE": "1", "NO_COLOR": "1"}
    if path is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(path), env.get("PYTHONPATH")]))
    return env


def memfix(*args: str, path: Path | None, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the memfix CLI in a fresh process that also finds what is installed in `path`."""
    return subprocess.run(
        [sys.executable, "-m", "memfix", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environment(path),
        check=False,
    )


@pytest.fixture
def app(tmp_path: Path) -> Path:
    """A folder holding one program with a verbose chain (and a legacy one)."""
    folder = tmp_path / "app"
    folder.mkdir()
    (folder / "bot.py").write_text(PROGRAM, encoding="utf-8")
    return folder


def test_an_installed_plugin_is_listed_with_its_fix_availability(
    installed: Path, tmp_path: Path
) -> None:
    done = memfix("rules", path=installed, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    [row] = [line for line in done.stdout.splitlines() if line.startswith(NAME)]
    assert row.split()[1:3] == ["safe", "always"]
    assert "per-call-state" in done.stdout


def test_a_run_without_the_plugin_does_not_know_its_rule(tmp_path: Path) -> None:
    done = memfix("rules", path=None, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert NAME not in done.stdout
    assert memfix("check", "--select", NAME, ".", path=None, cwd=tmp_path).returncode == 2


def test_check_reports_the_plugins_finding_beside_the_built_in_ones(
    installed: Path, app: Path
) -> None:
    done = memfix("check", ".", path=installed, cwd=app)
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    assert (
        "bot.py:6:9: verbose-memory-print ConversationChain with verbose=True prints every "
        "turn of the conversation [*]"
    ) in lines
    assert any(" legacy-conversation-chain " in line for line in lines)


def test_select_apply_and_a_suppression_treat_the_plugin_as_a_built_in_rule(
    installed: Path, app: Path
) -> None:
    done = memfix("apply", "--dry-run", "--select", NAME, ".", path=installed, cwd=app)
    assert done.returncode == 1, done.stderr
    assert "+chain = ConversationChain(llm=llm, memory=ConversationBufferMemory())\n" in done.stdout
    assert "legacy-conversation-chain" not in done.stdout + done.stderr
    silenced = PROGRAM.replace("verbose=True)\n", f"verbose=True)  # memfix: ignore[{NAME}]\n")
    (app / "bot.py").write_text(silenced, encoding="utf-8")
    quiet = memfix("check", "--select", NAME, ".", path=installed, cwd=app)
    assert quiet.returncode == 0 and NAME not in quiet.stdout, quiet.stdout + quiet.stderr


def test_explain_and_sarif_describe_the_plugin_from_its_declaration(
    installed: Path, app: Path
) -> None:
    explained = memfix("explain", NAME, path=installed, cwd=app)
    assert explained.returncode == 0, explained.stderr
    assert explained.stdout.startswith(f"# {NAME} (fix: safe)\n")
    for section in ("## What it does", "## Why is this bad?", "## Example", "## Fix safety"):
        assert section in explained.stdout
    sarif = memfix("check", "--format", "sarif", ".", path=installed, cwd=app)
    assert f'"id": "{NAME}"' in sarif.stdout and f'"ruleId": "{NAME}"' in sarif.stdout


def test_the_plugins_own_examples_pass_memfixs_checker(installed: Path, tmp_path: Path) -> None:
    script = (
        "from memfix.rules.registry import by_name\n"
        "from memfix.testing import check_example, examples\n"
        f"cases = list(examples(by_name({NAME!r})))\n"
        "for case in cases:\n"
        "    check_example(case)\n"
        "print(len(cases))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=environment(installed),
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) >= 2


def _distribution(folder: Path, name: str, entry_point: str, module: str, code: str) -> Path:
    """A distribution as an installer leaves it: its metadata, entry points and a module."""
    info = folder / f"{name.replace('-', '_')}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[memfix.codemods]\n{entry_point}\n")
    (folder / f"{module}.py").write_text(code, encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    ("command", "entry_point", "code", "problem"),
    [
        pytest.param(
            ["rules"],
            "broken = memfix_broken:RULE",
            'raise RuntimeError("half-written")\n',
            "entry point 'broken' (memfix_broken:RULE) cannot be loaded: RuntimeError",
            id="rules: its module raises on import",
        ),
        pytest.param(
            ["check", "."],
            "per-call-state = memfix_broken:RULE",
            "from memfix.rules import FixAvailability, Rule\n"
            'RULE = Rule(name="per-call-state", load="memfix_broken:X", '
            "fix=FixAvailability.NEVER)\n",
            "its rule 'per-call-state' has the name of a built-in rule",
            id="check: its rule has a built-in rule's name",
        ),
        pytest.param(
            ["explain", "per-call-state"],
            "lonely = memfix_broken:RULE",
            "RULE = 'lonely'\n",
            "names a str, not a Rule",
            id="explain: its entry point names no rule",
        ),
    ],
)
def test_a_bad_plugin_stops_the_run_with_an_error_naming_its_distribution(
    app: Path, command: list[str], entry_point: str, code: str, problem: str
) -> None:
    site = _distribution(app.parent / "site", "memfix-broken", entry_point, "memfix_broken", code)
    done = memfix(*command, path=site, cwd=app)
    assert done.returncode == 2
    assert done.stderr.startswith("error: plugin memfix-broken: "), done.stderr
    assert problem in done.stderr
    assert "Traceback" not in done.stderr
