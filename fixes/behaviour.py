"""Behaviour and speed: the last, most expensive validation stage of a fix.

Where tests exercise the function, they run against the candidate in a temporary copy of the
workspace (a `Sandbox`), with a timeout, and must pass; then the function's own (cumulative) time
in those test runs is measured under cProfile with the original and with the candidate, round by
round, until the medians are stable, so the action can say what was gained.

The user's files are never touched: the copy holds no symlinks (a symlink's content is copied),
the tests run with the copy as their working directory and first on `sys.path`, byte code is not
written, and each run reports whether the tests imported the user's own file instead of the copy
(an editable install, a `sys.path` hack in a conftest), which would make the verdict meaningless.

Everything here is independent of the LLM that proposed the candidate.
"""

from __future__ import annotations

import ast
import contextlib
import json
import os
import pstats
import shutil
import signal
import stat
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Literal

from megawatt.analyzers.files import SKIP_DIRS

__all__ = [
    "Counts",
    "Sandbox",
    "SandboxError",
    "Speed",
    "TestRun",
    "Validation",
    "find_python",
    "measure_speed",
    "run_tests",
    "summary",
    "validate",
]

Status = Literal["passed", "failed", "timed_out", "no_tests", "error", "cancelled"]

MAX_FILE_BYTES = 50 * 1024 * 1024  # a bigger file is data, not code: left out of the copy
MAX_TOTAL_BYTES = 2 * 1024 * 1024 * 1024  # a bigger workspace is not copied at all
TAIL_LINES = 40
TAIL_CHARS = 4000
# Below this, a side's samples count as stable whatever their relative spread: a function that
# takes microseconds in the tests has nothing left to gain, and its ratio is noise-bound anyway.
ABSOLUTE_RESOLUTION_S = 0.001

_PLUGIN = "_megawatt_sandbox_probe"
_REPORT_ENV = "MEGAWATT_SANDBOX_REPORT"
_WATCH_ENV = "MEGAWATT_SANDBOX_WATCH"

