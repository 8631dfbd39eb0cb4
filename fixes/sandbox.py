"""The sandbox: a temporary copy of the workspace in which project and candidate code runs.

The user's files are never touched: the copy holds no symlinks (a symlink's content is copied),
runs start with the copy as their working directory and first on `sys.path`, byte code is not
written, and a pytest run reports whether the tests imported the user's own file instead of the
copy (an editable install, a `sys.path` hack in a conftest), which would make a verdict
meaningless. Every process goes through `Sandbox.execute`: one deadline, cancellation, the
whole process group killed at the end, a scrubbed environment (no keys, tokens or secrets: only
what a Python test run needs), CPU and memory limits, and the best isolation this machine offers
(`megawatt.fixes.isolation`: bubblewrap, else unshare, else an audit-hook guard only).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Literal

from megawatt.analyzers.files import SKIP_DIRS
from megawatt.fixes.interpreter import (
    Interpreter,
    find_interpreter,
    find_python,
    inside,
    is_venv,
)
from megawatt.fixes.isolation import (
    DEFAULT_MEMORY_BYTES,
    GUARD_ENV,
    GUARD_SOURCE,
    Isolation,
    Kind,
    Limits,
    detect,
)
from megawatt.fixes.pytest_config import needs_plugin_autoload, options_need_plugins
from megawatt.fixes.redact import redact

__all__ = [
    "Counts",
    "Executed",
    "Interpreter",
    "Isolation",
    "Sandbox",
    "SandboxError",
    "TestRun",
    "find_interpreter",
    "find_python",
    "needs_plugin_autoload",
    "run_tests",
]

Status = Literal["passed", "failed", "timed_out", "no_tests", "error", "cancelled"]

MAX_FILE_BYTES = 50 * 1024 * 1024  # a bigger file is data, not code: left out of the copy
MAX_TOTAL_BYTES = 2 * 1024 * 1024 * 1024  # a bigger workspace is not copied at all
TAIL_LINES = 40
TAIL_CHARS = 4000

_PLUGIN = "_megawatt_sandbox_probe"
_REPORT_ENV = "MEGAWATT_SANDBOX_REPORT"
_RUN_ENV = "MEGAWATT_SANDBOX_RUN"  # one value per process run: finds what left its group
_WATCH_ENV = "MEGAWATT_SANDBOX_WATCH"

# A pytest plugin loaded into every run (`-p`): counts outcomes whatever the project's own
# options (-v, -q, -r…), names the failing tests, and lists modules imported from the user's
# original files rather than from the copy.
_PLUGIN_SOURCE = f'''"""Megawatt's probe in a sandboxed test run (written by megawatt.fixes.sandbox)."""

import json
import os
import sys

_state = {{"collected": 0, "passed": 0, "failed": 0, "errors": 0, "skipped": 0, "failures": []}}


def pytest_collection_finish(session):
    _state["collected"] = len(session.items)


def pytest_collectreport(report):
    if report.failed:
        _state["errors"] += 1
        _state["failures"].append(report.nodeid or "<collection>")


def pytest_runtest_logreport(report):
    if report.when == "call":
        if report.passed:
            _state["passed"] += 1
        elif report.failed:
            _state["failed"] += 1
            _state["failures"].append(report.nodeid)
        else:
            _state["skipped"] += 1
    elif report.failed:
        _state["errors"] += 1
        _state["failures"].append(report.nodeid)
    elif report.skipped:
        _state["skipped"] += 1


def pytest_sessionfinish(session, exitstatus):
    watched = set(json.loads(os.environ.get("{_WATCH_ENV}") or "[]"))
    leaked = []
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if isinstance(path, str) and os.path.realpath(path) in watched:
            leaked.append([name, path])
    out = os.environ.get("{_REPORT_ENV}")
    if out:
        with open(out + ".tmp", "w", encoding="utf-8") as f:
            json.dump(dict(_state, leaked=leaked, exitstatus=int(exitstatus)), f)
        os.replace(out + ".tmp", out)
