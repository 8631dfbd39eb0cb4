"""Where profiled functions land in today's source: lambdas and comprehensions (no `def`, and no
first line from py-spy) get the line they start on, and every function the qualified name its
source gives it; real py-spy and cProfile recordings of a real program."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from megawatt.profiles.locate import Anonymous, anonymous_in_source, match_anonymous
from tests.conftest import BIN, run
from tests.test_cli_profile import megawatt

PROGRAM = """\
import sys


class Table:
    def rows(self, n):
        data = list(range(n))
        keyed = sorted(data, key=lambda v: (v * 7919) % 1000)
        return sum(v * v for v in keyed if v % 3)


def other(n):
    return sorted(range(n), key=lambda v: -v)


def main(rounds):
    table = Table()
    for _ in range(rounds):
        table.rows(20000)
    other(1000)


main(int(sys.argv[1]))
"""
LAMBDA_LINE, GENEXPR_LINE = 7, 8


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("locate")
    (root / "pyproject.toml").write_text("")
    (root / "work.py").write_text(PROGRAM)
    spy = [str(BIN / "py-spy"), "record", "-r", "500"]
    work = [sys.executable, str(root / "work.py"), "60"]
    run([*spy, "-f", "speedscope", "-o", str(root / "work.speedscope.json"), "--", *work])
    run([*spy, "-f", "raw", "-o", str(root / "work.raw.txt"), "--", *work])
    run([sys.executable, "-m", "cProfile", "-o", str(root / "work.pstats"), *work[1:]])
    return root


def _functions(root: Path, profile: str) -> dict[str, dict]:  # type: ignore[type-arg]
    proc = megawatt("profile", profile, "--format", "json", "--all", "--top", "500", cwd=root)
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)["functions"]
    return {r["workspace_function"]: r for r in rows if r["workspace_function"]}


@pytest.mark.parametrize("profile", ["work.speedscope.json", "work.raw.txt", "work.pstats"])
def test_lambdas_and_comprehensions_get_their_line_and_scope(project: Path, profile: str) -> None:
    found = _functions(project, profile)
    lam = found["Table.rows.<locals>.<lambda>"]
    assert lam["workspace_line"] == LAMBDA_LINE, lam
    # among the hottest code of the run (8–20 % by sample, with the machine loaded or not), and
    # now it has a place
    assert lam["self_share"] > 0.03
    assert found["Table.rows.<locals>.<genexpr>"]["workspace_line"] == GENEXPR_LINE
    assert found["Table.rows"]["workspace_line"] == 5
    text = megawatt("profile", profile, "--top", "5", cwd=project)
    row = next(ln for ln in text.stdout.splitlines() if "<lambda>" in ln)
    assert row.split()[-2:] == ["Table.rows.<locals>.<lambda>", f"work.py:{LAMBDA_LINE}"], row


def test_a_profile_taken_before_an_edit_still_finds_the_lambda(project: Path) -> None:
    edited = project / "edited"
    edited.mkdir()
    (edited / "pyproject.toml").write_text("")
    (edited / "work.py").write_text('"""Doc."""\n\n\n' + PROGRAM)
    for profile in ("work.speedscope.json", "work.pstats"):
        found = _functions(edited, str(project / profile))
        assert found["Table.rows.<locals>.<lambda>"]["workspace_line"] == LAMBDA_LINE + 3


def test_match_anonymous_by_scope_kind_and_hot_line() -> None:
    source = PROGRAM.encode()
    code = anonymous_in_source(source)
    assert [(c.name, c.line, c.scope) for c in code] == [
        ("<lambda>", 7, "Table.rows"),
        ("<genexpr>", 8, "Table.rows"),
        ("<lambda>", 12, "other"),
    ]

    def line(found: Anonymous | None) -> int | None:
        return found.line if found else None

    assert line(match_anonymous(code, "other.<locals>.<lambda>", 0, [30])) == 12
    assert line(match_anonymous(code, "<lambda>", 0, [12, 7])) == 12  # the hottest line first
    assert line(match_anonymous(code, "<lambda>", 7)) == 7  # cProfile: the first line
    assert match_anonymous(code, "<lambda>", 0) is None  # two of them, nothing to choose by
    assert line(match_anonymous(code, "<genexpr>", 0)) == 8  # the only one
    assert match_anonymous(code, "<listcomp>", 0, [8]) is None
