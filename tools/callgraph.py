"""get_callers_callees: who calls a function and what it calls, with the profile's figures."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from megawatt.tools.context import ToolContext
from megawatt.tools.figures import CallEdge, FunctionFigures, ProfileInfo, Sources, call_edge
from megawatt.tools.figures import figures as figures_of
from megawatt.tools.figures import info as info_of
from megawatt.tools.parsed import parse_file

__all__ = ["DESCRIPTION", "CallersCalleesInput", "CallersCalleesOutput", "get_callers_callees"]

DESCRIPTION = (
    "Show how a function behaved in the loaded profile: its inclusive and self share of the "
    "whole run and its call count, plus its callers and callees from the profile's call graph, "
    "heaviest first, each with its name, file (relative to the workspace root for workspace "
    "code), current `def` line, kind (user, library, native, idle), the share of the profile "
    "that flowed through that edge, and the call count. Give any line inside the function. Use "
    "it to judge whether an opportunity is worth fixing (a function with a tiny share is not), "
    "where its arguments come from (the callers), and what dominates its time (the callees). "
    "When no profile is loaded, or the profile never saw the function, the lists are empty and "
    "`note` says why; that is not an error."
)


class CallersCalleesInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = Field(description="Python file, relative to the workspace root (or absolute).")
    line: int = Field(ge=1, description="Any 1-based line inside the function.")
    limit: int = Field(default=10, ge=1, le=50, description="Most callers and callees each.")


class CallersCalleesOutput(BaseModel):
    path: str
    function: str | None = Field(description="Qualified name; null for module-level code.")
    def_line: int | None
    profile: ProfileInfo | None = Field(description="The loaded profile; null when none is.")
    figures: FunctionFigures | None = Field(description="Null when the profile lacks it.")
    callers: list[CallEdge] = Field(default_factory=list)
    callees: list[CallEdge] = Field(default_factory=list)
    callers_total: int = Field(default=0, description="Callers before `limit` was applied.")
    callees_total: int = 0
    truncated: bool = False
    note: str | None = None


def get_callers_callees(ctx: ToolContext, args: CallersCalleesInput) -> CallersCalleesOutput:
    pf = parse_file(ctx, args.path)
    pf.check_line(args.line)
    fn = pf.function_at(args.line)
    out = CallersCalleesOutput(
        path=pf.rel,
        function=fn.qualname if fn is not None else None,
        def_line=fn.line if fn is not None else None,
        profile=None,
        figures=None,
    )
    prof, index = ctx.profile, ctx.index
    if prof is None or index is None:
        out.note = (
            "no profile is loaded for this workspace, so there are no figures; record one with "
            "`megawatt profile run -- python your_program.py`"
        )
        return out
    out.profile = info_of(prof)
    key = str(pf.path)
    if fn is not None:
        fid = index.functions_in(key, pf.defs).get(fn.line)
    else:
        fid = index.module_entry(key)
    if fid is None:
        what = f"{fn.qualname}()" if fn is not None else f"module-level code of {pf.rel}"
        out.note = (
            f"the profile has no record of {what}: it did not run while the profile was "
            "recorded, or the profile was taken before it existed"
        )
        return out
    sources = Sources(ctx)
    callers, callees = prof.callers(fid), prof.callees(fid)
    out.figures = figures_of(prof, fid)
    out.callers = [call_edge(ctx, prof, e, sources) for e in callers[: args.limit]]
    out.callees = [call_edge(ctx, prof, e, sources) for e in callees[: args.limit]]
    out.callers_total, out.callees_total = len(callers), len(callees)
    out.truncated = max(len(callers), len(callees)) > args.limit
    return out
