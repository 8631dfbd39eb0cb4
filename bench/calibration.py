"""Calibration of the estimated savings: each top finding's fix applied alone, measured.

    python -m bench.calibration [--quick] [--json FILE] [--rounds N] [--top N]
                                [--profiler cprofile,py-spy] [--workload NAME]

For each workload (bench/calibration_workloads.py: the bundled example, mistune and sqlparse from
their source distributions), in a fresh working copy: record a profile with each profiler
(`megawatt profile run`), `megawatt scan --format json` against it, and take the top N
opportunities that have a deterministic fix. Each of those fixes is applied alone (unsafe ones
too, marked) to a copy of its own, and the top N of each profiler together to another; every
copy must print what the original prints, or its fix is reported broken and not timed. Then
all copies run in interleaved rounds, each right beside a run of the original of its own
(before it in one round, after it in the next; the copies' order rotates), timed by the child's
CPU time (user + sys), which the other load on a shared machine disturbs less than wall time. A
copy's measured saving in a round is 1 − its time / its paired original run's (the original
timed from a copy made like the others, every copy run once before the rounds); the table
shows the median over the rounds with the lowest and highest, and best-of (fastest against
fastest), next to each profiler's estimate and the ratio estimate / measured. An unchanged copy
is timed the same way: twice the standard error of its median is the noise floor.

Targets (issue 13): each top finding's estimate within 2× of its measured saving, and the sum
of the top N estimates within 2× of the measured saving of applying them together. From the
median ratio per skill and savings method, a gain model is proposed: the skill's
`expected_gain` (lines, self, function evidence) or `cost.removes` (calls), divided by that
ratio; the proposals are printed, never written to SKILL.md.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.calibration_workloads import Workload, all_workloads

MW = [sys.executable, "-m", "megawatt"]
PROFILERS = ("cprofile", "py-spy")
TOP = 10
NOISE = "unchanged copy"
ALL = "all top {n} ({profiler})"


def note(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


@dataclass
class Target:
    """One finding picked for calibration, with what each profiler's scan estimated for it."""

    skill: str
    path: str  # relative to the working copy
    line: int
    column: int
    function: str | None
    estimates: dict[str, dict[str, Any]] = field(default_factory=dict)  # profiler → figures
    top_in: list[str] = field(default_factory=list)  # the profilers whose top N it is in
    safe: bool | None = None
    problem: str | None = None  # why it has no measured row (no fix, broken, …)

    @property
    def key(self) -> tuple[str, str, int, int]:
        return (self.path, self.skill, self.line, self.column)

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass
class Outcome:
    stdout: bytes
    code: int
    wall: float
    cpu: float
    stderr: bytes = b""

    def last_error(self) -> str:
        lines = self.stderr.decode(errors="replace").strip().splitlines()
        return lines[-1][:160] if lines else ""


def run(work: Path, wl: Workload) -> Outcome:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, *wl.argv], cwd=work, capture_output=True,
                          check=False, env=None)  # fmt: skip
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Outcome(proc.stdout, proc.returncode, wall, cpu, proc.stderr)


def record_profile(work: Path, wl: Workload, profiler: str, out: Path) -> Path | None:
    out.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        [*MW, "profile", "run", "--profiler", profiler, "--output-dir", str(out), "--",
         sys.executable, *wl.argv],
        cwd=work, capture_output=True, text=True, check=False,
    )  # fmt: skip
    found = sorted(out.iterdir())
    if proc.returncode != 0 or not found:
        note(f"  {profiler}: no profile (exit {proc.returncode}): {proc.stderr.strip()[-300:]}")
        return None
    return found[-1]


