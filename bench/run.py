"""memfix's benchmark against ruff, LibCST's own runner and a byte-reading floor.

    python bench/run.py [TREE...] [--files 10000] [--repeat 3]

Trees: (a) the installed langchain_community package, (b) the standard library's Lib
folder, (c) a synthetic repository of --files files (and a tenth of it, for the
linearity ratio), or the TREEs given. Commands are run in rounds, alternating, each round
running every command once; the table shows medians, and the seven goal ratios come from
those medians. Results are also written to bench/results/<time>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import synth  # noqa: E402

PYTHON = sys.executable
LIBCST_CONFIG = """generated_code_marker: '@generated'
formatter: ['true']
blacklist_patterns: []
modules: ['memfix_bench']
repo_root: '.'
"""
LIBCST_RUNNER = (PYTHON, "-m", "libcst.tool", "codemod", "noop_codemod.NoopCommand")
LIBCST_OPTIONS = ("-j", "2", "--no-format", "--hide-progress")
_READ_ALL = (
    "import os,sys\n"
    "for d,_,fs in os.walk(sys.argv[1]):\n"
    "    for f in fs:\n"
    "        if f.endswith('.py'):\n"
    "            open(os.path.join(d,f),'rb').read()\n"
)


@dataclass
class Command:
    name: str
    argv: list[str]
    cwd: Path = ROOT
    env: dict[str, str] = field(default_factory=dict)
    seconds: list[float] = field(default_factory=list)
    peak_mb: float = 0.0
    failures: int = 0  # runs that exited with a status other than 0 or 1 (findings)
    warm_up: bool = True  # one untimed run first (file cache, ruff's and memfix's caches)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds) if self.seconds else float("nan")


def run_once(command: Command) -> None:
    env = {**os.environ, **command.env}
    start = time.perf_counter()
    process = subprocess.Popen(
        command.argv,
        cwd=command.cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        command.failures += 1
    command.seconds.append(time.perf_counter() - start)
    process.returncode = 0
    command.peak_mb = max(command.peak_mb, usage.ru_maxrss / 1024)


def measure(commands: Sequence[Command], repeat: int) -> None:
    """Every command once per round, in turn, after one untimed run of the quick ones."""
    for command in commands:
        if command.warm_up:
            run_once(command)
            command.seconds.clear()
    for _ in range(repeat):
        for command in commands:
            run_once(command)


def probe(what: str, tree: Path) -> dict[str, float]:
    output = subprocess.run(
        [PYTHON, str(HERE / "probe.py"), what, str(tree)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return dict(json.loads(output.splitlines()[-1]))


def libcst_workdir(scratch: Path) -> Path:
    folder = scratch / "libcst"
    (folder / "memfix_bench").mkdir(parents=True, exist_ok=True)
    (folder / "memfix_bench" / "__init__.py").write_text("")
    shutil.copy(HERE / "noop_codemod.py", folder / "memfix_bench" / "noop_codemod.py")
    (folder / ".libcst.codemod.yaml").write_text(LIBCST_CONFIG)
    return folder


def tree_commands(tree: Path, scratch: Path, with_libcst: bool) -> list[Command]:
    memfix = [PYTHON, "-m", "memfix"]
    no_cache = {"MEMFIX_NO_CACHE": "1"}
    ruff_cache = scratch / f"ruff-{tree.name}"
    commands = [
        Command("memfix check", [*memfix, "check", "--quiet", str(tree)], env=no_cache),
        Command("memfix check (warm)", [*memfix, "check", "--quiet", str(tree)]),
        Command(
            "memfix apply --dry-run",
            [*memfix, "apply", "--dry-run", "--quiet", str(tree)],
            env=no_cache,
        ),
        Command("ruff --no-cache", ["ruff", "check", "--select", "E9", "--no-cache", str(tree)]),
        Command(
            "ruff (warm cache)",
            ["ruff", "check", "--select", "E9", "--cache-dir", str(ruff_cache), str(tree)],
        ),
        Command("grep -rl langchain", ["grep", "-rl", "--include=*.py", "langchain", str(tree)]),
        Command("python reads every file", [PYTHON, "-c", _READ_ALL, str(tree)]),
    ]
    if with_libcst:
        commands.append(
            Command(
                "libcst parse every file",
                [PYTHON, str(HERE / "probe.py"), "parse", str(tree)],
                warm_up=False,
            )
        )
        workdir = libcst_workdir(scratch)
        commands.append(
            Command(
                "libcst runner (no-op, -j 2)",
                [*LIBCST_RUNNER, *LIBCST_OPTIONS, str(tree)],
                cwd=workdir,
                env={"PYTHONPATH": str(workdir)},
                warm_up=False,
            )
        )
    return commands


def default_trees(files: int, scratch: Path) -> dict[str, Path]:
    import importlib.util

    trees: dict[str, Path] = {}
    # Outside the project, so that neither its settings nor its .gitignore apply.
    cache = Path(tempfile.gettempdir()) / "memfix-bench-trees"
    spec = importlib.util.find_spec("langchain_community")
    if spec and spec.submodule_search_locations:
        # Copied out of site-packages, which memfix (like ruff) never looks into.
        source = Path(next(iter(spec.submodule_search_locations)))
        copy = cache / "langchain_community"
        if not copy.exists():
            shutil.copytree(source, copy, ignore=shutil.ignore_patterns("__pycache__"))
        trees["a: langchain_community"] = copy
    trees["b: stdlib Lib"] = Path(os.path.dirname(os.__file__))
    trees[f"c: synthetic {files}"] = synth.generate(cache / f"synth-{files}", files)
    trees[f"c: synthetic {files // 10}"] = synth.generate(
        cache / f"synth-{files // 10}", files // 10
    )
    return trees


def batch_overhead(scratch: Path, repeat: int) -> dict[str, float]:
    """Per-repository cost of `memfix batch --dry-run` beyond a one-file repository's work."""
    repos: list[Path] = []
    for index in range(20):
        repo = scratch / "repos" / f"repo{index:02d}"
        repo.mkdir(parents=True, exist_ok=True)
        (repo / "app.py").write_text(f"VALUE = {index}\n")
        git = ["git", "-C", str(repo), "-c", "user.name=bench", "-c", "user.email=bench@invalid"]
        subprocess.run([*git, "init", "-q"], check=True)
        subprocess.run([*git, "add", "app.py"], check=True)
        subprocess.run([*git, "commit", "-qm", "init"], check=True)
        repos.append(repo)
    base = [PYTHON, "-m", "memfix", "batch", "--dry-run", "--quiet"]
    one = Command("batch 1 repo", [*base, "--out", str(scratch / "out1"), str(repos[0])])
    many = Command("batch 20 repos", [*base, "--out", str(scratch / "out20"), *map(str, repos)])
    measure([one, many], repeat)
    return {
        "one_s": one.median,
        "twenty_s": many.median,
        "per_repo_s": (many.median - one.median) / 19,
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("trees", nargs="*", type=Path)
    parser.add_argument("--files", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-libcst-runner", action="store_true", help="Skip the slowest row.")
    options = parser.parse_args(argv)

    from rich.console import Console
    from rich.table import Table

    console = Console()
    report: dict[str, object] = {"machine": _machine(), "repeat": options.repeat}
    with tempfile.TemporaryDirectory(prefix="memfix-bench-") as name:
        scratch = Path(name)
        trees = (
            {str(tree): tree.resolve() for tree in options.trees}
            if options.trees
            else default_trees(options.files, scratch)
        )
        measured: dict[str, dict[str, Command]] = {}
        for label, tree in trees.items():
            with_libcst = label.startswith("a") and not options.no_libcst_runner
            commands = tree_commands(tree, scratch, with_libcst)
            console.print(f"[bold]{label}[/] {tree}", highlight=False)
            measure(commands, options.repeat)
            measured[label] = {command.name: command for command in commands}
            table = Table("command", "median s", "runs", "peak MB", "failed runs")
            for command in commands:
                runs = " ".join(f"{s:.2f}" for s in command.seconds)
                table.add_row(
                    command.name,
                    f"{command.median:.3f}",
                    runs,
                    f"{command.peak_mb:.0f}",
                    str(command.failures),
                )
            console.print(table)
        startup = [
            Command("memfix --version", [PYTHON, "-m", "memfix", "--version"]),
            Command("python -c 'import typer'", [PYTHON, "-c", "import typer"]),
        ]
        measure(startup, max(options.repeat, 5))
        batch = batch_overhead(scratch, options.repeat)
        candidates = {label: probe("candidates", tree) for label, tree in trees.items()}

    goals = _goals(measured, startup, batch, candidates)
    table = Table("goal", "measured", "target", "met")
    for goal in goals:
        table.add_row(
            goal["goal"], goal["measured"], goal["target"], "yes" if goal["met"] else "NO"
        )
    console.print(table)
    report["trees"] = {
        label: {
            "path": str(trees[label]),
            "commands": {
                name: {"median_s": c.median, "runs_s": c.seconds, "peak_mb": c.peak_mb}
                for name, c in commands.items()
            },
            "candidates": candidates[label],
        }
        for label, commands in measured.items()
    }
    report["startup"] = {c.name: {"median_s": c.median, "runs_s": c.seconds} for c in startup}
    report["batch"] = batch
    report["goals"] = goals
    out = HERE / "results" / time.strftime("%Y%m%dT%H%M%S.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    console.print(f"written {out.relative_to(ROOT)}")


def _find(measured: dict[str, dict[str, Command]], prefix: str) -> dict[str, Command] | None:
    return next((v for k, v in measured.items() if k.startswith(prefix)), None)


def _goals(
    measured: dict[str, dict[str, Command]],
    startup: Sequence[Command],
    batch: dict[str, float],
    candidates: dict[str, dict[str, float]],
) -> list[dict[str, object]]:
    goals: list[dict[str, object]] = []

    def add(goal: str, value: float, target: str, met: bool, unit: str = "x") -> None:
        goals.append(
            {
                "goal": goal,
                "value": value,
                "measured": f"{value:.2f}{unit}",
                "target": target,
                "met": met,
            }
        )

    b = _find(measured, "b")
    if b:
        ratio = b["memfix check"].median / b["ruff --no-cache"].median
        add("1 no-LangChain tree: check / ruff --no-cache", ratio, "<= 1.0x", ratio <= 1.0)
    a = _find(measured, "a")
    if a:
        check = a["memfix check"].median
        if "libcst runner (no-op, -j 2)" in a:
            speedup = a["libcst runner (no-op, -j 2)"].median / check
            add("2 LangChain tree: libcst runner / check", speedup, ">= 30x", speedup >= 30)
        share = check / a["libcst parse every file"].median
        add("2 LangChain tree: check / libcst parse of every file", share, "<= 0.3x", share <= 0.3)
        probe_a = next(v for k, v in candidates.items() if k.startswith("a"))
        if probe_a["parse_s"]:
            per = probe_a["analysis_s"] / probe_a["parse_s"]
            add(
                f"3 per candidate ({probe_a['files']:.0f} files): analysis / parse",
                per,
                "<= 5x",
                per <= 5,
            )
        warm = a["memfix check (warm)"].median / a["python reads every file"].median
        add("4 warm re-run / (start-up + byte scan)", warm, "<= 2x", warm <= 2)
    version = startup[0].median / startup[1].median
    add("5 memfix --version / import typer", version, "<= 1.5x", version <= 1.5)
    synthetic = sorted(
        (k for k in measured if k.startswith("c")), key=lambda k: int(k.rsplit(" ", 1)[1])
    )
    if len(synthetic) == 2:
        small, large = (int(k.rsplit(" ", 1)[1]) for k in synthetic)
        per_small = measured[synthetic[0]]["memfix check"].median / small
        per_large = measured[synthetic[1]]["memfix check"].median / large
        linear = per_large / per_small
        add(f"6 per-file cost {large} / {small} files", linear, "0.8x-1.2x", 0.8 <= linear <= 1.2)
    peak = max(
        c.peak_mb
        for commands in measured.values()
        for n, c in commands.items()
        if n.startswith("memfix")
    )
    add("6 peak memory of memfix (one process)", peak, "<= 300 MB", peak <= 300, " MB")
    per_repo_ms = batch["per_repo_s"] * 1000
    add("7 batch: per-repo cost, one-file repos", per_repo_ms, "<= 25 ms", per_repo_ms <= 25, " ms")
    return goals


def _machine() -> dict[str, object]:
    import platform

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "processor": platform.processor(),
    }


if __name__ == "__main__":
    main()
