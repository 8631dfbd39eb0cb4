"""The quick pass after a keystroke: only the top-level statements around the edit are parsed,
together with the module's facts (imports, assignments), and analysed; every other statement's
findings are carried over, moved by the edit.

tree-sitter parses just those byte ranges of the new text (`included_ranges`), so positions need
no mapping, and the cost follows the size of the edited function, not of the file: a 5,000-line
file that is half-typed in many places costs tree-sitter tens of milliseconds to re-parse in
full, and this pass a fraction of one. What the statement cannot see this way (the other
definitions: a caller's loop, another function's purity) waits for the settled pass, which runs
on the whole file as soon as the edits pause and replaces this one.
"""

from __future__ import annotations

import bisect
import re
import threading
from dataclasses import replace

from tree_sitter import Parser, Point, Range

from megawatt.analyzers.context import FileContext
from megawatt.analyzers.engine import analyze_context
from megawatt.analyzers.parsing import PYTHON
from megawatt.analyzers.symbols import FunctionDef, functions
from megawatt.model import Finding
from megawatt.server.analysis import assemble, digest_of, is_fact, moved_finding
from megawatt.server.edits import changed
from megawatt.server.session import Analysis, Chunk, Snapshot

# beyond this, the edited region is most of the file: the settled pass is as cheap
MAX_SPAN_BYTES = 64 * 1024

_local = threading.local()


def _parser(ranges: list[Range]) -> Parser:
    p: Parser | None = getattr(_local, "parser", None)
    if p is None:
        p = _local.parser = Parser(PYTHON)
    p.included_ranges = ranges
    return p


class _Lines:
    """Points of a few offsets, without indexing every line of the file."""

    def __init__(self, source: bytes) -> None:
        self.source = source

    def point(self, offset: int) -> Point:
        start = self.source.rfind(b"\n", 0, offset) + 1
        return Point(self.source.count(b"\n", 0, offset), offset - start)

    def line_end(self, offset: int) -> int:
        """The offset just past the newline ending the line that holds `offset - 1`."""
        nl = self.source.find(b"\n", max(offset - 1, 0))
        return len(self.source) if nl < 0 else nl + 1

    def range(self, start: int, end: int) -> Range:
        return Range(self.point(start), self.point(end), start, end)


def _merged(pieces: list[tuple[int, int]], lines: _Lines) -> list[Range]:
    """Sorted, non-overlapping ranges (two statements on one line share it)."""
    out: list[tuple[int, int]] = []
    for start, end in sorted(pieces):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return [lines.range(s, e) for s, e in out]


_CALL = re.compile(rb"(?<![\w.])([A-Za-z_]\w*)\s*\(")


def _related(
    new: bytes,
    span: tuple[int, int],
    replaced: list[Chunk],
    before: list[Chunk],
    after: list[Chunk],
    delta: int,
) -> set[int]:
    """Indexes (in the previous order) of the statements outside the span that call a function
    the span defines, or define a function the span calls."""
    starts = [c.start_byte for c in before] + [c.start_byte + delta for c in after]
    index = list(range(len(before))) + list(
        range(len(before) + len(replaced), len(before) + len(replaced) + len(after))
    )
    found: set[int] = set()
    defined = {d.name for c in replaced for d in c.defs}
    if defined:
        names = b"|".join(re.escape(n.encode()) for n in sorted(defined))
        for m in re.finditer(rb"(?<![\w])(?:" + names + rb")\s*\(", new):
            if span[0] <= m.start() < span[1]:
                continue
            k = bisect.bisect_right(starts, m.start()) - 1
            if k >= 0:
                found.add(index[k])
    called = {m.group(1).decode() for m in _CALL.finditer(new, span[0], span[1])}
    if called:
        for k, c in enumerate([*before, *after]):
            if any(d.name in called and "." not in d.qualname for d in c.defs):
                found.add(index[k])
    return found


