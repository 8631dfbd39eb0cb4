"""Collapsed ("folded") stacks: the real py-spy's `-f raw`, and other writers' frame shapes."""

from __future__ import annotations

import ast
import os
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from megawatt.errors import ProfileError, ProfileFormatError
from megawatt.model import FunctionKind
from megawatt.profiles import Profile, collapsed, load, load_bytes
from tests.conftest import BIN, EXAMPLE, WORKLOAD, run, run_austin

SHORT = [str(EXAMPLE), "3000"]  # for recordings that only check the shape of the output

IMPORTS = """
import sys
import time

end = time.perf_counter() + 0.3
while time.perf_counter() < end:
    for name in ("json", "json.decoder", "json.scanner", "json.encoder", "csv", "fractions"):
        sys.modules.pop(name, None)
    import csv, fractions, json
"""


def _def_range(name: str) -> tuple[int, int]:
    """First and last line of a top-level function of the example, from its syntax tree."""
    for node in ast.parse(EXAMPLE.read_text()).body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            assert node.end_lineno is not None
            return node.lineno, node.end_lineno
    raise AssertionError(name)


def _record(out: Path, *options: str, program: list[str] = WORKLOAD) -> Path:
    cmd = [str(BIN / "py-spy"), "record", "-r", "500", "-f", "raw", *options, "-o", str(out)]
    run([*cmd, "--", sys.executable, *program])
    return out


@pytest.fixture(scope="session")
def raw_short_names(profiles_dir: Path) -> Path:
    """py-spy's default: files shortened to what follows their sys.path entry."""
    return _record(profiles_dir / "shop.raw.txt")


@pytest.fixture(scope="session")
def raw_full_names(profiles_dir: Path) -> Path:
    return _record(profiles_dir / "shop-full.raw.txt", "--full-filenames")


@pytest.fixture(scope="session")
def raw_threads(profiles_dir: Path) -> Path:
    return _record(profiles_dir / "shop-threads.raw.txt", "-t", "-s", program=SHORT)


@pytest.fixture(scope="session")
def raw_no_lines(profiles_dir: Path) -> Path:
    return _record(profiles_dir / "shop-nolineno.raw.txt", "--nolineno", program=SHORT)


@pytest.fixture(scope="session")
def raw_imports(profiles_dir: Path) -> Path:
    """A program that does nothing but import: its stacks run through `<frozen ...>` frames."""
    script = profiles_dir / "imports.py"
    script.write_text(IMPORTS)
    return _record(profiles_dir / "imports.raw.txt", program=[str(script)])


def _lines(path: Path) -> list[tuple[list[str], int]]:
    """(frames, count) per line, as py-spy wrote them."""
    rows = []
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        rows.append((stack.split(";") if stack else [], int(count)))
    return rows


def _shop_path(prof: Profile) -> str:
    """The example's path as recorded: absolute, or shortened by py-spy."""
    found = {p for p in prof.paths if p.endswith("shop.py")}
    assert len(found) == 1, found
    path = found.pop()
    assert EXAMPLE.as_posix().endswith(path)
    return path


def _shop_top(prof: Profile, n: int = 3) -> list[str]:
    shop = _shop_path(prof)
    return [h.function for h in prof.top(50, kinds=[FunctionKind.USER]) if h.path == shop][:n]


def _is_pseudo(frame: str) -> bool:
    return frame.startswith(("thread (", "process "))


def _is_edit_distance(frame: str) -> bool:
    return frame.startswith("edit_distance (")


# -- py-spy -f raw --------------------------------------------------------------------------


def test_format_is_recognised_by_content(raw_short_names: Path, tmp_path: Path) -> None:
    prof = load(raw_short_names)
    assert (prof.format, prof.unit) == ("collapsed", "samples")
    # lines with an empty stack (" 2": samples before any Python frame) count for nothing
    expected = sum(count for frames, count in _lines(raw_short_names) if frames)
    assert prof.total_weight == expected
    disguised = tmp_path / "shop.speedscope.json"  # the name says JSON, the content does not
    disguised.write_bytes(raw_short_names.read_bytes())
    again = load(disguised)
    assert again.format == "collapsed" and again.total_weight == expected


