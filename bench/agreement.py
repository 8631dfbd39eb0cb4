"""Agreement with ruff on the classes both tools cover, over this machine's standard library.

    python -m bench.agreement [--quick] [--json FILE] [--lib PATH] [--ruff PATH]

Runs `ruff check --preview --select G001,G002,G003,G004,B019,RUF017,C419,PLC0415` and
`megawatt scan` over the standard library (site-packages excluded), pairs each ruff rule with the
Megawatt skill it overlaps, and counts, per pair, the findings of each tool, those both report
and those only one reports, with samples of the disagreements to read.

Matching: a ruff finding and a Megawatt finding of the same pair are the same finding when they
are in the same file and their line ranges overlap or their first lines are at most one apart
(ruff anchors G00x on the message and C419 on the comprehension, Megawatt on the whole call;
B019 anchors on the decorator, memoize on the name). Matching is one to one: overlapping ranges
first, then nearest first lines. Where one tool's rule is wider than the other's (C419 also
covers sum/min/max; the quadratic-concat skill also covers `s += t` in loops), the extra findings
are counted apart as "outside" the shared definition instead of as disagreements.
"""

from __future__ import annotations

import argparse
import json
import linecache
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RULES = "G001,G002,G003,G004,B019,RUF017,C419,PLC0415"
SLACK = 1  # first lines this far apart still match (the tools anchor on different nodes)
SAMPLES = 5
BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Hit:
    """One finding of either tool; lines and columns 1-based."""

    path: str
    line: int
    end_line: int
    column: int
    code: str  # ruff rule or Megawatt skill id
    message: str
    evidence: Mapping[str, str] = field(default_factory=dict)


Pred = Callable[[Hit], bool]


def _any(_: Hit) -> bool:
    return True


@dataclass(frozen=True)
class Pair:
    ruff: str
    skill: str
    relation: str  # how the two definitions differ
    select: Pred = _any  # which of the skill's findings belong to this row
    ruff_scope: Pred = _any  # the ruff findings the skill is meant to cover
    mw_scope: Pred = _any  # the Megawatt findings the rule is meant to cover


def callee_before(src: str) -> str:
    """The callee whose argument list `src` ends in: `any` for `x = any(` or `any((`; '' if none."""
    m = re.search(r"([\w.]+)\s*\((?:\s*\()*\s*$", src)
    return m.group(1) if m else ""


def callee_at(path: str, line: int, column: int) -> str:
    """The callee of the argument starting at line:column of the file."""
    lines = linecache.getlines(path)
    if not 0 < line <= len(lines):
        return ""
    return callee_before(
        "".join(lines[max(0, line - 4) : line - 1]) + lines[line - 1][: column - 1]
    )


def _style(style: str) -> Pred:
    return lambda h: h.evidence.get("style") == style


def _any_all(h: Hit) -> bool:
    return callee_at(h.path, h.line, h.column).rsplit(".", 1)[-1] in ("any", "all")


def _in_class(h: Hit) -> bool:
    return "." in h.evidence.get("function", "")


def _sum_call(h: Hit) -> bool:
    return h.evidence.get("call", "").startswith("sum(")


_G = (
    "ruff flags any logger-looking receiver (by name) and any message of that shape; Megawatt "
    "only a receiver proven to be a logger, a positional message, and real formatting"
)
PAIRS = (
    Pair("G001", "logging-eager-format", _G + " (str.format)", select=_style("format")),
    Pair("G002", "logging-eager-format", _G + " (% on a string literal only)", select=_style("%")),
    Pair("G003", "logging-eager-format", _G + " (+ with a non-literal part)", select=_style("+")),
    Pair(
        "G004", "logging-eager-format", _G + " (f-string with a field)", select=_style("f-string")
    ),
    Pair(
        "B019",
        "memoize",
        "inverse rules: B019 flags a cache already on a method (it keeps self alive); memoize "
        "proposes one only for undecorated module functions and plain static methods, so a match "
        "would mean Megawatt proposing what ruff forbids; its module functions are outside",
        mw_scope=_in_class,
    ),
    Pair(
        "RUF017",
        "quadratic-concat",
        "the skill's sum(..., []/()) findings; it skips a literal list of up to 3 parts, ruff "
        "skips tuples; its `s += t` findings are outside",
        mw_scope=_sum_call,
    ),
    Pair(
        "C419",
        "any-all-materialized",
        "any()/all() only: C419 (preview) also flags sum/min/max, counted outside; ruff also "
        "flags set comprehensions, and skips those with await or async for",
        ruff_scope=_any_all,
    ),
    Pair(
        "PLC0415",
        "import-in-function",
        "PLC0415 flags every import below module level (class bodies too); Megawatt only in "
        "functions, not guarded, commented, optional, platform, own-package, in entry points, "
        "tests or cached functions, nor heavy modules outside loops; in a file of a standard "
        "library only re-imports of a module-level import and imports in loops",
    ),
)


