"""Behaviour and speed: the last, most expensive validation stage of a fix.

Where tests exercise the function, they run against the candidate in a sandbox copy of the
workspace, with a timeout, and must pass; then the function's speed before and after is measured.

Everything here is independent of the LLM that proposed the candidate.
"""

from __future__ import annotations

import ast
import os
import pstats
import statistics
import threading
from dataclasses import dataclass, field
from pathlib import Path

from megawatt.fixes.sandbox import Sandbox, TestRun, run_tests

__all__ = ["Speed", "Validation", "measure_speed", "summary", "validate"]

# Below this, a side's samples count as stable whatever their relative spread: a function that
# takes microseconds in the tests has nothing left to gain, and its ratio is noise-bound anyway.
ABSOLUTE_RESOLUTION_S = 0.001

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
    rel_posix = sandbox.relative(rel_path).as_posix()
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
                out = sandbox.scratch(f"profile-{index}-{side}.pstats")
                run = sandbox.run(
                    test_ids, timeout, cancel=cancel, driver=("-c", _PROFILE_DRIVER, str(out))
                )
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
