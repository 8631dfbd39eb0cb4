"""Scalene 2.x JSON (`scalene run -o out.json prog.py --- args`).

    {"elapsed_time_sec", "start_time_absolute", "memory": bool, "program", ...,
     "files": {path: {"functions": [entry, ...], "lines": [entry, ...], "percent_cpu_time", ...}},
     "stacks": [[["path qualname:line;", ...], {"count", "cpu_samples", "python_time", "c_time"}]]}

Figures are percentages of all CPU samples: `n_cpu_percent_python` + `n_cpu_percent_c` +
`n_sys_percent` is a line's (or function's) share, and times `elapsed_time_sec` gives seconds.
They are self figures in Scalene's sense: time in code Scalene does not profile (the standard
library, installed packages) is charged to the profiled line that called it.

* `lines` lists every line of the file (or only busy ones with a reduced profile); each carries
  `start_function_line`/`end_function_line`, the innermost `def` or `class` around it (0 at module
  level). Its `line` text is HTML-escaped and is never used as source.
* `functions` adds up lines per function. Its `line` is the qualified name (`co_qualname` on
  Python 3.11+, e.g. `Grid.helper.<locals>.inner`; before that, `Class.name` from `self`) and
  `lineno` is `co_firstlineno`, a decorator's line for a decorated function. Lambdas and
  comprehensions are folded into the function around them, and module-level code is left out.
* `stacks` are whole sampled stacks of profiled code, root first, each frame with the line it
  was executing; `cpu_samples` is the stack's fraction of all CPU samples. (Scalene 1.x wrote
  the figures as a list or a bare count, and early versions each frame as [path, name, line].)

So `functions` names the functions and their first lines; self time is the sum of the `lines`
each one spans (module-level lines make `<module>`), which also give per-line time and memory;
inclusive time, callers and callees come from `stacks`, each function counted once per stack.
"""

from __future__ import annotations

import json
from collections import defaultdict
from itertools import chain
from typing import Any

import numpy as np
import numpy.typing as npt

from megawatt.errors import ProfileFormatError
from megawatt.profiles.base import expect_dict, expect_list, require
from megawatt.profiles.builder import ProfileBuilder
from megawatt.profiles.profile import Profile

format = "scalene"

_MODULE = "<module>"
# How far a co_firstlineno on a decorator may sit above its `def`; stacked decorators rarely
# run longer, and the bound keeps a wrong guess from scanning a whole file.
_MAX_DECORATOR_LINES = 64

Frame = tuple[str, str, int]  # path, qualified name, executing line


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _share(source: str, entry: dict[str, Any], where: str) -> float:
    """A line's or function's percentage of all CPU samples."""
    total = 0.0
    for key in ("n_cpu_percent_python", "n_cpu_percent_c", "n_sys_percent"):
        value = entry.get(key, 0.0)
        if not _is_number(value) or value < 0:
            raise ProfileFormatError(source, f"Scalene {where}: {key} is not a percentage")
        total += float(value)
    return total


def _memory(entry: dict[str, Any]) -> float:
    # Allocation volume rather than peak: it adds up across lines and runs like time does.
    value = entry.get("n_malloc_mb", 0.0)
    return float(value) if _is_number(value) and value > 0 else 0.0


