"""Hot code no pattern covers is an opportunity too: a function whose own code holds a large
share of the run, with no finding in it, is listed as a hot spot with its hottest lines; real
py-spy and cProfile recordings of a real program."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.test_cli_profile import megawatt
from tests.test_savings import recorded

PROGRAM = """\
import sys


def checksum(rows):
    total = 0
    for row in rows:
        for ch in row:
            total = (total * 31 + ord(ch)) & 0xFFFFFFFF
    return total


def drain(items):
    queue = list(items)
    out = []
    while queue:
        out.append(queue.pop(0) * 2)
    return out


def main(rounds):
    rows = ["abcdefghij" * 20 for _ in range(100)]
    total = 0
    for _ in range(rounds):
        total += checksum(rows)
        total += len(drain(range(300)))
    return total


main(int(sys.argv[1]))
"""
ROUNDS = 60
HOT_LINE = 8  # total = (total * 31 + ord(ch)) & 0xFFFFFFFF


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return recorded(tmp_path_factory.mktemp("hotspots"), "work", PROGRAM, str(ROUNDS))


def scan(root: Path, profile: str, *extra: str) -> list[dict]:  # type: ignore[type-arg]
    proc = megawatt(
        "scan", "work.py", "--profile", profile, "--format", "json", "--no-cache", *extra, cwd=root
    )
    assert proc.returncode == 1, proc.stderr
    return json.loads(proc.stdout)["opportunities"]  # type: ignore[no-any-return]


def test_a_hot_function_without_a_pattern_is_a_hot_spot_with_its_lines(project: Path) -> None:
    found = scan(project, "work.json")
    spots = [o for o in found if o["skill"] == "hot-spot"]
    # checksum has no pattern; drain has one (pop-front); main's own code is small
    assert [o["function"] for o in spots] == ["checksum"], found
    (spot,) = spots
    assert spot["line"] == HOT_LINE, spot  # on its hottest line
    assert "its hottest lines by own time: 8 (" in spot["message"]
    assert spot["evidence"]["own_share"].endswith("% of the run")
    assert spot["savings_method"] == "self" and spot["savings_evidence"].startswith("a guess: ")
    assert found[0]["skill"] == "hot-spot"  # the largest own time of the run leads
    assert any(o["skill"] == "pop-front" and o["function"] == "drain" for o in found)


def test_call_figures_alone_still_find_it(project: Path) -> None:
    spots = [o for o in scan(project, "work.pstats") if o["skill"] == "hot-spot"]
    assert [o["function"] for o in spots] == ["checksum"]
    assert spots[0]["line"] == 4  # no line figures: on its name


def test_selection_applies(project: Path) -> None:
    assert not [
        o for o in scan(project, "work.json", "--ignore", "hot-spot") if o["skill"] == "hot-spot"
    ]
    only = scan(project, "work.json", "--select", "hot-spot")
    assert {o["skill"] for o in only} == {"hot-spot"}
