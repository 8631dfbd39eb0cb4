"""The code base stays `ruff check` and `ruff format` clean, and the public surface stays deliberate."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import megawatt
from tests.conftest import REPO


def _ruff() -> str:
    found = Path(sys.executable).parent / "ruff"
    if found.is_file():
        return str(found)
    which = shutil.which("ruff")
    if which is None:
        pytest.fail("ruff is part of the test extras and must be installed")
    return which


@pytest.mark.parametrize("args", [["check", "."], ["format", "--check", "."]])
def test_ruff_clean(args: list[str]) -> None:
    proc = subprocess.run([_ruff(), *args], cwd=REPO, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_exported_members() -> None:
    import types

    # submodules appear as attributes once imported; only the names in __all__ are the API
    exported = {
        name
        for name, value in vars(megawatt).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    exported.discard("annotations")  # from __future__
    assert exported == set(megawatt.__all__) - {"__version__"}


def test_every_package_folder_is_installed() -> None:
    """A non-editable install ships only the packages pyproject lists: forget one and it breaks."""
    import tomllib

    tool = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    folder_of = {pkg: Path(folder) for pkg, folder in tool["package-dir"].items()}
    expected = set()
    for pkg, folder in folder_of.items():
        for init in (REPO / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(REPO / folder)
            expected.add(".".join([pkg, *rel.parts]) if rel.parts else pkg)
    assert expected == set(tool["packages"])
