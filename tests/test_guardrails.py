"""The style guardrail with real ruff and the project's own configuration: only the lines a fix
touches are judged, the formatter's wanted text is in the reason, a project without formatter
configuration is not held to ruff's defaults, and added imports land where isort wants them."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from megawatt.analyzers.engine import analyze
from megawatt.fixes.guardrails import (
    NO_FORMATTER,
    Candidate,
    Rejected,
    Target,
    find_ruff,
    format_policy,
    locate_function,
    splice,
    static_checks,
)

RUFF = find_ruff()
pytestmark = pytest.mark.skipif(RUFF is None, reason="ruff is part of the test extras")

LABEL = "    label = 'the cheapest price among the given items, in the currency of the first item given: '"
MODULE = f"""\
import sys


def cheapest(prices, names):
{LABEL}
    first = sorted(prices)[0]
    return label + names[0] + ': ' + str(first)
"""
# the two lines a correct fix changes, written in the file's own style (single quotes)
FIX = f"""\
def cheapest(prices, names):
{LABEL}
    best = min(prices)
    return label + names[0] + ': ' + str(best)
"""

NO_CONFIG = "[project]\nname = 'p'\nversion = '0'\n"
RUFF_CONFIG = NO_CONFIG + (
    '[tool.ruff]\nline-length = 120\n\n[tool.ruff.format]\nquote-style = "single"\n'
)
RUFF_DEFAULTS = NO_CONFIG + "[tool.ruff]\ntarget-version = 'py311'\n"


def project(tmp_path: Path, pyproject: str, source: str, skill: str) -> Target:
    (tmp_path / "pyproject.toml").write_text(pyproject)
    path = tmp_path / "mod.py"
    path.write_text(source)
    found = [f for f in analyze(str(path), source.encode()).findings if f.skill == skill]
    assert found, skill
    return locate_function(str(path), source.encode(), found[0])


def check(tmp_path: Path, target: Target, cand: Candidate, notes: list[str]) -> list[str]:
    spliced = splice(target, cand, root=tmp_path)
    return static_checks(target, spliced, tmp_path, RUFF, notes=notes)


def test_the_long_line_really_is_97_characters() -> None:
    assert len(LABEL) == 97


@pytest.mark.parametrize("pyproject", [NO_CONFIG, RUFF_CONFIG])
def test_a_two_line_fix_in_the_projects_style_passes(tmp_path: Path, pyproject: str) -> None:
    target = project(tmp_path, pyproject, MODULE, "sort-for-extreme")
    notes: list[str] = []
    assert check(tmp_path, target, Candidate(FIX), notes) == [
        "syntax",
        "style",
        "opportunity gone",
    ]
    assert notes == ([NO_FORMATTER] if pyproject == NO_CONFIG else [])


def test_under_ruffs_defaults_the_touched_line_is_refused_with_the_wanted_text(
    tmp_path: Path,
) -> None:
    target = project(tmp_path, RUFF_DEFAULTS, MODULE, "sort-for-extreme")
    with pytest.raises(Rejected) as err:
        check(tmp_path, target, Candidate(FIX), [])
    reason = err.value.reason
    assert err.value.stage == "style" and "ruff format would change" in reason
    assert '+    return label + names[0] + ": " + str(best)' in reason
    assert "-    return label + names[0] + ': ' + str(best)" in reason
    # the 97-character line and its quotes are the project's, not the fix's
    assert "label = " not in reason


def test_a_badly_formatted_touched_line_is_refused_with_what_ruff_wanted(tmp_path: Path) -> None:
    target = project(tmp_path, RUFF_CONFIG, MODULE, "sort-for-extreme")
    bad = FIX.replace("best = min(prices)", "best = min( prices )")
    with pytest.raises(Rejected) as err:
        check(tmp_path, target, Candidate(bad), [])
    assert "-    best = min( prices )\n+    best = min(prices)" in err.value.reason
    assert "@@ line 6 @@" in err.value.reason


def test_without_formatter_configuration_only_spacing_counts(tmp_path: Path) -> None:
    target = project(tmp_path, NO_CONFIG, MODULE, "sort-for-extreme")
    bad = FIX.replace("best = min(prices)", "best = min( prices )")
    with pytest.raises(Rejected, match="only spacing is checked") as err:
        check(tmp_path, target, Candidate(bad), [])
    assert "+    best = min(prices)" in err.value.reason
    # quotes and line length are the project's business: a long touched line is fine
    long = FIX.replace("best = min(prices)", "best = min(prices)  # " + "x" * 80)
    assert "style" in check(tmp_path, target, Candidate(long), [])


def test_the_reason_is_cut_short(tmp_path: Path) -> None:
    target = project(tmp_path, RUFF_CONFIG, MODULE, "sort-for-extreme")
    noisy = FIX.replace(
        "    best = min(prices)\n",
        "".join(f"    v{i} = [ {i} ]\n" for i in range(15)) + "    best = min(prices)\n",
    )
    with pytest.raises(Rejected) as err:
        check(tmp_path, target, Candidate(noisy), [])
    diff = err.value.reason.split("it wants:\n", 1)[1].splitlines()
    assert len(diff) == 21 and diff[-1].startswith("… (")


def test_lint_counts_new_findings_on_touched_lines_only(tmp_path: Path) -> None:
    # `import sys` is unused (F401) before and after: not the fix's doing
    target = project(tmp_path, RUFF_CONFIG, MODULE, "sort-for-extreme")
    assert "style" in check(tmp_path, target, Candidate(FIX), [])
    unused = FIX.replace("    best = min(prices)\n", "    best = min(prices)\n    spare = 1\n")
    with pytest.raises(Rejected, match="ruff check reports new problems: F841"):
        check(tmp_path, target, Candidate(unused), [])


def test_a_black_project_is_formatted_black_compatibly(tmp_path: Path) -> None:
    black = NO_CONFIG + "[tool.black]\nline-length = 120\nskip-string-normalization = true\n"
    target = project(tmp_path, black, MODULE, "sort-for-extreme")
    notes: list[str] = []
    assert "style" in check(tmp_path, target, Candidate(FIX), notes)
    assert notes and "black-compatible" in notes[0]


def test_format_policy_is_found_like_ruff_finds_its_configuration(tmp_path: Path) -> None:
    sub = tmp_path / "pkg"
    sub.mkdir()
    (tmp_path / "pyproject.toml").write_text(NO_CONFIG)
    assert not format_policy(tmp_path, str(sub / "m.py")).enforced
    (tmp_path / "ruff.toml").write_text("line-length = 100\n")
    assert format_policy(tmp_path, str(sub / "m.py")).enforced
    (tmp_path / "ruff.toml").unlink()
    (sub / "pyproject.toml").write_text("[tool.ruff.lint]\nselect = ['E']\n")
    assert format_policy(tmp_path, str(sub / "m.py")).enforced


SORTED = """\
import collections
import re

