"""pyinstrument output, in its two machine-readable shapes.

`pyinstrument -r json` writes an aggregated call tree:

    {"start_time", "duration", "sample_count", "target_description", "cpu_time",
     "root_frame": {"function", "file_path", "file_path_short", "line_no", "time", "await_time",
                    "is_application_code", "children": [frame, ...], "class_name"?, "group_id"?}}

`line_no` is where the function is defined and `time` is inclusive wall time. Leaves named
`[self]`, `[await]` and `[out-of-context]` are not code: `[self]` is time in the parent itself,
the other two are time the parent spent waiting. By default the renderer has already folded away
frames under 1 % of the run (their time stays in the parent's self time, so a function with many
small callees looks as if it spent it itself) unless recorded with
`-p processor_options.filter_threshold=0`, as `megawatt profile run` does; importlib frames are
always folded into their callers.

`pyinstrument -r pyisession` writes the raw samples the tree is built from:

    {"start_time", "duration", "sample_count", "start_call_stack": [frame_info, ...],
     "frame_records": [[[frame_info, ...], seconds], ...], "sys_path", "sys_prefixes", ...}

A frame_info is "function\\x00file\\x00def_line" followed by "\\x01"-separated attributes: `l<n>`
is the line executing, `c<Name>` the class of `self`/`cls`. Stacks run root first and begin with
a thread pseudo-frame ("MainThread\\x00<thread>\\x00<id>") and the frames that started the profiler.
Nothing is folded away there, and the executing lines give per-line figures.

Both shapes record qualified names only as pyinstrument's `class_name`: the class of the running
`self`, which is usually, but not always, where the method is defined.
"""

from __future__ import annotations

import json
from collections import defaultdict
from itertools import repeat
from typing import Any

from megawatt.errors import ProfileFormatError
from megawatt.model import FunctionKind
from megawatt.profiles.base import expect_dict, expect_list, require
from megawatt.profiles.builder import ProfileBuilder
from megawatt.profiles.profile import Profile

format = "pyinstrument"

_SELF_FRAME = "[self]"
# Time a coroutine spent awaiting, or outside the profiled context: waiting, not computing.
_IDLE_FRAMES = frozenset({"[await]", "[out-of-context]"})
# Containers pyinstrument puts above the real roots; they are not code anyone can change.
_ROOT_FRAME = "[root]"
_THREAD_PATH = "<thread>"

_IDENTIFIER_SEP = "\x00"
_ATTRIBUTE_SEP = "\x01"

FunctionKey = tuple[str, str, int]
_NUMBER_TYPES = (float, int)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class _Functions:
    """Functions by pyinstrument's identity (path, name, def line), named once every class is seen.

    The class of `self` is observed per call, so one function can be seen under several classes
    (a base-class method called on subclasses); the class seen for longest names it, as
    pyinstrument's own reports do, and the function stays one entry.
    """

    def __init__(self) -> None:
        self.index: dict[FunctionKey, int] = {}
        self.keys: list[FunctionKey] = []
        self.idle: list[bool] = []
        self.classes: dict[int, defaultdict[str, float]] = {}

    def get(self, path: str, name: str, line: int, idle: bool = False) -> int:
        key = (path, name, line)
        local = self.index.get(key)
        if local is None:
            local = len(self.keys)
            self.index[key] = local
            self.keys.append(key)
            self.idle.append(idle)
        return local

    def saw_class(self, local: int, class_name: str, weight: float) -> None:
        seen = self.classes.get(local)
        if seen is None:
            seen = self.classes[local] = defaultdict(float)
        seen[class_name] += weight

    def intern(self, b: ProfileBuilder, used: set[int] | None = None) -> dict[int, int]:
        """The builder's function id for each local id (in `used`, when given)."""
        fids: dict[int, int] = {}
        for local, (path, name, line) in enumerate(self.keys):
            if used is not None and local not in used:
                continue
            seen = self.classes.get(local)
            if seen and "." not in name and not name.startswith("<"):
                # max() keeps the first of equal weights, so ties resolve the same on every load
                name = f"{max(seen, key=seen.__getitem__)}.{name}"
            kind = FunctionKind.IDLE if self.idle[local] else None
            fids[local] = b.function(path, name, line, kind)
        return fids


# -- the JSON call tree --------------------------------------------------------------------------


