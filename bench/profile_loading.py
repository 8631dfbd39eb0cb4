"""Load + rank time and peak memory for a large profile of each format.

    python -m bench.profile_loading [--quick] [--json FILE]

The profiles are generated here, from real profiler runs on the bundled example (not committed):
cProfile and pyinstrument and Scalene record a long run directly; py-spy records a real run whose
samples are then repeated to reach a million (a real million-sample recording takes an hour at
py-spy's rates); the collapsed and pprof files carry the same stacks. Every figure is the median
of several runs in fresh processes, and pstats is compared with the standard library's
`pstats.Stats` + `sort_stats` measured in the same round.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "shop.py"
BIN = Path(sys.executable).parent

# Runs in a fresh interpreter: imports first (not timed), then load + rank, then peak RSS.
_MEASURE = r"""
import json, resource, sys, time
what, path = sys.argv[1], sys.argv[2]
if what == "megawatt":
    from megawatt.profiles import load
    import megawatt.profiles.{fmt}
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.perf_counter()
    top = load(path).top(20)
    seconds = time.perf_counter() - t
else:
    import pstats
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.perf_counter()
    stats = pstats.Stats(path)
    stats.sort_stats("tottime")
    top = stats.fcn_list[:20]
    seconds = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "peak_mb": (peak - base) / 1024, "rows": len(top)}))
