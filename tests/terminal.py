"""Run the real CLI on a pseudo-terminal of a given size, as a user's terminal runs it."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import termios
from dataclasses import dataclass
from pathlib import Path

from tests.test_cli_profile import MEGAWATT

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@dataclass
class Screen:
    text: str  # what the terminal received, escape sequences removed, "\n" line ends
    raw: str
    stderr: str  # a pipe: a progress bar would only redraw itself on a terminal
    returncode: int

    @property
    def lines(self) -> list[str]:
        return self.text.splitlines()


def on_terminal(*args: str, columns: int, cwd: Path, env: dict[str, str] | None = None) -> Screen:
    """`megawatt ARGS` with stdout on a pty `columns` wide. COLUMNS is left unset, so the width
    must come from the terminal itself."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    environ = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR")}
    environ.update({"TERM": "xterm-256color", **(env or {})})
    proc = subprocess.Popen(
        [*MEGAWATT, *args], stdin=slave, stdout=slave, stderr=subprocess.PIPE, cwd=cwd, env=environ
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed its side
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    assert proc.stderr is not None
    stderr = proc.stderr.read().decode("utf-8", "replace")
    code = proc.wait(timeout=120)
    raw = b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")
    return Screen(ANSI.sub("", raw), raw, stderr, code)