def quick_snapshot(snap: Snapshot, previous: Analysis) -> Analysis | None:
    """The quick analysis of `snap` from `previous`, or None when only a settled pass will do
    (an edit spanning most of the file)."""
    old, new = previous.source, snap.source
    order = previous.order
    if not order:
        return None
    p, old_end, new_end = changed(old, new)
    delta = len(new) - len(old)
    starts = [c.start_byte for c in order]
    # from the statement before the edit (an edit at its very start may join the two) to the
    # start of the first statement after it: the gap between holds what was typed there
    first = bisect.bisect_left(starts, p) - 1
    lo = order[first].start_byte if first >= 0 else 0
    after = bisect.bisect_right(starts, old_end)
    hi = order[after].start_byte if after < len(order) else len(old)
    span = (lo, hi + delta)
    if span[1] - span[0] > MAX_SPAN_BYTES:
        return None
    kept_before = order[: max(first, 0)]
    replaced = order[max(first, 0) : after]
    kept_after = order[after:]
    lines = _Lines(new)
    # the module's facts outside the span come along, so imports and constants resolve
    # and so do the definitions that call into the span or that it calls: a detector asks
    # whether a function is called from a loop elsewhere, or whether what it calls is pure
    context = _related(new, span, replaced, kept_before, kept_after, delta)
    pieces = [
        (c.start_byte, lines.line_end(c.end_byte))
        for i, c in enumerate(kept_before)
        if c.fact or i in context
    ]
    pieces.append(span)
    pieces += [
        (c.start_byte + delta, lines.line_end(c.end_byte + delta))
        for i, c in enumerate(kept_after, start=len(kept_before) + len(replaced))
        if c.fact or i in context
    ]
    tree = _parser(_merged(pieces, lines)).parse(new)
    nodes = [
        n
        for n in tree.root_node.children
        if span[0] <= n.start_byte < span[1] and n.type != "comment"
    ]
    fresh_chunks = [
        Chunk(n.start_byte, n.end_byte, n.start_point.row + 1, [], functions(n),
              digest_of(new[n.start_byte : n.end_byte]), is_fact(n), partial=True)
        for n in nodes
    ]  # fmt: skip
    # an import or constant changed: every statement may read it, so every one is marked for
    # the settled pass (which sees the module digest change and analyses them all again)
    facts_changed = [c.digest for c in fresh_chunks if c.fact] != [
        c.digest for c in replaced if c.fact
    ]
    settings = snap.folder.settings
    ctx = FileContext(snap.path, new, tree)
    fresh = analyze_context(ctx, settings.select, settings.ignore, [span]).findings
    starts_fresh = [f.span.start_byte for f in fresh]
    for c in fresh_chunks:
        c.findings = fresh[
            bisect.bisect_left(starts_fresh, c.start_byte) : bisect.bisect_left(
                starts_fresh, c.end_byte
            )
        ]
    dl = new[p:new_end].count(b"\n") - old[p:old_end].count(b"\n")
    moved: list[Chunk] = []
    for c in kept_after:
        findings = [moved_finding(f, delta, dl) for f in c.findings] if delta or dl else c.findings
        defs = [d.moved(dl) for d in c.defs] if dl else c.defs
        moved.append(
            Chunk(c.start_byte + delta, c.end_byte + delta, c.line + dl, findings, defs,
                  c.digest, c.fact, c.partial or facts_changed)
        )  # fmt: skip
    if facts_changed:
        kept_before = [replace(c, partial=True) for c in kept_before]
    order_new = [*kept_before, *fresh_chunks, *moved]
    findings_all: list[Finding] = [f for c in order_new for f in c.findings]
    findings_all.sort(key=lambda f: (f.span.start_byte, f.skill))
    defs_all: list[FunctionDef] = [d for c in order_new for d in c.defs]
    defs_all.sort(key=lambda d: (d.line, d.name_column))
    return assemble(
        snap, findings_all, defs_all, order_new, previous.module_digest, False, previous.wire_cache
    )
