"""Megawatt's call replayer: `python replayer.py CALLS MODULE FUNCTION OUT`, run in the sandbox
with the original or the candidate in place.

Each recorded call is unpickled afresh (so every call starts from the state the recording saw,
and an instance's own cache starts cold, as it did), timed alone with `perf_counter_ns` (no
profiler), and compared with the recording: the same return value, the same exception type, and
the arguments left as the original left them (a candidate may add private attributes to an
instance: that is where a per-instance cache lives). One process makes one pass, in the order
of the recording; the parent alternates processes of the two versions round by round.

Standard library only: this runs under the project's interpreter and never imports Megawatt.
"""

from __future__ import annotations

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


def main(argv):
    calls_path, module_name, function, out_path = argv[1:5]
    fn = _resolve(module_name, function)
    results = []
    for record in _records(calls_path):
        try:
            args, kwargs = pickle.loads(record["args"])
        except Exception as exc:  # a class only the test run could import, and the like
            results.append({"skip": f"{type(exc).__name__}: {_short(exc)}"})
            continue
        call = _call_text(function, args, kwargs)
        raised = None
        result = None
        started = time.perf_counter_ns()
        try:
            result = fn(*args, **kwargs)
        except Exception as exc:
            raised = _type_name(type(exc))
        ns = time.perf_counter_ns() - started
        why = ""
        if raised != record.get("raised"):
            why = "raised {}, the original {}".format(
                raised or "nothing", record.get("raised") or "returned normally"
            )
        elif raised is None and not _same(pickle.loads(record["result"]), result):
            expected = _short(pickle.loads(record["result"]))
            why = f"returned {_short(result)}, the original {expected}"
        elif not _same(pickle.loads(record["after"]), (args, kwargs), extra_ok=True):
            expected = _short(pickle.loads(record["after"]))
            why = f"left its arguments as {_short((args, kwargs))}, the original as {expected}"
        results.append({"ns": ns, "why": why, "call": call, "test": record.get("test", "")})
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump({"calls": results}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
