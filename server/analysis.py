"""Analysis of one snapshot, on a worker thread: findings, ranking, hot functions.

After an edit, only the top-level statements whose text changed are analysed again; the findings
of every other statement are carried over from the previous analysis, moved by the bytes and lines
the edit shifted them. A change to module-level code that is not a function or class (imports,
constants) invalidates everything, since detectors read those facts. On open and save the whole
file is analysed, which also settles anything an incremental pass could have missed.
"""

from __future__ import annotations

import bisect
import hashlib
from dataclasses import replace

from tree_sitter import Node

from megawatt.analyzers.context import FileContext
from megawatt.analyzers.engine import analyze_context
from megawatt.analyzers.symbols import FunctionDef, functions
from megawatt.model import Finding, Span
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


def _binds(node: Node) -> bool:
    """Whether a top-level statement can change facts that detectors read about the module."""
    if node.type in INERT or node.is_error or node.has_error:
        return False
    if node.start_point.column > 0:
        # an indented "top-level" statement is the body of a definition whose header stopped
        # parsing: tree-sitter's recovery spills it out; it is not module code
        return False
    if node.type == "expression_statement":
        return any(c.type in ("assignment", "augmented_assignment") for c in node.named_children)
    return True


def _chunks(ctx: FileContext) -> tuple[list[tuple[Node, bytes]], bytes]:
    """(top-level definitions with their text digest), and a digest of everything else."""
    defs: list[tuple[Node, bytes]] = []
    rest = hashlib.blake2b(digest_size=16)
    for child in ctx.tree.root_node.children:
        text = ctx.source[child.start_byte : child.end_byte]
        if child.type == "comment":
            continue
        # every top-level statement is a chunk whose findings can be carried over; the ones
        # that are not definitions also make up the module digest
        defs.append((child, hashlib.blake2b(text, digest_size=16).digest()))
        if child.type in DEFINITIONS:
            continue
        if _binds(child):
            # a half-typed statement is analysed on its own; it does not reset everything else
            rest.update(text)
            rest.update(b"\0")
    return defs, rest.digest()


def _moved(f: Finding, delta_bytes: int, delta_lines: int) -> Finding:
    s = f.span
    return replace(
        f,
        span=Span(
            s.start_byte + delta_bytes,
            s.end_byte + delta_bytes,
            s.line + delta_lines,
            s.column,
            s.end_line + delta_lines,
            s.end_column,
        ),
        function_line=None if f.function_line is None else f.function_line + delta_lines,
    )


def _findings(
    snap: Snapshot, ctx: FileContext, previous: Analysis | None, full: bool
) -> tuple[list[Finding], list[FunctionDef], dict[bytes, Chunk], bytes]:
    settings = snap.folder.settings
    chunks, module_digest = _chunks(ctx)
    reusable = previous is not None and not full and previous.module_digest == module_digest
    carried: list[Finding] = []
    todo: list[tuple[int, int]] = []
    by_digest: dict[bytes, Chunk] = {}
    defs: list[FunctionDef] = []
    for node, digest in chunks:
        old = previous.chunks.get(digest) if previous is not None else None
        if old is not None:
            db, dl = node.start_byte - old.start_byte, node.start_point.row + 1 - old.line
            # a statement before the edit has not moved: its findings are kept as they are
            moved_defs = [d.moved(dl) for d in old.defs] if dl else old.defs
        else:
            moved_defs = functions(node)
        defs.extend(moved_defs)
        if old is not None and reusable:
            moved = [_moved(f, db, dl) for f in old.findings] if db or dl else old.findings
            carried.extend(moved)
            by_digest[digest] = Chunk(node.start_byte, node.start_point.row + 1, moved, moved_defs)
        else:
            todo.append((node.start_byte, node.end_byte))
            by_digest[digest] = Chunk(node.start_byte, node.start_point.row + 1, [], moved_defs)
    if not reusable:
        fresh = analyze_context(ctx, settings.select, settings.ignore).findings
    else:
        fresh = (
            analyze_context(ctx, settings.select, settings.ignore, todo).findings if todo else []
        )
    starts = [f.span.start_byte for f in fresh]  # fresh findings come sorted by position
    for node, digest in chunks:
        chunk = by_digest[digest]
        if chunk.findings or (reusable and digest in previous.chunks):  # type: ignore[union-attr]
            continue
        lo = bisect.bisect_left(starts, node.start_byte)
        hi = bisect.bisect_left(starts, node.end_byte)
        chunk.findings = fresh[lo:hi]
    findings = sorted(carried + fresh, key=lambda f: (f.span.start_byte, f.skill))
    defs.sort(key=lambda d: (d.line, d.name_column))
    return findings, defs, by_digest, module_digest


def analyze_snapshot(
    snap: Snapshot, previous: Analysis | None = None, full: bool = True
) -> Analysis:
    folder = snap.folder
    settings = folder.settings
    ctx = FileContext(snap.path, snap.source, snap.tree)
    findings, defs, chunks, module_digest = _findings(snap, ctx, previous, full)
    skills = load_skills(folder.root)
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
        chunks=chunks,
        module_digest=module_digest,
    )
    unit = "CPU" if folder.profile is None or folder.profile.unit == "seconds" else "samples"
    analysis.diagnostics = diagnostics(snap.uri, analysis, skills, unit)
    return analysis
