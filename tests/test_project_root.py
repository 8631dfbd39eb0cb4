"""A project's root: the nearest marker, else the folder the user works in, never a guess from
the file's own folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from megawatt.config import find_project_root

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "shop.py"


def unmarked_project(root: Path, folder: str = "app", rounds: int = 2000) -> Path:
    """A folder with no pyproject.toml and no .git: the example in `folder`/, a cProfile
    recording of it in .megawatt/profiles/ (by the relative path it ran from)."""
    (root / folder).mkdir(parents=True)
    (root / folder / "shop.py").write_text(EXAMPLE.read_text())
    profiles = root / ".megawatt" / "profiles"
    profiles.mkdir(parents=True)
    subprocess.run(
        [sys.executable, "-m", "cProfile", "-o", str(profiles / "shop.pstats"),
         f"{folder}/shop.py", str(rounds)],
        cwd=root, check=True, capture_output=True,
    )  # fmt: skip
    return root


@pytest.fixture
def unmarked(tmp_path: Path) -> Path:
    return unmarked_project(tmp_path / "proj")


def test_without_a_marker_the_root_is_the_folder_worked_in(unmarked: Path) -> None:
    file = unmarked / "app" / "shop.py"
    assert find_project_root(file, within=unmarked) == unmarked.resolve()
    # a file outside the folder worked in keeps its own folder
    assert find_project_root(file, within=unmarked / "elsewhere") == (unmarked / "app").resolve()


def test_a_marker_still_wins(unmarked: Path) -> None:
    (unmarked / "app" / "pyproject.toml").write_text("")
    file = unmarked / "app" / "shop.py"
    assert find_project_root(file, within=unmarked) == (unmarked / "app").resolve()


def test_scan_of_a_file_in_a_subfolder_uses_the_projects_profile(unmarked: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "megawatt", "scan", "app/shop.py", "--format", "json", "--no-cache"],
        cwd=unmarked, capture_output=True, text=True, check=False,
        env={**os.environ, "COLUMNS": "100"},
    )  # fmt: skip
    assert proc.returncode in (0, 1), proc.stderr
    report = json.loads(proc.stdout)
    hot = {h["function"] for h in report["hot_functions"]}
    assert "edit_distance" in hot, (hot, proc.stderr)
