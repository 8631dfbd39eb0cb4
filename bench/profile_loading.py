"""Profile loading: load + rank time and peak memory for a large real profile of each format.

    python -m bench.profile_loading [--quick] [--json FILE] [--cache-dir DIR] [--regenerate]

The profiles are recorded here by the real profilers (never committed) and kept in a cache
folder (`~/.cache/megawatt-bench/profiles/<python>`), so only the first run pays for them
(about 12 minutes); a file whose recording is missing or stale is recorded again.
The workload is a chunk of the standard library's own test suite, run with `unittest`:

* py-spy: a live recording of 30 test modules at 5 kHz (py-spy pauses the program for each
  sample, so the ~45 s run stretches to 6-20 min; py-spy stops it after 7 min, with about 2
  million samples here). The measured file is its first million samples, as if py-spy had been
  stopped there (`pyspy.live.json` keeps the whole recording). Should a machine yield fewer
  than a million, the real samples are repeated to a million, and the table says so.
* cProfile: the same 30 modules (~19,000 distinct functions, ~2 min under cProfile).
* pyinstrument: 12 of those modules (with the others in the run, pyinstrument stops sampling
  part-way) at a 0.5 ms interval: the raw session (`-r pyisession`, every sample) and the
  JSON call tree rendered from that session with nothing folded away.
* Scalene: the same 12 modules with `--profile-all`, memory profiling on (`test_ast`, left out,
  wedges it).
* extras, from the py-spy recording: the same samples as collapsed stacks (py-spy's `raw`
  syntax) and as pprof (identical stacks merged, as pprof writers do).

Each load runs in a fresh interpreter: imports first (not timed), then `load(path)` +
`top(20, sort="total")` timed; for the cProfile file the standard library's
`pstats.Stats(path)` + `sort_stats("cumulative")` runs the same way, interleaved round by round
with Megawatt's (the order alternating), so drift hits both alike. Memory, per process, as the
child reports it from /proc/self/status: the RSS after the imports (base), the process's peak
RSS, and what load + rank adds to the base (the child resets its RSS high-water mark after the
imports and reads it after the load).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PYTHON_TAG = f"py{sys.version_info.major}.{sys.version_info.minor}"
GENERATOR_VERSION = 4  # bump when a recording changes, so cached files are recorded again

PYSPY_TARGET_SAMPLES = 1_000_000
PYSPY_TARGET_SECONDS = 2.0
PYSPY_RATE = 5000
PYSPY_MAX_SECONDS = 420  # blocking sampling stretches the suite to 6-20 min; 7 min is plenty

# A chunk of the standard library's tests: thousands of distinct pure-Python functions.
SUITE = (
    "test.test_json", "test.test_email", "test.test_argparse", "test.test_dataclasses",
    "test.test_typing", "test.test_statistics", "test.test_difflib", "test.test_textwrap",
    "test.test_enum", "test.test_inspect", "test.test_configparser", "test.test_csv",
    "test.test_tomllib", "test.test_ast", "test.test_tokenize", "test.test_fractions",
    "test.test_collections", "test.test_functools", "test.test_pprint", "test.test_copy",
    "test.test_calendar", "test.test_datetime", "test.test_optparse", "test.test_html",
    "test.test_htmlparser", "test.test_xml_etree", "test.test_minidom", "test.test_urlparse",
    "test.test_string", "test.test_unittest",
)  # fmt: skip
# For pyinstrument and Scalene: modules pyinstrument records to the end (with the others in the
# run it stops sampling part-way; test_datetime alone would make a 440 MB session) and Scalene
# does not hang on (test_ast wedges it).
TRACED_SUITE = (
    "test.test_json", "test.test_email", "test.test_argparse", "test.test_statistics",
    "test.test_difflib", "test.test_enum", "test.test_inspect", "test.test_configparser",
    "test.test_collections", "test.test_calendar", "test.test_urlparse", "test.test_unittest",
)  # fmt: skip

_DRIVER = """\
import sys
import unittest

