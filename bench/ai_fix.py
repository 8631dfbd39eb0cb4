"""AI fix validation time: `python -m bench.ai_fix [--runs 5] [--json FILE]`.

Runs the whole pipeline (a scripted model on a local Messages-API server, so the figures are
Megawatt's own cost, not a model's) on two memoize opportunities: `edit_distance` of the bundled
example (examples/shop.py, with tests of its own) and an instance method. Per candidate, the time
of each stage (scope; static guardrails incl. ruff; selection = the instrumented run of the
suite; tests = the selected tests with the fix; replay = recorded calls checked and timed on both
versions), the median and the slowest stage; then the cached path (the same fix asked again).
The instrumented run is cached by the workspace digest, so it is timed cold (first candidate)
and warm (the others) separately.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main(argv: list[str] | None = None) -> int:
    from megawatt.analyzers.engine import analyze
    from megawatt.fixes.ai import resolve_ai_fix
    from megawatt.tools import ToolContext
    from tests import ai_project as P
    from tests.fake_anthropic import FakeAnthropic

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    results: dict[str, Any] = {"runs": args.runs, "projects": {}}
    with tempfile.TemporaryDirectory() as tmp, FakeAnthropic() as fake:
        os.environ.update(
            XDG_CACHE_HOME=f"{tmp}/cache",
            ANTHROPIC_API_KEY="bench",
            ANTHROPIC_BASE_URL=fake.base_url,
        )
        cases = [
            ("example edit_distance", P.write_example_project, P.read_example_source,
             P.submit_example),
            ("Aligner.distance", P.write_project, P.read_source, lambda: P.submit(P.GOOD)),
        ]  # fmt: skip
        for name, write, read, answer in cases:
            path = write(Path(tmp) / name.replace(" ", "-"))
            ctx = ToolContext.for_root(path.parent)
            source = path.read_bytes()
            finding = next(f for f in analyze(str(path), source).findings if f.skill == "memoize")
            stages: dict[str, list[float]] = {}
            totals: list[float] = []
            cached: list[float] = []
            first: dict[str, float] = {}
            out = None
            for run in range(args.runs):
                fake.add(read(), answer())
                start = time.perf_counter()
                out = resolve_ai_fix(ctx, path, source, finding, ctx.settings.llm, fresh=True)
                assert out.ok, out.reason
                totals.append(time.perf_counter() - start - out.stage_seconds.get("model", 0.0))
                if run == 0:
                    first = dict(out.stage_seconds)
                for stage, seconds in out.stage_seconds.items():
                    if stage != "model":
                        stages.setdefault(stage, []).append(seconds)
                start = time.perf_counter()
                again = resolve_ai_fix(ctx, path, source, finding, ctx.settings.llm)
                cached.append(time.perf_counter() - start)
                assert again.cached
            assert out is not None
            figures = {
                "first_candidate_s": sum(v for k, v in first.items() if k != "model"),
                "first_stages_s": {k: v for k, v in first.items() if k != "model"},
                "validation_median_s": statistics.median(totals),
                "stages_median_s": {k: statistics.median(v) for k, v in stages.items()},
                "cached_median_ms": statistics.median(cached) * 1e3,
                "title": out.title,
                "speed": out.speed,
            }
            results["projects"][name] = figures
            _print(name, args.runs, figures)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


def _print(name: str, runs: int, figures: dict[str, Any]) -> None:
    print(f"{name}:")
    print(
        f"  first candidate (instrumented run cold): {figures['first_candidate_s']:.2f} s; "
        f"median of {runs}: {figures['validation_median_s']:.2f} s"
    )
    for stage, value in figures["stages_median_s"].items():
        cold = figures["first_stages_s"].get(stage, 0.0)
        print(f"    {stage:<10} {value:6.3f} s  (first {cold:.3f} s)")
    stages = figures["stages_median_s"]
    print(
        f"  slowest stage: {max(stages, key=stages.get)}; cached: {figures['cached_median_ms']:.1f} ms"
    )
    print(f"  title: {figures['title']}")


if __name__ == "__main__":
    raise SystemExit(main())
