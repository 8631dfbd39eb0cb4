"""Behaviour and speed: candidates run against small real projects' tests in a sandbox copy."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from megawatt.fixes.behaviour import Speed, measure_speed, summary, validate
from megawatt.fixes.sandbox import (
    Counts,
    Sandbox,
    SandboxError,
    TestRun,
    find_python,
    run_tests,
)

FIB = b'''"""Numbers."""


def fib(n: int) -> int:
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


def unused(n: int) -> int:
    return n * 2
'''

FIB_FAST = FIB.replace(
    b"""    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)
""",
    b"""    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a
""",
)

FIB_BROKEN = FIB_FAST.replace(b"a, b = b, a + b", b"a, b = b, a - b")

FIB_TESTS = b"""from calc import fib


def test_small():
    assert [fib(i) for i in range(8)] == [0, 1, 1, 2, 3, 5, 8, 13]


def test_big():
    assert fib(20) == 6765
"""

CACHE = b'''"""Two classes with a `lookup` method each: the profile must tell them apart."""


class Other:
    def __init__(self) -> None:
        self.items = list(range(3000))

    def lookup(self, key: int) -> bool:
        found = False
        for item in self.items:
            if item == key:
                found = True
        return found


class Cache:
    def __init__(self, pairs: list[tuple[int, int]]) -> None:
        self.pairs = pairs

    def lookup(self, key: int) -> int | None:
        table = {}
        for k, v in self.pairs:
            table[k] = v
        return table.get(key)
'''

CACHE_FAST = CACHE.replace(
    b"""        self.pairs = pairs

    def lookup(self, key: int) -> int | None:
        table = {}
        for k, v in self.pairs:
            table[k] = v
        return table.get(key)
""",
    b"""        self.pairs = pairs
        self.table = dict(pairs)

    def lookup(self, key: int) -> int | None:
        return self.table.get(key)
""",
)

CACHE_TESTS = b"""from cache import Cache, Other


def test_lookup():
    cache = Cache([(i, i * i) for i in range(2000)])
    assert [cache.lookup(k) for k in range(0, 4000, 40)] == [
        k * k if k < 2000 else None for k in range(0, 4000, 40)
    ]


def test_other():
    other = Other()
    assert all(other.lookup(k) for k in range(0, 3000, 5))
