"""`megawatt demo`: the whole loop on the bundled example, in a scratch folder.

It copies the example application into a project folder (temporary unless `--keep DIR`),
records a cProfile of it, scans it, and prints the hot functions, the ranked opportunities, a
preview of the top fixes, and the exact commands that apply them.
"""

from __future__ import annotations

import contextlib
import difflib
import shutil
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import click

from megawatt.cli.layout import Column, layout, terminal_width, use_color
from megawatt.cli.render import is_terminal, note, plural

if TYPE_CHECKING:
    from megawatt.model import Finding
    from megawatt.scanner import ScanReport


@click.command()
@click.option(
    "--top",
    "top_n",
    type=click.IntRange(min=1),
    default=3,
    show_default=True,
    help="Fix previews to show.",
)
@click.option(
    "--keep",
    type=click.Path(file_okay=False, path_type=Path),
    help="Build the demo project in this folder and keep it [default: a temporary folder, "
    "deleted at the end].",
)
def demo(top_n: int, keep: Path | None) -> None:
    """Profile the bundled example, then show its hot spots and how to fix them."""
    import megawatt.examples as examples
    from megawatt.analyzers.context import FileContext
    from megawatt.config import Settings
    from megawatt.fixes.deterministic import with_fixes
    from megawatt.fixes.edits import apply_edits
    from megawatt.fixes.fixall import fix_source
    from megawatt.profiles.record import record
    from megawatt.scanner import run_scan

    scratch = (
        contextlib.nullcontext(str(keep))
        if keep
        else tempfile.TemporaryDirectory(prefix="megawatt-demo-")
    )
    with scratch as folder:
        project = Path(folder).resolve()
        project.mkdir(parents=True, exist_ok=True)
        app = project / "shop.py"
        shutil.copy(Path(examples.__file__).with_name("shop.py"), app)
        (project / "pyproject.toml").write_text("[tool.megawatt]\n")
        note(f"1. recording a cProfile of the example ({app.name}) …")
        rec = record(
            [sys.executable, str(app)],
            "cprofile",
            project / ".megawatt" / "profiles",
            cwd=project,
            quiet=True,
        )
        note(f"   {rec.profile.name}, {rec.seconds:.1f} s\n2. scanning and ranking …\n")
        report = run_scan([app], project, Settings(), [rec.profile], cache_dir=None)
        _tables(report)
        source = app.read_bytes()
        ctx = FileContext(str(app), source)
        fixable = [
            f for f in with_fixes(ctx, [o.finding for o in report.opportunities], report.skills)
            if f.fix is not None
        ]  # fmt: skip
        previews = fixable[:top_n]
        for n, f in enumerate(previews, 1):
            assert f.fix is not None
            after = apply_edits(source, f.fix.edits).decode()
            _paragraph(f"Fix {n}: {f.fix.title}", blank_before=True)
            if not f.fix.safe:
                _paragraph(f"unsafe, applied only with --unsafe: {f.fix.note}", "  ")
            diff = difflib.unified_diff(
                source.decode().splitlines(keepends=True), after.splitlines(keepends=True),
                "shop.py", "shop.py (fixed)", n=1,
            )  # fmt: skip
            click.echo("".join(diff), nl=False)
        # what the two commands would really do: fix-all works in rounds, so count its result
        safe = len(fix_source(str(app), source, report.skills).applied)
        every = len(fix_source(str(app), source, report.skills, unsafe=True).applied)
        note(_ending(report, fixable, previews, safe, every, project if keep else None))


def _tables(report: ScanReport) -> None:
    width = terminal_width()
    color = is_terminal() and use_color()

    def show(title: str, columns: list[Column], rows: list[list[str]]) -> None:
        click.echo(click.style(title, bold=True) if color else title, color=color)
        for line in layout(columns, rows, width, color):
            click.echo(line, color=color)

    rows = [
        [f"{h.total_share:.1%}", f"{h.self_share:.1%}", f"{h.calls:,}" if h.calls else "-",
         f"{h.function} (line {h.workspace_line or h.line})"]
        for h in report.hot_functions[:8]
    ]  # fmt: skip
    show("Hot functions", [Column("total", right=True), Column("self", right=True),
                           Column("calls", right=True), Column("function")], rows)  # fmt: skip
    click.echo()
    rows = [
        [f"{o.estimated_savings:.1%}" if o.estimated_savings else "-", f"{o.finding.span.line}",
         o.skill, o.finding.function or "<module>",
         # the figure with what it was read from
         f"{o.finding.message} [{o.evidence}]" if o.evidence else o.finding.message]
        for o in report.opportunities
    ]  # fmt: skip
    show("Opportunities, ranked by estimated savings",
         [Column("saves", right=True), Column("line", right=True),
          Column("skill", style={"fg": "cyan"}), Column("function"), Column("what", wrap=True)],
         rows)  # fmt: skip


def _paragraph(text: str, indent: str = "", blank_before: bool = False) -> None:
    """`text` wrapped to the terminal at word boundaries, so no id or path is broken."""
    if blank_before:
        click.echo()
    click.echo(_wrapped(text, indent, hang="  "))


def _wrapped(text: str, indent: str = "", hang: str = "") -> str:
    return textwrap.fill(
        text, terminal_width(), initial_indent=indent, subsequent_indent=indent + hang,
        break_long_words=False, break_on_hyphens=False,
    )  # fmt: skip


def _which(previews: list[Finding], safe: bool) -> str:
    numbers = [str(n) for n, f in enumerate(previews, 1) if f.fix and f.fix.safe == safe]
    if not numbers:
        return ""
    listed = numbers[0] if len(numbers) == 1 else ", ".join(numbers[:-1]) + f" and {numbers[-1]}"
    return f"Fix {listed} above"


def _ending(
    report: ScanReport,
    fixable: list[Finding],
    previews: list[Finding],
    safe: int,
    every: int,
    kept: Path | None,
) -> str:
    target = str(kept / "shop.py") if kept else "DIR/shop.py"
    safe_shown, unsafe_shown = _which(previews, True), _which(previews, False)
    safe_what = f"the {plural(safe, 'safe fix', 'safe fixes')}"
    safe_what += f" ({safe_shown}):" if safe_shown else ":"
    unsafe_what = f"those and the {plural(every - safe, 'unsafe one', 'unsafe ones')} ("
    unsafe_what += f"{unsafe_shown}; " if unsafe_shown else ""
    unsafe_what += "each says why it is unsafe):"
    lines = [
        "",
        _wrapped(
            f"{plural(len(report.opportunities), 'opportunity', 'opportunities')}, "
            f"{len(fixable)} with a deterministic fix. To apply them:"
        ),
        _wrapped(safe_what, "  "),
        f"    megawatt fix --write {target}",
        _wrapped(unsafe_what, "  "),
        f"    megawatt fix --write --unsafe {target}",
        _wrapped("`megawatt skills show ID` gives the expertise behind each skill."),
    ]
    if kept:
        lines.append(_wrapped(f"The demo project is kept in {kept}."))
    else:
        lines.append(
            _wrapped(
                "The demo project (shop.py, pyproject.toml, and the profile in "
                ".megawatt/profiles) was a temporary folder and is deleted now; "
                "`megawatt demo --keep DIR` builds it in DIR and keeps it, for the commands above."
            )
        )
    return "\n".join(lines)
