"""Megawatt's call recorder, loaded into a sandboxed pytest run (`-p _megawatt_recorder`).

It wraps one function of the project as its module is imported and records, per test, whether
the test reached it (selection by execution, not by name), and the outermost calls it received:
the arguments before the call, the return value or the exception type, and the arguments after
(for mutation). The calls are replayed later against the original and the candidate.

This file runs under the project's interpreter, in the sandbox, so it uses the standard library
only and never imports Megawatt. Records are appended as they happen, so a run killed at its
deadline still leaves what it saw.
"""

from __future__ import annotations

import functools
import importlib.abc
import json
import os
import pickle
import struct
import sys
import threading
import time

_FILE = os.path.realpath(os.environ.get("MEGAWATT_RECORD_FILE", ""))
_FUNCTION = os.environ.get("MEGAWATT_RECORD_FUNCTION", "")
_OUT = os.environ.get("MEGAWATT_RECORD_OUT", "")
_MAX_CALLS = int(os.environ.get("MEGAWATT_RECORD_MAX_CALLS", "200"))
_MAX_PER_TEST = int(os.environ.get("MEGAWATT_RECORD_MAX_PER_TEST", "50"))
_MAX_BYTES = int(os.environ.get("MEGAWATT_RECORD_MAX_BYTES", "1000000"))
_STEM = os.path.splitext(os.path.basename(_FILE))[0]

_local = threading.local()
_state = {
    "test": "",
    "module": None,
    "patched": False,
    "problem": "",
    "calls": 0,
    "per_test": {},
    "unrecorded": {},
}


def _event(kind, **fields):
    # one JSON line per event, flushed at once: survives a kill at the deadline
    with open(os.path.join(_OUT, "events.jsonl"), "a", encoding="utf-8") as f:
        f.write(json.dumps(dict(fields, kind=kind)) + "\n")


def _skip(why):
    counts = _state["unrecorded"]
    counts[why] = counts.get(why, 0) + 1


def _dump(value):
    data = pickle.dumps(value, protocol=4)
    if len(data) > _MAX_BYTES:
        raise ValueError("too large")
    return data


def _save(record):
    blob = pickle.dumps(record, protocol=4)
    with open(os.path.join(_OUT, "calls.bin"), "ab") as f:
        f.write(struct.pack("<I", len(blob)) + blob)


def _type_name(exc_type):
    return exc_type.__module__ + "." + exc_type.__qualname__


def _wrap(fn):
    @functools.wraps(fn)
    def megawatt_recorded(*args, **kwargs):
        if getattr(_local, "depth", 0):
            return fn(*args, **kwargs)  # a recursive or nested call: part of the outer one
        _local.depth = 1
        try:
            test = _state["test"]
            seen = _state["per_test"].get(test, 0)
            _state["per_test"][test] = seen + 1
            if seen == 0:
                _event("reached", test=test)
            record = None
            if _state["calls"] >= _MAX_CALLS or seen >= _MAX_PER_TEST:
                _skip("limit")
            else:
                try:
                    record = {"test": test, "args": _dump((args, kwargs))}
                except Exception:
                    _skip("arguments not picklable")
            started = time.perf_counter_ns()
            try:
                result = fn(*args, **kwargs)
            except Exception as exc:
                if record is not None:
                    record["raised"] = _type_name(type(exc))
                    record["ns"] = time.perf_counter_ns() - started
                    _finish(record, args, kwargs)
                raise
            if record is not None:
                record["ns"] = time.perf_counter_ns() - started
                try:
                    record["result"] = _dump(result)
                except Exception:
                    _skip("result not picklable")
                else:
                    _finish(record, args, kwargs)
            return result
        finally:
            _local.depth = 0

    megawatt_recorded.__megawatt_original__ = fn
    return megawatt_recorded


def _finish(record, args, kwargs):
    try:
        record["after"] = _dump((args, kwargs))
    except Exception:
        _skip("arguments not picklable after the call")
        return
    _state["calls"] += 1
    _save(record)


def _patch(module):
    if _state["patched"]:
        return
    parts = [p for p in _FUNCTION.split(".") if p]
    owner = module
    try:
        for part in parts[:-1]:
            owner = getattr(owner, part)
        raw = vars(owner)[parts[-1]]
    except (AttributeError, KeyError, TypeError, IndexError):
        _state["problem"] = f"no {_FUNCTION} in {module.__name__}"
        return
    if isinstance(raw, (staticmethod, classmethod)):
        wrapped = type(raw)(_wrap(raw.__func__))
    elif callable(raw):
        wrapped = _wrap(raw)
    else:
        _state["problem"] = f"{_FUNCTION} is not a function"
        return
    setattr(owner, parts[-1], wrapped)
    _state["patched"] = True
    _state["module"] = module.__name__


class _PatchingLoader(importlib.abc.Loader):
    def __init__(self, inner):
        self._inner = inner

    def create_module(self, spec):
        return self._inner.create_module(spec)

    def exec_module(self, module):
        self._inner.exec_module(module)
        _patch(module)

    def __getattr__(self, name):  # get_source and the rest, for tracebacks
        return getattr(self._inner, name)


class _Finder(importlib.abc.MetaPathFinder):
    """Finds the target module the usual way, then patches it right after it runs: a test that
    does `from module import function` gets the wrapped function."""

    def find_spec(self, name, path=None, target=None):
        if _state["patched"] or name.rpartition(".")[2] not in (_STEM, "__init__"):
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                break
        else:
            return None
        origin = spec.origin
        if origin and os.path.realpath(origin) == _FILE and spec.loader is not None:
            spec.loader = _PatchingLoader(spec.loader)
        return spec


def _install():
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if isinstance(path, str) and os.path.realpath(path) == _FILE:
            _patch(module)
    if not _state["patched"]:
        sys.meta_path.insert(0, _Finder())


if _FILE and _FUNCTION and _OUT:
    _install()


def pytest_runtest_logstart(nodeid, location):
    _state["test"] = nodeid


def pytest_runtest_logreport(report):
    if report.when == "call" or report.failed:
        _event(
            "outcome",
            test=report.nodeid,
            when=report.when,
            outcome=report.outcome,
            seconds=report.duration,
        )


def pytest_runtest_logfinish(nodeid, location):
    _state["test"] = ""


def pytest_sessionfinish(session, exitstatus):
    _event(
        "finish",
        module=_state["module"],
        patched=_state["patched"],
        problem=_state["problem"],
        calls=_state["calls"],
        unrecorded=_state["unrecorded"],
        collected=getattr(session, "testscollected", 0),
        exitstatus=int(exitstatus),
    )
