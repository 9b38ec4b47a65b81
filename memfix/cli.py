"""The command line: parses, calls the engine, renders, exits."""

from __future__ import annotations

import enum
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from memfix import __version__
from memfix.config import Backend, Settings, Target
from memfix.errors import MemfixError
from memfix.results import FileResult

if TYPE_CHECKING:
    from memfix.batch import BatchOptions, FileProgress, RepoOutcome
    from memfix.files.write import Gate, WriteError

    RepoDone = Callable[[RepoOutcome], None]

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Find and fix LangChain memory that does not persist.",
)


class BatchExecutor(str, enum.Enum):
    LOCAL = "local"
    RAY = "ray"


class Format(str, enum.Enum):
    TEXT = "text"
    JSON = "json"
    SARIF = "sarif"
    GITHUB = "github"
    MARKDOWN = "markdown"
    RDJSONL = "rdjsonl"
    JSONL = "jsonl"


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
Output = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write the report to this file.")
]
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
TargetOption = Annotated[
    Target | None,
    typer.Option(
        "--target",
        help=(
            "What legacy chains migrate to: RunnableWithMessageHistory (rwmh), a LangGraph "
            "graph (langgraph) or a LangChain 1.x create_agent (agent)."
        ),
    ),
]
SessionKey = Annotated[
    str | None, typer.Option("--session-key", help="Name of the stable per-user identity.")
]
NoRedact = Annotated[
    bool,
    typer.Option(
        "--no-redact", help="In --format json, keep secrets in diffs and messages as they are."
    ),
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


def _settings_or_exit(paths: Sequence[Path] | None, **overrides: object) -> Settings:
    from memfix.config import load_settings

    try:
        return load_settings(paths[0] if paths else Path.cwd()).with_overrides(**overrides)
    except MemfixError as error:
        _fail(error)


def _default_paths(paths: list[Path] | None, settings: Settings) -> list[Path]:
    """The paths given, else the configured `default-path`, else the current folder."""
    return paths or [Path(settings.default_path or ".")]


def _render(results: Sequence[FileResult], output_format: Format, redacted: bool = True) -> str:
    """The report of `results` in a machine or sharing format (not TEXT)."""
    from memfix.rules import registry

    if output_format is Format.JSON:
        from memfix.report.json_report import to_json

        return to_json(results, redacted=redacted)
    if output_format is Format.SARIF:
        from memfix.report.sarif import to_sarif

        return to_sarif(results, registry.all_codemods())
    if output_format is Format.GITHUB:
        from memfix.report.github import to_github

        return to_github(results)
    if output_format is Format.RDJSONL:
        from memfix.report.rdjsonl import to_rdjsonl

        return to_rdjsonl(results)
    if output_format is Format.JSONL:
        from memfix.report.jsonl import to_jsonl

        return to_jsonl(results)
    from memfix.report.markdown import to_markdown

    return to_markdown(results, {c.NAME: c for c in registry.all_codemods()})


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        typer.echo(text, nl=False)
        return
    from memfix.files.write import Gate, WriteError

    # The report lands where it was named: a link there may not carry it elsewhere.
    try:
        Gate.at(output.absolute().parent).write(output, text.encode("utf-8"))
    except WriteError as error:
        _fail(MemfixError(f"{output}: cannot write the report: {error.problem}"))


def _fail(error: MemfixError) -> NoReturn:
    from memfix.report.text import printable

    typer.echo(f"error: {printable(str(error))}", err=True)
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
    from memfix import api

    with _progress(quiet) as update:
        try:
            return api.check_paths(paths, settings, progress=update)  # type: ignore[arg-type]
        except MemfixError as error:
            _fail(error)


def _print_problems(results: Sequence[FileResult], verbose: bool) -> None:
    from memfix.report.text import error_line

    for result in results:
        if result.failed or (verbose and result.error):
            typer.echo(error_line(result), err=True)


ExplainModel = Annotated[
    bool,
    typer.Option("--explain-model", help="Print each file's conversation model, not findings."),
]


def _explained_models(paths: Sequence[Path], settings: Settings, *, as_json: bool) -> str:
    """The conversation model of every Python file under `paths`, as text or JSON."""
    from memfix.files.decode import DecodeError, decode_source
    from memfix.files.discover import discover
    from memfix.model import build_model, explain_json, explain_text

    try:
        files = discover(paths, settings)
    except MemfixError as error:
        _fail(error)
    models = []
    for path in files:
        if path.suffix != ".py":
            continue
        try:
            text = decode_source(path.read_bytes()).text
        except (OSError, DecodeError) as error:
            typer.echo(f"error: {path}: {error}", err=True)
            continue
        try:
            models.append(build_model(text, str(path)))
        except Exception as error:  # a bug in memfix, never a finding: exit 2
            typer.echo(f"internal error: {path}: {type(error).__name__}: {error}", err=True)
            raise typer.Exit(code=2) from error
    if as_json:
        return explain_json(models)
    return "".join(explain_text(model) for model in models)


@app.command()
def check(
    paths: Paths = None,
    select: Select = None,
    ignore: Ignore = None,
    exclude: Exclude = None,
    unsafe_fixes: UnsafeFixes = False,
    output_format: FormatOption = Format.TEXT,
    output: Output = None,
    jobs: Jobs = None,
    quiet: Quiet = False,
    verbose: Verbose = False,
    no_prefilter: NoPrefilter = False,
    backend: BackendOption = None,
    target: TargetOption = None,
    session_key: SessionKey = None,
    no_redact: NoRedact = False,
    explain_model: ExplainModel = False,
) -> None:
    """Report what makes chat memory not persist; write nothing but --output."""
    from memfix import report
    from memfix.report.text import findings_text

    settings = _settings_or_exit(
        paths,
        select=_split(select),
        ignore=_split(ignore),
        exclude=_split(exclude),
        unsafe_fixes=unsafe_fixes or None,
        jobs=jobs,
        prefilter=False if no_prefilter else None,
        backend=backend,
        target=target,
        session_key=session_key,
    )
    paths = _default_paths(paths, settings)
    if explain_model:
        _emit(_explained_models(paths, settings, as_json=output_format is Format.JSON), output)
        raise typer.Exit(code=0)
    results = _run(paths, settings, quiet)
    if output_format is not Format.TEXT:
        _emit(_render(results, output_format, redacted=not no_redact), output)
    else:
        _emit(findings_text(results), output)
        _print_problems(results, verbose)
        if not quiet:
            typer.echo(report.summary(results), err=True)
    raise typer.Exit(code=report.exit_code(results))


class _Answer(enum.Enum):
    YES = "y"
    NO = "n"
    CODEMOD = "c"
    ALL = "a"
    QUIT = "q"


def _is_interactive() -> bool:
    return sys.stdin.isatty()


def _ask(path: str, codemods: Sequence[str]) -> _Answer:
    from memfix.report.text import printable

    path, names = printable(path), ", ".join(codemods)
    while True:
        reply = (
            typer.prompt(
                f"Write {path}? ({names}) [y]es, [n]o, [c] all of {names}, [a]ll, [q]uit",
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
        typer.echo("answer y, n, c, a or q", err=True)


def _fixed_by(result: FileResult) -> list[str]:
    """The codemods whose fixes make up `result.after`, in order."""
    return list(dict.fromkeys(f.codemod for f in result.findings if f.applied))


def _review_summary(written: Sequence[str], skipped: Sequence[str]) -> str:
    from memfix.report.text import printable

    return printable(
        f"{len(written)} file(s) written: {', '.join(written) or '-'}; "
        f"{len(skipped)} skipped: {', '.join(skipped) or '-'}"
    )


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
    target: TargetOption = None,
    session_key: SessionKey = None,
    no_redact: NoRedact = False,
) -> None:
    """Show each fix as a diff, then write it (after asking, or with --yes)."""
    from memfix import report
    from memfix.files.write import Gate

    settings = _settings_or_exit(
        paths,
        select=_split(select),
        ignore=_split(ignore),
        exclude=_split(exclude),
        unsafe_fixes=unsafe_fixes or None,
        jobs=jobs,
        prefilter=False if no_prefilter else None,
        backend=backend,
        target=target,
        session_key=session_key,
    )
    paths = _default_paths(paths, settings)
    if output_format is not Format.TEXT and not (dry_run or yes):
        _fail(MemfixError(f"--format {output_format.value} needs --dry-run or --yes"))
    results = _run(paths, settings, quiet)
    review = _Review(Gate.around(paths), dry_run=dry_run, yes=yes, show=output_format)
    written = review.go([result for result in results if result.changed])
    if output_format is not Format.TEXT:
        typer.echo(_render(results, output_format, redacted=not no_redact), nl=False)
    else:
        _print_after_apply(results, written, review, verbose=verbose, quiet=quiet)
    raise typer.Exit(code=report.exit_code(results, written))


class _Review:
    """`apply`'s walk over the changed files: show each diff, ask, write through the gate."""

    def __init__(self, gate: Gate, *, dry_run: bool, yes: bool, show: Format) -> None:
        self.gate, self.show = gate, show
        self.ask = not (dry_run or yes)
        self.dry_run, self.write_all = dry_run, yes
        self.accepted: set[str] = set()  # codemods answered "all of this codemod"
        self.written: list[str] = []
        self.skipped: list[str] = []

    def go(self, changed: Sequence[FileResult]) -> list[str]:
        """The paths written; Exit(130) with a summary when interrupted."""
        if self.ask and changed and not _is_interactive():
            typer.echo(
                "not writing: no terminal to confirm the changes; pass --yes to write "
                "them or --dry-run to only show them",
                err=True,
            )
            self.dry_run = True
        try:
            for number, result in enumerate(changed):
                if not self._one(result):
                    self.skipped.extend(r.path for r in changed[number:])
                    break
        except (KeyboardInterrupt, typer.Abort):
            done = {*self.written, *self.skipped}
            rest = [r.path for r in changed if r.path not in done]
            summary = _review_summary(self.written, [*self.skipped, *rest])
            typer.echo(f"\ninterrupted: {summary}", err=True)
            raise typer.Exit(code=130) from None
        return self.written

    def _one(self, result: FileResult) -> bool:
        """Show, ask about and write one file; False when the user quits."""
        refused = self.gate.refusal(result.path)
        if refused is not None:  # said instead of a diff that no run would write
            self._not_written(refused)
            return True
        if self.show is Format.TEXT:
            typer.echo(result.diff, nl=False)
        if self.dry_run:
            return True
        codemods = _fixed_by(result)
        if not self.write_all and not (codemods and self.accepted.issuperset(codemods)):
            answer = _ask(result.path, codemods)
            if answer is _Answer.QUIT:
                return False
            if answer is _Answer.NO:
                self.skipped.append(result.path)
                return True
            self.write_all = answer is _Answer.ALL
            if answer is _Answer.CODEMOD:
                self.accepted.update(codemods)
        self._write(result)
        return True

    def _write(self, result: FileResult) -> None:
        from memfix.files.write import WriteError

        try:
            self.gate.write_if_unchanged(result)
        except WriteError as error:
            self._not_written(error)
            return
        self.written.append(result.path)

    def _not_written(self, error: WriteError) -> None:
        from memfix.report.text import printable, printable_path

        shown = printable_path(error.path)
        typer.echo(f"{shown}: {error.kind}: {printable(error.problem)}", err=True)
        self.skipped.append(error.path)


def _print_after_apply(
    results: Sequence[FileResult],
    written: Sequence[str],
    review: _Review,
    *,
    verbose: bool,
    quiet: bool,
) -> None:
    """What is left after `apply`: problems, findings not fixed, unsafe diffs, the summary."""
    from memfix import report
    from memfix.report.text import finding_line, printable_path

    _print_problems(results, verbose)
    for result in results:
        for finding in report.remaining(result, written):
            if review.dry_run and finding.applied:
                continue  # its diff was just shown
            typer.echo(finding_line(result.path, finding), err=True)
        if result.pending_diff and not quiet:
            shown = printable_path(result.path)
            typer.echo(f"{shown}: unsafe fix, applied with --unsafe-fixes:", err=True)
            typer.echo(result.pending_diff, nl=False, err=True)
    if review.ask and not review.dry_run:
        typer.echo(f"review: {_review_summary(review.written, review.skipped)}", err=True)
    if not quiet:
        typer.echo(report.summary(results, written), err=True)


@app.command()
def batch(
    repos: Annotated[
        list[Path] | None, typer.Argument(help="Git repositories (their top folders).")
    ] = None,
    repos_file: Annotated[
        Path | None, typer.Option("--repos-file", help="A file listing one repository a line.")
    ] = None,
    out: Annotated[
        Path, typer.Option("--out", help="Folder for each repository's patch and description.")
    ] = Path("memfix-reviews"),
    branch: Annotated[str, typer.Option("--branch", help="Branch to commit the fixes on.")] = (
        "memfix/persist-memory"
    ),
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Write patches and descriptions; touch no branch.")
    ] = False,
    allow_dirty: Annotated[
        bool, typer.Option("--allow-dirty", help="Migrate repositories with uncommitted changes.")
    ] = False,
    select: Select = None,
    ignore: Ignore = None,
    exclude: Exclude = None,
    unsafe_fixes: UnsafeFixes = False,
    jobs: Annotated[
        int, typer.Option("--jobs", "-j", min=1, help="Repositories migrated side by side.")
    ] = 1,
    executor: Annotated[
        BatchExecutor, typer.Option("--executor", help="Where repositories run: here, or Ray.")
    ] = BatchExecutor.LOCAL,
    address: Annotated[
        str | None, typer.Option("--address", help="The Ray cluster to join (with --executor ray).")
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Skip repositories already complete in --out.")
    ] = False,
    audit: Annotated[
        bool, typer.Option("--audit", help="Only report: findings.jsonl and summary.md; no branch.")
    ] = False,
    quiet: Quiet = False,
    no_prefilter: NoPrefilter = False,
    backend: BackendOption = None,
    target: TargetOption = None,
    session_key: SessionKey = None,
) -> None:
    """Migrate many git repositories: a branch, a commit, a patch and a PR description each."""
    from memfix.batch import BatchOptions, exit_code, read_repos_file

    listed = list(repos or [])
    if repos_file is not None:
        try:
            listed += read_repos_file(repos_file)
        except MemfixError as error:
            _fail(error)
    if not listed:
        _fail(MemfixError("no repositories: name them or pass --repos-file"))
    overrides: dict[str, object] = {
        "select": _split(select),
        "ignore": _split(ignore),
        "exclude": _split(exclude),
        "unsafe_fixes": unsafe_fixes or None,
        "prefilter": False if no_prefilter else None,
        "backend": backend,
        "target": target,
        "session_key": session_key,
    }
    if address is not None and executor is not BatchExecutor.RAY:
        _fail(MemfixError("--address names a Ray cluster: pass --executor ray too"))
    options = BatchOptions(out, branch, dry_run, allow_dirty, jobs, resume, audit)
    with _batch_progress(len(listed), quiet) as (on_file, on_repo):
        try:
            outcomes = _run_fleet(listed, overrides, options, executor, address, on_file, on_repo)
        except MemfixError as error:  # no folder for the results, or no Ray
            _fail(error)
    if not quiet:
        _print_batch_table(outcomes, dry_run)
    raise typer.Exit(code=exit_code(outcomes))


def _run_fleet(
    repos: Sequence[Path],
    overrides: dict[str, object],
    options: BatchOptions,
    executor: BatchExecutor,
    address: str | None,
    on_file: FileProgress | None,
    on_repo: RepoDone | None,
) -> list[RepoOutcome]:
    """The outcomes of `batch` on the executor chosen; see `memfix.fleet.driver`."""
    from memfix.fleet.local import run_batch

    if executor is BatchExecutor.LOCAL:
        return run_batch(repos, overrides, options, progress=on_file, done=on_repo)
    from memfix.fleet.driver import run_fleet
    from memfix.fleet.ray_executor import RayExecutor

    ray = RayExecutor(address, options.jobs)
    try:
        return run_fleet(repos, overrides, options, ray, done=on_repo)
    finally:
        ray.close()


@contextmanager
def _batch_progress(
    total: int, quiet: bool
) -> Iterator[tuple[FileProgress | None, RepoDone | None]]:
    """Two bars on stderr at a terminal, repositories and files; no-ops otherwise."""
    import threading

    if quiet or not sys.stderr.isatty():
        yield (None, None)
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    lock = threading.Lock()
    files: dict[str, tuple[int, int]] = {}
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        repos_task = bar.add_task("repositories", total=total)
        files_task = bar.add_task("files", total=None)

        def on_file(name: str, done: int, count: int) -> None:
            with lock:
                files[name] = (done, count)
                bar.update(
                    files_task,
                    completed=sum(d for d, _ in files.values()),
                    total=sum(c for _, c in files.values()),
                )

        def on_repo(_outcome: RepoOutcome) -> None:
            bar.advance(repos_task)

        yield (on_file, on_repo)


def _print_batch_table(outcomes: Sequence[RepoOutcome], dry_run: bool) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from memfix.report.text import printable, printable_path

    table = Table("repo", "findings", "fixes", "branch", "status", box=None, pad_edge=False)
    for outcome in outcomes:
        branch = outcome.branch or ("(dry run)" if dry_run and outcome.fixes else "-")
        status = outcome.status.value + (f": {outcome.error}" if outcome.error else "")
        # Names and errors come from the repositories: shown as text, never as rich markup.
        repo, status = escape(printable_path(str(outcome.path))), escape(printable(status))
        table.add_row(repo, str(outcome.findings), str(outcome.fixes), escape(branch), status)
    Console(stderr=True, width=max(120, Console(stderr=True).width), soft_wrap=True).print(table)


@app.command()
def rules() -> None:
    """List the codemods: name, fix safety, how often a fix is available, what each finds."""
    from rich.console import Console
    from rich.table import Table

    from memfix.rules import registry

    try:
        declared = registry.rules()  # declarations only: no codemod is imported
    except MemfixError as error:
        _fail(error)
    table = Table("codemod", "fix", "available", "finds", box=None, pad_edge=False)
    for rule in declared:
        table.add_row(rule.name, rule.default_fix.value, rule.fix.value, rule.summary)
    Console(width=max(100, Console().width)).print(table)


@app.command()
def explain(
    name: Annotated[str, typer.Argument(help="A codemod name, as `rules` lists it.")],
) -> None:
    """Print one codemod's documentation: what, why, example, fix safety."""
    from memfix.rules import registry

    try:
        rule = registry.rule(name)  # its declaration: no codemod is imported
    except MemfixError as error:
        _fail(error)
    typer.echo(f"# {rule.name} (fix: {rule.default_fix.value})\n")
    typer.echo((rule.documentation or "").strip())


OutFolder = Annotated[Path, typer.Option("--out", help="Folder to write the tests to.")]


@app.command()
def verify(out: OutFolder, paths: Paths = None, exclude: Exclude = None) -> None:
    """Write pytest files that drive each chat entry point with a fake chat model: the
    second turn must see the first, a second user none of it, a second process a stored
    history. memfix never runs your app; you run the tests."""
    from memfix.files.discover import discover
    from memfix.verify import generate
    from memfix.verify.report import verify_report
    from memfix.verify.writer import VerifyWriteError, app_modules, write_generated

    settings = _settings_or_exit(paths, exclude=_split(exclude))
    try:
        files = discover(_default_paths(paths, settings), settings)
    except MemfixError as error:
        _fail(error)
    modules, problems = app_modules(files, out)
    try:
        generation = generate(modules, settings.history_url_env)
    except Exception as error:  # a bug in memfix, never a finding: exit 2
        typer.echo(f"internal error: {type(error).__name__}: {error}", err=True)
        raise typer.Exit(code=2) from error
    problems += generation.errors
    for item in generation.files:
        try:
            write_generated(out, item.name, item.text)
        except VerifyWriteError as error:
            problems.append(str(error))
    for problem in problems:
        typer.echo(f"error: {problem}", err=True)
    typer.echo(verify_report(generation, out))
    raise typer.Exit(code=1 if problems else 0)


@app.command()
def server() -> None:
    """Run the language server over stdio, for editors: findings as you type, fixes as actions."""
    try:  # pygls is an extra: `check` and `apply` never load it
        from memfix.server.server import serve
    except ImportError as error:
        needed = (error.name or "").partition(".")[0]
        if needed not in ("pygls", "lsprotocol"):
            raise
        typer.echo(f"error: memfix server needs {needed}: pip install 'memfix[server]'", err=True)
        raise typer.Exit(code=2) from None
    raise typer.Exit(code=serve())


def main() -> None:
    """The `memfix` console script: a bug in memfix is one line on stderr and exit 2."""
    try:
        app()
    except Exception as error:  # what the commands did not turn into a finding or an error
        from memfix.report.text import printable

        problem = printable(f"{type(error).__name__}: {error}")
        typer.echo(f"error: internal error in memfix: {problem}", err=True)
        sys.exit(2)
