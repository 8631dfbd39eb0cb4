"""AI fix validation time: `python -m bench.ai_fix [--runs 5] [--json FILE]`.

Runs the whole pipeline (a scripted model on a local Messages-API server, so the figures are
Megawatt's own cost, not a model's) on the memoize opportunity of an instance method: per
candidate, the time of each stage (scope, static guardrails incl. ruff, tests + speed), the
median and the slowest stage; then the cached path (the same fix asked for again).
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
    stages: dict[str, list[float]] = {}
    totals: list[float] = []
    cached: list[float] = []
    with tempfile.TemporaryDirectory() as tmp, FakeAnthropic() as fake:
        os.environ.update(
            XDG_CACHE_HOME=f"{tmp}/cache",
            ANTHROPIC_API_KEY="bench",
            ANTHROPIC_BASE_URL=fake.base_url,
        )
        path = P.write_project(Path(tmp) / "proj")
        ctx = ToolContext.for_root(path.parent)
        source = path.read_bytes()
        finding = next(f for f in analyze(str(path), source).findings if f.skill == "memoize")
        for _ in range(args.runs):
            fake.add(P.read_source(), P.submit(P.GOOD))
            start = time.perf_counter()
            out = resolve_ai_fix(ctx, path, source, finding, ctx.settings.llm, fresh=True)
            totals.append(time.perf_counter() - start - out.stage_seconds.get("model", 0.0))
            assert out.ok, out.reason
            for stage, seconds in out.stage_seconds.items():
                if stage != "model":
                    stages.setdefault(stage, []).append(seconds)
            start = time.perf_counter()
            again = resolve_ai_fix(ctx, path, source, finding, ctx.settings.llm)
            cached.append(time.perf_counter() - start)
            assert again.cached
    result: dict[str, Any] = {
        "runs": args.runs,
        "validation_median_s": statistics.median(totals),
        "stages_median_s": {k: statistics.median(v) for k, v in stages.items()},
        "cached_median_ms": statistics.median(cached) * 1e3,
        "title": out.title,
    }
    slowest = max(result["stages_median_s"], key=result["stages_median_s"].get)
    print(
        f"validation per candidate (median of {args.runs}): {result['validation_median_s']:.2f} s"
    )
    for k, v in result["stages_median_s"].items():
        print(f"  {k:<8} {v:.3f} s")
    print(f"slowest stage: {slowest}; cached fix: {result['cached_median_ms']:.1f} ms")
    print(f"title: {result['title']}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
