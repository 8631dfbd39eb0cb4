"""speedscope JSON (https://www.speedscope.app/file-format-schema.json).

    {"$schema": ..., "shared": {"frames": [{"name", "file"?, "line"?, "col"?}, ...]},
     "profiles": [profile, ...], "exporter"?: ..., "name"?: ...}

Two kinds of profile share the frame table:

* "sampled" (py-spy `-f speedscope`, austin2speedscope): `samples` are stacks of frame indices,
  root first, each seen with the matching entry of `weights`. A frame's `line` is the line that
  was executing, so a function is identified by (file, name) and the line goes to the frame.
* "evented" (pyinstrument `-r speedscope`, Chrome/Firefox exports): `events` open ("O") and close
  ("C") frames at time `at`. A frame's `line` is where its function starts. Replaying the events
  gives the stack between any two consecutive events; that interval is weighed on that stack.

py-spy writes one profile per thread; every profile of a file is merged into one `Profile`.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Hashable, Iterable
from typing import Any

from megawatt.errors import ProfileFormatError
from megawatt.model import FunctionKind
from megawatt.profiles.base import expect_dict, expect_list, require
from megawatt.profiles.builder import ProfileBuilder
from megawatt.profiles.detect import json_error
from megawatt.profiles.profile import Profile, Unit

format = "speedscope"

# Seconds per value for the time units of the schema; "none" means the values are counts.
_SECONDS_PER: dict[str, float] = {
    "seconds": 1.0,
    "milliseconds": 1e-3,
    "microseconds": 1e-6,
    "nanoseconds": 1e-9,
}
_COUNT_UNITS = frozenset({"none", "samples", "count", "counts"})

# Frames that are no code, dropped from stacks so that their time stays with the real frames:
# pyinstrument's "[self]" stands for time in the parent not spent in a shown child, and py-spy's
# -t / -s add root frames "thread (TID)", "thread (TID): NAME" (once py-spy has read the thread's
# name, so one recording can hold both) and 'process PID:"cmdline"'. None has a file.
_PSEUDO_NAMES = frozenset({"[self]"})
PYSPY_PSEUDO = re.compile(r'process \d+:".*"|thread \(\w+\)(: .*)?')

# Native frames (py-spy --native) name a shared object or a C/C++/Rust source; `classify` sees a
# plain path there and would call them user code.
_NATIVE_FILE = re.compile(
    r"(\.so(\.\d+)*|\.dylib|\.dll|\.pyd|\.c|\.cc|\.cpp|\.cxx|\.h|\.hpp|\.rs)$", re.IGNORECASE
)


def native_kind(path: str) -> FunctionKind | None:
    """NATIVE for a binary or compiled-language file, else None (let `classify` decide)."""
    return FunctionKind.NATIVE if _NATIVE_FILE.search(path) else None


def is_pseudo_frame(path: str, name: str) -> bool:
    """Whether a frame stands for no code (see `_PSEUDO_NAMES` and `PYSPY_PSEUDO`)."""
    return not path and (name in _PSEUDO_NAMES or PYSPY_PSEUDO.fullmatch(name) is not None)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _profile_label(index: int, profile: dict[str, Any]) -> str:
    name = profile.get("name")
    return f"profile {index} ({name!r})" if isinstance(name, str) and name else f"profile {index}"


def _unit(source: str, label: str, profile: dict[str, Any]) -> tuple[Unit, float]:
    """Megawatt's unit for a speedscope profile and the factor that converts its values."""
    unit = profile.get("unit", "none")
    require(isinstance(unit, str), source, f"{label} has a unit that is not a string")
    unit = unit.lower()
    if unit in _SECONDS_PER:
        return "seconds", _SECONDS_PER[unit]
    if unit in _COUNT_UNITS:
        return "samples", 1.0
    if unit == "bytes":
        raise ProfileFormatError(
            source,
            f"{label} measures memory (unit 'bytes'); Megawatt reads time or sample profiles",
        )
    raise ProfileFormatError(source, f"{label} has unknown unit {unit!r}")


