"""Scalene output, recorded by the real Scalene on the bundled example (once per session)."""

from __future__ import annotations

import ast
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from megawatt.errors import ProfileError
from megawatt.model import FunctionKind
from megawatt.profiles import load
from megawatt.profiles import scalene as scalene_format
from megawatt.profiles.profile import Profile
from tests.conftest import BIN, EXAMPLE, WORKLOAD, run

SHOP = str(EXAMPLE)
LAMBDA = "closest_product.<locals>.<lambda>"


def _spans() -> dict[str, tuple[int, int]]:
    """(def line, last line) of each top-level function of the example, from its source."""
    tree = ast.parse(EXAMPLE.read_text())
    return {
        node.name: (node.lineno, node.end_lineno or node.lineno)
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
    }


@pytest.fixture(scope="session")
def scalene_json(profiles_dir: Path) -> Path:
    out = profiles_dir / "shop.scalene.json"
    # Memory profiling stays on (it is the default) for the per-line memory figures. The default
    # 10 ms CPU interval gives ~130 samples of this ~2 s run, too few to rank the two hottest
    # functions reliably; 3 ms gives ~400 at the same run time.
    program, *args = WORKLOAD
    cmd = [str(BIN / "scalene"), "run", "--cpu-sampling-rate", "0.003", "-o", str(out), program]
    run([*cmd, "---", *args])
    return out


