"""`megawatt profile run`: record a profile of a command without knowing the profiler's flags."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from megawatt.errors import MegawattError
from megawatt.profiles.command import Command, parse

PROFILERS = ("cprofile", "py-spy", "pyinstrument")
_EXTENSIONS = {"cprofile": "pstats", "py-spy": "speedscope.json", "pyinstrument": "json"}

# cProfile's command line has no -c: this runs the code as `python -c` would, under cProfile,
# in `__main__` (so pickling its classes works), and keeps its exit status. It runs in the
# profiled program's interpreter, which need not have Megawatt installed.
_CPROFILE_CODE = """\
def _megawatt_run():
    import cProfile, sys
    out, code = sys.argv[1], sys.argv[2]
    sys.argv[:] = ["-c"] + sys.argv[3:]
    namespace = sys.modules["__main__"].__dict__
    del namespace["_megawatt_run"]
    profiler = cProfile.Profile()
    try:
        profiler.runctx(compile(code, "<string>", "exec"), namespace, None)
    finally:
        profiler.dump_stats(out)
_megawatt_run()
"""

# pyinstrument's renderers drop call-tree nodes under 1 % of the run and leave their time in the
# parent's self time: a function with many small callees would look as if it burnt it itself
_PYINSTRUMENT_ALL_NODES = "processor_options.filter_threshold=0"


@dataclass(frozen=True, slots=True)
class Recording:
    profile: Path
    returncode: int
    command: list[str]
    seconds: float


def _tool(name: str) -> str:
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.is_file() else shutil.which(name)
    if found is None:
        raise MegawattError(
            f"{name} is not installed; install it with `pip install 'megawatt[profilers]'`"
        )
    return found


def _in_python(cmd: Command, profiler: list[str], program: list[str] | None = None) -> list[str]:
    """The interpreter with its own options, then `profiler`, then the program and its args."""
    if cmd.interpreter is None:
        raise MegawattError(
            f"{cmd.target!r} is not a Python program; cProfile and pyinstrument profile Python "
            "code only (use --profiler py-spy for any process that runs Python)"
        )
    if program is None:
        program = {"module": ["-m", cmd.target], "code": ["-c", cmd.target]}.get(
            cmd.mode, [cmd.target]
        )
    return [*cmd.prefix, cmd.interpreter, *cmd.options, *profiler, *program, *cmd.args]


def profiler_command(profiler: str, cmd: Command, output: Path) -> list[str]:
    if profiler == "cprofile":
        if cmd.mode == "code":
            return _in_python(cmd, ["-c", _CPROFILE_CODE, str(output)], [cmd.target])
        return _in_python(cmd, ["-m", "cProfile", "-o", str(output)])
    if profiler == "pyinstrument":
        flags = ["-r", "json", "-p", _PYINSTRUMENT_ALL_NODES, "-o", str(output)]
        return _in_python(cmd, ["-m", "pyinstrument", *flags])
    if profiler == "py-spy":
        # 250 Hz: four times py-spy's default, still well under 5 % overhead
        spy = _tool("py-spy")
        return [spy, "record", "-r", "250", "-f", "speedscope", "-o", str(output), "--", *cmd.given]
    raise MegawattError(f"unknown profiler {profiler!r}; choose one of {', '.join(PROFILERS)}")


def output_path(folder: Path, profiler: str, cmd: Command) -> Path:
    """A new file in `folder`, named by the time and the program or module the command runs."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    name = f"{stamp}-{cmd.label()}-{profiler}"
    path = folder / f"{name}.{_EXTENSIONS[profiler]}"
    n = 1
    while path.exists():  # two recordings in one second must not overwrite each other
        n += 1
        path = folder / f"{name}-{n}.{_EXTENSIONS[profiler]}"
    return path


def record(
    command: list[str],
    profiler: str = "cprofile",
    folder: Path | None = None,
    cwd: Path | None = None,
    quiet: bool = False,
) -> Recording:
    """Run `command` under `profiler`, writing the profile into `folder` (created if needed)."""
    if profiler not in PROFILERS:
        raise MegawattError(f"unknown profiler {profiler!r}; choose one of {', '.join(PROFILERS)}")
    # checked before anything is made: a typo in the command leaves nothing behind
    cmd = parse(command, cwd, sys.executable)
    folder = folder or Path(".megawatt/profiles")
    out = output_path(folder, profiler, cmd).resolve()
    argv = profiler_command(profiler, cmd, out)
    folder.mkdir(parents=True, exist_ok=True)
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
