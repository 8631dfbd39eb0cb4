"""Replay the recorded calls against the original and the candidate, in the sandbox, in fresh
processes, round by round: the first rounds check behaviour (same results, exceptions and
argument mutation), every round times the calls (wall clock, no profiler), until the ratio's
interval is tight, the rounds run out, or the budget does.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field

from megawatt.fixes.sandbox import Sandbox
from megawatt.fixes.selection import Recording, install_probe
from megawatt.fixes.speed import Speed, estimate

__all__ = ["Mismatch", "Replay", "replay_calls"]

REPLAYER = "_megawatt_replayer"
PASSES = 3  # per process: one that checks and warms up, two timed


@dataclass(frozen=True)
class Mismatch:
    index: int
    call: str
    test: str
    why: str

    def text(self) -> str:
        origin = f" (recorded in {self.test})" if self.test else ""
        return f"call {self.index + 1}{origin}: {self.call} {self.why}"


@dataclass
class Replay:
    calls: int = 0  # replayed and compared
    nondeterministic: int = 0  # calls the original itself did not repeat: left out
    skipped: int = 0  # calls that could not be loaded again
    mismatches: list[Mismatch] = field(default_factory=list)
    speed: Speed | None = None
    problem: str = ""  # why the replay could not run (with the original)
    candidate_failed: str = ""  # the candidate's replay process failed: why


@dataclass
class _Pass:
    ns: list[int | None]  # per recorded call; None: skipped
    why: list[str]
    calls: list[str]
    tests: list[str]


def _one_pass(
    sandbox: Sandbox,
    script: str,
    calls_path: str,
    module: str,
    function: str,
    timeout: float,
    cancel: threading.Event | None,
    tag: str,
) -> tuple[_Pass | None, str]:
    out = sandbox.scratch(f"replay-{tag}.json")
    out.unlink(missing_ok=True)
    argv = [sandbox.python, script, calls_path, module, function, str(out), str(PASSES)]
    done = sandbox.execute(argv, timeout, cancel=cancel)
    if done.returncode is None:
        return None, done.reason
    if done.cancelled:
        return None, "cancelled"
    if done.timed_out:
        return None, f"the replay did not finish within {timeout:g} s"
    try:
        data = json.loads(out.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        tail = done.output.strip().splitlines()[-12:]
        return None, "the replay process failed" + (":\n" + "\n".join(tail) if tail else "")
    rows = data.get("calls", [])
    return (
        _Pass(
            ns=[int(r["ns"]) if "ns" in r else None for r in rows],
            why=[r.get("why", "") for r in rows],
            calls=[r.get("call", "") for r in rows],
            tests=[r.get("test", "") for r in rows],
        ),
        "",
    )


def replay_calls(
    sandbox: Sandbox,
    rel_path: str,
    original: bytes,
    candidate: bytes,
    recording: Recording,
    function: str,
    *,
    timeout: float,
    budget: float,
    cancel: threading.Event | None = None,
    min_rounds: int = 3,
    max_rounds: int = 15,
    target_half_width: float = 0.1,
    min_gain: float = 0.05,
) -> Replay:
    """Check and time the recorded calls. The sandbox's `rel_path` holds the candidate after."""
    result = Replay()
    if not recording.calls_path or not recording.module:
        result.problem = "no recorded calls"
        return result
    script = str(install_probe(sandbox, "replayer", REPLAYER))
    started = time.perf_counter()
    sources = {"before": original, "after": candidate}
    totals: dict[str, list[float]] = {"before": [], "after": []}
    excluded: set[int] = set()
    for index in range(max_rounds):
        order = ("before", "after") if index % 2 == 0 else ("after", "before")
        passes: dict[str, _Pass] = {}
        for side in order:
            sandbox.write(rel_path, sources[side])
            left = budget - (time.perf_counter() - started)
            run, why = _one_pass(
                sandbox,
                script,
                recording.calls_path,
                recording.module,
                function,
                max(1.0, min(timeout, left)),
                cancel,
                f"{index}-{side}",
            )
            if run is None:
                if side == "after":
                    result.candidate_failed = why
                else:
                    result.problem = f"the original's replay failed: {why}"
                sandbox.write(rel_path, candidate)
                return result
            passes[side] = run
        before, after = passes["before"], passes["after"]
        if index == 0:
            excluded = {i for i, w in enumerate(before.why) if w or before.ns[i] is None}
            result.nondeterministic = sum(1 for i in excluded if before.ns[i] is not None)
            result.skipped = sum(1 for n in before.ns if n is None)
            result.calls = len(before.ns) - len(excluded)
        for i, why in enumerate(after.why):
            if i not in excluded and (why or after.ns[i] is None) and i < len(before.ns):
                result.mismatches.append(
                    Mismatch(i, after.calls[i], after.tests[i], why or "could not be replayed")
                )
        if result.mismatches or result.calls == 0:
            break
        for side, run in passes.items():
            totals[side].append(
                sum(n for i, n in enumerate(run.ns) if i not in excluded and n is not None) / 1e9
            )
        speed = estimate("replayed calls", totals["before"], totals["after"])
        result.speed = speed
        spent = time.perf_counter() - started
        if index + 1 >= min_rounds and speed.half_width <= target_half_width:
            break
        # a wider interval that lies wholly on one side of the gate decides it: stop sooner
        decided = speed.low > 1 + min_gain or speed.high < 1
        if index + 1 >= 2 * min_rounds and decided and speed.half_width <= 2.5 * target_half_width:
            break
        if spent >= budget:
            break
    sandbox.write(rel_path, candidate)
    return result
