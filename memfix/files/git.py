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


# Every command memfix runs in a repository it migrates goes through `_git`: the repository's
# hooks and fsmonitor are switched off, since memfix never runs code from those repositories.
_SAFE = ("-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false")
_IDENTITY = ("-c", "user.name=memfix", "-c", "user.email=memfix@localhost")


class GitError(Exception):
    """A git command failed; the message is git's own."""


def _git(root: Path, *args: str, env: dict[str, str] | None = None) -> str:
    import git

    try:
        output: str = git.Git(root).execute(
            ["git", *_SAFE, *args], env=env, strip_newline_in_stdout=False
        )
    except git.GitCommandError as error:
        detail = (error.stderr or str(error)).strip().removeprefix("stderr:").strip(" '\n")
        raise GitError(f"git {args[0]}: {detail}") from None
    return output


def is_repository(root: Path) -> bool:
    """Whether `root` is the top of a git work tree."""
    try:
        top = _git(root, "rev-parse", "--show-toplevel").strip()
    except GitError:
        return False
    return Path(top).resolve() == root.resolve()


def head(root: Path) -> str:
    """The commit HEAD points at."""
    return _git(root, "rev-parse", "--verify", "HEAD^{commit}").strip()


def is_dirty(root: Path) -> bool:
    """Whether the work tree has changes or untracked files that are not ignored."""
    return bool(_git(root, "status", "--porcelain", "--untracked-files=normal").strip())


def branch_exists(root: Path, name: str) -> bool:
    try:
        _git(root, "rev-parse", "--verify", "--quiet", f"refs/heads/{name}")
    except GitError:
        return False
    return True


def create_branch(root: Path, name: str) -> None:
    """Create branch `name` at HEAD and switch to it, keeping the work tree as it is."""
    _git(root, "check-ref-format", "--branch", name)
    _git(root, "checkout", "-q", "-b", name)


def _identity(root: Path) -> tuple[str, ...]:
    try:
        _git(root, "config", "user.email")
    except GitError:
        return _IDENTITY
    return ()


def commit(root: Path, files: list[str], message: str) -> str:
    """Commit `files` (paths relative to `root`) with `message`, running no hook; the new id."""
    _git(root, "add", "--", *files)
    _git(root, *_identity(root), "commit", "-q", "--no-verify", "-m", message, "--", *files)
    return head(root)


def commit_without_checkout(root: Path, changes: dict[str, bytes], message: str) -> str:
    """A commit on top of HEAD with `changes` (path: new bytes), touching no branch or file.

    The commit is built with a temporary index and is reachable from no branch.
    """
    import os
    import tempfile

    with tempfile.TemporaryDirectory(prefix="memfix-index-") as folder:
        env = {**os.environ, "GIT_INDEX_FILE": os.path.join(folder, "index")}
        _git(root, "read-tree", "HEAD", env=env)
        for path, data in changes.items():
            blob_file = Path(folder) / "blob"
            blob_file.write_bytes(data)
            blob = _git(root, "hash-object", "-w", "--no-filters", str(blob_file)).strip()
            mode = _git(root, "ls-files", "-s", "--", path, env=env).split(" ", 1)[0] or "100644"
            _git(root, "update-index", "--cacheinfo", f"{mode},{blob},{path}", env=env)
        tree = _git(root, "write-tree", env=env).strip()
    ident = _identity(root)
    return _git(root, *ident, "commit-tree", tree, "-p", "HEAD", "-m", message).strip()


def format_patch(root: Path, base: str, tip: str) -> str:
    """`git format-patch` of `base..tip`, as one mbox text that `git am` applies on `base`."""
    return _git(root, "format-patch", "--stdout", "--no-signature", f"{base}..{tip}")
