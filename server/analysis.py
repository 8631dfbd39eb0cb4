"""Analysis of one snapshot, on a worker thread: findings, ranking, hot functions.

The settled pass: the whole file parsed (incrementally, from the edited tree of the last one) and
analysed with the whole module in view, on open, save, settings changes and whenever edits
pause; it can also analyse only the top-level statements whose text changed, carrying the
others' findings over, moved by the bytes and lines the edit shifted them (a change to module
facts, imports or constants, invalidates everything). The keystroke path is server/quick.py.
"""

from __future__ import annotations

import bisect
import hashlib
import threading

from tree_sitter import Node

from megawatt.analyzers.context import FileContext
from megawatt.analyzers.engine import analyze_context
from megawatt.analyzers.parsing import parse
from megawatt.analyzers.symbols import FunctionDef, functions
from megawatt.hotspots import hot_spots, wanted
from megawatt.model import Finding, Span
from megawatt.profiled_memoize import profiled_memoize
from megawatt.profiled_memoize import wanted as memoize_wanted
from megawatt.ranking import rank
from megawatt.server.diagnostics import diagnostics
from megawatt.server.positions import LineIndex
from megawatt.server.session import Analysis, Chunk, HotSpot, Snapshot
from megawatt.skills import load_skills

DEFINITIONS = ("function_definition", "class_definition", "decorated_definition")
# top-level statements that bind nothing: a bare call or name (often a half-typed line that
# tree-sitter closed a function at) must not make every other statement be analysed again
INERT = ("pass_statement", "comment", "ERROR", "return_statement", "continue_statement",
         "break_statement")  # fmt: skip


def is_fact(node: Node) -> bool:
    """Whether a top-level statement states a fact detectors read about the module (an import
    or an assignment; not a definition)."""
    if node.type in DEFINITIONS or node.type in INERT or node.is_error or node.has_error:
        return False
    if node.start_point.column > 0:
        # an indented "top-level" statement is the body of a definition whose header stopped
        # parsing: tree-sitter's recovery spills it out; it is not module code
        return False
    if node.type == "expression_statement":
        return any(c.type in ("assignment", "augmented_assignment") for c in node.named_children)
    return True


def digest_of(text: bytes) -> bytes:
    return hashlib.blake2b(text, digest_size=16).digest()


def _chunks(ctx: FileContext) -> tuple[list[tuple[Node, bytes, bool]], bytes]:
    """Every top-level statement with its text digest and whether it states a module fact, and
    a digest of all the facts."""
    out: list[tuple[Node, bytes, bool]] = []
    rest = hashlib.blake2b(digest_size=16)
    for child in ctx.tree.root_node.children:
        if child.type == "comment":
            continue
        text = ctx.source[child.start_byte : child.end_byte]
        # every top-level statement is a chunk whose findings can be carried over; the ones
        # that are not definitions and bind names make up the module digest
        fact = is_fact(child)
        out.append((child, digest_of(text), fact))
        if fact:
            rest.update(text)
            rest.update(b"\0")
    return out, rest.digest()


def moved_finding(f: Finding, delta_bytes: int, delta_lines: int) -> Finding:
    s = f.span
    fn_line = f.function_line
    # the constructor, not dataclasses.replace: this runs for every finding after an edit
    return Finding(
        f.skill,
        f.path,
        Span(s.start_byte + delta_bytes, s.end_byte + delta_bytes, s.line + delta_lines,
             s.column, s.end_line + delta_lines, s.end_column),
        f.function,
        None if fn_line is None else fn_line + delta_lines,
        f.message,
        f.confidence,
        f.evidence,
        f.fix,
    )  # fmt: skip


