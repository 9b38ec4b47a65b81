"""`memfix server` driven by a real LSP client over stdio, and the documents it reads."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest
from lsprotocol import types
from pygls.lsp.client import LanguageClient
from pygls.uris import from_fs_path

from memfix.config import Settings
from memfix.errors import MemfixError
from memfix.pipeline.engine import fix_source
from memfix.rules.registry import all_codemods, by_name
from memfix.server import protocol
from memfix.server.documents import Request, examine, place_of, project_findings, quick_fixes
from tests.support.fixtures import PROGRAM
from tests.support.programs import FASTAPI_ROUTES, MEMORY

ROOT = Path(__file__).parents[2]
WAIT = 10.0  # seconds: a hung server fails the test instead of hanging it
CLEAN = "def ask(question: str) -> str:\n    return question\n"
# Two legacy chains: the first one's callers read the result dict (an unsafe fix), the
# second one's do not (a safe fix).
TWO_CHAINS = (
    "from langchain_openai import ChatOpenAI\n"
    "from langchain.memory import ConversationBufferMemory\n"
    "from langchain.chains import ConversationChain\n"
    "\n"
    "llm = ChatOpenAI()\n"
    "chain = ConversationChain(llm=llm, memory=ConversationBufferMemory())\n"
    "other = ConversationChain(llm=llm, memory=ConversationBufferMemory())\n"
    "\n"
    "\n"
    "def ask(question: str):\n"
    '    return chain.invoke({"input": question})\n'
    "\n"
    "\n"
    "def tell(question: str) -> None:\n"
    "    other.predict(input=question)\n"
)
_BREAK = re.compile(r"\r\n|\r|\n")
T = TypeVar("T")

# The server with its analysis broken, to see a crash become a log message.
BROKEN_ANALYSIS = (
    "import sys\n"
    "import memfix.pipeline.engine as engine\n"
    "def boom(*args, **kwargs):\n"
    "    raise RuntimeError('boom')\n"
    "engine.fix_source = boom\n"
    "sys.argv = ['memfix', 'server']\n"
    "from memfix.cli import main\n"
    "main()\n"
)

# The server with an analysis that prints: standard output must carry only the protocol.
NOISY_ANALYSIS = (
    "import sys\n"
    "import memfix.pipeline.engine as engine\n"
    "fix_source = engine.fix_source\n"
    "def noisy(*args, **kwargs):\n"
    "    print('Content-Length: 100000\\r\\n\\r', flush=True)\n"
    "    return fix_source(*args, **kwargs)\n"
    "engine.fix_source = noisy\n"
    "sys.argv = ['memfix', 'server']\n"
    "from memfix.cli import main\n"
    "main()\n"
)


async def bounded(awaitable: Awaitable[T]) -> T:
    return await asyncio.wait_for(awaitable, WAIT)


class Editor:
    """A client session with the server, as an editor holds one."""

    def __init__(self, client: LanguageClient, folder: Path) -> None:
        self.client = client
        self.folder = folder
        self.published: asyncio.Queue[types.PublishDiagnosticsParams] = asyncio.Queue()
        self.logs: list[types.LogMessageParams] = []
        self.versions_published: list[int | None] = []
        self.texts: dict[str, str] = {}
        self.versions: dict[str, int] = {}

    def uri(self, name: str) -> str:
        return str(from_fs_path(str(self.folder / name)))

    def open(self, name: str, text: str) -> str:
        uri = self.uri(name)
        self.texts[uri], self.versions[uri] = text, 1
        item = types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(item))
        return uri

    def change(self, uri: str, text: str) -> None:
        self.texts[uri] = text
        self.versions[uri] += 1
        document = types.VersionedTextDocumentIdentifier(uri=uri, version=self.versions[uri])
        change = types.TextDocumentContentChangeWholeDocument(text=text)
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(document, [change]))

    def save(self, uri: str) -> None:
        document = types.TextDocumentIdentifier(uri=uri)
        self.client.text_document_did_save(types.DidSaveTextDocumentParams(document))

    async def diagnostics(self, uri: str) -> list[types.Diagnostic]:
        """The next diagnostics published for the document's current version."""
        while True:
            published = await bounded(self.published.get())
            if published.uri == uri and published.version == self.versions[uri]:
                return list(published.diagnostics)

    async def actions(
        self,
        uri: str,
        only: Sequence[str] | None = None,
        at: tuple[int, int] | None = None,
        near: Sequence[types.Diagnostic] = (),
    ) -> list[types.CodeAction]:
        """The actions for the whole document, or for the cursor `at` (line, character)."""
        if at is None:
            end = types.Position(len(_BREAK.split(self.texts[uri])), 0)
            asked = types.Range(types.Position(0, 0), end)
        else:
            asked = types.Range(types.Position(*at), types.Position(*at))
        context = types.CodeActionContext(diagnostics=list(near), only=only)
        params = types.CodeActionParams(types.TextDocumentIdentifier(uri), asked, context)
        answer = await bounded(self.client.text_document_code_action_async(params))
        return [action for action in answer or [] if isinstance(action, types.CodeAction)]

    async def close(self) -> int:
        """Shut the server down and exit it; returns its exit code."""
        await bounded(self.client.shutdown_async(None))
        return await self.exit()

    async def exit(self) -> int:
        self.client.exit(None)
        server = self.client._server
        assert server is not None
        code = await bounded(server.wait())
        await bounded(self.client.stop())  # type: ignore[no-untyped-call]
        return code


