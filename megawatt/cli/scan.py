"""`megawatt scan`: ranked opportunities in files and folders, as text, JSON or SARIF."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING

import click

from megawatt.cli.render import error, is_terminal, note, plural, warning

if TYPE_CHECKING:
    from megawatt.scanner import ScanReport

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def _ids(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [v.strip() for v in value.split(",") if v.strip()]


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--profile",
    "profiles",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Profile file(s) to rank by [default: the configured ones].",
)
@click.option("--no-profile", is_flag=True, help="Rank by static confidence only.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "full", "concise", "json", "sarif"]),
    default="text",
    show_default=True,
    help="text: `full` on a terminal, `concise` otherwise; full: a table fitted to the width "
    "(COLUMNS or the terminal's); concise: `path:line:col: skill-id message` lines.",
)
@click.option("--select", help="Only these skill ids (comma-separated).")
@click.option("--ignore", help="Not these skill ids (comma-separated).")
@click.option(
    "--limit", type=click.IntRange(min=1), help="Show at most this many (text formats only)."
)
@click.option("--no-cache", is_flag=True, help="Neither read nor write the result cache.")
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where per-file results are cached [default: ~/.cache/megawatt].",
)
@click.option("--clear-cache", is_flag=True, help="Empty the cache before scanning.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), help="Worker processes [default: cores].")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), help="Project root.")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report here instead of standard output.",
)
def scan(
    paths: tuple[Path, ...],
    profiles: tuple[Path, ...],
    no_profile: bool,
    fmt: str,
    select: str | None,
    ignore: str | None,
    limit: int | None,
    no_cache: bool,
    cache_dir: Path | None,
    clear_cache: bool,
    jobs: int | None,
    root: Path | None,
    output: Path | None,
) -> None:  # fmt: skip
    """Find opportunities in PATHS (default: the project), ranked by the profile."""
    import gc

    from megawatt.analyzers.scan import clear_cache as clear
    from megawatt.analyzers.scan import default_cache_dir
    from megawatt.config import find_project_root, load_settings
    from megawatt.errors import MegawattError
    from megawatt.report import sarif, scan_json
    from megawatt.scanner import run_scan

    # a scan makes and drops millions of short-lived objects while the modules, the query and the
    # skills live as long as the process: fewer, cheaper collections (the workers fork from here
    # and inherit it) save ~5% of a cold scan
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 50, 50)
    targets = list(paths) or [Path.cwd()]
    base = (root or find_project_root(targets[0])).resolve()
    folder = cache_dir or default_cache_dir()
    if clear_cache:
        note(f"removed {plural(clear(folder), 'cache file')} from {folder}")
    try:
        settings, warnings = load_settings(base)
        for w in warnings:
            warning(w)
        with _progress(fmt in ("text", "full", "concise")) as progress:
            report = run_scan(
                targets, base, settings, list(profiles), _ids(select), _ids(ignore) or (),
                None if no_cache else folder, jobs, progress, use_profile=not no_profile,
            )  # fmt: skip
    except MegawattError as err:
        error(str(err))
        sys.exit(EXIT_ERROR)
    for e in report.errors:
        error(e)
    out = output.open("w", encoding="utf-8") if output else None
    try:
        if fmt == "json":
            doc = scan_json(
                report.opportunities, report.hot_functions,
                {"files": report.files, "lines": report.lines, "profiles": report.profile_sources},
                report.problems,
            )  # fmt: skip
            click.echo(json.dumps(doc, indent=2), file=out)
        elif fmt == "sarif":
            doc = sarif(report.opportunities, report.skills, base, report.problems)
            click.echo(json.dumps(doc, indent=2), file=out)
        else:
            _text(report, fmt, limit, out)
    finally:
        if out:
            out.close()
    if report.errors:
        sys.exit(EXIT_ERROR)
    # a file that is not valid Python was not (fully) analysed: never report it as clean
    sys.exit(EXIT_FINDINGS if report.opportunities or report.problems else EXIT_CLEAN)


def _text(report: ScanReport, fmt: str, limit: int | None, out: IO[str] | None) -> None:
    from megawatt.cli import scan_text
    from megawatt.cli.layout import terminal_width

    shown = report.opportunities[:limit] if limit else report.opportunities
    terminal = out is None and is_terminal()
    if fmt == "concise" or (fmt == "text" and not terminal):
        scan_text.concise(report, shown, out)
    else:
        scan_text.full(report, shown, terminal_width(), terminal, out)
    # after the report, next to the summary: the last lines a terminal shows
    for p in report.problems:
        note(scan_text.problem_line(p))
    note(scan_text.summary(report, len(shown)))


class _progress:
    """A progress bar on a terminal's stderr; nothing otherwise."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self._bar = None
        self._task = None

    def __enter__(self):  # type: ignore[no-untyped-def]
        if not self.enabled:
            return None
        from rich.progress import Progress

        self._bar = Progress(
            transient=True, console=__import__("rich.console").console.Console(stderr=True)
        )
        self._bar.start()
        self._task = self._bar.add_task("scanning", total=None)

        def update(done: int, total: int) -> None:
            assert self._bar is not None
            self._bar.update(self._task, completed=done, total=total)  # type: ignore[arg-type]

        return update

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()
