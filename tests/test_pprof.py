"""pprof loader: hand-built profiles with known figures, a real one from austin, and broken input."""

from __future__ import annotations

import ast
import gzip
import os
import random
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import descriptor_pool, message_factory

from megawatt.errors import ProfileError
from megawatt.model import FunctionKind
from megawatt.profiles import load
from megawatt.profiles.pprof_schema import file_descriptor, profile_class
from tests import austin_python
from tests.conftest import EXAMPLE, WORKLOAD, run_austin

APP = "/srv/app/calc.py"

# -- building pprof files ------------------------------------------------------------------------


@dataclass
class Fn:
    name: str
    start_line: int
    path: str = APP
    system_name: str = ""


@dataclass
class Spec:
    """A profile described by names; `encode` turns it into pprof bytes the way writers do."""

    sample_types: list[tuple[str, str]]
    functions: dict[int, Fn]
    # location id → [(function id, line)], innermost inlined frame first, as in pprof
    locations: dict[int, list[tuple[int, int]]]
    # (location ids leaf first, values)
    samples: list[tuple[list[int], list[int]]]
    default_sample_type: str = ""
    time_nanos: int = 0
    extra_strings: list[str] = field(default_factory=list)

    def message(self) -> Any:
        msg = profile_class()()
        strings: dict[str, int] = {}

        def s(text: str) -> int:
            if text not in strings:
                strings[text] = len(msg.string_table)
                msg.string_table.append(text)
            return strings[text]

        s("")
        for text in self.extra_strings:
            s(text)
        for type_, unit in self.sample_types:
            msg.sample_type.add(type=s(type_), unit=s(unit))
        for fid, fn in self.functions.items():
            msg.function.add(
                id=fid,
                name=s(fn.name),
                system_name=s(fn.system_name),
                filename=s(fn.path),
                start_line=fn.start_line,
            )
        for lid, lines in self.locations.items():
            loc = msg.location.add(id=lid, address=0x1000 + lid)
            for fid, line in lines:
                loc.line.add(function_id=fid, line=line)
        for location_ids, values in self.samples:
            sample = msg.sample.add(location_id=location_ids, value=values)
            sample.label.add(key=s("thread"), str=s("MainThread"))
        if self.default_sample_type:
            msg.default_sample_type = s(self.default_sample_type)
        msg.time_nanos = self.time_nanos
        return msg

    def encode(self) -> bytes:
        return bytes(self.message().SerializeToString())


def write(path: Path, data: bytes, gzipped: bool = True) -> Path:
    path.write_bytes(gzip.compress(data) if gzipped else data)
    return path


# main (line 1) calls work, rec and helper; helper has inl inlined into it; rec recurses.
FUNCTIONS = {
    1: Fn("main", 1),
    2: Fn("work", 10),
    3: Fn("rec", 40),
    4: Fn("helper", 20),
    5: Fn("inl", 30),
}
LOCATIONS = {
    11: [(1, 3)],  # main, calling work
    12: [(1, 5)],  # main, calling rec
    13: [(1, 6)],  # main, calling helper
    21: [(2, 12)],  # work
    31: [(3, 41)],  # rec, calling itself
    32: [(3, 42)],  # rec, computing
    41: [(5, 31), (4, 22)],  # inl inlined into helper at line 22
}
MS = 1_000_000  # nanoseconds


def calc_spec(**overrides: Any) -> Spec:
    spec = Spec(
        sample_types=[("samples", "count"), ("cpu", "nanoseconds")],
        functions=dict(FUNCTIONS),
        locations=dict(LOCATIONS),
        samples=[
            ([21, 11], [3, 30 * MS]),
            ([32, 31, 31, 12], [5, 50 * MS]),  # rec three deep
            ([41, 13], [2, 20 * MS]),
            ([21, 11], [1, 10 * MS]),  # the first stack again: the loader must add them up
        ],
        time_nanos=1_700_000_000_123_000_000,
    )
    for key, value in overrides.items():
        setattr(spec, key, value)
    return spec


def figures(path: Path) -> dict[str, tuple[float, float]]:
    p = load(path)
    return {
        p.names[f]: (round(float(p.self_weight[f]), 9), round(float(p.total_weight_of[f]), 9))
        for f in range(len(p))
    }


# -- hand-built profiles -------------------------------------------------------------------------