@asynccontextmanager
async def editor(
    folder: Path,
    *,
    options: object = None,
    capabilities: types.ClientCapabilities | None = None,
    command: Sequence[str] = ("-m", "memfix", "server"),
    configuration: object = None,
) -> AsyncIterator[Editor]:
    """A server started in `folder`; `configuration` answers its workspace/configuration."""
    client = LanguageClient("memfix-tests", "1")
    session = Editor(client, folder)

    @client.feature(types.WORKSPACE_CONFIGURATION)  # type: ignore[untyped-decorator]
    def configure(params: types.ConfigurationParams) -> list[object]:
        return [configuration for _ in params.items]

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)  # type: ignore[untyped-decorator]
    def published(params: types.PublishDiagnosticsParams) -> None:
        session.versions_published.append(params.version)
        session.published.put_nowait(params)

    @client.feature(types.WINDOW_LOG_MESSAGE)  # type: ignore[untyped-decorator]
    def logged(params: types.LogMessageParams) -> None:
        session.logs.append(params)

    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),  # the memfix of this checkout, whatever is installed
        "XDG_CACHE_HOME": str(folder.parent / "cache"),
    }
    await client.start_io(sys.executable, *command, cwd=str(folder), env=env)
    try:
        params = types.InitializeParams(
            capabilities=capabilities or types.ClientCapabilities(),
            root_uri=str(from_fs_path(str(folder))),
            initialization_options=options,
        )
        await bounded(client.initialize_async(params))
        client.initialized(types.InitializedParams())
        yield session
    finally:
        server = client._server
        if server is not None and server.returncode is None:
            server.kill()
            await server.wait()


