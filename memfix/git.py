"""The git questions memfix asks; the only module that imports GitPython."""

from __future__ import annotations

from pathlib import Path


def work_tree_root(path: Path) -> Path | None:
    """The root of the git work tree holding `path`, found without starting git."""
    folder = path.resolve()
    if not folder.is_dir():
        folder = folder.parent
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


def listed_files(root: Path, under: Path) -> list[Path]:
    """Files below `under` that git tracks, or that are untracked and not ignored."""
    import git

    repo = git.Repo(root)
    relative = under.resolve().relative_to(root).as_posix() or "."
    out = repo.git.ls_files("--cached", "--others", "--exclude-standard", "-z", "--", relative)
    return [root / name for name in dict.fromkeys(out.split("\0")) if name]
