"""pyinstrument output, recorded by the real pyinstrument on the bundled example."""

from __future__ import annotations

import ast
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from megawatt.errors import ProfileError
from megawatt.model import FunctionKind
from megawatt.profiles import load
from megawatt.profiles import pyinstrument as pyinstrument_format
from megawatt.profiles.profile import Profile
from tests.conftest import BIN, EXAMPLE, WORKLOAD, run

SHOP = str(EXAMPLE)


def _spans() -> dict[str, tuple[int, int]]:
    """(def line, last line) of each top-level function of the example, from its source."""
    tree = ast.parse(EXAMPLE.read_text())
    return {
        node.name: (node.lineno, node.end_lineno or node.lineno)
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
    }


def _record(renderer: str, out: Path) -> Path:
    run([str(BIN / "pyinstrument"), "-r", renderer, "-o", str(out), *WORKLOAD])
    return out


@pytest.fixture(scope="session")
def pyinstrument_json(profiles_dir: Path) -> Path:
    return _record("json", profiles_dir / "shop.pyinstrument.json")


@pytest.fixture(scope="session")
def pyinstrument_session(profiles_dir: Path) -> Path:
    return _record("pyisession", profiles_dir / "shop.pyisession")


@pytest.fixture(scope="session")
def tree(pyinstrument_json: Path) -> Profile:
    return load(pyinstrument_json)


@pytest.fixture(scope="session")
def session(pyinstrument_session: Path) -> Profile:
    path = str(pyinstrument_session)
    data = pyinstrument_session.read_bytes()
    return pyinstrument_format.load(path, data, json.loads(data))


def _fid(prof: Profile, name: str) -> int:
    fid = prof.find(SHOP, name)
    assert fid is not None, f"{name} not in the profile"
    return fid


def _user_top(prof: Profile) -> list[str]:
    return [h.function for h in prof.top(20, kinds=[FunctionKind.USER]) if h.path == SHOP]


# -- the JSON call tree ------------------------------------------------------------------------


def test_json_is_recognised_by_content(pyinstrument_json: Path, tmp_path: Path) -> None:
    raw = json.loads(pyinstrument_json.read_text())
    prof = load(pyinstrument_json)
    assert (prof.format, prof.unit) == ("pyinstrument", "seconds")
    assert prof.total_weight == pytest.approx(raw["root_frame"]["time"])
    assert prof.recorded_at == pytest.approx(raw["start_time"])
    disguised = tmp_path / "shop.prof"  # the extension cProfile output usually has
    shutil.copy(pyinstrument_json, disguised)
    assert load(disguised).format == "pyinstrument"


@pytest.mark.parametrize("shape", ["tree", "session"])
def test_ranking_agrees_with_stdlib_pstats(
    shape: str, request: pytest.FixtureRequest, reference_top: list[str]
) -> None:
    prof: Profile = request.getfixturevalue(shape)
    ours = _user_top(prof)
    # both profilers hook every call, so the recursive edit_distance leads by a wide margin
    assert ours[0] == reference_top[0] == "edit_distance"
    assert len(set(ours[:3]) & set(reference_top[:3])) >= 2


def test_functions_map_to_their_def_lines(tree: Profile) -> None:
    spans = _spans()
    seen = 0
    for fid in range(len(tree)):
        if tree.paths[fid] == SHOP and tree.names[fid] in spans:
            assert tree.first_lines[fid] == spans[tree.names[fid]][0], tree.names[fid]
            assert tree.kind(fid) is FunctionKind.USER
            seen += 1
    assert seen >= 8
    lam = _fid(tree, "<lambda>")
    assert EXAMPLE.read_text().splitlines()[tree.first_lines[lam] - 1].count("lambda")


def test_self_time_adds_up_to_the_run(tree: Profile) -> None:
    # `[self]` leaves are the parent's own time and are never functions of their own
    assert "[self]" not in tree.names
    assert float(tree.self_weight.sum()) == pytest.approx(tree.total_weight, rel=1e-3)
    assert float(tree.self_weight.min()) >= 0