unittest.main(module=None, argv=["suite", "-q", *sys.argv[1:]], exit=False)
"""


@dataclass(frozen=True)
class Case:
    label: str  # the row's name
    module: str  # Megawatt's loader module, imported before the clock starts
    file: str  # file name in the cache folder
    step: str  # the recording that makes it
    extra: bool = False  # not one of the spec's formats


CASES = (
    Case("py-spy", "speedscope", "pyspy.speedscope.json", "py-spy"),
    Case("cProfile", "pstats_format", "cprofile.pstats", "cProfile"),
    Case("pyinstrument", "pyinstrument", "pyinstrument.json", "pyinstrument"),
    Case("pyinstrument session", "pyinstrument", "pyinstrument.pyisession", "pyinstrument"),
    Case("Scalene", "scalene", "scalene.json", "Scalene"),
    Case("collapsed (py-spy)", "collapsed", "pyspy.collapsed.txt", "py-spy", extra=True),
    Case("pprof (py-spy)", "pprof", "pyspy.pb.gz", "py-spy", extra=True),
)

# -- generation ------------------------------------------------------------------------------


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "megawatt-bench" / "profiles" / PYTHON_TAG


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _record(cmd: list[str], folder: Path, log_name: str, timeout: float) -> None:
    """Run a profiler in a scratch folder (the tests write files into their cwd).

    The profiler runs in its own process group, so a hung recording (Scalene wedges on some
    test modules, test_ast among them) is ended with everything it started.
    """
    log = folder / log_name
    with tempfile.TemporaryDirectory(dir=folder) as scratch, log.open("w") as out:
        proc = subprocess.Popen(
            cmd, cwd=scratch, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise RuntimeError(
                f"{Path(cmd[0]).name} did not finish in {timeout:.0f} s (log: {log})"
            ) from None
    if code != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
        raise RuntimeError(f"{Path(cmd[0]).name} exited {code} (log: {log}):\n{tail}")


def _tool(name: str) -> str:
    found = BIN / name
    if found.exists():
        return str(found)
    which = shutil.which(name)
    if which is None:
        raise RuntimeError(f"{name} is needed to record its profile: pip install -e '.[test]'")
    return which


def _tmp(final: Path) -> Path:
    # the final name stays the tail: Scalene appends ".json" to an output name without it
    return final.with_name(f".{os.getpid()}.tmp.{final.name}")


def _publish(tmp: Path, final: Path) -> None:
    os.replace(tmp, final)  # a run cut short never leaves half a file under the final name


def _mb(path: Path) -> str:
    return f"{path.stat().st_size / 1024**2:.0f} MB"


def gen_cprofile(folder: Path, driver: Path) -> dict[str, dict[str, Any]]:
    import pstats

    out = folder / "cprofile.pstats"
    tmp = _tmp(out)
    _say(f"  cProfile: {len(SUITE)} stdlib test modules (about 2 min) …")
    _record([sys.executable, "-m", "cProfile", "-o", str(tmp), str(driver), *SUITE], folder,
            "cprofile.log", timeout=1800)  # fmt: skip
    stats = pstats.Stats(str(tmp))
    calls = sum(v[1] for v in stats.stats.values())  # type: ignore[attr-defined]
    functions = len(stats.stats)  # type: ignore[attr-defined]
    _publish(tmp, out)
    note = f"{functions:,} functions, {calls / 1e6:.1f}M calls"
    return {out.name: {"functions": functions, "calls": calls, "content": note}}


def gen_pyspy(folder: Path, driver: Path) -> dict[str, dict[str, Any]]:
    live = folder / "pyspy.live.json"  # py-spy's own file, kept: the others derive from it
    if not live.exists():
        raw = _tmp(live)
        _say(
            f"  py-spy: {len(SUITE)} stdlib test modules at {PYSPY_RATE} Hz "
            f"(at most {PYSPY_MAX_SECONDS // 60} min) …"
        )
        _record([_tool("py-spy"), "record", "-r", str(PYSPY_RATE), "-d", str(PYSPY_MAX_SECONDS),
                 "-f", "speedscope", "-o", str(raw), "--", sys.executable, str(driver), *SUITE],
                folder, "pyspy.log", timeout=PYSPY_MAX_SECONDS + 600)  # fmt: skip
        _publish(raw, live)
    doc = json.loads(live.read_bytes())
    recorded = sum(len(p["samples"]) for p in doc["profiles"])
    # Exactly the target, so the figure answers "a million samples in under 2 s" on any machine
    # (how many samples a blocking recording of the suite yields depends on the machine's load).
    main_thread = max(doc["profiles"], key=lambda p: len(p["samples"]))
    if not main_thread["samples"]:
        raise RuntimeError(f"py-spy recorded no samples (log: {folder / 'pyspy.log'})")
    keep = PYSPY_TARGET_SAMPLES - (recorded - len(main_thread["samples"]))
    if recorded >= PYSPY_TARGET_SAMPLES:  # the main thread's first `keep` samples
        how = (f"the first {PYSPY_TARGET_SAMPLES:,} of {recorded:,} samples of a live "
               f"recording (a recording stopped there)")  # fmt: skip
        main_thread["samples"] = main_thread["samples"][:keep]
        main_thread["weights"] = main_thread["weights"][:keep]
    else:  # repeat the main thread's real samples until there are a million
        reps = -(-keep // len(main_thread["samples"]))
        main_thread["samples"] = (main_thread["samples"] * reps)[:keep]
        main_thread["weights"] = (main_thread["weights"] * reps)[:keep]
        how = (f"NOT a live million: {recorded:,} live samples repeated to "
               f"{PYSPY_TARGET_SAMPLES:,} (×{reps})")  # fmt: skip
    main_thread["endValue"] = main_thread["startValue"] + sum(main_thread["weights"])
    out = folder / "pyspy.speedscope.json"
    tmp = _tmp(out)
    tmp.write_text(json.dumps(doc))
    _publish(tmp, out)
    samples = sum(len(p["samples"]) for p in doc["profiles"])
    frames = len({i for p in doc["profiles"] for stack in p["samples"] for i in stack})
    content = f"{samples:,} samples, {frames:,} frames, {len(doc['profiles'])} threads"
    _say(f"    {how}; {_mb(out)}")
    meta: dict[str, dict[str, Any]] = {
        out.name: {
            "samples": samples,
            "frames": frames,
            "content": content,
            "how": how,
            "live_samples": recorded,
        }
    }
    stacks = Counter[tuple[int, ...]]()
    seconds = Counter[tuple[int, ...]]()
    for prof in doc["profiles"]:
        for stack, weight in zip(prof["samples"], prof["weights"], strict=True):
            key = tuple(stack)
            stacks[key] += 1
            seconds[key] += weight
    meta.update(_write_collapsed(folder, doc, stacks, how))
    meta.update(_write_pprof(folder, doc, stacks, seconds, how))
    return meta


def _write_collapsed(
    folder: Path, doc: dict[str, Any], stacks: Counter[tuple[int, ...]], how: str
) -> dict[str, dict[str, Any]]:
    """The recording in py-spy's `-f raw --full-filenames` syntax: `name (file:line);… COUNT`."""
    frames = [f"{fr['name']} ({fr.get('file', '?')}:{fr.get('line') or 0})"
              for fr in doc["shared"]["frames"]]  # fmt: skip
    out = folder / "pyspy.collapsed.txt"
    tmp = _tmp(out)
    with tmp.open("w") as f:
        for stack, count in stacks.items():
            f.write(f"{';'.join(frames[i] for i in stack)} {count}\n")
    _publish(tmp, out)
    samples = sum(stacks.values())
    content = f"{samples:,} samples, {len(stacks):,} stacks"
    return {out.name: {"samples": samples, "stacks": len(stacks), "content": content, "how": how}}


