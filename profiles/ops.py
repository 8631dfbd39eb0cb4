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


@dataclass(frozen=True, slots=True)
class FunctionDelta:
    path: str
    function: str
    line: int
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


def diff(before: Profile, after: Profile) -> list[FunctionDelta]:
    """Per function, its share before and after; largest change in inclusive share first.

    Shares, not absolute weights, are compared so that runs of different lengths or sampling
    rates are comparable. A function is matched by path, name and first line, then by path and
    name alone (it moved), so an edit above it does not split it in two.
    """

    def keyed(p: Profile) -> tuple[dict[tuple[str, str, int], int], dict[tuple[str, str], int]]:
        exact: dict[tuple[str, str, int], int] = {}
        loose: dict[tuple[str, str], int] = {}
        for f in range(len(p)):
            exact[p.key(f)] = f
            loose.setdefault((p.paths[f], p.names[f]), f)
        return exact, loose

    b_exact, _ = keyed(before)
    a_exact, a_loose = keyed(after)
    pairs: list[tuple[int | None, int | None]] = []
    matched_after: set[int] = set()
    for key, bf in b_exact.items():
        af = a_exact.get(key)
        if af is None or af in matched_after:
            af = a_loose.get((key[0], key[1]))
            if af in matched_after:
                af = None
        if af is not None:
            matched_after.add(af)
        pairs.append((bf, af))
    pairs.extend((None, af) for af in a_exact.values() if af not in matched_after)

    out: list[FunctionDelta] = []
    for bf, af in pairs:
        ref, fid = (after, af) if af is not None else (before, bf)
        assert fid is not None
        out.append(
            FunctionDelta(
                path=ref.paths[fid],
                function=ref.names[fid],
                line=int(ref.first_lines[fid]),
                before_self_share=before.share(float(before.self_weight[bf]))
                if bf is not None
                else 0.0,
                after_self_share=after.share(float(after.self_weight[af]))
                if af is not None
                else 0.0,
                before_total_share=before.share(float(before.total_weight_of[bf]))
                if bf is not None
                else 0.0,
                after_total_share=after.share(float(after.total_weight_of[af]))
                if af is not None
                else 0.0,
            )
        )
    out.sort(key=lambda d: (-abs(d.total_change), -abs(d.self_change), d.path, d.function))
    return out