"""


@pytest.fixture(autouse=True)
def _quick_pytest(monkeypatch: pytest.MonkeyPatch) -> None:
    # the sandboxed runs inherit our environment: without the dev venv's plugins (asyncio, lsp…)
    # each pytest starts in a fraction of the time, and the little projects need none of them
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)


def _snapshot(root: Path) -> dict[str, bytes]:
    """Every entry below root: file bytes, symlink targets, folders."""
    out: dict[str, bytes] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath, name)
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                out[rel] = b"-> " + os.fsencode(os.readlink(path))
            elif path.is_file():
                out[rel] = path.read_bytes()
            else:
                out[rel] = b"<dir>"
    return out


def _project(root: Path, files: dict[str, bytes]) -> Path:
    for rel, data in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    # things a workspace holds that the copy must leave alone (and never touch)
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_bytes(b"ref: refs/heads/main\n")
    (root / "__pycache__").mkdir()
    (root / "__pycache__" / "calc.cpython-311.pyc").write_bytes(b"\0stale")
    return root


@pytest.fixture
def fib_project(tmp_path: Path) -> Iterator[Path]:
    root = _project(tmp_path / "proj", {"calc.py": FIB, "tests/test_calc.py": FIB_TESTS})
    before = _snapshot(root)
    yield root
    assert _snapshot(root) == before, "the user's files changed"


def test_faster_candidate_passes_and_is_measured(fib_project: Path) -> None:
    result = validate(
        fib_project, "calc.py", FIB, FIB_FAST, "fib", ["tests/test_calc.py"], timeout=60
    )
    assert result.tests.status == "passed", result.tests.output_tail
    assert result.tests.counts == Counts(passed=2, collected=2)
    assert result.baseline is None
    speed = result.speed
    assert speed is not None and speed.ratio is not None, speed
    assert speed.note is None
    assert 1 <= speed.rounds <= 7
    assert len(speed.before_samples) == len(speed.after_samples) == speed.rounds
    # naive fib(20) is ~20,000 calls, the loop a handful: orders of magnitude, checked loosely
    assert speed.ratio > 1.5, speed
    assert result.summary.startswith("✓ 2 tests · ")
    assert "faster in tests" in result.summary
    print(f"fib: {speed}; tests {result.tests.duration:.2f} s; {result.summary}")


def test_method_is_told_apart_from_a_namesake(tmp_path: Path) -> None:
    root = _project(tmp_path / "proj", {"cache.py": CACHE, "tests/test_cache.py": CACHE_TESTS})
    before = _snapshot(root)
    with Sandbox(root) as sandbox:
        sandbox.write("cache.py", CACHE_FAST)
        run = sandbox.run(["tests/test_cache.py"], timeout=60)
        assert run.passed, run.output_tail
        speed = measure_speed(
            sandbox,
            "cache.py",
            CACHE,
            CACHE_FAST,
            "Cache.lookup",
            ["tests/test_cache.py"],
            timeout=60,
            max_rounds=3,
        )
        # the sandbox is left as it was found
        assert sandbox.read("cache.py") == CACHE_FAST
    # Other.lookup takes longer than Cache.lookup and is unchanged: had the profile matched it
    # by name only, the ratio would be about 1
    assert speed.ratio is not None and speed.ratio > 1.5, speed
    assert speed.rounds == 3
    assert _snapshot(root) == before
    print(f"Cache.lookup: {speed}; tests {run.duration:.2f} s")


def test_broken_candidate_fails_naming_the_test(fib_project: Path) -> None:
    result = validate(
        fib_project, "calc.py", FIB, FIB_BROKEN, "fib", ["tests/test_calc.py"], timeout=60
    )
    run = result.tests
    assert run.status == "failed" and not run.passed and not run.timed_out
    assert run.counts.failed == 1 and run.counts.collected == 2
    assert run.failures == ["tests/test_calc.py::test_small"]
    assert "test_small" in run.output_tail
    assert "stopping after 1 failures" in run.output_tail  # -x
    assert result.speed is None
    # the original passes the same tests: the candidate is to blame, not the tests
    assert result.baseline is not None and result.baseline.passed
    assert not result.inconclusive
    assert result.summary == "✗ 1 of 2 tests failed (tests/test_calc.py::test_small)"
    print(f"broken: {result.summary}; {run.duration:.2f} s")


def test_tests_failing_with_the_original_too_are_inconclusive(tmp_path: Path) -> None:
    bad_tests = FIB_TESTS.replace(b"== 6765", b"== 6766")
    root = _project(tmp_path / "proj", {"calc.py": FIB, "tests/test_calc.py": bad_tests})
    result = validate(root, "calc.py", FIB, FIB_FAST, "fib", ["tests/test_calc.py"], timeout=60)
    assert result.tests.status == "failed"
    assert result.inconclusive
    assert result.summary == (
        "? the tests fail with the original code too (tests/test_calc.py::test_big)"
    )


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_hanging_candidate_times_out_and_its_processes_die(
    fib_project: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    pid_file = tmp_path_factory.mktemp("hang") / "child.pid"
    hanging = FIB.replace(
        b"    if n < 2:\n        return n\n",
        b"    import subprocess, sys\n"
        b"    child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)'])\n"
        + f"    open({str(pid_file)!r}, 'w').write(str(child.pid))\n".encode()
        + b"    while True:\n        pass\n",
    )
    start = time.monotonic()
    run = run_tests(fib_project, "calc.py", hanging, ["tests/test_calc.py"], timeout=5)
    elapsed = time.monotonic() - start
    assert run.timed_out and run.status == "timed_out" and not run.passed
    assert run.reason == "the tests did not finish within 5 s"
    assert summary(run) == "✗ the tests did not finish within 5 s"
    assert 5 <= run.duration < 60  # the timeout is respected, with room for a busy machine
    assert elapsed < 60
    # the whole process group is killed, not just pytest: its child goes too
    pid = int(pid_file.read_text())
    if os.path.isdir("/proc"):
        deadline = time.monotonic() + 10
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(pid)
    print(f"hang: timed out after {run.duration:.2f} s (timeout 5 s)")


def test_no_test_ids_is_a_clear_result(fib_project: Path) -> None:
    run = run_tests(fib_project, "calc.py", FIB_FAST, [], timeout=5)
    assert run.status == "no_tests" and not run.passed and not run.timed_out
    assert summary(run) == "– not tested: no tests exercise the function"
    result = validate(fib_project, "calc.py", FIB, FIB_FAST, "fib", [], timeout=5)
    assert result.summary == "– not tested: no tests exercise the function"
    with Sandbox(fib_project) as sandbox:
        speed = measure_speed(sandbox, "calc.py", FIB, FIB_FAST, "fib", [], timeout=5)
    assert speed.ratio is None and speed.rounds == 0
    assert speed.note == "no tests exercise the function"


def test_unknown_test_id_and_unreached_function(fib_project: Path) -> None:
    with Sandbox(fib_project) as sandbox:
        missing = sandbox.run(["tests/test_nope.py"], timeout=60)
        assert missing.status == "error"
        assert missing.reason is not None and "tests/test_nope.py" in missing.reason
        no_match = sandbox.run(["tests/test_calc.py::test_absent"], timeout=60)
        assert no_match.status in ("error", "no_tests")

        speed = measure_speed(
            sandbox, "calc.py", FIB, FIB, "unused", ["tests/test_calc.py"], timeout=60
        )
    assert speed.ratio is None and speed.note == "function not reached"
    tests = TestRun("passed", Counts(passed=2, collected=2), 1.0)
    assert summary(tests, speed) == "✓ 2 tests · speed not measured: function not reached"


def test_tests_importing_the_users_own_file_are_caught(tmp_path: Path) -> None:
    """An editable install or a conftest sys.path hack would test the original, not the copy."""
    root = tmp_path / "proj"
    conftest = f"import sys\nsys.path.insert(0, {str(root)!r})\n".encode()
    _project(root, {"calc.py": FIB, "tests/test_calc.py": FIB_TESTS, "tests/conftest.py": conftest})
    run = run_tests(root, "calc.py", FIB_BROKEN, ["tests/test_calc.py"], timeout=60)
    assert run.status == "error", run
    assert run.reason is not None and "not the sandbox copy" in run.reason
    assert str(root / "calc.py") in run.reason


def test_copy_leaves_out_caches_venvs_and_symlinks(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "data.txt").write_text("outside")
    _project(
        root,
        {
            "pkg/mod.py": b"x = 1\n",
            "pkg/data.json": b"{}",
            "node_modules/left/index.js": b"",
            ".megawatt/profiles/p.pstats": b"",
            "env/pyvenv.cfg": b"home = /usr\n",
            "env/lib/site.py": b"",
            "big.bin": b"x" * 5000,
        },
    )
    (root / "link_file.py").symlink_to(root / "pkg" / "mod.py")
    (root / "link_out").symlink_to(outside)
    (root / "link_loop").symlink_to(root)
    os.mkfifo(root / "fifo")
    before = _snapshot(root)
    with Sandbox(root, max_file_bytes=4096) as sandbox:
        copy = sandbox.path
        assert copy != root and not str(copy).startswith(str(root))
        copied = {p.relative_to(copy).as_posix() for p in copy.rglob("*")}
        assert copied == {"pkg", "pkg/mod.py", "pkg/data.json", "link_file.py"}
        assert not any(p.is_symlink() for p in copy.rglob("*"))
        assert (copy / "link_file.py").read_bytes() == b"x = 1\n"
        assert any(s.startswith("big.bin") for s in sandbox.skipped)
        assert any(s.startswith("link_out") for s in sandbox.skipped)
        assert any(s.startswith("link_loop") for s in sandbox.skipped)

        sandbox.write("pkg/mod.py", b"x = 2\n")
        sandbox.write(str(root / "pkg" / "new.py"), b"y = 1\n")  # absolute, inside the workspace
        assert sandbox.read("pkg/new.py") == b"y = 1\n"
        for bad in ("../escape.py", "/etc/passwd", ""):
            with pytest.raises(SandboxError):
                sandbox.write(bad, b"")
        with pytest.raises(ValueError):
            sandbox.run(["--help"], timeout=5)
    assert not copy.exists()
    assert _snapshot(root) == before
    assert (root / "pkg" / "mod.py").read_bytes() == b"x = 1\n"


def test_temporary_folder_inside_the_workspace_is_not_copied_into_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _project(tmp_path / "ws", {"m.py": b"x = 1\n", "tmp/.keep": b""})
    monkeypatch.setattr(tempfile, "tempdir", str(root / "tmp"))
    before = _snapshot(root)
    with Sandbox(root) as sandbox:
        assert sandbox.path.is_relative_to(root / "tmp")
        copied = {p.relative_to(sandbox.path).as_posix() for p in sandbox.path.rglob("*")}
        assert copied == {"m.py", "tmp", "tmp/.keep"}
    assert _snapshot(root) == before


def test_workspace_interpreter(tmp_path: Path) -> None:
    assert find_python(tmp_path) == sys.executable
    python = tmp_path / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text("#!/bin/sh\n")
    python.chmod(0o755)
    assert find_python(tmp_path) == str(python)
    run = run_tests(tmp_path, "m.py", b"", ["tests"], timeout=5, python="/no/such/python")
    assert run.status == "error" and run.reason is not None
    assert run.reason.startswith("cannot start /no/such/python")


def test_summary_wording() -> None:
    ok = TestRun("passed", Counts(passed=12, collected=12), 1.0)
    one = TestRun("passed", Counts(passed=1, collected=1), 1.0)

    def speed(ratio: float | None, stable: bool = True, note: str | None = None) -> Speed:
        return Speed(1.0, 1.0, ratio, 3, stable, note)

    assert summary(ok) == "✓ 12 tests"
    assert summary(one) == "✓ 1 test"
    assert summary(ok, speed(3.14)) == "✓ 12 tests · 3.1× faster in tests"
    assert summary(ok, speed(2596.0)) == "✓ 12 tests · 2,596× faster in tests"
    assert summary(ok, speed(3.14, stable=False)) == "✓ 12 tests · ~3.1× faster in tests"
    assert summary(ok, speed(0.5)) == "✓ 12 tests · 2.0× slower in tests"
    assert summary(ok, speed(1.01)) == "✓ 12 tests · no measurable change in tests"
    assert (
        summary(ok, speed(None, note="function not reached"))
        == "✓ 12 tests · speed not measured: function not reached"
    )
    failed = TestRun("failed", Counts(passed=3, failed=1, collected=12), 1.0, failures=["t::a"])
    assert summary(failed) == "✗ 1 of 12 tests failed (t::a)"
    error = TestRun("error", Counts(), 0.0, reason="pytest is not installed for python3")
    assert summary(error) == "✗ tests could not run: pytest is not installed for python3"
