"""From findings to ranked opportunities: what the profile shows the fix would save.

Estimated savings come from the profile's evidence about the finding's own code (its lines, the
calls it is about, else its function's self time; megawatt/savings.py) × the part of that cost
the skill says its fix removes. With a profile, every finding with savings ranks above every
finding the profile shows cold or never saw; without one, findings rank by static confidence ×
expected gain.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from megawatt.analyzers.symbols import FunctionDef
from megawatt.model import Finding, Opportunity
from megawatt.profiles.mapping import match_function
from megawatt.savings import Evidence, estimate
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
        self._evidence: dict[tuple[str, int | None, int], Evidence | None] = {}
        self._nested: dict[str, list[tuple[int, int, int]]] = {}
        self._last: tuple[Sequence[FunctionDef], int] | None = None

    def _layout(self, defs: Sequence[FunctionDef]) -> int:
        """A file's function layout, as a key: asked once per finding and per function, for the
        same list, so the last one is remembered (the list itself, not its id, which a new list
        may reuse). One tuple, read and replaced whole: the index is shared across threads."""
        last = self._last
        if last is not None and last[0] is defs:
            return last[1]
        layout = hash(tuple((d.qualname, d.line, d.end_line) for d in defs))
        self._last = (defs, layout)
        return layout

    def has_file(self, path: str) -> bool:
        return path in self._by_path

    def functions_in(self, path: str, defs: Sequence[FunctionDef]) -> dict[int, int]:
        """`def` line → profile function id, for the functions of `path`."""
        key = (path, self._layout(defs))
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
        key = (path, self._layout(defs))
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

    def evidence_for(self, finding: Finding, defs: Sequence[FunctionDef]) -> Evidence | None:
        """What the profile holds about the function `finding` is in (None: never saw it)."""
        return self.evidence_of(finding.path, finding.function_line, defs)

    def evidence_of(
        self, path: str, function_line: int | None, defs: Sequence[FunctionDef]
    ) -> Evidence | None:
        """What the profile holds about the function whose `def` is on `function_line` (None:
        the module); one per function, so its findings share the figures read for it."""
        key = (path, function_line, self._layout(defs))
        if key in self._evidence:
            return self._evidence[key]
        found: Evidence | None = None
        if function_line is None:
            fid = self.module_entry(path)
            found = None if fid is None else Evidence(self.profile, [fid], None)
        else:
            fids = self.all_functions_in(path, defs).get(function_line)
            definition = next((d for d in defs if d.line == function_line), None)
            if fids:
                inner = [
                    d
                    for d in defs
                    if definition is not None
                    and d is not definition
                    and definition.first_line < d.first_line <= definition.end_line
                ]
                nested = [
                    fid
                    for fid, first, last in self._anonymous(path)
                    if definition is not None
                    and first <= definition.end_line
                    and last >= definition.first_line
                    # a lambda of a function defined inside this one is that function's
                    and not any(d.contains(first) for d in inner)
                ]
                found = Evidence(self.profile, fids, definition, nested)
        self._evidence[key] = found
        return found

    def _anonymous(self, path: str) -> list[tuple[int, int, int]]:
        """The lambdas and comprehensions of `path` and the lines they span (their line figures,
        else their first line): code objects of their own, whose lines and calls their
        enclosing function's figures lack."""
        cached = self._nested.get(path)
        if cached is None:
            p = self.profile
            cached = []
            for fid in self._by_path.get(path, ()):
                name = p.names[fid]
                if name.endswith(">") and not name.endswith("<module>"):
                    lines = [lf.line for lf in p.lines(fid)] or [int(p.first_lines[fid])]
                    if lines[0] > 0:
                        cached.append((fid, min(lines), max(lines)))
            self._nested[path] = cached
        return cached


def rank(
    findings: Iterable[Finding],
    skills: SkillSet,
    index: ProfileIndex | None = None,
    defs_by_path: dict[str, Sequence[FunctionDef]] | None = None,
) -> list[Opportunity]:
    found = list(findings)
    # findings of one skill in one function share what the profile shows of its calls
    siblings: defaultdict[tuple[str, int | None, str], int] = defaultdict(int)
    for f in found:
        siblings[(f.path, f.function_line, f.skill)] += 1
    out: list[Opportunity] = []
    for f in found:
        skill = skills.get(f.skill)
        gain = skill.expected_gain if skill is not None else DEFAULT_GAIN
        static = f.confidence * gain
        if index is None:
            out.append(Opportunity(f, gain, None, 0.0, static))
            continue
        defs = (defs_by_path or {}).get(f.path, ())
        share = index.share_of(f, defs)
        evidence = index.evidence_for(f, defs) if share > 0 else None
        if evidence is None:
            out.append(Opportunity(f, gain, share, 0.0, static * 1e-3))
            continue
        est = estimate(f, skill, evidence, siblings[(f.path, f.function_line, f.skill)], gain)
        savings = est.share
        # code with savings first, by savings weighed by how sure the detector is; code the
        # profile shows cold or never saw after all of it, by static confidence
        score = 1.0 + savings * (0.5 + 0.5 * f.confidence) if savings > 0 else static * 1e-3
        out.append(Opportunity(f, gain, share, savings, score, est.evidence, est.method, est.rough))
    out.sort(key=lambda o: (-o.score, o.finding.path, o.finding.span.start_byte))
    return out
