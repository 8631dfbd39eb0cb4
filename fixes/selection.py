"""Which tests exercise a function, found by running them: one instrumented run of the project's
test suite with the original code (the recorder wraps the function as its module is imported),
cached by the digest of the workspace's sources and test configuration.

The same run is the original's baseline (each test's outcome) and the capture of the calls the
function received, which `replay` then plays against the original and the candidate.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path

from megawatt.fixes.sandbox import Sandbox

__all__ = ["PROBES", "Recording", "install_probe", "record_calls", "workspace_digest"]

PROBES = Path(__file__).resolve().parent / "probes"
RECORDER = "_megawatt_recorder"
CONFIG_FILES = ("pyproject.toml", "pytest.ini", "setup.cfg", "tox.ini", "conftest.py")
TAIL_CHARS = 3000

_file_digests: dict[str, tuple[int, int, str]] = {}  # path -> (mtime_ns, size, sha256)


def _file_digest(path: Path) -> str:
    st = path.stat()
    key = str(path)
    hit = _file_digests.get(key)
    if hit is not None and hit[0] == st.st_mtime_ns and hit[1] == st.st_size:
        return hit[2]
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    _file_digests[key] = (st.st_mtime_ns, st.st_size, digest)
    return digest


def workspace_digest(root: Path, files: list[Path], overrides: dict[str, bytes]) -> str:
    """One digest of every source and test file and the test configuration: a recording (and a
    fix validated with it) stays valid exactly as long as this does. Files are re-read only when
    their size or mtime change."""
    h = hashlib.sha256()
    paths = sorted(set(files) | {root / name for name in CONFIG_FILES if (root / name).is_file()})
    for path in paths:
        text = overrides.get(str(path))
        try:
            digest = hashlib.sha256(text).hexdigest() if text is not None else _file_digest(path)
        except OSError:
            continue
        h.update(f"{path.relative_to(root).as_posix()}\0{digest}\n".encode())
    for probe in sorted(PROBES.glob("*.py")):
        h.update(_file_digest(probe).encode())  # a new recorder records differently
    return h.hexdigest()


@dataclass
class Recording:
    """What the instrumented run saw. `outcomes` maps each test to its outcome with the original
    ("passed", "failed", "skipped", "error"); `reached` lists the tests that called the function."""

    status: str  # "complete", "timed_out", "cancelled", "error"
    outcomes: dict[str, str] = field(default_factory=dict)
    reached: list[str] = field(default_factory=list)
    calls: int = 0
    module: str | None = None
    unrecorded: dict[str, int] = field(default_factory=dict)
    problem: str = ""  # why the function could not be wrapped, or the run failed
    duration: float = 0.0
    output_tail: str = ""
    calls_path: str = ""  # the recorded calls (length-prefixed pickles), "" when none
    cached: bool = False

    @property
    def selected(self) -> list[str]:
        """The tests that reach the function and pass with the original: those can judge it."""
        return [t for t in self.reached if self.outcomes.get(t) == "passed"]

    @property
    def failing(self) -> list[str]:
        return [t for t in self.reached if self.outcomes.get(t) not in (None, "passed", "skipped")]


def install_probe(sandbox: Sandbox, name: str, as_module: str | None = None) -> Path:
    """Put one of the probe scripts in the sandbox's scratch folder (on its `sys.path`)."""
    target = sandbox.scratch(f"{as_module or name}.py")
    shutil.copyfile(PROBES / f"{name}.py", target)
    return target


def _parse(events_path: Path, rec: Recording) -> None:
    try:
        lines = events_path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return
    for line in lines:
        try:
            event = json.loads(line)
        except ValueError:
            continue  # a line cut by the kill at the deadline
        kind = event.get("kind")
        if kind == "reached" and event.get("test") and event["test"] not in rec.reached:
            rec.reached.append(event["test"])
        elif kind == "outcome":
            test, outcome = event.get("test", ""), event.get("outcome", "")
            if event.get("when") != "call" and outcome == "failed":
                outcome = "error"  # setup or teardown
            if rec.outcomes.get(test) in (None, "passed"):
                rec.outcomes[test] = outcome
        elif kind == "finish":
            rec.module = event.get("module")
            rec.calls = int(event.get("calls") or 0)
            rec.unrecorded = dict(event.get("unrecorded") or {})
            # not patched and no problem: no test imported the module, so none reaches it
            if not event.get("patched") and event.get("problem"):
                rec.problem = event["problem"]


def record_calls(
    sandbox: Sandbox,
    rel_path: str,
    function: str,
    timeout: float,
    *,
    cache: Path | None = None,
    digest: str = "",
    cancel: threading.Event | None = None,
    max_calls: int = 200,
) -> Recording:
    """Run the project's whole test suite once in `sandbox` (holding the original), recording
    which tests reach `function` of `rel_path` and the calls it receives."""
    folder = cache / digest[:40] if cache is not None and digest else None
    key = f"{rel_path}\0{function}"
    if folder is not None:
        hit = _load(folder, key)
        if hit is not None:
            return hit
    out = sandbox.scratch("recording")
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    install_probe(sandbox, "recorder", RECORDER)
    env = sandbox.environment()
    env.update(
        MEGAWATT_RECORD_FILE=str(sandbox.file(rel_path)),
        MEGAWATT_RECORD_FUNCTION=function,
        MEGAWATT_RECORD_OUT=str(out),
        MEGAWATT_RECORD_MAX_CALLS=str(max_calls),
    )
    argv = [sandbox.python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", RECORDER]
    done = sandbox.execute(argv, timeout, env=env, cancel=cancel)
    rec = Recording(status="complete", duration=done.duration)
    if done.returncode is None:
        rec.status, rec.problem = "error", done.reason
        return rec
    _parse(out / "events.jsonl", rec)
    if done.cancelled:
        rec.status = "cancelled"
    elif done.timed_out:
        rec.status = "timed_out"
        rec.problem = rec.problem or f"the test suite did not finish within {timeout:g} s"
    elif not rec.outcomes and done.returncode not in (0, 1, 5):
        rec.status = "error"
        rec.problem = rec.problem or f"pytest ended with exit status {done.returncode}"
    if rec.status != "complete" or rec.problem:
        rec.output_tail = done.output[-TAIL_CHARS:]
    calls = out / "calls.bin"
    if calls.is_file():
        rec.calls_path = str(calls)
    if folder is not None and rec.status == "complete":
        _store(folder, key, rec)
        if rec.calls_path:
            rec.calls_path = str(folder / _calls_name(key))
    return rec


def _calls_name(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:16] + ".calls"


def _load(folder: Path, key: str) -> Recording | None:
    try:
        data = json.loads((folder / "recordings.json").read_text(encoding="utf-8"))[key]
        rec = Recording(**data)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if rec.calls_path and not Path(rec.calls_path).is_file():
        return None
    rec.cached = True
    return rec


def _store(folder: Path, key: str, rec: Recording) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        index = folder / "recordings.json"
        try:
            known = json.loads(index.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            known = {}
        data = asdict(rec)
        if rec.calls_path:
            kept = folder / _calls_name(key)
            shutil.copyfile(rec.calls_path, kept)
            os.chmod(kept, 0o600)  # recorded arguments are the project's data
            data["calls_path"] = str(kept)
        known[key] = data
        tmp = index.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(known, f)
        os.replace(tmp, index)
    except OSError:
        pass  # the cache saves time; the verdict does not depend on it
