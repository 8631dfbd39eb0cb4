"""The peers the bench measures Megawatt against, installed into a virtual environment of its own.

    python -m bench.peers      # install (or check) the environment and print where each peer is

ruff, pylint + perflint and py-spy are pinned together: perflint 0.8.1 requires pylint < 4, so
pylint stays on 3.3 (with the astroid that release was made for). The environment is created
once with `python -m venv` from the interpreter running the bench, under
$MEGAWATT_BENCH_PEERS (default ~/.cache/megawatt-bench/peers-venv), and reused for as long as
its recorded pins match these; the installers' output goes to a log beside it
(peers-venv.install.log), never to the terminal.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PINS: dict[str, str] = {
    "ruff": "0.17.6",
    "pylint": "3.3.9",
    "astroid": "3.3.11",
    "perflint": "0.8.1",
    "py-spy": "0.4.3",
}
ENV_VAR = "MEGAWATT_BENCH_PEERS"
MARKER = "megawatt-peers.json"

# Runs in the peers' interpreter: the message ids of every checker perflint registers.
_PERFLINT_IDS = """
import json, perflint
from pylint.lint import PyLinter
linter = PyLinter()
perflint.register(linter)
print(json.dumps(sorted({m for c in linter.get_checkers()
                         if type(c).__module__.startswith("perflint") for m in c.msgs})))
"""


class PeerInstallError(RuntimeError):
    """Installing the peers failed; the message says which step and where the log is."""


def home() -> Path:
    """The peers' virtual environment (it need not exist yet)."""
    given = os.environ.get(ENV_VAR)
    if given:
        return Path(given).expanduser()
    return Path.home() / ".cache" / "megawatt-bench" / "peers-venv"


def log_file() -> Path:
    return home().parent / f"{home().name}.install.log"


def _bin(name: str) -> Path:
    return home() / "bin" / name


def python() -> Path:
    return _bin("python")


def ruff() -> Path:
    return ensure()["ruff"]


def pylint() -> Path:
    return ensure()["pylint"]


def py_spy() -> Path:
    return ensure()["py-spy"]


def _marker() -> dict[str, object] | None:
    try:
        data = json.loads((home() / MARKER).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _ready() -> bool:
    marker = _marker()
    executables = (python(), _bin("ruff"), _bin("pylint"), _bin("py-spy"))
    return (
        marker is not None and marker.get("pins") == PINS and all(p.exists() for p in executables)
    )


def versions() -> dict[str, str]:
    """The pinned version of every peer (and of astroid, which pylint's results depend on)."""
    return dict(PINS)


def perflint_ids() -> list[str]:
    """perflint's message ids, as its plugin registers them (recorded at install time)."""
    ensure()
    marker = _marker() or {}
    ids = marker.get("perflint_ids")
    return [str(i) for i in ids] if isinstance(ids, list) else []


@contextmanager
def _locked() -> Iterator[None]:
    """One installer at a time, when two bench runs start together."""
    lock = home().parent / f".{home().name}.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _step(what: str, cmd: list[str], log: Path, capture: bool = False) -> str:
    """Run one installation step, its output appended to the log (stdout returned if captured)."""
    with log.open("a") as out:
        out.write(f"\n$ {' '.join(cmd)}\n")
        out.flush()
        proc = subprocess.run(
            cmd,
            stdout=subprocess.PIPE if capture else out,
            stderr=out if capture else subprocess.STDOUT,
            text=True,
            check=False,
        )
    if proc.returncode != 0:
        tail = "\n    ".join(log.read_text(errors="replace").splitlines()[-8:])
        raise PeerInstallError(
            f"{what} failed (exit {proc.returncode}): {' '.join(cmd)}\n"
            f"  full log: {log}\n  last lines:\n    {tail}"
        )
    return proc.stdout or ""


def ensure(quiet: bool = False) -> dict[str, Path]:
    """Install the peers if they are missing or pinned differently; their executables."""
    with _locked():
        if not _ready():
            _install(quiet)
    return {name: _bin(name) for name in ("ruff", "pylint", "py-spy")}


def _install(quiet: bool) -> None:
    venv = home()
    if not quiet:
        print(f"installing the bench's peers into {venv} (log: {log_file()}) …", file=sys.stderr)
    log = log_file()
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("")
    if not python().exists():
        cmd = [sys.executable, "-m", "venv", "--clear", str(venv)]
        _step("creating the peers' virtual environment", cmd, log)
    pins = [f"{name}=={version}" for name, version in PINS.items()]
    pip = [str(python()), "-m", "pip", "--disable-pip-version-check", "--no-input"]
    _step(f"pip install {' '.join(pins)}", [*pip, "install", *pins], log)
    ids = json.loads(
        _step("listing perflint's messages", [str(python()), "-c", _PERFLINT_IDS], log, True)
    )
    if not ids:
        raise PeerInstallError(f"perflint registered no messages (log: {log})")
    (venv / MARKER).write_text(json.dumps({"pins": PINS, "perflint_ids": ids}, indent=2))


def main() -> int:
    try:
        found = ensure()
    except PeerInstallError as err:
        print(err, file=sys.stderr)
        return 1
    for name, path in found.items():
        print(f"{name:<8} {PINS[name]:<8} {path}")
    print(f"perflint messages: {', '.join(perflint_ids())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
