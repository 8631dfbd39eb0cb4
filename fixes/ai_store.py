"""Where AI fixes keep their files: the validated-fix cache and the last request sent.

Both can hold source code, so the folder is the user's alone (0700) and every file 0600, written
whole (a temporary file renamed over the old one), so a reader never sees half a request.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["LAST_REQUEST", "cache_dir", "last_request", "remember_request", "write_private"]

LAST_REQUEST = "last-request.json"


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "megawatt" / "ai"


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` atomically, readable by the user only; raises OSError."""
    folder = path.parent
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    # mkdir's mode does not apply to a folder that already existed (nor through the umask)
    os.chmod(folder, 0o700)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:  # mkstemp creates it 0600
            out.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def remember_request(request: dict[str, Any]) -> None:
    """Keep `request` (exactly as it is about to be sent) as the last request."""
    # showing the last request is a convenience; the fix does not depend on it
    with contextlib.suppress(OSError):
        write_private(cache_dir() / LAST_REQUEST, json.dumps(request, indent=2))


def last_request() -> dict[str, Any] | None:
    """The last request sent to the model, exactly as sent (redacted), or None."""
    try:
        data = json.loads((cache_dir() / LAST_REQUEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