def _write_pprof(
    folder: Path,
    doc: dict[str, Any],
    stacks: Counter[tuple[int, ...]],
    seconds: Counter[tuple[int, ...]],
    how: str,
) -> dict[str, dict[str, Any]]:
    """The recording as a gzipped pprof: one sample per distinct stack (count, CPU ns)."""
    from megawatt.profiles.pprof_schema import profile_class

    msg = profile_class()()
    strings = {"": 0}

    def s(text: str) -> int:
        return strings.setdefault(text, len(strings))

    for kind, unit in (("samples", "count"), ("cpu", "nanoseconds")):
        vt = msg.sample_type.add()
        vt.type, vt.unit = s(kind), s(unit)
    msg.period_type.type, msg.period_type.unit = s("cpu"), s("nanoseconds")
    msg.period = int(1e9 / PYSPY_RATE)
    functions: dict[tuple[str, str], int] = {}
    locations: dict[int, int] = {}  # speedscope frame index → location id
    frames = doc["shared"]["frames"]
    for stack, count in stacks.items():
        sample = msg.sample.add()
        for idx in reversed(stack):  # pprof lists the leaf first
            loc = locations.get(idx)
            if loc is None:
                fr = frames[idx]
                fkey = (fr.get("file") or "", fr["name"])
                fid = functions.get(fkey)
                if fid is None:
                    fid = functions[fkey] = len(functions) + 1
                    fn = msg.function.add()
                    fn.id, fn.name, fn.filename = fid, s(fkey[1]), s(fkey[0])
                loc = locations[idx] = len(locations) + 1
                lo = msg.location.add()
                lo.id = loc
                line = lo.line.add()
                line.function_id, line.line = fid, fr.get("line") or 0
            sample.location_id.append(loc)
        sample.value.extend([count, round(seconds[stack] * 1e9)])
    msg.string_table.extend(strings)
    out = folder / "pyspy.pb.gz"
    tmp = _tmp(out)
    tmp.write_bytes(gzip.compress(msg.SerializeToString()))
    _publish(tmp, out)
    samples = sum(stacks.values())
    content = f"{samples:,} samples, {len(stacks):,} stacks"
    return {out.name: {"samples": samples, "stacks": len(stacks), "content": content, "how": how}}


