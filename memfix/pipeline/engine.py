"""The pure core: text in, new text and findings out."""

from __future__ import annotations

import ast
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace

import libcst as cst
from libcst.metadata import MetadataWrapper

from memfix.config import Settings
from memfix.facts import NO_FACTS, FileFacts
from memfix.files.decode import decode_source
from memfix.pipeline import prefilter
from memfix.results import FileResult, Finding, Fix, Status, failed_result, unchanged_result
from memfix.rules import registry
from memfix.rules.codemod import Codemod, Context, SkipFile
from memfix.source import linemap
from memfix.source.diff import unified_diff
from memfix.source.nesting import TOO_DEEP, nesting_problem
from memfix.source.outline import Outline, outline
from memfix.source.validate import validation_error

MAX_PASSES = 4
_NEWLINE = re.compile(r"\r\n|\r|\n")


def fix_bytes(
    data: bytes,
    *,
    path: str,
    codemods: Sequence[type[Codemod]],
    settings: Settings,
    facts: FileFacts = NO_FACTS,
) -> FileResult:
    """Decode a file's bytes, prefilter them, and run `fix_source` when they may matter.

    A `.ipynb` path is read as a notebook (UTF-8 JSON) and goes to `fix_notebook`.
    `facts` (what other modules say about this one) turn the prefilter off: a route
    module that imports a memory need not name a LangChain class itself.
    The codemods `per-file-ignores` turns off for `path` are left out.
    """
    codemods = registry.for_path(settings, codemods, path)
    early = prefilter.screen(data, path=path, codemods=codemods, settings=settings, facts=facts)
    if early is not None:
        return early
    digest = hashlib.sha256(data).hexdigest()
    if facts:
        settings = replace(settings, prefilter=False)
    if path.endswith(".ipynb"):
        from memfix.pipeline.notebooks import fix_notebook_bytes  # it builds on fix_source

        return fix_notebook_bytes(data, path=path, codemods=codemods, settings=settings)
    decoded = decode_source(data)  # `screen` has seen it decode
    result = fix_source(decoded.text, path=path, codemods=codemods, settings=settings, facts=facts)
    return replace(result, encoding=decoded.encoding, bom=decoded.bom, digest=digest)


def _active(codemod: type[Codemod], text: str, outlines: dict[str, Outline | None]) -> bool:
    """Whether `codemod` may have something to do in `text`: its words, then its calls.

    `outlines` keeps each text's outline, so the codemods of one pass share it.
    """
    if not codemod.wants(text):
        return False
    found = _outline_of(text, outlines)
    return found is None or codemod.wants_outline(found, text)


def _imports(text: str, outlines: dict[str, Outline | None]) -> Mapping[str, frozenset[str]]:
    """The import table of `text`, from its outline (empty if Python cannot parse it)."""
    found = _outline_of(text, outlines)
    return {} if found is None else found.imports


def _outline_of(text: str, outlines: dict[str, Outline | None]) -> Outline | None:
    """`text`'s outline, made once per text however many codemods ask."""
    if text not in outlines:
        outlines[text] = outline(text)
    return outlines[text]


def fix_source(
    source: str,
    *,
    path: str,
    codemods: Sequence[type[Codemod]],
    settings: Settings,
    facts: FileFacts = NO_FACTS,
) -> FileResult:
    """Run the selected codemods over one file's text, to a fixpoint.

    Never raises for a problem in the file: a parse error, a crashing codemod or output
    that fails validation comes back as a FAILED result with `before` untouched.
    The codemods `per-file-ignores` turns off for `path` are left out.
    """
    codemods = registry.for_path(settings, codemods, path)
    if facts:
        settings = replace(settings, prefilter=False)  # the facts name what to look at
    outlines: dict[str, Outline | None] = {}
    if settings.prefilter and not any(_active(c, source, outlines) for c in codemods):
        return unchanged_result(path, source, ())
    too_deep = nesting_problem(source)
    if too_deep is not None:
        return failed_result(path, source, too_deep)
    try:
        original = cst.parse_module(source)
    except Exception as error:  # libcst raises more than ParserSyntaxError on odd input
        return failed_result(path, source, _parse_problem(source, path, error))

    run = _Run(path, source, original, settings, facts)
    failure = run.to_fixpoint(codemods, outlines)
    if failure is not None:
        return failure
    return run.result()


