"""Every git process memfix starts, and the questions it asks git.

memfix runs git in repositories it does not trust, so one runner starts every git
process and switches off whatever a repository's config could make git execute: hooks,
fsmonitor, filter, diff and merge drivers, signing programs, pagers, editors, credential
programs, transports, automatic gc. Before each command it reads the repository's
effective config (includes too; reading runs nothing) and also switches off, by name,
the drivers and programs configured there, since no fixed list can know their names. The
system and global config are left out; the user's identity, trusted folders
(`safe.directory`), ignore file and line-ending settings are carried over from them.

Every function here raises only GitError, with a one-line message.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import subprocess
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from memfix.errors import MemfixError


class GitError(MemfixError):
    """git failed, or refused the repository; the message is one line: git's own reason."""


# Set in every command, to values that run nothing: git starts no pager named "cat" and no
# editor named ":", and an empty `credential.helper` empties the list of credential programs.
_ALWAYS: tuple[tuple[str, str], ...] = (
    ("core.fsmonitor", "false"),
    ("core.hooksPath", os.devnull),
    ("core.attributesFile", os.devnull),
    ("core.pager", "cat"),
    ("core.editor", ":"),
    ("sequence.editor", ":"),
    ("core.askPass", ""),
    ("core.sshCommand", ""),
    ("core.alternateRefsCommand", ""),
    ("credential.helper", ""),
    ("diff.external", ""),
    ("interactive.diffFilter", ""),
    ("gpg.program", ""),
    ("gpg.openpgp.program", ""),
    ("gpg.x509.program", ""),
    ("gpg.ssh.program", ""),
    ("gpg.ssh.defaultKeyCommand", ""),
    ("commit.gpgSign", "false"),
    ("tag.gpgSign", "false"),
    ("tag.forceSignAnnotated", "false"),
    ("push.gpgSign", "false"),
    ("merge.verifySignatures", "false"),
    ("log.showSignature", "false"),
    ("gc.auto", "0"),
    ("maintenance.auto", "false"),
    ("help.autoCorrect", "0"),
    ("submodule.recurse", "false"),
    ("status.submoduleSummary", "false"),
    ("imap.tunnel", ""),
    ("web.browser", ""),
    ("instaweb.browser", ""),
    ("instaweb.httpd", ""),
    # memfix talks to no other repository. Without transports, nothing runs core.gitProxy
    # (whose first value wins, so no later value could replace it), an ssh command, a
    # remote's own transport (remote.<name>.vcs) or an upload-pack or receive-pack program.
    ("protocol.allow", "never"),
    ("safe.bareRepository", "explicit"),
)

# For every <name> the config uses under these sections, the keys of that name that hold
# a command, set to values that run nothing (an empty command is never started).
_PER_NAME: Mapping[str, Mapping[str, str]] = {
    "filter": {"clean": "", "smudge": "", "process": "", "required": "false"},
    "diff": {"command": "", "textconv": "", "cachetextconv": "false"},
    "merge": {"driver": ""},
    "gpg": {"program": ""},
    "credential": {"helper": ""},
    "remote": {"uploadpack": "", "receivepack": "", "vcs": ""},
    "submodule": {"update": "none"},
    "difftool": {"cmd": ""},
    "mergetool": {"cmd": ""},
    "guitool": {"cmd": ""},
    "browser": {"cmd": ""},
    "man": {"cmd": ""},
}

# Sections whose every key is a command name: pager.<command>, alias.<name>.
_PER_KEY: Mapping[str, str] = {"pager": "false", "alias": ""}

# What the user's own config still decides (git prints keys lower-cased).
_CARRIED = frozenset(
    {"user.name", "user.email", "safe.directory", "core.excludesfile", "core.autocrlf", "core.eol"}
)
_IDENTITY = (("user.name", "memfix"), ("user.email", "memfix@localhost"))

# The user's variables that only name who commits and when; every other GIT_* goes.
_KEPT_VARIABLES = frozenset(
    {
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_AUTHOR_DATE",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
        "GIT_COMMITTER_DATE",
    }
)
_LOCATING = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR", "GIT_NAMESPACE")

_Entries = list[tuple[str, str | None]]


