"""Hot code no pattern covers: a function whose own code holds a large share of the run and in
which no detector found anything is an opportunity too ("hot spot: no known pattern"), carrying
its own share and its hottest lines, so that a person or the AI fix path starts reading there.

The detectors see only source; these findings come from the profile, so they are made where the
profile meets the source (the server's analysis, the scan, the agent's tools), before ranking.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

from megawatt.analyzers.context import line_starts
from megawatt.analyzers.symbols import FunctionDef
from megawatt.model import Finding, Span

if TYPE_CHECKING:
    from megawatt.ranking import ProfileIndex

HOT_SPOT = "hot-spot"
# ids of the skills whose findings come from the profile, not from a detector
PROFILE_SKILLS = (HOT_SPOT,)
MIN_OWN_SHARE = 0.02  # of the run, in the function's own code
HOT_LINES = 3  # shown in the message
CONFIDENCE = 0.5  # the time is there for sure; that it can be saved is a guess


def wanted(select: Collection[str] | None, ignore: Collection[str] | None) -> bool:
    return (select is None or HOT_SPOT in select) and not (ignore and HOT_SPOT in ignore)


def hot_spots(
    path: str,
    source: bytes,
    defs: Sequence[FunctionDef],
    index: ProfileIndex | None,
    findings: Sequence[Finding],
    min_share: float = MIN_OWN_SHARE,
) -> list[Finding]:
    """A hot-spot finding for each function of `path` whose own time is at least `min_share`
    of the run and that holds none of `findings`."""
    if index is None or not index.has_file(path):
        return []
    prof = index.profile
    taken = {f.function_line for f in findings if f.path == path}
    starts: list[int] | None = None
    out: list[Finding] = []
    for d in defs:
        if d.line in taken:
            continue
        ev = index.evidence_of(path, d.line, defs)
        if ev is None:
            continue
        own = ev.own_weight()
        share = prof.share(own)
        if share < min_share:
            continue
        lines = sorted(
            (
                (w, line)
                for line, w in ev.own_lines.items()
                if d.line < line <= d.end_line and w > 0
            ),
            reverse=True,
        )[:HOT_LINES]
        if starts is None:
            starts = line_starts(source)
        line = lines[0][1] if lines else d.name_line
        span = _line_span(source, starts, line)
        if span is None:
            continue
        hottest = ", ".join(f"{ln} ({prof.share(w) * 100:.1f}%)" for w, ln in lines)
        message = (
            f"hot spot, no known pattern: {d.qualname}() spends {share * 100:.1f}% of the run "
            f"in its own code"
            + (f"; its hottest lines by own time: {hottest}" if hottest else "")
            + "; no skill recognises what it does: read those lines, or ask for an AI fix"
        )
        evidence = [("own_share", f"{share * 100:.1f}% of the run")]
        if hottest:
            evidence.append(("hot_lines", f"line (own share of the run): {hottest}"))
        out.append(
            Finding(HOT_SPOT, path, span, d.qualname, d.line, message, CONFIDENCE, tuple(evidence))
        )
    return out


def _line_span(source: bytes, starts: list[int], line: int) -> Span | None:
    """The line's code, from its first non-blank character to its end."""
    if not 1 <= line <= len(starts):
        return None
    start = starts[line - 1]
    end = starts[line] - 1 if line < len(starts) else len(source)
    text = source[start:end].rstrip(b"\r")
    indent = len(text) - len(text.lstrip())
    lead = text[:indent].decode("utf-8", "replace")
    body = text.decode("utf-8", "replace")
    return Span(start + indent, start + len(text), line, len(lead), line, len(body))
