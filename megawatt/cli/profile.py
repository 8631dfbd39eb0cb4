"""`megawatt profile`: show the hot functions of profiles; `run` records one; `diff` compares two."""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from megawatt.cli.group import DefaultGroup
from megawatt.cli.render import error, human_count, human_weight, note, percent, table, warning
from megawatt.errors import MegawattError
from megawatt.model import HotFunction

EXIT_OK, EXIT_ERROR = 0, 2


def _project(root: str | None) -> tuple[Path, Any]:
    from megawatt.config import find_project_root, load_settings

    base = Path(root) if root else find_project_root(Path.cwd())
    settings, warnings = load_settings(base)
    for w in warnings:
        warning(w)
    return base.resolve(), settings


def _display_path(path: str | None, recorded: str, root: Path) -> str:
    shown = path or recorded
    try:
        return os.path.relpath(shown, root) if path else recorded
    except ValueError:
        return shown


def _where(h: HotFunction, root: Path) -> str:
    shown = _display_path(h.workspace_path, h.path, root)
    line = h.workspace_line or h.line
    return f"{shown}:{line}" if line else shown


@click.group(cls=DefaultGroup, default="show")
def profile() -> None:
    """Hot functions of profiles; `run` records one, `diff` compares two."""


@profile.command("show")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option("--top", "top_n", type=click.IntRange(min=1), help="Rows to show [default: 20].")
@click.option("--sort", type=click.Choice(["self", "total"]), default="self", show_default=True)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), help="Workspace root.")
@click.option("--map", "maps", multiple=True, metavar="FROM=TO", help="Map a recorded path prefix.")
@click.option(
    "--all", "show_all", is_flag=True, help="Include built-ins, C functions and idle frames."
)
def show(
    files: tuple[Path, ...],
    top_n: int | None,
    sort: str,
    fmt: str,
    root: Path | None,
    maps: tuple[str, ...],
    show_all: bool,
) -> None:
    """Show the hot functions of FILES (default: the newest profile in each configured folder).

    Several files of one unit are merged. The format of each file is recognised by its content.
    """
    from megawatt.model import FunctionKind
    from megawatt.profiles.locate import SourceIndex, place
    from megawatt.profiles.project import load_project_profile

    try:
        base, settings = _project(str(root) if root else None)
        result = load_project_profile(base, settings, list(files), maps)
    except (MegawattError, ValueError) as err:
        error(str(err))
        sys.exit(EXIT_ERROR)
    for err in result.errors:
        error(str(err))
    for n in result.notes:
        note(n)
    if not result.files:
        error(
            "no profile given and none found in "
            + ", ".join(settings.profiles)
            + "; record one with `megawatt profile run -- python your_script.py`"
        )
        sys.exit(EXIT_ERROR)
    prof = result.profile
    if prof is None:
        sys.exit(EXIT_ERROR)
    kinds = None if show_all else (FunctionKind.USER, FunctionKind.LIBRARY)
    index = SourceIndex()
    ids = prof.ranked(sort, kinds)[: top_n or settings.top]  # type: ignore[arg-type]
    if not len(ids) and kinds is not None:
        _say_what_is_hidden(prof, sort)
    hot: list[HotFunction] = []
    names: list[str | None] = []  # the qualified name in today's source, where it is found
    for fid in ids:
        h = prof.hot_function(int(fid))
        found = place(prof, int(fid), index)
        hot.append(replace(h, workspace_line=found.line) if found else h)
        names.append(found.qualname if found else None)
    if fmt == "json":
        doc = {
            "unit": prof.unit,
            "total": prof.total_weight,
            "format": prof.format,
            "sources": [str(f) for f in result.files],
            "errors": [{"path": e.path, "message": e.reason} for e in result.errors],
            "functions": [
                {
                    "path": h.path,
                    "function": h.function,
                    "line": h.line,
                    "self": h.self_time,
                    "total": h.total_time,
                    "self_share": h.self_share,
                    "total_share": h.total_share,
                    "calls": h.calls,
                    "kind": h.kind.label,
                    "workspace_path": h.workspace_path,
                    "workspace_line": h.workspace_line,
                    "workspace_function": name,
                }
                for h, name in zip(hot, names, strict=True)
            ],
        }
        click.echo(json.dumps(doc, indent=2))
    else:
        age = ""
        if prof.recorded_at:
            minutes = (time.time() - prof.recorded_at) / 60
            age = (
                f", recorded {minutes:.0f} min ago"
                if minutes < 120
                else f", {minutes / 60:.0f} h ago"
            )
        title = (
            f"{prof.format} profile, {human_weight(prof.total_weight, prof.unit)} "
            f"{'' if prof.unit == 'seconds' else 'samples '}in all{age}"
        )
        rows = [
            [
                percent(h.self_share),
                percent(h.total_share),
                human_count(h.calls),
                name or h.function,
                _where(h, base),
            ]
            for h, name in zip(hot, names, strict=True)
        ]
        if rows:
            table(["self", "total", "calls", "function", "where"], rows, title=title,
                  right=(0, 1, 2))  # fmt: skip
        else:
            click.echo(title)
    sys.exit(EXIT_ERROR if result.errors else EXIT_OK)