def _environment(extra: Mapping[str, str], overrides: Sequence[tuple[str, str]]) -> dict[str, str]:
    """The environment of a git process: no system or global config, no prompt, no
    optional index writes, literal pathspecs, and `overrides` as command-line config."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_") or k in _KEPT_VARIABLES}
    env.update(
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_ATTR_NOSYSTEM="1",
        GIT_TERMINAL_PROMPT="0",
        GIT_OPTIONAL_LOCKS="0",
        GIT_LITERAL_PATHSPECS="1",
        GIT_CONFIG_COUNT=str(len(overrides)),
    )
    # Keys and values apart (not `-c key=value`): a name in the config may hold a "=".
    for number, (key, value) in enumerate(overrides):
        env[f"GIT_CONFIG_KEY_{number}"] = key
        env[f"GIT_CONFIG_VALUE_{number}"] = value
    env.update(extra)
    return env


def _execute(
    cwd: Path, args: Sequence[str], env: Mapping[str, str], input: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    """The one place a git process starts: in its own session, so it has no terminal to
    prompt on or page to, reading only `input`."""
    try:
        return subprocess.run(
            ["git", "--no-pager", *args],
            cwd=cwd,
            env=env,
            input=input,
            stdin=subprocess.DEVNULL if input is None else None,
            capture_output=True,
            check=False,
            start_new_session=True,
        )
    except FileNotFoundError:
        raise GitError("git is not installed (or not on PATH)") from None
    except OSError as error:
        raise GitError(f"cannot run git in {cwd}: {error.strerror or error}") from None


def _reason(args: Sequence[str], stderr: bytes) -> str:
    """`git <command>: <why>`, from git's fatal (else first error) line."""
    lines = [line.strip() for line in stderr.decode("utf-8", "replace").splitlines()]
    lines = [line for line in lines if line]
    chosen = next((line for line in lines if line.startswith("fatal:")), None)
    chosen = chosen or next((line for line in lines if line.startswith("error:")), None)
    chosen = chosen or (lines[0] if lines else "failed")
    reason = chosen.removeprefix("fatal:").removeprefix("error:").strip()
    return f"git {args[0]}: {reason}"


def _parse(listing: bytes) -> _Entries:
    """`git config --list -z` output as (key, value) pairs; None for a key without `=`."""
    entries: _Entries = []
    for record in listing.split(b"\0"):
        if record:
            key, newline, value = record.partition(b"\n")
            entries.append((os.fsdecode(key), os.fsdecode(value) if newline else None))
    return entries


# GIT_CONFIG_GLOBAL and GIT_CONFIG_COUNT came in 2.32 and 2.31: an older git would
# silently take neither, and run what the repository names.
_OLDEST = (2, 32)


@functools.lru_cache(maxsize=1)
def _user_settings() -> tuple[tuple[str, str], ...]:
    """The keys of `_CARRIED` in the user's system and global config, in order.

    Raises GitError when git is older than memfix can make safe.
    """
    env = {k: v for k, v in os.environ.items() if k not in _LOCATING}
    version = _execute(Path(os.sep), ("version",), env).stdout.decode("utf-8", "replace")
    found = re.search(r"(\d+)\.(\d+)", version)
    if found is None or (int(found[1]), int(found[2])) < _OLDEST:
        oldest = ".".join(map(str, _OLDEST))
        raise GitError(f"memfix needs git {oldest} or newer (found: {version.strip()})")
    with tempfile.TemporaryDirectory(prefix="memfix-git-") as nowhere:
        # An empty folder below a ceiling: no repository's config is read with the user's.
        env["GIT_CEILING_DIRECTORIES"] = os.path.dirname(nowhere)
        done = _execute(Path(nowhere), ("config", "--list", "-z", "--includes"), env)
    if done.returncode:
        return ()
    return tuple((k, v) for k, v in _parse(done.stdout) if k in _CARRIED and v is not None)


def _switched_off(key: str) -> list[tuple[str, str]]:
    """The overrides that keep what `key` configures from running."""
    section, _, rest = key.partition(".")
    name, dot, _variable = rest.rpartition(".")
    if dot and section in _PER_NAME:
        return [(f"{section}.{name}.{var}", value) for var, value in _PER_NAME[section].items()]
    if not dot and section in _PER_KEY:
        return [(key, _PER_KEY[section])]
    return []


