"""The domain model shared by every layer: plain frozen dataclasses, no I/O."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class FunctionKind(enum.IntEnum):
    """What a profiled function is; only USER code is the user's to fix."""

    USER = 0  # code in the workspace
    LIBRARY = 1  # Python code outside the workspace (stdlib, site-packages)
    NATIVE = 2  # built-ins and C functions: no Python source
    IDLE = 3  # waiting: sleeps, selects, lock acquires, awaits

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class Location:
    """A range in a file. Lines are 1-based; columns are 0-based code points."""

    path: str
    line: int
    column: int = 0
    end_line: int | None = None
    end_column: int | None = None


@dataclass(frozen=True, slots=True)
class HotFunction:
    """One function's figures in a profile, as shown to a user."""

    path: str  # as recorded by the profiler
    function: str  # qualified name where the profiler records one
    line: int  # first line of the function (0 when unknown)
    kind: FunctionKind
    self_time: float
    total_time: float
    self_share: float  # of the profile's total, 0..1
    total_share: float
    calls: int | None  # None where the format has no call counts
    workspace_path: str | None = None  # where the recorded path maps in the workspace
    workspace_line: int | None = None  # the function's line in today's source


@dataclass(frozen=True, slots=True)
class Span:
    """A range in a source file, as the analyzers report it.

    Bytes are offsets into the UTF-8 source; lines are 1-based; columns are 0-based and counted
    in code points (what an editor calls a character), so every front end converts from here.
    """

    start_byte: int
    end_byte: int
    line: int
    column: int
    end_line: int
    end_column: int


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace source bytes [start, end) with `text`."""

    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class Fix:
    """A deterministic rewrite: what it does, and the edits that do it."""

    title: str  # says what will change: "Memoize fib() with functools.cache"
    edits: tuple[Edit, ...]
    # safe: behaviour is the same in every case the analysis can see; applied by fix-all and
    # `megawatt fix --write`. Unsafe fixes are offered one at a time, with `note` saying why.
    safe: bool = True
    note: str = ""


@dataclass(frozen=True, slots=True)
class Finding:
    """What one detector saw at one place; it needs no profile."""

    skill: str  # the opportunity class = the skill id, kebab-case, stable
    path: str
    span: Span
    function: str | None  # qualified name of the enclosing function, None at module level
    function_line: int | None  # the enclosing function's `def` line
    message: str
    confidence: float  # 0..1: how sure the detector is that this is real and worth fixing
    evidence: tuple[tuple[str, str], ...] = ()  # what matched, as (what, text) pairs
    fix: Fix | None = None

    @property
    def key(self) -> str:
        """Stable identity within a file version (used by editors to find it again)."""
        return f"{self.skill}:{self.span.start_byte}:{self.span.end_byte}"


@dataclass(frozen=True, slots=True)
class Opportunity:
    """A finding ranked: how much of the profile it could give back."""

    finding: Finding
    expected_gain: float  # from the skill: the share of the function's time a fix saves
    function_share: float | None  # the enclosing function's inclusive share; None: no profile
    # of the whole profile, from the profile's evidence about the finding (megawatt/savings.py);
    # 0 when the profile never saw the code or shows its lines cold
    estimated_savings: float
    score: float  # what ranking sorts by
    evidence: str = ""  # what the estimate was read from, for a person to check
    method: str = ""  # "calls", "lines", "self" (rough), "function", "cold"; "" without profile
    rough: bool = False  # no line or call figures: from the function's self time

    @property
    def skill(self) -> str:
        return self.finding.skill
