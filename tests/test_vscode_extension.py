"""The VS Code extension's own tests (settings flow, interpreter choice, launch), run under Node."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.conftest import REPO

EXT = REPO / "editors" / "vscode"


@pytest.mark.skipif(shutil.which("npm") is None, reason="Node.js and npm are not installed")
def test_extension_unit_tests_pass() -> None:
    if not (EXT / "node_modules").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=EXT, check=True,
                       capture_output=True, timeout=600)  # fmt: skip
    proc = subprocess.run(["npm", "test"], cwd=EXT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "# fail 0" in proc.stdout
