"""`ProfileBuilder`: the one way loaders turn what they read into a `Profile`.

Loaders of sampled formats intern frames and add whole stacks (root first) with a weight; the
builder derives self, inclusive, edge and line weights, counting each function once per stack so
recursion never inflates inclusive figures. Loaders of aggregated formats (pstats, call trees) set
the figures per function and per edge directly.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

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
        n = len(self._names)
        self_w = _dense(self._self, n)
        total_w = _dense(self._total, n)
        calls = np.full(n, UNKNOWN_CALLS, dtype=np.int64)
        for fid, c in self._calls.items():
            calls[fid] = c

        e_code, e_weight = _pairs(self._edges, n)
        e_calls_code, e_calls = _pairs(self._edge_calls, n)
        l_keys = set(self._line_self) | set(self._line_total)
        line_span = 1 + max([k[1] for k in l_keys] + self._frame_line + [0])
        l_code = np.fromiter((f * line_span + ln for f, ln in l_keys), np.int64, len(l_keys))
        l_self = np.fromiter((self._line_self.get(k, 0.0) for k in l_keys), np.float64, len(l_keys))
        l_total = np.fromiter(
            (self._line_total.get(k, 0.0) for k in l_keys), np.float64, len(l_keys)
        )

        sampled = 0.0
        if self._stacks:
            folded = _fold(self._stacks, self._frame_function, self._frame_line, n, line_span)
            self._stacks.clear()
            sampled = folded.total
            self_w += folded.self_w
            total_w += folded.total_w
            e_code = np.concatenate([e_code, folded.edge_code])
            e_weight = np.concatenate([e_weight, folded.edge_weight])
            l_code = np.concatenate([l_code, folded.line_code, folded.line_code])
            l_self = np.concatenate([l_self, folded.line_self, np.zeros_like(folded.line_self)])
            l_total = np.concatenate([l_total, np.zeros_like(folded.line_total), folded.line_total])
        # A function's inclusive weight can never be below its own.
        np.maximum(total_w, self_w, out=total_w)

        e_code, (e_weight,) = _sum_by(e_code, e_weight)
        edge_calls = np.full(len(e_code), UNKNOWN_CALLS, dtype=np.int64)
        if len(e_calls_code):
            pos = np.searchsorted(e_code, e_calls_code)
            edge_calls[pos] = e_calls
        l_code, (l_self, l_total) = _sum_by(l_code, l_self, l_total)
        l_mem = None
        if self._line_memory:
            l_mem = np.full(len(l_code), np.nan)
            for (f, ln), mb in self._line_memory.items():
                l_mem[np.searchsorted(l_code, f * line_span + ln)] = mb

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
            edge_caller=e_code // max(n, 1),
            edge_callee=e_code % max(n, 1),
            edge_weight=e_weight,
            edge_calls=edge_calls,
            line_function=l_code // line_span,
            line_number=l_code % line_span,
            line_self=l_self,
            line_total=l_total,
            line_memory_mb=l_mem,
            recorded_at=self.recorded_at,
        )


def _dense(values: dict[int, float], n: int) -> npt.NDArray[np.float64]:
    out = np.zeros(n, dtype=np.float64)
    if values:
        out[np.fromiter(values.keys(), np.int64, len(values))] = np.fromiter(
            values.values(), np.float64, len(values)
        )
    return out


def _pairs(
    values: Mapping[tuple[int, int], float], n: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    code = np.fromiter((a * n + b for a, b in values), np.int64, len(values))
    return code, np.fromiter(values.values(), np.float64, len(values))


def _sum_by(
    code: npt.NDArray[np.int64], *weights: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.int64], list[npt.NDArray[np.float64]]]:
    """Unique codes, ascending, with each weight array summed per code."""
    uniq, inverse = np.unique(code, return_inverse=True)
    return uniq, [np.bincount(inverse, w, minlength=len(uniq)) for w in weights]


def _unique(codes: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    # sort + neighbour mask: numpy 2.x's plain np.unique takes a hashing path that is ~100x
    # slower on a million spread-out int64 codes
    if len(codes) == 0:
        return codes
    s = np.sort(codes)
    keep = np.empty(len(s), dtype=bool)
    keep[0] = True
    np.not_equal(s[1:], s[:-1], out=keep[1:])
    return s[keep]


@dataclass
class _Folded:
    total: float
    self_w: npt.NDArray[np.float64]
    total_w: npt.NDArray[np.float64]
    edge_code: npt.NDArray[np.int64]
    edge_weight: npt.NDArray[np.float64]
    line_code: npt.NDArray[np.int64]
    line_self: npt.NDArray[np.float64]
    line_total: npt.NDArray[np.float64]


def _fold(
    stacks: dict[tuple[int, ...], float],
    frame_function: list[int],
    frame_line: list[int],
    n: int,
    line_span: int,
) -> _Folded:
    """Self, inclusive, edge and line weights of unique stacks, in numpy.

    Each stack is a run in one flat array of frame ids. A function (or line, or caller→callee
    pair) that occurs several times in one stack is counted once for that stack: codes
    `stack * n + function` are made unique before weights are added, so recursion never
    inflates inclusive figures.
    """
    count = len(stacks)
    lengths = np.fromiter(map(len, stacks), np.int64, count)
    frames = np.fromiter(itertools.chain.from_iterable(stacks), np.int64, int(lengths.sum()))
    weights = np.fromiter(stacks.values(), np.float64, count)
    ff = np.asarray(frame_function, dtype=np.int64)
    fl = np.asarray(frame_line, dtype=np.int64)
    stack_of = np.repeat(np.arange(count, dtype=np.int64), lengths)
    funcs = ff[frames]
    leaf = np.cumsum(lengths) - 1

    self_w = np.bincount(funcs[leaf], weights, minlength=n)

    per_stack_func = _unique(stack_of * n + funcs)
    total_w = np.bincount(per_stack_func % n, weights[per_stack_func // n], minlength=n)

    # lines: self on the leaf frame, inclusive once per stack for every frame
    n_frames = len(ff)
    line_self_f = np.bincount(frames[leaf], weights, minlength=n_frames)
    per_stack_frame = _unique(stack_of * n_frames + frames)
    line_total_f = np.bincount(
        per_stack_frame % n_frames, weights[per_stack_frame // n_frames], minlength=n_frames
    )
    has_line = (fl > 0) & ((line_self_f > 0) | (line_total_f > 0))
    line_code = ff[has_line] * line_span + fl[has_line]

    # edges: adjacent positions of one stack whose functions differ
    inner = np.ones(len(frames), dtype=bool)
    inner[leaf] = False
    caller_pos = np.flatnonzero(inner)
    caller, callee = funcs[caller_pos], funcs[caller_pos + 1]
    keep = caller != callee
    caller_pos, caller, callee = caller_pos[keep], caller[keep], callee[keep]
    pair = caller * n + callee
    # n * n pair codes times the stack count stay far inside int64 for real profiles
    per_stack_pair = _unique(stack_of[caller_pos] * (n * n) + pair)
    edge_code, (edge_weight,) = _sum_by(
        per_stack_pair % (n * n), weights[per_stack_pair // (n * n)]
    )
    return _Folded(
        total=float(weights.sum()),
        self_w=self_w,
        total_w=total_w,
        edge_code=edge_code,
        edge_weight=edge_weight,
        line_code=line_code,
        line_self=line_self_f[has_line],
        line_total=line_total_f[has_line],
    )
