"""Megawatt's call replayer: `python replayer.py CALLS MODULE FUNCTION OUT [PASSES]`, run in the
sandbox with the original or the candidate in place.

Each recorded call is unpickled afresh (so every call starts from the state the recording saw,
and an instance's own cache starts cold, as it did), timed alone with `perf_counter_ns` (no
profiler), and compared with the recording: the same return value, the same exception type, and
the arguments left as the original left them (a candidate may add private attributes to an
instance: that is where a per-instance cache lives). One process makes a few passes, in the order
of the recording; the parent alternates processes of the two versions round by round.

Standard library only: this runs under the project's interpreter and never imports Megawatt.
"""

from __future__ import annotations

import functools
import importlib
import json
import math
import pickle
import struct
import sys
import time

MAX_REPR = 200


def _records(path):
    with open(path, "rb") as f:
        data = f.read()
    at = 0
    while at + 4 <= len(data):
        (size,) = struct.unpack_from("<I", data, at)
        at += 4
        yield pickle.loads(data[at : at + size])
        at += size


def _same(expected, got, extra_ok=False, depth=0):
    """Equal as the original's caller would see it. Objects without their own __eq__ compare by
    type and attributes; `extra_ok` lets an instance carry attributes the expected one lacks."""
    if expected is got:
        return True
    try:
        if bool(expected == got):
            return True
    except Exception:
        pass
    if type(expected) is not type(got) or depth > 30:
        return False
    if isinstance(expected, float):
        return math.isnan(expected) and math.isnan(got)
    if isinstance(expected, (list, tuple)):
        return len(expected) == len(got) and all(
            _same(a, b, extra_ok, depth + 1)
            for a, b in zip(expected, got)  # noqa: B905 (older interpreters)
        )
    if isinstance(expected, dict):
        return expected.keys() == got.keys() and all(
            _same(v, got[k], extra_ok, depth + 1) for k, v in expected.items()
        )
    mine, theirs = getattr(expected, "__dict__", None), getattr(got, "__dict__", None)
    if not isinstance(mine, dict) or not isinstance(theirs, dict):
        return False
    if type(expected).__eq__ is not object.__eq__:
        return False  # it defines equality, and that said no
    extra = set(theirs) - set(mine)
    if extra and not (extra_ok and all(k.startswith("_") for k in extra)):
        return False
    return all(_same(v, theirs.get(k), extra_ok, depth + 1) for k, v in mine.items())


def _short(value):
    try:
        text = repr(value)
    except Exception as exc:
        text = f"<unrepresentable {type(value).__name__}: {type(exc).__name__}>"
    return text if len(text) <= MAX_REPR else text[: MAX_REPR - 1] + "…"


def _resolve(module_name, function):
    module = importlib.import_module(module_name)
    parts = function.split(".")
    owner = module
    for part in parts[:-1]:
        owner = getattr(owner, part)
    raw = vars(owner)[parts[-1]]
    raw = getattr(raw, "__megawatt_original__", raw)
    if isinstance(raw, (staticmethod, classmethod)):
        raw = raw.__func__
    return raw


def _call_text(function, args, kwargs):
    shown = [_short(a) for a in args] + [f"{k}={_short(v)}" for k, v in kwargs.items()]
    return f"{function.rpartition('.')[2]}({', '.join(shown)})"


def _type_name(exc_type):
    return exc_type.__module__ + "." + exc_type.__qualname__


def _clear_caches(module):
    """Empty the functools caches of the module's functions and methods: a pass after the
    first must start from the state the recording saw, as the first did."""
    owners = [module] + [v for v in vars(module).values() if isinstance(v, type)]
    for owner in owners:
        for value in list(vars(owner).values()):
            value = getattr(value, "__func__", value)  # staticmethod, classmethod
            clear = getattr(value, "cache_clear", None)
            if isinstance(value, functools._lru_cache_wrapper) and callable(clear):
                clear()


def _check(record, raised, result, args, kwargs):
    if raised != record.get("raised"):
        return "raised {}, the original {}".format(
            raised or "nothing", record.get("raised") or "returned normally"
        )
    if raised is None and not _same(pickle.loads(record["result"]), result):
        expected = _short(pickle.loads(record["result"]))
        return f"returned {_short(result)}, the original {expected}"
    if not _same(pickle.loads(record["after"]), (args, kwargs), extra_ok=True):
        expected = _short(pickle.loads(record["after"]))
        return f"left its arguments as {_short((args, kwargs))}, the original as {expected}"
    return ""


def main(argv):
    calls_path, module_name, function, out_path = argv[1:5]
    passes = max(1, int(argv[5])) if len(argv) > 5 else 1
    module = importlib.import_module(module_name)
    fn = _resolve(module_name, function)
    records = list(_records(calls_path))
    results = [{} for _ in records]
    # The first pass checks behaviour and warms the interpreter (specialised byte code, the
    # allocator's arenas); the time of a call is its best over the later passes, each on
    # freshly loaded arguments and emptied caches, so nothing the first pass cached counts.
    for number in range(passes):
        for index, record in enumerate(records):
            row = results[index]
            if "skip" in row:
                continue
            try:
                args, kwargs = pickle.loads(record["args"])
            except Exception as exc:  # a class only the test run could import, and the like
                row["skip"] = f"{type(exc).__name__}: {_short(exc)}"
                continue
            raised = None
            result = None
            started = time.perf_counter_ns()
            try:
                result = fn(*args, **kwargs)
            except Exception as exc:
                raised = _type_name(type(exc))
            ns = time.perf_counter_ns() - started
            if number == 0:
                row.update(
                    why=_check(record, raised, result, args, kwargs),
                    call=_call_text(function, *pickle.loads(record["args"])),
                    test=record.get("test", ""),
                )
            if number > 0 or passes == 1:
                row["ns"] = min(ns, row.get("ns", ns))
        _clear_caches(module)
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump({"calls": results}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