RX = re.compile("a")


def fib(n: int) -> int:
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def other() -> collections.Counter[str]:
    return collections.Counter()
"""
ISORT = NO_CONFIG + '[tool.ruff.lint]\nselect = ["E", "F", "I"]\n'
CACHED = (
    "@functools.cache\ndef fib(n: int) -> int:\n    return n if n < 2 else fib(n - 1) + fib(n - 2)"
)


def _i001(tmp_path: Path, text: str) -> list[object]:
    assert RUFF is not None
    run = subprocess.run(
        [RUFF, "check", "--select", "I001", "--output-format", "json", "--exit-zero", "-"],
        input=text,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    return json.loads(run.stdout)


@pytest.mark.parametrize(
    ("existing", "added", "block"),
    [
        ("", "import functools", "import collections\nimport functools\nimport re\n"),
        (
            "from functools import reduce\n",
            "from functools import cache",
            "import collections\nimport re\nfrom functools import cache, reduce\n",
        ),
    ],
)
def test_an_added_import_lands_in_isort_order(
    tmp_path: Path, existing: str, added: str, block: str
) -> None:
    source = SORTED.replace("import re\n", "import re\n" + existing)
    if existing:
        source += "\n\ndef fold(xs: list[int]) -> int:\n    return reduce(max, xs)\n"
    target = project(tmp_path, ISORT, source, "memoize")
    assert _i001(tmp_path, source) == []
    fixed = CACHED.replace("@functools.cache", "@cache") if existing else CACHED
    spliced = splice(target, Candidate(fixed, (added,)), root=tmp_path)
    text = spliced.source.decode()
    assert text.startswith(block) and _i001(tmp_path, text) == []
    assert spliced.function_text == fixed  # the byte range follows the moved function
    assert static_checks(target, spliced, tmp_path, RUFF) == ["syntax", "style", "opportunity gone"]


def test_an_unsorted_block_is_left_as_the_project_keeps_it(tmp_path: Path) -> None:
    source = SORTED.replace("import collections\nimport re\n", "import re\nimport collections\n")
    target = project(tmp_path, ISORT, source, "memoize")
    spliced = splice(target, Candidate(CACHED, ("import functools",)), root=tmp_path)
    assert spliced.source.decode().startswith("import re\nimport collections\nimport functools\n")
    assert spliced.function_text == CACHED
