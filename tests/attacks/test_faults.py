"""Faults during `apply`: a killed run, two runs at once, and the printed patch.

Whatever happens to the process, each file holds either its old text or its new text,
never a mix or a truncation; and the diff `--dry-run` prints is exactly what `--yes`
writes.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from memfix.config import Settings
from memfix.pipeline.engine import fix_source
from memfix.rules.registry import by_name
from tests.support.fixtures import CASES, PROGRAM, parse_fixture

ROOT = Path(__file__).resolve().parents[2]
FILES = 60
# One codemod, so that the expected text does not move as codemods are added.
SELECT = ("--select", "per-call-state")
APPLY = ("apply", "--yes", "--quiet", *SELECT)


def fixed(source: str) -> str:
    codemods = [by_name(SELECT[1])]
    result = fix_source(source, path="x.py", codemods=codemods, settings=Settings())
    assert result.after != source, "the program must need a fix"
    return result.after


def memfix(log: Path, *args: str) -> subprocess.Popen[bytes]:
    """`memfix ARGS` in the background, its standard error going to `log`."""
    env = {**os.environ, "MEMFIX_NO_CACHE": "1", "PYTHONPATH": str(ROOT)}
    with log.open("wb") as stderr:
        return subprocess.Popen(
            [sys.executable, "-m", "memfix", *args],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,  # so the kill reaches the process pool too
        )


def many_copies(folder: Path) -> list[Path]:
    folder.mkdir()
    paths = [folder / f"bot_{number:03}.py" for number in range(FILES)]
    for path in paths:
        path.write_text(PROGRAM, encoding="utf-8")
    return paths


def assert_old_or_new(paths: list[Path], old: str, new: str) -> int:
    """Each file is whole, old or new; returns how many are new."""
    texts = [path.read_text(encoding="utf-8") for path in paths]
    assert all(text in (old, new) for text in texts), "a file holds neither old nor new text"
    return sum(text == new for text in texts)


def test_a_killed_apply_leaves_every_file_old_or_new(tmp_path: Path) -> None:
    paths = many_copies(tmp_path / "tree")
    new = fixed(PROGRAM)
    process = memfix(tmp_path / "first.log", *APPLY, str(tmp_path / "tree"))
    deadline = time.monotonic() + 120
    # Kill it as soon as the first file is written: the rest are mid-run.
    while time.monotonic() < deadline and process.poll() is None:
        if any(path.stat().st_size != len(PROGRAM) for path in paths[::10]):
            break
        time.sleep(0.005)
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    assert_old_or_new(paths, PROGRAM, new)
    # A second run finishes the job from whatever state the first left.
    log = tmp_path / "again.log"
    again = memfix(log, *APPLY, str(tmp_path / "tree"))
    assert again.wait(timeout=300) == 0, log.read_text()
    assert assert_old_or_new(paths, PROGRAM, new) == FILES


def test_two_applies_at_once_do_not_corrupt_a_file(tmp_path: Path) -> None:
    paths = many_copies(tmp_path / "tree")
    new = fixed(PROGRAM)
    logs = [tmp_path / f"run{number}.log" for number in range(2)]
    runs = [memfix(log, *APPLY, str(tmp_path / "tree")) for log in logs]
    codes = [run.wait(timeout=300) for run in runs]
    errors = [log.read_text() for log in logs]
    # The slower run finds files the faster one rewrote: refused, reported, exit 1.
    assert set(codes) <= {0, 1}, errors
    for error in errors:
        for line in error.splitlines():
            assert "changed on disk" in line or "not written" not in line, line
    assert assert_old_or_new(paths, PROGRAM, new) == FILES


def test_the_dry_run_patch_applied_by_git_is_what_apply_writes(tmp_path: Path) -> None:
    patched, written = tmp_path / "patched", tmp_path / "written"
    patched.mkdir()
    for path in CASES:
        source, _, flags = parse_fixture(path)
        if not flags:
            (patched / f"{path.parent.name.replace('-', '_')}_{path.stem}.py").write_text(
                source, encoding="utf-8"
            )
    shutil.copytree(patched, written)
    env = {**os.environ, "MEMFIX_NO_CACHE": "1", "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "memfix", "apply"]
    patch = subprocess.run(
        [*command, "--dry-run", "--quiet", "."], cwd=patched, env=env, capture_output=True
    )
    assert patch.returncode == 1, patch.stderr.decode()
    assert patch.stdout.count(b"\n+++ b/") >= 10
    subprocess.run(["git", "apply", "-"], cwd=patched, input=patch.stdout, check=True)
    wrote = subprocess.run([*command, "--yes", "--quiet", "."], cwd=written, env=env)
    assert wrote.returncode in (0, 1)
    for path in sorted(written.iterdir()):
        assert (patched / path.name).read_bytes() == path.read_bytes(), path.name
