"""`megawatt profile` as a user runs it: a real process, real files, exit codes, no tracebacks."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE

MEGAWATT = [sys.executable, "-m", "megawatt.cli"]


def megawatt(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run(
        [*MEGAWATT, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
        check=False,
    )


def test_json_document_is_stable(shop_pstats: Path) -> None:
    proc = megawatt("profile", str(shop_pstats), "--format", "json", "--top", "5")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert {"unit", "total", "functions"} <= set(doc)
    assert doc["unit"] == "seconds" and doc["total"] > 0
    first = doc["functions"][0]
    assert set(first) >= {
        "path",
        "function",
        "line",
        "self",
        "total",
        "self_share",
        "total_share",
        "calls",
    }
    assert first["function"] == "edit_distance"
    assert first["path"] == str(EXAMPLE)
    assert len(doc["functions"]) == 5
    shares = [f["self_share"] for f in doc["functions"]]
    assert shares == sorted(shares, reverse=True)


def test_text_table_when_piped(shop_pstats: Path) -> None:
    proc = megawatt("profile", str(shop_pstats), "--top", "3", "--sort", "total")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("pstats profile")
    assert lines[1].split() == ["self", "total", "calls", "function", "where"]
    assert len(lines) == 5
    assert "│" not in proc.stdout  # plain text, not a box-drawn table, when not a terminal


def test_good_files_load_when_others_fail(shop_pstats: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"root_frame": ')
    empty = tmp_path / "empty.prof"
    empty.write_bytes(b"")
    proc = megawatt("profile", str(broken), str(shop_pstats), str(empty), "--format", "json")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert f"{broken}: invalid JSON" in proc.stderr
    assert f"{empty}: file is empty" in proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["functions"][0]["function"] == "edit_distance"
    assert {e["path"] for e in doc["errors"]} == {str(broken), str(empty)}


def test_only_bad_files(tmp_path: Path) -> None:
    unknown = tmp_path / "notes.txt"
    unknown.write_text("hello world\nthis is not a profile\n")
    proc = megawatt("profile", str(unknown))
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert f"{unknown}: not a profile Megawatt can read" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_map_option_and_root(shop_pstats: Path, tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    (workspace / "shop").mkdir(parents=True)
    (workspace / "shop" / "shop.py").write_text(EXAMPLE.read_text())
    proc = megawatt(
        "profile", str(shop_pstats), "--root", str(workspace), "--format", "json",
        "--map", f"{EXAMPLE.parent}={workspace / 'shop'}",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    first = json.loads(proc.stdout)["functions"][0]
    assert first["workspace_path"] == str((workspace / "shop" / "shop.py").resolve())


def test_run_records_into_the_project_and_show_finds_it(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.megawatt]\ntop = 4\ncolour = 'red'\n")
    script = tmp_path / "work.py"
    script.write_text(
        "import sys\n\ndef fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n\n"
        "print(fib(int(sys.argv[1])))\n"
    )
    rec = megawatt("profile", "run", "--", sys.executable, "work.py", "18", cwd=tmp_path)
    assert rec.returncode == 0, rec.stderr
    assert "2584" in rec.stdout  # the program's own output is untouched
    written = list((tmp_path / ".megawatt" / "profiles").iterdir())
    assert len(written) == 1 and written[0].suffix == ".pstats"
    shown = megawatt("profile", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "unknown key 'colour'" in shown.stderr
    rows = shown.stdout.splitlines()[2:]
    assert rows[0].split()[3] == "fib"
    assert len(rows) <= 4  # `top` from [tool.megawatt]


@pytest.mark.parametrize("profiler", ["pyinstrument", "py-spy"])
def test_run_with_other_profilers(profiler: str, tmp_path: Path) -> None:
    rec = megawatt(
        "profile", "run", "--profiler", profiler, "--", sys.executable, str(EXAMPLE), "3000",
        cwd=tmp_path,
    )  # fmt: skip
    assert rec.returncode == 0, rec.stderr
    shown = megawatt("profile", "--format", "json", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    top = [f["function"] for f in json.loads(shown.stdout)["functions"][:3]]
    assert any("edit_distance" in name for name in top)


def test_run_refuses_non_python_for_cprofile(tmp_path: Path) -> None:
    proc = megawatt("profile", "run", "--", "ls", "-l", cwd=tmp_path)
    assert proc.returncode == 2
    assert "not a Python program" in proc.stderr and "py-spy" in proc.stderr


def test_no_profile_anywhere(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("")
    proc = megawatt("profile", cwd=tmp_path)
    assert proc.returncode == 2
    assert "megawatt profile run" in proc.stderr


def test_invalid_config_is_an_error_not_a_traceback(tmp_path: Path, shop_pstats: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.megawatt]\nhot-threshold = 7\n")
    proc = megawatt("profile", str(shop_pstats), cwd=tmp_path)
    assert proc.returncode == 2
    assert "hot_threshold" in proc.stderr or "hot-threshold" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_diff_command(shop_pstats: Path) -> None:
    proc = megawatt("profile", "diff", str(shop_pstats), str(shop_pstats), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["before"]["total"] == doc["after"]["total"] > 0
    rows = doc["functions"]
    assert rows and all(abs(r["total_change"]) < 1e-12 for r in rows)
    assert all(r["before_total"] == r["after_total"] and r["in_before"] for r in rows)


SLOW_JOB = (
    "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n\n\n"
    "def other():\n    return sum(i * i for i in range(300_000))\n\n\nfib(26)\nother()\n"
)
FIXED_JOB = "import functools\n\n\n" + SLOW_JOB.replace("def fib", "@functools.cache\ndef fib")


def _checkout(root: Path, source: str) -> Path:
    """A project with its job recorded by `megawatt profile run` (by absolute path)."""
    root.mkdir(parents=True)
    (root / "pyproject.toml").write_text("")
    (root / "job.py").write_text(source)
    rec = megawatt("profile", "run", "--", sys.executable, str(root / "job.py"), cwd=root)
    assert rec.returncode == 0, rec.stderr
    (profile,) = (root / ".megawatt" / "profiles").iterdir()
    return profile


def _rows(proc: subprocess.CompletedProcess[str]) -> dict[str, list[dict]]:  # type: ignore[type-arg]
    assert proc.returncode == 0, proc.stderr
    rows: dict[str, list[dict]] = {}  # type: ignore[type-arg]
    for r in json.loads(proc.stdout)["functions"]:
        rows.setdefault(r["function"], []).append(r)
    return rows


def test_diff_pairs_two_checkouts_and_shows_time_before_and_after(tmp_path: Path) -> None:
    before = _checkout(tmp_path / "a" / "proj", SLOW_JOB)
    after = _checkout(tmp_path / "b" / "proj-2", FIXED_JOB)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    args = ["profile", "diff", str(before), str(after), "--top", "100"]
    rows = _rows(megawatt(*args, "--format", "json", cwd=elsewhere))
    for name in ("fib", "other", "other.<locals>.<genexpr>"):
        (row,) = rows[name]  # one row, found in both checkouts
        assert row["in_before"] and row["in_after"] and row["path"] == "job.py", row
        assert row["before_total"] > 0 and row["after_total"] > 0
    # the speed-up shows as time: fib's fall, not other's rising share, is the change
    (fib,) = rows["fib"]
    assert fib["before_total"] > 100 * fib["after_total"]
    text = megawatt(*args, cwd=elsewhere)
    lines = text.stdout.splitlines()
    assert lines[0].startswith("before ") and " in all: -" in lines[0], lines[0]
    assert lines[1].split()[:4] == ["before", "after", "change", "share"]
    assert lines[2].split()[-2:] == ["fib", "job.py:4"], lines[2]  # its decorator's line


def test_diff_map_pairs_a_checkout_that_is_gone(tmp_path: Path) -> None:
    old = tmp_path / "old" / "proj"
    before = _checkout(old, SLOW_JOB)
    after = _checkout(tmp_path / "new" / "proj", FIXED_JOB)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    kept = elsewhere / "before.pstats"
    kept.write_bytes(before.read_bytes())
    shutil.rmtree(old)
    args = ["profile", "diff", str(kept), str(after), "--format", "json", "--top", "100"]
    unmatched = _rows(megawatt(*args, cwd=elsewhere))["fib"]
    assert sorted((r["in_before"], r["in_after"]) for r in unmatched) == [(0, 1), (1, 0)]
    (fib,) = _rows(megawatt(*args, "--map", f"{old}={after.parents[2]}", cwd=elsewhere))["fib"]
    assert fib["in_before"] and fib["in_after"] and fib["path"] == "job.py"


def test_profile_taken_before_an_edit_lands_on_todays_function(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("")
    script = tmp_path / "work.py"
    body = (
        "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n\n"
        "def main():\n    return fib(20)\n\nmain()\n"
    )
    script.write_text(body)
    rec = megawatt("profile", "run", "--", sys.executable, "work.py", cwd=tmp_path)
    assert rec.returncode == 0, rec.stderr
    # today's edit: a docstring and a helper above, so fib moved down 6 lines
    script.write_text('"""Doc."""\n\n\ndef helper():\n    return 1\n\n' + body)
    proc = megawatt("profile", "--format", "json", cwd=tmp_path)
    fib = next(f for f in json.loads(proc.stdout)["functions"] if f["function"] == "fib")
    assert fib["line"] == 1  # as recorded
    assert fib["workspace_line"] == 7  # where it is now
    assert fib["workspace_path"] == str(script.resolve())


def test_python_source_is_not_a_profile(tmp_path: Path) -> None:
    # a docstring's first byte is 0x22, which a pprof protobuf can start with too
    module = tmp_path / "mod.py"
    module.write_text('"""A module."""\n\nimport os\n\nprint(os.sep)\n')
    proc = megawatt("profile", str(module))
    assert proc.returncode == 2
    assert f"{module}: not a profile Megawatt can read" in proc.stderr
    assert 'it starts with \'"""A module."""\'' in proc.stderr
    assert "pprof protobuf" not in proc.stderr
    assert f"megawatt profile run -- python {module}" in proc.stderr


def test_invalid_json_says_what_and_where_and_truncated_only_when_it_is(
    tmp_path: Path, shop_pstats: Path
) -> None:
    rec = megawatt(
        "profile", "run", "--profiler", "py-spy", "--output-dir", str(tmp_path / "rec"), "--",
        sys.executable, str(EXAMPLE), "300",
    )  # fmt: skip
    assert rec.returncode == 0, rec.stderr
    (real,) = (tmp_path / "rec").iterdir()
    data = real.read_bytes()
    # a raw line break inside a frame's name, as a hand edit or a broken writer leaves it
    name = data.index(b'"name":"') + len(b'"name":"') + 2
    broken = tmp_path / "control.json"
    broken.write_bytes(data[:name] + b"\n" + data[name:])
    cut = tmp_path / "cut.json"
    cut.write_bytes(data[: len(data) // 2])
    proc = megawatt("profile", str(broken), str(cut), str(shop_pstats))
    assert proc.returncode == 2
    control = next(ln for ln in proc.stderr.splitlines() if str(broken) in ln)
    assert "at line 1, column" in control and "a line break inside a string" in control, control
    assert "truncated" not in control and "Invalid control character at" not in control
    truncated = next(ln for ln in proc.stderr.splitlines() if str(cut) in ln)
    assert "at line 1, column" in truncated and "looks truncated" in truncated, truncated


def test_stacks_without_file_names_say_that_all_shows_them(tmp_path: Path) -> None:
    # perf's stackcollapse writes bare function names
    folded = tmp_path / "perf.folded"
    folded.write_text("main;parse;lex 30\nmain;parse 10\nmain;render 5\n")
    proc = megawatt("profile", str(folded))
    assert proc.returncode == 0, proc.stderr
    assert "3 without a file name" in proc.stderr and "`--all` shows them" in proc.stderr
    assert len(proc.stdout.splitlines()) == 1  # the title, no empty table
    shown = megawatt("profile", str(folded), "--all")
    assert "lex" in shown.stdout and "--all" not in shown.stderr
