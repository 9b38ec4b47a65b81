"""The registry: names known without importing the codemods, and the same as their classes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from memfix.errors import UnknownCodemodError
from memfix.rules import registry


def test_names_are_the_codemod_classes_names_in_run_order() -> None:
    assert registry.names() == tuple(codemod.NAME for codemod in registry.all_codemods())


def test_each_codemod_is_named_after_its_module() -> None:
    for codemod in registry.all_codemods():
        package = "memfix.codemods." + codemod.NAME.replace("-", "_")
        assert codemod.__module__ == package + ".transform"


def test_selected_names_checks_and_orders() -> None:
    chosen = registry.selected_names(("unwired-memory", "per-call-state"), ())
    assert chosen == ("per-call-state", "unwired-memory")
    assert "per-call-state" not in registry.selected_names((), ("per-call-state",))
    with pytest.raises(UnknownCodemodError, match="per-call-stat"):
        registry.selected_names(("per-call-stat",), ())


def _modules_loaded_by_a_check(tree: Path, *args: str) -> set[str]:
    script = (
        "import sys\n"
        "from memfix.cli import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(' '.join(sorted(sys.modules)), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, "check", "--quiet", *args, str(tree)],
        capture_output=True,
        text=True,
        env={**os.environ, "MEMFIX_NO_CACHE": "1"},
        check=False,
    )
    return set(done.stderr.strip().splitlines()[-1].split())  # the last line: the modules


def test_a_tree_without_langchain_never_loads_libcst(tmp_path: Path) -> None:
    (tmp_path / "plain.py").write_text("import os\nprint(os.getcwd())\n", encoding="utf-8")
    (tmp_path / "web.py").write_text("from flask import Flask\napp = Flask(__name__)\n")
    loaded = _modules_loaded_by_a_check(tmp_path)
    assert "memfix.pipeline.runner" in loaded  # the check did run
    assert "libcst" not in loaded
    assert not {rule.module for rule in registry.rules()} & loaded  # no codemod's class


def test_a_langchain_file_loads_the_codemods(tmp_path: Path) -> None:
    (tmp_path / "bot.py").write_text(
        "from langchain.memory import ConversationBufferMemory\n"
        "memory = ConversationBufferMemory()\n",
        encoding="utf-8",
    )
    loaded = _modules_loaded_by_a_check(tmp_path)
    assert "libcst" in loaded and "memfix.codemods.per_call_state.transform" in loaded
