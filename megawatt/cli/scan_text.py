"""`megawatt scan`'s text reports.

`concise`: one `path:line:col: skill-id message` line per opportunity, the form compilers and ruff
print and editors' quickfix lists, grep and CI logs read; the default when stdout is not a
terminal. `full`: the ranked table for a person at a terminal, laid out for its width.
Paths are relative to the current directory (where a user's tools resolve them) when under it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import IO

import click

from megawatt.analyzers.syntax import SourceProblem
from megawatt.cli.layout import Column, layout, use_color
from megawatt.cli.render import percent, plural
from megawatt.model import HotFunction, Opportunity
from megawatt.scanner import ScanReport


def shown_path(path: str, cwd: Path | None = None) -> str:
    base = str(cwd or Path.cwd())
    try:
        rel = os.path.relpath(path, base)
    except ValueError:  # another drive on Windows
        return path
    return path if rel.startswith("..") else rel


def _saves(share: float) -> str:
    # a figure that rounds to nothing still ranks above code the profile never saw
    return "<0.1%" if 0 < share < 0.0005 else percent(share)


def _profiled(shown: Sequence[Opportunity]) -> bool:
    return any(o.function_share is not None for o in shown)


def _where(o: Opportunity) -> str:
    f = o.finding
    return f"{shown_path(f.path)}:{f.span.line}:{f.span.column + 1}"


def _hot_where(h: HotFunction) -> str:
    return f"{shown_path(h.workspace_path or h.path)}:{h.workspace_line or h.line}"


def concise(report: ScanReport, shown: Sequence[Opportunity], out: IO[str] | None) -> None:
    for h in report.hot_functions[:10]:
        click.echo(
            f"{_hot_where(h)}: hot: {h.function} {percent(h.total_share)} total, "
            f"{percent(h.self_share)} self",
            file=out,
        )
    for o in shown:
        f = o.finding
        saves = f" (saves {_saves(o.estimated_savings)})" if o.estimated_savings > 0 else ""
        if o.evidence:  # the figure with what it was read from
            saves = f" (saves {_saves(o.estimated_savings)}: {o.evidence})"
        click.echo(f"{_where(o)}: {f.skill} {f.message}{saves}", file=out)


def full(
    report: ScanReport,
    shown: Sequence[Opportunity],
    width: int,
    terminal: bool,
    out: IO[str] | None,
) -> None:
    color = terminal and use_color()

    def title(text: str) -> None:
        click.echo(click.style(text, bold=True) if color else text, file=out, color=color)

    def lines(columns: list[Column], rows: list[list[str]]) -> None:
        for line in layout(columns, rows, width, color):
            click.echo(line, file=out, color=color)

    bold = {"bold": True}
    if report.hot_functions:
        title("Hot functions")
        rows = [
            [percent(h.total_share), percent(h.self_share), _hot_where(h), h.function]
            for h in report.hot_functions[:10]
        ]
        lines([Column("total", right=True), Column("self", right=True), Column("where", style=bold),
               Column("function")], rows)  # fmt: skip
        click.echo(file=out)
    if not shown:
        return
    profiled = _profiled(shown)
    rows = []
    for o in shown:
        figure = (
            _saves(o.estimated_savings) if profiled and o.estimated_savings > 0
            else ("-" if profiled else f"{o.score:.2f}")
        )  # fmt: skip
        # the estimate's evidence follows the message: a figure the reader can check
        message = f"{o.finding.message} [{o.evidence}]" if o.evidence else o.finding.message
        rows.append([figure, _where(o), o.skill, o.finding.function or "<module>",
                     message])  # fmt: skip
    title("Opportunities, best first")
    lines([Column("saves" if profiled else "score", right=True), Column("where", style=bold),
           Column("skill", style={"fg": "cyan"}), Column("function"),
           Column("message", wrap=True)], rows)  # fmt: skip


def problem_line(p: SourceProblem) -> str:
    return f"{shown_path(p.path)}:{p.line}:{p.column}: {p.label}: {p.message}"


def summary(report: ScanReport, shown: int) -> str:
    more = len(report.opportunities) - shown
    text = (
        f"{plural(len(report.opportunities), 'opportunity', 'opportunities')} in "
        f"{plural(report.files, 'file')} ({plural(report.lines, 'line')}) "
        f"in {report.seconds:.2f} s"
        + (f", {report.cached:,} from cache" if report.cached else "")
        + (f"; {more:,} more not shown (--limit)" if more > 0 else "")
    )
    if report.problems:
        files = len({p.path for p in report.problems})
        text += (
            f"; {plural(files, 'file')} not fully analysed "
            f"({'it is' if files == 1 else 'they are'} not valid Python, see above)"
        )
    return text
