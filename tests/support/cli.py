"""memfix's CLI driven in process, as a user would type it."""

from __future__ import annotations

from typer.testing import CliRunner

from memfix.cli import app


def invoke(*args: str, input: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), input=input)
    return result.exit_code, result.stdout, result.stderr