@pytest.fixture(scope="session")
def raw(scalene_json: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(scalene_json.read_text())
    return doc


@pytest.fixture(scope="session")
def prof(scalene_json: Path) -> Profile:
    return load(scalene_json)


def _fid(prof: Profile, name: str) -> int:
    fid = prof.find(SHOP, name)
    assert fid is not None, f"{name} not in the profile"
    return fid


# -- the real recording ------------------------------------------------------------------------


def test_recognised_by_content(scalene_json: Path, raw: dict[str, Any], tmp_path: Path) -> None:
    assert (raw["memory"], SHOP in raw["files"]) == (True, True)
    assert (prof := load(scalene_json)).format == "scalene" and prof.unit == "seconds"
    assert prof.total_weight == pytest.approx(raw["elapsed_time_sec"])
    assert prof.recorded_at == pytest.approx(raw["start_time_absolute"])
    disguised = tmp_path / "shop.speedscope.json"
    shutil.copy(scalene_json, disguised)
    assert load(disguised).format == "scalene"


def test_ranking_agrees_with_stdlib_pstats(prof: Profile, reference_top: list[str]) -> None:
    ours = [h.function for h in prof.top(20, kinds=[FunctionKind.USER]) if h.path == SHOP]
    # cProfile charges its per-call overhead to the ~4 million calls of edit_distance; Scalene samples
    # without hooking calls, so edit_distance and valid_orders come out close (as they are when
    # timed unprofiled) and either may lead.
    assert reference_top[0] == "edit_distance" and "edit_distance" in ours[:2]
    assert len(set(ours[:3]) & set(reference_top[:3])) >= 2


def test_functions_and_hot_lines_map_to_the_source(prof: Profile, raw: dict[str, Any]) -> None:
    spans = _spans()
    # a sample that lands in a class body (Order's) would list it too: only functions are checked
    listed = [e["line"] for e in raw["files"][SHOP]["functions"] if e["line"] in spans]
    assert {"edit_distance", "valid_orders"} <= set(listed)
    for name in listed:
        fid = _fid(prof, name)
        first, last = spans[name]
        assert prof.first_lines[fid] == first, name
        assert prof.kind(fid) is FunctionKind.USER
        # an entry can hold memory samples alone, and so no line with CPU time
        hot = [fig.line for fig in prof.lines(fid) if fig.self_weight > 0]
        assert all(first <= line <= last for line in hot), (name, hot)
        assert hot or name not in ("edit_distance", "valid_orders")
    lam = _fid(prof, LAMBDA)
    assert "lambda" in EXAMPLE.read_text().splitlines()[prof.first_lines[lam] - 1]
    module = prof.find(SHOP, "<module>", 1)
    assert module is not None
    assert prof.total_weight_of[module] == pytest.approx(float(prof.total_weight_of.max()))


def test_recursion_is_counted_once(prof: Profile) -> None:
    ed = prof.hot_function(_fid(prof, "edit_distance"))
    assert 0 < ed.self_time <= ed.total_time <= prof.total_weight
    outer = prof.hot_function(_fid(prof, "closest_product"))
    # every stack holding edit_distance holds it ~14 deep, and passes through closest_product
    assert ed.total_time <= outer.total_time * 1.001 + 1e-9
    assert ed.total_time >= 0.9 * outer.total_time


def test_callers_and_callees(prof: Profile) -> None:
    ed = _fid(prof, "edit_distance")
    callers = prof.callers(ed)
    assert [prof.names[e.function] for e in callers] == [LAMBDA]
    assert callers[0].weight == pytest.approx(prof.total_weight_of[ed])
    assert "closest_product" in {prof.names[e.function] for e in prof.callers(_fid(prof, LAMBDA))}
    callees = {prof.names[e.function] for e in prof.callees(_fid(prof, "run"))}
    assert {"valid_orders", "settle", "closest_product"} <= callees


def test_per_line_cpu_and_memory(prof: Profile) -> None:
    assert prof.has_lines and prof.line_memory_mb is not None
    allocated = float(np.nansum(prof.line_memory_mb))  # NaN: a line stacks saw, with no figures
    assert allocated > 1.0  # make_orders builds 20,000 orders: megabytes, sampled per MB
    for name in ("edit_distance", "valid_orders", "report"):
        fid = _fid(prof, name)
        figures = prof.lines(fid)
        assert sum(fig.self_weight for fig in figures) == pytest.approx(prof.self_weight[fid])
        assert all(fig.memory_mb is None or fig.memory_mb >= 0 for fig in figures)
    # self time is the run, seen line by line, with nothing counted twice
    assert float(prof.line_self.sum()) == pytest.approx(float(prof.self_weight.sum()))
    assert 0.8 * prof.total_weight <= float(prof.self_weight.sum()) <= 1.001 * prof.total_weight


def test_no_files_or_no_samples(raw: dict[str, Any], tmp_path: Path) -> None:
    message = _bad(tmp_path, "nofiles.json", {**raw, "files": {}})
    assert "lists no files" in message
    silent = json.loads(json.dumps(raw))
    for file_doc in silent["files"].values():
        for entry in file_doc["functions"] + file_doc["lines"]:
            for key in ("n_cpu_percent_python", "n_cpu_percent_c", "n_sys_percent"):
                entry[key] = 0.0
    silent["stacks"] = []
    message = _bad(tmp_path, "silent.json", silent)
    assert "no CPU samples" in message


def test_empty_object_from_a_too_short_run(tmp_path: Path) -> None:
    # what `scalene run` writes when the program ends before the first sample
    _bad(tmp_path, "short.json", {})


def test_truncated(scalene_json: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.json"
    data = scalene_json.read_bytes()
    cut.write_bytes(data[: len(data) // 3])
    with pytest.raises(ProfileError) as info:
        load(cut)
    assert str(cut) in str(info.value) and "truncated" in str(info.value)


def test_malformed_stack_frame_is_named(raw: dict[str, Any], tmp_path: Path) -> None:
    broken = {**raw, "stacks": [[["no line number here"], {"count": 1, "cpu_samples": 1.0}]]}
    message = _bad(tmp_path, "frame.json", broken)
    assert "'no line number here'" in message


def _bad(tmp_path: Path, name: str, doc: dict[str, Any]) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    with pytest.raises(ProfileError) as info:
        load(path)
    assert str(path) in str(info.value)
    return str(info.value)


# -- the shapes the example does not produce ---------------------------------------------------

# A program with a decorated function, a method with a nested function, a generator expression
# and module-level work, as Scalene describes it (bounds from its AST pass: the innermost def or
# class around each line, 0 outside any):
#
#   4 @functools.cache             12 class Grid:
#   5 def slow(n):                 13     def walk(self):
#   6     total = 0                14         def inner():
#   7     for i in range(n):       15             return sum(x for x in range(9))
#   8         total += i           16         return inner()
#   9     return total             19 Grid().walk()
#                                  20 slow(10)
_BOUNDS = {5: (5, 9), 6: (5, 9), 7: (5, 9), 8: (5, 9), 9: (5, 9), 12: (12, 16)}
_BOUNDS |= {13: (13, 16), 14: (14, 15), 15: (14, 15), 16: (13, 16)}


def _line(lineno: int, cpu: float = 0.0, mb: float = 0.0) -> dict[str, Any]:
    start, end = _BOUNDS.get(lineno, (0, 0))
    return {
        "lineno": lineno,
        "line": "escaped \\u003c text",
        "n_cpu_percent_python": cpu,
        "n_cpu_percent_c": 0.0,
        "n_sys_percent": 0.0,
        "n_malloc_mb": mb,
        "n_peak_mb": mb,
        "start_function_line": start,
        "end_function_line": end,
    }


_G = "/app/g.py"
_STACKS = [
    ([("<module>", 20), ("slow", 8)], 0.6),
    (
        [
            ("<module>", 19),
            ("Grid.walk", 16),
            ("Grid.walk.<locals>.inner", 15),
            ("Grid.walk.<locals>.inner.<locals>.<genexpr>", 15),
        ],
        0.4,
    ),
]


def _stacks(shape: str) -> list[Any]:
    """The two stacks above as each Scalene version writes them."""
    out: list[Any] = []
    for frames, share in _STACKS:
        text = [f"{_G} {name}:{line};" for name, line in frames]
        if shape == "2.x":
            out.append([text, {"count": 1, "cpu_samples": share}])
        elif shape == "1.5":  # [count, python_time, c_time, cpu_samples]
            out.append([text, [1, share, 0.0, share]])
        else:  # the earliest: [path, function, line] frames and a bare sample count
            out.append([[[_G, name, line] for name, line in frames], round(share * 10)])
    return out


def _synthetic(shape: str = "2.x") -> dict[str, Any]:
    lines = {7: 10.0, 8: 20.0, 15: 20.0, 19: 5.0}
    entries = [("slow", 4, 30.0), ("Grid.walk.<locals>.inner", 14, 20.0)]
    return {
        "elapsed_time_sec": 2.0,
        "memory": True,
        "program": _G,
        "files": {
            _G: {
                "functions": [
                    {"line": n, "lineno": no, "n_cpu_percent_python": pct} for n, no, pct in entries
                ],
                "lines": [
                    _line(no, lines.get(no, 0.0), 2.0 if no == 8 else 0.0) for no in range(1, 21)
                ],
            }
        },
        "stacks": _stacks(shape),
    }


@pytest.mark.parametrize("shape", ["2.x", "1.5", "counts"])
def test_qualified_names_decorators_and_nesting(shape: str) -> None:
    prof = scalene_format.load("g.json", b"", _synthetic(shape))
    keys = {prof.names[f]: (int(prof.first_lines[f]), f) for f in range(len(prof))}
    assert {name: line for name, (line, _f) in keys.items()} == {
        "slow": 4,  # co_firstlineno: the decorator's line
        "Grid.walk.<locals>.inner": 14,
        "<module>": 1,
        "Grid.walk": 13,  # no entry (no self time): the def around its line
        "Grid.walk.<locals>.inner.<locals>.<genexpr>": 15,
    }
    slow, inner, module, walk = (
        keys[n][1] for n in ("slow", "Grid.walk.<locals>.inner", "<module>", "Grid.walk")
    )
    # lines 7-8 lie below the decorator line, inside the def it decorates
    assert [(fig.line, fig.self_weight, fig.memory_mb) for fig in prof.lines(slow)] == [
        (7, pytest.approx(0.2), 0.0),
        (8, pytest.approx(0.4), 2.0),
    ]
    assert prof.self_weight[slow] == pytest.approx(0.6)
    assert prof.self_weight[inner] == pytest.approx(0.4)
    assert prof.self_weight[module] == pytest.approx(0.1)  # line 19
    assert prof.self_weight[walk] == 0
    # 60 % and 40 % of the samples, of 2 s
    assert prof.total_weight_of[slow] == pytest.approx(1.2)
    assert prof.total_weight_of[walk] == pytest.approx(0.8)
    assert prof.total_weight_of[module] == pytest.approx(2.0) == prof.total_weight
    callees = {prof.names[e.function]: e.weight for e in prof.callees(module)}
    assert callees == {"slow": pytest.approx(1.2), "Grid.walk": pytest.approx(0.8)}


def test_cpu_only_profile_has_no_memory_column() -> None:
    doc = _synthetic()
    doc["memory"] = False
    prof = scalene_format.load("g.json", b"", doc)
    assert prof.line_memory_mb is None
    assert all(fig.memory_mb is None for f in range(len(prof)) for fig in prof.lines(f))