def gen_pyinstrument(folder: Path, driver: Path) -> dict[str, dict[str, Any]]:
    session = folder / "pyinstrument.pyisession"
    tmp = _tmp(session)
    _say(f"  pyinstrument: {len(TRACED_SUITE)} stdlib test modules at 0.5 ms (about 1 min) …")
    _record([_tool("pyinstrument"), "-i", "0.0005", "-r", "pyisession", "-o", str(tmp),
             str(driver), *TRACED_SUITE], folder, "pyinstrument.log", timeout=1200)  # fmt: skip
    doc = json.loads(tmp.read_bytes())
    covered = sum(t for _, t in doc["frame_records"]) / max(doc["duration"], 1e-9)
    if covered < 0.9:
        _say(f"    warning: the samples cover only {covered:.0%} of the run")
    samples = len(doc["frame_records"])
    _publish(tmp, session)
    tree = folder / "pyinstrument.json"
    tmp = _tmp(tree)
    # the whole call tree: nothing hidden, no frame folded into its parent for being small
    _record([_tool("pyinstrument"), "--load", str(session), "-r", "json", "--show-all", "-p",
             "processor_options.filter_threshold=0", "-o", str(tmp)], folder,
            "pyinstrument-json.log", timeout=600)  # fmt: skip
    nodes, todo = 0, [json.loads(tmp.read_bytes())["root_frame"]]
    while todo:
        node = todo.pop()
        nodes += 1
        todo.extend(node.get("children") or ())
    _publish(tmp, tree)
    _say(f"    {samples:,} samples over {doc['duration']:.0f} s; {_mb(session)}, tree {_mb(tree)}")
    return {
        session.name: {"samples": samples, "covered": covered,
                       "content": f"{samples:,} samples ({covered:.0%} of the run)"},
        tree.name: {"samples": samples, "nodes": nodes,
                    "content": f"{nodes:,} tree nodes from {samples:,} samples"},
    }  # fmt: skip


def gen_scalene(folder: Path, driver: Path) -> dict[str, dict[str, Any]]:
    out = folder / "scalene.json"
    tmp = _tmp(out)
    _say(f"  Scalene: {len(TRACED_SUITE)} stdlib test modules, --profile-all (about 1.5 min) …")
    _record([_tool("scalene"), "run", "--profile-all", "--profile-system-libraries",
             "--cpu-percent-threshold", "0", "--cpu-sampling-rate", "0.003", "-o", str(tmp),
             str(driver), "---", *TRACED_SUITE], folder, "scalene.log", timeout=1200)  # fmt: skip
    doc = json.loads(tmp.read_bytes())
    files = doc["files"]
    lines = sum(len(f.get("lines") or ()) for f in files.values())
    functions = sum(len(f.get("functions") or ()) for f in files.values())
    stacks = len(doc.get("stacks") or ())
    _publish(tmp, out)
    _say(f"    {len(files)} files, {lines:,} lines; {_mb(out)}")
    content = f"{len(files)} files, {lines:,} lines, {functions:,} functions, {stacks:,} stacks"
    return {out.name: {"files": len(files), "lines": lines, "functions": functions,
                       "stacks": stacks, "content": content}}  # fmt: skip