@pytest.mark.parametrize("gzipped", [True, False])
@pytest.mark.parametrize("name", ["calc.pb.gz", "calc.json", "calc.txt", "calc.pstats"])
def test_gzipped_and_raw_load_by_content_whatever_the_name(
    tmp_path: Path, gzipped: bool, name: str
) -> None:
    path = write(tmp_path / name, calc_spec().encode(), gzipped)
    p = load(path)
    assert p.format == "pprof"
    assert p.source == str(path)
    assert p.unit == "seconds"
    assert p.total_weight == pytest.approx(0.11)


def test_exact_figures_with_recursion_and_inlining(tmp_path: Path) -> None:
    path = write(tmp_path / "calc.pprof", calc_spec().encode())
    p = load(path)
    # cpu/nanoseconds is preferred over the samples count and converted to seconds
    assert p.unit == "seconds"
    assert p.total_weight == pytest.approx(0.11)
    assert figures(path) == {
        "main": (0.0, 0.11),
        "work": (0.04, 0.04),  # two samples of the same stack, added up
        "rec": (0.05, 0.05),  # three times on one stack, counted once
        "helper": (0.0, 0.02),  # the caller an inlined frame was folded into
        "inl": (0.02, 0.02),
    }
    assert not p.has_calls
    assert p.recorded_at == pytest.approx(1_700_000_000.123)

    fid = {p.names[f]: f for f in range(len(p))}
    assert all(p.paths[f] == APP for f in range(len(p)))
    assert p.first_lines[fid["rec"]] == 40
    assert all(p.kind(f) == FunctionKind.USER for f in range(len(p)))

    callees = {p.names[e.function]: e.weight for e in p.callees(fid["main"])}
    assert callees == pytest.approx({"work": 0.04, "rec": 0.05, "helper": 0.02})
    assert [(p.names[e.function], e.weight) for e in p.callees(fid["helper"])] == [("inl", 0.02)]
    assert p.callees(fid["rec"]) == []  # self-recursion is no edge
    assert [(p.names[e.function], e.weight) for e in p.callers(fid["inl"])] == [("helper", 0.02)]

    def lines(name: str) -> list[tuple[int, float, float]]:
        return [
            (lf.line, round(lf.self_weight, 9), round(lf.total_weight, 9))
            for lf in p.lines(fid[name])
        ]

    assert lines("main") == [(3, 0.0, 0.04), (5, 0.0, 0.05), (6, 0.0, 0.02)]
    assert lines("rec") == [(41, 0.0, 0.05), (42, 0.05, 0.05)]
    assert lines("helper") == [(22, 0.0, 0.02)]
    assert lines("inl") == [(31, 0.02, 0.02)]
    assert lines("work") == [(12, 0.04, 0.04)]


def test_default_sample_type_is_honoured(tmp_path: Path) -> None:
    path = write(tmp_path / "calc.pprof", calc_spec(default_sample_type="samples").encode())
    p = load(path)
    assert p.unit == "samples"
    assert p.total_weight == 11
    assert figures(path)["rec"] == (5.0, 5.0)
    assert figures(path)["work"] == (4.0, 4.0)


def _samples_with_types(types: list[tuple[str, str]], values: list[int]) -> Spec:
    return calc_spec(sample_types=types, samples=[([21, 11], values), ([32, 12], values)])


@pytest.mark.parametrize(
    ("types", "values", "unit", "total"),
    [
        # Go runtime/pprof CPU profile: cpu/nanoseconds over the samples count
        ([("samples", "count"), ("cpu", "nanoseconds")], [1, 7], "seconds", 2 * 7e-9),
        # Datadog: CPU time over wall time, over the counts and over memory
        (
            [
                ("cpu-samples", "count"),
                ("cpu-time", "nanoseconds"),
                ("wall-samples", "count"),
                ("wall-time", "nanoseconds"),
                ("alloc-space", "bytes"),
            ],
            [1, 7 * MS, 1, 9 * MS, 4096],
            "seconds",
            2 * 0.007,
        ),
        # austin2pprof writes "μs" with a Greek mu; others write the micro sign
        ([("Wall time", "\u03bcs")], [7], "seconds", 2 * 7e-6),
        ([("CPU time", "\u00b5s")], [7], "seconds", 2 * 7e-6),
        ([("wall", "milliseconds")], [7], "seconds", 2 * 7e-3),
        ([("samples", "count")], [7], "samples", 2 * 7),
        # counts of CPU samples when no time is recorded
        ([("cpu-samples", "count"), ("alloc-space", "bytes")], [7, 4096], "samples", 2 * 7),
    ],
)
def test_sample_type_selection(
    tmp_path: Path, types: list[tuple[str, str]], values: list[int], unit: str, total: float
) -> None:
    p = load(write(tmp_path / "t.pprof", _samples_with_types(types, values).encode()))
    assert p.unit == unit
    assert p.total_weight == pytest.approx(total)