class _Frames:
    """speedscope frame index → builder frame id, interned on first use.

    Sampled and evented profiles identify functions differently (see the module docstring), so
    each keeps its own table; None marks a pseudo-frame that is left out of stacks.
    """

    def __init__(self, source: str, frames: list[Any], builder: ProfileBuilder) -> None:
        self.source = source
        self.frames = frames
        self.builder = builder
        self.sampled: dict[int, int | None] = {}
        self.evented: dict[int, int | None] = {}

    def _fields(self, index: int) -> tuple[str, str, int]:
        frame = self.frames[index]
        require(isinstance(frame, dict), self.source, f"shared.frames[{index}] is not an object")
        name = frame.get("name")
        require(isinstance(name, str), self.source, f"shared.frames[{index}] has no name")
        if not name:  # py-spy --nonblocking records a few frames it could not name
            name = "<unknown>"
        path = frame.get("file") or ""
        require(isinstance(path, str), self.source, f"shared.frames[{index}].file is not a string")
        line = frame.get("line") or 0
        require(
            isinstance(line, int) and not isinstance(line, bool),
            self.source,
            f"shared.frames[{index}].line is not a line number",
        )
        return path, name, max(line, 0)  # some writers put -1 for "unknown"

    def sampled_frame(self, index: int) -> int | None:
        try:
            return self.sampled[index]
        except KeyError:
            pass
        path, name, line = self._fields(index)
        frame: int | None = None
        if not is_pseudo_frame(path, name):
            fid = self.builder.function(path, name, 0, native_kind(path))
            frame = self.builder.frame(fid, line)
        self.sampled[index] = frame
        return frame

    def evented_frame(self, index: int) -> int | None:
        try:
            return self.evented[index]
        except KeyError:
            pass
        path, name, line = self._fields(index)
        frame: int | None = None
        if not is_pseudo_frame(path, name):
            # No line inside the function is known, so the frame carries none.
            fid = self.builder.function(path, name, line, native_kind(path))
            frame = self.builder.frame(fid, 0)
        self.evented[index] = frame
        return frame


def _check_weight(source: str, label: str, weight: Any) -> None:
    require(
        _is_number(weight) and weight >= 0,
        source,
        f"{label} has a weight {weight!r} that is not a non-negative number",
    )


def _check_indices(source: str, label: str, indices: set[Any], count: int) -> None:
    for index in indices:
        if type(index) is not int:
            raise ProfileFormatError(
                source, f"{label} has a sample with frame index {index!r}, not an integer"
            )
        if not 0 <= index < count:
            raise ProfileFormatError(
                source,
                f"{label} refers to frame {index}, out of range: shared.frames has {count}",
            )


def _load_sampled(
    source: str, label: str, profile: dict[str, Any], frames: _Frames, scale: float
) -> float:
    """Add a sampled profile's stacks to the builder; the weight added, in Megawatt's unit."""
    samples = expect_list(profile.get("samples"), source, f"{label} samples")
    weights = profile.get("weights")
    if weights is None:  # the schema requires weights; tolerate writers that leave them out
        weights = [1] * len(samples)
    weights = expect_list(weights, source, f"{label} weights")
    require(
        len(weights) == len(samples),
        source,
        f"{label} has {len(samples)} samples but {len(weights)} weights",
    )
    # Identical stacks are frequent (a million samples hold a few thousand distinct stacks), so
    # they are counted in C first and every later step runs once per distinct stack. Samples cut
    # out as text are counted as text and each distinct one parsed once.
    if isinstance(samples, _Samples):
        keys: Iterable[Hashable] = samples
        to_stack: Callable[[Any], tuple[Any, ...]] = _parse_sample
    else:
        keys, to_stack = map(tuple, samples), _same
    stacks: dict[tuple[Any, ...], float] = {}
    try:
        if weights and weights.count(weights[0]) == len(weights):
            # py-spy weighs every sample the same: counting bare stacks is a third cheaper
            weight = weights[0]
            _check_weight(source, label, weight)
            counted: Iterable[tuple[Any, Any, int]] = (
                (key, weight, n) for key, n in Counter(keys).items()
            )
        else:
            counted = ((k, w, n) for (k, w), n in Counter(zip(keys, weights, strict=True)).items())
        for key, weight, n in counted:
            _check_weight(source, label, weight)
            stack = to_stack(key)
            stacks[stack] = stacks.get(stack, 0.0) + weight * n
    except (TypeError, ValueError):
        raise ProfileFormatError(
            source, f"{label} samples are not all lists of frame indices with numeric weights"
        ) from None
    return _add_stacks(source, label, stacks, frames, scale)