class _Run:
    """The state of one file's run: the current tree and text, and what came of each pass."""

    def __init__(
        self,
        path: str,
        source: str,
        original: cst.Module,
        settings: Settings,
        facts: FileFacts,
    ) -> None:
        self.path, self.source, self.original = path, source, original
        self.settings, self.facts = settings, facts
        self.module, self.text = original, source
        # Each line of `text` traced to the line of `source` it came from: findings are
        # reported against the file as the user wrote it, whichever pass made them.
        self.line_map = linemap.identity(len(_NEWLINE.split(source)))
        self.findings: list[Finding] = []
        self.seen: set[tuple[str, str]] = set()
        self.pending: list[str] = []
        self.changed_by: list[str] = []
        self.packages: dict[str, str] = {}  # each package the applied edits need: who asks
        # One wrapper per tree, so that codemods reading the same tree share its metadata.
        self.wrapper: MetadataWrapper | None = None

    def to_fixpoint(
        self, codemods: Sequence[type[Codemod]], outlines: dict[str, Outline | None]
    ) -> FileResult | None:
        """Run every codemod, pass after pass, until a pass changes nothing; a failure or None."""
        for pass_number in range(MAX_PASSES):
            start_of_pass = self.text
            for codemod_class in codemods:
                # The prefilter's later stages, per codemod and on the current text: an
                # earlier codemod's edit can bring in the words or calls a later one needs.
                if self.settings.prefilter and not _active(codemod_class, self.text, outlines):
                    continue
                failure = self.run_one(codemod_class, pass_number, _imports(self.text, outlines))
                if failure is not None:
                    return failure
            if self.text == start_of_pass:
                break
        return None

    def _context(self, settings: Settings, imports: Mapping[str, frozenset[str]]) -> Context:
        return Context(self.path, _NEWLINE.split(self.text), settings, self.facts, imports=imports)

    def run_one(
        self, codemod_class: type[Codemod], pass_number: int, imports: Mapping[str, frozenset[str]]
    ) -> FileResult | None:
        """One codemod over the current tree: its findings kept, its edit adopted if it applies."""
        codemod = codemod_class(self._context(self.settings, imports))
        try:
            if self.wrapper is None:
                self.wrapper = MetadataWrapper(
                    self.module, unsafe_skip_copy=self.module is self.original
                )
            new_module = self.wrapper.visit(codemod)
        except SkipFile:
            return None
        except RecursionError:
            return failed_result(self.path, self.source, TOO_DEEP)
        except Exception as error:
            message = f"internal error in {codemod_class.NAME}: {type(error).__name__}: {error}"
            return failed_result(self.path, self.source, message, internal=True)
        # A codemod edits only after reporting a fixed finding: else skip code generation.
        edited = any(finding.fixed for finding in codemod.findings)
        new_text = new_module.code if edited else self.text
        reported: Sequence[Finding] = codemod.findings
        if pass_number == 0 and _declined_unsafe(reported, self.settings):
            reported = self._preview_unsafe(codemod_class, reported, new_text, imports)
        applies = _applies(codemod_class.FIX, self.settings)
        self._record(reported, pass_number, applies)
        if new_text == self.text:
            return None
        if applies:
            self._adopt(new_module, new_text, codemod_class.NAME, codemod.packages)
        elif codemod_class.FIX is Fix.UNSAFE and pass_number == 0:
            self.pending.append(unified_diff(self.text, new_text, self.path))
        return None

    def _preview_unsafe(
        self,
        codemod_class: type[Codemod],
        reported: Sequence[Finding],
        new_text: str,
        imports: Mapping[str, frozenset[str]],
    ) -> Sequence[Finding]:
        """Run the codemod once more with its unsafe edits, to show the diff they would make
        and mark those findings as fixable; the findings as they were when it adds nothing."""
        assert self.wrapper is not None
        try:
            preview = codemod_class(
                self._context(replace(self.settings, unsafe_fixes=True), imports)
            )
            preview_text = self.wrapper.visit(preview).code
        except Exception:  # the preview is a courtesy: never fail the file for it
            return reported
        if preview_text == new_text:
            return reported
        self.pending.append(unified_diff(self.text, preview_text, self.path))
        return _fixable_as_in(reported, preview.findings)

    def _record(self, reported: Sequence[Finding], pass_number: int, applies: bool) -> None:
        for finding in reported:
            key = (finding.codemod, finding.message)
            if pass_number > 0 and key in self.seen:
                continue
            self.seen.add(key)
            applied = finding.fixed and applies and _applies(finding.fix, self.settings)
            line = linemap.original_line(self.line_map, finding.line)
            column = finding.column if self._same_line(finding.line, line) else 1
            self.findings.append(replace(finding, applied=applied, line=line, column=column))

    def _same_line(self, line: int, original: int) -> bool:
        """Whether `line` of the current text reads as `original` of the source did."""
        if self.text is self.source:
            return True
        current, source = _NEWLINE.split(self.text), _NEWLINE.split(self.source)
        return 0 < line <= len(current) and current[line - 1] == source[original - 1]

    def _adopt(
        self, new_module: cst.Module, new_text: str, name: str, packages: Sequence[str]
    ) -> None:
        old_lines, new_lines = _NEWLINE.split(self.text), _NEWLINE.split(new_text)
        self.line_map = linemap.compose(self.line_map, old_lines, new_lines)
        self.module, self.text, self.wrapper = new_module, new_text, None
        self.changed_by.append(name)
        for package in packages:
            self.packages.setdefault(package, name)

    def result(self) -> FileResult:
        """The file's result: unchanged with its findings, the fix, or the rejected fix."""
        findings = tuple(sorted(self.findings, key=lambda f: (f.line, f.column, f.codemod)))
        path, source, text = self.path, self.source, self.text
        if text == source:
            return unchanged_result(path, source, findings, "".join(self.pending))
        problem = validation_error(self.original, text, path)
        if problem is not None:
            # The file could not be fixed, as README's exit codes put it (1, not 2): it is
            # left as it was, its findings stand, and every other file is still fixed.
            names = ", ".join(dict.fromkeys(self.changed_by))
            return failed_result(
                path,
                source,
                f"fix by {names} rejected: {problem}",
                findings=tuple(replace(f, applied=False) for f in findings),
            )
        return FileResult(
            path,
            source,
            text,
            unified_diff(source, text, path),
            findings,
            Status.CHANGED,
            pending_diff="".join(self.pending),
            packages=tuple(self.packages),
            packages_by=tuple(dict.fromkeys(self.packages.values())),
        )


