"""`megawatt scan`'s text as users read it: `path:line:col: skill-id message` lines for pipes
and tools, and on a terminal a layout that keeps ids and locations whole at any width."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.terminal import on_terminal
from tests.test_cli_profile import MEGAWATT, megawatt

SOURCE = """\
import re

BLOCKED = [f"x{n}" for n in range(100)]


def render_list_item_with_a_long_name(items):
    text = ""
    for item in items:
        if item in BLOCKED:
            continue
        text += item
    return text


def has_match(lines):
    return any([re.match(r"^x+$", line) for line in lines])
"""
MODULE = Path("src", "package_name", "renderers", "list_rendering.py")


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text("[tool.megawatt]\n")
    (tmp_path / MODULE).parent.mkdir(parents=True)
    (tmp_path / MODULE).write_text(SOURCE)
    return tmp_path


def _expected(project: Path) -> list[dict]:  # type: ignore[type-arg]
    proc = megawatt("scan", "--no-cache", "--format", "json", cwd=project)
    assert proc.returncode == 1, proc.stderr
    found: list[dict] = json.loads(proc.stdout)["opportunities"]  # type: ignore[type-arg]
    # the fixture is chosen to give the layout long ids, long paths and long messages
    assert {o["skill"] for o in found} >= {"list-membership-in-loop", "quadratic-concat"}
    assert max(len(o["message"]) for o in found) > 200
    return found


def _where(o: dict) -> str:  # type: ignore[type-arg]
    return f"{MODULE.as_posix()}:{o['line']}:{o['column']}"


def _words(text: str) -> str:
    return " ".join(text.split())


def test_piped_output_is_one_line_per_finding(project: Path) -> None:
    found = _expected(project)
    proc = megawatt("scan", "--no-cache", cwd=project)
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.splitlines() == [f"{_where(o)}: {o['skill']} {o['message']}" for o in found]
    # and `--format concise` gives the same on a terminal
    screen = on_terminal("scan", "--no-cache", "--format", "concise", columns=80, cwd=project)
    assert screen.returncode == 1, screen.stderr
    assert screen.lines == proc.stdout.splitlines()


@pytest.mark.parametrize("columns", [80, 60])
def test_narrow_terminal_keeps_ids_and_locations_whole(project: Path, columns: int) -> None:
    found = _expected(project)
    screen = on_terminal("scan", "--no-cache", columns=columns, cwd=project)
    assert screen.returncode == 1, screen.stderr
    assert "\x1b[" in screen.raw  # a terminal: styled
    lines = screen.lines
    assert all(len(line) <= columns for line in lines), "\n".join(lines)
    heads = [next(i for i, line in enumerate(lines) if _where(o) in line.split()) for o in found]
    for o, head in zip(found, heads, strict=True):
        # on the head line, or the next when the head line has no room for it
        assert o["skill"] in lines[head].split() + lines[head + 1].split(), lines[head]
        # the message follows, wrapped at spaces only: its words come back unchanged
        after = [h for h in heads if h > head]
        body = _words(" ".join(lines[head + 1 : min(after, default=len(lines))]))
        assert _words(o["message"]) in body, body
    # lines filled, not one word of the message per line: at least half the width used
    budget = sum(
        2 + 2 * (len(o["message"]) + len(o["savings_evidence"] or "")) // columns for o in found
    )
    assert len(lines) <= 2 + budget, "\n".join(lines)


def test_wide_terminal_is_a_table_with_the_message_wrapping_in_its_column(project: Path) -> None:
    found = _expected(project)
    screen = on_terminal("scan", "--no-cache", columns=160, cwd=project)
    lines = screen.lines
    assert all(len(line) <= 160 for line in lines), "\n".join(lines)
    header = lines[1]
    assert header.split() == ["score", "where", "skill", "function", "message"]
    column = header.index("message")
    for o in found:
        head = next(i for i, line in enumerate(lines) if _where(o) in line.split())
        assert lines[head].split()[2] == o["skill"]
        rest = [lines[head][column:]]
        for line in lines[head + 1 :]:
            if line[:column].strip():  # the next row
                break
            rest.append(line[column:])
        assert _words(" ".join(rest)) == _words(o["message"])


def _piped(*args: str, cwd: Path, columns: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    if columns is not None:
        env["COLUMNS"] = columns
    return subprocess.run([*MEGAWATT, *args], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=120, check=False)  # fmt: skip


@pytest.mark.parametrize("columns", ["70", "250", None])
def test_full_format_honours_columns_when_piped(project: Path, columns: str | None) -> None:
    found = _expected(project)
    proc = _piped("scan", "--no-cache", "--format", "full", cwd=project, columns=columns)
    assert proc.returncode == 1, proc.stderr
    assert "\x1b[" not in proc.stdout  # not a terminal: no escape codes
    lines = proc.stdout.splitlines()
    width = int(columns or 80)  # without COLUMNS or a terminal: 80, as shutil assumes
    assert all(len(line) <= width for line in lines), "\n".join(lines)
    assert all(any(_where(o) in line.split() for line in lines) for o in found)
    # the table's message column when it fits, the message below each head line when not
    assert ("message" in lines[1].split()) == (width > 200)


def test_summary_counts_agree_with_their_nouns(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.megawatt]\n")
    (tmp_path / "one.py").write_text("def f(xs):\n    return any([x for x in xs])\n")
    proc = megawatt("scan", "--no-cache", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert "1 opportunity in 1 file (2 lines)" in proc.stderr
    (tmp_path / "two.py").write_text("def g(xs):\n    return all([x for x in xs])\n")
    proc = megawatt("scan", "--no-cache", cwd=tmp_path)
    assert "2 opportunities in 2 files (4 lines)" in proc.stderr
    fix = megawatt("fix", "one.py", cwd=tmp_path)
    assert "would apply 1 fix in 1 file" in fix.stderr, fix.stderr
    fix = megawatt("fix", ".", cwd=tmp_path)
    assert "would apply 2 fixes in 2 files" in fix.stderr, fix.stderr


def test_skills_list_keeps_ids_whole_on_a_narrow_terminal(tmp_path: Path) -> None:
    listed = megawatt("skills", "list", "--root", str(tmp_path))
    ids = [line.split()[0] for line in listed.stdout.splitlines()[1:] if not line.startswith(" ")]
    assert "list-membership-in-loop" in ids and len(ids) >= 10
    screen = on_terminal("skills", "list", "--root", str(tmp_path), columns=50, cwd=tmp_path)
    assert screen.returncode == 0, screen.stderr
    assert all(len(line) <= 50 for line in screen.lines), screen.text
    heads = [line.split()[0] for line in screen.lines[1:] if not line.startswith(" ")]
    assert heads == ids


def test_output_file_gets_the_text_report(project: Path) -> None:
    found = _expected(project)
    proc = megawatt("scan", "--no-cache", "-o", "report.txt", cwd=project)
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout == ""
    lines = (project / "report.txt").read_text().splitlines()
    assert lines == [f"{_where(o)}: {o['skill']} {o['message']}" for o in found]
