"""`megawatt fix PATH --line N --ai`: one AI fix through the same pipeline as the editor, with
the phases as progress and the validated diff (or the reason there is none)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from megawatt.cli.render import error, note

EXIT_OK, EXIT_PENDING, EXIT_ERROR = 0, 1, 2


def show_last_request() -> None:
    from megawatt.fixes.ai import last_request

    sent = last_request()
    if sent is None:
        error("no request has been sent to a model yet")
        sys.exit(EXIT_ERROR)
    click.echo(json.dumps(sent, indent=2))
    sys.exit(EXIT_OK)


def fix_with_ai(path: Path, line: int, skill: str | None, mode: str, fresh: bool) -> None:
    from megawatt.analyzers.engine import analyze
    from megawatt.analyzers.syntax import compile_problem, decode_problem
    from megawatt.fixes.ai import resolve_ai_fix
    from megawatt.tools import ToolContext

    try:
        source = path.read_bytes()
    except OSError as err:
        error(f"{path}: cannot read ({err.strerror or err})")
        sys.exit(EXIT_ERROR)
    # the pipeline judges a candidate by compiling it: against a broken original it would blame
    # the model, after spending a request on it
    broken = decode_problem(str(path), source) or compile_problem(str(path), source)
    if broken is not None:
        error(
            f"{path}:{broken.line}:{broken.column}: no AI fix attempted: the file is not valid "
            f"Python as it is ({broken.label}: {broken.message})"
        )
        sys.exit(EXIT_ERROR)
    ctx = ToolContext.for_root(_root(path))
    for problem in ctx.problems:
        note(problem)
    found = [
        f
        for f in analyze(str(path), source).findings
        if (skill is None or f.skill == skill) and f.span.line <= line <= f.span.end_line
    ]
    if not found:
        what = f"{skill} " if skill else ""
        error(f"{path}:{line}: no {what}opportunity on this line (see `megawatt scan {path}`)")
        sys.exit(EXIT_ERROR)
    if len(found) > 1 and skill is None:
        ids = ", ".join(sorted({f.skill for f in found}))
        error(f"{path}:{line}: several opportunities ({ids}); choose one with --skill")
        sys.exit(EXIT_ERROR)
    finding = found[0]

    def progress(message: str) -> None:
        note(f"… {message}")

    outcome = resolve_ai_fix(
        ctx, path.resolve(), source, finding, ctx.settings.llm, fresh=fresh, progress=progress
    )
    if not outcome.ok or outcome.source is None:
        error(f"{path}:{finding.span.line}: no AI fix offered: {outcome.reason}")
        sys.exit(EXIT_ERROR)
    if outcome.cached:
        note("(cached: validated earlier against the same sources and tests)")
    for line in (outcome.report or outcome.title).splitlines():
        note(line)
    if mode == "write":
        if path.read_bytes() != source:
            error(f"{path}: changed while the fix was made; not written")
            sys.exit(EXIT_ERROR)
        path.write_text(outcome.source, encoding="utf-8")
        note(f"wrote {path}")
        sys.exit(EXIT_OK)
    from megawatt.cli.fix import patch, patch_name

    # the same patch form as the deterministic fixes': `git apply` and `patch -p1` take it
    name = patch_name(path, _root(path))
    click.echo(patch(source, outcome.source.encode("utf-8"), name), nl=False)
    sys.exit(EXIT_PENDING)


def _root(path: Path) -> Path:
    from megawatt.config import find_project_root

    return find_project_root(path)