def _overrides(entries: _Entries) -> list[tuple[str, str]]:
    """Everything a command runs with: `_ALWAYS`, the names the repository configures
    switched off, and the user's settings the repository does not set itself."""
    present = {key for key, _ in entries}
    chosen = list(_ALWAYS)
    for key in present:
        chosen += _switched_off(key)
    own = [(k, v) for k, v in _user_settings() if k != "safe.directory" and k not in present]
    chosen += own
    known = present | {k for k, _ in own}
    chosen += [(k, v) for k, v in _IDENTITY if k not in known]
    return chosen


@dataclass(frozen=True, slots=True)
class _Repository:
    """A work tree and its git folder, both given to git explicitly: git looks for
    neither, and `core.worktree` cannot move the work tree."""

    root: Path
    git_dir: Path

    def run(self, *args: str, input: bytes | None = None, index: Path | None = None) -> bytes:
        done = self._start(args, input, index)
        if done.returncode:
            raise GitError(_reason(args, done.stderr))
        return done.stdout

    def answer(self, *args: str, index: Path | None = None) -> bytes | None:
        """The output of a command that exits 1 for "no" (then None)."""
        done = self._start(args, None, index)
        if done.returncode == 1:
            return None
        if done.returncode:
            raise GitError(_reason(args, done.stderr))
        return done.stdout

    def _start(
        self, args: Sequence[str], input: bytes | None, index: Path | None
    ) -> subprocess.CompletedProcess[bytes]:
        located = {"GIT_DIR": str(self.git_dir), "GIT_WORK_TREE": str(self.root)}
        # Read again before every command: `includeIf "onbranch:..."` follows HEAD.
        listing = ("config", "--list", "-z", "--includes")
        config = _execute(self.root, listing, _environment(located, ()))
        if config.returncode:
            raise GitError(_reason(listing, config.stderr))
        if index is not None:
            located["GIT_INDEX_FILE"] = str(index)
        env = _environment(located, _overrides(_parse(config.stdout)))
        return _execute(self.root, args, env, input)


def _open(root: Path) -> _Repository:
    """The repository whose work tree is `root`, once git has found `root/.git` sound and
    owned by the user (or trusted through `safe.directory`)."""
    try:
        top = root.resolve()
        dot_git = top / ".git"
        found, folder = dot_git.exists(), dot_git.is_dir()
    except (OSError, RuntimeError) as error:
        raise GitError(f"{root}: cannot look for its .git: {error}") from None
    if not found:
        raise GitError(f"not a git repository: {top} has no .git")
    # Found by git itself (the one way it checks ownership), never above `top`.
    trusted = [(k, v) for k, v in _user_settings() if k == "safe.directory"]
    env = _environment({"GIT_CEILING_DIRECTORIES": str(top.parent)}, (*_ALWAYS, *trusted))
    args = ("rev-parse", "--absolute-git-dir")
    done = _execute(top, args, env)
    if done.returncode:
        reason = _reason(args, done.stderr)
        if "dubious ownership" in reason:
            reason += f" (to trust it: git config --global --add safe.directory {top})"
        raise GitError(reason if str(top) in reason else f"{top}: {reason}")
    git_dir = Path(os.fsdecode(done.stdout.rstrip(b"\n")))
    if folder and git_dir != Path(os.path.realpath(dot_git)):
        raise GitError(f"not a git repository: {dot_git}")
    return _Repository(top, git_dir)


def run(root: Path, *args: str, input: bytes | None = None) -> bytes:
    """Run `git ARGS` in the repository whose work tree is `root`; its standard output.

    Nothing the repository's config names is executed. Raises GitError when git fails.
    """
    return _open(root).run(*args, input=input)


def work_tree_root(path: Path) -> Path | None:
    """The root of the git work tree holding `path`, found without starting git.

    Raises GitError when a folder on the way cannot be looked into.
    """
    try:
        folder = path.resolve()
        if not folder.is_dir():
            folder = folder.parent
        for candidate in (folder, *folder.parents):
            if (candidate / ".git").exists():
                return candidate
    except (OSError, RuntimeError) as error:  # RuntimeError: a loop of links
        raise GitError(f"{path}: cannot look for a git work tree: {error}") from None
    return None


