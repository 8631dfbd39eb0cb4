"""Server-initiated work-done progress: one bar per long job (recording, scanning, an AI fix)."""

from __future__ import annotations

import asyncio
import uuid

from lsprotocol import types as T

from megawatt.server.server import MegawattServer

__all__ = ["begin", "end", "report"]


async def begin(
    ls: MegawattServer, title: str, cancellable: bool = False, percentage: int | None = 0
) -> str | None:
    """The token of a new progress bar, or None for a client that shows none. A job whose length
    is unknown passes `percentage=None`: a bar stuck at 0 % until the end tells the user less
    than a bar that only says it is busy."""
    token = str(uuid.uuid4())
    try:
        await asyncio.wait_for(ls.work_done_progress.create_async(token), 5)
    except Exception:  # a client without window/workDoneProgress gets no bar
        return None
    ls.work_done_progress.begin(
        token,
        T.WorkDoneProgressBegin(title=title, percentage=percentage, cancellable=cancellable),
    )
    return token


def report(ls: MegawattServer, token: str | None, message: str) -> None:
    if token is not None:
        ls.work_done_progress.report(token, T.WorkDoneProgressReport(message=message))


def end(ls: MegawattServer, token: str | None, message: str) -> None:
    if token is not None:
        ls.work_done_progress.end(token, T.WorkDoneProgressEnd(message=message))
