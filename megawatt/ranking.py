"""From findings to ranked opportunities: how hot the code is × how much the fix gains.

estimated savings = the enclosing function's inclusive share of the profile × the skill's
expected gain. With a profile, every finding in code the profile saw ranks above every finding in
code it never saw; without one, findings rank by static confidence × expected gain.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from megawatt.analyzers.symbols import FunctionDef
from megawatt.model import Finding, Opportunity
from megawatt.profiles.mapping import match_function
from megawatt.skills import SkillSet

if TYPE_CHECKING:
    from megawatt.profiles.profile import Profile

DEFAULT_GAIN = 0.2


class ProfileIndex:
    """Per workspace file, the profile's functions matched to today's source functions."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self._by_path: defaultdict[str, list[int]] = defaultdict(list)
        for fid, path in enumerate(profile.workspace_paths or ()):
            if path is not None:
                self._by_path[path].append(fid)
        # keyed by the file's function layout: an edit that moves functions gets a fresh match
        self._matched: dict[tuple[str, int], dict[int, int]] = {}
        self._every: dict[tuple[str, int], dict[int, list[int]]] = {}

    def has_file(self, path: str) -> bool:
        return path in self._by_path

    def functions_in(self, path: str, defs: Sequence[FunctionDef]) -> dict[int, int]:
        """`def` line → profile function id, for the functions of `path`."""
        key = (path, hash(tuple((d.qualname, d.line, d.end_line) for d in defs)))
        cached = self._matched.get(key)
        if cached is not None:
            return cached
        p = self.profile
        matched: dict[int, int] = {}
        every: defaultdict[int, list[int]] = defaultdict(list)
        for fid in self._by_path.get(path, ()):
            hot = [lf.line for lf in p.lines(fid)] if p.first_lines[fid] <= 0 else []
            found = match_function(defs, p.names[fid], int(p.first_lines[fid]), hot)
            if found is None:
                continue
            every[found.line].append(fid)
            prev = matched.get(found.line)
            # two recorded entries on one function (a recording per thread): keep the hotter
            if prev is None or p.total_weight_of[fid] > p.total_weight_of[prev]:
                matched[found.line] = fid
        self._matched[key] = matched
        self._every[key] = dict(every)
        return matched

    def all_functions_in(self, path: str, defs: Sequence[FunctionDef]) -> dict[int, list[int]]:
        """`def` line → every profile entry on it (several recordings, or formats, merged)."""
        self.functions_in(path, defs)
        key = (path, hash(tuple((d.qualname, d.line, d.end_line) for d in defs)))
        return self._every.get(key, {})

    def module_entry(self, path: str) -> int | None:
        for fid in self._by_path.get(path, ()):
            if self.profile.names[fid] == "<module>":
                return fid
        return None

    def share_of(self, finding: Finding, defs: Sequence[FunctionDef]) -> float:
        p = self.profile
        if finding.function_line is None:
            fid = self.module_entry(finding.path)
        else:
            fid = self.functions_in(finding.path, defs).get(finding.function_line)
        return 0.0 if fid is None else p.share(float(p.total_weight_of[fid]))


def rank(
    findings: Iterable[Finding],
    skills: SkillSet,
    index: ProfileIndex | None = None,
    defs_by_path: dict[str, Sequence[FunctionDef]] | None = None,
) -> list[Opportunity]:
    out: list[Opportunity] = []
    for f in findings:
        skill = skills.get(f.skill)
        gain = skill.expected_gain if skill is not None else DEFAULT_GAIN
        static = f.confidence * gain
        if index is None:
            out.append(Opportunity(f, gain, None, 0.0, static))
            continue
        share = index.share_of(f, (defs_by_path or {}).get(f.path, ()))
        savings = share * gain
        # profiled code first, by savings weighed by how sure the detector is; code the profile
        # never saw after all of it, by static confidence
        score = 1.0 + savings * (0.5 + 0.5 * f.confidence) if savings > 0 else static * 1e-3
        out.append(Opportunity(f, gain, share, savings, score))
    out.sort(key=lambda o: (-o.score, o.finding.path, o.finding.span.start_byte))
    return out
