"""Files that are not valid Python are named, with where and why, by `scan` (stderr, JSON, SARIF)
and by `fix`, which never blames its rewrite for an error the file already had."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.test_cli_profile import megawatt

FINDING = "def g(xs):\n    return any([x for x in xs])\n"
BROKEN = FINDING + "\n\ndef f(x:\n    return x\n"  # line 5: '(' was never closed
UNDECODABLE = b"def h(xs):\n    return any([x for x in xs])  # caf\xe9\n"  # Latin-1, no cookie
RETURN_OUTSIDE = FINDING + "\n\nreturn 1\n"  # parses; only the compiler refuses it
DECLARED = b"# -*- coding: latin-1 -*-\n" + FINDING.encode() + b'NAME = "caf\xe9"\n'


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text("[tool.megawatt]\n")
    (tmp_path / "good.py").write_text(FINDING)
    (tmp_path / "broken.py").write_text(BROKEN)
    (tmp_path / "undecodable.py").write_bytes(UNDECODABLE)
    (tmp_path / "declared.py").write_bytes(DECLARED)
    return tmp_path


BROKEN_LINE = "broken.py:5:6: syntax error: '(' was never closed"
UNDECODABLE_LINE = (
    "undecodable.py:2:39: cannot decode: not UTF-8 (byte 0xe9: invalid continuation byte) "
    "and no other encoding is declared"
)


def test_scan_names_the_files_it_could_not_read_and_reports_the_rest(project: Path) -> None:
    proc = megawatt("scan", "--no-cache", cwd=project)
    assert proc.returncode == 1, proc.stderr
    assert BROKEN_LINE in proc.stderr.splitlines()
    assert UNDECODABLE_LINE in proc.stderr.splitlines()
    assert "declared.py" not in proc.stderr  # a declared encoding is valid Python (PEP 263)
    assert "2 files not fully analysed" in proc.stderr
    # every file's findings are still reported, the broken ones' too (the code around an error)
    assert {line.split(":")[0] for line in proc.stdout.splitlines()} == {
        "good.py", "broken.py", "undecodable.py", "declared.py"
    }  # fmt: skip


def test_scan_json_and_sarif_carry_them_as_data(project: Path) -> None:
    doc = json.loads(megawatt("scan", "--no-cache", "--format", "json", cwd=project).stdout)
    root = project.resolve()
    assert doc["syntax_errors"] == [
        {"path": str(root / "broken.py"), "line": 5, "column": 6, "kind": "syntax",
         "message": "'(' was never closed"},
        {"path": str(root / "undecodable.py"), "line": 2, "column": 39, "kind": "encoding",
         "message": "not UTF-8 (byte 0xe9: invalid continuation byte) and no other encoding "
                    "is declared"},
    ]  # fmt: skip
    assert len(doc["opportunities"]) == 4
    sarif = json.loads(megawatt("scan", "--no-cache", "--format", "sarif", cwd=project).stdout)
    notes = sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    where = [
        (n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
         n["locations"][0]["physicalLocation"]["region"]["startLine"], n["level"])
        for n in notes
    ]  # fmt: skip
    assert where == [("broken.py", 5, "error"), ("undecodable.py", 2, "error")]


def test_a_file_that_does_not_parse_is_never_reported_clean(tmp_path: Path) -> None:
    (tmp_path / "only.py").write_text("def f(x:\n    return x\n")
    cache = tmp_path / "cache"
    first = megawatt("scan", "--cache-dir", str(cache), "only.py", cwd=tmp_path)
    assert first.returncode == 1, first.stderr
    assert "only.py:1:6: syntax error: '(' was never closed" in first.stderr
    # the cached result remembers it
    again = megawatt("scan", "--cache-dir", str(cache), "only.py", cwd=tmp_path)
    assert "1 from cache" in again.stderr and "only.py:1:6: syntax error" in again.stderr
    assert again.returncode == 1


@pytest.mark.parametrize(
    ("name", "where", "why"),
    [
        ("broken.py", "broken.py:5:6", "syntax error: '(' was never closed"),
        ("undecodable.py", "undecodable.py:2:39", "cannot decode: not UTF-8"),
        ("outside.py", "outside.py:5:1", "syntax error: 'return' outside function"),
    ],
)
def test_fix_says_the_original_is_at_fault_and_attempts_nothing(
    project: Path, name: str, where: str, why: str
) -> None:
    (project / "outside.py").write_text(RETURN_OUTSIDE)
    before = (project / name).read_bytes()
    proc = megawatt("fix", "--write", name, cwd=project)
    assert proc.returncode == 2
    assert f"error: {where}: no fix attempted: the file is not valid Python as it is" in proc.stderr
    assert why in proc.stderr
    assert "after fixing" not in proc.stderr and "dropped" not in proc.stderr, proc.stderr
    assert (project / name).read_bytes() == before
    # the files that are fine are still fixed
    ok = megawatt("fix", "--write", ".", cwd=project)
    assert "applied 2 fixes in 2 files" in ok.stderr, ok.stderr
    assert (project / "good.py").read_text() == "def g(xs):\n    return any(x for x in xs)\n"


def test_ai_fix_is_not_asked_for_a_file_that_does_not_compile(project: Path) -> None:
    (project / "pyproject.toml").write_text("[tool.megawatt.llm]\nenabled = true\n")
    proc = megawatt("fix", "--ai", "broken.py", "--line", "2", cwd=project)
    assert proc.returncode == 2
    assert (
        "error: broken.py:5:6: no AI fix attempted: the file is not valid Python as it is "
        "(syntax error: '(' was never closed)"
    ) in proc.stderr, proc.stderr