@pytest.mark.parametrize("shape", ["tree", "session"])
def test_recursion_is_counted_once(shape: str, request: pytest.FixtureRequest) -> None:
    prof: Profile = request.getfixturevalue(shape)
    hot = prof.hot_function(_fid(prof, "edit_distance"))
    assert hot.self_time <= hot.total_time <= prof.total_weight
    # edit_distance recurses ~14 deep, and is only ever reached through closest_product: summed
    # over every tree node it would be many times closest_product's time
    outer = prof.hot_function(_fid(prof, "closest_product"))
    assert hot.total_time <= outer.total_time * 1.001 + 1e-6
    assert hot.total_time >= 0.9 * outer.total_time


@pytest.mark.parametrize("shape", ["tree", "session"])
def test_callers_and_callees(shape: str, request: pytest.FixtureRequest) -> None:
    prof: Profile = request.getfixturevalue(shape)
    ed = _fid(prof, "edit_distance")
    callers = prof.callers(ed)
    assert [prof.names[e.function] for e in callers] == ["<lambda>"]
    assert callers[0].weight == pytest.approx(prof.total_weight_of[ed], rel=1e-6)
    callees = {prof.names[e.function]: e.weight for e in prof.callees(_fid(prof, "run"))}
    assert {"valid_orders", "settle", "report", "closest_product"} <= set(callees)
    vo = _fid(prof, "valid_orders")
    assert callees["valid_orders"] == pytest.approx(prof.total_weight_of[vo], rel=1e-6)
    assert "deepcopy" in {prof.names[e.function] for e in prof.callees(_fid(prof, "price"))}


def test_json_has_no_line_figures_but_library_code_is_kept_apart(tree: Profile) -> None:
    assert not tree.has_lines  # line_no is the def line: the tree says nothing about hot lines
    assert tree.kind(tree.names.index("deepcopy")) is FunctionKind.LIBRARY
    assert all(h.path == SHOP for h in tree.top(3, kinds=[FunctionKind.USER]))


# -- the .pyisession samples -------------------------------------------------------------------


def test_session_gives_hot_lines_inside_the_function(session: Profile) -> None:
    assert (session.format, session.unit) == ("pyinstrument", "seconds")
    first, last = _spans()["edit_distance"]
    ed = _fid(session, "edit_distance")
    assert session.first_lines[ed] == first
    lines = session.lines(ed)
    assert lines and all(first <= fig.line <= last for fig in lines)
    assert sum(fig.self_weight for fig in lines) == pytest.approx(session.self_weight[ed])
    # the lines that recurse carry the recursion's time, once
    assert max(fig.total_weight for fig in lines) <= session.total_weight_of[ed] + 1e-9


def test_session_drops_the_profilers_own_frames(session: Profile) -> None:
    assert not any(p.endswith(f"{os.sep}bin{os.sep}pyinstrument") for p in session.paths)
    assert not any(p == "<thread>" for p in session.paths)
    module = session.find(SHOP, "<module>", 1)
    assert module is not None
    assert session.total_weight_of[module] >= 0.9 * session.total_weight


def test_session_is_recognised_by_content(pyinstrument_session: Path) -> None:
    prof = load(pyinstrument_session)
    assert prof.format == "pyinstrument"


def test_awaiting_is_idle(tmp_path: Path) -> None:
    script = tmp_path / "wait.py"
    out = tmp_path / "wait.json"
    script.write_text(
        "import asyncio, sys\n"
        "from pyinstrument import Profiler\n"
        "from pyinstrument.renderers import JSONRenderer\n\n"
        "def spin(n):\n    s = 0\n    for i in range(n):\n        s += i * i\n    return s\n\n"
        "async def work():\n    spin(200_000)\n    await asyncio.sleep(0.2)\n\n"
        "async def main():\n"
        "    with Profiler(async_mode='enabled') as p:\n        await work()\n"
        "    open(sys.argv[1], 'w').write(p.output(JSONRenderer()))\n"
        "    p.last_session.save(sys.argv[1] + '.pyisession')\n\n"
        "asyncio.run(main())\n"
    )
    run([sys.executable, str(script), str(out)])
    session_path = Path(f"{out}.pyisession")
    session_data = session_path.read_bytes()
    profiles = [
        load(out),
        pyinstrument_format.load(str(session_path), session_data, json.loads(session_data)),
    ]
    for prof in profiles:
        awaited = prof.find("", "[await]", 0)
        assert awaited is not None and prof.kind(awaited) is FunctionKind.IDLE
        assert prof.self_weight[awaited] == pytest.approx(0.2, abs=0.05)
        shown = [h.function for h in prof.top(10)]
        assert "[await]" not in shown and shown[0] == "spin"
        work = prof.find(str(script), "work")
        assert work is not None and prof.self_weight[work] < 0.05


