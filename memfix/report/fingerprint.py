"""A finding's fingerprint: the same on every commit that leaves the finding's code alone.

sha256 over the codemod, the file's path, the conversation the finding belongs to (the
dotted name of the function or class around its statement, else the names the
statement binds) and a hash of the statement's own code, normalised (comments, blank
lines, indentation and line breaks gone, strings as Python prints them), truncated to
16 hex digits. Lines added above the finding, or the file reformatted, change none of
these; editing the statement, moving it to another function or another codemod does.
The code is masked (`redact`) before it is hashed, so a fingerprint cannot be used to
guess a secret written in it.
"""

from __future__ import annotations

import hashlib

from memfix.report.redact import redact
from memfix.report.statements import Statement, normalised

LENGTH = 16


def _sha256(*parts: str) -> str:
    data = "\0".join(parts).encode("utf-8", "surrogatepass")
    return hashlib.sha256(data).hexdigest()


def conversation(statement: Statement) -> str:
    """The conversation a statement belongs to: its enclosing scope, else what it binds."""
    return statement.scope or statement.bound


def fingerprint(codemod: str, path: str, statement: Statement) -> str:
    """The 16-hex-digit fingerprint of a `codemod` finding at `statement` of `path`."""
    code = _sha256(redact(normalised(statement.code)))
    where = path.replace("\\", "/").removeprefix("./")
    return _sha256(codemod, where, conversation(statement), code)[:LENGTH]


def occurrence(base: str, number: int) -> str:
    """The fingerprint of the `number`th (from 0) finding that shares fingerprint `base`:
    two identical statements in one function still get fingerprints of their own."""
    return base if number == 0 else _sha256(base, str(number))[:LENGTH]
