"""What counts as memfix's own fault in a result: an internal error, or a fix it rejected."""

from __future__ import annotations

import re

from memfix.results import FileResult

# A fix that failed validation leaves the file as it was (exit 1, like an unreadable
# file), but it is still a bug in the codemod that wrote it.
_REJECTED = re.compile(r"\bfix (?:by .+ )?rejected: ")


def memfix_fault(result: FileResult) -> str | None:
    """The error when memfix itself failed on the file, else None."""
    if result.internal or _REJECTED.search(result.error or ""):
        return result.error or "internal error"
    return None