def listed_files(root: Path, under: Path) -> list[Path]:
    """Files below `under` that git tracks, or that are untracked and not ignored."""
    repo = _open(root)
    try:
        relative = under.resolve().relative_to(repo.root).as_posix()
    except ValueError:
        raise GitError(f"{under} is not inside the work tree {repo.root}") from None
    out = repo.run("ls-files", "--cached", "--others", "--exclude-standard", "-z", "--", relative)
    return [repo.root / os.fsdecode(name) for name in dict.fromkeys(out.split(b"\0")) if name]


def is_repository(root: Path) -> bool:
    """Whether `root` is the top of a git work tree; GitError if git refuses its `.git`."""
    if not (root / ".git").exists():
        return False
    _open(root)
    return True


def _head(repo: _Repository) -> str:
    found = repo.answer("rev-parse", "--verify", "--quiet", "HEAD^{commit}")
    if found is None:
        raise GitError("HEAD names no commit (the repository has no commit yet)")
    return found.decode().strip()


def head(root: Path) -> str:
    """The commit HEAD points at."""
    return _head(_open(root))


def is_dirty(root: Path) -> bool:
    """Whether the work tree has changes or untracked files that are not ignored.

    A submodule counts when its commit moved, not for changes inside it: seeing those
    would start git in the submodule, under a config memfix has not read.
    """
    args = ("status", "--porcelain", "-z", "--untracked-files=normal")
    return bool(_open(root).run(*args, "--ignore-submodules=dirty").strip(b"\0"))


def branch_exists(root: Path, name: str) -> bool:
    """Whether branch `name` exists."""
    found = _open(root).answer("show-ref", "--verify", "--quiet", f"refs/heads/{name}")
    return found is not None


def create_branch(root: Path, name: str) -> None:
    """Create branch `name` at HEAD and switch to it; the index and work tree stay as
    they are. Raises GitError if the name is taken or invalid."""
    repo = _open(root)
    ref = f"refs/heads/{name}"
    if name == "HEAD" or name.startswith("-") or repo.answer("check-ref-format", ref) is None:
        raise GitError(f"{name!r} is not a valid branch name")
    repo.run("update-ref", "-m", "memfix: branch", ref, _head(repo), "")  # "": must not exist
    try:
        repo.run("symbolic-ref", "-m", "memfix: switch", "HEAD", ref)
    except GitError:
        with contextlib.suppress(GitError):
            repo.run("update-ref", "-d", ref)
        raise


def _modes(repo: _Repository, index: Path, paths: Sequence[str]) -> dict[str, str]:
    """The file mode each path gets: its mode in `index`, else 100755 or 100644 from disk.

    Raises GitError for a path git holds as something other than a file (a link, a
    submodule): the fixed text is no content for those.
    """
    listing = repo.run("ls-files", "-s", "-z", "--", *paths, index=index)
    held: dict[str, str] = {}
    for record in listing.split(b"\0"):
        if record:
            info, _, name = record.partition(b"\t")
            held[os.fsdecode(name)] = info.split(b" ", 1)[0].decode()
    modes: dict[str, str] = {}
    for path in paths:
        mode = held.get(path) or _disk_mode(repo.root / path)
        if mode not in ("100644", "100755"):
            raise GitError(f"{path}: git holds it with mode {mode}, not as a file")
        modes[path] = mode
    return modes


def _disk_mode(path: Path) -> str:
    try:
        executable = path.stat().st_mode & 0o100
    except OSError:
        executable = 0
    return "100755" if executable else "100644"


