"""get_opportunity: what the analyzers find in a function, ranked against the profile."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from megawatt.analyzers.context import FileContext
from megawatt.analyzers.engine import analyze_context
from megawatt.analyzers.registry import detector_ids
from megawatt.hotspots import HOT_SPOT, PROFILE_SKILLS, hot_spots
from megawatt.model import Finding, Opportunity
from megawatt.profiled_memoize import MEMOIZE, profiled_memoize
from megawatt.profiled_memoize import wanted as memoize_wanted
from megawatt.ranking import rank
from megawatt.tools.bounds import clip_lines
from megawatt.tools.context import ToolContext
from megawatt.tools.errors import ToolError
from megawatt.tools.figures import DIGITS
from megawatt.tools.parsed import ParsedFile, parse_file

__all__ = [
    "DESCRIPTION",
    "FixOffer",
    "OpportunityInput",
    "OpportunityItem",
    "OpportunityOutput",
    "get_opportunity",
]

DESCRIPTION = (
    "List the performance opportunities Megawatt's analyzers find in the function that contains "
    "a given line (or on that exact line, for module-level code), ranked the way Megawatt ranks "
    "them. Each has its skill id, the analyzer's message, its confidence (0..1), the evidence it "
    "matched, its line range and code, the enclosing function, the skill's expected gain, and, "
    "when a profile is loaded, the function's inclusive share of the profile and the estimated "
    "savings (share × expected gain, both 0..1). `fix` is set when a deterministic rewrite "
    "exists (with whether it is safe). Pass `skill` to keep only that opportunity class. Use it "
    "first to learn what is wrong and how sure the analyzer is, then get_skill for how to fix it."
)

MAX_ITEMS = 30
CODE_LINES = 15


class OpportunityInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = Field(description="Python file, relative to the workspace root (or absolute).")
    line: int = Field(ge=1, description="A 1-based line inside the function (or of the finding).")
    skill: str | None = Field(default=None, description="Only this skill id (e.g. `memoize`).")


class FixOffer(BaseModel):
    title: str
    safe: bool = Field(description="Applied without review by fix-all; unsafe ones say why.")
    note: str = ""


class OpportunityItem(BaseModel):
    skill: str
    message: str
    confidence: float
    evidence: dict[str, str]
    line: int
    end_line: int
    code: str = Field(description="The source lines of the finding.")
    function: str | None
    function_line: int | None
    expected_gain: float
    function_share: float | None = Field(description="Null when no profile is loaded.")
    estimated_savings: float | None = Field(description="Null when no profile is loaded.")
    savings_evidence: str | None = Field(
        default=None,
        description="What the profile shows of this code and how the estimate follows from it "
        "(line samples, call times, or, marked rough, the function's self time).",
    )
    fix: FixOffer | None = None


class OpportunityOutput(BaseModel):
    path: str
    function: str | None = Field(description="The function at the line; null at module level.")
    def_line: int | None
    profile_loaded: bool
    opportunities: list[OpportunityItem]
    truncated: bool = False
    note: str | None = None
    analyzer_errors: list[str] = Field(default_factory=list)


def _wanted(pf: ParsedFile, line: int, finding: Finding) -> bool:
    span = finding.span
    if span.line <= line <= span.end_line:
        return True
    fn = pf.function_at(line)
    return fn is not None and fn.first_line <= span.line <= fn.end_line


def _rounded(share: float | None) -> float | None:
    return None if share is None else round(share, DIGITS)


def _item(pf: ParsedFile, o: Opportunity, profiled: bool) -> OpportunityItem:
    f = o.finding
    code, _ = clip_lines(pf.text(f.span.line, f.span.end_line), CODE_LINES)
    return OpportunityItem(
        skill=f.skill,
        message=f.message,
        confidence=f.confidence,
        evidence=dict(f.evidence),
        line=f.span.line,
        end_line=f.span.end_line,
        code=code,
        function=f.function,
        function_line=f.function_line,
        expected_gain=o.expected_gain,
        function_share=_rounded(o.function_share) if profiled else None,
        estimated_savings=_rounded(o.estimated_savings) if profiled else None,
        savings_evidence=o.evidence or None,
        fix=FixOffer(title=f.fix.title, safe=f.fix.safe, note=f.fix.note) if f.fix else None,
    )


def get_opportunity(ctx: ToolContext, args: OpportunityInput) -> OpportunityOutput:
    known = (*detector_ids(), *PROFILE_SKILLS)
    if args.skill is not None and args.skill not in known:
        raise ToolError(f"unknown skill {args.skill!r}; the skills are: {', '.join(sorted(known))}")
    pf = parse_file(ctx, args.path)
    pf.check_line(args.line)
    fc = FileContext(str(pf.path), pf.source, pf.tree)
    if args.skill is not None and args.skill != HOT_SPOT:
        # asked for by name: the settings' selection does not hide it
        result = analyze_context(fc, [args.skill])
    else:
        result = analyze_context(fc, ctx.settings.select, ctx.settings.ignore)
    found = list(result.findings)
    if ctx.index is not None and (
        args.skill == MEMOIZE
        or (args.skill is None and memoize_wanted(ctx.settings.select, ctx.settings.ignore))
    ):
        # before hot spots: a function with a memoize finding is not also a hot spot
        found += profiled_memoize(fc.path, pf.source, pf.defs, ctx.index, found, fc)
    if args.skill in (None, HOT_SPOT) and ctx.index is not None:
        found += hot_spots(fc.path, pf.source, pf.defs, ctx.index, found)
    found = [
        f
        for f in found
        if _wanted(pf, args.line, f) and (args.skill != HOT_SPOT or f.skill == HOT_SPOT)
    ]
    ranked = rank(found, ctx.skills, ctx.index, {fc.path: pf.defs})
    fn = pf.function_at(args.line)
    profiled = ctx.index is not None
    out = OpportunityOutput(
        path=pf.rel,
        function=fn.qualname if fn is not None else None,
        def_line=fn.line if fn is not None else None,
        profile_loaded=profiled,
        opportunities=[_item(pf, o, profiled) for o in ranked[:MAX_ITEMS]],
        truncated=len(ranked) > MAX_ITEMS,
        analyzer_errors=result.errors,
    )
    where = f"in {fn.qualname}()" if fn is not None else f"on line {args.line}"
    if not ranked:
        out.note = f"no opportunity found {where}" + (
            f" for skill {args.skill!r}" if args.skill else ""
        )
    elif out.truncated:
        out.note = f"showing the top {MAX_ITEMS} of {len(ranked)} opportunities {where}"
    if pf.has_errors:
        syntax = "the file has syntax errors; code inside them is not analysed"
        out.note = f"{out.note}; {syntax}" if out.note else syntax
    return out
