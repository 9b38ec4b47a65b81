"""No git process memfix starts runs anything a repository's config names.

Each attack arms a throwaway repository so that git, run by hand as a user runs it,
starts a script that leaves a marker file. The attack is first shown to be live (plain
git leaves the marker); then memfix's git runner runs the same command, and `check`,
`apply`, `apply --dry-run`, `batch --dry-run` and `batch` run over the armed repository.
The marker never appears, and the fixes still land.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import pytest

from memfix.files import git
from tests.support.cli import invoke
from tests.support.fixtures import PROGRAM
from tests.support.repos import commit_files, copy_repo, make_repo, output, plain_git

BRANCH = "memfix/persist-memory"
SELECT = ("--select", "per-call-state")
SCRIPT = '#!/bin/sh\necho "$0 $*" >> "{marker}"\nexit 1\n'
HOOKS = (
    "applypatch-msg",
    "pre-applypatch",
    "post-applypatch",
    "pre-commit",
    "pre-merge-commit",
    "prepare-commit-msg",
    "commit-msg",
    "post-commit",
    "pre-rebase",
    "post-checkout",
    "post-merge",
    "pre-push",
    "pre-auto-gc",
    "post-rewrite",
    "reference-transaction",
    "post-index-change",
)
MEMFIX_SOURCE = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Sandbox:
    """A folder holding the script, its marker, and the repositories of one test."""

    folder: Path

    @property
    def script(self) -> Path:
        return self.folder / "evil.sh"

    @property
    def marker(self) -> Path:
        return self.folder / "ran"

    def fill(self, text: str, repo: Path) -> str:
        return text.format(script=self.script, sandbox=self.folder, repo=repo)

    def ran(self) -> str:
        """What the script recorded (empty when it never ran), and forget it."""
        if not self.marker.exists():
            return ""
        text = self.marker.read_text(encoding="utf-8")
        self.marker.unlink()
        return text


Step = Callable[[Path, Sandbox], None]


@dataclass(frozen=True)
class Attack:
    """A way to make git run the script, and a git command that would then run it."""

    name: str
    config: tuple[tuple[str, str], ...] = ()
    attributes: str = ""  # a committed .gitattributes
    outside: tuple[tuple[str, str], ...] = ()  # files written in the sandbox
    prepare: Step | None = None  # done by hand before the config is armed
    hooks: bool = False  # every hook in .git/hooks runs the script
    trigger: tuple[str, ...] = ("status", "--porcelain")
    stdin: bytes | None = None
    before_trigger: Step | None = None  # done by hand before the trigger only


def _edit_bot(repo: Path, sandbox: Sandbox) -> None:
    (repo / "bot.py").write_text(PROGRAM + "# edited\n", encoding="utf-8")


def _remove_bot(repo: Path, sandbox: Sandbox) -> None:
    (repo / "bot.py").unlink()


def _diverged(repo: Path, sandbox: Sandbox) -> None:
    """notes.txt changed one way on main and another on branch `other`."""
    plain_git(repo, "branch", "other")
    commit_files(repo, {"notes.txt": "main\n"})
    plain_git(repo, "checkout", "-q", "other")
    commit_files(repo, {"notes.txt": "other\n"})
    plain_git(repo, "checkout", "-q", "main")


def _two_packs(repo: Path, sandbox: Sandbox) -> None:
    plain_git(repo, "repack", "-d", "-q")
    commit_files(repo, {"notes.txt": "packed apart\n"})
    plain_git(repo, "repack", "-d", "-q")


def _other_repository(repo: Path, sandbox: Sandbox) -> None:
    """sandbox/other: a copy of `repo` with one more commit, to fetch from or push to."""
    other = sandbox.folder / "other"
    if not other.exists():
        commit_files(copy_repo(repo, other), {"other.txt": "only here\n"})


def _alternates(repo: Path, sandbox: Sandbox) -> None:
    """`repo` borrows objects from sandbox/alt; sandbox/other has a commit to fetch."""
    _other_repository(repo, sandbox)
    alternate = sandbox.folder / "alt"
    if not alternate.exists():
        copy_repo(repo, alternate)
    alternates = repo / ".git" / "objects" / "info" / "alternates"
    alternates.write_text(f"{alternate / '.git' / 'objects'}\n", encoding="utf-8")


def _hooks_folder(repo: Path, sandbox: Sandbox) -> None:
    """sandbox/hooks: every hook runs the script."""
    hooks = sandbox.folder / "hooks"
    hooks.mkdir(exist_ok=True)
    for hook in HOOKS:
        shutil.copy2(sandbox.script, hooks / hook)


def _info_attributes(repo: Path, sandbox: Sandbox) -> None:
    (repo / ".git" / "info").mkdir(exist_ok=True)
    (repo / ".git" / "info" / "attributes").write_text(FILTERED, encoding="utf-8")


def _edit_bot_on_a_memfix_branch(repo: Path, sandbox: Sandbox) -> None:
    plain_git(repo, "branch", "memfix/by-hand")
    plain_git(repo, "symbolic-ref", "HEAD", "refs/heads/memfix/by-hand")
    _edit_bot(repo, sandbox)


FILTERED = "*.py filter=evil\n"
CLEAN = ("filter.evil.clean", "{script}")
SIGN = ("commit.gpgSign", "true")
COMMIT = ("commit", "--allow-empty", "-m", "by hand")
ADD = ("add", "--", "bot.py")
DIFF = ("diff",)
CREDENTIAL = ("credential", "fill")
ASKED = b"protocol=https\nhost=example.invalid\n\n"
INCLUDED = (("included", '[filter "evil"]\n\tclean = {script}\n'),)

ATTACKS = (
    Attack("core.fsmonitor", config=(("core.fsmonitor", "{script}"),)),
    Attack("hooks in .git/hooks", hooks=True, trigger=COMMIT),
    Attack(
        "core.hooksPath",
        prepare=_hooks_folder,
        config=(("core.hooksPath", "{sandbox}/hooks"),),
        trigger=COMMIT,
    ),
    Attack(
        "filter clean", attributes=FILTERED, config=(CLEAN,), trigger=ADD, before_trigger=_edit_bot
    ),
    Attack(
        "filter clean, required",
        attributes=FILTERED,
        config=(CLEAN, ("filter.evil.required", "true")),
        trigger=ADD,
        before_trigger=_edit_bot,
    ),
    Attack(
        "filter smudge",
        attributes=FILTERED,
        config=(("filter.evil.smudge", "{script}"),),
        trigger=("checkout", "--", "bot.py"),
        before_trigger=_remove_bot,
    ),
    Attack(
        "filter process",
        attributes=FILTERED,
        config=(("filter.evil.process", "{script}"),),
        trigger=ADD,
        before_trigger=_edit_bot,
    ),
    Attack(
        "filter named in info/attributes",
        prepare=_info_attributes,
        config=(CLEAN,),
        trigger=ADD,
        before_trigger=_edit_bot,
    ),
    Attack(
        "filter named in core.attributesFile",
        outside=(("attributes", FILTERED),),
        config=(("core.attributesFile", "{sandbox}/attributes"), CLEAN),
        trigger=ADD,
        before_trigger=_edit_bot,
    ),
    Attack(
        "diff.external",
        config=(("diff.external", "{script}"),),
        trigger=DIFF,
        before_trigger=_edit_bot,
    ),
    Attack(
        "diff driver command",
        attributes="*.py diff=evil\n",
        config=(("diff.evil.command", "{script}"),),
        trigger=DIFF,
        before_trigger=_edit_bot,
    ),
    Attack(
        "diff driver textconv",
        attributes="*.py diff=evil\n",
        config=(("diff.evil.textconv", "{script}"),),
        trigger=DIFF,
        before_trigger=_edit_bot,
    ),
    Attack(
        "merge driver",
        attributes="notes.txt merge=evil\n",
        config=(("merge.evil.driver", "{script} %O %A %B"),),
        prepare=_diverged,
        trigger=("merge", "--no-edit", "other"),
    ),
    Attack("gpg.program", config=(SIGN, ("gpg.program", "{script}")), trigger=COMMIT),
    Attack(
        "gpg.x509.program",
        config=(SIGN, ("gpg.format", "x509"), ("gpg.x509.program", "{script}")),
        trigger=COMMIT,
    ),
    Attack(
        "gpg.ssh.program",
        config=(
            SIGN,
            ("gpg.format", "ssh"),
            ("user.signingKey", "{sandbox}/key"),
            ("gpg.ssh.program", "{script}"),
        ),
        trigger=COMMIT,
    ),
    Attack(
        "gpg.ssh.defaultKeyCommand",
        config=(SIGN, ("gpg.format", "ssh"), ("gpg.ssh.defaultKeyCommand", "{script}")),
        trigger=COMMIT,
    ),
    Attack(
        "tag.gpgSign",
        config=(("tag.gpgSign", "true"), ("gpg.program", "{script}")),
        trigger=("tag", "-a", "v1", "-m", "v1"),
    ),
    Attack(
        "core.sshCommand",
        config=(("core.sshCommand", "{script}"),),
        trigger=("fetch", "ssh://example.invalid/r"),
    ),
    Attack(
        "core.gitProxy",
        config=(("core.gitProxy", "{script}"),),
        trigger=("fetch", "git://example.invalid/r"),
    ),
    Attack(
        "remote uploadpack",
        prepare=_other_repository,
        config=(("remote.up.url", "{sandbox}/other"), ("remote.up.uploadpack", "{script}")),
        trigger=("fetch", "up"),
    ),
    Attack(
        "remote receivepack",
        prepare=_other_repository,
        config=(("remote.down.url", "{sandbox}/other"), ("remote.down.receivepack", "{script}")),
        trigger=("push", "down", "main:pushed"),
    ),
    Attack(
        "core.alternateRefsCommand",
        prepare=_alternates,
        config=(("core.alternateRefsCommand", "{script}"),),
        trigger=("fetch", "{sandbox}/other", "main"),
    ),
    Attack("core.askPass", config=(("core.askPass", "{script}"),), trigger=CREDENTIAL, stdin=ASKED),
    Attack(
        "credential.helper",
        config=(("credential.helper", "{script}"),),
        trigger=CREDENTIAL,
        stdin=ASKED,
    ),
    Attack(
        "credential.<url>.helper",
        config=(("credential.https://example.invalid.helper", "{script}"),),
        trigger=CREDENTIAL,
        stdin=ASKED,
    ),
    Attack(
        "core.editor", config=(("core.editor", "{script}"),), trigger=("commit", "--allow-empty")
    ),
    Attack(
        "sequence.editor",
        config=(("sequence.editor", "{script}"),),
        trigger=("rebase", "-i", "HEAD"),
    ),
    Attack(
        "filter from include.path",
        attributes=FILTERED,
        outside=INCLUDED,
        config=(("include.path", "{sandbox}/included"),),
        trigger=ADD,
        before_trigger=_edit_bot,
    ),
    Attack(
        "filter from includeIf gitdir",
        attributes=FILTERED,
        outside=INCLUDED,
        config=(("includeIf.gitdir:{repo}/.git.path", "{sandbox}/included"),),
        trigger=ADD,
        before_trigger=_edit_bot,
    ),
    # Only on memfix's own branch: switched on by the branch `batch` creates.
    Attack(
        "filter from includeIf onbranch",
        attributes=FILTERED,
        outside=INCLUDED,
        config=(("includeIf.onbranch:memfix/**.path", "{sandbox}/included"),),
        trigger=ADD,
        before_trigger=_edit_bot_on_a_memfix_branch,
    ),
)
IDS = [attack.name for attack in ATTACKS]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository every test copies: bot.py holding PROGRAM, one commit on main."""
    return make_repo(tmp_path_factory.mktemp("template") / "repo")


