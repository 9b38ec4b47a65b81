"""`memfix server`: a language server over stdio, on pygls.

Diagnostics come on open, on every change (after a short pause in typing) and on save;
each fixable finding gets a `quickfix` code action, and the whole file a
`source.fixAll.memfix` action, whose edits are exactly what `memfix apply` writes. The
server never writes a file: edits go back to the client, which applies them. It reads
`[tool.memfix]` from the document's nearest pyproject.toml. Unsafe fixes are offered
only when the client enables them: `{"memfix": {"unsafeFixes": true}}` in its
initializationOptions or configuration settings.

Cross-module findings (a memory defined in one module and used by the routes of
another) come from the repository pass over the files as saved, so they are shown when
the document opens or is saved with the same text as on disk, and leave while it has
unsaved changes. Their fix spans several files, so `memfix apply` makes it: the editor
shows them without a quick fix.

A problem in one document is a log message (window/logMessage), never a dead server.
"""

from __future__ import annotations

import asyncio
import functools
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from urllib.parse import unquote

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path
from pygls.workspace import TextDocument

from memfix import __version__
from memfix.server import protocol
from memfix.server.analysis import Problem, fix_everything
from memfix.server.documents import (
    Known,
    Request,
    diagnostics_of,
    examine,
    problem_log,
    quick_fixes,
)

# Seconds without a change before the text is analysed again: typing stays responsive.
DEBOUNCE = 0.3


class Session:
    """One client's connection: its options, and what is known of its open documents."""

    def __init__(self, server: LanguageServer) -> None:
        self.server = server
        self.options = protocol.ClientOptions()
        self.known: dict[str, Known] = {}
        self.fixed: dict[str, tuple[tuple[int | None, bool], str | None]] = {}
        self.shut_down = False

    @property
    def unsafe_fixes(self) -> bool:
        return bool(self.options.unsafe_fixes)

    def log(self, kind: types.MessageType, message: str) -> None:
        self.server.window_log_message(types.LogMessageParams(type=kind, message=message))

    @contextmanager
    def guard(self, what: str) -> Iterator[None]:
        """Turn any exception inside into a log message, so that the server keeps serving."""
        try:
            yield
        except Exception as error:
            where = traceback.extract_tb(error.__traceback__)[-1]
            self.log(
                types.MessageType.Error,
                f"memfix: internal error in {what}: {type(error).__name__}: {error}"
                f" ({Path(where.filename).name}:{where.lineno})",
            )

    # -- the connection ------------------------------------------------------------------

    def initialize(self, params: types.InitializeParams) -> None:
        with self.guard("initialize"):
            self.options = protocol.client_options(params.initialization_options)

    async def initialized(self, params: types.InitializedParams) -> None:
        with self.guard("initialized"):
            await self._pull_configuration()

    async def did_change_configuration(self, params: types.DidChangeConfigurationParams) -> None:
        with self.guard("workspace/didChangeConfiguration"):
            given = params.settings
            if isinstance(given, dict) and protocol.SOURCE in given:
                self.options = protocol.client_options(given, self.options)
            else:  # settings left to be asked for (the pull model)
                await self._pull_configuration()

    async def _pull_configuration(self) -> None:
        workspace = self.server.client_capabilities.workspace
        if workspace is None or not workspace.configuration:
            return
        item = types.ConfigurationItem(section=protocol.SOURCE)
        answer = await self.server.workspace_configuration_async(
            types.ConfigurationParams(items=[item])
        )
        if answer:
            self.options = protocol.client_options(answer[0], self.options)

    def shutdown(self, params: None) -> None:
        self.shut_down = True

    async def did_open(self, params: types.DidOpenTextDocumentParams) -> None:
        document = params.text_document
        await self.refresh(document.uri, document.version, project=True)

    async def did_change(self, params: types.DidChangeTextDocumentParams) -> None:
        document = params.text_document
        await self.refresh(document.uri, document.version, delay=DEBOUNCE)

    async def did_save(self, params: types.DidSaveTextDocumentParams) -> None:
        uri = params.text_document.uri
        document = self.document(uri)
        if document is not None:
            await self.refresh(uri, document.version, project=True)

    def did_close(self, params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        self.known.pop(uri, None)
        self.fixed.pop(uri, None)
        self.server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=[])
        )

    async def code_action(self, params: types.CodeActionParams) -> list[types.CodeAction] | None:
        with self.guard("textDocument/codeAction"):
            return await self._code_actions(params)
        return None

    # -- the work --------------------------------------------------------------------------

    def document(self, uri: str) -> TextDocument | None:
        """The open document at `uri`; None once it is closed."""
        documents: dict[str, TextDocument] = self.server.workspace.text_documents
        return documents.get(unquote(uri))  # pygls keys documents by the unquoted URI

    def encoding(self) -> str:
        chosen = self.server.workspace.position_encoding
        return getattr(chosen, "value", chosen) or types.PositionEncodingKind.Utf16.value

    def _request(self, document: TextDocument, *, project: bool) -> Request:
        folders = [self.server.workspace.root_path, *self._folder_paths()]
        return Request(
            uri=document.uri,
            version=document.version,
            text=document.source,
            language=document.language_id,
            folders=tuple(Path(folder) for folder in dict.fromkeys(folders) if folder),
            unsafe_fixes=self.unsafe_fixes,
            project=project,
        )

    def _folder_paths(self) -> list[str]:
        folders = self.server.workspace.folders.values()
        return [path for path in (to_fs_path(folder.uri) for folder in folders) if path]

    async def refresh(
        self, uri: str, version: int | None, *, project: bool = False, delay: float = 0
    ) -> None:
        """Analyse the document and publish its diagnostics, unless a newer version came."""
        with self.guard("the analysis"):
            if delay:
                await asyncio.sleep(delay)
            document = self.document(uri)
            if document is None or document.version != version:
                return  # closed, or changed again: the newer version's refresh publishes
            outcome = await asyncio.to_thread(examine, self._request(document, project=project))
            for kind, message in outcome.logs:
                self.log(kind, message)
            document = self.document(uri)
            if document is None or document.version != version:
                return
            self._publish(uri, version, outcome.known)

    def _publish(self, uri: str, version: int | None, known: Known | None) -> None:
        if known is None:
            self.known.pop(uri, None)
            diagnostics: list[types.Diagnostic] = []
        else:
            self.known[uri] = known
            diagnostics = diagnostics_of(known, uri, self.encoding())
        self.fixed.pop(uri, None)
        self.server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics, version=version)
        )

    async def current(self, document: TextDocument) -> Known | None:
        """What is known of the document's current text with the current options."""
        known = self.known.get(document.uri)
        if known is not None and (known.version, known.unsafe_fixes) == (
            document.version,
            self.unsafe_fixes,
        ):
            return known
        outcome = await asyncio.to_thread(examine, self._request(document, project=False))
        for kind, message in outcome.logs:
            self.log(kind, message)
        fresh = outcome.known
        if fresh is None:
            return None
        if known is not None and known.version == document.version:
            # The options changed, not the text: what other modules tell still holds.
            fresh = replace(fresh, others=known.others)
        # Kept for the next request, unless the text changed or closed during the analysis.
        if self.document(document.uri) is not None and document.version == fresh.version:
            self.known[document.uri] = fresh
        return fresh

    async def _code_actions(self, params: types.CodeActionParams) -> list[types.CodeAction]:
        document = self.document(params.text_document.uri)
        if document is None:
            return []
        known = await self.current(document)
        if known is None:
            return []
        target = self._target(document)
        only = params.context.only
        actions: list[types.CodeAction] = []
        if protocol.wanted(protocol.QUICK_FIX, only):
            actions.extend(quick_fixes(known, target, params.range, params.context.diagnostics))
        if protocol.wanted(protocol.FIX_ALL, only):
            after = await self._fixed_all(document.uri, known)
            if after is not None:
                actions.append(protocol.fix_all(target, known.analysis.text, after))
        return actions

    def _target(self, document: TextDocument) -> protocol.Target:
        workspace = self.server.client_capabilities.workspace
        edit = None if workspace is None else workspace.workspace_edit
        versioned = edit is not None and bool(edit.document_changes)
        return protocol.Target(document.uri, document.version, self.encoding(), versioned)

    async def _fixed_all(self, uri: str, known: Known) -> str | None:
        """The text after every fix, worked out once per version and options."""
        key = (known.version, known.unsafe_fixes)
        cached = self.fixed.get(uri)
        if cached is not None and cached[0] == key:
            return cached[1]
        place, text = known.place, known.analysis.text
        result = await asyncio.to_thread(
            fix_everything, text, path=place.path, codemods=place.codemods, settings=place.settings
        )
        if result.failed:
            self.log(*problem_log(Problem(f"{place.path}: {result.error}", result.internal)))
        after = result.after if result.changed else None
        self.fixed[uri] = (key, after)
        return after