def test_cpu_type_is_chosen_by_name_not_position(tmp_path: Path) -> None:
    types = [("wall", "nanoseconds"), ("cpu", "nanoseconds"), ("samples", "count")]
    spec = _samples_with_types(types, [1 * MS, 3 * MS, 1])
    p = load(write(tmp_path / "t.pprof", spec.encode()))
    assert p.total_weight == pytest.approx(0.006)
    spec.default_sample_type = "wall"
    p = load(write(tmp_path / "t.pprof", spec.encode()))
    assert p.total_weight == pytest.approx(0.002)


def test_function_name_falls_back_to_system_name(tmp_path: Path) -> None:
    functions = dict(FUNCTIONS)
    functions[2] = Fn("", 10, system_name="_ZN4work")
    path = write(tmp_path / "t.pprof", calc_spec(functions=functions).encode())
    assert figures(path)["_ZN4work"] == (0.04, 0.04)


def test_unsymbolized_location_is_native(tmp_path: Path) -> None:
    locations = dict(LOCATIONS)
    locations[21] = []  # an address the writer could not symbolize
    p = load(write(tmp_path / "t.pprof", calc_spec(locations=locations).encode()))
    (fid,) = [f for f in range(len(p)) if p.names[f] == f"0x{0x1000 + 21:x}"]
    assert p.kind(fid) == FunctionKind.NATIVE
    assert float(p.self_weight[fid]) == pytest.approx(0.04)


def test_unpacked_repeated_fields_as_go_writes_them(tmp_path: Path) -> None:
    # Go's encoder packs location_id and value only when there are more than two; re-encode
    # through a copy of the schema with packing turned off to get that wire form.
    fdp = file_descriptor()
    for msg_type in fdp.message_type:
        for fld in msg_type.field:
            if fld.label == fld.LABEL_REPEATED and fld.type != fld.TYPE_MESSAGE:
                fld.options.packed = False
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    unpacked = message_factory.GetMessageClass(
        pool.FindMessageTypeByName("perftools.profiles.Profile")
    )
    packed = calc_spec().encode()
    data = unpacked.FromString(packed).SerializeToString()
    assert data != packed
    assert figures(write(tmp_path / "go.pprof", data)) == figures(
        write(tmp_path / "py.pprof", packed)
    )


# -- broken input --------------------------------------------------------------------------------


def _load_error(path: Path) -> str:
    with pytest.raises(ProfileError) as info:
        load(path)
    message = str(info.value)
    assert message.startswith(f"{path}: "), message
    return message


def test_garbage_starting_like_pprof(tmp_path: Path) -> None:
    data = b"\x0a" + random.Random(5).randbytes(300)
    message = _load_error(write(tmp_path / "garbage.pprof", data, gzipped=False))
    assert "pprof" in message


def test_truncated_file(tmp_path: Path) -> None:
    data = calc_spec().encode()
    message = _load_error(write(tmp_path / "cut.pprof", data[: len(data) - 3], gzipped=False))
    assert "not a valid pprof protobuf" in message
    assert "truncated" in message