@pytest.fixture
def sandbox(tmp_path: Path, template: Path, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    monkeypatch.setenv("MEMFIX_NO_CACHE", "1")
    box = Sandbox(tmp_path)
    box.script.write_text(SCRIPT.format(marker=box.marker), encoding="utf-8")
    box.script.chmod(0o755)
    return box


def arm(sandbox: Sandbox, template: Path, name: str, attacks: Iterable[Attack]) -> Path:
    """A copy of `template` at `sandbox/name/r`, armed with `attacks` by hand."""
    attacks = list(attacks)
    repo = copy_repo(template, sandbox.folder / name / "r")
    attributes = "".join(attack.attributes for attack in attacks)
    if attributes:
        commit_files(repo, {".gitattributes": attributes}, "attributes")
    for attack in attacks:
        if attack.prepare:
            attack.prepare(repo, sandbox)
    for attack in attacks:
        for file_name, text in attack.outside:
            (sandbox.folder / file_name).write_text(sandbox.fill(text, repo), encoding="utf-8")
        for key, value in attack.config:
            plain_git(repo, "config", "--add", sandbox.fill(key, repo), sandbox.fill(value, repo))
        for hook in HOOKS if attack.hooks else ():
            shutil.copy2(sandbox.script, repo / ".git" / "hooks" / hook)
    # As after a checkout or a copy: git must read bot.py again to know it is unchanged.
    later = (repo / "bot.py").stat().st_mtime + 10
    os.utime(repo / "bot.py", (later, later))
    return repo


def trigger(attack: Attack, repo: Path, sandbox: Sandbox) -> tuple[str, ...]:
    """The attack's trigger command, once what it needs is done by hand."""
    if attack.before_trigger:
        attack.before_trigger(repo, sandbox)
    return tuple(sandbox.fill(arg, repo) for arg in attack.trigger)


@pytest.mark.parametrize("attack", ATTACKS, ids=IDS)
def test_plain_git_runs_the_script_and_memfix_runner_never_does(
    attack: Attack, sandbox: Sandbox, template: Path
) -> None:
    control = arm(sandbox, template, "control", [attack])
    plain_git(control, *trigger(attack, control, sandbox), input=attack.stdin, check=False)
    assert sandbox.ran(), f"{attack.name}: the attack must be live for plain git"

    repo = arm(sandbox, template, "memfix", [attack])
    with suppress(git.GitError):  # failing is fine; running the script is not
        git.run(repo, *trigger(attack, repo, sandbox), input=attack.stdin)
    assert sandbox.ran() == ""


COMMANDS = {
    "check": (("check", *SELECT, "r"), 1),
    "apply": (("apply", "--yes", *SELECT, "r"), 0),
    "apply --dry-run": (("apply", "--dry-run", *SELECT, "r"), 1),
    "batch --dry-run": (("batch", *SELECT, "--dry-run", "--out", "out", "r"), 1),
    "batch": (("batch", *SELECT, "--out", "out", "r"), 0),
}


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("attack", ATTACKS, ids=IDS)
def test_memfix_commands_never_run_what_the_repository_config_names(
    attack: Attack,
    command: str,
    sandbox: Sandbox,
    template: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    repo = arm(sandbox, template, "cli", [attack])
    monkeypatch.chdir(repo.parent)
    args, expected = COMMANDS[command]
    code, _, err = invoke(*args)
    assert sandbox.ran() == ""
    assert code == expected, err
    fixed = (repo / "bot.py").read_text(encoding="utf-8")
    assert (fixed != PROGRAM) is (command in ("apply", "batch"))
    if command == "batch":
        assert output(repo, "symbolic-ref", "HEAD").strip() == f"refs/heads/{BRANCH}"
        assert output(repo, "cat-file", "blob", "HEAD:bot.py") == fixed
        assert git.run(repo, "status", "--porcelain") == b""


@pytest.mark.parametrize("key", ["core.pager", "pager.log"])
def test_no_pager_starts_even_when_memfix_runs_at_a_terminal(
    key: str, sandbox: Sandbox, template: Path
) -> None:
    control = arm(sandbox, template, "control", [Attack(key, config=((key, "{script}"),))])
    at_terminal(["git", "log", "-1"], control)
    assert sandbox.ran(), "plain git at a terminal starts the pager"

    repo = arm(sandbox, template, "memfix", [Attack(key, config=((key, "{script}"),))])
    code = "import sys; from pathlib import Path; from memfix.files import git; "
    code += "git.run(Path(sys.argv[1]), 'log', '-1')"
    at_terminal([sys.executable, "-c", code, str(repo)], repo)
    assert sandbox.ran() == ""
    # and the pager git would pick is one it never starts
    question = ("var", "GIT_PAGER") if key == "core.pager" else ("config", key)
    assert git.run(repo, *question).strip() == (b"cat" if key == "core.pager" else b"false")


def at_terminal(args: list[str], cwd: Path) -> None:
    """Run `args` with a terminal as standard input, output and error."""
    leader, follower = os.openpty()
    env = {**os.environ, "PYTHONPATH": str(MEMFIX_SOURCE), "TERM": "xterm"}
    try:
        subprocess.run(
            args, cwd=cwd, env=env, stdin=follower, stdout=follower, stderr=follower, timeout=60
        )
    finally:
        os.close(follower)
        os.close(leader)


def packs(repo: Path) -> int:
    return len(list((repo / ".git" / "objects" / "pack").glob("*.pack")))


def test_batch_never_starts_automatic_gc(
    sandbox: Sandbox, template: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gc = Attack(
        "gc",
        prepare=_two_packs,
        config=(("gc.autoPackLimit", "1"), ("gc.autoDetach", "false")),
    )
    control = arm(sandbox, template, "control", [gc])
    plain_git(control, *COMMIT)
    assert packs(control) == 1, "a commit by hand packs the repository"

    repo = arm(sandbox, template, "cli", [gc])
    monkeypatch.chdir(repo.parent)
    code, _, err = invoke(*COMMANDS["batch"][0])
    assert code == 0, err
    assert packs(repo) == 2


def test_core_worktree_never_moves_the_work_tree(
    sandbox: Sandbox, template: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    decoy = sandbox.folder / "decoy"
    decoy.mkdir()
    (decoy / "bot.py").write_text("x = 1\n", encoding="utf-8")
    repo = arm(sandbox, template, "cli", [Attack("core.worktree")])
    plain_git(repo, "config", "core.worktree", str(decoy))
    monkeypatch.chdir(repo.parent)
    code, out, err = invoke("check", *SELECT, "r")
    assert code == 1, err
    assert out.startswith("r/bot.py:"), out
    code, _, err = invoke(*COMMANDS["batch"][0])
    assert code == 0, err
    fixed = (repo / "bot.py").read_text(encoding="utf-8")
    assert fixed != PROGRAM
    assert output(repo, "cat-file", "blob", "HEAD:bot.py") == fixed
    assert (decoy / "bot.py").read_text(encoding="utf-8") == "x = 1\n"


def test_the_fix_still_lands_with_every_attack_armed_at_once(
    sandbox: Sandbox, template: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    repo = arm(sandbox, template, "cli", ATTACKS)
    base = output(repo, "rev-parse", "HEAD").strip()
    monkeypatch.chdir(repo.parent)
    assert invoke(*COMMANDS["batch --dry-run"][0])[0] == 1
    shutil.move(repo.parent / "out", tmp_path / "dry")
    code, _, err = invoke(*COMMANDS["batch"][0])
    assert code == 0, err
    assert "migrated" in err
    assert sandbox.ran() == ""

    assert output(repo, "symbolic-ref", "HEAD").strip() == f"refs/heads/{BRANCH}"
    assert output(repo, "rev-list", "--count", f"{base}..HEAD").strip() == "1"
    fixed = (repo / "bot.py").read_bytes()
    assert fixed != PROGRAM.encode()
    assert plain_git(repo, "cat-file", "blob", "HEAD:bot.py").stdout == fixed
    assert git.run(repo, "status", "--porcelain") == b""
    for patch in (repo.parent / "out" / "r.patch", tmp_path / "dry" / "r.patch"):
        clone = tmp_path / f"clone-{patch.parent.name}"
        plain_git(tmp_path, "clone", "-q", "--branch", "main", str(repo), str(clone))
        git.run(clone, "am", "-q", str(patch))
        assert (clone / "bot.py").read_bytes() == fixed
    assert sandbox.ran() == ""


# A repository git refuses: memfix says why in one line (git.GitError), and nothing else.


def one_line_git_error(call: Callable[[], object]) -> str:
    with pytest.raises(git.GitError) as caught:
        call()
    message = str(caught.value)
    assert message and "\n" not in message
    return message


def broken_repositories(folder: Path, template: Path) -> dict[str, Path]:
    empty = make_repo(folder / "empty")
    shutil.rmtree(empty / ".git")
    (empty / ".git").mkdir()
    missing = copy_repo(template, folder / "missing")
    shutil.rmtree(missing / ".git")
    (missing / ".git").write_text("gitdir: ../nowhere/.git\n", encoding="utf-8")
    return {"an empty .git folder": empty, "a .git file naming a missing gitdir": missing}


@pytest.mark.parametrize("kind", ["an empty .git folder", "a .git file naming a missing gitdir"])
def test_a_broken_git_folder_is_a_one_line_git_error(
    kind: str, tmp_path: Path, template: Path
) -> None:
    repo = broken_repositories(tmp_path, template)[kind]
    for call in (
        lambda: git.listed_files(repo, repo),
        lambda: git.is_repository(repo),
        lambda: git.head(repo),
        lambda: git.is_dirty(repo),
    ):
        assert "not a git repository" in one_line_git_error(call)


def test_a_repository_inside_another_is_never_mistaken_for_it(
    tmp_path: Path, template: Path
) -> None:
    outer = copy_repo(template, tmp_path / "outer")
    inner = outer / "inner"
    inner.mkdir()
    (inner / ".git").mkdir()  # broken: git must not climb to `outer`
    assert "not a git repository" in one_line_git_error(lambda: git.listed_files(inner, inner))


@pytest.fixture
def another_users_repository(tmp_path: Path, template: Path) -> Path:
    if os.geteuid() != 0:
        pytest.skip("giving a repository to another user needs root")
    repo = copy_repo(template, tmp_path / "theirs")
    for path in (repo, *repo.rglob("*")):
        os.lchown(path, 4321, 4321)
    return repo


@pytest.fixture
def fresh_user_settings() -> Iterable[None]:
    git._user_settings.cache_clear()
    yield
    git._user_settings.cache_clear()


def test_a_repository_owned_by_another_user_is_refused_in_one_line(
    another_users_repository: Path, fresh_user_settings: None
) -> None:
    repo = another_users_repository
    message = one_line_git_error(lambda: git.listed_files(repo, repo))
    assert "dubious ownership" in message
    assert "safe.directory" in message
    assert "dubious ownership" in one_line_git_error(lambda: git.is_repository(repo))


def test_safe_directory_in_the_users_own_config_still_trusts_a_repository(
    another_users_repository: Path,
    fresh_user_settings: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    repo = another_users_repository
    config = tmp_path / "gitconfig"
    config.write_text(f"[safe]\n\tdirectory = {repo}\n", encoding="utf-8")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    assert git.listed_files(repo, repo) == [repo / "bot.py"]


def test_a_missing_git_is_a_one_line_git_error(
    tmp_path: Path, template: Path, monkeypatch: pytest.MonkeyPatch, fresh_user_settings: None
) -> None:
    repo = copy_repo(template, tmp_path / "r")
    monkeypatch.setenv("PATH", str(tmp_path / "no-programs-here"))
    assert "git is not installed" in one_line_git_error(lambda: git.listed_files(repo, repo))


def test_a_git_too_old_to_switch_the_config_off_is_refused(
    tmp_path: Path, template: Path, monkeypatch: pytest.MonkeyPatch, fresh_user_settings: None
) -> None:
    repo = copy_repo(template, tmp_path / "r")
    programs = tmp_path / "bin"
    programs.mkdir()
    (programs / "git").write_text("#!/bin/sh\necho git version 2.30.1\n", encoding="utf-8")
    (programs / "git").chmod(0o755)
    monkeypatch.setenv("PATH", f"{programs}{os.pathsep}{os.environ['PATH']}")
    message = one_line_git_error(lambda: git.listed_files(repo, repo))
    assert "needs git 2.32 or newer (found: git version 2.30.1)" in message


def test_check_over_a_broken_repository_says_why_in_one_line(
    tmp_path: Path, template: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEMFIX_NO_CACHE", "1")
    broken_repositories(tmp_path, template)
    monkeypatch.chdir(tmp_path)
    code, _, err = invoke("check", *SELECT, "empty")
    assert code != 0
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if "not a git repository" in line]
    assert len(lines) == 1, err
    assert "empty" in lines[0]


def test_check_goes_on_past_a_broken_repository(
    tmp_path: Path, template: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEMFIX_NO_CACHE", "1")
    broken_repositories(tmp_path, template)
    copy_repo(template, tmp_path / "good")
    monkeypatch.chdir(tmp_path)
    code, out, err = invoke("check", *SELECT, "empty", "good")
    assert code != 0
    assert "good/bot.py:" in out
    assert any(line.startswith("empty") and ": error: " in line for line in err.splitlines()), err