# the longest recording last, so a failure in a quick one shows before it
STEPS: dict[str, Callable[[Path, Path], dict[str, dict[str, Any]]]] = {
    "cProfile": gen_cprofile,
    "pyinstrument": gen_pyinstrument,
    "Scalene": gen_scalene,
    "py-spy": gen_pyspy,
}


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """One recorder per cache folder: a second run waits, then finds the files made."""
    try:
        import fcntl
    except ImportError:  # no flock (Windows): runs must not overlap
        yield
        return
    with (folder / ".lock").open("w") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            _say(f"another run is recording into {folder}; waiting for it …")
            fcntl.flock(f, fcntl.LOCK_EX)
        yield


def ensure_profiles(folder: Path, regenerate: bool) -> tuple[dict[str, Any], dict[str, float]]:
    """Record what is missing or stale; returns the manifest and the seconds each step took."""
    folder.mkdir(parents=True, exist_ok=True)
    with _locked(folder):
        try:
            return _ensure_profiles(folder, regenerate)
        finally:  # what a failed or interrupted step left half-written
            for leftover in folder.glob(f".{os.getpid()}.tmp.*"):
                leftover.unlink()


def _ensure_profiles(folder: Path, regenerate: bool) -> tuple[dict[str, Any], dict[str, float]]:
    manifest_path = folder / "manifest.json"
    manifest: dict[str, Any] = {}
    if manifest_path.exists() and not regenerate:
        manifest = json.loads(manifest_path.read_text())
    if manifest.get("version") != GENERATOR_VERSION:
        manifest = {"version": GENERATOR_VERSION, "python": sys.version.split()[0], "files": {}}
        (folder / "pyspy.live.json").unlink(missing_ok=True)  # record py-spy again too
    driver = folder / "suite.py"
    driver.write_text(_DRIVER)
    took: dict[str, float] = {}
    for step, generate in STEPS.items():
        names = [c.file for c in CASES if c.step == step]
        if all(n in manifest["files"] and (folder / n).exists() for n in names):
            continue
        start = time.perf_counter()
        manifest["files"].update(generate(folder, driver))
        took[step] = time.perf_counter() - start
        manifest.setdefault("recorded_seconds", {})[step] = round(took[step], 1)
        manifest_path.write_text(json.dumps(manifest, indent=2))  # after each step: resumable
    return manifest, took


# -- measurement -----------------------------------------------------------------------------

# Runs in a fresh interpreter: imports (not timed), the RSS after them and the peak so far, a
# reset of the RSS high-water mark, then load + rank timed, then the high-water mark again.
# Sizes in KiB. The figures come from the child itself: the ru_maxrss that wait4() or
# RUSAGE_CHILDREN report for a child is at least the parent's RSS at the fork, which Linux
# carries over exec (with a parent that has just parsed a 100 MB profile, every child "peaks"
# at 1 GB).
_CHILD = r"""
import gc, json, resource, sys, time
what, module, path = sys.argv[1:4]

def status(field):
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None

def maxrss():
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb // 1024 if sys.platform == "darwin" else kb

if what == "megawatt":
    import importlib
    from megawatt.profiles import load
    importlib.import_module("megawatt.profiles." + module)
else:
    import pstats
gc.collect()
base = status("VmRSS") or maxrss()
start_peak = status("VmHWM") or maxrss()
try:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # resets VmHWM to the current RSS (Linux 4.0+)
    exact = status("VmHWM") is not None
except OSError:
    exact = False
t = time.perf_counter()
if what == "megawatt":
    prof = load(path)
    rows = len(prof.top(20, sort="total"))
    functions = len(prof)
else:
    stats = pstats.Stats(path)
    stats.sort_stats("cumulative")
    rows = len(stats.fcn_list[:20])
    functions = len(stats.stats)
seconds = time.perf_counter() - t
load_peak = status("VmHWM") if exact else maxrss()
print(json.dumps({"seconds": seconds, "base_kb": base, "load_peak_kb": load_peak,
                  "process_peak_kb": max(start_peak, load_peak), "exact": exact,
                  "rows": rows, "functions": functions}))
"""


