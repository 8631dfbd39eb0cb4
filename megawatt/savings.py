"""What a fix would save, from the profile's own evidence about the code the finding is on.

The evidence, best first:

- **lines**: the samples on the finding's lines (py-spy, Scalene, austin, pprof lines). A line the
  profile has line figures around but no sample on is cold: the estimate is 0, whatever the
  function's heat (a `+=` in a loop that runs once is not worth a person's time);
- **calls**: the time of the calls the finding is about (`re.compile`, `copy.deepcopy`,
  `list.pop`, …) made from the finding's function, from the caller → callee edges of cProfile,
  pprof or sampled stacks, shared among the findings of one skill in that function;
- **self** (rough): where the profile has neither, the function's self time — never its
  inclusive time, which counts every callee the fix does not touch.

Each is multiplied by the part of that cost the fix removes, which the skill states (its `cost`
model in SKILL.md). A skill about the whole function (memoize) takes the function's inclusive
time. Every estimate says which evidence it used, in words a person can check against the profile.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from megawatt.analyzers.symbols import FunctionDef
from megawatt.model import Finding

if TYPE_CHECKING:
    from megawatt.profiles.profile import Profile
    from megawatt.skills.model import Skill

CALLS, LINES, SELF, FUNCTION, COLD = "calls", "lines", "self", "function", "cold"
# a memoize finding made from call counts alone (megawatt/profiled_memoize.py, evidence key
# PROFILED): its savings depend on how often arguments repeat, which no profile records
GUESSED_HIT_RATE = 0.5

# cProfile names C functions by what they are: "<built-in method builtins.len>",
# "<method 'pop' of 'list' objects>"; a cost model names them "builtins.len", "list.pop"
_BUILTIN = re.compile(r"<built-in method ([\w.]+)>")
_METHOD = re.compile(r"<method '(\w+)' of '([\w.]+)' objects>")


@dataclass(frozen=True, slots=True)
class Estimate:
    share: float  # of the whole profile
    weight: float  # in the profile's unit
    method: str  # CALLS, LINES, SELF, FUNCTION or COLD
    evidence: str  # what was read, for a person to check
    rough: bool = False


def dotted_name(path: str, name: str) -> str:
    """The name a cost model uses for a profiled function: `re.compile`, `builtins.len`,
    `list.pop`, `logging.Logger.debug` (matched by its tail)."""
    m = _BUILTIN.fullmatch(name)
    if m:
        return m.group(1)
    m = _METHOD.fullmatch(name)
    if m:
        return f"{m.group(2)}.{m.group(1)}"
    parts = path.replace("\\", "/").rsplit("/", 2)
    module = parts[-1].removesuffix(".py")
    if module == "__init__" and len(parts) > 1:
        module = parts[-2]
    return f"{module}.{name}"


def matches(pattern: str, dotted: str) -> bool:
    """`re.compile` matches `re.compile`; `logging.Logger.debug` matches `logging.debug` as
    py-spy and cProfile record it (bare method names) and `logging.Logger.debug`."""
    if dotted == pattern:
        return True
    module, _, rest = pattern.partition(".")
    last = rest.rsplit(".", 1)[-1]
    return dotted in (f"{module}.{last}", f"{module}.{rest}")


@dataclass
class Evidence:
    """What the profile holds about one function of today's source."""

    profile: Profile
    fids: Sequence[int]  # every profile entry on the function (merged recordings)
    definition: FunctionDef | None
    nested: Sequence[int] = ()  # lambdas and comprehensions recorded inside it (own code objects)
    _callees: dict[tuple[str, ...], tuple[float, int | None, list[str], float]] = field(
        default_factory=dict, repr=False
    )

    @functools.cached_property
    def lines(self) -> dict[int, float]:
        return self._line_weights(own=False)

    @functools.cached_property
    def own_lines(self) -> dict[int, float]:
        """Today's line → the samples in the line's own code (its callees' time left out)."""
        return self._line_weights(own=True)

    def _line_weights(self, own: bool) -> dict[int, float]:
        """Today's line → the samples on it (the largest figure of the entries on it: merged
        recordings and nested code objects each see the line, none of them the sum)."""
        p = self.profile
        out: dict[int, float] = {}
        for fid in [*self.fids, *self.nested]:
            recorded = int(p.first_lines[fid])
            shift = 0
            if fid in self.fids and self.definition is not None and recorded > 0:
                shift = self.definition.first_line - recorded
            for lf in p.lines(fid):
                line = lf.line + shift
                weight = lf.self_weight if own else lf.total_weight
                out[line] = max(out.get(line, 0.0), weight)
        return out

    def callee_weight(
        self, patterns: Sequence[str], via: str | None = None
    ) -> tuple[float, int | None, list[str], float]:
        """Time and calls of the callees that match `patterns`, from this function, and the part
        of that time spent in `via` inside them (all of it without `via`)."""
        key = (*patterns, f"via:{via}")
        if key not in self._callees:
            self._callees[key] = self._callee_weight(patterns, via)
        return self._callees[key]

    def _callee_weight(
        self, patterns: Sequence[str], via: str | None
    ) -> tuple[float, int | None, list[str], float]:
        p = self.profile
        weight, calls, names, removable = 0.0, 0, [], 0.0
        counted = True
        # a comprehension's calls are its own code object's: they are the function's work too
        for fid in [*self.fids, *self.nested]:
            for edge in p.callees(fid):
                callee = dotted_name(p.paths[edge.function], p.names[edge.function])
                if not any(matches(pat, callee) for pat in patterns):
                    continue
                weight += edge.weight
                removable += edge.weight * self._part_in(edge.function, via)
                if edge.calls is None:
                    counted = False
                else:
                    calls += edge.calls
                if callee not in names:
                    names.append(callee)
        return weight, (calls if counted else None), names, removable

    def _part_in(self, fid: int, via: str | None) -> float:
        """The share of `fid`'s inclusive time spent in calls to `via` (1 without `via`): the
        same for every caller of `fid`, which is all an aggregated profile can tell."""
        if via is None:
            return 1.0
        p = self.profile
        if matches(via, dotted_name(p.paths[fid], p.names[fid])):
            return 1.0
        total = float(p.total_weight_of[fid])
        if total <= 0:
            return 0.0
        inside = sum(
            e.weight
            for e in p.callees(fid)
            if matches(via, dotted_name(p.paths[e.function], p.names[e.function]))
        )
        return min(1.0, inside / total)

    def self_weight(self) -> float:
        return float(sum(self.profile.self_weight[f] for f in self.fids))

    def own_weight(self) -> float:
        """Its self time with that of its lambdas and comprehensions (code objects of their
        own, but its code)."""
        nested = sum(float(self.profile.self_weight[f]) for f in self.nested)
        return self.self_weight() + nested

    def total_weight(self) -> float:
        return float(max((self.profile.total_weight_of[f] for f in self.fids), default=0.0))

    def calls(self) -> int | None:
        counts = [int(self.profile.calls[f]) for f in self.fids if self.profile.calls[f] >= 0]
        return max(counts) if counts else None


