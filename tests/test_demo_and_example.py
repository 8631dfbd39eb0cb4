"""`megawatt demo` end to end, and every safe fix keeps the example's behaviour."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import EXAMPLE
from tests.test_cli_profile import megawatt


def test_demo_shows_hot_functions_opportunities_and_fixes() -> None:
    proc = megawatt("demo", "--top", "2")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "Hot functions" in out and "edit_distance" in out
    assert "Opportunities, ranked by estimated savings" in out
    for skill in ("memoize", "regex-in-function", "list-membership-in-loop", "pop-front"):
        assert skill in out, skill
    assert out.count("\nFix ") == 2
    assert "@@" in out  # a unified diff preview
    assert "orders=" not in out  # the example's own output stays out of the report


def _run_example(path: Path) -> str:
    proc = subprocess.run([sys.executable, str(path), "4000"], capture_output=True, text=True,
                          timeout=120, check=True)  # fmt: skip
    return proc.stdout


def test_every_fix_keeps_the_example_behaviour(tmp_path: Path) -> None:
    copy = tmp_path / "shop.py"
    shutil.copy(EXAMPLE, copy)
    before = _run_example(copy)
    proc = megawatt("fix", str(copy), "--write", "--unsafe", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    fixed = copy.read_text()
    assert fixed != EXAMPLE.read_text()
    for change in ("@functools.", "popleft()", "_RE", "isEnabledFor"):
        assert change in fixed, change
    compile(fixed, str(copy), "exec")
    assert _run_example(copy) == before
