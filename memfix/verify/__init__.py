"""`memfix verify`: pytest files that drive each chat entry point of the user's app with
a fake chat model, and check that the second turn sees the first, that a second user
sees none of it, and that a second process sees a stored history.

Pure generation: app text in, test file text out. memfix never imports or runs the
app; the user runs the tests it writes.
"""

from __future__ import annotations

from memfix.verify.generate import AppModule, GeneratedFile, Generation, generate
from memfix.verify.types import EntryPoint, ModulePlan, Undriven

__all__ = [
    "AppModule",
    "EntryPoint",
    "GeneratedFile",
    "Generation",
    "ModulePlan",
    "Undriven",
    "generate",
]
