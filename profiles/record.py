"""`megawatt profile run`: record a profile of a command without knowing the profiler's flags."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from megawatt.errors import MegawattError

PROFILERS = ("cprofile", "py-spy", "pyinstrument")
_EXTENSIONS = {"cprofile": "pstats", "py-spy": "speedscope.json", "pyinstrument": "json"}


@dataclass(frozen=True, slots=True)
class Recording:
    profile: Path
    returncode: int
    command: list[str]
    seconds: float


def _is_python(executable: str) -> bool:
    return re.fullmatch(r"python(\d+(\.\d+)?)?(\.exe)?", Path(executable).name) is not None


def _python_script(path: str) -> Path | None:
    """A console script or file that Python runs (a `.py` file, or a python shebang)."""
    found = Path(path) if os.sep in path or Path(path).is_file() else None
    if found is None:
        which = shutil.which(path)
        found = Path(which) if which else None
    if found is None or not found.is_file():
        return None
    if found.suffix == ".py":
        return found
    try:
        with found.open("rb") as f:
            first = f.readline(200)
    except OSError:
        return None
    return found if first.startswith(b"#!") and b"python" in first else None


def python_argv(command: list[str]) -> tuple[str, list[str]]:
    """The interpreter and the arguments after it, for a command that runs Python code."""
    if _is_python(command[0]):
        interpreter = shutil.which(command[0]) or command[0]
        return interpreter, command[1:]
    script = _python_script(command[0])
    if script is None:
        raise MegawattError(
            f"{command[0]!r} is not a Python program; cProfile and pyinstrument profile Python "
            "code only (use --profiler py-spy for any process that runs Python)"
        )
    return sys.executable, [str(script), *command[1:]]


def _tool(name: str) -> str:
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.is_file() else shutil.which(name)
    if found is None:
        raise MegawattError(
            f"{name} is not installed; install it with `pip install 'megawatt[profilers]'`"
        )
    return found


def profiler_command(profiler: str, command: list[str], output: Path) -> list[str]:
    if profiler == "cprofile":
        interpreter, rest = python_argv(command)
        return [interpreter, "-m", "cProfile", "-o", str(output), *rest]
    if profiler == "pyinstrument":
        interpreter, rest = python_argv(command)
        return [interpreter, "-m", "pyinstrument", "-r", "json", "-o", str(output), *rest]
    if profiler == "py-spy":
        # 250 Hz: four times py-spy's default, still well under 5 % overhead
        spy = _tool("py-spy")
        return [spy, "record", "-r", "250", "-f", "speedscope", "-o", str(output), "--", *command]
    raise MegawattError(f"unknown profiler {profiler!r}; choose one of {', '.join(PROFILERS)}")


def output_path(folder: Path, profiler: str, command: list[str]) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    words = [Path(c).stem for c in command if not c.startswith("-")]
    if words and _is_python(command[0]):
        words = words[1:]
    label = re.sub(r"[^A-Za-z0-9_.-]+", "-", "-".join(words[:2]) or "run").strip("-")[:40]
    return folder / f"{stamp}-{label}-{profiler}.{_EXTENSIONS[profiler]}"


def record(
    command: list[str],
    profiler: str = "cprofile",
    folder: Path | None = None,
    cwd: Path | None = None,
    quiet: bool = False,
) -> Recording:
    """Run `command` under `profiler`, writing the profile into `folder` (created if needed)."""
    if not command:
        raise MegawattError("no command to profile: give it after `--`")
    if profiler not in PROFILERS:
        raise MegawattError(f"unknown profiler {profiler!r}; choose one of {', '.join(PROFILERS)}")
    folder = folder or Path(".megawatt/profiles")
    folder.mkdir(parents=True, exist_ok=True)
    out = output_path(folder, profiler, command)
    argv = profiler_command(profiler, command, out.resolve())
    start = time.perf_counter()
    try:
        # the profiled program keeps the terminal: its output is the user's, not ours
        proc = subprocess.run(
            argv, cwd=cwd, check=False, stdout=subprocess.DEVNULL if quiet else None
        )
    except OSError as err:
        raise MegawattError(f"cannot run {argv[0]}: {err.strerror or err}") from None
    seconds = time.perf_counter() - start
    if not out.is_file():
        raise MegawattError(
            f"{profiler} wrote no profile (the command exited with {proc.returncode})"
        )
    return Recording(out, proc.returncode, argv, seconds)
