"""`analyze()`: one parse, one query run, every detector, suppressions applied.

A detector that raises is reported in `AnalysisResult.errors` and the others still run; a file
with syntax errors is analysed wherever it parses (tree-sitter recovers around the error), and
findings inside an ERROR node are dropped because their shape there is a guess.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from tree_sitter import QueryCursor, Tree

from megawatt.analyzers.context import FileContext
from megawatt.analyzers.detector import Captures
from megawatt.analyzers.imports import CAPTURES as IMPORT_CAPTURES
from megawatt.analyzers.registry import FACTS, compiled
from megawatt.analyzers.suppress import suppressions
from megawatt.model import Finding


@dataclass
class AnalysisResult:
    findings: list[Finding] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # "detector-id: what went wrong"
    suppressed: int = 0


def _selected(skill: str, select: Collection[str] | None, ignore: Collection[str]) -> bool:
    return (select is None or skill in select) and skill not in ignore


def _parses_cleanly(tree: Tree, finding: Finding) -> bool:
    """Whether the code a finding covers parsed without error (its surroundings may not)."""
    node = tree.root_node.descendant_for_byte_range(finding.span.start_byte, finding.span.end_byte)
    while node is not None and (
        node.start_byte > finding.span.start_byte or node.end_byte < finding.span.end_byte
    ):
        node = node.parent
    return node is None or not node.has_error


class Cancelled(Exception):
    """The analysis was stopped on request (the editor's text moved on)."""


def analyze_context(
    ctx: FileContext,
    select: Collection[str] | None = None,
    ignore: Collection[str] = (),
    ranges: Sequence[tuple[int, int]] | None = None,
    cancel: threading.Event | None = None,
) -> AnalysisResult:
    """Findings in the file, or only in the byte `ranges` given (the editor re-analyses just
    the top-level statements an edit touched). A set `cancel` stops it between detectors."""
    result = AnalysisResult()
    comp = compiled()
    result.errors.extend(comp.errors)
    wanted = [i for i, d in enumerate(comp.detectors) if _selected(d.id, select, ignore)]
    if not wanted:
        return result
    per_detector: dict[int, list[Captures]] = {i: [] for i in wanted}
    # the whole file's import statements and bindings, gathered by the same pass
    imports = {name: [] for name in IMPORT_CAPTURES} if ranges is None else None
    if ranges is None:
        ctx.defs_matches = []
    cursor = QueryCursor(comp.query)
    for start, end in ranges if ranges is not None else [(0, len(ctx.source) + 1)]:
        cursor.set_byte_range(start, end)
        for pattern, captures in cursor.matches(ctx.tree.root_node):
            # a pattern rooted at `module` intersects every range: keep only matches that
            # captured something inside this one
            if ranges is not None and not any(
                start <= n.start_byte < end for nodes in captures.values() for n in nodes
            ):
                continue
            owner = comp.owner[pattern]
            if owner == FACTS:
                if "def" in captures:
                    if ctx.defs_matches is not None:
                        ctx.defs_matches.append(captures)
                elif imports is not None:
                    for name, nodes in captures.items():
                        imports[name].extend(nodes)
                continue
            bucket = per_detector.get(owner)
            if bucket is not None:
                bucket.append(captures)
    if imports is not None:
        for nodes in imports.values():
            nodes.sort(key=lambda n: n.start_byte)
        ctx.import_captures = imports
    findings: list[Finding] = []
    for i in wanted:
        if ranges is not None and not per_detector[i]:
            continue
        if cancel is not None and cancel.is_set():
            raise Cancelled
        det = comp.detectors[i]
        try:
            findings.extend(det.check(ctx, per_detector[i]))
        except Exception as err:  # one broken detector must not hide the others' findings
            result.errors.append(f"{det.id}: {type(err).__name__}: {err}")
    if ranges is not None:
        findings = [f for f in findings if any(s <= f.span.start_byte < e for s, e in ranges)]
    if ctx.tree.root_node.has_error:
        findings = [f for f in findings if _parses_cleanly(ctx.tree, f)]
    silenced = suppressions(ctx)
    kept = [f for f in findings if not silenced.silences(f)]
    result.suppressed = len(findings) - len(kept)
    kept.sort(key=lambda f: (f.span.start_byte, f.skill))
    result.findings = kept
    return result


def analyze(
    path: str,
    source: bytes,
    select: Collection[str] | None = None,
    ignore: Collection[str] = (),
) -> AnalysisResult:
    """Findings for one file's source."""
    return analyze_context(FileContext(path, source), select, ignore)
