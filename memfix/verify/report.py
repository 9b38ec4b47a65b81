"""What `memfix verify` tells the user: the tests written, what they drive, what they
could not drive and why, and the command that runs them."""

from __future__ import annotations

from pathlib import Path

from memfix.report.text import printable, printable_path
from memfix.verify.generate import Generation


def verify_report(generation: Generation, out: Path) -> str:
    """The lines printed after the tests are written."""
    lines: list[str] = []
    written = [item.name for item in generation.files[1:]]
    for plan, name in zip(
        [plan for plan in generation.plans if plan.entries], written, strict=True
    ):
        drives = ", ".join(entry.label for entry in plan.entries)
        lines.append(f"{printable_path(str(out / name))}: {printable(drives)}")
    for plan in generation.plans:
        for undriven in plan.undriven:
            lines.append(
                f"not driven: {printable_path(plan.path)}: {printable(undriven.function)}(): "
                f"{printable(undriven.reason)}"
            )
    if written:
        lines.append(f"run them with: python -m pytest {printable_path(str(out))}")
    else:
        lines.append("no chat entry point to drive was found")
    return "\n".join(lines)
