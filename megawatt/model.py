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
