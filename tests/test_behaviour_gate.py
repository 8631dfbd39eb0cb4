"""The behaviour gate on small real projects with real pytest suites: tests selected by running
them, recorded calls replayed on both versions, wall-clock speed as a gate."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from megawatt.fixes.behaviour import check_behaviour
from megawatt.fixes.guardrails import Rejected
from tests.test_fix_behaviour import FIB, FIB_FAST, FIB_TESTS, _project, _snapshot

TEXT = b'''"""Word counts."""


def normalise(word: str) -> str:
    return word.strip().lower()


def score(words: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for w in words:
        key = normalise(w)
        counts[key] = counts.get(key, 0) + 1
    return counts


def total(values) -> int:
    return sum(v * v for v in values)
'''

# the helper is reached only through its caller: no test names `normalise`
TEXT_TESTS = b"""from text import score, total


def test_score():
    assert score([" A", "a ", "b"]) == {"a": 2, "b": 1}


def test_sizes():
    assert len(score(["x", "Y", "y"])) == 2


def test_total():
    assert total(v for v in range(4)) == 14
"""

ONLY_SIZES = TEXT_TESTS.replace(
    b'    assert score([" A", "a ", "b"]) == {"a": 2, "b": 1}', b"    pass"
)

NO_STRIP = TEXT.replace(b"return word.strip().lower()", b"return word.lower()")
UPPER = TEXT.replace(b"return word.strip().lower()", b"return word.strip().upper()")
SLOWER = TEXT.replace(
    b"    return word.strip().lower()",
    b"    for _ in range(3000):\n        out = word.strip().lower()\n    return out",
)
NO_CACHE = TEXT.replace(
    b'"""Word counts."""\n', b'"""Word counts."""\n\nimport functools\n'
).replace(b"def normalise(", b"@functools.lru_cache(maxsize=0)\ndef normalise(")
TOTAL_FAST = TEXT.replace(
    b"return sum(v * v for v in values)", b"return sum([v * v for v in values])"
)


@pytest.fixture(autouse=True)
def _no_addopts(monkeypatch: pytest.MonkeyPatch) -> None:
    # the sandbox passes PYTEST_* settings on; ours are not the little projects'
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)


def _check(root: Path, rel: str, original: bytes, candidate: bytes, function: str, **kw: object):
    before = _snapshot(root)
    try:
        return check_behaviour(
            root,
            rel,
            original,
            candidate,
            function,
            timeout=60,
            deadline=time.monotonic() + 120,
            min_gain=0.05,
            **kw,  # type: ignore[arg-type]
        )
    finally:
        assert _snapshot(root) == before, "the user's files changed"


def _refusal(root: Path, candidate: bytes, function: str = "normalise") -> Rejected:
    with pytest.raises(Rejected) as caught:
        _check(root, "text.py", TEXT, candidate, function)
    return caught.value


@pytest.fixture
def text_project(tmp_path: Path) -> Path:
    return _project(tmp_path / "proj", {"text.py": TEXT, "tests/test_text.py": TEXT_TESTS})


def test_a_faster_fix_is_measured_on_replayed_calls(tmp_path: Path) -> None:
    root = _project(tmp_path / "proj", {"calc.py": FIB, "tests/test_calc.py": FIB_TESTS})
    result = _check(root, "calc.py", FIB, FIB_FAST, "fib", cache=tmp_path / "cache", digest="d1")
    assert result.checked and result.tests == [
        "tests/test_calc.py::test_small",
        "tests/test_calc.py::test_big",
    ]
    # the outermost calls only: fib(0)..fib(7) and fib(20), not the recursion inside them
    assert result.replayed == 9
    speed = result.speed
    assert speed is not None and speed.method == "replayed calls"
    assert speed.ratio > 10 and speed.low > 1.05  # ~20,000 calls against a loop
    assert result.headline.startswith("✓ behaviour: 2 tests + 9 replayed calls · ")
    assert "95 % CI" in result.headline
    # the instrumented run is cached by the workspace digest: the second check reuses it
    again = _check(root, "calc.py", FIB, FIB_FAST, "fib", cache=tmp_path / "cache", digest="d1")
    assert again.recording is not None and again.recording.cached
    assert "cached run" in again.lines[0]


def test_a_helper_reached_only_through_its_caller_is_tested(text_project: Path) -> None:
    err = _refusal(text_project, NO_STRIP)
    assert err.stage == "tests"
    assert "tests/test_text.py::test_score failed with the fix" in err.reason
    assert "assert" in getattr(err, "detail", "")  # the assertion goes back to the model


def test_a_wrong_result_no_test_asserts_is_caught_by_replay(tmp_path: Path) -> None:
    root = _project(tmp_path / "proj", {"text.py": TEXT, "tests/test_text.py": ONLY_SIZES})
    with pytest.raises(Rejected) as caught:
        _check(root, "text.py", TEXT, UPPER, "normalise")
    err = caught.value
    assert err.stage == "behaviour"
    assert "behaves differently on 3 of 3 recorded calls" in err.reason
    assert "normalise('x') returned 'X', the original 'x'" in err.reason
    assert "(recorded in tests/test_text.py::test_sizes)" in err.reason


def test_a_slower_fix_is_refused_with_its_figures(text_project: Path) -> None:
    err = _refusal(text_project, SLOWER)
    assert err.stage == "speed" and err.reason.startswith("the candidate is slower: ")
    assert "→" in err.reason and "on replayed calls" in err.reason


def test_a_cache_that_caches_nothing_is_refused(text_project: Path) -> None:
    err = _refusal(text_project, NO_CACHE)
    assert err.stage == "speed", err.reason
    assert "slower" in err.reason or "within noise" in err.reason or "minimum" in err.reason


def test_unpicklable_arguments_fall_back_to_timing_the_tests(text_project: Path) -> None:
    # `total` gets a generator: its calls cannot be recorded, so the tests themselves are timed
    try:
        result = _check(text_project, "text.py", TEXT, TOTAL_FAST, "total")
    except Rejected as err:  # a list comprehension may not beat noise on 4 items: also honest
        assert err.stage == "speed" and "on tests" in err.reason, err.reason
        return
    assert result.replayed == 0 and result.speed is not None and result.speed.method == "tests"
    assert any("1 arguments not picklable" in line for line in result.lines)


def test_a_function_no_test_reaches_is_not_checked(text_project: Path) -> None:
    tests = text_project / "tests" / "test_text.py"
    tests.write_text("def test_nothing():\n    pass\n")
    result = _check(text_project, "text.py", TEXT, UPPER, "normalise")
    assert not result.checked and result.speed is None and result.replayed == 0
    assert result.headline == "behaviour not checked: no test reaches normalise"