def _frame(source: str, node: Any, depth: int) -> tuple[str, str, int, float, list[Any]]:
    """(function, file path, def line, inclusive seconds, children) of one tree node, checked."""
    if not isinstance(node, dict):
        raise ProfileFormatError(
            source,
            f"a pyinstrument frame at depth {depth} is a {type(node).__name__}, not an object",
        )
    name = node.get("function")
    if not isinstance(name, str):
        raise ProfileFormatError(
            source, f"a pyinstrument frame at depth {depth} has no function name"
        )
    time = node.get("time")
    if not _is_number(time) or time < 0:
        raise ProfileFormatError(
            source, f"pyinstrument frame {name!r} at depth {depth} has no valid time ({time!r})"
        )
    children = node.get("children", [])
    if not isinstance(children, list):
        raise ProfileFormatError(
            source, f"the children of pyinstrument frame {name!r} at depth {depth} are not a list"
        )
    path = node.get("file_path") or ""
    line = node.get("line_no") or 0
    if not isinstance(path, str) or not isinstance(line, int):
        raise ProfileFormatError(
            source, f"pyinstrument frame {name!r} at depth {depth} has a malformed file or line"
        )
    return name, path, line, float(time), children


def _load_tree(source: str, doc: dict[str, Any]) -> Profile:
    root = doc["root_frame"]
    if root is None:
        # the renderer writes null when the session caught no sample at all
        raise ProfileFormatError(
            source, "pyinstrument profile holds no samples (root_frame is null)"
        )
    if not isinstance(root, dict):
        raise ProfileFormatError(
            source, f"pyinstrument root_frame is a {type(root).__name__}, not a frame object"
        )
    funcs = _Functions()
    # Indexed by local function id; lists, as this loop runs once per node of a tree that can
    # hold millions.
    self_time: list[float] = []
    total_time: list[float] = []
    # How often each function / caller-callee pair is open on the path being walked: only the
    # outermost occurrence counts towards inclusive time, so recursion never counts twice.
    open_functions: list[int] = []
    edges: dict[tuple[int, int], float] = {}
    open_edges: dict[tuple[int, int], int] = {}
    index = funcs.index

    # An explicit stack, not recursion: a deeply recursive program makes an equally deep tree.
    # Entries are (node, caller's local id or -1, depth); a node of None closes a function again,
    # with the function in the second slot and its caller in the third.
    todo: list[tuple[Any, int, int]] = [(root, -1, 0)]
    while todo:
        node, caller, depth = todo.pop()
        if node is None:
            closing, its_caller = caller, depth
            open_functions[closing] -= 1
            if its_caller >= 0 and its_caller != closing:
                open_edges[(its_caller, closing)] -= 1
            continue
        # The renderer's own shape passes these cheap checks; anything else goes through
        # _frame, which says precisely what is wrong.
        try:
            name = node["function"]
            time = node["time"]
            children = node["children"]
            path = node["file_path"] or ""
            line = node["line_no"] or 0
            well_formed = (
                type(name) is str
                and type(time) in _NUMBER_TYPES
                and time >= 0
                and type(children) is list
                and type(path) is str
                and type(line) is int
            )
        except (KeyError, TypeError):
            well_formed = False
        if not well_formed:
            name, path, line, time, children = _frame(source, node, depth)
        if name == _SELF_FRAME:
            continue  # its time is the parent's own, which the parent keeps by not subtracting it
        if name == _ROOT_FRAME or path == _THREAD_PATH:
            todo.extend(zip(children, repeat(caller), repeat(depth + 1)))
            continue
        local = index.get((path, name, line))
        if local is None:
            idle = name in _IDLE_FRAMES
            local = funcs.get("" if idle else path, name, 0 if idle else line, idle)
            if local == len(self_time):
                self_time.append(0.0)
                total_time.append(0.0)
                open_functions.append(0)
        class_name = node.get("class_name")
        if class_name and type(class_name) is str:
            funcs.saw_class(local, class_name, time)
        self_time[local] += time
        if caller >= 0:
            self_time[caller] -= time
            if caller != local:
                pair = (caller, local)
                opened = open_edges.get(pair, 0)
                if not opened:
                    edges[pair] = edges.get(pair, 0.0) + time
                open_edges[pair] = opened + 1
        if not open_functions[local]:
            total_time[local] += time
        open_functions[local] += 1
        todo.append((None, local, caller))
        todo.extend(zip(children, repeat(local), repeat(depth + 1)))

    b = ProfileBuilder(source, format, "seconds")
    b.recorded_at = _start_time(doc)
    fids = funcs.intern(b)
    for local, fid in fids.items():
        # the renderer prints times to the microsecond, so a parent can come out a hair short
        b.set_function(fid, max(self_time[local], 0.0), total_time[local])
    for (caller, callee), weight in edges.items():
        b.add_edge(fids[caller], fids[callee], weight)
    _, _, _, root_time, _ = _frame(source, root, 0)
    duration = doc.get("duration")
    if root_time <= 0 and _is_number(duration):
        root_time = float(duration)
    require(root_time > 0, source, "pyinstrument profile holds no samples (its time is zero)")
    return b.build(total_weight=root_time)


# -- the session's sample records ----------------------------------------------------------------