'''


class SandboxError(Exception):
    """The workspace cannot be copied (too big, unreadable) or a path points outside it."""


@dataclass
class Counts:
    """Test outcomes. Runs stop at the first failure (-x): counts cover the tests that ran."""

    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    collected: int | None = None  # None when the run ended before pytest collected

    @property
    def ran(self) -> int:
        return self.passed + self.failed + self.errors


@dataclass
class TestRun:
    """One pytest run in a sandbox."""

    __test__ = False  # not a pytest test class

    status: Status
    counts: Counts
    duration: float  # wall-clock seconds
    output_tail: str = ""  # the end of pytest's output, for the user when it did not pass
    failures: list[str] = field(default_factory=list)  # node ids of failing tests
    reason: str | None = None  # why it did not pass, in words
    returncode: int | None = None
    python: str = ""
    isolation: str = ""  # Isolation.describe() of the sandbox it ran in

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    @property
    def timed_out(self) -> bool:
        return self.status == "timed_out"


@dataclass
class Executed:
    """One process run in the sandbox. `returncode` is None when it could not start."""

    returncode: int | None
    duration: float  # wall-clock seconds
    reason: str = ""  # why it could not start
    output: str = ""  # stdout and stderr together
    timed_out: bool = False
    cancelled: bool = False
    isolation: str = ""  # Isolation.describe() of the sandbox it ran in


# --- The project's interpreter -------------------------------------------------------------


def _copy_tree(
    src: Path, dst: Path, max_file_bytes: int, max_total_bytes: int, skipped: list[str]
) -> int:
    """Copy `src` into `dst` without symlinks, caches, VCS folders or virtualenvs; bytes copied."""
    root_real = os.path.realpath(src)
    own = os.path.realpath(os.path.dirname(dst))  # the sandbox itself, if the temp dir is inside
    total = 0
    # (source folder, destination folder, relative path, real paths of the folders above)
    stack: list[tuple[str, str, str, frozenset[str]]] = [
        (str(src), str(dst), "", frozenset({root_real}))
    ]
    while stack:
        folder, target, rel_folder, ancestors = stack.pop()
        os.makedirs(target, exist_ok=True)
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as err:
            skipped.append(f"{rel_folder or '.'} (unreadable: {err.strerror})")
            continue
        for entry in entries:
            rel = f"{rel_folder}/{entry.name}" if rel_folder else entry.name
            out = os.path.join(target, entry.name)
            real = os.path.realpath(entry.path) if entry.is_symlink() else entry.path
            try:
                st = os.stat(real)
            except OSError:
                skipped.append(f"{rel} (dangling symlink or unreadable)")
                continue
            if stat.S_ISDIR(st.st_mode):
                if entry.name in SKIP_DIRS or is_venv(real) or os.path.realpath(real) == own:
                    continue
                if entry.is_symlink() and (not inside(real, root_real) or real in ancestors):
                    skipped.append(f"{rel} (symlink to a folder outside the workspace, or a loop)")
                    continue
                stack.append((real, out, rel, ancestors | {os.path.realpath(real)}))
            elif stat.S_ISREG(st.st_mode):
                if st.st_size > max_file_bytes:
                    skipped.append(f"{rel} ({st.st_size // (1024 * 1024)} MB)")
                    continue
                total += st.st_size
                if total > max_total_bytes:
                    raise SandboxError(
                        f"the workspace holds more than {max_total_bytes // (1024 * 1024)} MB "
                        "outside caches and virtualenvs: too big to copy for a test run"
                    )
                try:
                    shutil.copyfile(real, out)  # follows a symlink: the copy holds its content
                    os.chmod(out, stat.S_IMODE(st.st_mode) | stat.S_IWUSR)
                except OSError as err:
                    skipped.append(f"{rel} (unreadable: {err.strerror})")
            # sockets, FIFOs, devices: never opened
    return total


def _sweep(entry: bytes) -> None:
    """Kill the processes whose environment holds `entry` (NAME=value): a run's processes that
    left its process group (setsid, daemons). Linux only, and only where no PID namespace does
    it (bubblewrap's); a process that cleared its environment escapes it."""
    if not os.path.isdir("/proc"):
        return
    me = str(os.getpid())
    for _ in range(3):  # a process may fork while we look
        killed = False
        for pid in os.listdir("/proc"):
            if not pid.isdigit() or pid == me:
                continue
            try:
                with open(f"/proc/{pid}/environ", "rb") as f:
                    if entry not in f.read().split(b"\0"):
                        continue
                os.kill(int(pid), signal.SIGKILL)
                killed = True
            except OSError:  # gone, or not ours to read
                continue
        if not killed:
            return


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    if os.name == "posix":
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
    elif proc.poll() is None:
        proc.kill()


def _tail(text: str) -> str:
    lines = text.rstrip().splitlines()[-TAIL_LINES:]
    out = "\n".join(lines)
    return out[-TAIL_CHARS:]


# --- The scrubbed environment --------------------------------------------------------------

_PASSED_NAMES = frozenset({"LANG", "LANGUAGE", "TZ", "TERM"})
_PASSED_PREFIXES = ("LC_", "PYTEST_")
# pytest's own bookkeeping of the run Megawatt may be inside, and what the sandbox decides itself
_DROPPED_NAMES = frozenset(
    {
        "PYTEST_CURRENT_TEST",
        "PYTEST_VERSION",
        "PYTEST_XDIST_WORKER",
        "PYTEST_XDIST_WORKER_COUNT",
        "PYTEST_XDIST_TESTRUNUID",
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD",
    }
)
_WINDOWS_NAMES = frozenset({"SYSTEMROOT", "SYSTEMDRIVE", "WINDIR", "COMSPEC", "PATHEXT"})
_SYSTEM_BIN = ("/usr/local/bin", "/usr/bin", "/bin")
# a name like these is never passed on, whatever the allowlist says
_SECRET_NAME = re.compile(
    r"KEY|TOKEN|SECRET|PASS|PWD|CREDENTIAL|AUTH|SESSION|COOKIE|PRIVATE|SIGNATURE", re.IGNORECASE
)


def _secret(name: str, value: str) -> bool:
    return bool(_SECRET_NAME.search(name)) or redact(value)[1] > 0


def _without_secrets(env: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if not _secret(k, v)}


def _passed_on(name: str) -> bool:
    if name in _DROPPED_NAMES:
        return False
    if os.name == "nt" and name.upper() in _WINDOWS_NAMES:
        return True
    return name in _PASSED_NAMES or name.startswith(_PASSED_PREFIXES)


def _venv_of(python: str) -> str | None:
    """The virtualenv `python` belongs to (its unresolved path), if any."""
    folder = os.path.dirname(os.path.dirname(os.path.abspath(python)))
    return folder if is_venv(folder) else None


def _signal_of(returncode: int, isolation: Isolation) -> int | None:
    if returncode < 0:
        return -returncode
    if isolation.kind == "bubblewrap" and returncode > 128:
        return returncode - 128  # bwrap exits 128 + the signal that ended its child
    return None


def _startable(program: str, path: str, cwd: Path) -> str | None:
    """Why `program` cannot start, found before the isolation wrapper would hide it."""
    found = str(cwd / program) if os.sep in program else shutil.which(program, path=path)
    if found is None or not os.path.exists(found):
        return "No such file or directory"
    if not os.access(found, os.X_OK) or os.path.isdir(found):
        return "Permission denied"
    return None


def _no_tests(python: str) -> TestRun:
    return TestRun(
        "no_tests", Counts(), 0.0, reason="no tests exercise the function", python=python
    )


class Sandbox:
    """A temporary copy of a workspace to run its tests in, reused for several runs.

    Use as a context manager; the copy is removed on exit. `write` puts a file's new content in
    the copy; `run` runs pytest there.

    `isolation` caps what is tried (None: `MEGAWATT_SANDBOX_ISOLATION`, else the best available);
    `cpu_seconds` limits each process's CPU time (None: the run's timeout plus a margin);
    `memory_bytes` its address space (None: unlimited); `autoload` lets pytest load the plugins
    installed with the interpreter (None: only when `needs_plugin_autoload` says the project's
    tests need them, or PYTEST_ADDOPTS names a plugin's option).
    """

    def __init__(
        self,
        root: Path,
        python: str | None = None,
        *,
        max_file_bytes: int = MAX_FILE_BYTES,
        max_total_bytes: int = MAX_TOTAL_BYTES,
        isolation: Kind | None = None,
        cpu_seconds: float | None = None,
        memory_bytes: int | None = DEFAULT_MEMORY_BYTES,
        autoload: bool | None = None,
    ) -> None:
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise SandboxError(f"{root}: not a folder")
        self.interpreter = Interpreter(python, "given") if python else find_interpreter(self.root)
        self.python = self.interpreter.path
        self.isolation: Isolation = detect(isolation)
        self.limits = Limits(cpu_seconds, memory_bytes)
        if autoload is None:
            addopts = os.environ.get("PYTEST_ADDOPTS", "")
            try:
                from_env = options_need_plugins(shlex.split(addopts))
            except ValueError:
                from_env = True
            autoload = from_env or needs_plugin_autoload(self.root)
        self.autoload = autoload
        self.skipped: list[str] = []  # what the copy left out and why (besides caches and venvs)
        self._tmp = Path(tempfile.mkdtemp(prefix="megawatt-sandbox-"))
        # the only folder a sandboxed process may write to: the copy and the scratch area
        self._writable = os.path.realpath(self._tmp)
        self._scratch = self._tmp / "scratch"  # plugin, reports, profiles: outside the copy
        self._home = self._scratch / "home"
        self._tmpdir = self._scratch / "tmp"  # TMPDIR: pytest's tmp_path lands here
        self.path = self._tmp / (self.root.name or "workspace")
        self._watched: set[str] = set()
        self._runs = 0
        self._guard: str | None = None
        if not self.isolation.writes_confined:
            pythons = sorted({os.path.realpath(self.python), os.path.realpath(sys.executable)})
            loopback = self.isolation.kind == "unshare"
            self._guard = json.dumps(
                {"writable": [self._writable], "pythons": pythons, "loopback": loopback}
            )
        try:
            self._scratch.mkdir()
            self._home.mkdir()
            self._tmpdir.mkdir()
            (self._scratch / f"{_PLUGIN}.py").write_text(_PLUGIN_SOURCE, encoding="utf-8")
            if self._guard is not None:
                (self._scratch / "sitecustomize.py").write_text(GUARD_SOURCE, encoding="utf-8")
            self.copied_bytes = _copy_tree(
                self.root, self.path, max_file_bytes, max_total_bytes, self.skipped
            )
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        shutil.rmtree(self._tmp, ignore_errors=True)

    def relative(self, rel_path: str) -> Path:
        path = Path(rel_path)
        if path.is_absolute():
            try:
                path = path.resolve().relative_to(self.root)
            except ValueError:
                raise SandboxError(f"{rel_path}: not inside the workspace {self.root}") from None
        if not path.parts or ".." in path.parts:
            raise SandboxError(f"{rel_path}: not a path inside the workspace")
        return path

    def file(self, rel_path: str) -> Path:
        """Where `rel_path` of the workspace is in the copy."""
        return self.path / self.relative(rel_path)

    def read(self, rel_path: str) -> bytes | None:
        target = self.file(rel_path)
        return target.read_bytes() if target.is_file() else None

    def write(self, rel_path: str, source: bytes) -> None:
        """Replace (or create) `rel_path` in the copy; the workspace's own file is untouched."""
        rel = self.relative(rel_path)
        target = self.path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if not inside(os.path.realpath(target.parent), os.path.realpath(self.path)):
            raise SandboxError(f"{rel_path}: resolves outside the sandbox")
        target.write_bytes(source)
        # a module imported from the user's own file instead would make the run meaningless
        self._watched.add(os.path.realpath(self.root / rel))

    def _test_id(self, test_id: str) -> str:
        if not test_id or test_id.startswith("-"):
            raise ValueError(f"not a test id: {test_id!r}")
        path, sep, rest = test_id.partition("::")
        if os.path.isabs(path):
            path = self.relative(path).as_posix()
        return path + sep + rest

    def environment(self) -> dict[str, str]:
        """The environment of every run, built from nothing: what a Python test run needs (PATH
        to the interpreter and the system's tools, locale, time zone, terminal, pytest's
        settings), HOME and TMPDIR in the scratch area, the copy first on `sys.path`, no byte
        code written. Never a name or value that looks like a key, token or secret."""
        env = {k: v for k, v in os.environ.items() if _passed_on(k) and not _secret(k, v)}
        bin_dir = os.path.dirname(os.path.abspath(self.python))
        env["PATH"] = os.pathsep.join(dict.fromkeys((bin_dir, *_SYSTEM_BIN)))
        env["HOME"] = str(self._home)
        env["TMPDIR"] = env["TMP"] = env["TEMP"] = str(self._tmpdir)
        venv = _venv_of(self.python)
        if venv is not None:
            env["VIRTUAL_ENV"] = venv
        paths = [str(self.path)]
        if (self.path / "src").is_dir():
            paths.append(str(self.path / "src"))  # src layout, even when installed editable
        paths.append(str(self._scratch))
        root = str(self.root)
        for entry in os.environ.get("PYTHONPATH", "").split(os.pathsep):
            if not entry:
                continue
            real = os.path.realpath(entry)
            if inside(real, root):  # the workspace's own folders: their copies instead
                entry = str(self.path / os.path.relpath(real, root))
            if entry not in paths:
                paths.append(entry)
        env["PYTHONPATH"] = os.pathsep.join(paths)
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env[_WATCH_ENV] = json.dumps(sorted(self._watched))
        if not self.autoload:
            env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
        if self._guard is not None:
            env[GUARD_ENV] = self._guard
        return env

    def _env(self, report: Path) -> dict[str, str]:
        env = self.environment()
        env[_REPORT_ENV] = str(report)
        return env

    def execute(
        self,
        argv: Sequence[str],
        timeout: float,
        *,
        env: dict[str, str] | None = None,
        cancel: threading.Event | None = None,
    ) -> Executed:
        """Run `argv` in the copy (its working directory) with `env` (default: the sandbox's;
        extend `environment()` rather than `os.environ`), stdin closed, stdout and stderr to one
        log, under the sandbox's isolation and limits; the whole process group is killed when it
        ends, on `timeout` or on `cancel`. Every process that runs project or candidate code goes
        through here."""
        self._runs += 1
        log = self._scratch / f"output-{self._runs}.txt"
        timed_out = cancelled = False
        env = _without_secrets(env if env is not None else self.environment())
        if self._guard is not None:
            env[GUARD_ENV] = self._guard
        run_id = f"{self._writable}:{self._runs}"
        env[_RUN_ENV] = run_id
        said = self.isolation.describe()
        why = (
            _startable(argv[0], env.get("PATH", os.defpath), self.path)
            if argv
            else "nothing to run"
        )
        if why is not None:
            return Executed(
                None, 0.0, f"cannot start {argv[0] if argv else ''}: {why}", isolation=said
            )
        wrapped = self.isolation.wrap(argv, cwd=str(self.path), writable=[self._writable])
        start = time.perf_counter()
        with open(log, "wb") as out:
            try:
                proc = subprocess.Popen(
                    wrapped,
                    cwd=self.path,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # its own process group, killed as a whole
                    preexec_fn=self.limits.preexec(timeout),
                )
            except (OSError, subprocess.SubprocessError) as err:
                reason = getattr(err, "strerror", None) or err
                return Executed(None, 0.0, f"cannot start {argv[0]}: {reason}", isolation=said)
            try:
                deadline = start + timeout
                while True:
                    step = max(0.0, min(0.05, deadline - time.perf_counter()))
                    try:
                        proc.wait(step)
                        break
                    except subprocess.TimeoutExpired:
                        if cancel is not None and cancel.is_set():
                            cancelled = True
                            break
                        if time.perf_counter() >= deadline:
                            timed_out = True
                            break
            finally:
                _kill_group(proc)  # on time-out, and any process the run left behind
                proc.wait()
                if self.isolation.kind != "bubblewrap":
                    _sweep(f"{_RUN_ENV}={run_id}".encode())
        output = log.read_bytes().decode("utf-8", "replace")
        return Executed(
            proc.returncode,
            time.perf_counter() - start,
            output=output,
            timed_out=timed_out,
            cancelled=cancelled,
            isolation=said,
        )

    def scratch(self, name: str) -> Path:
        """A path for a run's own files (reports, recordings), outside the copy."""
        return self._scratch / name

    def run(
        self,
        test_ids: Sequence[str],
        timeout: float,
        *,
        cancel: threading.Event | None = None,
        extra_env: dict[str, str] | None = None,
        plugins: Sequence[str] = (),
    ) -> TestRun:
        """Run `pytest -q -x` on `test_ids` in the copy, killing it all after `timeout` seconds.
        `plugins` are module names importable from the scratch folder, loaded with `-p`."""
        if not test_ids:
            return _no_tests(self.python)
        ids = [self._test_id(t) for t in test_ids]
        report = self._scratch / f"report-{self._runs + 1}.json"
        loads = [arg for name in (_PLUGIN, *plugins) for arg in ("-p", name)]
        argv = [self.python, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *loads, *ids]
        env = self._env(report)
        env.update(extra_env or {})
        done = self.execute(argv, timeout, env=env, cancel=cancel)
        if done.returncode is None:
            return TestRun(
                "error",
                Counts(),
                0.0,
                reason=done.reason,
                python=self.python,
                isolation=done.isolation,
            )
        return self._outcome(
            done.returncode,
            done.output,
            report,
            done.duration,
            done.timed_out,
            done.cancelled,
            timeout,
        )

    def _outcome(
        self,
        returncode: int,
        output: str,
        report_path: Path,
        duration: float,
        timed_out: bool,
        cancelled: bool,
        timeout: float,
    ) -> TestRun:
        tail = _tail(output)
        counts = Counts()
        failures: list[str] = []
        leaked: list[list[str]] = []
        try:
            report = json.loads(report_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            report = None
        if isinstance(report, dict):
            counts = Counts(
                passed=int(report.get("passed", 0)),
                failed=int(report.get("failed", 0)),
                errors=int(report.get("errors", 0)),
                skipped=int(report.get("skipped", 0)),
                collected=int(report.get("collected", 0)),
            )
            failures = [str(f) for f in report.get("failures", [])]
            leaked = report.get("leaked", [])

        def done(status: Status, reason: str | None = None) -> TestRun:
            return TestRun(
                status,
                counts,
                duration,
                output_tail=tail if status != "passed" else "",
                failures=failures,
                reason=reason,
                returncode=returncode,
                python=self.python,
                isolation=self.isolation.describe(),
            )

        if cancelled:
            return done("cancelled", "cancelled")
        if timed_out:
            return done("timed_out", f"the tests did not finish within {timeout:g} s")
        if leaked:
            name, path = leaked[0]
            return done(
                "error",
                f"the tests imported {name} from {path}, the workspace's own file, not the "
                "sandbox copy (an editable install or a sys.path change?): the candidate was not tested",
            )
        if report is None:
            if "No module named pytest" in output:
                return done("error", f"pytest is not installed for {self.python}")
            died = _signal_of(returncode, self.isolation)
            if died is not None and died == getattr(signal, "SIGXCPU", None):
                return done("error", "the test process went over its CPU time limit")
            if died is not None:
                return done("error", f"the test process died (signal {died})")
            return done("error", f"pytest did not run (exit status {returncode})")
        if returncode == 5 or (returncode == 0 and counts.passed == 0):
            why = "all the selected tests were skipped" if counts.skipped else "no tests collected"
            return done("no_tests", why)
        if returncode == 0:
            return done("passed")
        if returncode in (1, 2) and (counts.failed or counts.errors):
            first = failures[0] if failures else "a test"
            return done("failed", f"{first} failed")
        said = [line.strip() for line in output.splitlines() if line.startswith("ERROR:")]
        return done("error", said[-1] if said else f"pytest ended with exit status {returncode}")


def run_tests(
    root: Path,
    rel_path: str,
    source: bytes,
    test_ids: list[str],
    timeout: float,
    python: str | None = None,
    cancel: threading.Event | None = None,
) -> TestRun:
    """Run `test_ids` against `source` as `rel_path` in a fresh copy of the workspace."""
    if not test_ids:  # nothing to run: no copy of the workspace either
        return _no_tests(python or find_python(Path(root)))
    with Sandbox(root, python) as sandbox:
        sandbox.write(rel_path, source)
        return sandbox.run(test_ids, timeout, cancel=cancel)
