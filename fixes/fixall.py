"""Apply every deterministic fix in a file: rounds of non-overlapping fixes, re-analysing between
rounds (a fix can make room for another), and a final check that the result parses and compiles.
A file that is not valid Python to begin with is left alone, and the outcome says where it fails:
a fix is never blamed for an error the file already had."""

from __future__ import annotations

import warnings
from collections.abc import Collection
from dataclasses import dataclass, field

from megawatt.analyzers.context import FileContext
from megawatt.analyzers.engine import analyze_context
from megawatt.analyzers.syntax import SourceProblem, compile_problem, source_problem
from megawatt.fixes.deterministic import with_fixes
from megawatt.fixes.edits import apply_edits, overlaps
from megawatt.model import Edit
from megawatt.skills import SkillSet

MAX_ROUNDS = 6


@dataclass
class Applied:
    skill: str
    title: str
    line: int


@dataclass
class FixOutcome:
    path: str
    before: bytes
    after: bytes
    applied: list[Applied] = field(default_factory=list)
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
) -> FixOutcome:
    outcome = FixOutcome(path, source, source)
    current = source
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
        applied: list[Applied] = []
        for f in findings:
            if f.fix is None or (not f.fix.safe and not unsafe):
                continue
            if overlaps(f.fix.edits, taken):
                continue  # picked up in the next round, against the new text
            taken.extend(f.fix.edits)
            applied.append(Applied(f.skill, f.fix.title, f.span.line))
        if not taken:
            break
        current = apply_edits(current, taken)
        outcome.applied.extend(applied)
    outcome.after = current
    if outcome.changed:
        outcome.problem = compiles(path, current)
    return outcome
