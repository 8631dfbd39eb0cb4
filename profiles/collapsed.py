"""Collapsed ("folded") stacks: one line per stack, frames root first, then a count.

    frame;frame;frame COUNT

The frame text depends on the writer:

* py-spy `-f raw`: `name (file:line)`, or `name (file)` with `--nolineno`; the file is shortened
  to its package-relative path unless `--full-filenames`. `-t` / `-s` add root pseudo-frames
  `thread (TID)[: NAME]` and `process PID:"cmdline"`. Samples with no Python frame come as ` COUNT`.
* austin: `P<pid>;T[<iid>:]<tid>;file:function:line;... METRIC`, or `file:function;L<line>` with
  `-a`. `# key: value` lines carry metadata (`# mode: wall`). The metric is microseconds (wall or
  cpu mode), `time,idle,memory` in full mode, bytes in memory mode. One line per sample.
* perf / Brendan Gregg's stackcollapse scripts: bare `function` names, `module`function` (DTrace)
  and `py::qualname:file` (CPython's `-X perf` trampolines).

Sampled lines carry the line being executed, so a function is identified by (file, name) and the
line belongs to the frame, as for py-spy's speedscope output.
"""

from __future__ import annotations

import os
import re
import sysconfig
from pathlib import Path
from typing import Any

from megawatt.errors import ProfileFormatError
from megawatt.model import FunctionKind
from megawatt.profiles.builder import ProfileBuilder
from megawatt.profiles.profile import Profile, Unit
from megawatt.profiles.speedscope import PYSPY_PSEUDO, native_kind

format = "collapsed"

_AUSTIN_HEAD = re.compile(r"P\d+;T[^;]*(;|$)")
_AUSTIN_ALT_LINE = re.compile(r":([^;:]*);L(\d+)(?=;|$)")  # `-a`: "file:function;L<line>"
_PERF_PYTHON = re.compile(r"py::([^:]+):(.+)")
_AUSTIN_SECONDS = 1e-6  # austin's time metric is in microseconds
_LIBRARY_ROOTS = tuple(
    sorted({Path(sysconfig.get_paths()[k]) for k in ("stdlib", "platstdlib", "purelib", "platlib")})
)

Frame = tuple[str, str, int, FunctionKind | None]  # path, name, line, kind (None: classify)


def _pyspy_frame(text: str) -> Frame | None:
    """`name (file:line)` / `name (file)`, or None when the text has another shape."""
    # Python names hold no " (", so the first one starts the location even if a path has one.
    cut = text.find(" (")
    if cut <= 0 or not text.endswith(")"):
        return None
    name, inner = text[:cut], text[cut + 2 : -1]
    path, colon, line = inner.rpartition(":")
    if colon and line.isdigit():
        return path, name, int(line), native_kind(path)
    return inner, name, 0, native_kind(inner)


def _austin_frame(text: str) -> Frame | None:
    """`file:function:line`; austin's own markers (`:INVALID:`, `:GC:`) have no file or line."""
    if text == ":INVALID:":
        return None  # a frame austin failed to read: nothing to attribute to it
    parts = text.rsplit(":", 2)
    if len(parts) == 3 and (parts[2].isdigit() or not parts[2]) and parts[1]:
        path, name, line = parts
        kind = FunctionKind.NATIVE if not path else native_kind(path)
        return path, name, int(line) if line else 0, kind
    return "", text, 0, FunctionKind.NATIVE


def _shortened_kind(path: str) -> FunctionKind | None:
    """LIBRARY for a relative path found under this interpreter's stdlib or site-packages.

    py-spy shortens paths to what follows their sys.path entry ("copy.py", "requests/api.py"),
    which `classify` cannot tell from the user's own "examples/shop.py".
    """
    if not path or path.startswith("<") or os.path.isabs(path):
        return None
    if any((root / path).is_file() for root in _LIBRARY_ROOTS):
        return FunctionKind.LIBRARY
    return None


def _looks_like_source(path: str) -> bool:
    return "/" in path or "\\" in path or path.startswith("<") or path.endswith((".py", ".pyx"))


def _generic_frame(text: str) -> Frame | None:
    """Any writer's frame; None for py-spy's thread/process pseudo-frames."""
    if PYSPY_PSEUDO.fullmatch(text):
        return None
    frame = _pyspy_frame(text)
    if frame is not None:
        return frame
    perf = _PERF_PYTHON.fullmatch(text)
    if perf:
        return perf.group(2), perf.group(1), 0, None
    parts = text.rsplit(":", 2)
    if len(parts) == 3 and parts[2].isdigit() and parts[1] and _looks_like_source(parts[0]):
        return parts[0], parts[1], int(parts[2]), native_kind(parts[0])
    module, tick, function = text.partition("`")
    if tick and module and function:
        return module, function, 0, FunctionKind.NATIVE
    return "", text, 0, None


def _metric(text: bytes) -> tuple[float, bool] | None:
    """The weight of a line and whether it came as austin's `time,idle,memory`; None if bad."""
    full = b"," in text
    if full:
        fields = text.split(b",")
        if len(fields) != 3:
            return None
        text = fields[0]
    try:
        value = float(text)
    except ValueError:
        return None
    if not 0 <= value < float("inf"):  # also refuses NaN
        return None
    return value, full


