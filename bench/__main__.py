"""`python -m bench [--quick] [--json FILE]`: Megawatt against its peers, measured in one run.

The peers (ruff, pylint + perflint, py-spy) come from the bench's own virtual environment, which
bench/peers.py installs on first use. Each comparison runs the tools one after the other in every
round (interleaved) and reports medians with their spread, and the ratio Megawatt / peer: absolute
times on a shared 2-core machine drift by ±30 %, ratios measured in the same round do not. Parts:

1. workspace scan of the standard library's Lib without site-packages, cold (no cache), vs
   `ruff check --no-cache` with the overlapping rules; 2. the same without test/tests folders;
3. the whole Lib warm (cache present) vs ruff with its cache; 4. start-up: a one-file scan vs
   `ruff check` of that file; 5. pylint + perflint (perflint's checks only, -j 1) vs ruff vs
   Megawatt on a fixed subset of Lib (PERFLINT_SUBSET), minus the files perflint crashes on;
6. editor latency vs `ruff server` (bench/lsp_latency.py); 7. profile loading
   (bench/profile_loading.py); 8. agreement with ruff on the overlapping rules (bench/agreement.py);
9. calibration of the estimated savings: each top finding's fix applied alone and measured
(bench/calibration.py).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import peers

RUFF_RULES = "PERF,G,B019,RUF017,C419,PLC0415,FURB"
# Megawatt reads .py/.pyi; ruff also reads .pyw (idlelib/idle.pyw): left out so both see one set
RUFF_EXCLUDE = "site-packages,*.pyw"
TEST_DIRS = ("test", "tests")
# pylint + perflint is 200-300x slower than ruff, so it runs on these top-level modules and
# packages of Lib (49,190 lines in 3.11, test folders left out); --quick takes the first three
# (json, logging, tkinter: 16,388 lines). tkinter/ttk.py has a starred loop target, on which
# perflint 0.8.1 crashes: it is found and left out for all three tools, as any such file would be.
PERFLINT_SUBSET = ("json", "logging", "tkinter", "concurrent", "email", "http", "urllib",
                   "collections", "argparse.py", "dataclasses.py", "typing.py",
                   "pathlib.py")  # fmt: skip
QUICK_SUBSET = 3
MW = [sys.executable, "-m", "megawatt"]


def stdlib() -> Path:
    return Path(sysconfig.get_paths()["stdlib"])


def note(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def exit_zero(code: int) -> bool:
    return code == 0


@dataclass(frozen=True)
class Run:
    """One tool's command; `ok` says which exit codes mean it did its work."""

    argv: list[str]
    ok: Callable[[int], bool] = exit_zero
    cwd: Path | None = None


def timed(run: Run) -> float:
    start = time.perf_counter()
    proc = subprocess.run(run.argv, cwd=run.cwd, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, check=False)  # fmt: skip
    took = time.perf_counter() - start
    if not run.ok(proc.returncode):
        err = proc.stderr.decode(errors="replace").strip().splitlines()[-5:]
        raise SystemExit(f"{Path(run.argv[0]).name} {' '.join(run.argv[1:4])} … exited "
                         f"{proc.returncode}:\n  " + "\n  ".join(err))  # fmt: skip
    return took


