"""A LibCST codemod that changes nothing but asks for the metadata memfix's codemods use.

`python -m libcst.tool codemod noop_codemod.NoopCommand TREE` runs it: the benchmark's
measure of LibCST's own runner doing the analysis memfix does, with no rewrite at all.
"""

from __future__ import annotations

import libcst as cst
from libcst.codemod import VisitorBasedCodemodCommand
from libcst.metadata import PositionProvider, QualifiedNameProvider


class NoopCommand(VisitorBasedCodemodCommand):
    """Resolves every call's qualified name and position, as memfix's codemods do."""

    DESCRIPTION = "Resolve names like memfix, change nothing."
    METADATA_DEPENDENCIES = (QualifiedNameProvider, PositionProvider)

    def visit_Call(self, node: cst.Call) -> None:
        self.get_metadata(QualifiedNameProvider, node, set())
        self.get_metadata(PositionProvider, node)
