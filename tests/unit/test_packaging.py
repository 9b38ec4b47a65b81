"""The distribution ships one top-level package, `memfix`, with the codemods inside it."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]


def listed_packages() -> list[str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    packages: list[str] = data["tool"]["setuptools"]["packages"]
    return packages


def packages_on_disk() -> set[str]:
    found = {"memfix"}
    for init in (ROOT / "memfix").rglob("__init__.py"):
        found.add(".".join(init.parent.relative_to(ROOT).parts))
    for init in (ROOT / "codemods").rglob("__init__.py"):
        found.add(".".join(("memfix", *init.parent.relative_to(ROOT).parts)))
    return found


def test_every_package_folder_is_listed_for_the_wheel() -> None:
    assert packages_on_disk() == set(listed_packages())


def test_the_codemods_folder_is_the_memfix_codemods_package() -> None:
    link = ROOT / "memfix" / "codemods"
    assert link.is_symlink() and link.resolve() == (ROOT / "codemods").resolve()


@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="needs the source tree")
def test_the_wheel_holds_only_memfix(tmp_path: Path) -> None:
    pytest.importorskip("wheel")
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert build.returncode == 0, build.stderr
    (wheel,) = tmp_path.glob("memfix-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names}
    assert tops == {"memfix", f"{wheel.name.split('-')[0]}-{wheel.name.split('-')[1]}.dist-info"}
    assert "memfix/codemods/per_call_state/__init__.py" in names
    assert not any(name.startswith("codemods/") for name in names)
