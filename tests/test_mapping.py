"""Profiles recorded elsewhere land on the workspace; functions land on today's source."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from megawatt.analyzers.symbols import functions_in_source
from megawatt.model import FunctionKind
from megawatt.profiles import load
from megawatt.profiles.builder import ProfileBuilder
from megawatt.profiles.mapping import PathMapper, PrefixMap, WorkspaceIndex, match_function
from tests.conftest import EXAMPLE, run


@pytest.fixture(scope="module")
def elsewhere(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A profile recorded under one root (say, a container's /app) and a workspace elsewhere."""
    recorded_root = tmp_path_factory.mktemp("container") / "app"
    (recorded_root / "shopkit").mkdir(parents=True)
    shutil.copy(EXAMPLE, recorded_root / "shopkit" / "orders.py")
    out = recorded_root.parent / "run.prof"
    run(
        [
            sys.executable,
            "-m",
            "cProfile",
            "-o",
            str(out),
            str(recorded_root / "shopkit" / "orders.py"),
            "2000",
        ]
    )
    workspace = tmp_path_factory.mktemp("workspace")
    (workspace / "src" / "shopkit").mkdir(parents=True)
    shutil.copy(EXAMPLE, workspace / "src" / "shopkit" / "orders.py")
    (workspace / "src" / "shopkit" / "__init__.py").write_text("")
    shutil.rmtree(recorded_root)  # the recording machine's files are not here
    return out, workspace


def test_longest_suffix_match(elsewhere: tuple[Path, Path]) -> None:
    prof_path, workspace = elsewhere
    prof = PathMapper(workspace).apply(load(prof_path))
    fid = next(f for f in range(len(prof)) if prof.names[f] == "edit_distance")
    assert prof.workspace_paths is not None
    assert prof.workspace_paths[fid] == str((workspace / "src/shopkit/orders.py").resolve())
    assert prof.kind(fid) is FunctionKind.USER
    copy_fid = next(f for f in range(len(prof)) if prof.names[f] == "deepcopy")
    assert prof.workspace_paths[copy_fid] is None  # the standard library stays outside


def test_explicit_prefix_map_wins(elsewhere: tuple[Path, Path], tmp_path: Path) -> None:
    prof_path, workspace = elsewhere
    # a second, decoy copy that a suffix match alone could not tell apart
    (workspace / "vendored" / "shopkit").mkdir(parents=True, exist_ok=True)
    shutil.copy(EXAMPLE, workspace / "vendored" / "shopkit" / "orders.py")
    prof = load(prof_path)
    recorded = next(p for p in prof.paths if p.endswith("orders.py"))
    app_root = recorded[: recorded.index("/shopkit/")]
    assert PathMapper(workspace).map(recorded) is None  # ambiguous: two candidates tie
    mapped = PathMapper(workspace, [PrefixMap.parse(f"{app_root}=src")]).map(recorded)
    assert mapped == str((workspace / "src/shopkit/orders.py").resolve())
    shutil.rmtree(workspace / "vendored")


def test_site_packages_path_maps_to_the_project(tmp_path: Path) -> None:
    (tmp_path / "src" / "shopkit").mkdir(parents=True)
    (tmp_path / "src" / "shopkit" / "orders.py").write_text("def f():\n    pass\n")
    b = ProfileBuilder("x", "test", "samples")
    installed = "/opt/venv/lib/python3.11/site-packages/shopkit/orders.py"
    fid = b.function(installed, "f", 1)
    b.add_stack([b.frame(fid, 2)], 10)
    prof = b.build()
    assert prof.kind(fid) is FunctionKind.LIBRARY
    mapped = PathMapper(tmp_path).apply(prof)
    assert mapped.kind(fid) is FunctionKind.USER
    assert mapped.workspace_paths == (str((tmp_path / "src/shopkit/orders.py").resolve()),)


def test_index_skips_virtualenvs_and_caches(tmp_path: Path) -> None:
    for folder in (".venv/lib", "node_modules/x", "pkg", "__pycache__"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "mod.py").write_text("")
    index = WorkspaceIndex(tmp_path)
    assert index.longest_suffix("/elsewhere/mod.py") == str(tmp_path.resolve() / "pkg" / "mod.py")


def test_bad_path_map_is_reported() -> None:
    with pytest.raises(ValueError, match="FROM=TO"):
        PrefixMap.parse("/app")


SOURCE_TODAY = b"""import functools


class Cart:
    def __init__(self, items):
        self.items = items

    def total(self):
        return sum(self.items)


class Invoice:
    def __init__(self, cart):
        self.cart = cart

    @functools.cache
    def render(self):
        return str(self.cart.total())


def grand_total_renamed(carts):
    return sum(c.total() for c in carts)
"""


def test_functions_match_by_name_then_line() -> None:
    defs = functions_in_source(SOURCE_TODAY)
    # recorded before 3 lines were added at the top: names still decide
    assert match_function(defs, "total", 5).qualname == "Cart.total"  # type: ignore[union-attr]
    # two __init__: the nearest to the recorded line wins
    assert match_function(defs, "__init__", 2).qualname == "Cart.__init__"  # type: ignore[union-attr]
    assert match_function(defs, "__init__", 11).qualname == "Invoice.__init__"  # type: ignore[union-attr]
    # qualified names (pyinstrument, Scalene) match exactly
    assert match_function(defs, "Invoice.__init__", 5).qualname == "Invoice.__init__"  # type: ignore[union-attr]
    # decorated: CPython records the decorator's line
    assert match_function(defs, "render", 16).line == 17  # type: ignore[union-attr]
    # renamed since the recording: the function whose span holds the recorded line
    assert match_function(defs, "grand_total", 21).name == "grand_total_renamed"  # type: ignore[union-attr]
    # sampled profiles know no first line; hot lines decide
    assert match_function(defs, "__init__", 0, hot_lines=[14]).qualname == "Invoice.__init__"  # type: ignore[union-attr]
    assert match_function(defs, "missing", 0) is None