def _parse_problem(source: str, path: str, error: Exception) -> str:
    """One line on why the file does not parse, located by Python's own parser when it can."""
    try:
        compile(source, path, "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
    except SyntaxError as syntax:
        return f"syntax error at line {syntax.lineno}, column {syntax.offset}: {syntax.msg}"
    except (ValueError, RecursionError, MemoryError) as other:
        return f"cannot parse: {other}"
    detail = " ".join(str(error).split())
    return f"libcst cannot parse this file: {detail}"


def _applies(fix: Fix, settings: Settings) -> bool:
    return fix is Fix.SAFE or (fix is Fix.UNSAFE and settings.unsafe_fixes)


def _declined_unsafe(findings: Sequence[Finding], settings: Settings) -> bool:
    """Whether a codemod reported unsafe findings without their edits (no --unsafe-fixes)."""
    return not settings.unsafe_fixes and any(f.fix is Fix.UNSAFE and not f.fixed for f in findings)


def _fixable_as_in(findings: Sequence[Finding], preview: Sequence[Finding]) -> list[Finding]:
    """`findings`, with the unsafe ones the preview run fixed marked as fixed (not applied)."""
    fixed_at = {(f.line, f.column) for f in preview if f.fixed and f.fix is Fix.UNSAFE}
    return [
        replace(f, fixed=True)
        if f.fix is Fix.UNSAFE and not f.fixed and (f.line, f.column) in fixed_at
        else f
        for f in findings
    ]
