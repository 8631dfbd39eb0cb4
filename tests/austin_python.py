"""austin-python's `austin2pprof`, a real pprof writer, in a virtual environment of its own.

austin-python pins protobuf 3, which Megawatt's own protobuf requirement excludes, so it can be in
no extra of ours. The tests make its environment once with `python -m venv` from the interpreter
running them, under $MEGAWATT_TEST_CACHE (default ~/.cache/megawatt-tests)/austin-python-venv,
and reuse it for as long as its recorded pins match these; pip's output goes to a log beside it
(austin-python-venv.install.log), never to the test's output.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path

PINS: dict[str, str] = {"austin-python": "2.4.0", "protobuf": "3.20.3"}
ENV_VAR = "MEGAWATT_TEST_CACHE"
MARKER = "megawatt-pins.json"


class InstallError(RuntimeError):
    """Making the environment failed; the message names the step and the log."""


def home() -> Path:
    cache = os.environ.get(ENV_VAR)
    base = Path(cache).expanduser() if cache else Path.home() / ".cache" / "megawatt-tests"
    return base / "austin-python-venv"


def log_file() -> Path:
    return home().parent / f"{home().name}.install.log"


def _ready(venv: Path) -> bool:
    try:
        marker = json.loads((venv / MARKER).read_text())
    except (OSError, ValueError):
        return False
    executables = (venv / "bin" / "python", venv / "bin" / "austin2pprof")
    return marker == {"pins": PINS} and all(p.exists() for p in executables)


def _step(what: str, cmd: list[str], log: Path) -> None:
    with log.open("a") as out:
        out.write(f"\n$ {' '.join(cmd)}\n")
        out.flush()
        proc = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, check=False)
    if proc.returncode != 0:
        tail = "\n    ".join(log.read_text(errors="replace").splitlines()[-8:])
        raise InstallError(
            f"{what} failed (exit {proc.returncode}): {' '.join(cmd)}\n"
            f"  full log: {log}\n  last lines:\n    {tail}"
        )


def austin2pprof() -> Path:
    """The `austin2pprof` executable, installing its environment first if it is missing or
    pinned differently (one installer at a time across test processes)."""
    venv = home()
    venv.parent.mkdir(parents=True, exist_ok=True)
    with (venv.parent / f".{venv.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _ready(venv):
            log = log_file()
            log.write_text("")
            _step("creating austin-python's environment",
                  [sys.executable, "-m", "venv", "--clear", str(venv)], log)  # fmt: skip
            pins = [f"{name}=={version}" for name, version in PINS.items()]
            pip = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check"]
            _step(f"pip install {' '.join(pins)}", [*pip, "install", "--no-input", *pins], log)
            (venv / MARKER).write_text(json.dumps({"pins": PINS}))
    return venv / "bin" / "austin2pprof"
