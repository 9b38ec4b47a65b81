"""Recall and false positives of memfix on real public LangChain apps (bench/wild/).

    python bench/wild.py --mirrors /work/.mirror          # bare git dirs, files at their commit
    python bench/wild.py --clones ~/src/checkouts         # DIR/owner+name/ work trees
    python bench/wild.py --mirrors DIR --whole-repo --json out.json

Each labelled file is checked with `python -m memfix check --format json` (result cache
off through MEMFIX_NO_CACHE=1; `check` has no --no-cache option). With --mirrors, every
labelled file of a repository is written at its labelled commit into one temporary tree
per repository (so memfix sees the imports between labelled files); with --whole-repo the
whole tree at that commit (its .py and .ipynb files) is checked instead. No network.

Match rule (see bench/wild/README.md): a finding matches a label when the finding's
codemod is the label's family (or stands for it: `ALIASES`), it is in the same
file (and notebook cell), and its line is within 3 lines of the label's line or inside
the same statement (the innermost simple statement, or the header of a compound one).
A label may list `also` lines naming the same object (the line that fills an in-process
store); any of them may match. Each label and each finding is used once; nearest pair
first. A finding matching no label is a false positive (in a bug file or a look-alike).
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import subprocess
import sys
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import tomllib

HERE = Path(__file__).resolve().parent
LABELS = HERE / "wild" / "labels.toml"
PROJECT = HERE.parent
WINDOW = 3
CODE_SUFFIXES = (".py", ".ipynb")
# Label families and the codemods that stand for them (a family a codemod is named after
# needs no entry). The study's older names for the LangGraph families are kept.
ALIASES: Mapping[str, frozenset[str]] = {
    "checkpointer-per-call": frozenset({"checkpointer-per-call", "per-call-state"}),
    "missing-thread-id": frozenset({"missing-thread-id", "unstable-session-key"}),
    "sync-saver-async-graph": frozenset({"saver-async-mismatch"}),
    "saver-no-setup": frozenset({"saver-not-set-up"}),
}
GIT_ENV = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null"}
GIT = ("git", "-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null")


@dataclass(frozen=True)
class Bug:
    family: str
    line: int
    why: str = ""
    cell: int | None = None
    also: tuple[int, ...] = ()


@dataclass(frozen=True)
class LabelledFile:
    repo: str
    commit: str
    path: str
    framework: str
    era: str
    bugs: tuple[Bug, ...]

    @property
    def lookalike(self) -> bool:
        return not self.bugs


@dataclass(frozen=True)
class Finding:
    codemod: str
    line: int
    cell: int | None = None
    message: str = ""


@dataclass
class FileOutcome:
    """What memfix said about one labelled file."""

    findings: list[Finding] = field(default_factory=list)
    crashed: bool = False
    error: str = ""


@dataclass
class Tally:
    labelled: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    found: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    fp_unlabelled_lines: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    fp_lookalike: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    past_end: int = 0
    crashes: list[str] = field(default_factory=list)
    missed: list[dict[str, object]] = field(default_factory=list)
    false_positives: list[dict[str, object]] = field(default_factory=list)
    files: int = 0
    lookalike_files: int = 0
    lookalike_files_flagged: int = 0
    unlabelled_file_findings: int = 0


# ---------------------------------------------------------------- pure core


def load_labels(text: str) -> list[LabelledFile]:
    data = tomllib.loads(text)
    files = []
    for entry in data.get("file", []):
        bugs = tuple(
            Bug(
                b["family"],
                int(b["line"]),
                b.get("why", ""),
                b.get("cell"),
                tuple(int(x) for x in b.get("also", ())),
            )
            for b in entry["bugs"]
        )
        files.append(
            LabelledFile(
                entry["repo"],
                entry["commit"],
                entry["path"],
                entry["framework"],
                entry["era"],
                bugs,
            )
        )
    return files


def statement_spans(source: str) -> list[tuple[int, int]]:
    """Line spans of simple statements and of compound statements' headers."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    spans: list[tuple[int, int]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.stmt):
            continue
        end = node.end_lineno or node.lineno
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.stmt):
            first = min([body[0].lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
            end = max(node.lineno, body[0].lineno - 1) if first > node.lineno else node.lineno
        spans.append((node.lineno, end))
    return spans


def same_statement(a: int, b: int, spans: Sequence[tuple[int, int]]) -> bool:
    inner = [s for s in spans if s[0] <= a <= s[1]]
    if not inner:
        return False
    start, end = min(inner, key=lambda s: s[1] - s[0])
    return start <= b <= end


def accepts(family: str, codemod: str) -> bool:
    return codemod in ALIASES.get(family, frozenset({family}))


def match(
    bugs: Sequence[Bug], findings: Sequence[Finding], spans: Sequence[tuple[int, int]] = ()
) -> tuple[list[tuple[Bug, Finding]], list[Bug], list[Finding]]:
    """Pair labels with findings one to one; return (pairs, missed labels, unmatched findings)."""
    candidates = []
    for i, bug in enumerate(bugs):
        for j, f in enumerate(findings):
            if f.cell != bug.cell or not accepts(bug.family, f.codemod):
                continue
            for line in (bug.line, *bug.also):
                near = abs(f.line - line) <= WINDOW
                if near or (bug.cell is None and same_statement(line, f.line, spans)):
                    candidates.append((abs(f.line - line), i, j))
    used_bugs: set[int] = set()
    used_findings: set[int] = set()
    pairs = []
    for _, i, j in sorted(candidates):
        if i in used_bugs or j in used_findings:
            continue
        used_bugs.add(i)
        used_findings.add(j)
        pairs.append((bugs[i], findings[j]))
    missed = [b for i, b in enumerate(bugs) if i not in used_bugs]
    extra = [f for j, f in enumerate(findings) if j not in used_findings]
    return pairs, missed, extra


def tally(
    files: Sequence[LabelledFile],
    outcomes: Mapping[tuple[str, str], FileOutcome],
    sources: Mapping[tuple[str, str], str],
    unlabelled_findings: int = 0,
) -> Tally:
    t = Tally(unlabelled_file_findings=unlabelled_findings)
    for lf in files:
        key = (lf.repo, lf.path)
        outcome = outcomes.get(key, FileOutcome(crashed=True, error="no result"))
        t.files += 1
        for bug in lf.bugs:
            t.labelled[bug.family] += 1
        if outcome.crashed:
            t.crashes.append(f"{lf.repo}:{lf.path}: {outcome.error}")
        spans = statement_spans(sources.get(key, "")) if lf.path.endswith(".py") else []
        pairs, missed, extra = match(lf.bugs, outcome.findings, spans)
        for bug, _ in pairs:
            t.found[bug.family] += 1
        for bug in missed:
            t.missed.append({"repo": lf.repo, "path": lf.path, **asdict(bug)})
        if lf.lookalike:
            t.lookalike_files += 1
            t.lookalike_files_flagged += bool(extra)
        n_lines = len(sources.get(key, "").splitlines())
        for f in extra:
            t.past_end += f.cell is None and n_lines > 0 and f.line > n_lines
            bucket = t.fp_lookalike if lf.lookalike else t.fp_unlabelled_lines
            bucket[f.codemod] += 1
            t.false_positives.append(
                {"repo": lf.repo, "path": lf.path, "lookalike": lf.lookalike, **asdict(f)}
            )
    return t


def render(t: Tally) -> str:
    fams = sorted(set(t.labelled) | set(t.found))
    rows = [("family", "found", "labelled", "recall")]
    for fam in fams:
        n, k = t.labelled[fam], t.found[fam]
        rows.append((fam, str(k), str(n), f"{k / n:.0%}" if n else "-"))
    total_n, total_k = sum(t.labelled.values()), sum(t.found.values())
    recall = f"{total_k / total_n:.0%}" if total_n else "-"
    rows.append(("TOTAL", str(total_k), str(total_n), recall))
    width = [max(len(r[c]) for r in rows) for c in range(4)]
    out = ["| " + " | ".join(r[c].ljust(width[c]) for c in range(4)) + " |" for r in rows]
    out.insert(1, "|" + "|".join("-" * (w + 2) for w in width) + "|")
    fp_rows = [("codemod", "FP unlabelled line", "FP in look-alike")]
    for cm in sorted(set(t.fp_unlabelled_lines) | set(t.fp_lookalike)):
        fp_rows.append((cm, str(t.fp_unlabelled_lines[cm]), str(t.fp_lookalike[cm])))
    fp_rows.append(
        (
            "TOTAL",
            str(sum(t.fp_unlabelled_lines.values())),
            str(sum(t.fp_lookalike.values())),
        )
    )
    w2 = [max(len(r[c]) for r in fp_rows) for c in range(3)]
    out.append("")
    out += ["| " + " | ".join(r[c].ljust(w2[c]) for c in range(3)) + " |" for r in fp_rows]
    out.insert(len(out) - len(fp_rows) + 1, "|" + "|".join("-" * (w + 2) for w in w2) + "|")
    out.append("")
    out.append(
        f"files: {t.files}; look-alike files: {t.lookalike_files}, flagged: "
        f"{t.lookalike_files_flagged}; crashes: {len(t.crashes)}; "
        f"false positives on a line past the file's end: {t.past_end}"
    )
    if t.unlabelled_file_findings:
        out.append(f"findings in files nobody labelled: {t.unlabelled_file_findings}")
    for c in t.crashes:
        out.append(f"  crash: {c}")
    return "\n".join(out)


def parse_report(document: str, exit_code: int) -> tuple[dict[str, FileOutcome], str]:
    """Findings per reported path from memfix's JSON; an error string if the run failed."""
    per_path: dict[str, FileOutcome] = {}
    try:
        data = json.loads(document)
    except json.JSONDecodeError:
        return per_path, f"exit {exit_code}, no JSON report"
    for entry in data.get("files", []):
        outcome = per_path.setdefault(entry["path"], FileOutcome())
        if entry.get("error") or entry.get("status") == "failed":
            outcome.crashed = True
            outcome.error = str(entry.get("error") or entry.get("status"))
        for f in entry.get("findings", []):
            outcome.findings.append(
                Finding(f["codemod"], int(f["line"]), f.get("cell"), f.get("message", ""))
            )
    return per_path, f"exit {exit_code}" if exit_code == 2 else ""


# ---------------------------------------------------------------- edges


def git(git_dir: Path, *args: str, data: bytes | None = None) -> bytes:
    env = {**os.environ, **GIT_ENV}
    cmd = [*GIT, f"--git-dir={git_dir}", *args]
    return subprocess.run(cmd, input=data, capture_output=True, env=env, check=True).stdout


def find_git_dir(mirrors: Path, repo: str) -> Path | None:
    base = mirrors / repo.replace("/", "+")
    for candidate in (base / "repo", base / "repo" / ".git", base, base / ".git"):
        if (candidate / "HEAD").is_file() and (candidate / "objects").is_dir():
            return candidate
    return None


def extract(git_dir: Path, commit: str, paths: Iterable[str], into: Path) -> None:
    """Write each path's blob at commit under into/, through one cat-file --batch."""
    paths = list(paths)
    request = "".join(f"{commit}:{p}\n" for p in paths).encode()
    out = git(git_dir, "cat-file", "--batch", data=request)
    pos = 0
    for p in paths:
        header_end = out.index(b"\n", pos)
        header = out[pos:header_end].split()
        pos = header_end + 1
        if len(header) < 3 or header[1] != b"blob":
            continue
        size = int(header[2])
        target = into / p
        if into.resolve() not in target.resolve().parents:
            pos += size + 1
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(out[pos : pos + size])
        pos += size + 1


def tree_code_paths(git_dir: Path, commit: str) -> list[str]:
    listing = git(git_dir, "ls-tree", "-r", "-z", "--name-only", commit).decode()
    return [p for p in listing.split("\0") if p.endswith(CODE_SUFFIXES)]


def run_memfix(root: Path, targets: Sequence[str]) -> tuple[str, int]:
    env = {**os.environ, "MEMFIX_NO_CACHE": "1"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT), env.get("PYTHONPATH")]))
    cmd = [sys.executable, "-m", "memfix", "check", "--format", "json", "--quiet", *targets]
    proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True, env=env)
    return proc.stdout, proc.returncode