def overlap(a: Hit, b: Hit) -> bool:
    return a.path == b.path and a.line <= b.end_line and b.line <= a.end_line


def near(a: Hit, b: Hit, slack: int = SLACK) -> bool:
    return overlap(a, b) or (a.path == b.path and abs(a.line - b.line) <= slack)


def match(
    ruff: list[Hit], mw: list[Hit], slack: int = SLACK
) -> tuple[list[tuple[Hit, Hit]], list[Hit], list[Hit]]:
    """One-to-one matching, overlapping ranges first, then nearest first lines:
    (pairs, ruff only, Megawatt only)."""
    by_path: dict[str, list[int]] = {}
    for j, m in enumerate(mw):
        by_path.setdefault(m.path, []).append(j)
    candidates = sorted(
        (not overlap(r, mw[j]), abs(r.line - mw[j].line), r.line, mw[j].line, i, j)
        for i, r in enumerate(ruff)
        for j in by_path.get(r.path, ())
        if near(r, mw[j], slack)
    )
    used_r: set[int] = set()
    used_m: set[int] = set()
    pairs = []
    for *_, i, j in candidates:
        if i not in used_r and j not in used_m:
            used_r.add(i)
            used_m.add(j)
            pairs.append((ruff[i], mw[j]))
    ruff_only = [r for i, r in enumerate(ruff) if i not in used_r]
    mw_only = [m for j, m in enumerate(mw) if j not in used_m]
    return pairs, ruff_only, mw_only


def pick(hits: Iterable[Hit], n: int = SAMPLES) -> list[Hit]:
    """The first n by path and line, one per file while there are other files to show."""
    ordered = sorted(hits, key=lambda h: (h.path, h.line, h.column))
    firsts = [h for i, h in enumerate(ordered) if i == 0 or ordered[i - 1].path != h.path]
    rest = [h for h in ordered if h not in firsts[:n]]
    return sorted(firsts[:n] + rest[: max(0, n - len(firsts))], key=lambda h: (h.path, h.line))


def sample(hits: Iterable[Hit], lib: Path, n: int = SAMPLES) -> list[dict[str, str]]:
    """Up to n hits (see `pick`) with their source line, so a reader can judge them."""
    out = []
    for h in pick(hits, n):
        src = linecache.getline(h.path, h.line).strip()
        out.append(
            {
                "where": f"{os.path.relpath(h.path, lib)}:{h.line}",
                "code": h.code,
                "source": src[:120],
                "message": h.message[:200],
            }
        )
    return out


def split(hits: list[Hit], keep: Pred) -> tuple[list[Hit], list[Hit]]:
    inside: list[Hit] = []
    outside: list[Hit] = []
    for h in hits:
        (inside if keep(h) else outside).append(h)
    return inside, outside


def compare(pair: Pair, ruff: list[Hit], mw: list[Hit], lib: Path) -> dict[str, Any]:
    r_all = [h for h in ruff if h.code == pair.ruff]
    m_all = [h for h in mw if h.code == pair.skill and pair.select(h)]
    r_in, r_out = split(r_all, pair.ruff_scope)
    m_in, m_out = split(m_all, pair.mw_scope)
    both, r_only, m_only = match(r_in, m_in)
    return {
        "ruff_rule": pair.ruff,
        "skill": pair.skill,
        "relation": pair.relation,
        "ruff": len(r_in),
        "megawatt": len(m_in),
        "both": len(both),
        "ruff_only": len(r_only),
        "megawatt_only": len(m_only),
        "ruff_outside": len(r_out),
        "megawatt_outside": len(m_out),
        "samples": {
            "ruff_only": sample(r_only, lib),
            "megawatt_only": sample(m_only, lib),
            "ruff_outside": sample(r_out, lib),
            "megawatt_outside": sample(m_out, lib),
        },
    }


def ruff_hits(doc: list[dict[str, Any]]) -> tuple[list[Hit], list[str]]:
    """Rule findings, and the files ruff could not parse (reported with no rule code)."""
    hits, unparsed = [], []
    for d in doc:
        path = os.path.realpath(d["filename"])
        if d.get("code") is None:
            unparsed.append(path)
            continue
        loc, end = d["location"], d.get("end_location") or d["location"]
        hits.append(Hit(path, loc["row"], end["row"], loc["column"], d["code"], d["message"]))
    return hits, sorted(set(unparsed))


