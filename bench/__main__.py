"""`python -m bench [--quick] [--json FILE]`: Megawatt against its peers, measured in one run.

Each comparison interleaves the two tools round by round and reports medians with their spread,
and the ratio Megawatt / peer: absolute times on a shared 2-core machine drift by ±30 %, ratios
measured in the same round do not. Parts:

1. workspace scan of the standard library's Lib (cold, no cache) vs `ruff check --no-cache` with
   the overlapping rules; 2. the same warm (cache present) vs ruff with its cache; 3. start-up: a
   one-file scan vs `ruff check` of that file; 4. editor latency vs `ruff server`
   (bench/lsp_latency.py); 5. profile loading (bench/profile_loading.py).
pylint + perflint and the agreement study are not in this command yet.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path
from typing import Any

RUFF_RULES = "PERF,G,B019,RUF017,C419,PLC0415,FURB"
BIN = Path(sys.executable).parent


def stdlib() -> Path:
    return Path(sysconfig.get_paths()["stdlib"])


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def interleaved(a: list[str], b: list[str], rounds: int, before: Any = None) -> dict[str, float]:
    ta, tb = [], []
    for _ in range(rounds):
        if before:
            before()
        ta.append(timed(a))
        if before:
            before()
        tb.append(timed(b))
    ma, mb = statistics.median(ta), statistics.median(tb)
    return {"megawatt_s": ma, "megawatt_spread_s": max(ta) - min(ta), "peer_s": mb,
            "peer_spread_s": max(tb) - min(tb), "ratio": ma / mb}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer rounds, smaller inputs")
    ap.add_argument("--json", type=Path, default=Path("bench-results.json"))
    args = ap.parse_args(argv)
    rounds = 3 if args.quick else 5
    ruff = str(BIN / "ruff") if (BIN / "ruff").exists() else shutil.which("ruff")
    if ruff is None:
        sys.exit("ruff is needed: pip install ruff")
    mw = [sys.executable, "-m", "megawatt"]
    lib = str(stdlib())
    results: dict[str, Any] = {"stdlib": lib}
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "cache"
        ruff_cache = Path(tmp) / "ruff-cache"
        ruff_cmd = [ruff, "check", "--select", RUFF_RULES, "--preview", "--exit-zero", "-q",
                    "--exclude", "site-packages"]  # fmt: skip
        results["scan_cold"] = interleaved(
            [*mw, "scan", lib, "--no-cache", "--format", "json", "-o", f"{tmp}/mw.json"],
            [*ruff_cmd, "--no-cache", lib],
            rounds,
        )
        subprocess.run([*mw, "scan", lib, "--cache-dir", str(cache), "--format", "json", "-o",
                        f"{tmp}/warm.json"], capture_output=True, check=False)  # fmt: skip
        subprocess.run(
            [*ruff_cmd, "--cache-dir", str(ruff_cache), lib], capture_output=True, check=False
        )
        results["scan_warm"] = interleaved(
            [
                *mw,
                "scan",
                lib,
                "--cache-dir",
                str(cache),
                "--format",
                "json",
                "-o",
                f"{tmp}/w.json",
            ],
            [*ruff_cmd, "--cache-dir", str(ruff_cache), lib],
            rounds,
        )
        one = Path(tmp) / "one.py"
        one.write_text("import re\n\ndef f(xs):\n    return any([re.match('a', x) for x in xs])\n")
        results["startup"] = interleaved(
            [sys.executable, "-m", "megawatt", "scan", str(one), "--no-cache", "--no-profile"],
            [*ruff_cmd, "--no-cache", str(one)],
            rounds * 2,
        )
    from bench import lsp_latency, profile_loading

    lat_json = Path(tempfile.mkstemp(suffix=".json")[1])
    lsp_latency.main(["--edits", "100" if args.quick else "200", "--files",
                      "200" if args.quick else "1000", "--json", str(lat_json)])  # fmt: skip
    results["editor"] = json.loads(lat_json.read_text())
    load_json = Path(tempfile.mkstemp(suffix=".json")[1])
    profile_loading.main([*(["--quick"] if args.quick else []), "--json", str(load_json)])
    results["profiles"] = json.loads(load_json.read_text())
    print("\nscan of the standard library (median of rounds, interleaved)")
    for key, label in (("scan_cold", "cold"), ("scan_warm", "warm"), ("startup", "one file")):
        r = results[key]
        print(f"  {label:<9} megawatt {r['megawatt_s']:.2f} s ±{r['megawatt_spread_s']:.2f}  "
              f"ruff {r['peer_s']:.2f} s ±{r['peer_spread_s']:.2f}  ratio {r['ratio']:.1f}×")  # fmt: skip
    args.json.write_text(json.dumps(results, indent=2))
    print(f"\nevery figure: {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
