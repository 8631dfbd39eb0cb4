"""textDocument/hover: a hot function's figures, callers and callees; an opportunity's skill."""

from __future__ import annotations

from collections.abc import Mapping

from lsprotocol import types as T

from megawatt.profiles.locate import SourceIndex, place
from megawatt.profiles.profile import Profile
from megawatt.server.diagnostics import hot_message, savings_text
from megawatt.server.server import MegawattServer, guarded
from megawatt.server.session import FolderState, HotSpot, age
from megawatt.skills import load_skills


class _Sources(SourceIndex):
    """Workspace files as the editor has them: an open document's text over the file's."""

    def __init__(self, buffers: Mapping[str, bytes]) -> None:
        super().__init__()
        self.buffers = buffers

    def source(self, path: str) -> bytes | None:
        buffered = self.buffers.get(path)
        return buffered if buffered is not None else super().source(path)


def hot_markdown(
    folder: FolderState,
    h: HotSpot,
    profile: Profile | None = None,
    buffers: Mapping[str, bytes] | None = None,
) -> str:
    """`profile` is the one `h` was matched in (its ids index it), the folder's by default."""
    prof = profile or folder.profile
    assert prof is not None
    lines = [f"**{h.definition.qualname}** — {hot_message(h)}", ""]
    sources = _Sources(buffers or {})

    def name(fid: int) -> str:
        # profilers such as cProfile record bare names (`parse`: which one?); today's source
        # says whose it is
        found = place(prof, fid, sources)
        return found.qualname if found else prof.names[fid]

    callers = prof.callers(h.fid)[:5]
    callees = prof.callees(h.fid)[:5]
    if callers:
        lines.append("Called from: " + ", ".join(
            f"`{name(e.function)}` {prof.share(e.weight) * 100:.1f}%" for e in callers))  # fmt: skip
    if callees:
        lines.append("")
        lines.append("Calls: " + ", ".join(
            f"`{name(e.function)}` {prof.share(e.weight) * 100:.1f}%" for e in callees))  # fmt: skip
    sources = ", ".join(f.name for f in folder.profile_files) or prof.source
    lines += ["", f"Profile: {sources} ({prof.format}, {age(prof.recorded_at)})"]
    return "\n".join(lines)


def register(server: MegawattServer) -> None:
    @server.feature(T.TEXT_DOCUMENT_HOVER)
    @guarded(server, "hover")
    def hover(ls: MegawattServer, params: T.HoverParams) -> T.Hover | None:
        state = ls.session.documents.get(params.text_document.uri)
        if state is None or state.analysis is None:
            return None
        analysis = state.analysis
        line = params.position.line + 1
        folder = ls.folder_for(state.path)
        parts: list[str] = []
        buffers = {d.path: d.source for d in ls.session.documents.values()}
        for h in analysis.hot:
            if h.definition.name_line == line or h.definition.line == line:
                parts.append(hot_markdown(folder, h, analysis.profile, buffers))
        skills = load_skills(folder.root)
        for o in analysis.opportunities:
            span = o.finding.span
            if span.line <= line <= span.end_line:
                skill = skills.get(o.skill)
                head = f"**{o.skill}** — {o.finding.message}"
                if o.evidence:
                    # what the estimate was read from, for the user to check against the profile
                    head += f"\n\n*Estimated savings {savings_text(o)}*: {o.evidence}"
                if skill is not None:
                    head += f"\n\n{skill.meta.description}"
                parts.append(head)
        if not parts:
            return None
        return T.Hover(
            contents=T.MarkupContent(kind=T.MarkupKind.Markdown, value="\n\n---\n\n".join(parts))
        )