def _parse_sample(text: bytes) -> tuple[int, ...]:
    return tuple(map(int, text.split(b","))) if text else ()


def _same(stack: tuple[Any, ...]) -> tuple[Any, ...]:
    return stack


def _add_stacks(
    source: str, label: str, stacks: dict[tuple[Any, ...], float], frames: _Frames, scale: float
) -> float:
    # Validate and intern each frame index once, in frame-table order, not once per stack.
    used: set[Any] = set().union(*stacks)
    _check_indices(source, label, used, len(frames.frames))
    table = {index: frames.sampled_frame(index) for index in sorted(used)}
    has_pseudo = None in table.values()
    get = table.__getitem__
    added = 0.0
    for stack, weight in stacks.items():
        if not stack or weight <= 0:
            continue  # py-spy records a few empty stacks (no Python frame yet): no code to blame
        mapped = list(map(get, stack))
        if has_pseudo:
            mapped = [f for f in mapped if f is not None]
        if mapped:
            frames.builder.add_stack(mapped, weight * scale)
            added += weight * scale
    return added


def _load_evented(
    source: str, label: str, profile: dict[str, Any], frames: _Frames, scale: float
) -> float:
    """Replay an evented profile's open/close events; the weight added, in Megawatt's unit."""
    events = expect_list(profile.get("events"), source, f"{label} events")
    count = len(frames.frames)
    lookup: Callable[[int], int | None] = frames.evented_frame
    add_stack = frames.builder.add_stack
    opened: list[int] = []  # speedscope frame indices, to check that closes match opens
    live: list[int] = []  # builder frames of the open frames, pseudo-frames left out
    previous: float | None = None
    added = 0.0
    for n, event in enumerate(events):
        require(isinstance(event, dict), source, f"{label} event {n} is not an object")
        kind = event.get("type")
        at = event.get("at")
        index = event.get("frame")
        require(_is_number(at), source, f"{label} event {n} has no time ('at')")
        require(
            type(index) is int and 0 <= index < count,
            source,
            f"{label} event {n} refers to frame {index!r}, out of range: shared.frames has {count}",
        )
        if previous is not None:
            require(
                at >= previous,
                source,
                f"{label} event {n} goes back in time ({at} after {previous})",
            )
            if live and at > previous:
                # Every open frame was on the stack for this whole interval.
                add_stack(live, (at - previous) * scale)
                added += (at - previous) * scale
        previous = at
        frame = lookup(index)
        if kind == "O":
            opened.append(index)
            if frame is not None:
                live.append(frame)
        elif kind == "C":
            if not opened or opened[-1] != index:
                top = f"frame {opened[-1]} is open" if opened else "nothing is open"
                raise ProfileFormatError(
                    source,
                    f"{label} events are unbalanced: event {n} closes frame {index} at {at} "
                    f"but {top}",
                )
            opened.pop()
            if frame is not None:
                live.pop()
        else:
            raise ProfileFormatError(
                source, f"{label} event {n} has type {kind!r}, not 'O' (open) or 'C' (close)"
            )
    require(
        not opened,
        source,
        f"{label} events are unbalanced: {len(opened)} frame(s) never closed "
        f"(innermost: frame {opened[-1] if opened else ''})",
    )
    return added


class _Samples(list):  # type: ignore[type-arg]
    """A sampled profile's samples as the text of each one (`b"4,7,9"`), cut out of the file
    before the JSON parser sees it: a million samples as Python lists of ints take seconds to
    build, while identical stacks (most of them) need counting only, and only the distinct ones
    parsing."""