def check_repo(
    root: Path, files: Sequence[LabelledFile], whole_repo: bool
) -> tuple[dict[tuple[str, str], FileOutcome], int]:
    targets = ["."] if whole_repo else [lf.path for lf in files]
    document, code = run_memfix(root, targets)
    per_path, run_error = parse_report(document, code)
    normalised: dict[str, FileOutcome] = {}
    for reported, outcome in per_path.items():
        rel = Path(reported)
        rel = rel.relative_to(root) if rel.is_absolute() and root in rel.parents else rel
        normalised[rel.as_posix().removeprefix("./")] = outcome
    results = {}
    labelled = {lf.path for lf in files}
    for lf in files:
        outcome = normalised.get(lf.path, FileOutcome())
        if run_error:
            outcome.crashed, outcome.error = True, outcome.error or run_error
        results[(lf.repo, lf.path)] = outcome
    extra = sum(len(o.findings) for p, o in normalised.items() if p not in labelled)
    return results, extra


def _checkout(
    args: argparse.Namespace,
    repo: str,
    repo_files: list[LabelledFile],
    tmp: Path,
    outcomes: dict[tuple[str, str], FileOutcome],
) -> Path | None:
    """The folder holding `repo`'s labelled files: a clone, or files extracted from a mirror."""
    if args.clones:
        clone: Path = args.clones / repo.replace("/", "+")
        return clone
    git_dir = find_git_dir(args.mirrors, repo)
    if git_dir is None:
        for lf in repo_files:
            outcomes[(repo, lf.path)] = FileOutcome(crashed=True, error="no mirror")
        return None
    root = tmp / repo.replace("/", "+")
    for commit in sorted({lf.commit for lf in repo_files}):
        wanted = [lf.path for lf in repo_files if lf.commit == commit]
        if args.whole_repo:
            wanted = sorted(set(wanted) | set(tree_code_paths(git_dir, commit)))
        extract(git_dir, commit, wanted, root)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--clones", type=Path, help="DIR with DIR/owner+name/ checkouts")
    source.add_argument("--mirrors", type=Path, help="DIR with DIR/owner+name/ bare git dirs")
    parser.add_argument("--whole-repo", action="store_true", help="check every file, not one")
    parser.add_argument("--labels", type=Path, default=LABELS)
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args(argv)

    files = load_labels(args.labels.read_text(encoding="utf-8"))
    by_repo: dict[str, list[LabelledFile]] = defaultdict(list)
    for lf in files:
        by_repo[lf.repo].append(lf)

    outcomes: dict[tuple[str, str], FileOutcome] = {}
    sources: dict[tuple[str, str], str] = {}
    unlabelled = 0
    with tempfile.TemporaryDirectory(prefix="memfix-wild-") as tmp:
        for repo, repo_files in sorted(by_repo.items()):
            root = _checkout(args, repo, repo_files, Path(tmp), outcomes)
            if root is None:
                continue
            for lf in repo_files:
                path = root / lf.path
                if path.is_file():
                    sources[(repo, lf.path)] = path.read_text(encoding="utf-8", errors="replace")
            present = [lf for lf in repo_files if (root / lf.path).is_file()]
            for lf in repo_files:
                if lf not in present:
                    outcomes[(repo, lf.path)] = FileOutcome(crashed=True, error="file missing")
            if present:
                results, extra = check_repo(root, present, args.whole_repo)
                outcomes.update(results)
                unlabelled += extra
    result = tally(files, outcomes, sources, unlabelled)
    print(render(result))
    if args.json:
        numbers = {
            "recall": {
                fam: {"found": result.found[fam], "labelled": n}
                for fam, n in sorted(result.labelled.items())
            },
            "false_positives": {
                "unlabelled_lines": dict(result.fp_unlabelled_lines),
                "lookalike_files": dict(result.fp_lookalike),
            },
            "files": result.files,
            "lookalike_files": result.lookalike_files,
            "lookalike_files_flagged": result.lookalike_files_flagged,
            "false_positives_past_end_of_file": result.past_end,
            "crashes": result.crashes,
            "unlabelled_file_findings": result.unlabelled_file_findings,
            "missed": result.missed,
            "false_positive_list": result.false_positives,
        }
        args.json.write_text(json.dumps(numbers, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
