"""The calibration bench's machinery on the bundled example, one round, no downloads: every top
finding gets a row (measured or why not), each fix's output is compared with the original's,
and a fix that changes the output is reported broken and left untimed. Nothing here asserts on
a time."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bench import calibration
from bench.calibration_workloads import EXAMPLE, Workload

# Prints a digest of its own source, so any rewrite of this file changes the output: the fix of
# its sort-for-extreme finding (`sorted(rows)[0]` → `min(rows)`) is correct, yet "broken" here.
SELF_HASH = '''\
"""Prints a digest of its own source."""

import hashlib
import sys
from pathlib import Path


def smallest(rows: list[int]) -> int:
    return sorted(rows)[0]


def main() -> None:
    rows = [(n * 7919) % 1000 for n in range(int(sys.argv[1]))]
    print(smallest(rows), hashlib.sha256(Path(__file__).read_bytes()).hexdigest())


main()
'''


def small_example(work: Path) -> None:
    work.mkdir(parents=True, exist_ok=True)
    shutil.copy(EXAMPLE, work / "shop.py")


def self_hash(work: Path) -> None:
    work.mkdir(parents=True, exist_ok=True)
    (work / "selfhash.py").write_text(SELF_HASH, encoding="utf-8")


@pytest.fixture(scope="module")
def example_result(tmp_path_factory: pytest.TempPathFactory) -> dict:
    wl = Workload("example", small_example, ["shop.py", "300"], ["shop.py"], "shop.py 300")
    return calibration.calibrate(wl, tmp_path_factory.mktemp("cal"), 1, 4, ("cprofile",))


def test_every_top_finding_gets_a_row(example_result: dict) -> None:
    rows = example_result["findings"]
    assert 1 <= len(rows) <= 4
    assert example_result["profilers"] == ["cprofile"]
    for row in rows:
        assert row["top_in"] == ["cprofile"]
        # measured, or the reason it is not (broken, no fix): never silently missing
        assert (row["measured"] is None) != (row["problem"] is None)
        est = row["estimates"]["cprofile"]
        assert {"estimate", "method", "ratio", "verdict"} <= est.keys()
        if row["measured"] is not None:
            assert len(row["measured"]["rounds"]) == 1
            assert est["verdict"] in ("2x", "noise", "slower", "off")
    # the example's fixes keep its output: all of them are measured
    assert all(row["problem"] is None for row in rows)


def test_fixes_together_and_noise(example_result: dict) -> None:
    together = example_result["together"]
    assert list(together) == [calibration.ALL.format(n=4, profiler="cprofile")]
    info = next(iter(together.values()))
    assert not info["broken"]
    assert len(info["findings"]) == len(example_result["findings"])
    assert info["measured"] is not None
    assert info["estimate_sum"] == pytest.approx(
        sum(r["estimates"]["cprofile"]["estimate"] for r in example_result["findings"])
    )
    assert len(example_result["noise"]["rounds"]) == 1
    assert example_result["noise_floor"] >= 0


def test_table_and_proposals_print(example_result: dict, capsys: pytest.CaptureFixture) -> None:
    props = calibration.proposals([example_result])
    for q in props:
        assert q["knob"] in ("expected_gain", "cost.removes")
        assert 0 < q["proposed"] <= 1
    calibration.table([example_result], props)
    out = capsys.readouterr().out
    assert "example (shop.py 300)" in out
    for row in example_result["findings"]:
        assert row["skill"] in out
    assert "all top 4 (cprofile)" in out
    assert "proposed gain models" in out


def test_a_fix_that_changes_the_output_is_broken(tmp_path: Path) -> None:
    wl = Workload("selfhash", self_hash, ["selfhash.py", "2000"], ["selfhash.py"])
    result = calibration.calibrate(wl, tmp_path, 1, 10, ("cprofile",))
    [row] = [r for r in result["findings"] if r["skill"] == "sort-for-extreme"]
    assert row["problem"] is not None and row["problem"].startswith("broken")
    assert row["measured"] is None
    info = result["together"][calibration.ALL.format(n=10, profiler="cprofile")]
    # broken fixes are left out of the set applied together
    assert "sort-for-extreme selfhash.py:9" not in info["findings"]