def create_server() -> tuple[LanguageServer, Session]:
    """A language server with memfix's features, and the session that serves them."""
    server = LanguageServer(
        "memfix", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Full
    )
    session = Session(server)
    features: dict[str, Callable[..., object]] = {
        types.INITIALIZE: session.initialize,
        types.INITIALIZED: session.initialized,
        types.SHUTDOWN: session.shutdown,
        types.WORKSPACE_DID_CHANGE_CONFIGURATION: session.did_change_configuration,
        types.TEXT_DOCUMENT_DID_OPEN: session.did_open,
        types.TEXT_DOCUMENT_DID_CHANGE: session.did_change,
        types.TEXT_DOCUMENT_DID_SAVE: session.did_save,
        types.TEXT_DOCUMENT_DID_CLOSE: session.did_close,
    }
    # pygls marks each handler with attributes, which a bound method cannot carry.
    for name, handler in features.items():
        server.feature(name)(functools.partial(handler))
    kinds = [types.CodeActionKind.QuickFix, protocol.FIX_ALL]
    server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(code_action_kinds=kinds)
    )(functools.partial(session.code_action))
    return server, session


def serve() -> int:
    """Serve one client over stdin and stdout until it exits; returns the exit code.

    0 after the client's `shutdown` then `exit`, 1 when it exits (or goes) without
    asking for a shutdown first, as the protocol asks.
    """
    server, session = create_server()
    protocol_out = sys.stdout.buffer
    # Standard output carries the protocol: anything else printed there would break it.
    sys.stdout = sys.stderr
    server.start_io(sys.stdin.buffer, protocol_out)
    return 0 if session.shut_down else 1
