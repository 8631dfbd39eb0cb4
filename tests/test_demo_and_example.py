"""`megawatt demo` end to end, and every safe fix keeps the example's behaviour."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import EXAMPLE
from tests.test_cli_profile import MEGAWATT, megawatt


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
    # its project is temporary: the ending says so, and how to keep it
    end = " ".join(proc.stderr.split())
    assert "was a temporary folder and is deleted now" in end, end
    assert "`megawatt demo --keep DIR`" in end
    assert "megawatt fix --write DIR/shop.py" in end
    assert "megawatt fix --write --unsafe DIR/shop.py" in end


def _fixes(text: str, pattern: str) -> int:
    found = re.search(pattern, " ".join(text.split()))
    assert found, text
    return int(found.group(1))


def test_demo_ending_names_the_command_for_each_preview_and_it_does_so(tmp_path: Path) -> None:
    kept = tmp_path / "demo"
    proc = megawatt("demo", "--keep", str(kept))
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in kept.iterdir()) == [".megawatt", "pyproject.toml", "shop.py"]
    assert list((kept / ".megawatt" / "profiles").glob("*.pstats"))
    out, end = proc.stdout, " ".join(proc.stderr.split())
    # the previews' order: the two unsafe ones first (they save the most), then a safe one
    previews = re.findall(r"^Fix (\d): .*\n(  unsafe, applied only with --unsafe)?", out, re.M)
    assert [(n, bool(unsafe)) for n, unsafe in previews] == [("1", True), ("2", True), ("3", False)]
    app = kept.resolve() / "shop.py"
    assert f"(Fix 3 above): megawatt fix --write {app}" in end, end
    assert (
        f"(Fix 1 and 2 above; each says why it is unsafe): megawatt fix --write --unsafe {app}"
        in end
    )
    assert f"The demo project is kept in {kept.resolve()}." in end
    assert "deleted" not in end
    safe = _fixes(end, r"the (\d+) safe fixes")
    unsafe = _fixes(end, r"those and the (\d+) unsafe ones")
    # the commands do what the ending says they do
    wrote = megawatt("fix", "--write", str(app), cwd=tmp_path)
    assert _fixes(wrote.stderr, r"applied (\d+) fixes in 1 file") == safe
    wrote = megawatt("fix", "--write", "--unsafe", str(app), cwd=tmp_path)
    assert _fixes(wrote.stderr, r"applied (\d+) fix(?:es)? in 1 file") == unsafe
    fixed = app.read_text()
    assert "@functools.cache" in fixed and "_DISCONTINUED_SET" in fixed  # Fix 1 and 2


def test_demo_fits_an_80_column_terminal() -> None:
    env = {**os.environ, "COLUMNS": "80"}
    proc = subprocess.run([*MEGAWATT, "demo", "--top", "1"], capture_output=True, text=True,
                          env=env, timeout=180, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    report = proc.stdout.split("\n--- shop.py")[0]  # the diff below shows source lines as they are
    assert all(len(line) <= 80 for line in report.splitlines()), report
    assert all(len(line) <= 80 for line in proc.stderr.splitlines()), proc.stderr
    for skill in ("list-membership-in-loop", "logging-expensive-args", "deepcopy-in-hot-path"):
        assert re.search(rf"(^|\s){skill}(\s|$)", report, re.M), skill


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