def _line_number(source: str, value: Any, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ProfileFormatError(source, f"Scalene {where} has no valid line number ({value!r})")
    return value


def _is_anonymous(name: str) -> bool:
    """A lambda, comprehension or generator expression: `f.<locals>.<lambda>`, `<genexpr>`."""
    return name != _MODULE and name.rpartition(".")[2].startswith("<")


def _parse_frame(source: str, text: Any) -> Frame:
    """("path", "qualname", line) from "path qualname:line;"; a path may hold spaces, a name not."""
    if isinstance(text, str):
        head, _, line = text.rstrip().rstrip(";").rpartition(":")
        path, _, name = head.rpartition(" ")
        if path and name and line.isdigit():
            return path, name, int(line)
    raise ProfileFormatError(source, f"Scalene stack frame {text!r} is not 'path function:line'")


class _File:
    """One entry of `files`: which function each line belongs to."""

    def __init__(self, source: str, path: str, doc: Any) -> None:
        where = f"files[{path!r}]"
        doc = expect_dict(doc, source, f"Scalene {where}")
        self.functions = expect_list(doc.get("functions", []), source, f"Scalene {where}.functions")
        self.lines: list[dict[str, Any]] = []
        # innermost enclosing def/class of each listed line: (start, end), 0 at module level
        self.bounds: dict[int, tuple[int, int]] = {}
        for i, entry in enumerate(
            expect_list(doc.get("lines", []), source, f"Scalene {where}.lines")
        ):
            entry = expect_dict(entry, source, f"Scalene {where}.lines[{i}]")
            lineno = _line_number(source, entry.get("lineno"), f"{where}.lines[{i}]")
            start = entry.get("start_function_line", 0)
            end = entry.get("end_function_line", 0)
            if not isinstance(start, int) or not isinstance(end, int):
                start = end = 0
            self.bounds[lineno] = (start, end)
            self.lines.append(entry)

    def enclosing(self, line: int) -> int:
        return self.bounds.get(line, (0, 0))[0]

    def span(self, first_line: int) -> tuple[int, int]:
        """The lines of the function whose co_firstlineno is `first_line`, as far as known."""
        start, end = self.bounds.get(first_line, (0, 0))
        if start == first_line:
            return first_line, max(end, first_line)
        # first_line is a decorator: the decorator lines share the enclosing scope, and the first
        # line that does not is the `def` itself, which opens a scope of its own.
        for line in range(first_line + 1, first_line + _MAX_DECORATOR_LINES):
            bounds = self.bounds.get(line)
            if bounds is None or bounds[0] != start:
                if bounds is not None and bounds[0] == line:
                    return first_line, max(bounds[1], line)
                break
        # a lambda or comprehension, or no line data: the one line is all that is known
        return first_line, first_line


def _frame_text(source: str, frame: Any) -> str:
    """The 2.x text of a frame that Scalene 1.x wrote as [path, function, line]."""
    if (
        isinstance(frame, list)
        and len(frame) == 3
        and isinstance(frame[0], str)
        and isinstance(frame[1], str)
        and isinstance(frame[2], int)
    ):
        return f"{frame[0]} {frame[1]}:{frame[2]};"
    raise ProfileFormatError(
        source, f"Scalene stack frame {frame!r:.200} is not 'path function:line'"
    )


def _stack_weights(source: str, stacks: list[Any], elapsed: float) -> list[tuple[list[Any], float]]:
    """(frames, seconds) per stack.

    2.x writes {"cpu_samples": fraction of all CPU samples, ...}; 1.x wrote the same fraction last
    in [count, python, c, cpu_samples], or earlier a bare sample count, with frames as lists.
    """
    rows: list[tuple[list[Any], float]] = []
    counts: list[tuple[list[Any], float]] = []
    for i, item in enumerate(stacks):
        if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], list)):
            raise ProfileFormatError(source, f"Scalene stacks[{i}] is not a [frames, figures] pair")
        frames, figures = item
        if frames and not isinstance(frames[0], str):
            frames = [_frame_text(source, frame) for frame in frames]
        if isinstance(figures, dict):
            fraction = figures.get("cpu_samples", 0.0)
        elif isinstance(figures, list) and len(figures) == 4:
            fraction = figures[3]
        elif _is_number(figures) and figures >= 0:
            counts.append((frames, float(figures)))
            continue
        else:
            raise ProfileFormatError(source, f"Scalene stacks[{i}] has no sample figures")
        if not _is_number(fraction) or fraction < 0:
            raise ProfileFormatError(source, f"Scalene stacks[{i}] has no valid cpu_samples")
        rows.append((frames, float(fraction) * elapsed))
    counted = sum(n for _frames, n in counts)
    if counted > 0:
        # bare counts carry no time: spread the run's time over them as the fractions would
        rows.extend((frames, n / counted * elapsed) for frames, n in counts)
    return rows


