"""Real headless Neovim: lenses from the first answer, lenses that follow an edit, hints that
follow a new profile, and a workspace without markers that still gets its profile."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import EXAMPLE
from tests.e2e.test_neovim import REPO, nvim

SCRIPT = Path(__file__).with_name("nvim_lenses.lua")
PROFILES = Path(".megawatt") / "profiles"


def drive(root: Path, file: Path, tmp_path: Path, **env: str) -> dict:  # type: ignore[type-arg]
    out = tmp_path / "nvim-lenses.json"
    proc = subprocess.run(
        [nvim(), "--headless", "--clean", "-u", str(SCRIPT), str(file)],
        cwd=root, capture_output=True, text=True, timeout=180, check=False,
        env={
            **os.environ,
            **{f"MEGAWATT_TEST_{k.upper()}": v for k, v in env.items()},
            "MEGAWATT_TEST_OUT": str(out),
            "MEGAWATT_NVIM_CONFIG": str(REPO / "editors" / "neovim"),
            "MEGAWATT_PYTHON": sys.executable,
            "XDG_STATE_HOME": str(tmp_path / "state"),
            "XDG_CONFIG_HOME": str(tmp_path / "config"),
            "XDG_DATA_HOME": str(tmp_path / "data"),
        },
    )  # fmt: skip
    assert out.exists(), f"nvim wrote no result (rc={proc.returncode}):\n{proc.stderr}"
    result = json.loads(out.read_text())
    assert "error" not in result, result
    return result  # type: ignore[no-any-return]


def py_spy(root: Path, args: list[str], out: Path) -> None:
    subprocess.run(
        [str(Path(sys.executable).parent / "py-spy"), "record", "-r", "500", "-f", "speedscope",
         "-o", str(out), "--", sys.executable, *args],
        cwd=root, check=True, capture_output=True,
    )  # fmt: skip


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The example with a py-spy recording, configured by file (lines for the hints)."""
    root = tmp_path / "proj"
    (root / PROFILES).mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        "[tool.megawatt]\nhot-threshold = 0.01\nprofiles = ['.megawatt/profiles/shop.json']\n"
    )
    shutil.copy(EXAMPLE, root / "shop.py")
    py_spy(root, ["shop.py", "4000"], root / PROFILES / "shop.json")
    return root


def body_of(path: Path, name: str) -> tuple[int, int]:
    """0-based [start, end) of the body lines of the top-level function `name`."""
    lines = path.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"def {name}("))
    end = next(i for i in range(start + 1, len(lines)) if lines[i] and not lines[i][0].isspace())
    while not lines[end - 1].strip():
        end -= 1
    return start, end


def test_first_lenses_then_lenses_that_follow_an_edit(project: Path, tmp_path: Path) -> None:
    path = project / "shop.py"
    start, end = body_of(path, "settle")
    result = drive(project, path, tmp_path, edit_from=str(start + 1), edit_to=str(end))
    lens_at = {lens["lnum"]: lens["title"] for lens in result["lenses"]}
    # asked for at once on attach, before any analysis: the answer waited for it
    assert 43 in lens_at and start in lens_at, result["lenses"]
    assert "opportunit" in lens_at[start]
    hot = {d["lnum"]: d["message"] for d in result["diagnostics"] if d["code"] == "hot-function"}
    for line, title in lens_at.items():
        assert hot[line] not in title and "% of CPU" not in title, title  # not the diagnostic's
    edited = result["edited"]
    after = {lens["lnum"]: lens["title"] for lens in edited["lenses"]}
    # the body is one line now
    inside = [
        d for d in edited["diagnostics"] if d["code"] != "hot-function" and d["lnum"] == start + 1
    ]
    assert not inside, inside
    assert start in after and "opportunit" not in after[start], edited["lenses"]


def test_hints_follow_a_new_profile(project: Path, tmp_path: Path) -> None:
    # a run in which edit_distance never runs; far fewer functions than the first recording
    (project / "only_orders.py").write_text("import shop\nshop.make_orders(60000)\n")
    newer = tmp_path / "newer.json"
    py_spy(project, ["only_orders.py"], newer)
    result = drive(
        project,
        project / "shop.py",
        tmp_path,
        swap_from=str(newer),
        swap_to=str(project / PROFILES / "shop.json"),
    )
    assert not result["errors"], result["errors"]
    assert any(43 <= h["lnum"] <= 56 for h in result["hints_before"])  # edit_distance's lines
    after = result["hints_after"]
    assert after and not any(43 <= h["lnum"] <= 56 for h in after), after
    assert any(109 <= h["lnum"] <= 122 for h in after), after  # make_orders' body


def test_a_folder_without_markers_gets_its_profile(tmp_path: Path) -> None:
    root = tmp_path / "plain"
    (root / "app").mkdir(parents=True)
    (root / PROFILES).mkdir(parents=True)
    shutil.copy(EXAMPLE, root / "app" / "shop.py")
    py_spy(root, ["app/shop.py", "4000"], root / PROFILES / "shop.json")
    result = drive(root, root / "app" / "shop.py", tmp_path)
    hot = [d for d in result["diagnostics"] if d["code"] == "hot-function"]
    assert any(d["lnum"] == 43 for d in hot), result
    assert any(lens["lnum"] == 43 for lens in result["lenses"]), result