def amount(profile: Profile, weight: float) -> str:
    """A weight as a person reads it: seconds or samples."""
    if profile.unit == "seconds":
        if weight >= 1:
            return f"{weight:.2f} s"
        return f"{weight * 1000:.1f} ms" if weight >= 0.001 else f"{weight * 1e6:.0f} µs"
    return f"{weight:,.0f} samples"


def _pct(share: float) -> str:
    return f"{share * 100:.1f}%" if share >= 0.001 else "<0.1%"


def estimate(
    finding: Finding,
    skill: Skill | None,
    evidence: Evidence,
    siblings: int = 1,
    default_gain: float = 0.2,
) -> Estimate:
    """The savings of fixing `finding`, from `evidence` (its function in the profile);
    `siblings` findings of the same skill share that function's calls evidence."""
    p = evidence.profile
    cost = skill.meta.cost if skill is not None else None
    # of the code's own time (its lines, else its function's self time); calls have `removes`
    removes = skill.expected_gain if skill is not None else default_gain
    fix_does = cost.model if cost is not None and cost.model else "the fix"

    def made(weight: float, method: str, text: str, rough: bool = False) -> Estimate:
        return Estimate(p.share(weight), weight, method, text, rough)

    if cost is not None and cost.scope == "function":
        # the detectors' module, imported here: ranking must not load them at start-up
        from megawatt.analyzers.detectors.memoize import PROFILED

        total = evidence.total_weight()
        took = (
            f"{evidence_name(evidence)} takes {amount(p, total)}, {_pct(p.share(total))} of the run"
        )
        if dict(finding.evidence).get(PROFILED):
            # found from call counts alone: how often the arguments repeat is not in the
            # profile, so half the function's time is a guess (measured on mistune: -1.7 % to
            # +14.9 % as its documents repeated once or 30 times)
            return made(
                total * removes * GUESSED_HIT_RATE,
                FUNCTION,
                f"rough: {took}; {fix_does} saves about half of it if half its calls repeat "
                "earlier arguments (the profile cannot tell how many do)",
                rough=True,
            )
        return made(total * removes, FUNCTION, f"{took}; {fix_does} saves ≈ {removes:.0%} of it")
    if cost is not None and cost.scope == "self":
        own = evidence.own_weight()
        return made(
            own * removes,
            SELF,
            f"a guess: no skill recognises this code; {evidence_name(evidence)}'s own time is "
            f"{amount(p, own)}, {_pct(p.share(own))} of the run; {fix_does} might save ≈ "
            f"{removes:.0%} of it",
            rough=True,
        )
    span = finding.span
    lines = evidence.lines
    if lines:
        on = sum(w for line, w in lines.items() if span.line <= line <= span.end_line)
        where = (
            f"line {span.line}"
            if span.end_line == span.line
            else (f"lines {span.line}–{span.end_line}")
        )
        if on <= 0:
            return made(
                0.0,
                COLD,
                f"the profile has no samples on {where} "
                f"({amount(p, sum(lines.values()))} on the function's other lines): cold",
            )
    patterns = cost.callees if cost is not None else []
    if cost is not None and patterns:
        weight, calls, names, removable = evidence.callee_weight(patterns, cost.via)
        if weight > 0 and removable > 0:
            part = removable / max(1, siblings)
            saved = part * cost.removes
            per_call = ""
            own_calls = evidence.calls()
            if calls is not None and own_calls:
                per_call = f" ({calls / own_calls:,.0f} per call of it)"
            counted = "called"
            if calls is not None:
                counted = f"called {calls:,} time{'' if calls == 1 else 's'}"
            inside = f", {amount(p, removable)} of it in {cost.via}" if cost.via is not None else ""
            split = f", shared by {siblings} findings" if siblings > 1 else ""
            return made(
                saved,
                CALLS,
                f"{', '.join(names)} {counted} from here{per_call}: {amount(p, weight)}, "
                f"{_pct(p.share(weight))} of the run{inside}{split}; {fix_does} saves ≈ "
                f"{amount(p, saved)}",
            )
    if lines:
        return made(
            on * removes,
            LINES,
            f"{where}: {amount(p, on)}, {_pct(p.share(on))} of the run; {fix_does} saves "
            f"≈ {removes:.0%} of it",
        )
    own = evidence.self_weight() / max(1, siblings)
    return made(
        own * removes,
        SELF,
        f"rough: the profile has no line or call figures for this code; from "
        f"{evidence_name(evidence)}'s own time ({amount(p, evidence.self_weight())}, "
        f"{_pct(p.share(evidence.self_weight()))} of the run) × ≈ {removes:.0%}",
        rough=True,
    )


def evidence_name(evidence: Evidence) -> str:
    d = evidence.definition
    return f"{d.qualname}()" if d is not None else "the module"