def _malformed(source: str, number: int, line: bytes, why: str) -> ProfileFormatError:
    shown = line.strip().decode("utf-8", errors="replace")
    if len(shown) > 80:
        shown = shown[:77] + "..."
    return ProfileFormatError(
        source, f"line {number} is not 'frame;frame;... COUNT' ({why}): {shown!r}"
    )


def _austin_stack(stack: str) -> str | None:
    """The frames of an austin stack without its P<pid>;T<tid> head; None if not austin's."""
    head = _AUSTIN_HEAD.match(stack)
    if head is None:
        return None
    frames = stack[head.end() :]
    return _AUSTIN_ALT_LINE.sub(r":\1:\2", frames) if ";L" in frames else frames


class _Stacks:
    """Interns frame texts (each parsed once) and adds whole stacks to the builder."""

    def __init__(self, builder: ProfileBuilder) -> None:
        self.builder = builder
        self.generic: dict[str, int | None] = {}
        self.austin: dict[str, int | None] = {}
        self._kinds: dict[str, FunctionKind | None] = {}

    def _intern(self, frame: Frame | None) -> int | None:
        if frame is None:
            return None
        path, name, line, kind = frame
        if kind is None:
            kind = self._kinds.get(path)
            if path not in self._kinds:
                kind = self._kinds[path] = _shortened_kind(path)
        return self.builder.frame(self.builder.function(path, name, 0, kind), line)

    def add(self, stack: str, weight: float, austin: bool) -> bool:
        cache = self.austin if austin else self.generic
        texts = stack.split(";")
        try:
            found = [cache[text] for text in texts]
        except KeyError:  # the first stack to hold a frame parses it; the rest only look it up
            parse = _austin_frame if austin else _generic_frame
            for text in texts:
                if text not in cache:
                    cache[text] = self._intern(parse(text)) if text else None
            found = [cache[text] for text in texts]
        frames = [frame for frame in found if frame is not None]
        if frames:
            self.builder.add_stack(frames, weight)
        return bool(frames)


def _read_lines(source: str, data: bytes) -> tuple[dict[bytes, float], bool]:
    """Weight per distinct stack text, and whether any line had austin's `time,idle,memory`."""
    metadata: dict[str, str] = {}
    # Lines are summed per stack first: py-spy writes one line per distinct stack but austin one
    # per sample (a million samples can be a GB of text), so the loop does the least per line and
    # stays on bytes; everything else runs once per distinct stack.
    stacks: dict[bytes, float] = {}
    full_metrics = False
    for number, line in enumerate(data.split(b"\n"), 1):
        body = line.strip()
        if not body:
            continue
        if body[:1] == b"#":
            key, colon, value = body[1:].decode("utf-8", errors="replace").partition(":")
            if colon:
                metadata[key.strip().lower()] = value.strip()
            if metadata.get("mode") == "memory":
                # Refused before its (negative) byte counts read as malformed lines.
                raise ProfileFormatError(
                    source,
                    "austin memory profile (mode: memory); Megawatt reads time or sample profiles",
                )
            continue
        parts = body.rsplit(None, 1)
        # A lone number is a count with an empty stack (py-spy's samples outside Python code).
        stack, count = (b"", parts[0]) if len(parts) == 1 else (parts[0], parts[1])
        try:
            weight = float(int(count))  # the common case, without a function call
            metric: tuple[float, bool] | None = (weight, False) if weight >= 0 else None
        except ValueError:
            metric = _metric(count)
        if metric is None:
            shown = count.decode("utf-8", errors="replace")
            why = "no count at the end" if len(parts) == 1 else f"{shown!r} is not a count"
            raise _malformed(source, number, line, why)
        stacks[stack] = stacks.get(stack, 0.0) + metric[0]
        full_metrics |= metric[1]
    return stacks, full_metrics


def load(source: str, data: bytes, parsed: Any = None) -> Profile:
    raw, full_metrics = _read_lines(source, data)
    stacks: list[tuple[str, float, bool]] = []  # frames text, weight, austin's
    for key, weight in raw.items():
        text = key.decode("utf-8", errors="replace")
        frames = _austin_stack(text)
        stacks.append((text, weight, False) if frames is None else (frames, weight, True))
    austin = any(is_austin for _, _, is_austin in stacks)
    if austin and any(text and not is_austin for text, _, is_austin in stacks):
        raise ProfileFormatError(
            source, "collapsed stacks mix austin samples (P<pid>;T<tid>;...) with other lines"
        )
    if full_metrics and not austin:
        raise ProfileFormatError(source, "comma-separated counts outside an austin profile")

    # austin's metric is time; every other writer counts samples.
    unit: Unit = "seconds" if austin else "samples"
    scale = _AUSTIN_SECONDS if austin else 1.0
    builder = ProfileBuilder(source, format, unit)
    interned = _Stacks(builder)
    added = False
    for text, weight, is_austin in stacks:
        if weight > 0:
            added |= interned.add(text, weight * scale, is_austin)
    if not added:
        raise ProfileFormatError(source, "collapsed stacks hold no samples with frames")
    return builder.build()
