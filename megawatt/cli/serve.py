"""`megawatt serve`: the language server over stdio."""

from __future__ import annotations

import click


@click.command()
def serve() -> None:
    """Run the language server on stdin/stdout (for editors)."""
    from megawatt.server.server import main

    main()
