"""The `megawatt` command line. Each command lives in its own module and imports what it needs
only when it runs, so that `megawatt --help` and a one-file scan start fast."""

from __future__ import annotations

import os
import sys

import click

from megawatt import __version__
from megawatt.cli.group import LazyGroup

COMMANDS = {
    "profile": "megawatt.cli.profile:profile",
    "scan": "megawatt.cli.scan:scan",
    "fix": "megawatt.cli.fix:fix",
    "skills": "megawatt.cli.skills:skills",
    "demo": "megawatt.cli.demo:demo",
    "serve": "megawatt.cli.serve:serve",
}


@click.group(
    cls=LazyGroup, commands=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.version_option(__version__, prog_name="megawatt")
def cli() -> None:
    """Megawatt finds and fixes the Python code that burns compute."""


def main(argv: list[str] | None = None) -> int:
    try:
        cli.main(args=argv, prog_name="megawatt", standalone_mode=True)
    except SystemExit as exit_:
        code = exit_.code
        return code if isinstance(code, int) else (0 if code is None else 2)
    except Exception as err:  # a bug of ours: say so plainly, trace only on request
        if os.environ.get("MEGAWATT_DEBUG"):
            raise
        click.echo(
            f"megawatt: internal error: {type(err).__name__}: {err}\n"
            "Set MEGAWATT_DEBUG=1 for the traceback, and please report it.",
            err=True,
        )
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
