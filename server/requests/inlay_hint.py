"""textDocument/inlayHint: the share of the profile spent on each hot line."""

from __future__ import annotations

from lsprotocol import types as T

from megawatt.profiles.profile import Profile
from megawatt.server.server import MegawattServer, guarded
from megawatt.server.session import Analysis, HotSpot

MIN_LINE_SHARE = 0.005


def register(server: MegawattServer) -> None:
    @server.feature(T.TEXT_DOCUMENT_INLAY_HINT, T.InlayHintOptions(resolve_provider=False))
    @guarded(server, "inlay hints", default=[])
    async def inlay_hint(ls: MegawattServer, params: T.InlayHintParams) -> list[T.InlayHint]:
        analysis = await ls.newest_analysis(params.text_document.uri)
        if analysis is None:
            return []
        # the profile the analysis read: its function ids mean nothing in a reloaded one
        prof = analysis.profile
        if prof is None or not prof.has_lines:
            return []
        first, last = params.range.start.line + 1, params.range.end.line + 1
        hints = []
        for h in analysis.hot:
            for fid in h.fids or (h.fid,):
                hints.extend(_hints(prof, fid, h, analysis, first, last))
        return hints


def _hints(
    prof: Profile, fid: int, h: HotSpot, analysis: Analysis, first: int, last: int
) -> list[T.InlayHint]:
    hints = []
    recorded = int(prof.first_lines[fid])
    # the function may have moved since the recording: shift its lines with it
    shift = h.definition.first_line - recorded if recorded > 0 else 0
    for lf in prof.lines(fid):
        share = prof.share(lf.total_weight)
        line = lf.line + shift
        if share < MIN_LINE_SHARE or not (first <= line <= last):
            continue
        if not (h.definition.line <= line <= h.definition.end_line):
            continue
        text = analysis.lines.line(line - 1)
        self_part = f", self {prof.share(lf.self_weight) * 100:.1f}%" if lf.self_weight else ""
        hints.append(
            T.InlayHint(
                position=analysis.lines.position(line, len(text)),
                label=f" {share * 100:.1f}%",
                kind=T.InlayHintKind.Parameter,
                padding_left=True,
                tooltip=f"{share * 100:.1f}% of the profile passes through this line{self_part}",
            )
        )
    return hints
