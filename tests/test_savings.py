"""Estimated savings read from the profile's own evidence about the finding's code: its line
samples, the calls it is about, else (marked rough) its function's self time; real py-spy and
cProfile recordings of a real program."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.conftest import BIN, run
from tests.test_cli_profile import megawatt

# modelled on mistune's renderers: the indentation loop runs once or twice per item, the
# normalisation of each line is where the time goes
PROGRAM = """\
import re
import sys


def render_item(text, depth, marker):
    leading = ""
    for _ in range(depth):
        leading += "  "
    body = "\\n".join(re.sub(r"\\s+", " ", line) for line in text.splitlines())
    return leading + marker + body


def main(rounds):
    text = "\\n".join("word  " * 40 for _ in range(30))
    out = 0
    for i in range(rounds):
        out += len(render_item(text, i % 2, "- "))
    return out


main(int(sys.argv[1]))
"""
ROUNDS = 1500
CONCAT_LINE, REGEX_LINE = 8, 9


def recorded(root: Path, name: str, program: str, *args: str) -> Path:
    """A project holding `program` as `name`.py, with a py-spy (`name`.json) and a cProfile
    (`name`.pstats) recording of one run of it each."""
    (root / "pyproject.toml").write_text("")
    (root / f"{name}.py").write_text(program)
    work = [sys.executable, str(root / f"{name}.py"), *args]
    run([str(BIN / "py-spy"), "record", "-r", "1000", "-f", "speedscope", "-o",
         str(root / f"{name}.json"), "--", *work])  # fmt: skip
    run([sys.executable, "-m", "cProfile", "-o", str(root / f"{name}.pstats"), *work[1:]])
    return root


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return recorded(tmp_path_factory.mktemp("savings"), "render", PROGRAM, str(ROUNDS))


def opportunities(root: Path, profile: str) -> dict[str, dict]:  # type: ignore[type-arg]
    proc = megawatt(
        "scan", "render.py", "--profile", profile, "--format", "json", "--no-cache", cwd=root
    )
    assert proc.returncode == 1, proc.stderr
    found = json.loads(proc.stdout)["opportunities"]
    return {o["skill"]: o for o in found}


def test_a_loop_the_lines_show_cold_ranks_below_the_hot_line(project: Path) -> None:
    found = opportunities(project, "render.json")
    concat, regex = found["quadratic-concat"], found["regex-in-function"]
    assert concat["line"] == CONCAT_LINE and regex["line"] == REGEX_LINE
    # both sit in the one hot function: its inclusive share says nothing about either
    assert concat["function_share"] > 0.5 and regex["function_share"] > 0.5
    assert regex["savings_method"] in ("calls", "lines") and regex["estimated_savings"] > 0
    assert concat["estimated_savings"] < 0.005, concat  # never a Warning
    assert concat["estimated_savings"] < regex["estimated_savings"]
    order = list(found)
    assert order.index("regex-in-function") < order.index("quadratic-concat")


def test_call_figures_give_the_cost_of_the_call_and_the_part_the_fix_removes(
    project: Path,
) -> None:
    regex = opportunities(project, "render.pstats")["regex-in-function"]
    assert regex["savings_method"] == "calls"
    # cProfile counts every call: 30 lines per item, one item per round
    assert (
        f"re.sub called {30 * ROUNDS:,} times from here (30 per call of it)"
        in (regex["savings_evidence"])
    ), regex["savings_evidence"]
    # a hoisted pattern saves the cache lookup (re._compile), not the substitution
    assert "of it in re._compile" in regex["savings_evidence"]
    assert 0 < regex["estimated_savings"] < regex["function_share"] / 2


def test_without_line_or_call_figures_the_functions_self_time_is_used_and_said_rough(
    project: Path,
) -> None:
    concat = opportunities(project, "render.pstats")["quadratic-concat"]
    assert concat["savings_method"] == "self"
    assert concat["savings_evidence"].startswith("rough: ")
    proc = megawatt("profile", "render.pstats", "--format", "json", "--all", cwd=project)
    rows = {r["function"]: r for r in json.loads(proc.stdout)["functions"]}
    item = rows["render_item"]
    # the function's own time, never its inclusive time (which holds every re.sub call)
    assert concat["estimated_savings"] <= item["self_share"]
    assert concat["estimated_savings"] < item["total_share"] * 0.1
