"""`ProfileBuilder`: the one way loaders turn what they read into a `Profile`.

Loaders of sampled formats intern frames and add whole stacks (root first) with a weight; the
builder derives self, inclusive, edge and line weights, counting each function once per stack so
recursion never inflates inclusive figures. Loaders of aggregated formats (pstats, call trees) set
the figures per function and per edge directly.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from megawatt.model import FunctionKind
from megawatt.profiles.kinds import classify
from megawatt.profiles.profile import UNKNOWN_CALLS, Profile, Unit


class ProfileBuilder:
    def __init__(self, source: str, format: str, unit: Unit) -> None:
        self.source = source
        self.format = format
        self.unit: Unit = unit
        self._functions: dict[tuple[str, str, int], int] = {}
        self._paths: list[str] = []
        self._names: list[str] = []
        self._lines: list[int] = []
        self._kinds: list[int] = []
        self._self: defaultdict[int, float] = defaultdict(float)
        self._total: defaultdict[int, float] = defaultdict(float)
        self._calls: dict[int, int] = {}
        self._edges: defaultdict[tuple[int, int], float] = defaultdict(float)
        self._edge_calls: dict[tuple[int, int], int] = {}
        self._line_self: defaultdict[tuple[int, int], float] = defaultdict(float)
        self._line_total: defaultdict[tuple[int, int], float] = defaultdict(float)
        self._line_memory: dict[tuple[int, int], float] = {}
        self._frames: dict[tuple[int, int], int] = {}
        self._frame_function: list[int] = []
        self._frame_line: list[int] = []
        self._stacks: defaultdict[tuple[int, ...], float] = defaultdict(float)
        self.recorded_at: float | None = None

    # -- interning -------------------------------------------------------------------------

    def function(
        self, path: str, name: str, first_line: int = 0, kind: FunctionKind | None = None
    ) -> int:
        key = (path, name, first_line)
        fid = self._functions.get(key)
        if fid is None:
            fid = len(self._names)
            self._functions[key] = fid
            self._paths.append(path)
            self._names.append(name)
            self._lines.append(first_line)
            self._kinds.append(int(kind if kind is not None else classify(path, name)))
        return fid

    def frame(self, function: int, line: int) -> int:
        """A position inside a function (a line), as sampled profilers record it."""
        key = (function, line)
        fr = self._frames.get(key)
        if fr is None:
            fr = len(self._frame_function)
            self._frames[key] = fr
            self._frame_function.append(function)
            self._frame_line.append(line)
        return fr

    # -- sampled data ----------------------------------------------------------------------

    def add_stack(self, frames: Sequence[int], weight: float) -> None:
        """One stack of frame ids, root first, leaf last, seen with `weight`."""
        if weight and frames:
            self._stacks[tuple(frames)] += weight

    def _fold_stacks(self) -> float:
        total = 0.0
        ff = self._frame_function
        fl = self._frame_line
        for stack, w in self._stacks.items():
            total += w
            funcs = [ff[f] for f in stack]
            leaf = stack[-1]
            self._self[funcs[-1]] += w
            if fl[leaf] > 0:
                self._line_self[(funcs[-1], fl[leaf])] += w
            for fid in set(funcs):
                self._total[fid] += w
            for fr in set(stack):
                if fl[fr] > 0:
                    self._line_total[(ff[fr], fl[fr])] += w
            for pair in set(zip(funcs, funcs[1:], strict=False)):
                if pair[0] != pair[1]:
                    self._edges[pair] += w
        self._stacks.clear()
        return total

    # -- aggregated data -------------------------------------------------------------------

    def set_function(
        self, fid: int, self_weight: float, total_weight: float, calls: int | None = None
    ) -> None:
        self._self[fid] = self_weight
        self._total[fid] = total_weight
        if calls is not None:
            self._calls[fid] = calls

    def add_function(
        self, fid: int, self_weight: float, total_weight: float, calls: int | None = None
    ) -> None:
        self._self[fid] += self_weight
        self._total[fid] += total_weight
        if calls is not None:
            self._calls[fid] = self._calls.get(fid, 0) + calls

    def add_edge(self, caller: int, callee: int, weight: float, calls: int | None = None) -> None:
        self._edges[(caller, callee)] += weight
        if calls is not None:
            self._edge_calls[(caller, callee)] = self._edge_calls.get((caller, callee), 0) + calls

    def add_line(
        self,
        fid: int,
        line: int,
        self_weight: float,
        total_weight: float | None = None,
        memory_mb: float | None = None,
    ) -> None:
        self._line_self[(fid, line)] += self_weight
        self._line_total[(fid, line)] += self_weight if total_weight is None else total_weight
        if memory_mb is not None:
            self._line_memory[(fid, line)] = self._line_memory.get((fid, line), 0.0) + memory_mb

    # -- result ----------------------------------------------------------------------------

    def build(self, total_weight: float | None = None) -> Profile:
        """The profile; `total_weight` defaults to the sum of sampled stacks or of self weights."""
        sampled = self._fold_stacks() if self._stacks else 0.0
        n = len(self._names)
        self_w = np.zeros(n, dtype=np.float64)
        total_w = np.zeros(n, dtype=np.float64)
        calls = np.full(n, UNKNOWN_CALLS, dtype=np.int64)
        for fid, w in self._self.items():
            self_w[fid] = w
        for fid, w in self._total.items():
            total_w[fid] = w
        for fid, c in self._calls.items():
            calls[fid] = c
        # A function's inclusive weight can never be below its own.
        np.maximum(total_w, self_w, out=total_w)

        edges = list(self._edges.items())
        e_caller = np.fromiter((k[0] for k, _ in edges), dtype=np.int64, count=len(edges))
        e_callee = np.fromiter((k[1] for k, _ in edges), dtype=np.int64, count=len(edges))
        e_weight = np.fromiter((w for _, w in edges), dtype=np.float64, count=len(edges))
        e_calls = np.fromiter(
            (self._edge_calls.get(k, UNKNOWN_CALLS) for k, _ in edges),
            dtype=np.int64,
            count=len(edges),
        )

        line_keys = sorted(set(self._line_self) | set(self._line_total))
        l_func = np.fromiter((k[0] for k in line_keys), dtype=np.int64, count=len(line_keys))
        l_no = np.fromiter((k[1] for k in line_keys), dtype=np.int64, count=len(line_keys))
        l_self = np.fromiter(
            (self._line_self.get(k, 0.0) for k in line_keys), dtype=np.float64, count=len(line_keys)
        )
        l_total = np.fromiter(
            (self._line_total.get(k, 0.0) for k in line_keys),
            dtype=np.float64,
            count=len(line_keys),
        )
        l_mem = None
        if self._line_memory:
            l_mem = np.fromiter(
                (self._line_memory.get(k, np.nan) for k in line_keys),
                dtype=np.float64,
                count=len(line_keys),
            )
        if total_weight is None:
            total_weight = sampled if sampled else float(self_w.sum())
        return Profile(
            source=self.source,
            format=self.format,
            unit=self.unit,
            total_weight=float(total_weight),
            paths=tuple(self._paths),
            names=tuple(self._names),
            first_lines=np.asarray(self._lines, dtype=np.int64),
            kinds=np.asarray(self._kinds, dtype=np.int8),
            self_weight=self_w,
            total_weight_of=total_w,
            calls=calls,
            edge_caller=e_caller,
            edge_callee=e_callee,
            edge_weight=e_weight,
            edge_calls=e_calls,
            line_function=l_func,
            line_number=l_no,
            line_self=l_self,
            line_total=l_total,
            line_memory_mb=l_mem,
            recorded_at=self.recorded_at,
        )