def test_hot_functions_agree_with_pstats(raw_short_names: Path, reference_top: list[str]) -> None:
    ours = _shop_top(load(raw_short_names))
    # cProfile's per-call cost inflates the recursive edit_distance and a traced interpreter
    # loses the in-place `str +=` of report(), so the two rank alike but not identically.
    assert reference_top[0] in ours[:2], (ours, reference_top)
    assert len(set(ours) & set(reference_top[:3])) >= 2, (ours, reference_top)


def test_lines_fall_inside_the_function(raw_short_names: Path) -> None:
    prof = load(raw_short_names)
    fid = prof.find(_shop_path(prof), "edit_distance")
    assert fid is not None and int(prof.first_lines[fid]) == 0
    first, last = _def_range("edit_distance")
    lines = prof.lines(fid)
    recorded = {
        int(frame.rsplit(":", 1)[1][:-1])
        for frames, _ in _lines(raw_short_names)
        for frame in frames
        if _is_edit_distance(frame)
    }
    assert {fig.line for fig in lines} == recorded
    assert all(first <= line <= last for line in recorded), recorded
    assert sum(fig.self_weight for fig in lines) == pytest.approx(prof.self_weight[fid])
    assert max(fig.total_weight for fig in lines) <= prof.total_weight_of[fid]


def test_recursion_counts_each_sample_once(raw_short_names: Path) -> None:
    prof = load(raw_short_names)
    assert np.all(prof.total_weight_of <= prof.total_weight)
    assert np.all(prof.total_weight_of >= prof.self_weight)
    once = stacked = 0
    for frames, count in _lines(raw_short_names):
        depth = sum(map(_is_edit_distance, frames))
        once += count if depth else 0
        stacked += count * depth
    fid = prof.find(_shop_path(prof), "edit_distance")
    assert fid is not None
    assert stacked > once  # the recording really is recursive...
    assert prof.total_weight_of[fid] == once  # ...and counted once per sample


def test_callers_and_callees(raw_short_names: Path) -> None:
    prof = load(raw_short_names)
    shop = _shop_path(prof)
    ed = prof.find(shop, "edit_distance")
    lam = prof.find(shop, "closest_product.<locals>.<lambda>")
    closest = prof.find(shop, "closest_product")
    run_ = prof.find(shop, "run")
    assert ed is not None and lam is not None and closest is not None and run_ is not None
    # py-spy does not see the built-in min(): the lambda sits right under closest_product
    assert [prof.names[e.function] for e in prof.callers(lam)] == ["closest_product"]
    assert [prof.names[e.function] for e in prof.callers(ed)] == [
        "closest_product.<locals>.<lambda>"
    ]
    assert closest in {e.function for e in prof.callees(run_)}
    under_lambda = next(e for e in prof.callees(lam) if e.function == ed)
    assert under_lambda.weight == prof.total_weight_of[ed]


def test_full_filenames_and_kinds(raw_full_names: Path, raw_short_names: Path) -> None:
    full = load(raw_full_names)
    assert _shop_path(full) == str(EXAMPLE)
    ed = full.find(str(EXAMPLE), "edit_distance")
    assert ed is not None and full.kind(ed) is FunctionKind.USER
    for fid in range(len(full)):
        if "/lib/python3" in full.paths[fid] or full.paths[fid].startswith("<frozen "):
            assert full.kind(fid) is FunctionKind.LIBRARY, full.key(fid)
    # shortened standard-library paths ("copy.py") are library code too, not the user's
    short = load(raw_short_names)
    for fid in range(len(short)):
        path = short.paths[fid]
        if path.endswith(".py") and "/" not in path and path != "shop.py":
            assert short.kind(fid) is FunctionKind.LIBRARY, short.key(fid)
    ed = short.find(_shop_path(short), "edit_distance")
    assert ed is not None and short.kind(ed) is FunctionKind.USER


def test_frozen_frames(raw_imports: Path) -> None:
    assert "(<frozen importlib._bootstrap>:" in raw_imports.read_text()
    prof = load(raw_imports)
    frozen = [f for f in range(len(prof)) if prof.paths[f].startswith("<frozen ")]
    assert "_find_and_load" in {prof.names[f] for f in frozen}
    for fid in frozen:
        assert re.fullmatch(r"<frozen [\w.]+>", prof.paths[fid]), prof.key(fid)
        assert " (" not in prof.names[fid]