"""

FORMAT_MODULE = {
    "pstats": "pstats_format",
    "speedscope": "speedscope",
    "collapsed": "collapsed",
    "pyinstrument": "pyinstrument",
    "scalene": "scalene",
    "pprof": "pprof",
}


def _run(cmd: list[str], **kw: object) -> None:
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)  # type: ignore[call-overload]


def generate(folder: Path, quick: bool) -> dict[str, Path]:
    count = "20000" if quick else "60000"
    out: dict[str, Path] = {}
    out["pstats"] = folder / "big.pstats"
    # a run that touches thousands of functions: the example plus the stdlib's own test helpers
    driver = folder / "driver.py"
    driver.write_text(
        "import runpy, sys, pydoc, email, json, http.server, xml.dom.minidom, argparse, asyncio\n"
        f"sys.argv = [{str(EXAMPLE)!r}, {count!r}]\n"
        f"runpy.run_path({str(EXAMPLE)!r}, run_name='__main__')\n"
        "for mod in (email, json, http.server, xml.dom.minidom, argparse, asyncio):\n"
        "    pydoc.render_doc(mod)\n"
    )
    _run([sys.executable, "-m", "cProfile", "-o", str(out["pstats"]), str(driver)])

    raw = folder / "spy.json"
    _run([str(BIN / "py-spy"), "record", "-r", "1000", "-f", "speedscope", "-o", str(raw), "--",
          sys.executable, str(EXAMPLE), count])  # fmt: skip
    doc = json.loads(raw.read_text())
    target = 200_000 if quick else 1_000_000
    for prof in doc["profiles"]:
        samples, weights = prof["samples"], prof["weights"]
        if not samples:
            continue
        reps = -(-target // len(samples))
        prof["samples"] = (samples * reps)[:target]
        prof["weights"] = (weights * reps)[:target]
        prof["endValue"] = prof["startValue"] + sum(prof["weights"])
        break
    out["speedscope"] = folder / "big.speedscope.json"
    out["speedscope"].write_text(json.dumps(doc))

    out["collapsed"] = folder / "big.collapsed.txt"
    _run([str(BIN / "py-spy"), "record", "-r", "1000", "-f", "raw", "--full-filenames", "-o",
          str(out["collapsed"]), "--", sys.executable, str(EXAMPLE), count])  # fmt: skip

    out["pyinstrument"] = folder / "big.pyinstrument.json"
    _run([sys.executable, "-m", "pyinstrument", "-i", "0.0002", "-r", "json", "-o",
          str(out["pyinstrument"]), str(driver)])  # fmt: skip

    out["scalene"] = folder / "big.scalene.json"
    _run([str(BIN / "scalene"), "run", "--cpu-only", "-o", str(out["scalene"]), str(EXAMPLE),
          "---", count])  # fmt: skip

    out["pprof"] = folder / "big.pb.gz"
    out["pprof"].write_bytes(gzip.compress(_speedscope_to_pprof(doc)))
    return out


def _speedscope_to_pprof(doc: dict) -> bytes:  # type: ignore[type-arg]
    """The same million samples as a pprof message, one sample per recorded sample."""
    from megawatt.profiles.pprof_schema import profile_class

    Profile = profile_class()
    msg = Profile()
    strings = {"": 0}

    def s(text: str) -> int:
        if text not in strings:
            strings[text] = len(strings)
        return strings[text]

    vt = msg.sample_type.add()
    vt.type, vt.unit = s("cpu"), s("nanoseconds")
    functions: dict[tuple[str, str], int] = {}
    locations: dict[tuple[str, str, int], int] = {}
    frames = doc["shared"]["frames"]
    for prof in doc["profiles"]:
        for stack, weight in zip(prof["samples"], prof["weights"], strict=True):
            sample = msg.sample.add()
            for idx in reversed(stack):  # pprof lists the leaf first
                fr = frames[idx]
                key = (fr.get("file", ""), fr["name"], fr.get("line", 0))
                loc = locations.get(key)
                if loc is None:
                    fkey = (key[0], key[1])
                    fid = functions.get(fkey)
                    if fid is None:
                        fid = functions[fkey] = len(functions) + 1
                        fn = msg.function.add()
                        fn.id, fn.name, fn.filename = fid, s(key[1]), s(key[0])
                    loc = locations[key] = len(locations) + 1
                    lo = msg.location.add()
                    lo.id = loc
                    line = lo.line.add()
                    line.function_id, line.line = fid, key[2]
                sample.location_id.append(loc)
            sample.value.append(int(weight * 1e9))
    msg.string_table.extend(strings)
    return msg.SerializeToString()  # type: ignore[no-any-return]


def measure(what: str, fmt: str, path: Path, rounds: int) -> dict[str, float]:
    code = _MEASURE.replace("{fmt}", FORMAT_MODULE[fmt])
    runs = []
    for _ in range(rounds):
        proc = subprocess.run(
            [sys.executable, "-c", code, what, str(path)],
            capture_output=True, text=True, check=True, cwd=REPO,
        )  # fmt: skip
        runs.append(json.loads(proc.stdout))
    secs = [r["seconds"] for r in runs]
    return {
        "seconds": statistics.median(secs),
        "spread": max(secs) - min(secs),
        "peak_mb": statistics.median(r["peak_mb"] for r in runs),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller profiles, fewer rounds")
    ap.add_argument("--json", type=Path, help="write every figure here")
    ap.add_argument(
        "--keep", type=Path, help="generate the profiles into this folder and keep them"
    )
    args = ap.parse_args(argv)
    rounds = 3 if args.quick else 5
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        t = time.perf_counter()
        files = generate(folder, args.quick)
        print(
            f"generated {len(files)} profiles in {time.perf_counter() - t:.0f} s", file=sys.stderr
        )
        results = []
        for fmt, path in files.items():
            size = os.path.getsize(path) / 1024**2
            # interleave ours and the stdlib's so drift hits both alike
            ours = measure("megawatt", fmt, path, rounds)
            row = {"format": fmt, "file_mb": round(size, 2), **ours}
            if fmt == "pstats":
                ref = measure("stdlib", fmt, path, rounds)
                row["stdlib_seconds"] = ref["seconds"]
                row["stdlib_peak_mb"] = ref["peak_mb"]
                row["ratio_vs_stdlib"] = ours["seconds"] / ref["seconds"]
            results.append(row)
    print(
        f"{'format':<13}{'file MB':>9}{'load+rank':>12}{'spread':>9}{'peak MB':>9}  vs stdlib pstats"
    )
    for r in results:
        extra = ""
        if "stdlib_seconds" in r:
            extra = (
                f"  stdlib {r['stdlib_seconds'] * 1e3:.0f} ms → ratio {r['ratio_vs_stdlib']:.2f}×"
            )
        print(
            f"{r['format']:<13}{r['file_mb']:>9.1f}{r['seconds'] * 1e3:>10.0f} ms"
            f"{r['spread'] * 1e3:>7.0f} ms{r['peak_mb']:>9.1f}{extra}"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
