"""textDocument/codeLens: above each hot function, its share and the opportunities inside it."""

from __future__ import annotations

from lsprotocol import types as T

from megawatt.server.diagnostics import hot_message
from megawatt.server.server import MegawattServer, guarded


def register(server: MegawattServer) -> None:
    @server.feature(T.TEXT_DOCUMENT_CODE_LENS)
    @guarded(server, "code lenses", default=[])
    def code_lens(ls: MegawattServer, params: T.CodeLensParams) -> list[T.CodeLens]:
        state = ls.session.documents.get(params.text_document.uri)
        if state is None or state.analysis is None:
            return []
        analysis = state.analysis
        lenses = []
        for h in analysis.hot:
            d = h.definition
            inside = sum(
                1 for o in analysis.opportunities if d.line <= o.finding.span.line <= d.end_line
            )
            title = f"⚡ {hot_message(h)}"
            if inside:
                title += f" · {inside} opportunit{'y' if inside == 1 else 'ies'}"
            pos = T.Position(d.first_line - 1, 0)
            lenses.append(
                T.CodeLens(
                    range=T.Range(pos, pos),
                    command=T.Command(
                        title=title,
                        command="megawatt.showFunction",
                        arguments=[state.uri, d.line],
                    ),
                )
            )
        return lenses
