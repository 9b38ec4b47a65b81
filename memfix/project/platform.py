"""LangGraph platform projects: does a `langgraph.json` name this module as a graph?

The LangGraph platform (`langgraph dev`, LangGraph Server) loads the graphs a
`langgraph.json` lists under `"graphs"` (`"agent": "./src/agent/graph.py:graph"`) and
keeps their threads itself: it rejects a graph compiled with its own checkpointer. The
rules that add or move a checkpointer must know whether the module they fix is one of
those graphs; the run asks here once per file and hands the answer over in its facts.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path, PurePath

CONFIG_NAME = "langgraph.json"


def graph_files(text: str, folder: PurePath) -> frozenset[PurePath]:
    """The module files a `langgraph.json`'s text (in `folder`) names as graphs.

    A graph is `"path/to/file.py:attribute"` (relative to the file's folder) or a dotted
    module `"package.module:attribute"`. Text that is not such JSON names nothing.
    """
    try:
        document = json.loads(text)
    except ValueError:
        return frozenset()
    graphs = document.get("graphs") if isinstance(document, dict) else None
    if not isinstance(graphs, dict):
        return frozenset()
    found: set[PurePath] = set()
    for target in graphs.values():
        if isinstance(target, str) and target.strip():
            found.add(_module_file(target.strip(), folder))
    return frozenset(found)


def _module_file(target: str, folder: PurePath) -> PurePath:
    spec = target.rpartition(":")[0] or target
    if spec.endswith(".py") or "/" in spec:
        return PurePath(*_normal((folder / spec).parts))
    return folder.joinpath(*spec.split(".")).with_suffix(".py")


def _normal(parts: tuple[str, ...]) -> Iterator[str]:
    kept: list[str] = []
    for part in parts:
        if part == "..":
            if kept:
                kept.pop()
        elif part != ".":
            kept.append(part)
    return iter(kept)


def platform_config(location: Path, root: Path) -> Path | None:
    """The `langgraph.json` at or above `location`, up to `root`, naming it as a graph.

    Only folders inside `root` (the tree the run was given) are looked at; a config that
    cannot be read, or is a link (it may lead outside the tree), names nothing.
    """
    target = location.resolve()
    top = root.resolve()
    for folder in target.parents:
        config = folder / CONFIG_NAME
        if target in _read_graphs(config):
            return config
        if folder == top or top not in folder.parents:
            return None
    return None


def _read_graphs(config: Path) -> frozenset[PurePath]:
    try:
        if config.is_symlink() or not config.is_file():
            return frozenset()
        text = config.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return frozenset()
    return graph_files(text, config.parent)
