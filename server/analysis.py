"""Analysis of one snapshot, on a worker thread: findings, ranking, hot functions."""

from __future__ import annotations

from megawatt.analyzers.context import FileContext
from megawatt.analyzers.engine import analyze_context
from megawatt.analyzers.symbols import functions
from megawatt.ranking import rank
from megawatt.server.positions import LineIndex
from megawatt.server.session import Analysis, HotSpot, Snapshot
from megawatt.skills import load_skills


def analyze_snapshot(snap: Snapshot) -> Analysis:
    folder = snap.folder
    settings = folder.settings
    ctx = FileContext(snap.path, snap.source, snap.tree)
    result = analyze_context(ctx, settings.select, settings.ignore)
    defs = functions(ctx.tree)
    skills = load_skills(folder.root)
    opportunities = rank(result.findings, skills, folder.index, {snap.path: defs})
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
    return Analysis(
        version=snap.version,
        source=snap.source,
        findings=result.findings,
        opportunities=opportunities,
        hot=hot,
        defs=defs,
        lines=LineIndex(snap.source, snap.encoding),
    )
