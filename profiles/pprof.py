"""pprof: the `perftools.profiles.Profile` protobuf of github.com/google/pprof.

Written by Go's runtime/pprof, Pyroscope, Parca, Datadog, Google Cloud Profiler and austin2pprof.
The file is gzipped on disk; `detect.read_profile_bytes` has already inflated it.

    string_table   every name is an index into it; string_table[0] is ""
    sample         location_id (leaf first) and one value per sample_type
    location       id → lines; several lines are inlined frames: line[0] innermost, last the caller
    function       id → name / system_name, filename, start_line

Only CPU and wall-clock values make a Megawatt profile: time types become seconds, sample counts
stay samples. Heap, lock and other profiles are refused with the sample types they do hold.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from google.protobuf.message import DecodeError

from megawatt.errors import ProfileFormatError
from megawatt.model import FunctionKind
from megawatt.profiles.builder import ProfileBuilder
from megawatt.profiles.pprof_schema import profile_class
from megawatt.profiles.profile import Profile, Unit

format = "pprof"

# Seconds per unit. Writers spell units freely: Go writes "nanoseconds", austin2pprof "μs".
_TIME_UNITS: dict[str, float] = {
    "nanoseconds": 1e-9,
    "nanosecond": 1e-9,
    "ns": 1e-9,
    "microseconds": 1e-6,
    "microsecond": 1e-6,
    "us": 1e-6,
    "\u03bcs": 1e-6,  # Greek mu
    "\u00b5s": 1e-6,  # micro sign
    "milliseconds": 1e-3,
    "millisecond": 1e-3,
    "ms": 1e-3,
    "seconds": 1.0,
    "second": 1.0,
    "s": 1.0,
}
_COUNT_UNITS = frozenset({"count", "counts", "samples", "sample", "ticks"})


def _error(source: str, reason: str) -> ProfileFormatError:
    return ProfileFormatError(source, reason)


class _Strings:
    """string_table lookups that name the referring field when an index is out of range."""

    def __init__(self, source: str, table: Sequence[str]) -> None:
        self.source = source
        self.table = list(table)

    def __call__(self, index: int, where: str) -> str:
        if 0 <= index < len(self.table):
            return self.table[index]
        raise _error(
            self.source,
            f"pprof {where} refers to string {index}, out of range "
            f"(string_table has {len(self.table)} entries)",
        )


def _score(type_name: str, unit: str) -> int:
    """How well a sample type answers "where does the CPU time go"; 0 when it cannot."""
    name = type_name.lower()
    cpu, wall = "cpu" in name, "wall" in name
    if unit in _TIME_UNITS:
        # Other time types (lock delay, GC pauses) measure waiting, not compute.
        return 5 if cpu else 4 if wall else 0
    if unit in _COUNT_UNITS:
        return 3 if cpu else 2 if wall else 1 if "sample" in name else 0
    return 0


def _choose_sample_type(source: str, msg: Any, strings: _Strings) -> tuple[int, str, str]:
    """Index, type and unit of the value to load."""
    if not msg.sample_type:
        raise _error(source, "pprof profile declares no sample types (sample_type is empty)")
    types = [
        (
            strings(vt.type, f"sample_type[{i}].type"),
            strings(vt.unit, f"sample_type[{i}].unit").lower(),
        )
        for i, vt in enumerate(msg.sample_type)
    ]
    scores = [_score(t, u) for t, u in types]
    index = -1
    if msg.default_sample_type:
        default = strings(msg.default_sample_type, "default_sample_type")
        # The writer's choice wins whenever it is a value Megawatt can show.
        for i, (t, _u) in enumerate(types):
            if t == default and scores[i] > 0:
                index = i
                break
    if index < 0:
        best = max(scores)
        if best == 0:
            listed = ", ".join(f"{t}/{u}" for t, u in types)
            raise _error(
                source,
                f"pprof profile holds no CPU or wall-time values (sample types: {listed}); "
                "Megawatt reads CPU and wall-clock profiles",
            )
        # pprof's own rule is "the last value when no default is set": prefer the last best.
        index = len(scores) - 1 - scores[::-1].index(best)
    return index, types[index][0], types[index][1]


def _decode(source: str, data: bytes) -> Any:
    msg = profile_class()()
    try:
        msg.ParseFromString(data)
    except DecodeError as err:
        # upb prefixes every reason with "Error parsing message with type '...': "; keep the reason
        reason = str(err).rpartition("': ")[2] or "cannot decode"
        raise _error(
            source,
            f"not a valid pprof protobuf: {reason[:1].lower()}{reason[1:]} (the file is "
            "truncated, corrupt or not a pprof profile)",
        ) from None
    return msg


def _functions(source: str, msg: Any, strings: _Strings, b: ProfileBuilder) -> dict[int, int]:
    """pprof function id → builder function id."""
    out: dict[int, int] = {}
    for i, fn in enumerate(msg.function):
        where = f"function {fn.id}"
        if fn.id == 0:
            raise _error(source, f"pprof function[{i}] has id 0; function ids must be nonzero")
        if fn.id in out:
            raise _error(source, f"pprof function id {fn.id} is defined twice")
        name = strings(fn.name, f"{where} name") or strings(fn.system_name, f"{where} system_name")
        path = strings(fn.filename, f"{where} filename")
        out[fn.id] = b.function(path, name or f"<function {fn.id}>", max(int(fn.start_line), 0))
    return out


def _locations(
    source: str, msg: Any, strings: _Strings, functions: dict[int, int], b: ProfileBuilder
) -> dict[int, tuple[int, ...]]:
    """pprof location id → its builder frames, caller first (so a stack stays root first)."""
    mappings = {m.id: m for m in msg.mapping}
    out: dict[int, tuple[int, ...]] = {}
    for i, loc in enumerate(msg.location):
        if loc.id == 0:
            raise _error(source, f"pprof location[{i}] has id 0; location ids must be nonzero")
        if loc.id in out:
            raise _error(source, f"pprof location id {loc.id} is defined twice")
        frames: list[int] = []
        # line[0] is the innermost inlined frame and the last line the real caller.
        for line in reversed(loc.line):
            fid = functions.get(line.function_id)
            if fid is None:
                raise _error(
                    source,
                    f"pprof location {loc.id} refers to function {line.function_id}, "
                    "which does not exist",
                )
            frames.append(b.frame(fid, max(int(line.line), 0)))
        if not frames:
            # Unsymbolized native code: all that is known is the address and the binary.
            mapping = mappings.get(loc.mapping_id)
            binary = strings(mapping.filename, f"mapping {mapping.id} filename") if mapping else ""
            fid = b.function(
                binary or "<native>", f"0x{loc.address:x}", 0, kind=FunctionKind.NATIVE
            )
            frames.append(b.frame(fid, 0))
        out[loc.id] = tuple(frames)
    return out


def _stacks(
    source: str, msg: Any, index: int, type_name: str, locations: dict[int, tuple[int, ...]]
) -> dict[tuple[int, ...], int]:
    """Summed value per distinct stack of builder frames, root first.

    Keys are frame tuples rather than location-id tuples: their ints are shared with
    `locations`, where location ids would be fresh int objects per sample (hundreds of MB on a
    million samples). Values stay integers so that sums are exact before the unit conversion.
    """
    stacks: defaultdict[tuple[int, ...], int] = defaultdict(int)
    width = len(msg.sample_type)
    # map/chain keep the per-frame work in C: a large profile has ~10^6 samples of ~30 frames
    frames_of = locations.__getitem__
    chain = itertools.chain.from_iterable
    for n, sample in enumerate(msg.sample):
        values = sample.value
        if len(values) != width:
            raise _error(
                source,
                f"pprof sample {n} has {len(values)} values for {width} sample types",
            )
        value = values[index]
        if value < 0:
            raise _error(
                source,
                f"pprof sample {n} has a negative {type_name} value ({value}); a diff profile "
                "cannot be loaded as a profile",
            )
        if value:
            # slicing copies the ids into a list in one C call, faster than iterating upb's
            # container; location_id is leaf first and the builder wants the root first
            ids = sample.location_id[:]
            ids.reverse()
            try:
                stacks[tuple(chain(map(frames_of, ids)))] += value
            except KeyError as err:
                raise _error(
                    source,
                    f"pprof sample {n} refers to location {err.args[0]}, which does not exist",
                ) from None
    return stacks


def load(source: str, data: bytes, parsed: Any = None) -> Profile:
    msg = _decode(source, data)
    table = msg.string_table
    if not table:
        raise _error(source, 'pprof profile has no string_table (it must start with "")')
    if table[0] != "":
        raise _error(source, f'pprof string_table[0] is {table[0][:40]!r}; it must be ""')
    strings = _Strings(source, table)
    index, type_name, unit_name = _choose_sample_type(source, msg, strings)
    if not msg.sample:
        raise _error(source, "pprof profile holds no samples")

    factor = _TIME_UNITS.get(unit_name)
    unit: Unit = "seconds" if factor is not None else "samples"
    b = ProfileBuilder(source, format, unit)
    if msg.time_nanos > 0:
        b.recorded_at = msg.time_nanos / 1e9

    functions = _functions(source, msg, strings, b)
    locations = _locations(source, msg, strings, functions, b)
    stacks = _stacks(source, msg, index, type_name, locations)
    if not stacks:
        raise _error(source, f"all {len(msg.sample)} pprof samples have a zero {type_name!r} value")
    # The decoded message (and `table`, a view into it) is the largest thing alive, and the
    # builder no longer needs it.
    del msg, table

    scale = 1.0 if factor is None else factor
    for frames, value in stacks.items():
        b.add_stack(frames, value * scale)
    return b.build()