def test_thread_and_process_frames_are_not_functions(raw_threads: Path) -> None:
    text = raw_threads.read_text()
    assert "thread (" in text and "process " in text
    prof = load(raw_threads)
    assert not [n for n in prof.names if n.startswith(("thread", "process "))]
    # a sample outside Python code is only the process and thread: it counts for nothing
    real = [(f, n) for f, n in _lines(raw_threads) if not all(map(_is_pseudo, f))]
    assert prof.total_weight == sum(count for _, count in real)
    assert prof.find(_shop_path(prof), "edit_distance") is not None


def test_no_line_numbers(raw_no_lines: Path) -> None:
    prof = load(raw_no_lines)
    fid = prof.find(_shop_path(prof), "edit_distance")
    assert fid is not None
    assert prof.self_weight[fid] > 0
    assert not prof.has_lines  # --nolineno: every frame's line is unknown


# -- other writers' frame shapes ------------------------------------------------------------


def _load_text(tmp_path: Path, text: str, name: str = "stacks.txt") -> Profile:
    path = tmp_path / name
    path.write_text(text)
    return load(path)


def test_pyspy_shapes_by_hand(tmp_path: Path) -> None:
    prof = _load_text(
        tmp_path,
        'process 7:"python app.py";thread (7): MainThread;'
        "<module> (app.py:9);work (app.py:4) 3\n"
        "thread (0x7F00AA);<module> (app.py:9);_find_and_load (<frozen importlib._bootstrap>:1176) 2\n"
        " 5\n"
        "<module> (app.py:9);0x7fdeed84524a (libc.so.6) 1\n",
    )
    assert prof.total_weight == 6  # the 5 samples with no frame count for nothing
    assert set(prof.names) == {"<module>", "work", "_find_and_load", "0x7fdeed84524a"}
    frozen = prof.find("<frozen importlib._bootstrap>", "_find_and_load")
    libc = prof.find("libc.so.6", "0x7fdeed84524a")
    work = prof.find("app.py", "work")
    assert frozen is not None and libc is not None and work is not None
    assert prof.kind(frozen) is FunctionKind.LIBRARY
    assert prof.kind(libc) is FunctionKind.NATIVE
    assert [(f.line, f.self_weight) for f in prof.lines(work)] == [(4, 3.0)]


def test_blank_and_comment_lines_are_skipped() -> None:
    # content detection does not take '#' lines for collapsed stacks yet: load directly
    data = b"\n# recorded by hand\n\nmain;work 3\r\n  \n#main;work 99\nmain 1\n"
    prof = collapsed.load("hand.txt", data)
    assert prof.total_weight == 4 and set(prof.names) == {"main", "work"}


def test_gregg_and_perf_shapes(tmp_path: Path) -> None:
    prof = _load_text(
        tmp_path,
        "main;parse;tokenize 7\n"
        "main;libc.so.6`malloc 2\n"
        "python3;py::edit_distance:/srv/shop.py;py::edit_distance:/srv/shop.py 4\n"
        "main;shop.py:edit_distance:53 1\n"
        "main;std::vector<int>::push_back 1\n",
    )
    assert prof.unit == "samples" and prof.total_weight == 15
    tokenize = prof.find("", "tokenize")
    malloc = prof.find("libc.so.6", "malloc")
    perf_py = prof.find("/srv/shop.py", "edit_distance")
    austin_like = prof.find("shop.py", "edit_distance")
    assert tokenize is not None and prof.self_weight[tokenize] == 7
    assert malloc is not None and prof.kind(malloc) is FunctionKind.NATIVE
    assert perf_py is not None and prof.total_weight_of[perf_py] == 4  # recursion counted once
    assert austin_like is not None and [f.line for f in prof.lines(austin_like)] == [53]
    assert prof.find("", "std::vector<int>::push_back") is not None


AUSTIN = """\
# austin: 3.7.0
# interval: 1000
# mode: wall

P4242;T0:4242;:INVALID: 1260
P4242;T0:4242;/srv/shop.py:<module>:149;/srv/shop.py:edit_distance:53 1000
P4242;T0:4242;/srv/shop.py:<module>:149;/srv/shop.py:edit_distance:53 1100
P4242;T0:4242;/srv/shop.py:<module>:149;<frozen importlib._bootstrap>:_find_and_load:1176 900
P4242;T0:4242;/srv/shop.py:<module>:149;:GC: 500
P4242;T0:4242 300

# duration: 5060
"""