def _findings(
    snap: Snapshot,
    ctx: FileContext,
    previous: Analysis | None,
    full: bool,
    cancel: threading.Event | None = None,
) -> tuple[list[Finding], list[FunctionDef], list[Chunk], bytes]:
    settings = snap.folder.settings
    chunks, module_digest = _chunks(ctx)
    reusable = previous is not None and not full and previous.module_digest == module_digest
    carried: list[Finding] = []
    todo: list[tuple[int, int]] = []
    order: list[Chunk] = []
    defs: list[FunctionDef] = []
    before = {c.digest: c for c in previous.order} if previous is not None else {}
    for node, digest, fact in chunks:
        old = before.get(digest)
        line = node.start_point.row + 1
        if old is not None:
            db, dl = node.start_byte - old.start_byte, line - old.line
            # a statement before the edit has not moved: its findings are kept as they are
            moved_defs = [d.moved(dl) for d in old.defs] if dl else old.defs
        else:
            moved_defs = functions(node)
        defs.extend(moved_defs)
        chunk = Chunk(node.start_byte, node.end_byte, line, [], moved_defs, digest, fact)
        # a quick analysis saw the statement without the rest of the module: look again
        if old is not None and reusable and not old.partial:
            chunk.findings = (
                [moved_finding(f, db, dl) for f in old.findings] if db or dl else old.findings
            )
            carried.extend(chunk.findings)
        else:
            todo.append((node.start_byte, node.end_byte))
            chunk.partial = True  # filled from the fresh findings below
        order.append(chunk)
    if not reusable:
        fresh = analyze_context(ctx, settings.select, settings.ignore, cancel=cancel).findings
    else:
        fresh = (
            analyze_context(ctx, settings.select, settings.ignore, todo).findings if todo else []
        )
    starts = [f.span.start_byte for f in fresh]  # fresh findings come sorted by position
    for chunk in order:
        if not chunk.partial:
            continue
        lo = bisect.bisect_left(starts, chunk.start_byte)
        hi = bisect.bisect_left(starts, chunk.end_byte)
        chunk.findings = fresh[lo:hi]
        chunk.partial = False
    findings = sorted(carried + fresh, key=lambda f: (f.span.start_byte, f.skill))
    defs.sort(key=lambda d: (d.line, d.name_column))
    return findings, defs, order, module_digest


def analyze_snapshot(
    snap: Snapshot,
    previous: Analysis | None = None,
    full: bool = True,
    cancel: threading.Event | None = None,
) -> Analysis:
    """The settled analysis: the whole file parsed (incrementally from the snapshot's edited
    tree) and analysed with the whole module in view; with `full` False, only the statements
    whose text changed (the others' findings carried over). A set `cancel` stops it (Cancelled)."""
    tree = parse(snap.source, snap.tree) if snap.tree is not None else parse(snap.source)
    ctx = FileContext(snap.path, snap.source, tree)
    findings, defs, order, module_digest = _findings(snap, ctx, previous, full, cancel)
    reuse = previous.wire_cache if previous is not None and not full else None
    analysis = assemble(snap, findings, defs, order, module_digest, reuse=reuse)
    analysis.tree = tree
    return analysis


def assemble(
    snap: Snapshot,
    findings: list[Finding],
    defs: list[FunctionDef],
    order: list[Chunk],
    module_digest: bytes,
    settled: bool = True,
    reuse: dict | None = None,  # type: ignore[type-arg]  # the previous analysis' wire_cache
) -> Analysis:
    """Findings and definitions → the ranked, profiled analysis with its wire diagnostics."""
    folder = snap.folder
    settings = folder.settings
    skills = load_skills(folder.root)
    if folder.index is not None and memoize_wanted(settings.select, settings.ignore):
        # pure functions the profile shows called very often, before hot spots: one with a
        # memoize finding is not also a hot spot with no known pattern
        findings = findings + profiled_memoize(snap.path, snap.source, defs, folder.index, findings)
    if folder.index is not None and wanted(settings.select, settings.ignore):
        # hot code no detector found anything in: from the profile, so made here, not by the
        # (profile-blind, incrementally reused) detector pass
        findings = findings + hot_spots(snap.path, snap.source, defs, folder.index, findings)
    opportunities = rank(findings, skills, folder.index, {snap.path: defs})
    hot: list[HotSpot] = []
    if folder.index is not None and folder.profile is not None:
        prof = folder.profile
        by_line = {d.line: d for d in defs}
        every = folder.index.all_functions_in(snap.path, defs)
        for line, fid in folder.index.functions_in(snap.path, defs).items():
            share = prof.share(float(prof.total_weight_of[fid]))
            if share < settings.hot_threshold:
                continue
            calls = int(prof.calls[fid])
            hot.append(
                HotSpot(
                    definition=by_line[line],
                    fid=fid,
                    total_share=share,
                    self_share=prof.share(float(prof.self_weight[fid])),
                    calls=None if calls < 0 else calls,
                    fids=tuple(every.get(line, [fid])),
                )
            )
    analysis = Analysis(
        version=snap.version,
        source=snap.source,
        findings=findings,
        opportunities=opportunities,
        hot=hot,
        defs=defs,
        lines=LineIndex(snap.source, snap.encoding),
        order=order,
        module_digest=module_digest,
        settled=settled,
        profile=folder.profile if folder.index is not None else None,
    )
    unit = "CPU" if folder.profile is None or folder.profile.unit == "seconds" else "samples"
    analysis.diagnostics = diagnostics(snap.uri, analysis, skills, unit, reuse)
    return analysis