def run(scenario: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(scenario())


def offset_of(text: str, position: types.Position) -> int:
    starts = [0, *(match.end() for match in _BREAK.finditer(text))]
    index = starts[position.line]
    counted = 0
    while counted < position.character:
        counted += 2 if ord(text[index]) > 0xFFFF else 1
        index += 1
    return index


def applied(text: str, action: types.CodeAction, uri: str) -> str:
    """`text` after the action's edit of `uri`, applied as an LSP client applies it."""
    assert action.edit is not None
    if action.edit.document_changes is not None:
        edits: list[Any] = [
            edit
            for change in action.edit.document_changes
            if isinstance(change, types.TextDocumentEdit) and change.text_document.uri == uri
            for edit in change.edits
        ]
    else:
        assert action.edit.changes is not None
        edits = list(action.edit.changes[uri])
    spans = [
        (offset_of(text, e.range.start), offset_of(text, e.range.end), e.new_text) for e in edits
    ]
    for start, end, new in sorted(spans, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def fixed(codemods: Sequence[str] | None = None, *, unsafe: bool = False) -> str:
    chosen = all_codemods() if codemods is None else [by_name(name) for name in codemods]
    settings = Settings(unsafe_fixes=unsafe)
    return fix_source(PROGRAM, path="ask.py", codemods=chosen, settings=settings).after


def by_code(diagnostics: Sequence[types.Diagnostic]) -> dict[str, types.Diagnostic]:
    return {str(diagnostic.code): diagnostic for diagnostic in diagnostics}


def quick_fix_for(actions: Sequence[types.CodeAction], codemod: str) -> types.CodeAction | None:
    return next(
        (
            action
            for action in actions
            if action.kind == "quickfix"
            and any(d.code == codemod for d in action.diagnostics or [])
        ),
        None,
    )


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    return folder


def test_a_session_shows_findings_offers_safe_fixes_clears_them_and_exits_cleanly(
    workspace: Path,
) -> None:
    (workspace / "ask.py").write_text(PROGRAM)

    async def scenario() -> None:
        async with editor(workspace) as session:
            uri = session.open("ask.py", PROGRAM)
            shown = by_code(await session.diagnostics(uri))
            assert set(shown) == {"per-call-state", "legacy-conversation-chain"}
            memory = shown["per-call-state"]
            assert memory.source == "memfix"
            assert memory.severity is types.DiagnosticSeverity.Warning
            assert (memory.range.start.line, memory.range.start.character) == (7, 13)
            assert memory.range.end.character == 13 + len("ConversationBufferMemory")
            chain = shown["legacy-conversation-chain"].range
            assert (chain.start.line, chain.start.character) == (8, 12)

            actions = await session.actions(uri)
            quick = quick_fix_for(actions, "per-call-state")
            assert quick is not None
            assert applied(PROGRAM, quick, uri) == fixed(["per-call-state"])
            # Its fix changes what callers get back: not offered without unsafe fixes.
            assert quick_fix_for(actions, "legacy-conversation-chain") is None
            kinds = [action.kind for action in actions]
            assert "source.fixAll" not in kinds
            (fix_all,) = [action for action in actions if action.kind == "source.fixAll.memfix"]
            assert applied(PROGRAM, fix_all, uri) == fixed()

            session.change(uri, CLEAN)
            assert await session.diagnostics(uri) == []
            assert await session.close() == 0
        assert (workspace / "ask.py").read_text() == PROGRAM  # edits go to the client only

    run(scenario)


def test_unsafe_fixes_in_initialization_options_offer_the_unsafe_quick_fix(
    workspace: Path,
) -> None:
    edits = types.WorkspaceEditClientCapabilities(document_changes=True)
    capabilities = types.ClientCapabilities(
        workspace=types.WorkspaceClientCapabilities(workspace_edit=edits)
    )

    async def scenario() -> None:
        options = {"memfix": {"unsafeFixes": True}}
        async with editor(workspace, options=options, capabilities=capabilities) as session:
            uri = session.open("ask.py", PROGRAM)
            await session.diagnostics(uri)
            actions = await session.actions(uri)
            quick = quick_fix_for(actions, "legacy-conversation-chain")
            assert quick is not None
            assert quick.edit is not None and quick.edit.document_changes is not None
            change = quick.edit.document_changes[0]
            assert isinstance(change, types.TextDocumentEdit)
            assert change.text_document.version == 1  # the client can refuse a stale edit
            assert applied(PROGRAM, quick, uri) == fixed(["legacy-conversation-chain"], unsafe=True)
            (fix_all,) = await session.actions(uri, only=["source.fixAll"])
            assert applied(PROGRAM, fix_all, uri) == fixed(unsafe=True)
            assert await session.close() == 0

    run(scenario)


def test_settings_changed_during_the_session_turn_unsafe_fixes_on(workspace: Path) -> None:
    async def scenario() -> None:
        async with editor(workspace) as session:
            uri = session.open("ask.py", PROGRAM)
            await session.diagnostics(uri)
            assert quick_fix_for(await session.actions(uri), "legacy-conversation-chain") is None
            settings = {"memfix": {"unsafeFixes": True}}
            session.client.workspace_did_change_configuration(
                types.DidChangeConfigurationParams(settings=settings)
            )
            quick = quick_fix_for(await session.actions(uri), "legacy-conversation-chain")
            assert quick is not None
            assert await session.close() == 0

    run(scenario)


def test_quick_changes_publish_diagnostics_only_for_their_last_version(workspace: Path) -> None:
    async def scenario() -> None:
        async with editor(workspace) as session:
            uri = session.open("ask.py", PROGRAM)
            await session.diagnostics(uri)
            for text in (PROGRAM + "#", PROGRAM + "# a", CLEAN):
                session.change(uri, text)
            assert await session.diagnostics(uri) == []
            assert session.versions_published == [1, 4]
            assert await session.close() == 0

    run(scenario)


def test_settings_the_server_asks_the_client_for_turn_unsafe_fixes_on(workspace: Path) -> None:
    capabilities = types.ClientCapabilities(
        workspace=types.WorkspaceClientCapabilities(configuration=True)
    )

    async def scenario() -> None:
        answer = {"unsafeFixes": True}  # the content of the "memfix" section
        async with editor(workspace, capabilities=capabilities, configuration=answer) as session:
            uri = session.open("ask.py", PROGRAM)
            await session.diagnostics(uri)
            quick = quick_fix_for(await session.actions(uri), "legacy-conversation-chain")
            assert quick is not None
            assert await session.close() == 0

    run(scenario)


def test_a_quick_fix_is_offered_where_the_cursor_is_not_elsewhere(workspace: Path) -> None:
    async def scenario() -> None:
        async with editor(workspace) as session:
            uri = session.open("ask.py", PROGRAM)
            memory = by_code(await session.diagnostics(uri))["per-call-state"]
            on_memory = await session.actions(uri, only=["quickfix"], at=(7, 20))
            assert [action.title for action in on_memory] == ["memfix: fix per-call-state"]
            assert await session.actions(uri, only=["quickfix"], at=(0, 0)) == []
            # A client that sends the diagnostics of the cursor's line gets their fixes.
            line_start = await session.actions(uri, only=["quickfix"], at=(7, 0), near=[memory])
            assert [action.title for action in line_start] == ["memfix: fix per-call-state"]
            assert await session.close() == 0

    run(scenario)


def test_the_nearest_pyproject_settings_apply_to_the_document(workspace: Path) -> None:
    (workspace / "pyproject.toml").write_text('[tool.memfix]\nignore = ["per-call-state"]\n')

    async def scenario() -> None:
        async with editor(workspace) as session:
            uri = session.open("ask.py", PROGRAM)
            assert set(by_code(await session.diagnostics(uri))) == {"legacy-conversation-chain"}
            assert await session.close() == 0

    run(scenario)


def test_a_bad_memfix_table_is_logged_and_the_server_keeps_serving(workspace: Path) -> None:
    (workspace / "pyproject.toml").write_text('[tool.memfix]\nselec = ["per-call-state"]\n')

    async def scenario() -> None:
        async with editor(workspace) as session:
            uri = session.open("ask.py", PROGRAM)
            assert await session.diagnostics(uri) == []
            assert any("selec" in log.message for log in session.logs)
            assert await session.close() == 0

    run(scenario)


def test_cross_module_findings_show_for_saved_text_and_refresh_on_save(workspace: Path) -> None:
    (workspace / "pyproject.toml").write_text("[project]\nname = 'app'\n")
    (workspace / "app").mkdir()
    (workspace / "app" / "__init__.py").write_text("")
    (workspace / "app" / "memory.py").write_text(MEMORY)
    (workspace / "app" / "routes.py").write_text(FASTAPI_ROUTES)

    async def scenario() -> None:
        async with editor(workspace) as session:
            uri = session.open("app/memory.py", MEMORY)
            shared = by_code(await session.diagnostics(uri))["shared-global-state"]
            assert "app/routes.py" in shared.message
            assert shared.range.start.line == 6
            # The fix edits both modules: `memfix apply` makes it, not a one-file quick fix.
            assert quick_fix_for(await session.actions(uri), "shared-global-state") is None

            edited = MEMORY + "# edited\n"
            session.change(uri, edited)
            assert "shared-global-state" not in by_code(await session.diagnostics(uri))
            (workspace / "app" / "memory.py").write_text(edited)
            session.save(uri)
            assert "shared-global-state" in by_code(await session.diagnostics(uri))
            assert await session.close() == 0

    run(scenario)


def test_a_crash_in_the_analysis_is_a_log_message_not_a_dead_server(workspace: Path) -> None:
    async def scenario() -> None:
        async with editor(workspace, command=("-c", BROKEN_ANALYSIS)) as session:
            uri = session.open("ask.py", PROGRAM)
            assert await session.actions(uri) == []
            errors = [log for log in session.logs if log.type is types.MessageType.Error]
            assert any("RuntimeError: boom" in log.message for log in errors)
            assert await session.close() == 0

    run(scenario)


def test_a_print_during_the_analysis_never_reaches_the_protocol_stream(workspace: Path) -> None:
    async def scenario() -> None:
        async with editor(workspace, command=("-c", NOISY_ANALYSIS)) as session:
            uri = session.open("ask.py", PROGRAM)
            assert "per-call-state" in by_code(await session.diagnostics(uri))
            assert await session.close() == 0

    run(scenario)


def test_exit_without_shutdown_ends_the_server_with_code_1(workspace: Path) -> None:
    async def scenario() -> None:
        async with editor(workspace) as session:
            assert await session.exit() == 1

    run(scenario)


def test_memfix_check_never_loads_the_language_server(tmp_path: Path) -> None:
    (tmp_path / "ask.py").write_text(PROGRAM)
    probe = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from memfix.cli import app\n"
        "CliRunner().invoke(app, ['check', 'ask.py'])\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pygls', 'lsprotocol')))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MEMFIX_NO_CACHE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.strip() == "[]"


def test_without_pygls_the_server_command_says_what_to_install(tmp_path: Path) -> None:
    probe = (
        "import sys\n"
        "sys.modules['pygls'] = sys.modules['lsprotocol'] = None  # as if not installed\n"
        "sys.argv = ['memfix', 'server']\n"
        "from memfix.cli import main\n"
        "main()\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 2
    assert "pip install 'memfix[server]'" in done.stderr


def request(folder: Path, name: str, text: str, *, project: bool = False) -> Request:
    return Request(
        uri=str(from_fs_path(str(folder / name))),
        version=1,
        text=text,
        language="python",
        folders=(folder,),
        unsafe_fixes=False,
        project=project,
    )


@pytest.mark.parametrize(
    "name",
    [".venv/lib/ask.py", "site-packages/langchain/ask.py", "notebook.ipynb"],
    ids=["a virtual environment", "an installed package", "a notebook"],
)
def test_documents_memfix_leaves_out_get_no_analysis(workspace: Path, name: str) -> None:
    assert place_of(request(workspace, name, PROGRAM)) is None


def test_a_document_excluded_by_the_project_gets_no_analysis(workspace: Path) -> None:
    (workspace / "pyproject.toml").write_text('[tool.memfix]\nexclude = ["legacy"]\n')
    assert place_of(request(workspace, "legacy/ask.py", PROGRAM)) is None
    assert place_of(request(workspace, "app/ask.py", PROGRAM)) is not None


def test_a_buffer_never_saved_is_analysed_with_the_default_settings(workspace: Path) -> None:
    unsaved = Request("untitled:Untitled-1", 1, PROGRAM, "python", (workspace,), False, False)
    place = place_of(unsaved)
    assert place is not None
    assert (place.path, place.file, place.settings) == ("untitled.py", None, Settings())
    outcome = examine(unsaved)
    assert outcome.known is not None and outcome.known.analysis.findings


def test_the_client_decides_unsafe_fixes_over_the_project_file(workspace: Path) -> None:
    (workspace / "pyproject.toml").write_text("[tool.memfix]\nunsafe-fixes = true\n")
    place = place_of(request(workspace, "ask.py", PROGRAM))
    assert place is not None and not place.settings.unsafe_fixes


def test_a_bad_memfix_table_raises_for_the_place_and_is_logged_by_examine(workspace: Path) -> None:
    (workspace / "pyproject.toml").write_text("[tool.memfix]\nbackend = 'mongo'\n")
    with pytest.raises(MemfixError):
        place_of(request(workspace, "ask.py", PROGRAM))
    outcome = examine(request(workspace, "ask.py", PROGRAM))
    assert outcome.known is None
    ((kind, message),) = outcome.logs
    assert kind is types.MessageType.Error and "backend" in message


def test_a_document_over_the_size_limit_is_skipped_with_a_log_line(workspace: Path) -> None:
    (workspace / "pyproject.toml").write_text("[tool.memfix]\nmax-file-size = 100\n")
    outcome = examine(request(workspace, "ask.py", PROGRAM))
    assert outcome.known is not None and outcome.known.analysis.findings == ()
    assert "skipped" in outcome.logs[0][1]


def test_the_repository_pass_reads_only_a_document_whose_text_is_saved(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEMFIX_NO_CACHE", "1")
    monkeypatch.chdir(workspace)
    (workspace / "pyproject.toml").write_text("[project]\nname = 'app'\n")
    for name, text in {"__init__.py": "", "memory.py": MEMORY, "routes.py": FASTAPI_ROUTES}.items():
        (workspace / "app").mkdir(exist_ok=True)
        (workspace / "app" / name).write_text(text)
    place = place_of(request(workspace, "app/memory.py", MEMORY))
    assert place is not None
    told = project_findings(place, MEMORY)
    shared = [f for f in told if f.codemod == "shared-global-state"]
    assert len(shared) == 1 and "app/routes.py" in shared[0].message
    assert project_findings(place, MEMORY + "# unsaved\n") == ()


def test_an_unsafe_finding_gets_no_quick_fix_beside_a_safe_one_of_the_same_codemod(
    workspace: Path,
) -> None:
    known = examine(request(workspace, "chains.py", TWO_CHAINS)).known
    assert known is not None
    target = protocol.Target("file:///chains.py", 1, "utf-16", versioned=False)

    def titles(line: int) -> list[str]:
        cursor = types.Range(types.Position(line, 20), types.Position(line, 20))
        return [action.title for action in quick_fixes(known, target, cursor)]

    assert titles(5) == []  # `chain`: its fix changes what ask() returns
    assert titles(6) == ["memfix: fix legacy-conversation-chain"]
