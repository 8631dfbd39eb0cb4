"""A whole scan as the CLI, the language server and the MCP server run it: files → findings →
opportunities ranked against the project's profile."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from megawatt.analyzers.files import discover
from megawatt.analyzers.registry import detector_ids
from megawatt.analyzers.scan import scan
from megawatt.analyzers.syntax import SourceProblem
from megawatt.config import Settings
from megawatt.errors import ConfigError
from megawatt.hotspots import PROFILE_SKILLS, hot_spots, wanted
from megawatt.model import Finding, FunctionKind, HotFunction, Opportunity
from megawatt.profiled_memoize import profiled_memoize
from megawatt.profiled_memoize import wanted as memoize_wanted
from megawatt.ranking import ProfileIndex, rank
from megawatt.skills import SkillSet, load_skills


@dataclass
class ScanReport:
    opportunities: list[Opportunity]
    hot_functions: list[HotFunction]
    files: int
    lines: int
    seconds: float
    cached: int
    skills: SkillSet
    errors: list[str] = field(default_factory=list)
    profile_sources: list[str] = field(default_factory=list)
    # files (partly) not understood: their other findings stand, but the user must know
    problems: list[SourceProblem] = field(default_factory=list)


def check_ids(ids: Collection[str] | None, what: str) -> None:
    if ids is None:
        return
    known = {*detector_ids(), *PROFILE_SKILLS}
    unknown = sorted(set(ids) - known)
    if unknown:
        raise ConfigError(
            f"unknown skill id in {what}: {', '.join(unknown)} (known: {', '.join(sorted(known))})"
        )


def run_scan(
    paths: Sequence[Path],
    root: Path,
    settings: Settings,
    profile_files: Sequence[Path] = (),
    select: Collection[str] | None = None,
    ignore: Collection[str] = (),
    cache_dir: Path | None = None,
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    use_profile: bool = True,
) -> ScanReport:
    check_ids(select, "--select")
    check_ids(ignore, "--ignore")
    start = time.perf_counter()
    skills = load_skills(root)
    files, errors = discover(paths, settings.exclude, root)
    result = scan(files, select, ignore, cache_dir, jobs, progress)
    errors += result.errors
    errors += skills.errors
    for r in result.files:
        errors += [f"{r.path}: detector {e}" for e in r.errors]

    index = None
    hot: list[HotFunction] = []
    sources: list[str] = []
    if use_profile:
        from megawatt.profiles.locate import SourceIndex, place
        from megawatt.profiles.project import load_project_profile

        loaded = load_project_profile(root, settings, list(profile_files))
        errors += [str(e) for e in loaded.errors]
        sources = [str(f) for f in loaded.files]
        if loaded.profile is not None:
            prof = loaded.profile
            index = ProfileIndex(prof)
            scanned = {r.path for r in result.files}
            src_index = SourceIndex()
            for fid in prof.ranked("total", (FunctionKind.USER,), settings.hot_threshold):
                wp = prof.workspace_paths[fid] if prof.workspace_paths else None
                if wp is None or wp not in scanned:
                    continue
                # named as today's source names it (`Markdown.__call__`, not cProfile's bare
                # `__call__`), so two methods of one name can be told apart
                found = place(prof, int(fid), src_index)
                if found is None and prof.names[fid].rsplit(".", 1)[-1].startswith("<"):
                    continue  # the module's own code, or a lambda no longer in the source
                h = prof.hot_function(int(fid))
                hot.append(
                    replace(h, function=found.qualname, workspace_line=found.line) if found else h
                )
    defs = {r.path: r.functions for r in result.files}
    findings = list(result.findings)
    if index is not None and (wanted(select, ignore) or memoize_wanted(select, ignore)):
        findings += _hot_spots(result.files, findings, index, select, ignore)
    opportunities = rank(findings, skills, index, defs)
    return ScanReport(
        opportunities=opportunities,
        hot_functions=hot,
        files=len(result.files),
        lines=result.lines,
        seconds=time.perf_counter() - start,
        cached=result.cached,
        skills=skills,
        errors=errors,
        profile_sources=sources,
        problems=result.problems,
    )


def _hot_spots(
    files: Sequence[Any],
    findings: list[Finding],
    index: ProfileIndex,
    select: Collection[str] | None = None,
    ignore: Collection[str] = (),
) -> list[Finding]:
    """Hot functions no detector found anything in (megawatt/hotspots.py), for the files the
    profile covers; first, pure functions it shows called very often (megawatt/
    profiled_memoize.py), so that one with a memoize finding is no hot spot."""
    taken: defaultdict[str, list[Finding]] = defaultdict(list)
    for f in findings:
        taken[f.path].append(f)
    out: list[Finding] = []
    for r in files:
        if not index.has_file(r.path):
            continue
        try:
            source = Path(r.path).read_bytes()
        except OSError:  # gone since the scan read it: its findings stand, no hot spot
            continue
        if memoize_wanted(select, ignore):
            memo = profiled_memoize(r.path, source, r.functions, index, taken[r.path])
            out += memo
            taken[r.path] += memo
        if wanted(select, ignore):
            out += hot_spots(r.path, source, r.functions, index, taken[r.path])
    return out
