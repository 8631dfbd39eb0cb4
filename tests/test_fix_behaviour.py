"""Behaviour and speed: candidates run against small real projects' tests in a sandbox copy."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from megawatt.fixes.sandbox import (
    Sandbox,
    SandboxError,
    find_python,
    run_tests,
)
from tests.test_sandbox import _running

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
def _no_addopts(monkeypatch: pytest.MonkeyPatch) -> None:
    # the sandbox passes PYTEST_* settings on; ours are not the little projects'
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


def test_hanging_candidate_times_out_and_its_processes_die(fib_project: Path) -> None:
    # the child is found by a word in its command line: in the sandbox's PID namespace
    # (bubblewrap) its pid means nothing out here, and it cannot write outside the copy
    marker = f"megawatt-hang-{os.getpid()}-{time.time_ns()}"
    hanging = FIB.replace(
        b"    if n < 2:\n        return n\n",
        b"    import subprocess, sys\n"
        + f"    subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)', {marker!r}])\n".encode()
        + b"    open('child-started', 'w').close()\n"
        + b"    while True:\n        pass\n",
    )
    start = time.monotonic()
    with Sandbox(fib_project) as sandbox:
        sandbox.write("calc.py", hanging)
        run = sandbox.run(["tests/test_calc.py"], timeout=5)
        started = sandbox.file("child-started").is_file()
    elapsed = time.monotonic() - start
    assert run.timed_out and run.status == "timed_out" and not run.passed
    assert run.reason == "the tests did not finish within 5 s"
    assert 5 <= run.duration < 60  # the timeout is respected, with room for a busy machine
    assert elapsed < 60
    assert started, run.output_tail
    # the whole process group is killed, not just pytest: its child goes too
    if os.path.isdir("/proc"):
        deadline = time.monotonic() + 10
        while _running(marker) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _running(marker)
    print(f"hang: timed out after {run.duration:.2f} s (timeout 5 s); {run.isolation}")


def test_no_test_ids_is_a_clear_result(fib_project: Path) -> None:
    run = run_tests(fib_project, "calc.py", FIB_FAST, [], timeout=5)
    assert run.status == "no_tests" and not run.passed and not run.timed_out
    assert run.reason == "no tests exercise the function"


def test_unknown_test_ids(fib_project: Path) -> None:
    with Sandbox(fib_project) as sandbox:
        missing = sandbox.run(["tests/test_nope.py"], timeout=60)
        assert missing.status == "error"
        assert missing.reason is not None and "tests/test_nope.py" in missing.reason
        no_match = sandbox.run(["tests/test_calc.py::test_absent"], timeout=60)
        assert no_match.status in ("error", "no_tests")


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
