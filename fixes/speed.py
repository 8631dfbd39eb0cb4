"""Speed as a measurement: the ratio of paired wall-clock rounds with its confidence interval,
the wording the user sees, and the gate a candidate must pass.

Each round times the original and the candidate one after the other (the order alternating), so
drift on a shared machine hits both alike; the ratio is the geometric mean of the per-round
ratios, and its 95 % interval a Student t-interval on their logarithms.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field

__all__ = ["Speed", "estimate", "figure", "gate", "seconds_text"]

# two-sided 95 % quantiles of Student's t for 1..30 degrees of freedom; 1.96 beyond
_T95 = (
    12.71, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip


@dataclass
class Speed:
    """Wall-clock figures of one comparison. Times are seconds per round (medians)."""

    method: str  # what was timed: "replayed calls" or "tests"
    before_s: float
    after_s: float
    ratio: float  # before / after: above 1 is faster
    low: float  # 95 % confidence interval of the ratio
    high: float
    rounds: int
    before_samples: list[float] = field(default_factory=list)
    after_samples: list[float] = field(default_factory=list)

    @property
    def half_width(self) -> float:
        """The interval's relative half-width in log space (0.1 ≈ ±10 %)."""
        return (math.log(self.high) - math.log(self.low)) / 2


def estimate(method: str, before: list[float], after: list[float]) -> Speed:
    """The ratio of paired rounds; the interval is infinite-free: one round gives low = high."""
    pairs = [(b, a) for b, a in zip(before, after, strict=False) if b > 0 and a > 0]
    logs = [math.log(b / a) for b, a in pairs] or [0.0]
    mean = statistics.fmean(logs)
    if len(logs) > 1:
        t = _T95[len(logs) - 2] if len(logs) - 1 <= len(_T95) else 1.96
        half = t * statistics.stdev(logs) / math.sqrt(len(logs))
    else:
        half = math.inf
    return Speed(
        method=method,
        before_s=statistics.median(before) if before else 0.0,
        after_s=statistics.median(after) if after else 0.0,
        ratio=math.exp(mean),
        low=math.exp(mean - half) if math.isfinite(half) else 0.0,
        high=math.exp(mean + half) if math.isfinite(half) else math.inf,
        rounds=len(pairs),
        before_samples=list(before),
        after_samples=list(after),
    )


def _two(x: float) -> str:
    """Two significant digits, never in exponent form: 950, 81, 1.4, 0.090."""
    if x == 0 or not math.isfinite(x):
        return "0" if x == 0 else "∞"
    decimals = 1 - math.floor(math.log10(abs(x)))
    value = round(x, decimals)
    if value != 0 and 1 - math.floor(math.log10(abs(value))) < decimals:
        decimals -= 1  # 9.96 rounded to 10.0 has one digit too many
    return f"{value:,.0f}" if decimals <= 0 else f"{value:.{decimals}f}"


def seconds_text(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{_two(seconds / scale)} {unit}"
    return f"{_two(seconds / 1e-9)} ns"


def figure(speed: Speed, *, detail: bool = True) -> str:
    """'81 ms → 0.090 ms (≈900×, 95 % CI 850–950×)', and with `detail` the rounds and what was
    timed: '…, 7 rounds) on replayed calls'."""
    ci = (
        f", 95 % CI {_two(speed.low)}–{_two(speed.high)}×"
        if speed.rounds > 1 and math.isfinite(speed.high)
        else ""
    )
    head = (
        f"{seconds_text(speed.before_s)} → {seconds_text(speed.after_s)} (≈{_two(speed.ratio)}×{ci}"
    )
    if not detail:
        return head + ")"
    return f"{head}, {speed.rounds} rounds) on {speed.method}"


def gate(speed: Speed, min_gain: float) -> str | None:
    """Why the candidate is not offered on speed grounds, or None when it passes."""
    if speed.ratio < 1:
        return f"the candidate is slower: {figure(speed)}"
    if speed.ratio < 1 + min_gain:
        return f"the gain is below the {min_gain:.0%} minimum: {figure(speed)}"
    if speed.low <= 1:
        return f"the gain is within noise (the 95 % interval reaches 1×): {figure(speed)}"
    return None
