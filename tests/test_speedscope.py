"""speedscope JSON, recorded by the real py-spy (sampled) and pyinstrument (evented)."""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from megawatt.errors import ProfileError, ProfileFormatError
from megawatt.model import FunctionKind
from megawatt.profiles import Profile, load
from tests.conftest import BIN, EXAMPLE, WORKLOAD, run

SHOP = str(EXAMPLE)
# A short run of the example, for the recordings that only check the shape of the output.
SHORT = [SHOP, "3000"]

THREADED = """
import threading

def spin(n):
    total = 0
    for i in range(n):
        total += i * i
    return total

def worker():
    spin(3_000_000)

threads = [threading.Thread(target=worker, name=f"worker-{i}") for i in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
"""


def _def_range(name: str) -> tuple[int, int]:
    """First and last line of a top-level function of the example, from its syntax tree."""
    for node in ast.parse(EXAMPLE.read_text()).body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            assert node.end_lineno is not None
            return node.lineno, node.end_lineno
    raise AssertionError(name)


def _record(out: Path, *options: str, program: list[str] = WORKLOAD) -> Path:
    cmd = [str(BIN / "py-spy"), "record", "-r", "500", "-f", "speedscope", *options]
    run([*cmd, "-o", str(out), "--", sys.executable, *program])
    return out


@pytest.fixture(scope="session")
def pyspy_json(profiles_dir: Path) -> Path:
    return _record(profiles_dir / "shop.speedscope.json")


@pytest.fixture(scope="session")
def pyspy_threads_json(profiles_dir: Path) -> Path:
    """-t and -s add 'thread (TID)' and 'process PID:"cmdline"' root frames."""
    return _record(profiles_dir / "shop-threads.speedscope.json", "-t", "-s", program=SHORT)


@pytest.fixture(scope="session")
def threaded_json(profiles_dir: Path) -> Path:
    script = profiles_dir / "threaded.py"
    script.write_text(THREADED)
    return _record(profiles_dir / "threaded.speedscope.json", program=[str(script)])


@pytest.fixture(scope="session")
def pyinstrument_json(profiles_dir: Path) -> Path:
    out = profiles_dir / "shop.pyinstrument.speedscope.json"
    run([str(BIN / "pyinstrument"), "-r", "speedscope", "-o", str(out), *WORKLOAD])
    return out