def megawatt_hits(doc: Mapping[str, Any]) -> list[Hit]:
    return [
        Hit(
            os.path.realpath(o["path"]),
            o["line"],
            o["end_line"],
            o["column"],
            o["skill"],
            o["message"],
            {k: str(v) for k, v in o.get("evidence", {}).items()},
        )
        for o in doc["opportunities"]
    ]


def _run(cmd: list[str]) -> tuple[subprocess.CompletedProcess[str], float]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    return proc, time.perf_counter() - start


def print_report(results: dict[str, Any]) -> None:
    print(f"\nagreement with {results['ruff_version']} on {results['lib']}")
    print(f"  {results['files']} files, {results['lines']:,} lines; ruff could not parse "
          f"{len(results['ruff_unparsed'])} of them")  # fmt: skip
    print("  match: same file, line ranges overlap or first lines <= 1 apart; one to one\n")
    head = ("pair", "ruff", "mw", "both", "ruff-only", "mw-only", "outside r/mw")
    print(f"  {head[0]:<32}" + "".join(f"{h:>10}" for h in head[1:6]) + f"{head[6]:>14}")
    for row in results["pairs"]:
        label = f"{row['ruff_rule']} ~ {row['skill']}"
        cells = [row[k] for k in ("ruff", "megawatt", "both", "ruff_only", "megawatt_only")]
        outside = f"{row['ruff_outside']}/{row['megawatt_outside']}"
        print(f"  {label:<32}" + "".join(f"{c:>10}" for c in cells) + f"{outside:>14}")
    for row in results["pairs"]:
        groups = [(k, v) for k, v in row["samples"].items() if v]
        if not groups:
            continue
        print(f"\n{row['ruff_rule']} ~ {row['skill']}: {row['relation']}")
        for key, items in groups:
            print(f"  {key.replace('_', ' ')} ({row[key]}):")
            for s in items:
                print(f"    {s['where']:<48} {s['code']:<8} {s['source'][:70]}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="the same run (it takes ~10 s)")
    ap.add_argument("--json", type=Path, default=Path("agreement.json"))
    ap.add_argument("--lib", type=Path, default=Path(sysconfig.get_paths()["stdlib"]))
    ap.add_argument("--ruff", help="ruff executable [default: beside python, else on PATH]")
    args = ap.parse_args(argv)
    ruff = args.ruff or (str(BIN / "ruff") if (BIN / "ruff").exists() else shutil.which("ruff"))
    if ruff is None:
        print("ruff is needed: pip install ruff (or --ruff PATH)", file=sys.stderr)
        return 2
    lib = args.lib.resolve()
    ruff_cmd = [ruff, "check", "--no-cache", "--exclude", "site-packages", "--preview",
                "--select", RULES, "--output-format", "json", str(lib)]  # fmt: skip
    r_proc, r_time = _run(ruff_cmd)
    if r_proc.returncode not in (0, 1):
        print(f"ruff failed ({r_proc.returncode}): {r_proc.stderr[-2000:]}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "megawatt.json"
        m_proc, m_time = _run([sys.executable, "-m", "megawatt", "scan", str(lib), "--no-cache",
                               "--no-profile", "--format", "json", "-o", str(out)])  # fmt: skip
        if m_proc.returncode not in (0, 1) or not out.exists():
            print(
                f"megawatt failed ({m_proc.returncode}): {m_proc.stderr[-2000:]}", file=sys.stderr
            )
            return 2
        mw_doc = json.loads(out.read_text(encoding="utf-8"))
    rh, unparsed = ruff_hits(json.loads(r_proc.stdout))
    unparsed += sorted(set(re.findall(r"Failed to lint (.+?): ", r_proc.stderr)))
    mh = megawatt_hits(mw_doc)
    version = subprocess.run([ruff, "--version"], capture_output=True, text=True, check=False)
    results: dict[str, Any] = {
        "lib": str(lib),
        "ruff_version": version.stdout.strip(),
        "megawatt_version": mw_doc.get("version"),
        "ruff_command": ruff_cmd,
        "files": mw_doc.get("files"),
        "lines": mw_doc.get("lines") or 0,
        "seconds": {"ruff": round(r_time, 2), "megawatt": round(m_time, 2)},
        "match_rule": f"same file; line ranges overlap or first lines at most {SLACK} apart; "
        "one to one, overlapping ranges first, then nearest first lines",
        "ruff_unparsed": [os.path.relpath(p, lib) for p in unparsed],
        "ruff_counts": dict(sorted(Counter(h.code for h in rh).items())),
        "megawatt_counts": dict(sorted(Counter(h.code for h in mh).items())),
        "pairs": [compare(p, rh, mh, lib) for p in PAIRS],
    }
    print_report(results)
    args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(f"\nevery figure and sample: {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
