"""The command line: parses, calls the engine, renders, exits."""

from __future__ import annotations

import enum
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from memfix import __version__
from memfix.config import Backend, Settings
from memfix.errors import MemfixError
from memfix.results import FileResult

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Find and fix LangChain memory that does not persist.",
)


class Format(str, enum.Enum):
    TEXT = "text"
    JSON = "json"


Paths = Annotated[list[Path] | None, typer.Argument(help="Files or folders. Default: .")]
Select = Annotated[
    list[str] | None,
    typer.Option("--select", help="Run only these codemods (comma-separated or repeated)."),
]
Ignore = Annotated[
    list[str] | None, typer.Option("--ignore", help="Skip these codemods (comma-separated).")
]
Exclude = Annotated[
    list[str] | None, typer.Option("--exclude", help="Glob of files or folders to leave out.")
]
UnsafeFixes = Annotated[
    bool, typer.Option("--unsafe-fixes", help="Also apply fixes that change a signature.")
]
FormatOption = Annotated[Format, typer.Option("--format", help="Report format.")]
Jobs = Annotated[
    int | None, typer.Option("--jobs", "-j", min=1, help="Processes to use. Default: one per core.")
]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Print findings and diffs only.")]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Also list skipped files.")]
NoPrefilter = Annotated[
    bool, typer.Option("--no-prefilter", help="Parse every file, even those with no LangChain.")
]
BackendOption = Annotated[
    Backend | None, typer.Option("--backend", help="Where persistent history goes.")
]
SessionKey = Annotated[
    str | None, typer.Option("--session-key", help="Name of the stable per-user identity.")
]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"memfix {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Find and fix LangChain memory that does not persist."""


def _split(values: Sequence[str] | None) -> tuple[str, ...] | None:
    if not values:
        return None
    return tuple(part.strip() for value in values for part in value.split(",") if part.strip())


def _settings_or_exit(paths: Sequence[Path], **overrides: object) -> Settings:
    from memfix.config import load_settings

    try:
        settings = load_settings(paths[0] if paths else Path.cwd())
    except MemfixError as error:
        _fail(error)
    return settings.with_overrides(**overrides)


def _fail(error: MemfixError) -> NoReturn:
    typer.echo(f"error: {error}", err=True)
    raise typer.Exit(code=2)


