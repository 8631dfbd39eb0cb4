"""Deterministic fixes: a skill's rewrite, checked to parse and compile before it is offered."""

from __future__ import annotations

import logging
import warnings
from dataclasses import replace

from megawatt.analyzers.context import FileContext
from megawatt.analyzers.parsing import error_nodes, parse
from megawatt.analyzers.syntax import compile_problem
from megawatt.fixes.edits import EditConflict, apply_edits
from megawatt.model import Finding, Fix
from megawatt.skills import SkillSet, rewrite_for

log = logging.getLogger(__name__)


def _error_count(source: bytes) -> int:
    return len(error_nodes(parse(source).root_node))


def check(ctx: FileContext, fix: Fix) -> str | None:
    """Why `fix` is not safe to offer, or None when the result parses and compiles."""
    try:
        after = apply_edits(ctx.source, fix.edits)
    except EditConflict as err:
        return str(err)
    before_errors = _error_count(ctx.source)
    if _error_count(after) > before_errors:
        return "the result does not parse"
    if before_errors == 0:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                compile(after, ctx.path, "exec", dont_inherit=True)
        except (SyntaxError, ValueError) as err:
            # errors only the compiler sees (`return` outside a function) may be the file's own
            original = compile_problem(ctx.path, ctx.source)
            if original is not None:
                return (
                    f"the file does not compile as it is ({original.message}, "
                    f"line {original.line}), so the result cannot be checked"
                )
            return f"the result does not compile: {err}"
    return None


def fix_for(
    ctx: FileContext, finding: Finding, skills: SkillSet, verify: bool = True
) -> Fix | None:
    skill = skills.for_trigger(finding.skill)
    if skill is None or not skill.meta.fix.deterministic:
        return None
    rewrite = rewrite_for(skill)
    if rewrite is None:
        return None
    try:
        fix = rewrite(ctx, finding)
    except Exception as err:  # a rewrite bug costs one fix, never the analysis
        log.warning(
            "%s rewrite failed at %s:%s: %s", finding.skill, ctx.path, finding.span.line, err
        )
        return None
    if fix is None:
        return None
    problem = check(ctx, fix) if verify else None
    if problem is not None:
        log.warning(
            "%s fix at %s:%s dropped: %s", finding.skill, ctx.path, finding.span.line, problem
        )
        return None
    return fix


def with_fixes(
    ctx: FileContext, findings: list[Finding], skills: SkillSet, verify: bool = True
) -> list[Finding]:
    return [replace(f, fix=fix_for(ctx, f, skills, verify)) for f in findings]