def run_child(what: str, module: str, path: Path) -> dict[str, Any]:
    cmd = [sys.executable, "-c", _CHILD, what, module, str(path)]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{what} failed on {path}:\n{proc.stderr}")
    r: dict[str, Any] = json.loads(proc.stdout)
    r["wall"] = wall
    return r


def _summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    secs = [r["seconds"] for r in runs]
    mb = 1024.0
    return {
        "seconds": statistics.median(secs),
        "spread": max(secs) - min(secs),
        "rounds": secs,
        "wall_seconds": statistics.median(r["wall"] for r in runs),
        "base_mb": statistics.median(r["base_kb"] for r in runs) / mb,
        "peak_mb": statistics.median(r["process_peak_kb"] for r in runs) / mb,
        "load_mb": statistics.median(r["load_peak_kb"] - r["base_kb"] for r in runs) / mb,
        "load_mb_exact": all(r["exact"] for r in runs),
        "functions": runs[0]["functions"],
    }


def measure(folder: Path, manifest: dict[str, Any], rounds: int) -> list[dict[str, Any]]:
    for case in CASES:  # into the page cache, so no round pays for the disk
        with (folder / case.file).open("rb") as f:
            while f.read(1 << 24):
                pass
    runs: dict[str, list[dict[str, Any]]] = {c.label: [] for c in CASES}
    ref_runs: list[dict[str, Any]] = []
    for i in range(rounds):
        for case in CASES:
            path = folder / case.file
            if case.module != "pstats_format":
                runs[case.label].append(run_child("megawatt", case.module, path))
                continue
            pair: list[tuple[str, list[dict[str, Any]]]] = [
                ("megawatt", runs[case.label]), ("stdlib", ref_runs)]  # fmt: skip
            for what, into in pair if i % 2 == 0 else reversed(pair):
                into.append(run_child(what, case.module, path))
        _say(f"  round {i + 1}/{rounds} done")
    rows = []
    for case in CASES:
        meta = manifest["files"][case.file]
        row: dict[str, Any] = {
            "format": case.label,
            "file": str(folder / case.file),
            "extra": case.extra,
            "file_mb": (folder / case.file).stat().st_size / 1024**2,
            "content": meta["content"],
            "how": meta.get("how"),
            "samples": meta.get("samples"),
            **_summary(runs[case.label]),
        }
        if case.module == "pstats_format":
            ref = _summary(ref_runs)
            row["stdlib"] = ref
            row["ratio_vs_stdlib"] = row["seconds"] / ref["seconds"]
            per_round = [a["seconds"] / b["seconds"]
                         for a, b in zip(runs[case.label], ref_runs, strict=True)]  # fmt: skip
            row["ratio_rounds"] = per_round
        rows.append(row)
    return rows


# -- report ----------------------------------------------------------------------------------


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:,.0f} ms"


