"""textDocument/codeLens: above each hot function, what Megawatt found inside it.

The diagnostic on the function's name already states its share of the profile; the lens says
what can be done there (the opportunities and their estimated savings) and opens the details.
"""

from __future__ import annotations

from lsprotocol import types as T

from megawatt.server.server import MegawattServer, guarded
from megawatt.server.session import Analysis, HotSpot


def lens_title(analysis: Analysis, h: HotSpot) -> str:
    d = h.definition
    inside = [o for o in analysis.opportunities if d.line <= o.finding.span.line <= d.end_line]
    if not inside:
        return "⚡ profile details"
    title = f"⚡ {len(inside)} opportunit{'y' if len(inside) == 1 else 'ies'} here"
    saved = sum(o.estimated_savings for o in inside)
    if saved > 0:
        # an estimate from the profile's shares, not a measurement: the text says so
        title += f", est. {saved * 100:.1f}% saved"
    return title


def register(server: MegawattServer) -> None:
    @server.feature(T.TEXT_DOCUMENT_CODE_LENS)
    @guarded(server, "code lenses", default=[])
    async def code_lens(ls: MegawattServer, params: T.CodeLensParams) -> list[T.CodeLens]:
        uri = params.text_document.uri
        analysis = await ls.newest_analysis(uri)
        if analysis is None:
            return []
        lenses = []
        for h in analysis.hot:
            d = h.definition
            pos = T.Position(d.first_line - 1, 0)
            lenses.append(
                T.CodeLens(
                    range=T.Range(pos, pos),
                    command=T.Command(
                        title=lens_title(analysis, h),
                        command="megawatt.showFunction",
                        arguments=[uri, d.line],
                    ),
                )
            )
        return lenses