def compare(runs: dict[str, Run], rounds: int) -> dict[str, Any]:
    """Every tool once per round, in order; medians, spreads and Megawatt / peer ratios."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            times[name].append(timed(run))
    out: dict[str, Any] = {"rounds": rounds, "seconds": {}, "ratios": {}}
    for name, ts in times.items():
        out["seconds"][name] = {"median": statistics.median(ts), "spread": max(ts) - min(ts),
                                "runs": ts}  # fmt: skip
    for name in runs:
        if name != "megawatt":
            per_round = [m / p for m, p in zip(times["megawatt"], times[name], strict=True)]
            out["ratios"][name] = {
                "median": statistics.median(per_round),  # of the per-round ratios
                "min": min(per_round),
                "max": max(per_round),
                "per_round": per_round,
                "of_medians": out["seconds"]["megawatt"]["median"] / out["seconds"][name]["median"],
            }
    return out


def count_lines(files: list[Path]) -> int:
    return sum(f.read_bytes().count(b"\n") for f in files)


def ruff_base(ruff: Path) -> list[str]:
    return [str(ruff), "check", "--isolated", "--select", RUFF_RULES, "--preview", "--exit-zero",
            "-q", "--exclude", RUFF_EXCLUDE]  # fmt: skip


def same_files(ruff_cmd: list[str], lib: Path, exclude: list[str], root: Path) -> dict[str, Any]:
    """The files each tool would scan under `lib`; they must be the same set."""
    from megawatt.analyzers.files import discover

    shown = subprocess.run([*ruff_cmd, "--show-files", str(lib)], capture_output=True,
                           text=True, check=True).stdout  # fmt: skip
    ruff_set = {str(Path(line.strip()).resolve()) for line in shown.splitlines() if line.strip()}
    mw_files, _ = discover([lib], exclude, root)
    mw_set = {str(f) for f in mw_files}
    only_mw, only_ruff = sorted(mw_set - ruff_set), sorted(ruff_set - mw_set)
    if only_mw or only_ruff:
        note(f"  warning: the file sets differ: {len(only_mw)} only Megawatt, "
             f"{len(only_ruff)} only ruff (listed in the JSON)")  # fmt: skip
    common = sorted(Path(p) for p in mw_set & ruff_set)
    return {"files": len(common), "lines": count_lines(common), "only_megawatt": only_mw[:50],
            "only_ruff": only_ruff[:50]}  # fmt: skip


def scan_parts(lib: Path, ruff: Path, rounds: int, quick: bool, tmp: Path) -> dict[str, Any]:
    results: dict[str, Any] = {}
    ruff_cmd = ruff_base(ruff)
    no_tests_root = tmp / "no-tests-root"  # a project whose [tool.megawatt] excludes tests
    no_tests_root.mkdir()
    patterns = [f"*/{d}/*" for d in TEST_DIRS]
    (no_tests_root / "pyproject.toml").write_text(f"[tool.megawatt]\nexclude = {patterns!r}\n")
    # --quick: two rounds of the whole Lib cold, the longest part (Megawatt ~6 s a round)
    variants = {
        "scan_cold": ([], [], stdlib(), 2 if quick else rounds),
        "scan_cold_no_tests": (["--root", str(no_tests_root)],
                               ["--extend-exclude", ",".join(TEST_DIRS)], no_tests_root, rounds),
    }  # fmt: skip
    for key, (mw_extra, ruff_extra, root, n) in variants.items():
        found = same_files([*ruff_cmd, *ruff_extra], lib, patterns if mw_extra else [], root)
        note(f"{key}: {found['files']} files, {found['lines']:,} lines, {n} rounds")
        report = tmp / f"{key}.json"
        results[key] = found | compare({
            "megawatt": Run([*MW, "scan", str(lib), *mw_extra, "--no-cache", "--format", "json",
                             "-o", str(report)], ok=lambda c: c in (0, 1, 2)),
            "ruff": Run([*ruff_cmd, *ruff_extra, "--no-cache", str(lib)]),
        }, n)  # fmt: skip
        reported = json.loads(report.read_text())["files"]
        if reported != found["files"]:
            note(f"  warning: megawatt reports {reported} files scanned, {found['files']} expected")
        results[key]["megawatt_reported_files"] = reported

    cache, ruff_cache = tmp / "cache", tmp / "ruff-cache"
    warm_mw = [*MW, "scan", str(lib), "--cache-dir", str(cache), "--format", "json", "-o",
               str(tmp / "warm.json")]  # fmt: skip
    warm_ruff = [*ruff_cmd, "--cache-dir", str(ruff_cache), str(lib)]
    subprocess.run(warm_mw, capture_output=True, check=False)
    subprocess.run(warm_ruff, capture_output=True, check=False)
    note(f"scan_warm: {rounds} rounds")
    results["scan_warm"] = {"files": results["scan_cold"]["files"],
                            "lines": results["scan_cold"]["lines"]} | compare({
        "megawatt": Run(warm_mw, ok=lambda c: c in (0, 1, 2)),
        "ruff": Run(warm_ruff),
    }, rounds)  # fmt: skip

    one = tmp / "one.py"
    one.write_text("import re\n\ndef f(xs):\n    return any([re.match('a', x) for x in xs])\n")
    note(f"startup: {rounds * 2} rounds")
    results["startup"] = {"files": 1, "lines": 4} | compare({
        "megawatt": Run([*MW, "scan", str(one), "--no-cache", "--no-profile"],
                        ok=lambda c: c in (0, 1)),
        "ruff": Run([*ruff_cmd, "--no-cache", str(one)]),
    }, rounds * 2)  # fmt: skip
    return results


def subset_files(lib: Path, names: tuple[str, ...]) -> list[Path]:
    files: list[Path] = []
    for name in names:
        path = lib / name
        if path.is_file():
            files.append(path)
            continue
        files += sorted(p for p in path.rglob("*.py")
                        if not set(TEST_DIRS) & set(p.relative_to(path).parts[:-1]))  # fmt: skip
    return files


def pylint_cmd(files: list[Path], tmp: Path, *extra: str) -> list[str]:
    rc = tmp / "empty-pylintrc"  # no user or project configuration
    rc.write_text("")
    return [str(peers.pylint()), f"--rcfile={rc}", "--load-plugins=perflint", "--disable=all",
            f"--enable={','.join(peers.perflint_ids())}", "-j", "1", "--score=n",
            "--persistent=n", *extra, *map(str, files)]  # fmt: skip


def perflint_crashes(files: list[Path], tmp: Path) -> list[Path]:
    """The files pylint reports a fatal error on with perflint loaded (remembered per input)."""
    stamp = [(str(f), f.stat().st_size, f.stat().st_mtime_ns) for f in files]
    key = hashlib.sha256(json.dumps([peers.versions(), sys.version, stamp]).encode()).hexdigest()
    memo = peers.home() / "perflint-crashes.json"
    try:
        known: dict[str, list[str]] = json.loads(memo.read_text())
    except (OSError, ValueError):
        known = {}
    if key not in known:
        note(f"pylint + perflint: finding the files it crashes on ({len(files)} files) …")
        proc = subprocess.run(pylint_cmd(files, tmp, "--output-format=json"), cwd=tmp,
                              capture_output=True, text=True, check=False)  # fmt: skip
        try:
            messages = json.loads(proc.stdout)
        except ValueError:
            raise SystemExit(f"pylint + perflint gave no JSON report (exit {proc.returncode}):"
                             f"\n{proc.stderr[-2000:]}") from None  # fmt: skip
        fatal = {str((tmp / m["path"]).resolve()) for m in messages if m["type"] == "fatal"}
        known[key] = sorted(fatal)
        memo.write_text(json.dumps(known, indent=1))
    return [Path(p) for p in known[key]]


def perflint_part(lib: Path, ruff: Path, rounds: int, quick: bool, tmp: Path) -> dict[str, Any]:
    names = PERFLINT_SUBSET[:QUICK_SUBSET] if quick else PERFLINT_SUBSET
    files = subset_files(lib, names)
    crashed = set(perflint_crashes(files, tmp))
    kept = [f for f in files if f not in crashed]
    info = {
        "subset": list(names),
        "files": len(kept),
        "lines": count_lines(kept),
        "excluded_perflint_crashes": [str(p.relative_to(lib)) for p in sorted(crashed)],
    }
    note(f"pylint_perflint: {info['files']} files, {info['lines']:,} lines, {rounds} rounds")
    return info | compare({
        "megawatt": Run([*MW, "scan", *map(str, kept), "--no-cache", "--format", "json", "-o",
                         str(tmp / "subset.json")], ok=lambda c: c in (0, 1, 2)),
        "ruff": Run([*ruff_base(ruff), "--no-cache", *map(str, kept)]),
        # pylint's exit code is a bit mask: 1 = fatal (a crash), 32 = usage error
        "pylint+perflint": Run(pylint_cmd(kept, tmp), ok=lambda c: not c & 33, cwd=tmp),
    }, rounds)  # fmt: skip


def editor_part(quick: bool, ruff: Path, tmp: Path) -> dict[str, Any]:
    from bench import lsp_latency

    out = tmp / "editor.json"
    # the peers' ruff, not the one beside this Python
    lsp_latency.main(["--edits", "100" if quick else "200", "--files",
                      "100" if quick else "1000", "--settle", "10" if quick else "20",
                      "--ruff", str(ruff), "--json", str(out)])  # fmt: skip
    return dict(json.loads(out.read_text()))


def profiles_part(quick: bool, tmp: Path) -> Any:
    from bench import profile_loading

    out = tmp / "profiles.json"
    profile_loading.main([*(["--quick"] if quick else []), "--json", str(out)])
    return json.loads(out.read_text())


def agreement_part(quick: bool, ruff: Path, tmp: Path) -> Any:
    try:
        agreement = importlib.import_module("bench.agreement")
    except ImportError as err:
        missing = isinstance(err, ModuleNotFoundError) and err.name == "bench.agreement"
        why = "bench/agreement.py is not there yet" if missing else f"cannot import it: {err}"
        note(f"agreement with ruff: skipped ({why})")
        return {"skipped": why}
    out = tmp / "agreement.json"
    try:
        code = agreement.main(
            [*(["--quick"] if quick else []), "--ruff", str(ruff), "--json", str(out)]
        )
    except SystemExit as stop:  # argparse refusing an option, say
        code = stop.code
    if not out.exists():
        return {"skipped": f"bench.agreement exited {code} without writing its JSON"}
    return json.loads(out.read_text())


def calibration_part(quick: bool, tmp: Path) -> Any:
    from bench import calibration

    out = tmp / "calibration.json"
    calibration.main([*(["--quick"] if quick else []), "--json", str(out)])
    return json.loads(out.read_text())


def fmt_time(r: dict[str, Any], tool: str) -> str:
    s = r["seconds"].get(tool)
    return f"{s['median']:.2f} s ±{s['spread']:.2f}" if s else "—"


def fmt_ratio(r: dict[str, Any], tool: str) -> str:
    q = r["ratios"].get(tool)
    if not q:
        return "—"
    digits = 2 if q["median"] < 1 else 1  # 0.13× (Megawatt ~8× faster) needs the second digit
    return f"{q['median']:.{digits}f}× [{q['min']:.{digits}f}–{q['max']:.{digits}f}]"


def table(results: dict[str, Any]) -> None:
    rows = (("scan_cold", "Lib, cold"), ("scan_cold_no_tests", "Lib w/o tests, cold"),
            ("scan_warm", "Lib, warm"), ("startup", "one file"),
            ("pylint_perflint", "perflint subset"))  # fmt: skip
    print("\nMegawatt vs peers: median time ±spread over interleaved rounds;")
    print("ratio Megawatt / peer: median of the per-round ratios [lowest–highest]")
    print(f"  {'input':<20}{'files':>6}{'lines':>9}  {'megawatt':<15}{'ruff':<15}"
          f"{'pylint+perflint':<17}{'Megawatt/ruff':<19}Megawatt/pylint+perflint")  # fmt: skip
    for key, label in rows:
        r = results[key]
        print(f"  {label:<20}{r['files']:>6}{r['lines']:>9,}  {fmt_time(r, 'megawatt'):<15}"
              f"{fmt_time(r, 'ruff'):<15}{fmt_time(r, 'pylint+perflint'):<17}"
              f"{fmt_ratio(r, 'ruff'):<19}{fmt_ratio(r, 'pylint+perflint')}")  # fmt: skip
    crashed = results["pylint_perflint"]["excluded_perflint_crashes"]
    print(f"  perflint subset: {', '.join(results['pylint_perflint']['subset'])}")
    print(f"  left out (perflint crashes on them): {', '.join(crashed) or 'none'}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer rounds, smaller inputs")
    ap.add_argument("--json", type=Path, default=Path("bench-results.json"))
    args = ap.parse_args(argv)
    rounds = 3 if args.quick else 5
    started = time.perf_counter()
    try:
        ruff = peers.ruff()
        peers.pylint()
    except peers.PeerInstallError as err:
        raise SystemExit(f"cannot install the bench's peers: {err}") from None
    lib = stdlib()
    results: dict[str, Any] = {"stdlib": str(lib), "quick": args.quick, "peers": peers.versions(),
                               "peers_env": str(peers.home()), "part_seconds": {}}  # fmt: skip
    parts = results["part_seconds"]
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        t = time.perf_counter()
        results.update(scan_parts(lib, ruff, rounds, args.quick, tmp))
        parts["scans"] = time.perf_counter() - t
        t = time.perf_counter()
        results["pylint_perflint"] = perflint_part(lib, ruff, rounds, args.quick, tmp)
        parts["pylint_perflint"] = time.perf_counter() - t
        later: dict[str, Callable[[], Any]] = {
            "editor": lambda: editor_part(args.quick, ruff, tmp),
            "profiles": lambda: profiles_part(args.quick, tmp),
            "agreement": lambda: agreement_part(args.quick, ruff, tmp),
            "calibration": lambda: calibration_part(args.quick, tmp),
        }
        for key, part in later.items():
            args.json.write_text(json.dumps(results, indent=2))  # what is measured so far
            t = time.perf_counter()
            try:
                results[key] = part()
            except Exception as err:  # one broken part does not lose the others' figures
                note(f"{key}: failed: {type(err).__name__}: {err}")
                results[key] = {"failed": f"{type(err).__name__}: {err}"}
            parts[key] = time.perf_counter() - t
    results["total_seconds"] = time.perf_counter() - started
    table(results)
    args.json.write_text(json.dumps(results, indent=2))
    print(f"\ntotal {results['total_seconds']:.0f} s; every figure: {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