def _say_what_is_hidden(prof: Any, sort: str) -> None:
    """A profile with no Python code to show: say what it holds, and that `--all` shows it."""
    from megawatt.model import FunctionKind

    hidden = prof.ranked(sort)
    if not len(hidden):
        return
    nameless = sum(1 for f in hidden if not prof.paths[int(f)])
    counts = {k: sum(1 for f in hidden if prof.kind(int(f)) == k) for k in FunctionKind}
    held = ", ".join(f"{n} {k.label}" for k, n in counts.items() if n)
    why = (
        f" ({nameless} without a file name: frames recorded without one count as native code)"
        if nameless
        else ""
    )
    note(
        "no Python code with a source file to show: "
        + (
            f"the profile's one function is {held}"
            if len(hidden) == 1
            else f"the profile's {len(hidden)} functions are {held}"
        )
        + f"{why}; `--all` shows them"
    )


@profile.command("run", context_settings={"ignore_unknown_options": True})
@click.option(
    "--profiler",
    type=click.Choice(["cprofile", "py-spy", "pyinstrument"]),
    help="Profiler to record with [default: cprofile, or [tool.megawatt] profiler].",
)
@click.option("--output-dir", type=click.Path(file_okay=False, path_type=Path))
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
def run(profiler: str | None, output_dir: Path | None, command: tuple[str, ...]) -> None:
    """Record a profile of COMMAND into .megawatt/profiles/ (write it after `--`)."""
    from megawatt.profiles.record import record

    try:
        base, settings = _project(None)
        folder = output_dir or base / ".megawatt" / "profiles"
        rec = record(list(command), profiler or settings.profiler, folder)
    except MegawattError as err:
        error(str(err))
        sys.exit(EXIT_ERROR)
    note(f"profile written to {rec.profile} ({rec.seconds:.1f} s)")
    if rec.returncode != 0:
        warning(f"the profiled command exited with {rec.returncode}")
    sys.exit(rec.returncode if rec.returncode != 0 else EXIT_OK)


@profile.command("diff")
@click.argument("before", type=click.Path(path_type=Path))
@click.argument("after", type=click.Path(path_type=Path))
@click.option("--top", "top_n", type=click.IntRange(min=1), default=20, show_default=True)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), help="Workspace root.")
@click.option("--map", "maps", multiple=True, metavar="FROM=TO", help="Map a recorded path prefix.")
def diff_cmd(
    before: Path, after: Path, top_n: int, fmt: str, root: Path | None, maps: tuple[str, ...]
) -> None:
    """Compare two profiles: each function's time and share before and after.

    Functions are matched by their path within each profile's project (the one its file is in,
    else the workspace) and their name in its source, so profiles of two checkouts pair up.
    """
    from megawatt.profiles.compare import compare

    try:
        base, settings = _project(str(root) if root else None)
        result = compare(before, after, base, maps, settings.max_profile_bytes)
    except (MegawattError, ValueError) as err:
        error(str(err))
        sys.exit(EXIT_ERROR)
    b, a = result.before, result.after
    deltas = result.functions[:top_n]
    if fmt == "json":
        doc = {
            "before": {"source": b.source, "unit": b.unit, "total": b.total_weight},
            "after": {"source": a.source, "unit": a.unit, "total": a.total_weight},
            "functions": [
                {
                    "path": d.path,
                    "function": d.function,
                    "line": d.line,
                    "in_before": d.in_before,
                    "in_after": d.in_after,
                    "before_self": d.before_self,
                    "after_self": d.after_self,
                    "before_total": d.before_total,
                    "after_total": d.after_total,
                    "before_self_share": d.before_self_share,
                    "after_self_share": d.after_self_share,
                    "before_total_share": d.before_total_share,
                    "after_total_share": d.after_total_share,
                    "total_change": d.total_change,
                }
                for d in deltas
            ],
        }
        click.echo(json.dumps(doc, indent=2))
        return
    where = [f"{d.path}:{d.line}" if d.line else d.path for d in deltas]
    shares = [
        f"{percent(d.before_total_share) if d.in_before else '-'} → "
        f"{percent(d.after_total_share) if d.in_after else '-'}"
        for d in deltas
    ]
    if not result.comparable:
        title = (
            f"before {human_weight(b.total_weight, b.unit)} {b.unit}, after "
            f"{human_weight(a.total_weight, a.unit)} {a.unit}: different units, so only shares "
            "compare"
        )
        rows = [[s, d.function, w] for d, s, w in zip(deltas, shares, where, strict=True)]
        table(["total share", "function", "where"], rows, title=title)
        return
    unit = b.unit

    def signed(value: float) -> str:
        return ("+" if value > 0 else "-" if value < 0 else "±") + human_weight(abs(value), unit)

    change = a.total_weight - b.total_weight
    ratio = f" ({change / b.total_weight:+.1%})" if b.total_weight else ""
    title = (
        f"before {human_weight(b.total_weight, unit)}, after {human_weight(a.total_weight, unit)}"
        f" in all{'' if unit == 'seconds' else ' samples'}: {signed(change)}{ratio}"
    )
    rows = [
        [human_weight(d.before_total, unit) if d.in_before else "-",
         human_weight(d.after_total, unit) if d.in_after else "-",
         signed(d.time_change), s, d.function, w]
        for d, s, w in zip(deltas, shares, where, strict=True)
    ]  # fmt: skip
    table(["before", "after", "change", "share", "function", "where"], rows, title=title,
          right=(0, 1, 2, 3))  # fmt: skip
