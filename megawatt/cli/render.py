"""Terminal output: rich tables on a terminal, plain aligned text otherwise; errors on stderr."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click


def is_terminal() -> bool:
    return sys.stdout.isatty()


def human_count(n: int | None) -> str:
    if n is None:
        return "-"
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if n >= limit:
            return f"{n / limit:.1f}{suffix}"
    return str(n)


def human_weight(value: float, unit: str) -> str:
    if unit != "seconds":
        return f"{value:,.0f}"
    if value >= 1:
        return f"{value:.2f} s"
    if value >= 1e-3:
        return f"{value * 1e3:.1f} ms"
    return f"{value * 1e6:.0f} µs"


def plural(n: int, word: str, many: str | None = None) -> str:
    """`1 file`, `3 files`, `2 opportunities`: the count and the word that agrees with it."""
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def percent(share: float) -> str:
    return f"{share * 100:.1f}%"


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    title: str | None = None,
    right: Sequence[int] = (),
) -> None:
    if is_terminal():
        from rich.console import Console
        from rich.table import Table

        t = Table(title=title, title_justify="left")
        for i, h in enumerate(headers):
            t.add_column(h, justify="right" if i in right else "left", overflow="fold")
        for row in rows:
            t.add_row(*row)
        Console().print(t)
        return
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    if title:
        click.echo(title)
    click.echo(line(headers))
    for row in rows:
        click.echo(line(row))


def error(message: str) -> None:
    click.echo(f"error: {message}", err=True)


def warning(message: str) -> None:
    click.echo(f"warning: {message}", err=True)


def note(message: str) -> None:
    click.echo(message, err=True)
