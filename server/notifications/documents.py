"""didOpen / didChange / didSave / didClose: keep text and tree current, schedule analysis."""

from __future__ import annotations

from lsprotocol import types as T

from megawatt.server.positions import LineIndex
from megawatt.server.server import MegawattServer, guarded, uri_path
from megawatt.server.session import DocumentState


def _apply(state: DocumentState, change: T.TextDocumentContentChangeEvent, encoding: str) -> None:
    """Apply one change to the bytes and edit the tree to match (tree-sitter points are bytes)."""
    if not isinstance(change, T.TextDocumentContentChangePartial):
        state.source = change.text.encode("utf-8")
        state.tree = None  # the analysis parses it afresh
        return
    lines = LineIndex(state.source, encoding)
    start = lines.byte_offset(change.range.start)
    end = lines.byte_offset(change.range.end)
    new = change.text.encode("utf-8")
    starts = lines.byte_starts
    s_row = change.range.start.line if change.range.start.line < len(starts) else len(starts) - 1
    e_row = change.range.end.line if change.range.end.line < len(starts) else len(starts) - 1
    start_point = (s_row, start - starts[s_row])
    old_end_point = (e_row, end - starts[e_row])
    newlines = new.count(b"\n")
    if newlines:
        new_end_point = (s_row + newlines, len(new) - new.rfind(b"\n") - 1)
    else:
        new_end_point = (s_row, start_point[1] + len(new))
    if state.tree is not None:
        state.tree.edit(
            start_byte=start,
            old_end_byte=end,
            new_end_byte=start + len(new),
            start_point=start_point,
            old_end_point=old_end_point,
            new_end_point=new_end_point,
        )
    state.source = state.source[:start] + new + state.source[end:]


def register(server: MegawattServer) -> None:
    @server.feature(T.TEXT_DOCUMENT_DID_OPEN)
    @guarded(server, "opening a document")
    def did_open(ls: MegawattServer, params: T.DidOpenTextDocumentParams) -> None:
        doc = params.text_document
        if doc.language_id not in ("python", "") and not doc.uri.endswith((".py", ".pyi")):
            return
        ls.session.open(doc.uri, uri_path(doc.uri), doc.version, doc.text.encode("utf-8"))
        ls.schedule(doc.uri, 0)

    @server.feature(T.TEXT_DOCUMENT_DID_CHANGE)
    @guarded(server, "applying an edit")
    def did_change(ls: MegawattServer, params: T.DidChangeTextDocumentParams) -> None:
        state = ls.session.documents.get(params.text_document.uri)
        if state is None:
            return
        for change in params.content_changes:
            _apply(state, change, ls.session.encoding)
        expected = ls.workspace.get_text_document(state.uri).source.encode("utf-8")
        if expected != state.source:  # our arithmetic and pygls's disagree: trust pygls, reparse
            state.source = expected
            state.tree = None
        # no parse here: the analysis worker parses (the edited tree makes it incremental)
        state.version = params.text_document.version
        state.analysis = None
        ls.session.touched(state.uri)
        ls.schedule(state.uri)

    @server.feature(T.TEXT_DOCUMENT_DID_SAVE)
    @guarded(server, "saving a document")
    def did_save(ls: MegawattServer, params: T.DidSaveTextDocumentParams) -> None:
        state = ls.session.documents.get(params.text_document.uri)
        if state is not None:
            state.full = True
            ls.schedule(state.uri, 0)

    @server.feature(T.TEXT_DOCUMENT_DID_CLOSE)
    @guarded(server, "closing a document")
    def did_close(ls: MegawattServer, params: T.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        ls.session.documents.pop(uri, None)
        ls.session.edited.pop(uri, None)
        ls.forget(uri)
        ls.send_diagnostics(uri, None, [])
