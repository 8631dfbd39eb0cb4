"""`megawatt fix`: apply deterministic rewrites; preview by default, `--write` to change files."""

from __future__ import annotations

import difflib
import os
import sys
from pathlib import Path

import click

from megawatt.cli.render import error, note, plural

EXIT_OK, EXIT_PENDING, EXIT_ERROR = 0, 1, 2


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--select", help="Only these skill ids (comma-separated).")
@click.option("--ignore", help="Not these skill ids (comma-separated).")
@click.option("--diff", "mode", flag_value="diff", default=True, help="Show the changes (default).")
@click.option("--write", "mode", flag_value="write", help="Write the changes to the files.")
@click.option("--unsafe", is_flag=True, help="Also apply fixes marked unsafe (each says why).")
@click.option(
    "--ai", is_flag=True, help="Ask Claude for a validated fix of the opportunity at --line."
)
@click.option(
    "--line", type=click.IntRange(min=1), help="Only the opportunities on this line (one PATH)."
)
@click.option("--skill", help="Only this skill's opportunity (with --line).")
@click.option("--fresh", is_flag=True, help="With --ai: a new candidate, not the cached one.")
@click.option("--last-request", is_flag=True, help="Print the last request sent to the model.")
def fix(
    paths: tuple[Path, ...],
    select: str | None,
    ignore: str | None,
    mode: str,
    unsafe: bool,
    ai: bool,
    line: int | None,
    skill: str | None,
    fresh: bool,
    last_request: bool,
) -> None:
    """Apply the safe deterministic fixes in PATHS. Files are written only with --write, and
    only when the result still parses and compiles; a fix that would add a ruff finding on the
    lines it touches (the project's ruff configuration) is left out and says which. The diff
    names files from the project root (`git apply` or `patch -p1` there). --line N (and
    --skill ID) fixes only the opportunities on that line of one PATH. Unsafe fixes are
    listed with the reason; --unsafe applies them too.

    With --ai, PATH and --line name one opportunity; Claude proposes a fix, which is offered
    only after it parses, compiles, keeps ruff's style, removes the opportunity, stays inside
    the function, and passes the tests that exercise it (speed measured). Code is sent only when
    [tool.megawatt.llm] enabled = true; the key comes from ANTHROPIC_API_KEY."""
    from megawatt.cli.fix_ai import fix_with_ai, show_last_request

    if last_request:
        show_last_request()
    if not paths:
        raise click.UsageError("give at least one PATH")
    if ai:
        if len(paths) != 1 or line is None:
            raise click.UsageError("--ai takes one PATH and --line N")
        fix_with_ai(paths[0], line, skill, mode, fresh)
    elif fresh:
        raise click.UsageError("--fresh goes with --ai")
    elif skill is not None and line is None:
        raise click.UsageError("--skill goes with --line")
    elif line is not None and len(paths) != 1:
        raise click.UsageError("--line takes one PATH")
    if skill is not None:  # one opportunity: its skill alone, whatever --select says
        select = skill
    from megawatt.analyzers.files import discover
    from megawatt.cli.scan_text import shown_path
    from megawatt.config import find_project_root, load_settings
    from megawatt.errors import MegawattError
    from megawatt.fixes.fixall import fix_source
    from megawatt.fixes.guardrails import find_ruff
    from megawatt.scanner import check_ids
    from megawatt.skills import load_skills

    sel = [s.strip() for s in select.split(",")] if select else None
    ign = [s.strip() for s in ignore.split(",")] if ignore else []
    try:
        check_ids(sel, "--select")
        check_ids(ign, "--ignore")
        root = find_project_root(paths[0])
        settings, _ = load_settings(root)
    except MegawattError as err:
        error(str(err))
        sys.exit(EXIT_ERROR)
    skills = load_skills(root)
    files, errors = discover(list(paths), settings.exclude, root)
    for e in errors:
        error(e)
    ruff = find_ruff()
    if ruff is None:
        note("ruff not found: fixes are not checked for new ruff findings")
    fixed_files = 0
    fixes = 0
    held_back = 0
    for path in files:
        try:
            source = path.read_bytes()
        except OSError as err:
            error(f"{path}: cannot read ({err.strerror or err})")
            errors.append(str(path))
            continue
        outcome = fix_source(
            str(path), source, skills, sel, ign, unsafe, ruff=ruff, root=root, line=line
        )
        shown = shown_path(str(path))
        for skipped in outcome.skipped:
            why = "unsafe" if skipped.unsafe else "refused"
            note(f"{shown}:{skipped.line}: {skipped.skill}: not applied ({why}): {skipped.reason}")
            held_back += skipped.unsafe
        if outcome.original_problem is not None:
            p = outcome.original_problem
            error(
                f"{shown}:{p.line}:{p.column}: no fix attempted: the file is not valid Python "
                f"as it is ({p.label}: {p.message})"
            )
            errors.append(str(path))
            continue
        if not outcome.changed:
            continue
        if outcome.problem:
            error(f"{shown}: not fixed: the result {outcome.problem}")
            errors.append(str(path))
            continue
        fixes += len(outcome.applied)
        fixed_files += 1
        if mode == "write":
            path.write_bytes(outcome.after)
            for a in outcome.applied:
                note(f"{shown}:{a.line}: {a.title}")
        else:
            click.echo(patch(outcome.before, outcome.after, patch_name(path, root)), nl=False)
    verb = "applied" if mode == "write" else "would apply"
    note(f"{verb} {plural(fixes, 'fix', 'fixes')} in {plural(fixed_files, 'file')}")
    if held_back:
        note(
            f"{plural(held_back, 'unsafe fix', 'unsafe fixes')} not applied: add --unsafe to "
            "apply them too, after reading why each is unsafe (above)"
        )
    if errors:
        sys.exit(EXIT_ERROR)
    sys.exit(EXIT_PENDING if mode == "diff" and fixes else EXIT_OK)


def patch_name(path: Path, root: Path) -> str:
    """The file's path in a patch: relative to the project root, with forward slashes, as
    `git apply` and `patch -p1` (run at the root) take it after the `a/` and `b/`."""
    full = path.resolve()
    try:
        return full.relative_to(root.resolve()).as_posix()
    except ValueError:  # outside the project: relative to where the command runs, if it can be
        rel = os.path.relpath(full, Path.cwd())
        return Path(rel).as_posix() if not rel.startswith("..") else full.as_posix()


def patch(before: bytes, after: bytes, name: str) -> str:
    """A unified diff of one file that `git apply` and `patch -p1` accept, including a last line
    without a newline (which needs the `\\ No newline at end of file` marker)."""
    old, new = _lines(before), _lines(after)
    out: list[str] = []
    diff = difflib.unified_diff(old, new, fromfile=f"a/{name}", tofile=f"b/{name}")
    for i, line in enumerate(diff):
        if line.endswith("\n"):
            out.append(line)
        elif i < 2:  # the file names
            out.append(line + "\n")
        else:
            out.append(line + "\n\\ No newline at end of file\n")
    return "".join(out)


def _lines(source: bytes) -> list[str]:
    # split at newlines only: str.splitlines also splits at form feeds and other separators
    # that a patch tool reads as part of the line
    parts = source.decode("utf-8", "replace").split("\n")
    return [p + "\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])
