"""Shared fixtures: real profiles of the bundled example, recorded once per test session."""

from __future__ import annotations

import pstats
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "shop.py"
# The workload every profiler records: the bundled example (1.4 s of work alone, 3.5 s under cProfile).
WORKLOAD = [str(EXAMPLE), "20000"]
BIN = Path(sys.executable).parent


def run(cmd: list[str], timeout: float = 180) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        raise AssertionError(f"{cmd!r} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture(scope="session")
def profiles_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("profiles")


@pytest.fixture(scope="session")
def shop_pstats(profiles_dir: Path) -> Path:
    """cProfile of the example: the reference every other format is compared with."""
    out = profiles_dir / "shop.pstats"
    run([sys.executable, "-m", "cProfile", "-o", str(out), *WORKLOAD])
    return out


@pytest.fixture(scope="session")
def reference_top(shop_pstats: Path) -> list[str]:
    """The example's user functions by self time, hottest first, per the stdlib's pstats."""
    stats = pstats.Stats(str(shop_pstats))
    rows = [
        (tt, name)
        for (path, _line, name), (_cc, _nc, tt, _ct, _callers) in stats.stats.items()  # type: ignore[attr-defined]
        if path == str(EXAMPLE)
    ]
    return [name for _tt, name in sorted(rows, reverse=True)]


def run_austin(args: list[str], attempts: int = 4) -> None:
    """Run the austin sampler, retrying its start-up race.

    On a loaded machine austin sometimes inspects the child before the interpreter has mapped
    itself and gives up with "not a Python process"; the same command succeeds on a retry.
    """
    austin = BIN / "austin"
    for attempt in range(attempts):
        proc = subprocess.run([str(austin), *args], capture_output=True, text=True, timeout=180)
        if proc.returncode == 0:
            return
        if "not a Python" not in proc.stdout + proc.stderr or attempt == attempts - 1:
            raise AssertionError(f"austin {args!r} failed ({proc.returncode}):\n{proc.stderr}")