def test_truncated_gzip(tmp_path: Path) -> None:
    data = gzip.compress(calc_spec().encode())
    message = _load_error(write(tmp_path / "cut.pb.gz", data[: len(data) // 2], gzipped=False))
    assert "gzip" in message
    assert "truncated" in message


def test_string_table_must_start_empty(tmp_path: Path) -> None:
    msg = calc_spec().message()
    msg.string_table[0] = "oops"
    message = _load_error(write(tmp_path / "s.pprof", msg.SerializeToString()))
    assert "string_table[0] is 'oops'" in message


def test_missing_location(tmp_path: Path) -> None:
    spec = calc_spec()
    spec.samples.append(([99, 11], [1, MS]))
    message = _load_error(write(tmp_path / "loc.pprof", spec.encode()))
    assert "location 99, which does not exist" in message


def test_missing_function(tmp_path: Path) -> None:
    locations = dict(LOCATIONS)
    locations[21] = [(77, 12)]
    message = _load_error(write(tmp_path / "fn.pprof", calc_spec(locations=locations).encode()))
    assert "location 21 refers to function 77, which does not exist" in message


def test_string_index_out_of_range(tmp_path: Path) -> None:
    msg = calc_spec().message()
    msg.function[0].name = 1000
    message = _load_error(write(tmp_path / "str.pprof", msg.SerializeToString()))
    assert "function 1 name refers to string 1000, out of range" in message


def test_no_samples(tmp_path: Path) -> None:
    message = _load_error(write(tmp_path / "empty.pprof", calc_spec(samples=[]).encode()))
    assert "holds no samples" in message


def test_no_sample_types(tmp_path: Path) -> None:
    spec = calc_spec(sample_types=[], samples=[])
    message = _load_error(write(tmp_path / "types.pprof", spec.encode()))
    assert "no sample types" in message


def test_heap_profile_is_refused_with_its_types(tmp_path: Path) -> None:
    types = [("alloc_objects", "count"), ("alloc_space", "bytes"), ("inuse_space", "bytes")]
    spec = _samples_with_types(types, [1, 64, 64])
    message = _load_error(write(tmp_path / "heap.pprof", spec.encode()))
    assert "no CPU or wall-time values" in message
    assert "alloc_space/bytes" in message


def test_sample_with_wrong_number_of_values(tmp_path: Path) -> None:
    spec = calc_spec()
    spec.samples.append(([21, 11], [1]))
    message = _load_error(write(tmp_path / "v.pprof", spec.encode()))
    assert "sample 4 has 1 values for 2 sample types" in message


# -- a real profiler: austin samples the example, austin2pprof writes the pprof ------------------


def _function_spans(source: Path) -> dict[str, tuple[int, int]]:
    tree = ast.parse(source.read_text())
    return {
        node.name: (node.lineno, node.end_lineno or node.lineno)
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.ClassDef)
    }


@pytest.fixture(scope="session")
def shop_austin_pprof(profiles_dir: Path) -> Path:
    # austin (from the test extra) samples; austin2pprof converts, from its own environment
    converter = austin_python.austin2pprof()
    samples = profiles_dir / "shop.austin"
    out = profiles_dir / "shop.austin.pprof"
    # austin recognises CPython by its binary, not by a virtualenv's symlink to it
    python = os.path.realpath(sys.executable)
    run_austin(["-s", "-i", "200us", "-o", str(samples), python, *WORKLOAD])
    # austin-python ships a _pb2 generated by an old protoc; the pure-Python runtime accepts it
    env = {**os.environ, "PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION": "python"}
    proc = subprocess.run(
        [str(converter), str(samples), str(out)],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return out


def test_austin_pprof_agrees_with_cprofile(
    shop_austin_pprof: Path, reference_top: Sequence[str]
) -> None:
    p = load(shop_austin_pprof)
    assert p.format == "pprof"
    assert p.unit == "seconds"  # "CPU time" in μs
    assert 0.2 < p.total_weight < 30
    user = [
        h for h in p.top(50, kinds=[FunctionKind.USER]) if h.path == str(EXAMPLE) and h.self_time
    ]
    # cProfile's per-call overhead inflates the recursive edit_distance, and sampling is noisy,
    # so compare the two functions that dominate both, not the exact order.
    assert {h.function for h in user[:2]} == set(reference_top[:2])
    for h in user[:2]:
        assert h.self_share > 0.15, h
    # recursion is counted once: edit_distance can never exceed the whole profile
    (edit,) = [h for h in user if h.function == "edit_distance"]
    assert edit.total_time <= p.total_weight


def test_austin_pprof_lines_fall_inside_their_functions(shop_austin_pprof: Path) -> None:
    p = load(shop_austin_pprof)
    spans = _function_spans(EXAMPLE)
    checked = set()
    for fid in range(len(p)):
        if p.paths[fid] != str(EXAMPLE):
            continue
        # austin records qualified names (closest_product.<locals>.<lambda>): the outermost
        # definition is the one whose span holds the lines
        outer = p.names[fid].split(".")[0]
        if outer.startswith("<"):  # module-level code: <module>, its comprehensions
            continue
        first, last = spans[outer]
        for lf in p.lines(fid):
            assert first <= lf.line <= last, (p.names[fid], lf.line, (first, last))
        checked.add(outer)
    assert {"edit_distance", "valid_orders", "settle"} <= checked
