"""Combining profiles: merge several into one, diff two."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from megawatt.errors import MegawattError
from megawatt.profiles.builder import ProfileBuilder
from megawatt.profiles.profile import Profile


def merge(profiles: Sequence[Profile]) -> Profile:
    """One profile with every function's figures added up; all inputs must share a unit."""
    if not profiles:
        raise MegawattError("no profiles to merge")
    if len(profiles) == 1:
        return profiles[0]
    units = {p.unit for p in profiles}
    if len(units) > 1:
        detail = ", ".join(f"{p.source} ({p.unit})" for p in profiles)
        raise MegawattError(f"cannot merge profiles measured in different units: {detail}")
    formats = sorted({p.format for p in profiles})
    b = ProfileBuilder(" + ".join(p.source for p in profiles), "+".join(formats), profiles[0].unit)
    stamps = [p.recorded_at for p in profiles if p.recorded_at is not None]
    b.recorded_at = max(stamps) if stamps else None
    for p in profiles:
        ids = [
            b.function(p.paths[f], p.names[f], int(p.first_lines[f]), p.kind(f))
            for f in range(len(p))
        ]
        for f, new in enumerate(ids):
            calls = int(p.calls[f])
            b.add_function(
                new,
                float(p.self_weight[f]),
                float(p.total_weight_of[f]),
                calls if calls >= 0 else None,
            )
        for i in range(len(p.edge_caller)):
            calls = int(p.edge_calls[i])
            b.add_edge(
                ids[int(p.edge_caller[i])],
                ids[int(p.edge_callee[i])],
                float(p.edge_weight[i]),
                calls if calls >= 0 else None,
            )
        mem = p.line_memory_mb
        for i in range(len(p.line_number)):
            m = None if mem is None or np.isnan(mem[i]) else float(mem[i])
            b.add_line(
                ids[int(p.line_function[i])],
                int(p.line_number[i]),
                float(p.line_self[i]),
                float(p.line_total[i]),
                m,
            )
    return b.build(total_weight=sum(p.total_weight for p in profiles))


# What a function is matched by across two profiles: its path and its name. By default both as
# recorded; `profiles.compare` keys them by path within each profile's project instead, so two
# checkouts of one project pair up.
Key = tuple[str, str]


@dataclass(frozen=True, slots=True)
class FunctionDelta:
    path: str  # as matched (the after profile's key, for a function in both)
    function: str
    line: int
    in_before: bool
    in_after: bool
    before_self: float  # weights in each profile's unit
    after_self: float
    before_total: float
    after_total: float
    before_self_share: float
    after_self_share: float
    before_total_share: float
    after_total_share: float

    @property
    def self_change(self) -> float:
        return self.after_self_share - self.before_self_share

    @property
    def total_change(self) -> float:
        return self.after_total_share - self.before_total_share

    @property
    def time_change(self) -> float:
        return self.after_total - self.before_total

    @property
    def self_time_change(self) -> float:
        return self.after_self - self.before_self


@dataclass(frozen=True, slots=True)
class Diff:
    before: Profile
    after: Profile
    functions: list[FunctionDelta]

    @property
    def comparable(self) -> bool:
        """Whether weights compare directly (one unit), not only shares."""
        return self.before.unit == self.after.unit


def diff(
    before: Profile,
    after: Profile,
    before_keys: Sequence[Key] | None = None,
    after_keys: Sequence[Key] | None = None,
) -> Diff:
    """Per function, its time and share before and after; the largest change first.

    With one unit the change in self time ranks, then in inclusive time: where the time was
    gained or saved comes first, not every caller above it (whose inclusive time moves with it,
    and by more when unrelated parts of the run wobble the same way); after a speed-up a
    function that did not change keeps its time while its share grows. Across units only shares
    compare. A function is
    matched by key and first line, then by key alone (it moved), so an edit above it does not
    split it in two.
    """
    b_keys = list(before_keys) if before_keys is not None else _recorded(before)
    a_keys = list(after_keys) if after_keys is not None else _recorded(after)
    a_exact: dict[tuple[str, str, int], int] = {}
    a_loose: dict[Key, int] = {}
    a_short: dict[Key, list[int]] = {}
    for f, key in enumerate(a_keys):
        a_exact.setdefault((*key, int(after.first_lines[f])), f)
        a_loose.setdefault(key, f)
        a_short.setdefault(_short(key), []).append(f)
    pairs: list[tuple[int | None, int | None]] = []
    matched_after: set[int] = set()
    unmatched: list[int] = []
    for bf, key in enumerate(b_keys):
        af = a_exact.get((*key, int(before.first_lines[bf])))
        if af is None or af in matched_after:
            af = a_loose.get(key)
            if af in matched_after:
                af = None
        if af is None:
            unmatched.append(bf)
            continue
        matched_after.add(af)
        pairs.append((bf, af))
    # one side named by its source (`parse.<locals>.<genexpr>`), the other as recorded
    # (`<genexpr>`, where the file is gone): the last part of the name, when only one fits
    for bf in unmatched:
        free = [f for f in a_short.get(_short(b_keys[bf]), []) if f not in matched_after]
        af = free[0] if len(free) == 1 else None
        if af is not None:
            matched_after.add(af)
        pairs.append((bf, af))
    pairs.extend((None, af) for af in range(len(after)) if af not in matched_after)

    out: list[FunctionDelta] = []
    for bf, af in pairs:
        key = a_keys[af] if af is not None else b_keys[bf]  # type: ignore[index]  # one is set
        out.append(_delta(before, after, bf, af, key))
    if before.unit == after.unit:
        out.sort(key=lambda d: (-abs(d.self_time_change), -abs(d.time_change), d.path, d.function))
    else:
        out.sort(key=lambda d: (-abs(d.total_change), -abs(d.self_change), d.path, d.function))
    return Diff(before, after, out)


def _short(key: Key) -> Key:
    return key[0], key[1].rsplit(".", 1)[-1]


def _recorded(p: Profile) -> list[Key]:
    return [(p.paths[f], p.names[f]) for f in range(len(p))]


def _delta(
    before: Profile, after: Profile, bf: int | None, af: int | None, key: Key
) -> FunctionDelta:
    ref, fid = (after, af) if af is not None else (before, bf)
    assert fid is not None

    def weights(p: Profile, f: int | None) -> tuple[float, float]:
        return (0.0, 0.0) if f is None else (float(p.self_weight[f]), float(p.total_weight_of[f]))

    b_self, b_total = weights(before, bf)
    a_self, a_total = weights(after, af)
    return FunctionDelta(
        path=key[0],
        function=key[1],
        line=int(ref.first_lines[fid]),
        in_before=bf is not None,
        in_after=af is not None,
        before_self=b_self,
        after_self=a_self,
        before_total=b_total,
        after_total=a_total,
        before_self_share=before.share(b_self),
        after_self_share=after.share(a_self),
        before_total_share=before.share(b_total),
        after_total_share=after.share(a_total),
    )