def _once_per_stack(
    stack_of: npt.NDArray[np.int64], codes: npt.NDArray[np.int64], weights: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Each distinct code, and the weight of the stacks holding it, each stack counted once."""
    distinct, inverse = np.unique(codes, return_inverse=True)
    n = len(distinct)
    seen = np.sort(stack_of * n + inverse.reshape(-1))
    if not len(seen):
        return distinct, np.zeros(0)
    # Not np.unique: without return_inverse, numpy 2.4 takes a hashing path that is ~100x slower
    # than sorting on a million spread-out int64 codes.
    seen = seen[np.concatenate(([True], seen[1:] != seen[:-1]))]
    return distinct, np.bincount(seen % n, weights=weights[seen // n], minlength=n)


def _fold_stacks(
    stacks: list[tuple[list[Any], float]], frame_ids: dict[str, tuple[int, int]]
) -> tuple[dict[int, float], dict[tuple[int, int], float], dict[tuple[int, int], float]]:
    """Inclusive weight per function, per caller → callee pair and per (function, line).

    A function, a call or a line counts once per stack however deep it recurs. Done on numpy
    arrays of all frames at once: a long run can leave tens of thousands of distinct stacks.
    """
    stacks = [(frames, weight) for frames, weight in stacks if frames and weight > 0]
    if not stacks:
        return {}, {}, {}
    texts = list(frame_ids)
    number = {text: i for i, text in enumerate(texts)}
    frame_fid = np.fromiter((frame_ids[t][0] for t in texts), dtype=np.int64, count=len(texts))
    frame_line = np.fromiter((frame_ids[t][1] for t in texts), dtype=np.int64, count=len(texts))
    lengths = np.fromiter((len(frames) for frames, _ in stacks), dtype=np.int64, count=len(stacks))
    flat = np.fromiter(
        chain.from_iterable(map(number.__getitem__, frames) for frames, _ in stacks),
        dtype=np.int64,
        count=int(lengths.sum()),
    )
    weights = np.fromiter((w for _, w in stacks), dtype=np.float64, count=len(stacks))
    stack_of = np.repeat(np.arange(len(stacks), dtype=np.int64), lengths)
    fids = frame_fid[flat]
    n_fid = int(fids.max()) + 1

    functions, function_w = _once_per_stack(stack_of, fids, weights)
    totals = dict(zip(functions.tolist(), function_w.tolist(), strict=True))

    # a call is two neighbouring frames of one stack in different functions
    same = (stack_of[1:] == stack_of[:-1]) & (fids[1:] != fids[:-1])
    pairs, pair_w = _once_per_stack(
        stack_of[1:][same], fids[:-1][same] * n_fid + fids[1:][same], weights
    )
    edges = {
        (caller, callee): w
        for caller, callee, w in zip(
            (pairs // n_fid).tolist(), (pairs % n_fid).tolist(), pair_w.tolist(), strict=True
        )
    }

    lines = frame_line[flat]
    width = int(lines.max()) + 1
    at, line_w = _once_per_stack(stack_of, fids * width + lines, weights)
    by_line = {
        (fid, line): w
        for fid, line, w in zip(
            (at // width).tolist(), (at % width).tolist(), line_w.tolist(), strict=True
        )
    }
    return totals, edges, by_line


def load(source: str, data: bytes, parsed: Any = None) -> Profile:
    if parsed is None:
        try:
            parsed = json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise ProfileFormatError(source, f"Scalene output is not valid JSON ({err})") from None
    doc = expect_dict(parsed, source, "Scalene output")
    files_doc = expect_dict(doc.get("files"), source, "Scalene 'files'")
    require(
        files_doc,
        source,
        "Scalene profile lists no files: nothing was sampled in the profiled code (too short a "
        "run, or all of it under --cpu-percent-threshold)",
    )
    elapsed = doc.get("elapsed_time_sec")
    require(
        _is_number(elapsed) and elapsed >= 0,
        source,
        "Scalene profile has no valid elapsed_time_sec",
    )
    elapsed = float(elapsed)
    has_memory = doc.get("memory") is True
    seconds_per_percent = elapsed / 100.0

    b = ProfileBuilder(source, format, "seconds")
    start = doc.get("start_time_absolute")
    if _is_number(start) and start > 0:
        b.recorded_at = float(start)

    # -- functions Scalene lists, and the lines each one spans ------------------------------------
    files: dict[str, _File] = {}
    entry_share: dict[int, float] = {}
    path_of: dict[int, str] = {}
    first_lines: dict[tuple[str, str], int] = {}
    owners: dict[str, dict[int, int]] = {}
    by_first_line: dict[str, dict[int, int]] = {}
    for path, file_doc in files_doc.items():
        f = files[path] = _File(source, path, file_doc)
        spans: list[tuple[int, int, int]] = []
        for i, entry in enumerate(f.functions):
            where = f"files[{path!r}].functions[{i}]"
            entry = expect_dict(entry, source, f"Scalene {where}")
            name = entry.get("line")
            require(isinstance(name, str) and name, source, f"Scalene {where} has no name")
            first = _line_number(source, entry.get("lineno"), where)
            fid = b.function(path, name, first)
            path_of[fid] = path
            first_lines[(path, name)] = first
            entry_share[fid] = entry_share.get(fid, 0.0) + _share(source, entry, where)
            lo, hi = f.span(first)
            spans.append((lo, hi, fid))
        # Paint each line with the innermost function around it: outer spans first, inner ones
        # over them.
        owner = owners[path] = {}
        for lo, hi, fid in sorted(spans, key=lambda s: (s[0] - s[1], s[2])):
            for line in range(lo, hi + 1):
                owner[line] = fid
        by_first_line[path] = {lo: fid for lo, _hi, fid in spans}

    # -- stack frames ---------------------------------------------------------------------------
    stacks = _stack_weights(
        source, expect_list(doc.get("stacks") or [], source, "Scalene 'stacks'"), elapsed
    )
    # Frames repeat across stacks: each distinct text is parsed once.
    texts: set[str] = set()
    for frames, _weight in stacks:
        try:
            texts.update(frames)
        except TypeError:  # a list or object where the text of a frame belongs
            raise ProfileFormatError(
                source, f"Scalene stack {frames!r:.200} holds a non-text frame"
            ) from None
    parsed_frames = {text: _parse_frame(source, text) for text in texts}
    lowest_line: dict[tuple[str, str], int] = {}
    for path, name, line in parsed_frames.values():
        if line < lowest_line.get((path, name), 1 << 62):
            lowest_line[(path, name)] = line

    def first_line_of(path: str, name: str) -> int:
        known = first_lines.get((path, name))
        if known is not None:
            return known
        if name == _MODULE:
            return 1  # co_firstlineno of a module, as cProfile and pyinstrument record it
        seen = lowest_line[(path, name)]
        if _is_anonymous(name):
            return seen  # a lambda or comprehension starts on the line it runs on, near enough
        f = files.get(path)
        # a function without self time has no `functions` entry: its innermost enclosing def is
        # the best evidence (the `def` line, where co_firstlineno would name a decorator)
        return f.enclosing(seen) if f is not None else 0

    frame_ids: dict[str, tuple[int, int]] = {}
    # a line that stacks saw running in a named function, for lines no listed function spans
    ran_in: dict[tuple[str, int], int] = {}
    for text, (path, name, line) in parsed_frames.items():
        fid = b.function(path, name, first_line_of(path, name))
        frame_ids[text] = (fid, line)
        if name != _MODULE and not _is_anonymous(name):
            ran_in.setdefault((path, line), fid)

    # -- lines: self time and memory --------------------------------------------------------------
    # Self time is the sum of a function's lines, not its `functions` entry, which can miss some:
    # in the example, `report` has two busy lines (the loop header and its body, equal shares),
    # its entry counts one of them, and its stacks agree with the two lines together.
    line_self: dict[tuple[int, int], float] = {}
    line_memory: dict[tuple[int, int], float] = {}
    lines_share: defaultdict[int, float] = defaultdict(float)
    any_cpu = any(share > 0 for share in entry_share.values())
    for path, f in files.items():
        owner = owners[path]
        module = -1
        for entry in f.lines:
            line = entry["lineno"]
            share = _share(source, entry, f"files[{path!r}] line {line}")
            memory = _memory(entry) if has_memory else 0.0
            if share <= 0 and memory <= 0:
                continue
            any_cpu = any_cpu or share > 0
            fid = owner.get(line, -1)
            if fid < 0:
                fid = by_first_line[path].get(f.enclosing(line), -1)
            if fid < 0:
                fid = ran_in.get((path, line), -1)
            if fid < 0:
                # `functions` leaves module-level code (and class bodies) out
                if module < 0:
                    module = b.function(path, _MODULE, 1)
                fid = module
            lines_share[fid] += share
            key = (fid, line)
            line_self[key] = line_self.get(key, 0.0) + share * seconds_per_percent
            if has_memory:
                line_memory[key] = line_memory.get(key, 0.0) + memory
    self_time = {fid: share * seconds_per_percent for fid, share in lines_share.items()}
    for fid, share in entry_share.items():
        # a file listed without its lines: the entries are all there is
        if not files[path_of[fid]].lines:
            self_time[fid] = share * seconds_per_percent

    # -- stacks: inclusive time, callers and callees ---------------------------------------------
    total_time, edges, line_total = _fold_stacks(stacks, frame_ids)
    stacked = sum(weight for frames, weight in stacks if frames and weight > 0)

    require(
        any_cpu or stacked > 0,
        source,
        "Scalene profile holds no CPU samples (every line and function is at 0 %)",
    )
    require(elapsed > 0, source, "Scalene profile has CPU samples but an elapsed_time_sec of 0")

    for fid in set(self_time) | set(total_time):
        b.set_function(fid, self_time.get(fid, 0.0), total_time.get(fid, 0.0))
    for (caller, callee), weight in edges.items():
        b.add_edge(caller, callee, weight)
    for key in sorted(set(line_self) | set(line_total)):
        own = line_self.get(key, 0.0)
        b.add_line(
            key[0],
            key[1],
            own,
            max(own, line_total.get(key, 0.0)),
            line_memory.get(key) if has_memory else None,
        )
    return b.build(total_weight=elapsed)