def targets(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by = {r["format"]: r for r in rows}
    spy, ps = by["py-spy"], by["cProfile"]
    ratio = ps["ratio_vs_stdlib"]
    lo, hi = min(ps["ratio_rounds"]), max(ps["ratio_rounds"])
    noise = " (the rounds straddle 1.00×: within the noise)" if lo <= 1.0 <= hi else ""
    return [
        {
            "target": f"{PYSPY_TARGET_SAMPLES:,} py-spy samples loaded in under "
            f"{PYSPY_TARGET_SECONDS:.0f} s",
            "met": spy["samples"] >= PYSPY_TARGET_SAMPLES and spy["seconds"] < PYSPY_TARGET_SECONDS,
            "measured": f"{spy['samples']:,} samples in {_ms(spy['seconds'])} ±"
            f"{spy['spread'] * 1e3:,.0f}, {spy['seconds'] / PYSPY_TARGET_SECONDS:.1f}× the budget",
        },
        {
            "target": "pstats loading no slower than the standard library's pstats",
            "met": ratio <= 1.0,
            "measured": f"Megawatt {_ms(ps['seconds'])} vs pstats.Stats + sort_stats "
            f"{_ms(ps['stdlib']['seconds'])}: {ratio:.2f}×, per round {lo:.2f}–{hi:.2f}×{noise}",
        },
    ]


def print_report(rows: list[dict[str, Any]], goals: list[dict[str, Any]], rounds: int) -> None:
    print(f"\nprofile loading: load + rank (top 20 by inclusive time), median of {rounds} "
          "rounds, each in a fresh process")  # fmt: skip
    head = (f"{'format':<22}{'file':>8}  {'content':<52}{'load+rank':>18}"
            f"{'base':>8}{'peak':>8}{'load':>8}")  # fmt: skip
    print(head)
    print(f"{'':<22}{'MB':>8}  {'':<52}{'median ±spread':>18}{'MB':>8}{'MB':>8}{'+MB':>8}")
    for r in rows:
        name = r["format"] + (" *" if r["extra"] else "")
        timing = f"{_ms(r['seconds'])} ±{r['spread'] * 1e3:,.0f}"
        print(f"{name:<22}{r['file_mb']:>8.1f}  {r['content']:<52}{timing:>18}"
              f"{r['base_mb']:>8.0f}{r['peak_mb']:>8.0f}{r['load_mb']:>8.0f}")  # fmt: skip
        if "stdlib" in r:
            ref = r["stdlib"]
            timing = f"{_ms(ref['seconds'])} ±{ref['spread'] * 1e3:,.0f}"
            label = f"Megawatt / stdlib = {r['ratio_vs_stdlib']:.2f}×"
            print(f"{'  stdlib pstats':<22}{'':>8}  {label:<52}{timing:>18}"
                  f"{ref['base_mb']:>8.0f}{ref['peak_mb']:>8.0f}{ref['load_mb']:>8.0f}")  # fmt: skip
    print(
        "base: RSS after the imports; peak: the process's peak RSS; load: what load + rank "
        "added to the base.\n* not in the spec: the py-spy samples in another format."
    )
    spy = next(r for r in rows if r["format"] == "py-spy")
    print(f"py-spy: {spy['how']}.")
    ps = next(r for r in rows if r["format"] == "cProfile")
    print(f"with interpreter start-up and imports (whole process): Megawatt "
          f"{_ms(ps['wall_seconds'])}, stdlib pstats {_ms(ps['stdlib']['wall_seconds'])} "
          "for the cProfile file.")  # fmt: skip
    for g in goals:
        verdict = "met" if g["met"] else "MISSED"
        print(f"target {verdict}: {g['target']} — {g['measured']}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="3 rounds instead of 7 (same files)")
    ap.add_argument("--json", type=Path, help="write every figure here")
    ap.add_argument("--cache-dir", type=Path, default=None,
                    help=f"where the recorded profiles are kept (default {default_cache_dir()})")  # fmt: skip
    ap.add_argument("--regenerate", action="store_true", help="record every profile again")
    args = ap.parse_args(argv)
    start = time.perf_counter()
    rounds = 3 if args.quick else 7
    folder: Path = args.cache_dir or default_cache_dir()
    manifest, took = ensure_profiles(folder, args.regenerate)
    generated = sum(took.values())
    if took:
        steps = ", ".join(f"{k} {v:.0f} s" for k, v in took.items())
        _say(f"made the profiles in {folder} in {generated:.0f} s ({steps})")
    else:
        _say(f"profiles from the cache: {folder}")
    measure_start = time.perf_counter()
    rows = measure(folder, manifest, rounds)
    measured = time.perf_counter() - measure_start
    goals = targets(rows)
    print_report(rows, goals, rounds)
    wall = time.perf_counter() - start
    print(f"wall time: {wall:.0f} s (recording {generated:.0f} s, measuring {measured:.0f} s)")
    if args.json:
        doc = {"python": sys.version.split()[0], "cache_dir": str(folder), "rounds": rounds,
               "rows": rows, "targets": goals, "wall_seconds": wall,
               "recording_seconds": took, "measuring_seconds": measured}  # fmt: skip
        args.json.write_text(json.dumps(doc, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
