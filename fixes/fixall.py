"""Apply every deterministic fix in a file: rounds of non-overlapping fixes, re-analysing between
rounds (a fix can make room for another), and a final check that the result parses and compiles.
A file that is not valid Python to begin with is left alone, and the outcome says where it fails:
a fix is never blamed for an error the file already had."""

from __future__ import annotations

import bisect
import warnings
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from megawatt.analyzers.context import FileContext, line_starts
from megawatt.analyzers.engine import analyze_context
from megawatt.analyzers.syntax import SourceProblem, compile_problem, source_problem
from megawatt.fixes.deterministic import with_fixes
from megawatt.fixes.edits import apply_edits, overlaps
from megawatt.fixes.guardrails import Rejected, RuffFinding, ruff_findings
from megawatt.model import Edit, Finding
from megawatt.skills import SkillSet

MAX_ROUNDS = 6


@dataclass
class Applied:
    skill: str
    title: str
    line: int


@dataclass
class Skipped:
    """A fix that was not applied, and why. `unsafe`: it is marked unsafe and `--unsafe` would
    apply it; otherwise a check refused it (new ruff findings on the lines it touched)."""

    skill: str
    title: str
    line: int
    reason: str
    unsafe: bool


@dataclass
class FixOutcome:
    path: str
    before: bytes
    after: bytes
    applied: list[Applied] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    problem: str | None = None  # why the result must not be written
    # set when the file was not valid Python to begin with: then no fix was tried
    original_problem: SourceProblem | None = None

    @property
    def changed(self) -> bool:
        return self.after != self.before