def test_austin(tmp_path: Path) -> None:
    path = tmp_path / "shop.austin"
    path.write_text(AUSTIN)
    # `megawatt.profiles.detect` does not take austin's '# austin: 3.7.0' header for collapsed
    # stacks yet, so the loader is called directly here.
    prof = collapsed.load(str(path), path.read_bytes())
    assert prof.unit == "seconds"  # austin's metric is microseconds
    assert prof.total_weight == pytest.approx(3500e-6)  # invalid frames and empty stacks out
    ed = prof.find("/srv/shop.py", "edit_distance")
    gc = prof.find("", "GC")
    frozen = prof.find("<frozen importlib._bootstrap>", "_find_and_load")
    assert ed is not None and gc is not None and frozen is not None
    assert prof.self_weight[ed] == pytest.approx(2100e-6)
    assert [f.line for f in prof.lines(ed)] == [53]
    assert prof.kind(gc) is FunctionKind.NATIVE and prof.kind(frozen) is FunctionKind.LIBRARY
    assert "INVALID" not in prof.names
    # without its '#' lines the same samples go through content detection
    bare = tmp_path / "bare.austin"
    bare.write_text("".join(ln + "\n" for ln in AUSTIN.splitlines() if ln.startswith("P")))
    again = load(bare)
    assert again.format == "collapsed" and again.total_weight == pytest.approx(3500e-6)


def test_austin_alternative_and_full_formats() -> None:
    # -a puts the line in a frame of its own; -f appends idle flag and memory delta
    text = (
        "P1;T7fdf1b437700;/srv/app.py:main;L10;/srv/app.py:work;L31 10085\n"
        "P1;T7fdf1b437700;/srv/app.py:main;L10;/srv/app.py:work;L32 42,0,-44\n"
    )
    prof = load_bytes("app.austin", text.encode())
    assert prof.format == "collapsed"
    work = prof.find("/srv/app.py", "work")
    assert work is not None
    assert [f.line for f in prof.lines(work)] == [31, 32]
    assert prof.total_weight == pytest.approx((10085 + 42) * 1e-6)


def test_real_austin(tmp_path: Path) -> None:
    out = tmp_path / "shop.austin"
    # austin recognises CPython by its binary, not by a virtualenv's symlink to it
    run_austin(["-i", "1ms", "-o", str(out), os.path.realpath(sys.executable), *SHORT])
    prof = load(out)
    assert prof.format == "collapsed"
    assert prof.unit == "seconds"
    assert prof.find(str(EXAMPLE), "edit_distance") is not None


# -- bad input ------------------------------------------------------------------------------


def _expect(path: Path, *fragments: str) -> None:
    with pytest.raises(ProfileError) as info:
        load(path)
    message = str(info.value)
    assert message.startswith(f"{path}: "), message
    for fragment in fragments:
        assert fragment in message, message


def test_malformed_line_is_named_by_number(raw_short_names: Path, tmp_path: Path) -> None:
    good = raw_short_names.read_text().splitlines()
    assert len(good) > 50  # past the lines that content detection reads
    bad = tmp_path / "cut.txt"
    bad.write_text("\n".join([*good, "main (app.py:3);work (app.py:9)"]) + "\n")
    _expect(bad, f"line {len(good) + 1}", "'(app.py:9)' is not a count")
    worse = tmp_path / "worse.txt"
    worse.write_text("\n".join([*good, "main;work 12abc", *good[:3]]) + "\n")
    _expect(worse, f"line {len(good) + 1}", "'12abc' is not a count")


def test_bad_lines_by_hand() -> None:
    cases = {
        b"main;work 10\nmain;work\n": "line 2 is not 'frame;frame;... COUNT'",
        b"main;work 10\nmain;work -3\n": "'-3' is not a count",
        b"main;work 10\nmain;work nan\n": "'nan' is not a count",
        b"main;work 1,0,0\n": "comma-separated counts outside an austin profile",
        b"# only a comment\n\n 4\n": "no samples with frames",
        b"# austin: 3.7.0\n# mode: memory\nP1;T1;/a.py:f:1 -4096\n": "austin memory profile",
        b"P1;T1;/a.py:f:1 10\nmain;work 3\n": "mix austin samples",
    }
    for data, fragment in cases.items():
        with pytest.raises(ProfileFormatError) as info:
            collapsed.load("hand.txt", data)
        message = str(info.value)
        assert message.startswith("hand.txt: ") and fragment in message, (data, message)