# A pytest plugin loaded into every run (`-p`): counts outcomes whatever the project's own
# options (-v, -q, -r…), names the failing tests, and lists modules imported from the user's
# original files rather than from the copy.
_PLUGIN_SOURCE = f'''"""Megawatt's probe in a sandboxed test run (written by megawatt.fixes.behaviour)."""

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

# Profiles pytest in-process and keeps its exit status (`python -m cProfile` swallows it).
_PROFILE_DRIVER = """\
import cProfile, sys
import pytest
out = sys.argv[1]
args = sys.argv[2:]
sys.argv = ["pytest", *args]
profiler = cProfile.Profile()
status = 1
try:
    status = profiler.runcall(pytest.main, args)
finally:
    profiler.dump_stats(out)
sys.exit(int(status))
"""


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

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    @property
    def timed_out(self) -> bool:
        return self.status == "timed_out"


@dataclass
class Speed:
    """The function's cumulative time in the tests, before and after (medians of the rounds)."""

    before_s: float | None
    after_s: float | None
    ratio: float | None  # before / after; None when not measured (see note)
    rounds: int
    stable: bool
    note: str | None = None  # why the speed was not measured, or what to keep in mind
    before_samples: list[float] = field(default_factory=list)
    after_samples: list[float] = field(default_factory=list)


@dataclass
class Validation:
    """The whole stage: the candidate's test run, the original's when that failed, the speed."""

    tests: TestRun
    speed: Speed | None = None
    baseline: TestRun | None = None  # the original's run, made only when the candidate's failed

    @property
    def passed(self) -> bool:
        return self.tests.passed

    @property
    def inconclusive(self) -> bool:
        """The tests fail (or cannot run) with the original code too: they say nothing."""
        return self.baseline is not None and not self.baseline.passed

    @property
    def summary(self) -> str:
        if self.inconclusive and self.baseline is not None:
            if self.baseline.status == "failed":
                first = self.baseline.failures[0] if self.baseline.failures else "a test"
                return f"? the tests fail with the original code too ({first})"
            return summary(self.baseline)
        return summary(self.tests, self.speed)


def find_python(root: Path) -> str:
    """The interpreter for the workspace's tests: its own virtualenv's, else ours."""
    for venv in (".venv", "venv"):
        for rel in ("bin/python", "Scripts/python.exe"):
            candidate = root / venv / rel
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return str(candidate)  # not resolved: the venv's symlink is what makes it a venv
    return sys.executable


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _is_venv(path: str) -> bool:
    return os.path.isfile(os.path.join(path, "pyvenv.cfg"))


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
                if entry.name in SKIP_DIRS or _is_venv(real) or os.path.realpath(real) == own:
                    continue
                if entry.is_symlink() and (not _inside(real, root_real) or real in ancestors):
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


class Sandbox:
    """A temporary copy of a workspace to run its tests in, reused for several runs.

    Use as a context manager; the copy is removed on exit. `write` puts a file's new content in
    the copy; `run` runs pytest there.
    """

    def __init__(
        self,
        root: Path,
        python: str | None = None,
        *,
        max_file_bytes: int = MAX_FILE_BYTES,
        max_total_bytes: int = MAX_TOTAL_BYTES,
    ) -> None:
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise SandboxError(f"{root}: not a folder")
        self.python = python or find_python(self.root)
        self.skipped: list[str] = []  # what the copy left out and why (besides caches and venvs)
        self._tmp = Path(tempfile.mkdtemp(prefix="megawatt-sandbox-"))
        self._scratch = self._tmp / "scratch"  # plugin, reports, profiles: outside the copy
        self.path = self._tmp / (self.root.name or "workspace")
        self._watched: set[str] = set()
        self._runs = 0
        try:
            self._scratch.mkdir()
            (self._scratch / f"{_PLUGIN}.py").write_text(_PLUGIN_SOURCE, encoding="utf-8")
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

    def _relative(self, rel_path: str) -> Path:
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
        return self.path / self._relative(rel_path)

    def read(self, rel_path: str) -> bytes | None:
        target = self.file(rel_path)
        return target.read_bytes() if target.is_file() else None

    def write(self, rel_path: str, source: bytes) -> None:
        """Replace (or create) `rel_path` in the copy; the workspace's own file is untouched."""
        rel = self._relative(rel_path)
        target = self.path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if not _inside(os.path.realpath(target.parent), os.path.realpath(self.path)):
            raise SandboxError(f"{rel_path}: resolves outside the sandbox")
        target.write_bytes(source)
        # a module imported from the user's own file instead would make the run meaningless
        self._watched.add(os.path.realpath(self.root / rel))

    def _test_id(self, test_id: str) -> str:
        if not test_id or test_id.startswith("-"):
            raise ValueError(f"not a test id: {test_id!r}")
        path, sep, rest = test_id.partition("::")
        if os.path.isabs(path):
            path = self._relative(path).as_posix()
        return path + sep + rest

    def _env(self, report: Path) -> dict[str, str]:
        env = dict(os.environ)
        paths = [str(self.path)]
        if (self.path / "src").is_dir():
            paths.append(str(self.path / "src"))  # src layout, even when installed editable
        paths.append(str(self._scratch))
        root = str(self.root)
        for entry in env.get("PYTHONPATH", "").split(os.pathsep):
            if not entry:
                continue
            real = os.path.realpath(entry)
            if _inside(real, root):  # the workspace's own folders: their copies instead
                entry = str(self.path / os.path.relpath(real, root))
            if entry not in paths:
                paths.append(entry)
        env["PYTHONPATH"] = os.pathsep.join(paths)
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env[_REPORT_ENV] = str(report)
        env[_WATCH_ENV] = json.dumps(sorted(self._watched))
        return env

    def run(
        self,
        test_ids: Sequence[str],
        timeout: float,
        *,
        profile_to: Path | None = None,
        cancel: threading.Event | None = None,
    ) -> TestRun:
        """Run `pytest -q -x` on `test_ids` in the copy, killing it all after `timeout` seconds.

        With `profile_to`, the run is profiled with cProfile and the stats are written there.
        """
        if not test_ids:
            return TestRun(
                "no_tests",
                Counts(),
                0.0,
                reason="no tests exercise the function",
                python=self.python,
            )
        ids = [self._test_id(t) for t in test_ids]
        self._runs += 1
        report = self._scratch / f"report-{self._runs}.json"
        log = self._scratch / f"output-{self._runs}.txt"
        args = ["-q", "-x", "-p", "no:cacheprovider", "-p", _PLUGIN, *ids]
        if profile_to is None:
            argv = [self.python, "-m", "pytest", *args]
        else:
            argv = [self.python, "-c", _PROFILE_DRIVER, str(profile_to), *args]
        timed_out = cancelled = False
        start = time.perf_counter()
        with open(log, "wb") as out:
            try:
                proc = subprocess.Popen(
                    argv,
                    cwd=self.path,
                    env=self._env(report),
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # its own process group, killed as a whole
                )
            except OSError as err:
                return TestRun(
                    "error",
                    Counts(),
                    0.0,
                    reason=f"cannot start {self.python}: {err.strerror or err}",
                    python=self.python,
                )
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
                _kill_group(proc)  # on time-out, and any process the tests left behind
                proc.wait()
        duration = time.perf_counter() - start
        output = log.read_bytes().decode("utf-8", "replace")
        return self._outcome(
            proc.returncode, output, report, duration, timed_out, cancelled, timeout
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
            if returncode < 0:
                return done("error", f"the test process died (signal {-returncode})")
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
    if not test_ids:
        return TestRun(
            "no_tests",
            Counts(),
            0.0,
            reason="no tests exercise the function",
            python=python or find_python(Path(root)),
        )
    with Sandbox(root, python) as sandbox:
        sandbox.write(rel_path, source)
        return sandbox.run(test_ids, timeout, cancel=cancel)


def _function_lines(source: bytes, function: str) -> set[int] | None:
    """The lines cProfile may record for `function` (def line, first decorator's), or None."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    parts = [p for p in function.split(".") if p != "<locals>"]
    body: list[ast.stmt] = tree.body
    node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | None = None
    for part in parts:
        node = next(
            (
                n
                for n in body
                if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
                and n.name == part
            ),
            None,
        )
        if node is None:
            return None
        body = node.body
    if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return None
    lines = {node.lineno}
    if node.decorator_list:
        lines.add(node.decorator_list[0].lineno)
    return lines


@dataclass
class _Reading:
    seconds: float | None
    elsewhere: str | None = None  # a path outside the sandbox where the function was seen


def _read_time(
    stats_path: Path, sandbox: Sandbox, rel_path: str, name: str, lines: set[int] | None
) -> _Reading:
    """The function's cumulative time in a pstats file, matched by file and name (then line)."""
    raw: dict[tuple[str, int, str], tuple[int, int, float, float, object]]
    raw = pstats.Stats(str(stats_path)).stats  # type: ignore[attr-defined]
    target = os.path.realpath(sandbox.file(rel_path))
    rel_posix = sandbox._relative(rel_path).as_posix()
    ours: list[tuple[int, float]] = []
    elsewhere: str | None = None
    for (filename, line, func), (_cc, _nc, _tt, ct, _callers) in raw.items():
        if func != name or not filename.replace(os.sep, "/").endswith(rel_posix):
            continue
        path = filename if os.path.isabs(filename) else os.path.join(sandbox.path, filename)
        if os.path.realpath(path) == target:
            ours.append((line, ct))
        else:
            elsewhere = filename
    if not ours:
        return _Reading(None, elsewhere)
    if lines is not None:
        by_line = [ct for line, ct in ours if line in lines]
        if by_line:
            return _Reading(sum(by_line))
    # lines unknown or moved: one function of that name is unambiguous; else the busiest
    return _Reading(max(ct for _line, ct in ours))


def _stable(samples: list[float], target_spread: float) -> bool:
    if len(samples) < 3:
        return False
    last = samples[-3:]
    spread = max(last) - min(last)
    middle = statistics.median(last)
    return spread < ABSOLUTE_RESOLUTION_S or (middle > 0 and spread / middle < target_spread)


def measure_speed(
    sandbox: Sandbox,
    rel_path: str,
    original: bytes,
    candidate: bytes,
    function: str,
    test_ids: list[str],
    timeout: float,
    max_rounds: int = 7,
    target_spread: float = 0.1,
    cancel: threading.Event | None = None,
) -> Speed:
    """The function's cumulative time in the tests with `original` and with `candidate`.

    Rounds alternate the order (AB, BA, …) so drift hits both sides alike, and stop once the last
    three samples of each side lie within `target_spread` of their median (or `max_rounds`).
    The sandbox's `rel_path` is left as it was found.
    """
    name = function.split(".")[-1]
    lines = {
        "before": _function_lines(original, function),
        "after": _function_lines(candidate, function),
    }
    source = {"before": original, "after": candidate}
    samples: dict[str, list[float]] = {"before": [], "after": []}
    found_as = sandbox.read(rel_path)
    rounds = 0

    def result(note: str | None, stable: bool = False) -> Speed:
        before = statistics.median(samples["before"]) if samples["before"] else None
        after = statistics.median(samples["after"]) if samples["after"] else None
        ratio = None
        if note is None and before is not None and after is not None:
            if after > 0:
                ratio = before / after
            else:
                note = "the candidate's time is below the profiler's resolution"
        return Speed(
            before,
            after,
            ratio,
            rounds,
            stable,
            note,
            list(samples["before"]),
            list(samples["after"]),
        )

    if not test_ids:
        return result("no tests exercise the function")
    try:
        for index in range(max(1, max_rounds)):
            order = ("before", "after") if index % 2 == 0 else ("after", "before")
            for side in order:
                sandbox.write(rel_path, source[side])
                out = sandbox._scratch / f"profile-{index}-{side}.pstats"
                run = sandbox.run(test_ids, timeout, profile_to=out, cancel=cancel)
                which = "original" if side == "before" else "candidate"
                if not run.passed:
                    return result(f"the tests did not pass with the {which}: {run.reason}")
                try:
                    reading = _read_time(out, sandbox, rel_path, name, lines[side])
                except (OSError, ValueError, TypeError, EOFError) as err:
                    return result(f"unreadable profile: {err}")
                if reading.seconds is None:
                    if reading.elsewhere:
                        return result(
                            f"the tests ran {name} from {reading.elsewhere}, not the sandbox copy"
                        )
                    if side == "before":
                        return result("function not reached")
                    return result("function not reached with the candidate")
                samples[side].append(reading.seconds)
            rounds = index + 1
            if _stable(samples["before"], target_spread) and _stable(
                samples["after"], target_spread
            ):
                return result(None, stable=True)
        return result(None, stable=False)
    finally:
        if found_as is not None:
            sandbox.write(rel_path, found_as)


def _tests(n: int) -> str:
    return f"{n} test" if n == 1 else f"{n} tests"


def _ratio_text(ratio: float) -> str:
    if ratio >= 1.05:
        value, word = ratio, "faster"
    elif ratio <= 1 / 1.05:
        value, word = 1 / ratio, "slower"
    else:
        return "no measurable change in tests"
    figure = f"{value:.1f}" if value < 10 else f"{value:,.0f}"
    return f"{figure}× {word} in tests"


def summary(test_run: TestRun, speed: Speed | None = None) -> str:
    """The title fragment the editor shows: '✓ 12 tests · 3.1× faster in tests' and the like."""
    c = test_run.counts
    if test_run.status == "passed":
        text = f"✓ {_tests(c.passed)}"
        if speed is not None:
            if speed.ratio is None:
                text += f" · speed not measured: {speed.note or 'unknown reason'}"
            else:
                text += f" · {'' if speed.stable else '~'}{_ratio_text(speed.ratio)}"
        return text
    if test_run.status == "failed":
        total = c.collected or c.ran
        failed = c.failed + c.errors
        first = f" ({test_run.failures[0]})" if test_run.failures else ""
        return f"✗ {failed} of {_tests(total)} failed{first}"
    if test_run.status == "timed_out":
        return f"✗ {test_run.reason or 'the tests timed out'}"
    if test_run.status == "no_tests":
        return f"– not tested: {test_run.reason or 'no tests'}"
    if test_run.status == "cancelled":
        return "– cancelled"
    return f"✗ tests could not run: {test_run.reason or 'unknown error'}"


def validate(
    root: Path,
    rel_path: str,
    original: bytes,
    candidate: bytes,
    function: str,
    test_ids: list[str],
    timeout: float,
    python: str | None = None,
    max_rounds: int = 7,
    target_spread: float = 0.1,
    cancel: threading.Event | None = None,
) -> Validation:
    """The whole stage in one copy: tests with the candidate; if they fail, with the original too
    (to tell a broken candidate from broken tests); if they pass, the speed before and after."""
    if not test_ids:
        return Validation(run_tests(root, rel_path, candidate, test_ids, timeout, python))
    with Sandbox(root, python) as sandbox:
        sandbox.write(rel_path, candidate)
        tests = sandbox.run(test_ids, timeout, cancel=cancel)
        if tests.status in ("failed", "error"):
            sandbox.write(rel_path, original)
            return Validation(tests, baseline=sandbox.run(test_ids, timeout, cancel=cancel))
        if not tests.passed:
            return Validation(tests)
        speed = measure_speed(
            sandbox,
            rel_path,
            original,
            candidate,
            function,
            test_ids,
            timeout,
            max_rounds=max_rounds,
            target_spread=target_spread,
            cancel=cancel,
        )
        return Validation(tests, speed)
