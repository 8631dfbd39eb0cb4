"""A profile's figures as tool output: one function's shares, and one end of a call edge."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, cast

from pydantic import BaseModel, Field

from megawatt.analyzers.parsing import parse
from megawatt.analyzers.symbols import FunctionDef, functions
from megawatt.profiles.locate import SourceIndex, locate
from megawatt.profiles.profile import Edge, Profile
from megawatt.tools.context import ToolContext

__all__ = [
    "DIGITS",
    "CallEdge",
    "FunctionFigures",
    "ProfileInfo",
    "Sources",
    "call_edge",
    "figures",
    "info",
]

Kind = Literal["user", "library", "native", "idle"]
DIGITS = 5  # shares to 0.001 %


class ProfileInfo(BaseModel):
    source: str = Field(description="The profile file(s) the figures come from.")
    format: str
    unit: Literal["seconds", "samples"]
    total: float = Field(description="The whole profile's time or sample count.")


class FunctionFigures(BaseModel):
    total_share: float = Field(description="Inclusive share of the whole profile, 0..1.")
    self_share: float = Field(description="Share spent in the function's own code, 0..1.")
    total: float = Field(description="Inclusive time or samples (see the profile's unit).")
    self: float
    calls: int | None = Field(description="Call count; null where the profiler counts none.")


class CallEdge(BaseModel):
    function: str = Field(description="Qualified name in today's source, else as recorded.")
    path: str = Field(description="Relative to the root for workspace code, else as recorded.")
    line: int | None = Field(description="`def` line in today's source, else the recorded one.")
    kind: Kind = Field(description="user (workspace), library, native (C, builtins) or idle.")
    share: float = Field(description="Share of the profile spent in the callee via this edge.")
    calls: int | None


class Sources(SourceIndex):
    """Functions per workspace file, read through the context (unsaved buffers first)."""

    def __init__(self, ctx: ToolContext) -> None:
        super().__init__()
        self.ctx = ctx

    def functions(self, path: str) -> list[FunctionDef]:
        buffered = self.ctx.buffer(Path(path))
        if buffered is None:
            return super().functions(path)
        return functions(parse(buffered))


def info(prof: Profile) -> ProfileInfo:
    return ProfileInfo(
        source=prof.source, format=prof.format, unit=prof.unit, total=prof.total_weight
    )


def figures(prof: Profile, fid: int) -> FunctionFigures:
    calls = int(prof.calls[fid])
    total, own = float(prof.total_weight_of[fid]), float(prof.self_weight[fid])
    return FunctionFigures(
        total_share=round(prof.share(total), DIGITS),
        self_share=round(prof.share(own), DIGITS),
        total=total,
        self=own,
        calls=None if calls < 0 else calls,
    )


def call_edge(ctx: ToolContext, prof: Profile, edge: Edge, sources: Sources) -> CallEdge:
    fid = edge.function
    mapped = prof.workspace_paths[fid] if prof.workspace_paths else None
    name, line = prof.names[fid], int(prof.first_lines[fid]) or None
    found = locate(prof, fid, sources) if mapped is not None else None
    if found is not None:
        name, line = found.qualname, found.line
    return CallEdge(
        function=name,
        path=ctx.relative(mapped) if mapped is not None else prof.paths[fid],
        line=line,
        kind=cast(Kind, prof.kind(fid).label),
        share=round(prof.share(edge.weight), DIGITS),
        calls=edge.calls,
    )