def _doc(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(path.read_text())
    return doc


def _names(doc: dict[str, Any], indices: list[int]) -> list[str]:
    frames = doc["shared"]["frames"]
    return [frames[i]["name"] for i in indices]


def _shop_top(prof: Profile, n: int = 3) -> list[str]:
    hot = prof.top(50, kinds=[FunctionKind.USER])
    return [h.function for h in hot if h.path == SHOP][:n]


# -- py-spy: sampled ------------------------------------------------------------------------


def test_format_is_recognised_by_content(pyspy_json: Path, tmp_path: Path) -> None:
    prof = load(pyspy_json)
    assert (prof.format, prof.unit) == ("speedscope", "seconds")
    # py-spy weighs every sample 1/rate seconds; empty stacks (no Python frame yet) add nothing
    doc = _doc(pyspy_json)
    expected = sum(
        w
        for p in doc["profiles"]
        for s, w in zip(p["samples"], p["weights"], strict=True)
        if s  # a sample with no frame
    )
    assert prof.total_weight == pytest.approx(expected)
    disguised = tmp_path / "shop.pstats"  # the name says cProfile, the content says speedscope
    disguised.write_bytes(pyspy_json.read_bytes())
    again = load(disguised)
    assert again.format == "speedscope" and again.total_weight == pytest.approx(expected)


def test_hot_functions_agree_with_pstats(pyspy_json: Path, reference_top: list[str]) -> None:
    ours = _shop_top(load(pyspy_json))
    # cProfile's per-call cost inflates the recursive edit_distance and a traced interpreter
    # loses the in-place `str +=` of report(), so the two rank alike but not identically.
    assert reference_top[0] in ours[:2], (ours, reference_top)
    assert len(set(ours) & set(reference_top[:3])) >= 2, (ours, reference_top)


def test_lines_fall_inside_the_function(pyspy_json: Path) -> None:
    prof = load(pyspy_json)
    fid = prof.find(SHOP, "edit_distance")
    assert fid is not None
    # a sampled frame's line is the line running, so the function itself has no first line
    assert int(prof.first_lines[fid]) == 0
    first, last = _def_range("edit_distance")
    lines = prof.lines(fid)
    assert len(lines) >= 2
    assert all(first <= fig.line <= last for fig in lines), [fig.line for fig in lines]
    assert sum(fig.self_weight for fig in lines) == pytest.approx(prof.self_weight[fid])
    # every line py-spy recorded for it in the file is there
    doc = _doc(pyspy_json)
    recorded = {
        f["line"] for f in doc["shared"]["frames"] if f["name"] == "edit_distance" and f["line"]
    }
    assert {fig.line for fig in lines} == recorded


def test_recursion_counts_each_sample_once(pyspy_json: Path) -> None:
    prof = load(pyspy_json)
    assert np.all(prof.total_weight_of <= prof.total_weight * (1 + 1e-9))
    assert np.all(prof.total_weight_of >= prof.self_weight)
    fid = prof.find(SHOP, "edit_distance")
    assert fid is not None
    doc = _doc(pyspy_json)
    once = stacked = 0.0
    for p in doc["profiles"]:
        for sample, weight in zip(p["samples"], p["weights"], strict=True):
            depth = _names(doc, sample).count("edit_distance")
            once += weight if depth else 0.0
            stacked += weight * depth
    assert stacked > once  # the recording really is recursive...
    assert prof.total_weight_of[fid] == pytest.approx(once)  # ...and counted once per sample


def test_callers_and_callees(pyspy_json: Path) -> None:
    prof = load(pyspy_json)
    ed = prof.find(SHOP, "edit_distance")
    lam = prof.find(SHOP, "closest_product.<locals>.<lambda>")
    closest = prof.find(SHOP, "closest_product")
    assert ed is not None and lam is not None and closest is not None
    # py-spy does not see the built-in min(): the lambda it calls sits right under closest_product
    assert [prof.names[e.function] for e in prof.callers(lam)] == ["closest_product"]
    assert lam in {e.function for e in prof.callers(ed)}
    assert ed in {e.function for e in prof.callees(lam)}
    # edit_distance calling itself is not an edge: it would count its time twice
    assert ed not in {e.function for e in prof.callers(ed)}
    for edge in prof.callees(closest):
        assert edge.weight <= prof.total_weight_of[edge.function] + 1e-9
        assert edge.calls is None  # sampling counts no calls


def test_thread_and_process_frames_are_not_functions(pyspy_threads_json: Path) -> None:
    doc = _doc(pyspy_threads_json)
    names = {f["name"] for f in doc["shared"]["frames"]}
    assert any(n.startswith("thread (") for n in names)
    assert any(n.startswith("process ") for n in names)
    prof = load(pyspy_threads_json)
    assert not [n for n in prof.names if n.startswith(("thread (", "process "))]
    assert prof.find(SHOP, "edit_distance") is not None
    roots = {prof.names[f] for f in range(len(prof)) if not prof.callers(f)}
    assert "<module>" in roots


def test_threads_are_merged(threaded_json: Path) -> None:
    doc = _doc(threaded_json)
    busy = [p for p in doc["profiles"] if any("spin" in _names(doc, s) for s in p["samples"])]
    assert len(busy) == 2  # one profile per worker thread
    prof = load(threaded_json)
    spin = prof.find(str(threaded_json.parent / "threaded.py"), "spin")
    assert spin is not None
    in_spin = sum(
        w
        for p in doc["profiles"]
        for s, w in zip(p["samples"], p["weights"], strict=True)
        if "spin" in _names(doc, s)
    )
    assert prof.total_weight_of[spin] == pytest.approx(in_spin)
    assert prof.self_weight[spin] > 0.5 * prof.total_weight


# -- pyinstrument: evented ------------------------------------------------------------------


def test_evented_profile_from_pyinstrument(
    pyinstrument_json: Path, reference_top: list[str]
) -> None:
    doc = _doc(pyinstrument_json)
    assert {p["type"] for p in doc["profiles"]} == {"evented"}
    prof = load(pyinstrument_json)
    assert (prof.format, prof.unit) == ("speedscope", "seconds")
    events = doc["profiles"][0]["events"]
    assert prof.total_weight == pytest.approx(events[-1]["at"] - events[0]["at"], rel=0.01)
    ours = _shop_top(prof)
    assert reference_top[0] in ours[:2], (ours, reference_top)
    assert len(set(ours) & set(reference_top[:3])) >= 2, (ours, reference_top)
    # pyinstrument's "[self]" stands for the parent's own time; it is no function
    assert "[self]" not in prof.names
    # an evented frame's line is where the function starts; no line inside it is known
    fid = prof.find(SHOP, "edit_distance")
    assert fid is not None
    assert int(prof.first_lines[fid]) == _def_range("edit_distance")[0]
    assert prof.lines(fid) == []


def test_evented_recursion_is_replayed_once(pyinstrument_json: Path) -> None:
    doc = _doc(pyinstrument_json)
    frames = doc["shared"]["frames"]
    # the time edit_distance is on the stack at all: from its outermost open to that close
    depth, since, expected = 0, 0.0, 0.0
    for event in doc["profiles"][0]["events"]:
        if frames[event["frame"]]["name"] != "edit_distance":
            continue
        if event["type"] == "O":
            depth += 1
            since = event["at"] if depth == 1 else since
        else:
            depth -= 1
            expected += event["at"] - since if depth == 0 else 0.0
    prof = load(pyinstrument_json)
    fid = prof.find(SHOP, "edit_distance")
    assert fid is not None
    assert prof.total_weight_of[fid] == pytest.approx(expected)
    assert prof.self_weight[fid] <= prof.total_weight_of[fid] <= prof.total_weight
    callers = {prof.names[e.function] for e in prof.callers(fid)}
    assert callers == {"<lambda>"}


# -- units and hand-made documents ----------------------------------------------------------


def _write(tmp_path: Path, doc: dict[str, Any], name: str = "p.speedscope.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return path


def _speedscope(*profiles: dict[str, Any], frames: list[dict[str, Any]] | None = None) -> Any:
    default = [
        {"name": "main", "file": "/app/main.py", "line": 3},
        {"name": "work", "file": "/app/main.py", "line": 9},
    ]
    return {
        "$schema": "https://www.speedscope.app/file-format-schema.json",
        "shared": {"frames": default if frames is None else frames},
        "profiles": list(profiles),
    }


def _sampled(unit: str, samples: list[list[int]], weights: list[float]) -> dict[str, Any]:
    return {"type": "sampled", "name": "t", "unit": unit, "samples": samples, "weights": weights}


def _evented(unit: str, events: list[tuple[str, float, int]]) -> dict[str, Any]:
    return {
        "type": "evented",
        "name": "t",
        "unit": unit,
        "startValue": 0,
        "endValue": events[-1][1] if events else 0,
        "events": [{"type": t, "at": at, "frame": f} for t, at, f in events],
    }


def test_units_are_converted(tmp_path: Path) -> None:
    counts = load(_write(tmp_path, _speedscope(_sampled("none", [[0, 1], [0]], [1, 1]))))
    assert (counts.unit, counts.total_weight) == ("samples", 2)
    ms = _evented("milliseconds", [("O", 0, 0), ("O", 10, 1), ("C", 30, 1), ("C", 40, 0)])
    timed = load(_write(tmp_path, _speedscope(ms)))
    assert timed.unit == "seconds"
    assert timed.total_weight == pytest.approx(0.040)
    main = timed.find("/app/main.py", "main", 3)
    work = timed.find("/app/main.py", "work", 9)
    assert main is not None and work is not None
    assert timed.self_weight[main] == pytest.approx(0.020)
    assert timed.self_weight[work] == pytest.approx(0.020)
    assert timed.total_weight_of[main] == pytest.approx(0.040)


def test_evented_recursion_by_hand(tmp_path: Path) -> None:
    # main → work → work (recursive) for 6 µs, the inner call alone for 4 of them
    events = [("O", 0, 0), ("O", 1, 1), ("O", 2, 1), ("C", 6, 1), ("C", 7, 1), ("C", 8, 0)]
    prof = load(_write(tmp_path, _speedscope(_evented("microseconds", events))))
    work = prof.find("/app/main.py", "work")
    assert work is not None
    assert prof.total_weight_of[work] == pytest.approx(6e-6)
    assert prof.self_weight[work] == pytest.approx(6e-6)
    assert prof.total_weight == pytest.approx(8e-6)


@pytest.mark.parametrize(
    ("doc", "fragment"),
    [
        (_speedscope(), "holds no profiles"),
        (_speedscope(_sampled("seconds", [], [])), "holds no samples: profile 0 ('t') has none"),
        (_speedscope(_evented("seconds", [])), "holds no samples"),
        (_speedscope(_sampled("seconds", [[0, 7]], [1.0])), "frame 7, out of range"),
        (_speedscope(_sampled("seconds", [[0, -1]], [1.0])), "frame -1, out of range"),
        (_speedscope(_sampled("seconds", [[0, "x"]], [1.0])), "not an integer"),
        (_speedscope(_sampled("seconds", [[0], [1]], [1.0])), "2 samples but 1 weights"),
        (_speedscope(_sampled("bytes", [[0]], [64])), "measures memory"),
        (_speedscope(_sampled("fortnights", [[0]], [1])), "unknown unit 'fortnights'"),
        (_speedscope({"type": "traced", "name": "t", "unit": "seconds"}), "unknown type 'traced'"),
        (
            _speedscope(_evented("seconds", [("O", 0, 0), ("O", 1, 1), ("C", 2, 0)])),
            "unbalanced: event 2 closes frame 0 at 2 but frame 1 is open",
        ),
        (
            _speedscope(_evented("seconds", [("O", 0, 0), ("O", 1, 1), ("C", 2, 1)])),
            "unbalanced: 1 frame(s) never closed",
        ),
        (
            _speedscope(_evented("seconds", [("O", 5, 0), ("C", 2, 0)])),
            "goes back in time",
        ),
        (
            _speedscope(_evented("seconds", [("O", 0, 0), ("C", 1, 9)])),
            "frame 9, out of range",
        ),
        (
            _speedscope(_sampled("none", [[0]], [1]), _sampled("seconds", [[0]], [1.0])),
            "mix time units and sample counts",
        ),
        (_speedscope(_sampled("seconds", [[0]], [1.0]), frames=[{"file": "a.py"}]), "no name"),
    ],
)
def test_bad_documents_name_the_file_and_the_problem(
    tmp_path: Path, doc: dict[str, Any], fragment: str
) -> None:
    path = _write(tmp_path, doc)
    with pytest.raises(ProfileFormatError) as info:
        load(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ") and fragment in message, message


def test_truncated_recording(pyspy_json: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.json"
    data = pyspy_json.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(ProfileError) as info:
        load(cut)
    message = str(info.value)
    assert message.startswith(f"{cut}: ") and "invalid JSON" in message, message
    assert "truncated" in message, message


def test_native_frames_are_native(tmp_path: Path) -> None:
    frames = [
        {"name": "main", "file": "/app/main.py", "line": 3},
        {"name": "read", "file": "/usr/lib/x86_64-linux-gnu/libc.so.6", "line": 0},
    ]
    prof = load(_write(tmp_path, _speedscope(_sampled("seconds", [[0, 1]], [0.01]), frames=frames)))
    read = prof.find("/usr/lib/x86_64-linux-gnu/libc.so.6", "read")
    assert read is not None and prof.kind(read) is FunctionKind.NATIVE
    assert not prof.lines(read)  # line 0 means none


def _same(a: Profile, b: Profile) -> None:
    assert len(a) == len(b) and a.total_weight == pytest.approx(b.total_weight)
    assert [h.function for h in a.top(15, sort="total")] == [
        h.function for h in b.top(15, sort="total")
    ]


def test_large_files_count_samples_as_text(pyspy_json: Path, tmp_path: Path) -> None:
    """Above 4 MB the samples arrays are cut out and counted as text before the JSON parser
    runs (a million samples as Python lists take seconds); the result is the same, pretty-printed
    or weighted, and anything but plain indices goes through the ordinary parser."""
    from megawatt.profiles import speedscope

    doc = json.loads(pyspy_json.read_text())
    for p in doc["profiles"]:
        if p["type"] == "sampled":
            p["samples"] = p["samples"] * 300
            p["weights"] = [w * (1 + i % 3) for i, w in enumerate(p["weights"] * 300)]
    compact = json.dumps(doc, separators=(",", ":")).encode()
    pretty = json.dumps(doc, indent=1).encode()
    assert len(compact) > speedscope.FAST_FROM_BYTES
    reference = speedscope.load("r", compact, parsed=json.loads(compact))  # the ordinary path
    for data in (compact, pretty):
        path = tmp_path / "big.json"
        path.write_bytes(data)
        _same(load(path), reference)
        parsed = speedscope._parse("x", data)
        cut = [p["samples"] for p in parsed["profiles"] if p["type"] == "sampled"]
        assert cut and all(isinstance(s, speedscope._Samples) for s in cut)
    # a string among the indices: the fast path steps aside and the error names the sample
    bad = compact.replace(b'"samples":[[', b'"samples":[["x",', 1)
    (tmp_path / "bad.json").write_bytes(bad)
    with pytest.raises(ProfileFormatError, match="frame ind"):
        load(tmp_path / "bad.json")


def test_an_unnamed_frame_does_not_refuse_the_file(pyspy_json: Path, tmp_path: Path) -> None:
    # py-spy --nonblocking records a few frames with an empty name; the rest of the file counts
    doc = json.loads(pyspy_json.read_text())
    doc["shared"]["frames"][0]["name"] = ""
    path = tmp_path / "nonblocking.json"
    path.write_text(json.dumps(doc))
    profile = load(path)
    assert profile.total_weight > 0
    assert "<unknown>" in profile.names
    del doc["shared"]["frames"][0]["name"]
    path.write_text(json.dumps(doc))
    with pytest.raises(ProfileFormatError, match=r"shared.frames\[0\] has no name"):
        load(path)
