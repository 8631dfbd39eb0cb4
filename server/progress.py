"""Server-initiated work-done progress: one bar per long job (recording, scanning, an AI fix)."""

from __future__ import annotations

import asyncio
import uuid

from lsprotocol import types as T

from megawatt.server.server import MegawattServer

__all__ = ["begin", "end"]


async def begin(ls: MegawattServer, title: str, cancellable: bool = False) -> str | None:
    """The token of a new progress bar, or None for a client that shows none."""
    token = str(uuid.uuid4())
    try:
        await asyncio.wait_for(ls.work_done_progress.create_async(token), 5)
    except Exception:  # a client without window/workDoneProgress gets no bar
        return None
    ls.work_done_progress.begin(
        token, T.WorkDoneProgressBegin(title=title, percentage=0, cancellable=cancellable)
    )
    return token


def end(ls: MegawattServer, token: str | None, message: str) -> None:
    if token is not None:
        ls.work_done_progress.end(token, T.WorkDoneProgressEnd(message=message))