# -- deep trees and bad input ------------------------------------------------------------------


def _frame(name: str, time: float, children: list[Any], line: int = 1) -> dict[str, Any]:
    return {
        "function": name,
        "file_path": "/app/deep.py",
        "line_no": line,
        "time": time,
        "await_time": 0.0,
        "is_application_code": True,
        "children": children,
    }


def test_a_very_deep_tree_is_walked_without_recursion() -> None:
    depth = 50_000  # far past Python's recursion limit
    node = _frame("leaf", 1.0, [])
    for _ in range(depth):
        node = _frame("down", 1.0, [node], line=5)
    doc = {"start_time": 1.0, "duration": 1.0, "root_frame": _frame("<module>", 1.0, [node])}
    prof = pyinstrument_format.load("deep.json", b"", doc)
    down = prof.find("/app/deep.py", "down", 5)
    assert down is not None
    assert prof.total_weight_of[down] == pytest.approx(1.0)  # not 50,000 seconds
    assert prof.self_weight[down] == pytest.approx(0.0)
    assert [prof.names[e.function] for e in prof.callers(down)] == ["<module>"]


def test_deep_json_from_a_deeply_recursive_program(tmp_path: Path) -> None:
    script = tmp_path / "deep.py"
    script.write_text(
        "import sys\nsys.setrecursionlimit(10_000)\n\n"
        "def down(n):\n    return sum(range(300_000)) if n == 0 else down(n - 1)\n\n"
        "for _ in range(3):\n    down(1500)\n"
    )
    out = tmp_path / "deep.json"
    run([str(BIN / "pyinstrument"), "-r", "json", "-o", str(out), str(script)])
    prof = load(out)
    down = prof.find(str(script), "down")
    assert down is not None and prof.total_weight_of[down] <= prof.total_weight


def _bad(tmp_path: Path, name: str, content: bytes | str) -> str:
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    with pytest.raises(ProfileError) as info:
        load(path)
    message = str(info.value)
    assert str(path) in message
    return message


def test_root_frame_of_the_wrong_type(tmp_path: Path) -> None:
    message = _bad(tmp_path, "list.json", json.dumps({"duration": 1.0, "root_frame": [1, 2]}))
    assert "root_frame is a list" in message


def test_root_frame_null_means_no_samples(tmp_path: Path) -> None:
    message = _bad(tmp_path, "null.json", json.dumps({"duration": 0.0, "root_frame": None}))
    assert "no samples" in message


def test_truncated_json(pyinstrument_json: Path, tmp_path: Path) -> None:
    data = pyinstrument_json.read_bytes()
    message = _bad(tmp_path, "cut.json", data[: len(data) // 2])
    assert "truncated" in message


def test_malformed_frame_is_named(tmp_path: Path) -> None:
    child = _frame("slow", 1.0, [])
    child["time"] = "1.0"
    doc = {"duration": 1.0, "root_frame": _frame("<module>", 1.0, [child])}
    message = _bad(tmp_path, "bad-time.json", json.dumps(doc))
    assert "'slow'" in message and "time" in message


def test_session_without_records(tmp_path: Path) -> None:
    with pytest.raises(ProfileError) as info:
        pyinstrument_format.load("empty.pyisession", b"", {"frame_records": []})
    assert "empty.pyisession" in str(info.value) and "no samples" in str(info.value)