def compiles(path: str, source: bytes) -> str | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(source, path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as err:
        return f"does not compile after fixing: {err}"
    return None


def fix_source(
    path: str,
    source: bytes,
    skills: SkillSet,
    select: Collection[str] | None = None,
    ignore: Collection[str] = (),
    unsafe: bool = False,
    *,
    ruff: str | None = None,
    root: Path | None = None,
    line: int | None = None,
) -> FixOutcome:
    """With `line`, only the findings on that line of `source` are fixed. With `ruff`, each round's fixes pass the AI path's style check: no new `ruff check`
    finding (the project's configuration, read from `root`) on the lines a fix touched; a fix
    that adds one is not applied, and `skipped` says which finding."""
    outcome = FixOutcome(path, source, source)
    current = source
    # a fix left out once is left out in every later round: the same rewrite comes back
    refused: dict[tuple[str, int], Skipped] = {}
    # each round's edits, to say where a finding in later text was in the original
    rounds: list[list[Edit]] = []
    original_lines = line_starts(source)

    def where(f: Finding) -> tuple[tuple[str, int], int]:
        at = _original_offset(f.span.start_byte, rounds)
        return (f.skill, at), _line_of(original_lines, at)

    for round_ in range(MAX_ROUNDS):
        ctx = FileContext(path, current)
        if round_ == 0:
            outcome.original_problem = source_problem(path, source, ctx.tree)
            if outcome.original_problem is not None:
                return outcome
        found = analyze_context(ctx, select, ignore).findings
        if round_ == 0 and found:
            # the compiler too, once there is something to fix (each fix is checked by compiling
            # its result): it alone refuses `return` outside a function, and a result cannot be
            # judged against an original that fails already
            outcome.original_problem = compile_problem(path, source)
            if outcome.original_problem is not None:
                return outcome
        findings = with_fixes(ctx, found, skills)
        taken: list[Edit] = []
        chosen: list[Finding] = []
        for f in findings:
            key, at_line = where(f)
            if f.fix is None or key in refused or (line is not None and at_line != line):
                continue
            if not f.fix.safe and not unsafe:
                refused[key] = Skipped(
                    f.skill, f.fix.title, at_line, f.fix.note or "marked unsafe", True
                )
                continue
            if overlaps(f.fix.edits, taken):
                continue  # picked up in the next round, against the new text
            taken.extend(f.fix.edits)
            chosen.append(f)
        if ruff is not None and chosen:
            chosen = _ruff_gate(ctx, chosen, ruff, root, refused, where)
            taken = [e for f in chosen for e in _edits(f)]
        if not taken:
            break
        outcome.applied.extend(Applied(f.skill, _title(f), where(f)[1]) for f in chosen)
        current = apply_edits(current, taken)
        rounds.append(sorted(taken, key=lambda e: (e.start, e.end)))
    outcome.after = current
    outcome.skipped = list(refused.values())
    if outcome.changed:
        outcome.problem = compiles(path, current)
    return outcome


def _title(f: Finding) -> str:
    return f.fix.title if f.fix is not None else ""


def _edits(f: Finding) -> tuple[Edit, ...]:
    return f.fix.edits if f.fix is not None else ()


def _original_offset(offset: int, rounds: list[list[Edit]]) -> int:
    """Where a byte of the text after `rounds` of edits was before them (a byte the edits wrote
    maps to where they were made)."""
    for edits in reversed(rounds):
        offset = _before_edits(offset, edits)
    return offset


def _before_edits(offset: int, edits: list[Edit]) -> int:
    shift = 0  # how far the edits so far moved the text after them
    for e in edits:
        start = e.start + shift
        end = start + len(e.text.encode("utf-8"))
        if offset < start:
            break
        if offset < end:
            return e.start
        shift += (end - start) - (e.end - e.start)
    return offset - shift


def _line_of(starts: Sequence[int], offset: int) -> int:
    return bisect.bisect_right(starts, offset)


def _touched(before: bytes, after: bytes, chosen: list[Finding]) -> list[tuple[set[int], set[int]]]:
    """Per fix, the lines of `before` it replaced and the lines of `after` it wrote, each with
    its neighbours: a deletion's new neighbours are compared with its old ones, so a finding the
    line below already had is not the fix's doing."""
    owner = sorted((e.start, e.end, e.text, i) for i, f in enumerate(chosen) for e in _edits(f))
    old_starts, new_starts = line_starts(before), line_starts(after)
    spans: list[tuple[set[int], set[int]]] = [(set(), set()) for _ in chosen]
    shift = 0
    for start, end, text, i in owner:
        size = len(text.encode("utf-8"))
        new_start, new_end = start + shift, start + shift + size
        shift += size - (end - start)
        old_lines, new_lines = spans[i]
        for starts, lines, a, b in (
            (old_starts, old_lines, start, end),
            (new_starts, new_lines, new_start, new_end),
        ):
            first = _line_of(starts, a)
            if b > a:  # the lines written or replaced, and one line either side of them
                lines.update(range(first - 1, _line_of(starts, b - 1) + 2))
            else:
                lines.update((first - 1, first))
    return spans


def _ruff_gate(
    ctx: FileContext,
    chosen: list[Finding],
    ruff: str,
    root: Path | None,
    refused: dict[tuple[str, int], Skipped],
    where: Callable[[Finding], tuple[tuple[str, int], int]],
) -> list[Finding]:
    """The fixes of `chosen` that add no ruff finding on the lines they touch; the others go
    to `refused` with the findings they add."""
    cwd = root if root is not None else Path(ctx.path).parent
    try:
        old = ruff_findings(ruff, ctx.source.decode("utf-8"), ctx.path, cwd)
    except (Rejected, UnicodeDecodeError, OSError):
        return chosen  # nothing to compare against: the compile check still runs
    while chosen:
        edits = [e for f in chosen for e in _edits(f)]
        after = apply_edits(ctx.source, edits)
        try:
            new = ruff_findings(ruff, after.decode("utf-8"), ctx.path, cwd)
        except (Rejected, UnicodeDecodeError, OSError):
            return chosen
        keep: list[Finding] = []
        for f, (old_lines, new_lines) in zip(
            chosen, _touched(ctx.source, after, chosen), strict=True
        ):
            added = _on(new, new_lines) - _on(old, old_lines)
            if not added:
                keep.append(f)
                continue
            key, line = where(f)
            refused[key] = Skipped(
                f.skill,
                _title(f),
                line,
                "ruff check reports new problems on the lines it touched: "
                + "; ".join(sorted(added)[:3]),
                False,
            )
        if len(keep) == len(chosen):
            return keep
        chosen = keep  # checked again: a finding can depend on a fix that is now left out
    return chosen


def _on(found: list[RuffFinding], lines: set[int]) -> Counter[str]:
    return Counter(text for first, last, text in found if any(first <= n <= last for n in lines))
