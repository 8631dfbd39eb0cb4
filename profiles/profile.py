"""`Profile`: one profile in memory, as numpy arrays indexed by function id.

A profile is three tables:

* functions: path, qualified name, first line, kind, self and total (inclusive) weight, call count;
* edges: caller id, callee id, inclusive weight of the callee under that caller, calls;
* lines: function id, line number, self weight on the line and inclusive weight through it.

Weights are seconds or samples (`unit`). Inclusive weights never double-count recursion: a sample
(or a timed call) counts once for a function however many times it appears on the stack.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
import numpy.typing as npt

from megawatt.model import FunctionKind, HotFunction

Unit = Literal["seconds", "samples"]
SortKey = Literal["self", "total"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

UNKNOWN_CALLS = -1


@dataclass(frozen=True, slots=True)
class Edge:
    """A caller → callee relation with the callee's inclusive weight under that caller."""

    function: int  # the other end's function id
    weight: float
    calls: int | None


@dataclass(frozen=True, slots=True)
class LineFigure:
    line: int
    self_weight: float
    total_weight: float
    memory_mb: float | None = None


@dataclass(frozen=True)
class Profile:
    """An immutable profile. Build one with `ProfileBuilder`; never mutate the arrays."""

    source: str  # the file(s) it was loaded from
    format: str  # "pstats", "speedscope", "collapsed", "pyinstrument", "scalene", "pprof", ...
    unit: Unit
    total_weight: float  # the whole profile: total time or sample count
    paths: tuple[str, ...]
    names: tuple[str, ...]
    first_lines: IntArray
    kinds: npt.NDArray[np.int8]
    self_weight: FloatArray
    total_weight_of: FloatArray
    calls: IntArray  # UNKNOWN_CALLS where the format does not count calls
    edge_caller: IntArray
    edge_callee: IntArray
    edge_weight: FloatArray
    edge_calls: IntArray
    line_function: IntArray
    line_number: IntArray
    line_self: FloatArray
    line_total: FloatArray
    line_memory_mb: FloatArray | None = None
    recorded_at: float | None = None  # seconds since the epoch, where known
    workspace_paths: tuple[str | None, ...] | None = None  # set by path mapping
    _index: dict[tuple[str, str, int], int] = field(default_factory=dict, repr=False, compare=False)

    # -- shape -----------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.names)

    @property
    def has_calls(self) -> bool:
        return bool(len(self.calls)) and bool(np.any(self.calls >= 0))

    @property
    def has_lines(self) -> bool:
        return len(self.line_number) > 0

    def kind(self, fid: int) -> FunctionKind:
        return FunctionKind(int(self.kinds[fid]))

    def key(self, fid: int) -> tuple[str, str, int]:
        return (self.paths[fid], self.names[fid], int(self.first_lines[fid]))

    def find(self, path: str, name: str, line: int | None = None) -> int | None:
        """The id of a function by its recorded path and name (and first line, if given)."""
        if not self._index:
            for fid in range(len(self)):
                self._index[self.key(fid)] = fid
        if line is not None:
            return self._index.get((path, name, line))
        for fid in range(len(self)):
            if self.paths[fid] == path and self.names[fid] == name:
                return fid
        return None

    # -- figures ---------------------------------------------------------------------------

    def share(self, weight: float) -> float:
        return weight / self.total_weight if self.total_weight > 0 else 0.0

    def hot_function(self, fid: int) -> HotFunction:
        calls = int(self.calls[fid])
        return HotFunction(
            path=self.paths[fid],
            function=self.names[fid],
            line=int(self.first_lines[fid]),
            kind=self.kind(fid),
            self_time=float(self.self_weight[fid]),
            total_time=float(self.total_weight_of[fid]),
            self_share=self.share(float(self.self_weight[fid])),
            total_share=self.share(float(self.total_weight_of[fid])),
            calls=None if calls < 0 else calls,
            workspace_path=self.workspace_paths[fid] if self.workspace_paths else None,
        )

    def ranked(
        self,
        sort: SortKey = "self",
        kinds: Iterable[FunctionKind] | None = None,
        min_share: float = 0.0,
    ) -> IntArray:
        """Function ids, hottest first, restricted to `kinds` (all when None)."""
        weights = self.self_weight if sort == "self" else self.total_weight_of
        secondary = self.total_weight_of if sort == "self" else self.self_weight
        mask = np.ones(len(self), dtype=bool)
        if kinds is not None:
            mask &= np.isin(self.kinds, np.array([int(k) for k in kinds], dtype=np.int8))
        if min_share > 0 and self.total_weight > 0:
            mask &= weights >= min_share * self.total_weight
        ids = np.flatnonzero(mask & (weights > 0))
        # lexsort: last key is primary; ties broken by the other weight, then by name for stability
        order = np.lexsort((-secondary[ids], -weights[ids]))
        return ids[order]

    def top(
        self,
        n: int = 20,
        sort: SortKey = "self",
        kinds: Iterable[FunctionKind] | None = (FunctionKind.USER, FunctionKind.LIBRARY),
        min_share: float = 0.0,
    ) -> list[HotFunction]:
        return [self.hot_function(int(f)) for f in self.ranked(sort, kinds, min_share)[:n]]

    # -- call graph and lines --------------------------------------------------------------

    def callers(self, fid: int) -> list[Edge]:
        sel = np.flatnonzero(self.edge_callee == fid)
        return self._edges(sel, self.edge_caller)

    def callees(self, fid: int) -> list[Edge]:
        sel = np.flatnonzero(self.edge_caller == fid)
        return self._edges(sel, self.edge_callee)

    def _edges(self, sel: IntArray, other: IntArray) -> list[Edge]:
        sel = sel[np.argsort(-self.edge_weight[sel], kind="stable")]
        return [
            Edge(
                function=int(other[i]),
                weight=float(self.edge_weight[i]),
                calls=None if self.edge_calls[i] < 0 else int(self.edge_calls[i]),
            )
            for i in sel
        ]

    def lines(self, fid: int) -> list[LineFigure]:
        sel = np.flatnonzero(self.line_function == fid)
        sel = sel[np.argsort(self.line_number[sel], kind="stable")]
        mem = self.line_memory_mb
        return [
            LineFigure(
                line=int(self.line_number[i]),
                self_weight=float(self.line_self[i]),
                total_weight=float(self.line_total[i]),
                memory_mb=None if mem is None or np.isnan(mem[i]) else float(mem[i]),
            )
            for i in sel
        ]

    def with_workspace_paths(self, mapped: Sequence[str | None]) -> Profile:
        if len(mapped) != len(self):
            raise ValueError("one mapped path per function is required")
        kinds = self.kinds.copy()
        for fid, path in enumerate(mapped):
            if path is not None and kinds[fid] == FunctionKind.LIBRARY:
                kinds[fid] = FunctionKind.USER
        return replace(self, workspace_paths=tuple(mapped), kinds=kinds, _index={})
