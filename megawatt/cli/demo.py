"""`megawatt demo`: the whole loop on the bundled example, in a scratch folder.

It copies the example application into a temporary project, records a cProfile of it, scans it,
and prints the hot functions, the ranked opportunities and a preview of the top fixes.
"""

from __future__ import annotations

import difflib
import shutil
import sys
import tempfile
from pathlib import Path

import click

from megawatt.cli.render import note, table


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
    help="Build the demo project here and keep it.",
)
def demo(top_n: int, keep: Path | None) -> None:
    """Profile the bundled example, then show its hot spots and how to fix them."""
    import megawatt.examples as examples
    from megawatt.analyzers.context import FileContext
    from megawatt.config import Settings
    from megawatt.fixes.deterministic import with_fixes
    from megawatt.fixes.edits import apply_edits
    from megawatt.profiles.record import record
    from megawatt.scanner import run_scan

    with tempfile.TemporaryDirectory(prefix="megawatt-demo-") as tmp:
        project = (keep or Path(tmp)).resolve()
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
        rows = [
            [f"{h.total_share:.1%}", f"{h.self_share:.1%}", f"{h.calls:,}" if h.calls else "-",
             f"{h.function} (line {h.workspace_line or h.line})"]
            for h in report.hot_functions[:8]
        ]  # fmt: skip
        table(["total", "self", "calls", "function"], rows, title="Hot functions", right=(0, 1, 2))
        click.echo()
        rows = [
            [f"{o.estimated_savings:.1%}" if o.estimated_savings else "-", o.skill,
             f"{o.finding.span.line}", o.finding.function or "<module>", o.finding.message]
            for o in report.opportunities
        ]  # fmt: skip
        table(["saves", "skill", "line", "function", "what"], rows,
              title="Opportunities, ranked by estimated savings", right=(0, 2))  # fmt: skip
        source = app.read_bytes()
        ctx = FileContext(str(app), source)
        fixable = with_fixes(ctx, [o.finding for o in report.opportunities], report.skills)
        shown = 0
        for f in fixable:
            if f.fix is None or shown >= top_n:
                continue
            shown += 1
            after = apply_edits(source, f.fix.edits).decode()
            click.echo(
                f"\nFix {shown}: {f.fix.title}" + ("" if f.fix.safe else f" (unsafe: {f.fix.note})")
            )
            diff = difflib.unified_diff(
                source.decode().splitlines(keepends=True), after.splitlines(keepends=True),
                "shop.py", "shop.py (fixed)", n=1,
            )  # fmt: skip
            click.echo("".join(diff), nl=False)
        note(
            f"\n{len(report.opportunities)} opportunities, {sum(1 for f in fixable if f.fix)} with "
            "a deterministic fix. Apply them with `megawatt fix --write PATH`; "
            "see `megawatt skills show ID` for the expertise behind each."
        )