def _parse_frame_info(info: str) -> tuple[str, str, int, int, str | None]:
    """(function, file, def line, executing line, class) from one frame_info string."""
    identifier, _, attributes = info.partition(_ATTRIBUTE_SEP)
    parts = identifier.split(_IDENTIFIER_SEP)
    name = parts[0]
    path = parts[1] if len(parts) > 1 else ""
    def_line = int(parts[2]) if len(parts) > 2 and parts[2].isdigit() else 0
    line = 0
    class_name = None
    if attributes:
        for attribute in attributes.split(_ATTRIBUTE_SEP):
            if attribute[:1] == "l" and attribute[1:].isdigit():
                line = int(attribute[1:])
            elif attribute[:1] == "c" and len(attribute) > 1:
                class_name = attribute[1:]
    return name, path, def_line, line, class_name


def _load_session(source: str, doc: dict[str, Any]) -> Profile:
    records = expect_list(doc["frame_records"], source, "pyinstrument frame_records")
    require(records, source, "pyinstrument session holds no samples (frame_records is empty)")

    # Identical stacks recur thousands of times; fold them first so the per-frame work below is
    # done once per distinct stack.
    folded: defaultdict[tuple[str, ...], float] = defaultdict(float)
    for i, record in enumerate(records):
        if not (
            isinstance(record, list)
            and len(record) == 2
            and isinstance(record[0], list)
            and _is_number(record[1])
        ):
            raise ProfileFormatError(
                source, f"pyinstrument frame record {i} is not a [stack, seconds] pair"
            )
        stack = tuple(record[0])
        if not all(isinstance(info, str) for info in stack):
            raise ProfileFormatError(source, f"pyinstrument frame record {i} has a non-text frame")
        folded[stack] += float(record[1])

    funcs = _Functions()
    frames: dict[str, int] = {}  # frame_info → local frame id, or -1 for a thread pseudo-frame
    frame_function: list[int] = []
    frame_line: list[int] = []
    frame_class: list[str | None] = []

    def frame_of(info: str) -> int:
        fr = frames.get(info)
        if fr is None:
            name, path, def_line, line, class_name = _parse_frame_info(info)
            if path == _THREAD_PATH or name == _ROOT_FRAME:
                fr = -1
            else:
                idle = name in _IDLE_FRAMES
                local = funcs.get("" if idle else path, name, 0 if idle else def_line, idle)
                fr = len(frame_function)
                frame_function.append(local)
                frame_line.append(0 if idle else line)
                frame_class.append(class_name)
            frames[info] = fr
        return fr

    # The frames that called profiler.start() (for the CLI, pyinstrument's own main) open every
    # stack; like pyinstrument, keep only the innermost of them as the root.
    start_stack = doc.get("start_call_stack") or []
    start = [frame_function[fr] for fr in map(frame_of, _strings(start_stack)) if fr >= 0]

    stacks: defaultdict[tuple[int, ...], float] = defaultdict(float)
    for stack, weight in folded.items():
        ids = [fr for fr in map(frame_of, stack) if fr >= 0]
        if (
            start
            and len(ids) >= len(start)
            and all(frame_function[ids[i]] == start[i] for i in range(len(start)))
        ):
            ids = ids[len(start) - 1 :]
        for fr in ids:
            class_name = frame_class[fr]
            if class_name:
                funcs.saw_class(frame_function[fr], class_name, weight)
        if ids:
            stacks[tuple(ids)] += weight

    b = ProfileBuilder(source, format, "seconds")
    b.recorded_at = _start_time(doc)
    # frames seen only in the trimmed-off start of the stacks are left out of the profile
    used_frames = {fr for stack_ids in stacks for fr in stack_ids}
    fids = funcs.intern(b, {frame_function[fr] for fr in used_frames})
    builder_frames = {fr: b.frame(fids[frame_function[fr]], frame_line[fr]) for fr in used_frames}
    for stack_ids, weight in stacks.items():
        b.add_stack([builder_frames[fr] for fr in stack_ids], weight)
    total = sum(folded.values())
    require(total > 0, source, "pyinstrument session holds no samples (its time is zero)")
    return b.build(total_weight=total)


def _strings(value: Any) -> list[str]:
    return [s for s in value if isinstance(s, str)] if isinstance(value, list) else []


def _start_time(doc: dict[str, Any]) -> float | None:
    start = doc.get("start_time")
    return float(start) if _is_number(start) and start > 0 else None


def load(source: str, data: bytes, parsed: Any = None) -> Profile:
    if parsed is None:
        try:
            parsed = json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise ProfileFormatError(
                source, f"pyinstrument output is not valid JSON ({err})"
            ) from None
    doc = expect_dict(parsed, source, "pyinstrument output")
    if "root_frame" in doc:
        return _load_tree(source, doc)
    if "frame_records" in doc:
        return _load_session(source, doc)
    raise ProfileFormatError(
        source, "pyinstrument output with neither root_frame (JSON) nor frame_records (session)"
    )