def _build(repo: _Repository, changes: Mapping[str, bytes], message: str) -> tuple[str, str, bytes]:
    """A commit on HEAD with `changes` (path: new bytes), built in a temporary index:
    (commit, parent, the index records of the changed paths)."""
    base = _head(repo)
    with tempfile.TemporaryDirectory(prefix="memfix-index-") as folder:
        index = Path(folder) / "index"
        repo.run("read-tree", base, index=index)
        modes = _modes(repo, index, list(changes))
        records = b""
        for path, data in changes.items():
            # Attributes apply (line endings, encoding) as `git add` would; the filter
            # drivers they name are switched off by the runner.
            blob = repo.run("hash-object", "-w", "--stdin", f"--path={path}", input=data)
            line = f"{modes[path]} {blob.decode().strip()}\t"
            records += line.encode() + os.fsencode(path) + b"\0"
        repo.run("update-index", "-z", "--index-info", input=records, index=index)
        tree = repo.run("write-tree", index=index).decode().strip()
    commit = repo.run(
        "commit-tree", "--no-gpg-sign", tree, "-p", base, "-F", "-", input=message.encode()
    )
    return commit.decode().strip(), base, records


def commit_without_checkout(root: Path, changes: Mapping[str, bytes], message: str) -> str:
    """A commit on top of HEAD with `changes` (path: new bytes), touching no branch,
    index or file; the commit is reachable from no branch. Its id."""
    return _build(_open(root), changes, message)[0]


def commit(root: Path, changes: Mapping[str, bytes], message: str) -> str:
    """Commit `changes` (path: the bytes now in the work tree) on the current branch,
    running no hook and signing nothing; the new commit's id."""
    repo = _open(root)
    tip, base, records = _build(repo, changes, message)
    repo.run("update-ref", "-m", "memfix: commit", "HEAD", tip, base)
    try:
        repo.run("update-index", "-z", "--index-info", input=records)
    except GitError:
        with contextlib.suppress(GitError):
            repo.run("update-ref", "-m", "memfix: undo", "HEAD", base, tip)
        raise
    return tip


def format_patch(root: Path, base: str, tip: str) -> bytes:
    """`git format-patch` of `base..tip`, as one mbox that `git am` applies on `base`."""
    options = ("--no-signature", "--no-cover-letter", "--no-attach", "--no-notes")
    diff = ("--no-ext-diff", "--no-textconv", "--src-prefix=a/", "--dst-prefix=b/")
    return _open(root).run("format-patch", "--stdout", *options, *diff, f"{base}..{tip}")


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Where a repository stood: HEAD, and the index entries of some paths."""

    head: str
    branch: str | None  # the ref HEAD named ("refs/heads/main"), None when detached
    paths: tuple[str, ...]
    entries: bytes  # `git ls-files -s -z` of `paths`


def snapshot(root: Path, paths: Sequence[str]) -> Snapshot:
    """What `restore` puts back: HEAD and the index entries of `paths`."""
    repo = _open(root)
    ref = repo.answer("symbolic-ref", "-q", "HEAD")
    entries = repo.run("ls-files", "-s", "-z", "--", *paths) if paths else b""
    branch = ref.decode().strip() if ref is not None else None
    return Snapshot(_head(repo), branch, tuple(paths), entries)


def restore(root: Path, before: Snapshot, created: str | None = None) -> None:
    """Put HEAD and the index entries of `before.paths` back; delete branch `created`.

    Every step is tried; raises GitError naming the steps that failed.
    """
    repo = _open(root)
    steps: list[Callable[[], object]] = [
        lambda: _restore_head(repo, before),
        lambda: _restore_index(repo, before),
    ]
    if created is not None:
        steps.append(lambda: repo.run("update-ref", "-d", f"refs/heads/{created}"))
    problems: list[str] = []
    for step in steps:
        try:
            step()
        except GitError as error:
            problems.append(str(error))
    if problems:
        raise GitError("; ".join(problems))


def _restore_head(repo: _Repository, before: Snapshot) -> None:
    if before.branch is not None:
        repo.run("symbolic-ref", "-m", "memfix: back", "HEAD", before.branch)
    else:
        repo.run("update-ref", "--no-deref", "-m", "memfix: back", "HEAD", before.head)


def _restore_index(repo: _Repository, before: Snapshot) -> None:
    if not before.paths:
        return
    if repo.run("ls-files", "-s", "-z", "--", *before.paths) == before.entries:
        return
    # A mode-0 record drops a path's entries; the recorded ones then go back as they were.
    zero = "0" * len(before.head)
    drops = b"".join(f"0 {zero}\t".encode() + os.fsencode(p) + b"\0" for p in before.paths)
    repo.run("update-index", "-z", "--index-info", input=drops + before.entries)