_SAMPLES = re.compile(rb'"samples"\s*:\s*\[')
_CLOSE = re.compile(rb"\]\s*\]")  # the last sample's end and the array's
_NOT_INDICES = bytes(set(range(256)) - set(b"0123456789,[]"))
FAST_FROM_BYTES = 4 * 1024 * 1024


def _cut_samples(data: bytes) -> tuple[bytes, list[_Samples]] | None:
    """The JSON with every samples array emptied, and the arrays' samples; None when the arrays
    are not plain lists of lists of indices (the ordinary parser then reads, and judges, all)."""
    kept: list[bytes] = []
    cut: list[_Samples] = []
    pos = 0
    for m in _SAMPLES.finditer(data):
        start = m.end()
        end = data.find(b"]", start)
        if end < 0:
            return None
        if data[start:end].strip() == b"":  # `[]`
            continue
        found = _CLOSE.search(data, start)
        if found is None:
            return None
        close = found.end() - 1  # the array's own `]`
        body = data[start:close].translate(None, b" \t\r\n")
        if body.translate(None, _NOT_INDICES) != body or not body.startswith(b"["):
            return None
        kept.append(data[pos:start])
        kept.append(b'"#%d"' % len(cut))  # a placeholder the loader swaps back
        cut.append(_Samples(body[1:-1].split(b"],[")))
        pos = close  # the array's `]` stays, around the placeholder
    if not cut:
        return None
    kept.append(data[pos:])
    return b"".join(kept), cut


def _parse(source: str, data: bytes) -> Any:
    if len(data) >= FAST_FROM_BYTES:
        fast = _cut_samples(data)
        if fast is not None:
            text, cut = fast
            doc = _parse(source, text) if len(text) < FAST_FROM_BYTES else json.loads(text)
            for profile in doc.get("profiles", []) if isinstance(doc, dict) else []:
                ref = profile.get("samples") if isinstance(profile, dict) else None
                if isinstance(ref, list) and len(ref) == 1 and str(ref[0]).startswith("#"):
                    profile["samples"] = cut[int(ref[0][1:])]
            return doc
    try:
        return json.loads(data)
    except UnicodeDecodeError:
        raise ProfileFormatError(source, "speedscope JSON is not valid UTF-8") from None
    except json.JSONDecodeError as err:
        raise json_error(source, err, "JSON (a speedscope profile)") from None


def load(source: str, data: bytes, parsed: Any = None) -> Profile:
    doc = expect_dict(parsed if parsed is not None else _parse(source, data), source, "speedscope")
    shared = expect_dict(doc.get("shared", {}), source, "shared")
    frame_table = expect_list(shared.get("frames", []), source, "shared.frames")
    profiles = expect_list(doc.get("profiles"), source, "profiles")
    require(profiles, source, "speedscope file holds no profiles")

    units: set[Unit] = set()
    work: list[tuple[str, str, dict[str, Any], float]] = []
    empty: list[str] = []
    for index, raw in enumerate(profiles):
        profile = expect_dict(raw, source, f"profiles[{index}]")
        label = _profile_label(index, profile)
        kind = profile.get("type")
        if kind not in ("sampled", "evented"):
            raise ProfileFormatError(
                source, f"{label} has unknown type {kind!r} (expected 'sampled' or 'evented')"
            )
        unit, scale = _unit(source, label, profile)
        if not profile.get("samples" if kind == "sampled" else "events"):
            empty.append(label)
            continue
        units.add(unit)
        work.append((label, kind, profile, scale))
    if not work:
        which = (
            f"{empty[0]} has none"
            if len(empty) == 1
            else f"none of its {len(empty)} profiles has any"
        )
        raise ProfileFormatError(source, f"speedscope file holds no samples: {which}")
    if len(units) > 1:
        raise ProfileFormatError(
            source, "speedscope profiles mix time units and sample counts; cannot merge them"
        )

    builder = ProfileBuilder(source, format, units.pop())
    frames = _Frames(source, frame_table, builder)
    added = 0.0
    for label, kind, profile, scale in work:
        loader = _load_sampled if kind == "sampled" else _load_evented
        added += loader(source, label, profile, frames, scale)
    require(added > 0, source, "speedscope profiles hold only empty stacks or zero weights")
    return builder.build()
