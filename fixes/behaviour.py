"""Behaviour and speed: the last, most expensive validation stage of a fix, all in one sandbox.

1. Selection by execution: one instrumented run of the project's tests with the original finds
   the tests that reach the function (and their outcomes), and records the calls it received.
2. The selected tests run with the candidate and must pass.
3. The recorded calls are replayed on both versions: same results, exceptions, argument state.
4. Speed: wall-clock time of the replayed calls (or, when no call could be recorded, of the
   selected tests), interleaved rounds, a 95 % interval; slower or within noise is refused.

A candidate that no test and no replayed call exercised is not checked, and says so.
Everything here is independent of the LLM that proposed the candidate.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from megawatt.fixes.guardrails import Rejected
from megawatt.fixes.replay import Replay, replay_calls
from megawatt.fixes.sandbox import Sandbox
from megawatt.fixes.selection import RECORDER, Recording, install_probe, record_calls
from megawatt.fixes.speed import Speed, estimate, figure, gate

__all__ = ["Behaviour", "check_behaviour"]

MAX_TAIL_LINES = 25


@dataclass
class Behaviour:
    """What the stage established, for the verdict. `checked` is False when nothing exercised
    the candidate: then no line may say it was verified."""

    checked: bool
    headline: str
    lines: list[str] = field(default_factory=list)
    tests: list[str] = field(default_factory=list)  # the tests that passed with the candidate
    replayed: int = 0
    speed: Speed | None = None
    recording: Recording | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    isolation: str = ""


def _refuse(stage: str, reason: str, detail: str = "") -> Rejected:
    err = Rejected(stage, reason)
    err.detail = detail  # type: ignore[attr-defined]  # fed back to the model on the retry
    return err


def _tail(text: str) -> str:
    return "\n".join(text.rstrip().splitlines()[-MAX_TAIL_LINES:])


def _tests_word(n: int) -> str:
    return f"{n} test" if n == 1 else f"{n} tests"


def _time_tests(
    sandbox: Sandbox,
    rel_path: str,
    sources: dict[str, bytes],
    tests: list[str],
    timeout: float,
    budget: float,
    cancel: threading.Event | None,
) -> Speed | None:
    """Wall-clock time of the selected tests' own bodies (pytest's call phase, no start-up),
    both versions alternating; the fallback when no call could be replayed."""
    install_probe(sandbox, "recorder", RECORDER)
    totals: dict[str, list[float]] = {"before": [], "after": []}
    started = time.perf_counter()
    for index in range(5):
        for side in ("before", "after") if index % 2 == 0 else ("after", "before"):
            sandbox.write(rel_path, sources[side])
            out = sandbox.scratch(f"timing-{index}-{side}")
            out.mkdir(exist_ok=True)
            run = sandbox.run(
                tests,
                timeout,
                cancel=cancel,
                plugins=[RECORDER],
                extra_env={"MEGAWATT_RECORD_OUT": str(out)},
            )
            if not run.passed:
                return None
            seconds = 0.0
            for line in (out / "events.jsonl").read_text(encoding="utf-8").splitlines():
                event = json.loads(line)
                if event.get("kind") == "outcome" and event.get("when") == "call":
                    seconds += float(event.get("seconds") or 0.0)
            totals[side].append(seconds)
        if index >= 2 and (
            estimate("tests", totals["before"], totals["after"]).half_width <= 0.1
            or time.perf_counter() - started > budget
        ):
            break
    sandbox.write(rel_path, sources["after"])
    return estimate("tests", totals["before"], totals["after"])


def check_behaviour(
    root: Path,
    rel_path: str,
    original: bytes,
    candidate: bytes,
    function: str,
    *,
    timeout: float,
    deadline: float,
    min_gain: float,
    name_tests: list[str] | None = None,
    python: str | None = None,
    cache: Path | None = None,
    digest: str = "",
    cancel: threading.Event | None = None,
    progress: Callable[[str], None] | None = None,
) -> Behaviour:
    """Run the whole stage for `candidate` (the new text of `rel_path`). `deadline` is a
    time.monotonic() instant no process may outlive. Raises Rejected when the candidate fails a
    test, behaves differently on a replayed call, or is not measurably faster."""
    say = progress or (lambda _m: None)
    name = function.rsplit(".", 1)[-1]
    seconds: dict[str, float] = {}

    def left() -> float:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _refuse("deadline", "the fix's deadline was reached during the checks")
        return min(timeout, remaining)

    def cancelled() -> None:
        if cancel is not None and cancel.is_set():
            raise _refuse("cancelled", "cancelled")

    with Sandbox(root, python) as sandbox:
        isolation = getattr(sandbox, "isolation", None)
        isolation_text = isolation.describe() if isolation is not None else ""
        sandbox.write(rel_path, original)
        say(f"finding the tests that run {name}")
        t = time.perf_counter()
        rec = record_calls(
            sandbox, rel_path, function, left(), cache=cache, digest=digest, cancel=cancel
        )
        seconds["selection"] = time.perf_counter() - t
        cancelled()
        lines: list[str] = []
        ran = len(rec.outcomes)
        passed = sum(1 for o in rec.outcomes.values() if o == "passed")
        how = "cached run" if rec.cached else f"{rec.duration:.1f} s"
        selected = rec.selected
        if rec.problem and name_tests:
            # the function could not be wrapped (a nested function, say): by name, as a fallback
            selected = [t for t in name_tests if rec.outcomes.get(t) == "passed"]
            lines.append(
                f"tests: {_tests_word(len(selected))} that name {name} and pass with the original "
                f"(it could not be instrumented: {rec.problem})"
            )
        elif rec.status == "error":
            lines.append(f"tests: the test suite could not run: {rec.problem}")
        else:
            suite = f"the suite ({_tests_word(ran)}, {passed} passed with the original; {how})"
            lines.append(
                f"tests: {_tests_word(len(rec.reached))} reach {name} when {suite} runs"
                + (
                    f"; {len(rec.failing)} of them fail with the original and cannot judge it"
                    if rec.failing
                    else ""
                )
                + (
                    f" (stopped at the deadline: {rec.problem})"
                    if rec.status == "timed_out"
                    else ""
                )
            )
        if selected:
            cancelled()
            sandbox.write(rel_path, candidate)
            say(f"running {_tests_word(len(selected))} with the fix")
            t = time.perf_counter()
            run = sandbox.run(selected, left(), cancel=cancel)
            seconds["tests"] = time.perf_counter() - t
            cancelled()
            if not run.passed:
                first = run.failures[0] if run.failures else ""
                raise _refuse(
                    "tests",
                    f"{run.reason or 'the tests did not pass'} with the fix"
                    + (f" ({first})" if first and first not in (run.reason or "") else ""),
                    _tail(run.output_tail),
                )
            lines.append(f"  all {_tests_word(len(selected))} pass with the fix")
        replay = Replay(problem="no recorded calls")
        if rec.calls_path and rec.calls:
            say(f"replaying {rec.calls} recorded calls on both versions")
            t = time.perf_counter()
            replay = replay_calls(
                sandbox,
                rel_path,
                original,
                candidate,
                rec,
                function,
                timeout=left(),
                budget=min(10.0, left()),
                cancel=cancel,
                min_gain=min_gain,
            )
            seconds["replay"] = time.perf_counter() - t
            cancelled()
            if replay.candidate_failed:
                raise _refuse("behaviour", f"replaying the recorded calls on the fix failed: "
                              f"{replay.candidate_failed}")  # fmt: skip
            if replay.mismatches:
                shown = "; ".join(m.text() for m in replay.mismatches[:3])
                more = len(replay.mismatches) - 3
                raise _refuse(
                    "behaviour",
                    f"the fix behaves differently on {len(replay.mismatches)} of "
                    f"{replay.calls} recorded calls: {shown}" + (f" (+{more} more)" if more > 0 else ""),
                )  # fmt: skip
            if replay.calls:
                left_out = []
                if replay.nondeterministic:
                    left_out.append(f"{replay.nondeterministic} not repeatable with the original")
                if replay.skipped:
                    left_out.append(f"{replay.skipped} could not be loaded again")
                lines.append(
                    f"replay: {replay.calls} calls recorded in those tests, replayed on both "
                    "versions in fresh processes: same results, exceptions and arguments"
                    + (f" ({'; '.join(left_out)} left out)" if left_out else "")
                )
        unrecorded = sum(rec.unrecorded.values())
        if unrecorded:
            reasons = ", ".join(f"{n} {why}" for why, n in sorted(rec.unrecorded.items()))
            lines.append(f"  calls not recorded: {reasons}")
        checked = bool(selected) or replay.calls > 0
        if not checked:
            why = rec.problem or (
                f"no test reaches {name}" if rec.status == "complete" else "the tests did not run"
            )
            return Behaviour(
                checked=False,
                headline=f"behaviour not checked: {why}",
                lines=[*lines, "speed not measured: nothing exercised the fix"],
                recording=rec,
                seconds=seconds,
                isolation=isolation_text,
            )
        speed = replay.speed if replay.calls else None
        if speed is None:
            say("timing the tests on both versions")
            t = time.perf_counter()
            speed = _time_tests(
                sandbox,
                rel_path,
                {"before": original, "after": candidate},
                selected,
                left(),
                min(20.0, left()),
                cancel,
            )
            seconds["timing"] = time.perf_counter() - t
            cancelled()
        if speed is None:
            raise _refuse("speed", "the speed could not be measured: the timed test runs failed")
        lines.append(
            "speed: wall clock (perf_counter_ns, no profiler), original and fix alternating "
            f"round by round: {figure(speed)}"
        )
        refusal = gate(speed, min_gain)
        if refusal is not None:
            raise _refuse("speed", refusal)
        parts = []
        if selected:
            parts.append(_tests_word(len(selected)))
        if replay.calls:
            parts.append(f"{replay.calls} replayed calls")
        headline = f"✓ behaviour: {' + '.join(parts)} · {figure(speed, detail=False)}"
        return Behaviour(
            checked=True,
            headline=headline,
            lines=lines,
            tests=selected,
            replayed=replay.calls,
            speed=speed,
            recording=rec,
            seconds=seconds,
            isolation=isolation_text,
        )