def scan(work: Path, wl: Workload, profile: Path, out: Path) -> list[dict[str, Any]]:
    proc = subprocess.run(
        [*MW, "scan", *wl.scan, "--root", str(work), "--profile", str(profile), "--no-cache",
         "--format", "json", "-o", str(out)],
        cwd=work, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if proc.returncode not in (0, 1, 2) or not out.exists():
        raise RuntimeError(f"megawatt scan failed ({proc.returncode}): {proc.stderr[-1500:]}")
    ops: list[dict[str, Any]] = json.loads(out.read_text(encoding="utf-8"))["opportunities"]
    for o in ops:
        o["path"] = str(Path(o["path"]).resolve().relative_to(work.resolve()))
    return ops


def op_key(o: dict[str, Any]) -> tuple[str, str, int, int]:
    return (o["path"], o["skill"], o["line"], o["column"])


def pick_targets(scans: dict[str, list[dict[str, Any]]], top: int) -> list[Target]:
    """The union of each profiler's top `top` fixable opportunities (ranked as the scan ranks
    them), each with every profiler's estimate for it, also from outside that profiler's top."""
    targets: dict[tuple[str, str, int, int], Target] = {}
    for profiler, ops in scans.items():
        for o in [o for o in ops if o["fixable"]][:top]:
            t = targets.setdefault(op_key(o), Target(o["skill"], o["path"], o["line"],
                                                     o["column"], o["function"]))  # fmt: skip
            t.top_in.append(profiler)
    for profiler, ops in scans.items():
        by_key = {op_key(o): o for o in ops}
        for key, t in targets.items():
            o = by_key.get(key)
            if o is not None:
                t.estimates[profiler] = {
                    "estimate": o["estimated_savings"],
                    "method": o["savings_method"],
                    "evidence": o["savings_evidence"],
                    "expected_gain": o["expected_gain"],
                }
    return list(targets.values())


def _line_offset(source: bytes, line: int) -> int:
    at = 0
    for _ in range(line - 1):
        at = source.index(b"\n", at) + 1
    return at


def _moved(offset: int, edits: list[Any]) -> int:
    """Where byte `offset` of the text before `edits` is after them."""
    shift = 0
    for e in sorted(edits, key=lambda e: (e.start, e.end)):
        if e.end <= offset and e.start < offset:
            shift += len(e.text.encode("utf-8")) - (e.end - e.start)
        elif e.start <= offset < e.end:
            return e.start + shift
    return offset + shift


def pristine_fixes(work: Path, wl: Workload, profile: Path) -> dict[tuple[str, str, int, int], Any]:
    """Every fix the scan with `profile` attaches, keyed like the targets: the findings only
    the profile makes (memoize of a function it shows called very often) are not found again by
    analysing the file alone, so the first round of fixes takes its edits from here."""
    from megawatt.config import Settings
    from megawatt.scanner import run_scan

    report = run_scan([work / p for p in wl.scan], work, Settings(), [profile], cache_dir=None,
                      jobs=1)  # fmt: skip
    out: dict[tuple[str, str, int, int], Any] = {}
    for o in report.opportunities:
        f = o.finding
        if f.fix is not None:
            rel = str(Path(f.path).resolve().relative_to(work.resolve()))
            out[(rel, f.skill, f.span.line, f.span.column + 1)] = f.fix
    return out


def apply_fixes(
    root: Path, targets: list[Target], known: dict[tuple[str, str, int, int], Any]
) -> dict[tuple[str, str, int, int], str]:
    """Apply the deterministic fix of each target to the files under `root`, a pristine copy of
    the scanned tree, through the library calls `megawatt fix` makes: the first round takes the
    scan's own fixes (`known`, made against this very text); targets whose fix overlaps one
    already taken are found again in the edited text (by skill, line and column) in later
    rounds. Returns why a target's fix could not be applied."""
    from megawatt.analyzers.context import FileContext
    from megawatt.analyzers.engine import analyze_context
    from megawatt.fixes.deterministic import check, fix_for
    from megawatt.fixes.edits import apply_edits, overlaps
    from megawatt.fixes.fixall import compiles
    from megawatt.skills import load_skills

    skills = load_skills(root)
    problems: dict[tuple[str, str, int, int], str] = {}
    by_file: dict[str, list[Target]] = defaultdict(list)
    for t in targets:
        by_file[t.path].append(t)
    for rel, group in by_file.items():
        path = root / rel
        source = path.read_bytes()
        # each pending target as (target, byte offset of its line in the current text)
        pending = [(t, _line_offset(source, t.line)) for t in group]
        for round_ in range(len(group) + 1):
            if not pending:
                break
            ctx = FileContext(str(path), source)
            found = analyze_context(ctx, {t.skill for t, _ in pending}).findings
            taken: list[Any] = []
            later: list[tuple[Target, int]] = []
            for t, offset in pending:
                fix = known.get(t.key) if round_ == 0 else None
                if fix is None:
                    line = source.count(b"\n", 0, offset) + 1
                    same = [f for f in found if f.skill == t.skill and f.span.line == line]
                    # the column tells two findings of one skill on a line apart while no fix
                    # has moved the line; after one has, the first on the line stands for it
                    exact = [f for f in same if f.span.column + 1 == t.column] or same
                    if not exact:
                        problems[t.key] = "not found again in the file"
                        continue
                    fix = fix_for(ctx, exact[0], skills)
                    if fix is None:
                        problems[t.key] = "the rewrite gave no fix"
                        continue
                why = check(ctx, fix)
                if why is not None:
                    problems[t.key] = why
                    continue
                if overlaps(fix.edits, taken):
                    later.append((t, offset))
                    continue
                t.safe = fix.safe
                taken.extend(fix.edits)
            if not taken:
                for t, _ in later:
                    problems[t.key] = "its fix overlaps another one's"
                break
            source = apply_edits(source, taken)
            pending = [(t, _moved(offset, taken)) for t, offset in later]
        problem = compiles(str(path), source)
        if problem is not None:
            for t in group:
                problems.setdefault(t.key, problem)
            continue
        path.write_bytes(source)
    return problems


def copy_tree(src: Path, dst: Path) -> None:
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", ".megawatt"))


def measure(
    variants: dict[str, Path], original: Path, wl: Workload, rounds: int
) -> dict[str, dict[str, Any]]:
    """Each variant in every round right beside a run of the original of its own, before it in
    one round and after it in the next (the variants' order rotates too): a burst of other load
    on a shared machine lasts seconds, so a pair taken back to back sees the same load, which a
    baseline run at the start or end of a long round does not. Per variant the per-round
    savings (share of its paired original run's CPU time) and both runs' times."""
    names = list(variants)
    saved: dict[str, list[float]] = {n: [] for n in names}
    cpu: dict[str, list[float]] = {n: [] for n in names}
    wall: dict[str, list[float]] = {n: [] for n in names}
    base_cpu: list[float] = []
    base_wall: list[float] = []
    for r in range(rounds):
        note(f"  round {r + 1}/{rounds}: {len(names)} variants, each paired with the original")
        order = names[r % len(names) :] + names[: r % len(names)] if names else []
        for i, n in enumerate(order):
            if (r + i) % 2:
                out, base = run(variants[n], wl), run(original, wl)
            else:
                base, out = run(original, wl), run(variants[n], wl)
            saved[n].append(1 - out.cpu / base.cpu)
            cpu[n].append(out.cpu)
            wall[n].append(out.wall)
            base_cpu.append(base.cpu)
            base_wall.append(base.wall)
    result: dict[str, dict[str, Any]] = {}
    for n in names:
        s = saved[n]
        # best-of: its fastest run against the original's fastest, what interference (which
        # only ever adds time) disturbs least; kept beside the median of the paired figures
        result[n] = {"median": statistics.median(s), "min": min(s), "max": max(s), "rounds": s,
                     "best_of": 1 - min(cpu[n]) / min(base_cpu),
                     "cpu_seconds": cpu[n], "wall_seconds": wall[n]}  # fmt: skip
    result["original"] = {"cpu_seconds": base_cpu, "wall_seconds": base_wall,
                          "median_cpu": statistics.median(base_cpu)}  # fmt: skip
    return result


def noise_floor(rounds: list[float]) -> float:
    """The smallest median saving the rounds can tell from none: twice the standard error of a
    median (1.253 σ / √n), σ from the unchanged copy's per-round figures, and no less than what
    that copy's own median shows. One round gives no σ: its figure stands for it."""
    if len(rounds) < 2:
        return abs(rounds[0])
    se = 1.253 * statistics.stdev(rounds) / math.sqrt(len(rounds))
    return max(2 * se, abs(statistics.median(rounds)))


def ratio(estimate: float | None, measured: float) -> float | None:
    if estimate is None or estimate <= 0 or measured <= 0:
        return None
    return estimate / measured


def within(r: float | None) -> bool:
    return r is not None and 0.5 <= r <= 2.0


def verdict(estimate: float, measured: dict[str, Any] | None, floor: float) -> str:
    """'noise': both smaller than the noise floor (no run of this length can tell them apart);
    '2x': within 2× of each other; 'slower': the fix measurably slows the run down; 'off':
    none of these."""
    if measured is None:
        return "—"
    # noise first: a ratio of two figures the rounds cannot tell from 0 is luck, not agreement
    if estimate < floor and abs(measured["median"]) < floor:
        return "noise"
    if within(ratio(estimate, measured["median"])):
        return "2x"
    if measured["median"] < -floor:
        return "slower"
    return "off"


def calibrate(
    wl: Workload, tmp: Path, rounds: int, top: int, profilers: tuple[str, ...]
) -> dict[str, Any]:
    note(f"calibration: {wl.name} ({wl.about})")
    base = tmp / wl.name
    original = base / "original"
    wl.prepare(original)
    reference = run(original, wl)  # also compiles the bytecode before anything is timed
    if reference.code != 0:
        raise RuntimeError(f"{wl.name}: the workload exits {reference.code}")
    scans: dict[str, list[dict[str, Any]]] = {}
    known: dict[tuple[str, str, int, int], Any] = {}
    for profiler in profilers:
        profile = record_profile(original, wl, profiler, base / f"profiles-{profiler}")
        if profile is not None:
            scans[profiler] = scan(original, wl, profile, base / f"scan-{profiler}.json")
            known |= pristine_fixes(original, wl, profile)
            note(f"  {profiler}: {len(scans[profiler])} opportunities, "
                 f"{sum(o['fixable'] for o in scans[profiler])} with a fix")  # fmt: skip
    shutil.rmtree(original / ".megawatt", ignore_errors=True)
    targets = pick_targets(scans, top)
    variants: dict[str, Path] = {}
    # the original is timed from a copy made like the fixed ones, and every copy runs once
    # before the rounds (writing its bytecode), so copying and first runs favour none of them
    baseline = base / "baseline"
    for copy in (baseline, base / "noise"):
        copy_tree(original, copy)
        run(copy, wl)
    variants[NOISE] = base / "noise"
    for i, t in enumerate(targets):
        copy = base / f"fix-{i}"
        copy_tree(original, copy)
        problem = apply_fixes(copy, [t], known).get(t.key)
        if problem is None:
            out = run(copy, wl)
            if (out.stdout, out.code) != (reference.stdout, reference.code):
                problem = f"broken: the output changed (exit {out.code})"
                if out.code != 0 and out.last_error():
                    problem += f": {out.last_error()}"
        t.problem = problem
        if problem is None:
            variants[t.where + " " + t.skill] = copy
        else:
            note(f"  {t.skill} {t.where}: {problem}")
    together: dict[str, dict[str, Any]] = {}
    for profiler in scans:
        chosen = [t for t in targets if profiler in t.top_in and t.problem is None]
        name = ALL.format(n=top, profiler=profiler)
        copy = base / f"all-{profiler}"
        copy_tree(original, copy)
        problems = apply_fixes(copy, chosen, known)
        out = run(copy, wl)
        same = (out.stdout, out.code) == (reference.stdout, reference.code)
        together[name] = {
            "profiler": profiler,
            "findings": [f"{t.skill} {t.where}" for t in chosen],
            "not_applied": {f"{k[1]} {k[0]}:{k[2]}": v for k, v in problems.items()},
            "estimate_sum": sum(t.estimates[profiler]["estimate"] for t in chosen),
            "broken": not same,
        }
        if same:
            variants[name] = copy
    timed = measure(variants, baseline, wl, rounds)
    rows = []
    for t in targets:
        rows.append({"skill": t.skill, "where": t.where, "function": t.function,
                     "top_in": t.top_in, "safe": t.safe, "problem": t.problem,
                     "measured": timed.get(t.where + " " + t.skill),
                     "estimates": t.estimates})  # fmt: skip
    for name, info in together.items():
        info["measured"] = timed.get(name)
    return judge({"workload": wl.name, "about": wl.about, "rounds": rounds, "top": top,
                  "profilers": list(scans), "original": timed["original"],
                  "noise": timed[NOISE], "findings": rows, "together": together})  # fmt: skip


def judge(result: dict[str, Any]) -> dict[str, Any]:
    """The noise floor, each row's ratios and verdicts, from the measured figures alone (so a
    saved JSON can be judged again: --from)."""
    floor = noise_floor(result["noise"]["rounds"])
    result["noise_floor"] = floor
    for row in result["findings"]:
        m = row["measured"]
        row["significant"] = m is not None and m["median"] > floor
        for e in row["estimates"].values():
            e["ratio"] = ratio(e["estimate"], m["median"]) if m else None
            e["within_2x"] = within(e["ratio"])
            e["verdict"] = verdict(e["estimate"], m, floor)
    for info in result["together"].values():
        m = info["measured"]
        info["ratio"] = ratio(info["estimate_sum"], m["median"]) if m else None
        info["within_2x"] = within(info["ratio"])
        info["verdict"] = verdict(info["estimate_sum"], m, floor)
    return result


def current_gain(skill: str, method: str) -> tuple[str, float] | None:
    """The number of the skill's gain model that scales an estimate made by `method`."""
    from megawatt.skills import builtin_skills

    s = builtin_skills().get(skill)
    if s is None:
        return None
    if method == "calls" and s.meta.cost is not None:
        return "cost.removes", s.meta.cost.removes
    return "expected_gain", s.meta.expected_gain


def proposals(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per skill, savings method and profiler: the median ratio over every workload's rows whose
    measured saving is above the noise floor (a ratio to noise says nothing), and the gain
    number that would have made it 1, clamped into (0, 1]: `capped` when even 1 would leave
    the estimate low, so the cost the estimate starts from is what is short, not the gain."""
    ratios: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    for res in results:
        for row in res["findings"]:
            for profiler, e in row["estimates"].items():
                if row["significant"] and e["ratio"] is not None and e["method"] != "cold":
                    ratios[(row["skill"], e["method"], profiler)].append(e["ratio"])
    out = []
    for (skill, method, profiler), rs in sorted(ratios.items()):
        current = current_gain(skill, method)
        if current is None:
            continue
        knob, value = current
        med = statistics.median(rs)
        out.append({"skill": skill, "method": method, "profiler": profiler, "n": len(rs),
                    "median_ratio": med, "knob": knob, "current": value,
                    "proposed": min(1.0, max(0.01, value / med)),
                    "capped": value / med > 1})  # fmt: skip
    return out


VERDICTS = {"2x": " (within 2×)", "noise": " (both below the noise floor)",
            "slower": " (measurably slower)", "off": " (off by more than 2×)"}  # fmt: skip


def pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.2f}%"


def best(m: dict[str, Any]) -> str:
    return f" best-of {pct(m['best_of'])}" if "best_of" in m else ""


def fmt_ratio(r: float | None) -> str:
    if r is None:
        return "—"
    return f"{r:.2f}×" if r < 10 else f"{r:.0f}×"


def table(results: list[dict[str, Any]], props: list[dict[str, Any]]) -> None:
    print("\nCalibration: estimated vs measured savings (share of the run's CPU time);")
    print(
        "measured: median over interleaved rounds [lowest–highest], and fastest run against "
        "the original's fastest (best-of); ratio = estimate / measured median"
    )
    for res in results:
        o, noise = res["original"], res["noise"]
        print(f"\n{res['workload']} ({res['about']}): original {o['median_cpu']:.2f} s CPU, "
              f"{res['rounds']} rounds; noise (unchanged copy) {pct(noise['median'])} "
              f"[{pct(noise['min'])}–{pct(noise['max'])}], floor ±{pct(res['noise_floor'])}")  # fmt: skip
        profs = res["profilers"]
        head = "".join(f"{p + ' est':>11}{'method':>9}{'ratio':>8}" for p in profs)
        print(f"  {'skill':<26}{'where':<30}{head}  measured")
        for row in res["findings"]:
            cells = ""
            for p in profs:
                e = row["estimates"].get(p)
                mark = "*" if p in row["top_in"] else " "
                cells += (
                    f"{pct(e['estimate']) + mark:>11}{e['method'] or '—':>9}"
                    f"{fmt_ratio(e['ratio']):>8}"
                    if e
                    else f"{'—':>11}{'':>9}{'':>8}"
                )
            m = row["measured"]
            meas = (f"{pct(m['median'])} [{pct(m['min'])}–{pct(m['max'])}]{best(m)}" if m
                    else row["problem"] or "—")  # fmt: skip
            unsafe = " (unsafe fix)" if row["safe"] is False else ""
            print(f"  {row['skill']:<26}{row['where'][-29:]:<30}{cells}  {meas}{unsafe}")
        for name, info in res["together"].items():
            m = info["measured"]
            meas = (f"{pct(m['median'])} [{pct(m['min'])}–{pct(m['max'])}]{best(m)}" if m
                    else "broken: the output changed")  # fmt: skip
            print(
                f"  {name}: {len(info['findings'])} fixes, sum of estimates "
                f"{pct(info['estimate_sum'])}, measured {meas}, ratio "
                f"{fmt_ratio(info['ratio'])}{VERDICTS.get(info.get('verdict', ''), '')}"
            )
        for p in profs:
            top_rows = [r for r in res["findings"] if p in r["top_in"]]
            verdicts = [r["estimates"][p]["verdict"] for r in top_rows]
            print(f"  {p}: of {len(top_rows)} top findings (* = in its top {res['top']}), "
                  f"{verdicts.count('2x')} within 2×, {verdicts.count('noise')} both below the "
                  f"noise floor, {verdicts.count('slower')} measurably slower, "
                  f"{verdicts.count('off')} off, {verdicts.count('—')} not measured")  # fmt: skip
    per_class: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for res in results:
        for row in res["findings"]:
            for p, e in row["estimates"].items():
                if row["measured"] is not None:
                    per_class[(row["skill"], p)].append(row | {"e": e})
    print(
        "\nper skill and profiler, every workload: measured rows; within 2× / both below the "
        "noise floor / off; median ratio of the rows measured above the noise floor"
    )
    for (skill, p), rows in sorted(per_class.items()):
        verdicts = [r["e"]["verdict"] for r in rows]
        rs = [r["e"]["ratio"] for r in rows if r["significant"] and r["e"]["ratio"] is not None]
        missed = sum(r["significant"] and not r["e"]["estimate"] for r in rows)
        print(f"  {skill:<26}{p:<10}n={len(rows):<3}{verdicts.count('2x'):>3} /"
              f"{verdicts.count('noise'):>3} /{verdicts.count('slower'):>3} /"
              f"{verdicts.count('off'):>3}   median ratio "
              f"{fmt_ratio(statistics.median(rs)) if rs else '—':>7}"
              f"{f'  ({missed} measurably saving, estimated 0)' if missed else ''}")  # fmt: skip
    print(
        "\nproposed gain models (current / median ratio of rows above the noise floor; "
        "not written to SKILL.md)"
    )
    for q in props:
        capped = "  capped: the cost figure is short, not the gain" if q["capped"] else ""
        print(f"  {q['skill']:<26}{q['method']:<9}{q['profiler']:<10}{q['knob']:<15}"
              f"{q['current']:.3g} → {q['proposed']:.3g}  (median ratio "
              f"{fmt_ratio(q['median_ratio'])}, n={q['n']}){capped}")  # fmt: skip
    if not props:
        print("  none: no finding measured above the noise floor with an estimate")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller workloads, 3 rounds")
    ap.add_argument("--json", type=Path, default=Path("calibration.json"))
    ap.add_argument("--rounds", type=int, help="interleaved rounds [default: 9, --quick 3]")
    ap.add_argument("--top", type=int, default=TOP, help="findings per profiler [10]")
    ap.add_argument("--profiler", default=",".join(PROFILERS), help="cprofile,py-spy")
    ap.add_argument("--workload", action="append", help="only these (example, mistune-3.4.0, …)")
    ap.add_argument("--from", dest="saved", type=Path,
                    help="print the table of a saved JSON, judged again; nothing is run")  # fmt: skip
    args = ap.parse_args(argv)
    if args.saved is not None:
        saved = json.loads(args.saved.read_text(encoding="utf-8"))
        results = [judge(r) for r in saved["workloads"]]
        table(results, proposals(results))
        return 0
    rounds = args.rounds or (3 if args.quick else 9)
    profilers = tuple(p for p in args.profiler.split(",") if p)
    started = time.perf_counter()
    results: list[dict[str, Any]] = []
    failed: dict[str, str] = {}
    workloads = [w for w in all_workloads(args.quick)
                 if not args.workload or w.name in args.workload]  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="megawatt-calibration-") as name:
        for wl in workloads:
            try:
                results.append(calibrate(wl, Path(name), rounds, args.top, profilers))
            except (RuntimeError, OSError, subprocess.SubprocessError) as err:
                # one workload that cannot be fetched or run does not lose the others
                note(f"{wl.name}: failed: {err}")
                failed[wl.name] = str(err)
    props = proposals(results)
    table(results, props)
    doc = {"quick": args.quick, "rounds": rounds, "workloads": results, "failed": failed,
           "proposals": props, "total_seconds": time.perf_counter() - started}  # fmt: skip
    args.json.write_text(json.dumps(doc, indent=2, default=_json_default))
    print(f"\ntotal {doc['total_seconds']:.0f} s; every figure: {args.json}")
    return 1 if failed and not results else 0


def _json_default(value: object) -> object:
    if isinstance(value, float) and math.isnan(value):
        return None
    return str(value)


if __name__ == "__main__":
    raise SystemExit(main())
