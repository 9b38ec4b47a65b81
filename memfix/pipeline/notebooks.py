"""Notebooks through the pure core: code cells in, per-cell fixes and diffs out."""

from __future__ import annotations

import codecs
import hashlib
import warnings
from collections.abc import Sequence
from dataclasses import replace

import libcst as cst

from memfix.config import Settings
from memfix.notebook import cells
from memfix.notebook import document as notebook
from memfix.pipeline import prefilter
from memfix.pipeline.engine import fix_source
from memfix.results import FileResult, Finding, Status, failed_result, unchanged_result
from memfix.rules.codemod import Codemod
from memfix.source.diff import unified_diff
from memfix.source.words import is_candidate


def fix_notebook_bytes(
    data: bytes, *, path: str, codemods: Sequence[type[Codemod]], settings: Settings
) -> FileResult:
    """Decode a notebook's bytes (UTF-8 JSON), prefilter them, and run `fix_notebook`."""
    digest = hashlib.sha256(data).hexdigest()
    bom = data.startswith(codecs.BOM_UTF8)
    try:
        text = data[len(codecs.BOM_UTF8) if bom else 0 :].decode("utf-8")
    except UnicodeDecodeError as error:
        problem = f"not valid utf-8: byte {data[error.start]:#04x} at offset {error.start}"
        return FileResult(
            path, "", "", "", (), Status.FAILED, f"cannot decode: {problem}", digest=digest
        )
    if settings.prefilter and not is_candidate(data, prefilter.vocabulary(codemods)):
        result = unchanged_result(path, text, ())
    else:
        result = fix_notebook(text, path=path, codemods=codemods, settings=settings)
    return replace(result, encoding="utf-8", bom=bom, digest=digest)


def fix_notebook(
    text: str, *, path: str, codemods: Sequence[type[Codemod]], settings: Settings
) -> FileResult:
    """Run the codemods over a notebook's code cells, joined as one program.

    `before` and `after` are the notebook's JSON text; only the changed cells' sources
    differ, and `diff` has one unified diff per changed cell, headed `path:cell N`.
    When the rewrite cannot be split back into its cells, each cell is fixed on its own.
    Never raises for a problem in the notebook: invalid JSON is a FAILED result.
    """
    try:
        book = notebook.read_notebook(text)
    except notebook.NotebookError as error:
        return failed_result(path, text, str(error))
    program = cells.join_cells(book)
    code_size = len(program.text.encode("utf-8", "surrogatepass"))
    if code_size > settings.max_file_size:
        limit = settings.max_file_size
        message = f"skipped: {code_size} bytes of code, over the {limit} limit"
        return FileResult(path, text, text, "", (), Status.SKIPPED, message)
    outcome = _fix_program(program, book, path, codemods, settings)
    if outcome is None:
        singles = [
            _fix_program(cells.join_cells(book, only=number), book, path, codemods, settings)
            for number in program.cells
        ]
        if any(single is None for single in singles):
            return failed_result(
                path, text, "cannot map the fix back to the notebook's cells", internal=True
            )
        outcome = _merge([single for single in singles if single is not None])
    if isinstance(outcome, FileResult):
        return outcome
    sources, findings, pending, needs = outcome
    if not sources:
        return unchanged_result(path, text, findings, pending)
    after = notebook.with_sources(book, sources)
    problem = notebook.layout_problem(book, after, sources)
    if problem is not None:
        return failed_result(path, text, problem, internal=True, findings=findings)
    diff = _cell_diffs(book, sources, path)
    return FileResult(
        path,
        text,
        after,
        diff,
        findings,
        Status.CHANGED,
        pending_diff=pending,
        packages=tuple(dict.fromkeys(needs[0])),
        packages_by=tuple(dict.fromkeys(needs[1])),
    )


# The changed cells' sources, the findings, the pending diff, and the packages the fix
# needs with the codemods asking for them (FileResult.packages and .packages_by).
_Packages = tuple[tuple[str, ...], tuple[str, ...]]
_Outcome = tuple[dict[int, str], tuple[Finding, ...], str, _Packages]