@contextmanager
def _progress(quiet: bool) -> Iterator[object]:
    """A progress bar on stderr for long runs at a terminal; nothing otherwise."""
    if quiet or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("checking"),
        BarColumn(),
        MofNCompleteColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task("files", total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _run(paths: list[Path], settings: Settings, quiet: bool) -> list[FileResult]:
    from memfix import runner

    with _progress(quiet) as update:
        try:
            return runner.fix_paths(paths, settings, progress=update)  # type: ignore[arg-type]
        except MemfixError as error:
            _fail(error)


def _print_problems(results: Sequence[FileResult], verbose: bool) -> None:
    from memfix.report.text import error_line

    for result in results:
        if result.failed or (verbose and result.error):
            typer.echo(error_line(result), err=True)


@app.command()
def check(
    paths: Paths = None,
    select: Select = None,
    ignore: Ignore = None,
    exclude: Exclude = None,
    unsafe_fixes: UnsafeFixes = False,
    output_format: FormatOption = Format.TEXT,
    jobs: Jobs = None,
    quiet: Quiet = False,
    verbose: Verbose = False,
    no_prefilter: NoPrefilter = False,
    backend: BackendOption = None,
    session_key: SessionKey = None,
) -> None:
    """Report what makes chat memory not persist; write nothing."""
    from memfix import report
    from memfix.report.json_report import to_json
    from memfix.report.text import findings_text

    paths = paths or [Path(".")]
    settings = _settings_or_exit(
        paths,
        select=_split(select),
        ignore=_split(ignore),
        exclude=_split(exclude),
        unsafe_fixes=unsafe_fixes or None,
        jobs=jobs,
        prefilter=False if no_prefilter else None,
        backend=backend,
        session_key=session_key,
    )
    results = _run(paths, settings, quiet)
    if output_format is Format.JSON:
        typer.echo(to_json(results), nl=False)
    else:
        typer.echo(findings_text(results), nl=False)
        _print_problems(results, verbose)
        if not quiet:
            typer.echo(report.summary(results), err=True)
    raise typer.Exit(code=report.exit_code(results))


class _Answer(enum.Enum):
    YES = "y"
    NO = "n"
    ALL = "a"
    QUIT = "q"


def _is_interactive() -> bool:
    return sys.stdin.isatty()


def _ask(path: str) -> _Answer:
    while True:
        reply = (
            typer.prompt(
                f"Write {path}? [y]es, [n]o, [a]ll, [q]uit",
                default="n",
                show_default=False,
                err=True,
            )
            .strip()
            .lower()[:1]
        )
        for answer in _Answer:
            if reply == answer.value:
                return answer
        typer.echo("answer y, n, a or q", err=True)


@app.command()
def apply(
    paths: Paths = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show diffs, write nothing.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Write without asking.")] = False,
    select: Select = None,
    ignore: Ignore = None,
    exclude: Exclude = None,
    unsafe_fixes: UnsafeFixes = False,
    output_format: FormatOption = Format.TEXT,
    jobs: Jobs = None,
    quiet: Quiet = False,
    verbose: Verbose = False,
    no_prefilter: NoPrefilter = False,
    backend: BackendOption = None,
    session_key: SessionKey = None,
) -> None:
    """Show each fix as a diff, then write it (after asking, or with --yes)."""
    from memfix import report
    from memfix.report.json_report import to_json
    from memfix.report.text import finding_line
    from memfix.write import WriteError, write_if_unchanged

    paths = paths or [Path(".")]
    settings = _settings_or_exit(
        paths,
        select=_split(select),
        ignore=_split(ignore),
        exclude=_split(exclude),
        unsafe_fixes=unsafe_fixes or None,
        jobs=jobs,
        prefilter=False if no_prefilter else None,
        backend=backend,
        session_key=session_key,
    )
    if output_format is Format.JSON and not (dry_run or yes):
        _fail(MemfixError("--format json needs --dry-run or --yes (there is no one to ask)"))
    results = _run(paths, settings, quiet)
    changed = [result for result in results if result.changed]
    written: list[str] = []
    ask = not (dry_run or yes)
    if ask and changed and not _is_interactive():
        typer.echo(
            "not writing: no terminal to confirm the changes; pass --yes to write "
            "them or --dry-run to only show them",
            err=True,
        )
        dry_run = True
    write_all = yes
    try:
        for result in changed:
            if output_format is Format.TEXT:
                typer.echo(result.diff, nl=False)
            if dry_run:
                continue
            if not write_all:
                answer = _ask(result.path)
                if answer is _Answer.QUIT:
                    break
                if answer is _Answer.NO:
                    continue
                write_all = answer is _Answer.ALL
            try:
                write_if_unchanged(result)
            except WriteError as error:
                typer.echo(f"{error.path}: error: {error.problem}", err=True)
                continue
            written.append(result.path)
    except (KeyboardInterrupt, typer.Abort):
        typer.echo(
            f"\ninterrupted: {len(written)} file(s) written: {', '.join(written) or '-'}", err=True
        )
        raise typer.Exit(code=130) from None

    if output_format is Format.JSON:
        typer.echo(to_json(results), nl=False)
    else:
        _print_problems(results, verbose)
        for result in results:
            for finding in report.remaining(result, written):
                if dry_run and finding.applied:
                    continue  # its diff was just shown
                typer.echo(finding_line(result.path, finding), err=True)
            if result.pending_diff and not quiet:
                typer.echo(f"{result.path}: unsafe fix, applied with --unsafe-fixes:", err=True)
                typer.echo(result.pending_diff, nl=False, err=True)
        if not quiet:
            typer.echo(report.summary(results, written), err=True)
    raise typer.Exit(code=report.exit_code(results, written))


@app.command()
def rules() -> None:
    """List the codemods: name, fix safety, what each finds."""
    from rich.console import Console
    from rich.table import Table

    from memfix.registry import all_codemods

    table = Table("codemod", "fix", "finds", box=None, pad_edge=False)
    for codemod in all_codemods():
        table.add_row(codemod.NAME, codemod.FIX.value, codemod.summary())
    Console(width=max(100, Console().width)).print(table)


@app.command()
def explain(
    name: Annotated[str, typer.Argument(help="A codemod name, as `rules` lists it.")],
) -> None:
    """Print one codemod's documentation: what, why, example, fix safety."""
    from memfix.registry import by_name

    try:
        codemod = by_name(name)
    except MemfixError as error:
        _fail(error)
    typer.echo(f"# {codemod.NAME} (fix: {codemod.FIX.value})\n")
    typer.echo(codemod.documentation())


def main() -> None:
    """The `memfix` console script."""
    app()
