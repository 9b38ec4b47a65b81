"""Which modules a `langgraph.json` serves as LangGraph platform graphs, and where it is read."""

from __future__ import annotations

from pathlib import Path, PurePath

from memfix.project.platform import graph_files, platform_config

CONFIG = '{"dependencies": ["."], "graphs": {"agent": "./src/agent/graph.py:graph"}}'


def test_file_path_graph_is_resolved_from_the_config_folder() -> None:
    found = graph_files(CONFIG, PurePath("/repo"))
    assert found == {PurePath("/repo/src/agent/graph.py")}


def test_dotted_module_graph_and_parent_folders_are_resolved() -> None:
    text = '{"graphs": {"a": "agent.graph:make_graph", "b": "../shared/bot.py:app"}}'
    found = graph_files(text, PurePath("/repo/svc"))
    assert found == {PurePath("/repo/svc/agent/graph.py"), PurePath("/repo/shared/bot.py")}


def test_invalid_or_graphless_config_names_nothing() -> None:
    for text in ("{not json", "[1, 2]", '{"graphs": ["x.py:g"]}', '{"graphs": {"a": 3}}'):
        assert graph_files(text, PurePath("/repo")) == frozenset()


def test_config_above_the_module_within_the_tree_names_it(tmp_path: Path) -> None:
    module = tmp_path / "src" / "agent" / "graph.py"
    module.parent.mkdir(parents=True)
    module.write_text("graph = None\n")
    (tmp_path / "langgraph.json").write_text(CONFIG)
    assert platform_config(module, tmp_path) == (tmp_path / "langgraph.json").resolve()
    assert platform_config(tmp_path / "src" / "other.py", tmp_path) is None


def test_config_outside_the_run_tree_is_not_read(tmp_path: Path) -> None:
    module = tmp_path / "src" / "agent" / "graph.py"
    module.parent.mkdir(parents=True)
    module.write_text("graph = None\n")
    (tmp_path / "langgraph.json").write_text(CONFIG)
    assert platform_config(module, tmp_path / "src") is None


def test_config_that_is_a_link_is_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside.json"
    outside.write_text(CONFIG)
    tree = tmp_path / "tree"
    module = tree / "src" / "agent" / "graph.py"
    module.parent.mkdir(parents=True)
    module.write_text("graph = None\n")
    (tree / "langgraph.json").symlink_to(outside)
    assert platform_config(module, tree) is None


def test_unreadable_config_names_nothing(tmp_path: Path) -> None:
    module = tmp_path / "src" / "agent" / "graph.py"
    module.parent.mkdir(parents=True)
    module.write_text("graph = None\n")
    (tmp_path / "langgraph.json").write_bytes(b"\xff\xfe{")
    assert platform_config(module, tmp_path) is None
