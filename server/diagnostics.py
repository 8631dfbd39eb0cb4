"""Analysis → LSP diagnostics: hot functions and opportunities, each carrying what a code action
needs in `data` so that actions never re-run the analysis."""

from __future__ import annotations

from typing import Any

from lsprotocol import types as T

from megawatt.model import Opportunity
from megawatt.server.session import Analysis, HotSpot
from megawatt.skills import SkillSet

SOURCE = "megawatt"
HOT_CODE = "hot-function"

Wire = dict[str, Any]


def human_count(n: int) -> str:
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if n >= limit:
            return f"{n / limit:.1f}{suffix}"
    return str(n)


def hot_message(h: HotSpot, unit: str = "CPU") -> str:
    calls = f", {human_count(h.calls)} calls" if h.calls is not None else ""
    return f"{h.total_share * 100:.1f}% of {unit} (self {h.self_share * 100:.1f}%){calls}"


def savings_text(o: Opportunity) -> str:
    share = o.estimated_savings
    text = f"{share * 100:.1f}%" if share >= 0.001 or share == 0 else "<0.1%"
    return f"{text}, rough" if o.rough else text


def severity(o: Opportunity) -> T.DiagnosticSeverity:
    if o.function_share is None:  # no profile: static confidence only, shown quieter
        return (
            T.DiagnosticSeverity.Information
            if o.finding.confidence >= 0.8
            else T.DiagnosticSeverity.Hint
        )
    if o.estimated_savings >= 0.005:
        return T.DiagnosticSeverity.Warning
    if o.function_share > 0:
        return T.DiagnosticSeverity.Information
    return T.DiagnosticSeverity.Hint


Reuse = dict[int, tuple[object, float | None, Wire]]


def diagnostics(
    uri: str, analysis: Analysis, skills: SkillSet, unit: str, reuse: Reuse | None = None
) -> list[Wire]:
    """The diagnostics in wire form (camelCase dicts): built on the analysis worker and sent as
    they are, since converting hundreds of lsprotocol objects per keystroke costs more than the
    analysis of the edit itself. A finding carried over unmoved from the previous analysis (the
    same object) keeps its dict from `reuse`; the ones made now are recorded in
    `analysis.wire_cache` for the next."""
    out: list[Wire] = []
    made: Reuse = {}
    analysis.wire_cache = made
    lines = analysis.lines
    for h in analysis.hot:
        d = h.definition
        row = d.name_line - 1
        start = _cp(lines, d.name_line, d.name_column)
        end = _cp(lines, d.name_line, d.name_end_column)
        out.append(
            {
                "range": {"start": lines.wire_position(row, start),
                          "end": lines.wire_position(row, end)},
                "message": hot_message(h, unit),
                "severity": (T.DiagnosticSeverity.Information if h.total_share >= 0.05
                             else T.DiagnosticSeverity.Hint).value,
                "code": HOT_CODE,
                "source": SOURCE,
                "data": {"kind": "hot", "uri": uri},
            }
        )  # fmt: skip
    hrefs: dict[str, str | None] = {}
    for o in analysis.opportunities:
        f = o.finding
        old = reuse.get(id(f)) if reuse is not None else None
        if old is not None and old[0] is f and old[1] == o.estimated_savings:
            made[id(f)] = old
            out.append(old[2])
            continue
        if f.skill not in hrefs:
            skill = skills.get(f.skill)
            hrefs[f.skill] = skill.path.as_uri() if skill else None
        message = f.message
        if o.evidence:
            message += f" (est. savings {savings_text(o)}: {o.evidence})"
        span = f.span
        diag: Wire = {
            "range": {
                "start": lines.wire_position(span.line - 1, span.column),
                "end": lines.wire_position(span.end_line - 1, span.end_column),
            },
            "message": message,
            "severity": severity(o).value,
            "code": f.skill,
            "source": SOURCE,
            "data": {"kind": "opportunity", "uri": uri, "key": f.key},
        }
        href = hrefs[f.skill]
        if href:
            diag["codeDescription"] = {"href": href}
        made[id(f)] = (f, o.estimated_savings, diag)
        out.append(diag)
    return out


def _cp(lines, line1: int, byte_col: int) -> int:  # type: ignore[no-untyped-def]
    """Code-point column of a UTF-8 byte column on a line."""
    text = lines.line(line1 - 1)
    return len(text.encode("utf-8")[:byte_col].decode("utf-8", "replace"))
