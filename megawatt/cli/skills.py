"""`megawatt skills list|show ID`: the expertise behind each opportunity class."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from megawatt.cli.layout import Column, layout, terminal_width, use_color
from megawatt.cli.render import error, is_terminal


@click.group()
def skills() -> None:
    """List the skills, or show one."""


def _load(root: Path | None):  # type: ignore[no-untyped-def]
    from megawatt.config import find_project_root
    from megawatt.skills import load_skills

    found = load_skills(root or find_project_root(Path.cwd()))
    for e in found.errors:
        error(e)
    return found


@skills.command("list")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path))
def list_(root: Path | None) -> None:
    """Every skill: id, expected gain, whether a deterministic fix exists, where it comes from."""
    found = _load(root)
    rows = [
        [s.id, f"{s.expected_gain:.0%}", "yes" if s.rewrite_path else "-", s.origin,
         s.meta.description.split(". ")[0]]
        for s in sorted(found.skills.values(), key=lambda s: s.id)
    ]  # fmt: skip
    columns = [Column("skill", style={"fg": "cyan"}), Column("gain", right=True),
               Column("auto-fix"), Column("origin"), Column("what", wrap=True)]  # fmt: skip
    color = is_terminal() and use_color()
    for line in layout(columns, rows, terminal_width(), color):
        click.echo(line, color=color)
    sys.exit(2 if found.errors else 0)


@skills.command("show")
@click.argument("skill_id")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path))
def show(skill_id: str, root: Path | None) -> None:
    """The whole SKILL.md of SKILL_ID."""
    found = _load(root)
    skill = found.get(skill_id)
    if skill is None:
        error(f"no skill {skill_id!r}; known: {', '.join(sorted(found.skills))}")
        sys.exit(2)
    click.echo(skill.markdown() if skill.origin == "builtin" or skill.meta.mode == "override"
               else skill.body)  # fmt: skip