def _fix_program(
    program: cells.Program,
    book: notebook.Notebook,
    path: str,
    codemods: Sequence[type[Codemod]],
    settings: Settings,
) -> _Outcome | FileResult | None:
    """The changed cells' new sources, findings and pending diff; a FAILED result; or
    None when the rewritten program no longer splits into its cells."""
    if not program.cells:
        return {}, (), "", ((), ())
    result = fix_source(program.text, path=path, codemods=codemods, settings=settings)
    findings = tuple(_in_cell(program, finding) for finding in result.findings)
    if result.failed:
        return replace(result, before=book.text, after=book.text, findings=findings)
    sources = _changed_cells(program, book, result.after)
    if sources is None:
        return None
    for number, masked in sources.items():
        problem = _cell_problem(masked)
        if problem is not None:
            # As for a `.py` file whose fix fails validation: the notebook could not be
            # fixed (exit 1), it is left as it was and its findings stand.
            message = f"fix rejected: cell {number}: {problem}"
            unapplied = tuple(replace(f, applied=False) for f in findings)
            return failed_result(path, book.text, message, findings=unapplied)
    unmasked = {number: program.unmask(masked) for number, masked in sources.items()}
    pending = ""
    if result.pending_diff:
        unsafe = fix_source(
            result.after,
            path=path,
            codemods=codemods,
            settings=replace(settings, unsafe_fixes=True),
        )
        later = _changed_cells(program, book, unsafe.after) if unsafe.changed else None
        if later is not None:
            current = {c.number: unmasked.get(c.number, c.source) for c in book.cells}
            pending = _cell_diffs(
                book, {n: program.unmask(s) for n, s in later.items()}, path, current
            )
    return unmasked, findings, pending, (result.packages, result.packages_by)


def _changed_cells(
    program: cells.Program, book: notebook.Notebook, text: str
) -> dict[int, str] | None:
    """The masked new source of each cell that `text` changes; None if cells are lost."""
    pieces = program.split(text)
    if pieces is None or not program.masks_kept(pieces):
        return None
    original = {cell.number: cell.source for cell in book.cells}
    # A statement inserted first or last in a cell comes with the blank lines that set it
    # apart in a file; a cell that had none gets none.
    trimmed = {n: _trim(s, original[n]) for n, s in pieces.items()}
    return {n: s for n, s in trimmed.items() if program.unmask(s) != original[n]}


def _trim(new: str, old: str) -> str:
    if not old.startswith(("\n", "\r\n")):
        new = new.lstrip("\r\n")
    if not old.endswith("\n"):
        new = new.rstrip("\r\n")
    return new


def _cell_problem(source: str) -> str | None:
    try:
        cst.parse_module(source)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a warning about the user's code is not ours
            compile(source, "<cell>", "exec", dont_inherit=True)
    except Exception as error:  # libcst raises more than ParserSyntaxError on odd input
        return "the rewritten cell does not parse: " + " ".join(str(error).split())
    return None


def _in_cell(program: cells.Program, finding: Finding) -> Finding:
    cell, line = program.locate(finding.line)
    return replace(finding, cell=cell, line=line)


def _merge(outcomes: Sequence[_Outcome | FileResult]) -> _Outcome | FileResult:
    sources: dict[int, str] = {}
    findings: list[Finding] = []
    pending: list[str] = []
    packages: list[str] = []
    asking: list[str] = []
    for outcome in outcomes:
        if isinstance(outcome, FileResult):
            return outcome
        sources.update(outcome[0])
        findings.extend(outcome[1])
        pending.append(outcome[2])
        packages.extend(outcome[3][0])
        asking.extend(outcome[3][1])
    return sources, tuple(findings), "".join(pending), (tuple(packages), tuple(asking))


def _cell_diffs(
    book: notebook.Notebook,
    sources: dict[int, str],
    path: str,
    current: dict[int, str] | None = None,
) -> str:
    """One unified diff per changed cell, headed `path:cell N` (not for `git apply`)."""
    old = current or {cell.number: cell.source for cell in book.cells}
    return "".join(
        unified_diff(old[number], sources[number], f"{path}:cell {number}", git_paths=False)
        for number in sorted(sources)
    )
